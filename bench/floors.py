"""Where the time goes: the cost floor of the design, component by component.

    .venv/bin/python bench/floors.py --index-dir /tmp/ix85 [--docs 10000] [--queries 200]
                                      [--lucene-ms short=1.05,headline=2.58] [--lucene-docs-per-s 7650]

Indexing (``--docs`` articles of ../shared/corpus, a share from each outlet, built in this
process so that each step of search/bulk.py can be timed): per article, the steps a worker
process does (parsing, analysis, postings as arrays, stored blocks, story signature, stems
column, who-and-where) and the ones the main process does (adding a batch to the segment:
stories, columns; the commit: lexicon, postings, columns through search/codec.py). With W
worker processes the build cannot go faster than max(worker steps / W, main steps).

Queries (on a built index; the short and headline queries of bench/perf.py): the median
per query of each stage of Engine.search (compiling, matching, the window's stems, trigram
rescoring, proximity, feedback, facets, the histogram, story counts, hits, snippets).

Budgets: the issue's targets as ms, from Lucene's figures of the same machine when given
(bench/perf.py prints them): 0.5x Lucene's docs/s for indexing, 2x its raw top-100 p50
for a search without snippets.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.perf import query_classes  # noqa: E402
from search import bulk, engine as engine_module  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.indexer import build_index  # noqa: E402
from search.request import SearchRequest  # noqa: E402
from search.view import IndexView  # noqa: E402

CORPUS = sorted((ROOT.parent / "shared" / "corpus").glob("*/docs.jsonl.gz"))
#: step label -> (owner in search.bulk, or None for the module itself; function name)
WORKER_STEPS = {"parse (JSON, cleaning)": (None, "parse"),
                "analysis (tokens, normalize, stem; memo)": ("_Words", "codes"),
                "postings as arrays": (None, "_field_postings"), "stored blocks (zlib)": (None, "_blocks"),
                "story signature": (None, "fingerprint_words"), "stems column": (None, "_stem_pairs"),
                "who and where": (None, "_entities")}
MAIN_STEPS = {"add a batch to the segment (stories, columns)": ("SegmentBuilder", "add"),
              "commit (lexicon, postings, columns: search/codec)": (None, "_commit")}
#: stage label -> (where: the engine module, the Engine class or the IndexView class; name)
QUERY_STEPS = {"compile the query": ("module", "compile_query"), "typo variants": ("module", "typo_tolerance"),
               "match (BM25 over postings arrays)": ("module", "match"),
               "the window's stems (stems column)": ("view", "stem_pairs"),
               "trigram rescoring": ("module", "rescore"), "proximity": ("module", "proximity"),
               "feedback": ("module", "feedback"), "facets": ("module", "_facets"),
               "entity and source counts (in facets)": ("module", "value_counts"),
               "month counts": ("module", "_month_counts"), "story count": ("module", "_story_count"),
               "collapse": ("module", "_collapse"), "hits and snippets": ("class", "_hits"),
               "did you mean": ("module", "did_you_mean")}


class Timers(defaultdict):
    def __init__(self):
        super().__init__(float)

    @contextmanager
    def wrapped(self, owner, name: str, label: str):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self[label] += time.perf_counter() - started
        setattr(owner, name, timed)
        try:
            yield
        finally:
            setattr(owner, name, original)


def indexing(count: int) -> dict:
    """ms per article of each step of a bulk build of ``count`` articles, in this process."""
    timers = Timers()
    per_source = max(1, count // max(1, len(CORPUS)))
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as steps:
        sample = Path(tmp) / "sample.jsonl"
        with open(sample, "w", encoding="utf-8") as out:
            for path in CORPUS:
                with gzip.open(path, "rt", encoding="utf-8") as handle:
                    out.writelines(itertools.islice(handle, per_source))
        for label, (owner, name) in {**WORKER_STEPS, **MAIN_STEPS}.items():
            steps.enter_context(timers.wrapped(getattr(bulk, owner) if owner else bulk, name, label))
        started = time.perf_counter()
        summary = build_index([sample], Path(tmp) / "index", rebuild=True, workers=0)
        wall = time.perf_counter() - started
    n = max(summary.indexed, 1)
    worker = {label: round(timers[label] * 1000 / n, 3) for label in WORKER_STEPS}
    main = {label: round(timers[label] * 1000 / n, 3) for label in MAIN_STEPS}
    return {"articles": summary.indexed, "wall_ms_per_article (one process)": round(wall * 1000 / n, 3),
            "worker_steps": worker, "worker_sum": round(sum(worker.values()), 3),
            "main_steps": main, "main_sum": round(sum(main.values()), 3)}


def queries(index_dir: Path, count: int, seed: int) -> dict:
    """Median ms per query of each stage of Engine.search, for short and headline queries."""
    engine = Engine(index_dir, time_limit=60)
    out = {}
    for kind, qs in query_classes(index_dir, count, seed).items():
        if kind == "phrase":
            continue
        for q in qs:  # warm-up: searchers, columns, caches
            engine.search(SearchRequest(q=q))
        per_query = defaultdict(list)
        for highlight in (False, True):
            for q in qs:
                timers = Timers()
                with ExitStack() as stages:
                    for label, (where, target) in QUERY_STEPS.items():
                        owner = {"module": engine_module, "class": Engine, "view": IndexView}[where]
                        stages.enter_context(timers.wrapped(owner, target, label))
                    started = time.perf_counter()
                    engine.search(SearchRequest(q=q), highlight=highlight)
                    total = time.perf_counter() - started
                suffix = "" if highlight else " (no snippets)"
                per_query["total" + suffix].append(total * 1000)
                if not highlight:
                    for label, seconds in timers.items():
                        per_query[label].append(seconds * 1000)
                else:
                    per_query["hits and snippets (API)"].append(timers["hits and snippets"] * 1000)
        out[kind] = {label: round(statistics.median(values + [0.0] * (len(qs) - len(values))), 3)
                     for label, values in per_query.items()}
    return {"documents": engine.doc_count(), "queries_per_class": count, "median_ms": out}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--lucene-ms", default="", help="Lucene's raw p50s, e.g. short=1.05,headline=2.58")
    parser.add_argument("--lucene-docs-per-s", type=float, help="Lucene's indexing rate on this machine")
    parser.add_argument("--workers", type=int, default=bulk.default_workers())
    args = parser.parse_args(argv)
    report: dict = {}
    if CORPUS and args.docs:
        report["indexing_ms_per_article"] = figures = indexing(args.docs)
        floor = max(figures["worker_sum"] / max(args.workers, 1), figures["main_sum"])
        figures["floor_docs_per_s"] = round(1000 / floor) if floor else None
        if args.lucene_docs_per_s:
            figures["budget_ms_per_article (0.5x Lucene)"] = round(1000 / (0.5 * args.lucene_docs_per_s), 3)
    if args.index_dir:
        report["queries"] = queries(args.index_dir, args.queries, args.seed)
        budgets = dict(part.split("=") for part in args.lucene_ms.split(",") if "=" in part)
        for kind, value in budgets.items():
            report["queries"]["median_ms"].get(kind, {})["budget (2x Lucene p50)"] = round(2 * float(value), 3)
    show(report)
    print(json.dumps(report, ensure_ascii=False))


def show(figures: dict, depth: int = 0) -> None:
    for name, value in figures.items():
        if isinstance(value, dict):
            print("  " * depth + name)
            show(value, depth + 1)
        else:
            print(f"{'  ' * depth}{name:{58 - 2 * depth}s} {value}")


if __name__ == "__main__":
    main()
