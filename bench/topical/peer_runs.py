"""The peers' runs on the topical collection, for the table beside Bahth's.

    .venv/bin/python bench/topical/peer_runs.py --peers /tmp/peers --out /tmp/topical-runs
    .venv/bin/python bench/relevance.py bench/topical --peer-run /tmp/topical-runs/lucene.trec

``--peers`` is a copy of ../shared/peers on which its setup.sh has run (Lucene 8's
ArabicAnalyzer and BM25, bm25s). The corpus (bench/topical/corpus.txt) is written as
one JSON Lines file the harnesses read, the queries as theirs; each harness indexes it
and writes its top 100 per query as a TREC run (``lucene.trec``, ``bm25s.trec``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from bench.perf import write_corpus  # noqa: E402
from bench.relevance import corpus_of  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=Path, required=True, help="a set-up copy of ../shared/peers")
    parser.add_argument("--out", type=Path, required=True, help="where the corpus, indexes and runs go")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sources = sorted(p for root in corpus_of(HERE) for p in
                     ([root] if root.is_file() else root.rglob("*.jsonl.gz")))
    corpus, queries = args.out / "corpus.jsonl", args.out / "queries.jsonl"
    if not corpus.exists():
        records, _ = write_corpus(sources, corpus, 1)
        print(f"{records} articles in {corpus}")
    with open(queries, "w", encoding="utf-8") as out:
        for line in (HERE / "queries.jsonl").read_text("utf-8").splitlines():
            topic = json.loads(line)
            out.write(json.dumps({"qid": topic["qid"], "query": topic["query"]}, ensure_ascii=False) + "\n")
    common = ["--corpus", str(corpus), "--queries", str(queries), "--k", "100"]
    subprocess.run([str(args.peers / "lucene" / "run.sh"), "all", *common, "--index", str(args.out / "lucene-index"),
                    "--run", str(args.out / "lucene.trec"), "--stats-json", str(args.out / "lucene.json")],
                   check=True)
    subprocess.run([str(args.peers / ".venv" / "bin" / "python"), str(args.peers / "bm25s" / "bm25s_bench.py"),
                    "all", *common, "--index", str(args.out / "bm25s-index"), "--run", str(args.out / "bm25s.trec")],
                   check=True)
    print(f"runs in {args.out}: lucene.trec, bm25s.trec")


if __name__ == "__main__":
    main()
