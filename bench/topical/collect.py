"""Assemble the topical collection's qrels from the judges' files, and fix its split.

    .venv/bin/python bench/topical/collect.py

Reads ``judgments/*.tsv`` (qid, docid, grade 0/1/2, how it was found: ``pool`` or
``targeted``) and writes ``qrels.tsv`` (TREC: qid 0 docid grade). Checks that every
pooled article (pool.tsv) has exactly one grade. Writes ``split.tsv`` (qid, dev|test)
only when it does not exist: half of each kind of query for tuning, half for the
report, by a seeded shuffle, and then never again.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPLIT_SEED = 20261129
GRADES = {"0", "1", "2"}


def read_judgments() -> dict[tuple[str, str], tuple[int, str]]:
    judged: dict[tuple[str, str], tuple[int, str]] = {}
    for path in sorted((HERE / "judgments").glob("*.tsv")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 4 or parts[2] not in GRADES or parts[3] not in ("pool", "targeted"):
                sys.exit(f"{path.name}:{number}: not qid<TAB>docid<TAB>0|1|2<TAB>pool|targeted: {line!r}")
            key = (parts[0], parts[1])
            if key in judged and judged[key][0] != int(parts[2]):
                sys.exit(f"{path.name}:{number}: {key} graded twice, differently")
            judged[key] = (int(parts[2]), parts[3])
    return judged


def main() -> None:
    queries = [json.loads(line) for line in (HERE / "queries.jsonl").read_text("utf-8").splitlines() if line]
    pool: dict[str, set[str]] = defaultdict(set)
    for line in (HERE / "pool.tsv").read_text("utf-8").splitlines():
        qid, doc_id, _ = line.split("\t")
        pool[qid].add(doc_id)
    judged = read_judgments()
    for query in queries:
        missing = pool[query["qid"]] - {doc for (qid, doc) in judged if qid == query["qid"]}
        if missing:
            sys.exit(f"{query['qid']}: {len(missing)} pooled articles have no grade, e.g. {sorted(missing)[0]}")
    with open(HERE / "qrels.tsv", "w", encoding="utf-8") as out:
        for (qid, doc_id), (grade, _) in sorted(judged.items()):
            out.write(f"{qid}\t0\t{doc_id}\t{grade}\n")
    split_path = HERE / "split.tsv"
    if not split_path.exists():
        rng = random.Random(SPLIT_SEED)
        lines = ["# qid\thalf: fixed once (collect.py), half of each kind of query each"]
        for kind in sorted({q["kind"] for q in queries}):
            qids = sorted(q["qid"] for q in queries if q["kind"] == kind)
            rng.shuffle(qids)
            half = len(qids) // 2
            lines += [f"{qid}\t{'dev' if i < half else 'test'}" for i, qid in enumerate(qids)]
        split_path.write_text("\n".join(lines) + "\n", "utf-8")
    grades = Counter(grade for grade, _ in judged.values())
    found = Counter(how for _, how in judged.values())
    relevant = Counter(qid for (qid, _), (grade, _) in judged.items() if grade > 0)
    print(f"{len(judged)} judgments of {len({q for q, _ in judged})} topics: grades {dict(sorted(grades.items()))}, "
          f"{dict(found)}; relevant per topic: median {sorted(relevant.values())[len(relevant) // 2]}, "
          f"min {min(relevant.values())}, max {max(relevant.values())}")


if __name__ == "__main__":
    main()
