"""Ranking quality on an Arabic test collection, through the product's own pipeline.

    .venv/bin/python bench/relevance.py ../shared/data/arwiki-qa
    .venv/bin/python bench/relevance.py ../shared/data/saudinewsnet-headlines --fields text

The collection's corpus is indexed with the product's ingest, analyzer and indexer
into a temporary directory; every query goes through Engine.search (the JSON
API's entry point) for the top 100. Queries are split into a fixed dev half (for
tuning) and a test half (for reporting) by a seeded shuffle; MRR@10, nDCG@10 and
Recall@100 are printed overall and per query ``source``, as a table and as JSON.

``--peer-run RUN.trec`` scores another engine's TREC run (e.g. Lucene's, from
../shared/peers/) on the same halves with the same metrics, for a like-for-like table.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import percentiles  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.indexer import build_index  # noqa: E402
from search.request import SearchRequest  # noqa: E402

SPLIT_SEED = 20261122
K = 10
DEPTH = 100


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 3 and parts[2].lstrip("-").isdigit():
                qrels[parts[0]][parts[1]] = int(parts[2])
            elif len(parts) == 4:  # TREC style: qid 0 docid rel
                qrels[parts[0]][parts[2]] = int(parts[3])
    return qrels


def split(queries: list[dict]) -> dict[str, list[dict]]:
    """A fixed half of the queries for tuning (dev) and the other half for reporting
    (test): the collection's own (a ``half`` on each query, from its split.tsv), else a
    seeded shuffle."""
    if queries and all("half" in q for q in queries):
        return {"dev": [q for q in queries if q["half"] == "dev"],
                "test": [q for q in queries if q["half"] == "test"], "all": queries}
    shuffled = sorted(queries, key=lambda q: q["qid"])
    random.Random(SPLIT_SEED).shuffle(shuffled)
    half = len(shuffled) // 2
    return {"dev": shuffled[:half], "test": shuffled[half:], "all": queries}


METRICS = ("MRR@10", "nDCG@10", "P@10", "R@100")


def metrics(ranking: list[str], relevant: dict[str, int]) -> dict[str, float]:
    """Graded nDCG@10 (gain 2^grade - 1; an unjudged article counts as not relevant),
    MRR@10, P@10 and R@100 of one ranking (grade 1 or more is relevant)."""
    rr = next((1.0 / rank for rank, doc in enumerate(ranking[:K], 1) if relevant.get(doc, 0) > 0), 0.0)
    dcg = sum((2 ** relevant.get(doc, 0) - 1) / math.log2(rank + 1) for rank, doc in enumerate(ranking[:K], 1))
    ideal = sorted(relevant.values(), reverse=True)[:K]
    idcg = sum((2 ** rel - 1) / math.log2(rank + 1) for rank, rel in enumerate(ideal, 1))
    found = sum(1 for doc in ranking[:DEPTH] if relevant.get(doc, 0) > 0)
    wanted = sum(1 for rel in relevant.values() if rel > 0)
    precise = sum(1 for doc in ranking[:K] if relevant.get(doc, 0) > 0) / K
    return {"MRR@10": rr, "nDCG@10": dcg / idcg if idcg else 0.0, "P@10": precise,
            "R@100": found / wanted if wanted else 0.0}


def index_collection(corpus: Path, fields: set[str], index_dir: Path) -> int:
    records = index_dir.parent / "corpus.jsonl"
    with open(corpus, encoding="utf-8") as src, open(records, "w", encoding="utf-8") as out:
        for line in src:
            if not line.strip():
                continue
            doc = json.loads(line)
            out.write(json.dumps({
                "id": doc["id"],
                "title": doc.get("title") if "title" in fields else None,
                "text": doc.get("text") if "text" in fields else "",
                "source": doc.get("source"), "date": None, "url": None, "category": None,
            }, ensure_ascii=False) + "\n")
    summary = build_index([records], index_dir, rebuild=True)
    if summary.skipped:
        print(f"note: {len(summary.skipped)} corpus records skipped, e.g. {summary.skipped[0]}", file=sys.stderr)
    return summary.indexed


def judged_queries(collection: Path) -> tuple[list[dict], dict[str, dict[str, int]]]:
    """The collection's queries that have judgments (with their ``half`` when the
    collection fixes its split in split.tsv), and the judgments."""
    qrels = read_qrels(collection / "qrels.tsv")
    halves = {}
    if (collection / "split.tsv").exists():
        rows = (line.split() for line in (collection / "split.tsv").read_text("utf-8").splitlines())
        halves = {row[0]: row[1] for row in rows if len(row) == 2 and not row[0].startswith("#")}
    queries = [q for q in read_jsonl(collection / "queries.jsonl") if q["qid"] in qrels]
    return [{**q, "half": halves[q["qid"]]} if q["qid"] in halves else q for q in queries], qrels


def corpus_of(collection: Path) -> list[Path]:
    """What the collection's articles are indexed from: its corpus.jsonl, or the files
    its corpus.txt names (paths relative to the project root, e.g. ../shared/corpus)."""
    if (collection / "corpus.jsonl").exists():
        return [collection / "corpus.jsonl"]
    named = collection / "corpus.txt"
    if not named.exists():
        raise SystemExit(f"{collection} has neither corpus.jsonl nor corpus.txt")
    root = Path(__file__).resolve().parent.parent
    paths = [root / line.strip() for line in named.read_text("utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise SystemExit(f"the corpus of {collection.name} is not here: {', '.join(map(str, missing))}")
    return paths


def evaluate(collection: Path, fields: set[str], halves: list[str], sample: int | None = None,
             index_dir: Path | None = None, run: Path | None = None) -> dict:
    """Index the collection and run its queries (``sample``: only the first n of each half).
    ``index_dir``: search this index (built by `bahth index` from the collection's corpus,
    and kept) instead of building one; ``run``: also write the ranking as a TREC run."""
    queries, qrels = judged_queries(collection)
    if sample:
        queries = [q for half in ("dev", "test") for q in split(queries)[half][:sample]]
    with tempfile.TemporaryDirectory(prefix="bahth-eval-") as tmp:
        started = time.perf_counter()
        if index_dir is not None and (index_dir / "CURRENT").exists():
            documents = Engine(index_dir).doc_count()
        else:
            index_dir = index_dir or Path(tmp) / "index"
            corpus = corpus_of(collection)
            if corpus == [collection / "corpus.jsonl"]:
                documents = index_collection(corpus[0], fields, index_dir)
            else:  # a news corpus as the product ingests it (sources, dates, titles)
                summary = build_index(corpus, index_dir, rebuild=True)
                documents = summary.indexed
        index_seconds = time.perf_counter() - started
        engine = Engine(index_dir)
        per_query: dict[str, dict] = {}
        rankings: dict[str, list] = {}
        latencies = []
        started = time.perf_counter()
        for query in queries:
            t0 = time.perf_counter()
            # Judged per document: copies of one story are not collapsed into one hit.
            result = engine.search(SearchRequest(q=query["query"][:1000], per_page=DEPTH, collapse=False),
                                   highlight=False)
            latencies.append(time.perf_counter() - t0)
            ranking = [hit.id for hit in result.hits]
            rankings[query["qid"]] = [(hit.id, hit.score) for hit in result.hits]
            per_query[query["qid"]] = {**metrics(ranking, qrels[query["qid"]]), "complete": result.complete}
        search_seconds = time.perf_counter() - started
    if run is not None:
        write_run(rankings, run)
    report = {"collection": collection.name, "fields": sorted(fields), "documents": documents,
              "queries": len(queries), "index_seconds": round(index_seconds, 1),
              "search_seconds": round(search_seconds, 1),
              "latency_ms": {k: v for k, v in percentiles([t * 1000 for t in latencies]).items()
                             if k in ("p50", "p95")},
              "results": summarize(queries, per_query, halves), "per_query": per_query}
    return report


def write_run(rankings: dict[str, list[tuple[str, float | None]]], path: Path) -> None:
    """Rankings as a TREC run file (qid Q0 docid rank score tag)."""
    with open(path, "w", encoding="utf-8") as out:
        for qid, ranked in rankings.items():
            for rank, (doc_id, score) in enumerate(ranked, 1):
                out.write(f"{qid} Q0 {doc_id} {rank} {score or 0:.4f} bahth\n")


def summarize(queries: list[dict], per_query: dict[str, dict], halves: list[str]) -> dict:
    """Mean metrics per half, overall and per query ``source``."""
    results = {}
    halves_of = split(queries)
    for half in halves:
        groups: dict[str, list[dict]] = defaultdict(list)
        for query in halves_of[half]:
            groups["overall"].append(per_query[query["qid"]])
            subset = query.get("kind") or query.get("source")
            if subset:
                groups[subset].append(per_query[query["qid"]])
        results[half] = {
            name: {"n": len(rows), **{m: round(statistics.fmean(r[m] for r in rows), 4) for m in METRICS},
                   "no_complete": (round(sum(not r["complete"] for r in rows) / len(rows), 3)
                                   if "complete" in rows[0] else None)}
            for name, rows in groups.items()
        }
    return results


def score_run(collection: Path, run: Path, halves: list[str]) -> dict:
    """The same metrics for a TREC run file (qid Q0 docid rank score tag) of another engine."""
    queries, qrels = judged_queries(collection)
    ranked: dict[str, list[tuple[int, str]]] = defaultdict(list)
    with open(run, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 4:
                ranked[parts[0]].append((int(parts[3]), parts[2]))
    per_query = {q["qid"]: metrics([d for _, d in sorted(ranked.get(q["qid"], []))], qrels[q["qid"]])
                 for q in queries}
    return {"collection": collection.name, "run": run.name, "queries": len(queries),
            "results": summarize(queries, per_query, halves), "per_query": per_query}


def print_table(report: dict) -> None:
    if "run" in report:
        print(f"\n{report['collection']}: peer run {report['run']} ({report['queries']} queries)")
    else:
        print(f"\n{report['collection']} (fields: {', '.join(report['fields'])}; {report['documents']} docs, "
              f"{report['queries']} queries; index {report['index_seconds']} s, "
              f"search {report['search_seconds']} s, p50 {report['latency_ms']['p50']} ms)")
    print("| half | subset | n | MRR@10 | nDCG@10 | P@10 | R@100 | no article has every word |")
    print("|---|---|---|---|---|---|---|---|")
    for half, groups in report["results"].items():
        for name, row in groups.items():
            print(f"| {half} | {name} | {row['n']} | {row['MRR@10']:.3f} | {row['nDCG@10']:.3f} | "
                  f"{row['P@10']:.3f} | {row['R@100']:.3f} | "
                  f"{'—' if row['no_complete'] is None else format(row['no_complete'], '.0%')} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("collection", type=Path, help="a directory with corpus.jsonl, queries.jsonl, qrels.tsv")
    parser.add_argument("--fields", default="title,text", help="corpus fields to index (default: title,text)")
    parser.add_argument("--half", choices=("dev", "test", "all"), action="append",
                        help="query halves to report (default: dev and test)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument("--peer-run", type=Path, help="score this TREC run instead of the product")
    parser.add_argument("--index-dir", type=Path,
                        help="search this index (built here first if it does not exist, then kept)")
    parser.add_argument("--run", type=Path, help="also write Bahth's ranking here as a TREC run")
    args = parser.parse_args()
    if not (args.collection / "queries.jsonl").exists():
        parser.error(f"{args.collection} is not a test collection (no queries.jsonl)")
    halves = args.half or ["dev", "test"]
    if args.peer_run:
        report = score_run(args.collection, args.peer_run, halves)
    else:
        report = evaluate(args.collection, set(args.fields.split(",")), halves, index_dir=args.index_dir,
                          run=args.run)
    print_table(report)
    print(json.dumps({k: v for k, v in report.items() if k != "per_query"}, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")


if __name__ == "__main__":
    main()
