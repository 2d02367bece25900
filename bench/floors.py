"""Where the time goes: the cost floors of indexing and of a query, part by part.

    .venv/bin/python bench/floors.py --index-dir /tmp/ix85 [--docs 3000] [--queries 200]

Indexing, on ``--docs`` articles of ../shared/corpus (a few from each outlet): our analysis
alone (caches warm), the story signature, building the fields, Whoosh's add_document and
its commit, each in ms per article. Queries, on a built index: the median of short title
queries matched only (postings walk), searched without snippets (facets, collapsing) and
searched as the API does. Compare with Lucene's figures of the same machine
(bench/perf.py): 0.5x Lucene's indexing rate and 3x its query latency are the budgets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whoosh import index as whoosh_index  # noqa: E402

from bench.perf import query_classes  # noqa: E402
from search.analysis import ANALYZER  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.indexer import document_fields  # noqa: E402
from search.ingest import Document, read_documents  # noqa: E402
from search.matching import Deadline, match  # noqa: E402
from search.querylang import compile_query  # noqa: E402
from search.request import SearchRequest  # noqa: E402
from search.schema import make_schema  # noqa: E402
from search.stories import StoryFinder, fingerprint  # noqa: E402

CORPUS = sorted((ROOT.parent / "shared" / "corpus").glob("*/docs.jsonl.gz"))


def per_doc_ms(action, items) -> float:
    started = time.perf_counter()
    for item in items:
        action(item)
    return round((time.perf_counter() - started) * 1000 / len(items), 3)


def indexing(count: int) -> dict:
    per_source = max(1, count // max(1, len(CORPUS)))
    docs = [d for path in CORPUS for d in itertools.islice(read_documents([path]), per_source)
            if isinstance(d, Document)]

    def analyze(doc):
        for text in (doc.title or "", doc.body):
            for _ in ANALYZER(text, positions=True, mode="index"):
                pass
    per_doc_ms(analyze, docs)  # warm the normalize/stem caches, as a long build has them
    stories = StoryFinder()
    report = {"articles": len(docs), "analysis": per_doc_ms(analyze, docs),
              "story fingerprint": per_doc_ms(lambda d: fingerprint(d.body), docs)}
    fields = []
    report["fields (incl. signature)"] = per_doc_ms(lambda d: fields.append(document_fields(d, stories)), docs)
    with tempfile.TemporaryDirectory() as tmp:
        writer = whoosh_index.create_in(tmp, make_schema()).writer(limitmb=256, compound=False)
        report["whoosh add_document"] = per_doc_ms(lambda f: writer.add_document(**f), fields)
        started = time.perf_counter()
        writer.commit(optimize=True)
        report["whoosh commit (optimize)"] = round((time.perf_counter() - started) * 1000 / len(docs), 3)
    return report


def queries(index_dir: Path, count: int, seed: int) -> dict:
    engine = Engine(index_dir)
    qs = query_classes(index_dir, count, seed)["short"]  # the short queries of bench/perf.py
    for q in qs[:20]:
        engine.search(SearchRequest(q=q))
    view = engine._view()

    def median_ms(run) -> float:
        times = []
        for q in qs:
            started = time.perf_counter()
            run(q)
            times.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(times), 2)

    def matching_only(q):
        compiled = compile_query(q)
        match(view, compiled.groups, compiled.negatives, None, Deadline(60))
    return {"queries": len(qs), "documents": engine.doc_count(),
            "matching only": median_ms(matching_only),
            "search without snippets": median_ms(lambda q: engine.search(SearchRequest(q=q), highlight=False)),
            "search as the API does": median_ms(lambda q: engine.search(SearchRequest(q=q)))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args(argv)
    report = {}
    if CORPUS:
        report["indexing_ms_per_article"] = indexing(args.docs)
    if args.index_dir:
        report["short_query_median_ms"] = queries(args.index_dir, args.queries, args.seed)
    for section, figures in report.items():
        print(section)
        for name, value in figures.items():
            print(f"  {name:32s} {value}")
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
