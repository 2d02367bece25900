"""Latency of the search experience on a built index: browsing, facets and the histogram
over large result sets, filters, prefixes, did-you-mean, field clauses, autocomplete, the
article page and more-like-this.

    .venv/bin/python bench/experience.py --index-dir /tmp/ix85 [--repeat 7]

Each case runs once to warm up, then ``--repeat`` times; prints the median and p95 in ms
and the size of what it returned, as a table and as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import percentiles  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.request import SearchRequest  # noqa: E402


def cases(engine: Engine) -> dict:
    everything = engine.search(SearchRequest(per_page=1))
    newest = dt.date.fromisoformat(everything.date_presets[0]["to"]) if everything.date_presets else None
    biggest_source = everything.facets["source"][0]["value"]
    a_doc = engine.search(SearchRequest(q="حماس", per_page=1)).hits[0].id
    month = (dict(date_from=newest - dt.timedelta(days=29), date_to=newest) if newest else {})

    def search(**kwargs):
        def run():
            result = engine.search(SearchRequest(**kwargs))
            return f"{result.total} articles, {result.stories} stories"
        return run
    return {
        "browse all (date order, all facets, histogram)": search(),
        "browse one source": search(chosen={"source": (biggest_source,)}),
        "browse the last month (preset)": search(**month),
        "common word: السعودية": search(q="السعودية"),
        "two words: حماس الجهاد": search(q="حماس الجهاد"),
        "prefix: فلسطين*": search(q="فلسطين*"),
        "title field: عنوان:حماس": search(q="عنوان:حماس"),
        "source clause: مصدر:\"Al Jazeera\" غزة": search(q='مصدر:"Al Jazeera" غزة'),
        "typo + did-you-mean: الفلسطينبة": search(q="الفلسطينبة"),
        "no collapsing: حماس": search(q="حماس", collapse=False),
        "autocomplete: الفلسط": lambda: f"{len(engine.suggest('الفلسط'))} completions",
        "article page data": lambda: f"{len(engine.document(a_doc, 'حماس')['body_html'])} chars",
        "more like this": lambda: f"{len(engine.similar(a_doc).hits)} hits",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    engine = Engine(args.index_dir)
    report = {"documents": engine.doc_count(), "repeat": args.repeat, "cases": {}}
    for name, run in cases(engine).items():
        run()  # warm-up (first use of a column, a prefix, a spelling)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            returned = run()
            times.append((time.perf_counter() - started) * 1000)
        report["cases"][name] = {**percentiles(times, 1), "returned": returned}
    print(f"{report['documents']:,} documents, {args.repeat} runs per case (ms)\n")
    print("| case | p50 | p95 | returned |\n|---|---|---|---|")
    for name, row in report["cases"].items():
        print(f"| {name} | {row['p50']} | {row['p95']} | {row['returned']} |")
    print()
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
