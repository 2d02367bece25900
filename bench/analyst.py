"""Latency of the analyst's endpoints on a built index, through the real Flask app.

    .venv/bin/python bench/analyst.py --index-dir /tmp/ix85 [--repeat 3]

The queries are the topical collection's (bench/topical/queries.jsonl: what journalists
and researchers type). Each endpoint is called for each query (trends: the queries two
by two), once to warm up and then ``--repeat`` times; prints p50 / p95 in ms per endpoint
(the whole response read, downloads included) and the JSON report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import percentiles  # noqa: E402

QUERIES = ROOT / "bench" / "topical" / "queries.jsonl"


def endpoints(queries: list[str], place: str) -> dict[str, list[dict]]:
    """Endpoint name -> the query strings of its calls."""
    pairs = [{"q": [a, b], "by": "month"} for a, b in zip(queries[::2], queries[1::2])]
    return {
        "/api/search (with place/person/organization facets)": [{"q": q} for q in queries],
        "/api/search filtered by a place": [{"q": q, "place": place} for q in queries],
        "/api/trends (two queries, per month)": pairs,
        "/api/trends (two queries, share, chosen period)": [{"q": p["q"]} for p in pairs],
        "/api/terms": [{"q": q} for q in queries],
        "/api/search?format=csv (every hit, up to 10,000)": [{"q": q, "format": "csv"} for q in queries],
        "/trends page": [{**p, "show": "share"} for p in pairs],
        "/terms page": [{"q": q} for q in queries],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from web import create_app

    client = create_app({"INDEX_DIR": args.index_dir, "RATE_LIMIT": 0, "QUERY_TIME_LIMIT": 60}).test_client()
    queries = [json.loads(line)["query"] for line in QUERIES.read_text("utf-8").splitlines() if line.strip()]
    place = client.get("/api/search").get_json()["facets"]["place"][0]["value"]
    report = {}
    print(f"{len(queries)} topical queries; index {args.index_dir}")
    print("| endpoint | calls | p50 ms | p95 ms | response (median bytes) |")
    print("|---|---|---|---|---|")
    for name, calls in endpoints(queries, place).items():
        path = name.split(" ")[0].split("?")[0]
        times, sizes = [], []
        for repeat in range(args.repeat + 1):
            for params in calls:
                started = time.perf_counter()
                response = client.get(path, query_string=params)
                body = response.get_data()  # (a download is streamed: read it all)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{name} {params}: {response.status_code} {body[:200]!r}")
                if repeat:  # (the first pass warms caches up)
                    times.append(elapsed)
                    sizes.append(len(body))
        figures = percentiles(times)
        report[name] = {"calls": len(times), "p50": figures["p50"], "p95": figures["p95"],
                        "median_bytes": sorted(sizes)[len(sizes) // 2]}
        print(f"| {name} | {len(times)} | {figures['p50']} | {figures['p95']} | {report[name]['median_bytes']:,} |",
              flush=True)
    print(json.dumps(report, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")


if __name__ == "__main__":
    main()
