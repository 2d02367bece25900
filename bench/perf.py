"""Speed and size, side by side with Lucene 8 (ArabicAnalyzer) in the same run.

    .venv/bin/python bench/perf.py --lucene ../shared/peers/lucene [--replicate 1] [--work /tmp/bahth-perf]

1. The corpus (default: ../shared/corpus/*/docs.jsonl.gz) is written once as one JSON Lines
   file, ``--replicate N`` times with new ids and dates shifted by a year per copy (the 1M
   corpus is ``--replicate 12``; generated on the fly, never committed).
2. Indexing: `bahth index --rebuild` and Lucene's harness on that file, each a child process:
   wall time, docs/s, MB/s of input, index size on disk, peak RSS.
3. Queries drawn from the index's titles with a fixed seed: short (1-3 words), headline
   (8-12 words) and two-word phrases. Ours twice: the engine as the API calls it but without
   snippets (rank, facets, histogram, story count: `Engine.search(highlight=False)`), and the
   API over HTTP with snippets (top 10, one client after the other, `bahth serve`); Lucene's
   through its harness (raw top 100, ids only). One warm-up pass, then p50 / p95 / p99.
4. The production server: cold start, RSS, and throughput with 8 concurrent clients
   (bench/load.py) for ``--load-seconds``.
Prints a table with the ratios product / Lucene beside the issue's targets, and the JSON
report. The machine is shared: compare the ratios of one run, not absolute figures across
runs.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import shutil
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import percentiles  # noqa: E402
from bench.load import free_port, titles_from_index, wait_until_up  # noqa: E402
from bench.load import run as load_run  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.generations import live_generation  # noqa: E402
from search.request import SearchRequest  # noqa: E402

DEFAULT_CORPUS = sorted((ROOT.parent / "shared" / "corpus").glob("*/docs.jsonl.gz"))


def write_corpus(sources: list[Path], target: Path, replicate: int) -> tuple[int, int]:
    """One JSONL file of the corpus ``replicate`` times; returns (records, bytes)."""
    records = 0
    with open(target, "w", encoding="utf-8") as out:
        for copy in range(replicate):
            for source in sources:
                opener = gzip.open if source.name.endswith(".gz") else open
                with opener(source, "rt", encoding="utf-8") as handle:
                    for line in handle:
                        if not line.strip():
                            continue
                        if copy:
                            record = json.loads(line)
                            record["id"] = f"{record.get('id')}~{copy}"
                            date = record.get("date")
                            if isinstance(date, str) and date[:4].isdigit():
                                record["date"] = f"{int(date[:4]) - copy:04d}{date[4:]}"
                            line = json.dumps(record, ensure_ascii=False) + "\n"
                        out.write(line)
                        records += 1
    return records, target.stat().st_size


def timed_child(command: list[str]) -> tuple[float, float, str]:
    """Run a child process; returns (wall seconds, peak RSS MB, output)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = child.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode not in (0, 3):  # 3: some records skipped (reported), the rest indexed
        raise SystemExit(f"{command[0]} failed ({child.returncode}):\n{output[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def build_ours(corpus: Path, ours_dir: Path, input_bytes: int) -> dict:
    bahth = Path(sys.executable).parent / "bahth"
    seconds, rss, _ = timed_child([str(bahth), "index", str(corpus), "--index-dir", str(ours_dir),
                                   "--rebuild", "--quiet", "--allow-skips"])
    docs = Engine(ours_dir).doc_count()
    live = live_generation(ours_dir)  # not the previous generation a rerun in the same --work keeps
    return {"docs": docs, "seconds": round(seconds, 1), "docs_per_s": round(docs / seconds, 1),
            "mb_per_s": round(input_bytes / 2**20 / seconds, 2), "peak_rss_mb": round(rss),
            "size_mb": round(size_mb(live), 1), "size_ratio": round(size_mb(live) * 2**20 / input_bytes, 2)}


def query_classes(index_dir: Path, per_class: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    short, headline, phrase = [], [], []
    for title, _ in titles_from_index(index_dir, per_class * 4, seed):
        words = [w for w in title.split() if len(w) > 2 and w.isalpha()]
        if len(words) >= 3 and len(short) < per_class:
            start = rng.randrange(len(words))
            short.append(" ".join(words[start:start + rng.randint(1, 3)]))
        if len(words) >= 8 and len(headline) < per_class:
            headline.append(" ".join(words[:12]))
        if len(words) >= 3 and len(phrase) < per_class:
            start = rng.randrange(len(words) - 1)
            phrase.append(f'"{words[start]} {words[start + 1]}"')
    return {"short": short, "headline": headline, "phrase": phrase}


def our_latency(index_dir: Path, queries: list[str]) -> dict[str, float]:
    """The engine without snippets: ranking, facets, histogram and story count."""
    engine = Engine(index_dir, time_limit=60)
    for q in queries:  # warm-up pass: searchers, columns, caches
        engine.search(SearchRequest(q=q), highlight=False)
    times = []
    for q in queries:
        started = time.perf_counter()
        engine.search(SearchRequest(q=q), highlight=False)
        times.append((time.perf_counter() - started) * 1000)
    return {**percentiles(times), "n": len(times)}


def api_latency(index_dir: Path, classes: dict[str, list[str]]) -> tuple[dict[str, dict], dict[str, dict]]:
    """/api/search over HTTP with snippets (top 10), one request after the other, against
    the production server: each request on a new connection (urllib), and all on one
    kept-alive connection (as an API client with a session sends them)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bahth = Path(sys.executable).parent / "bahth"
    log = tempfile.NamedTemporaryFile("w+b", prefix="bahth-perf-server-", suffix=".log", delete=False)
    server = subprocess.Popen([str(bahth), "serve", "--index-dir", str(index_dir), "--port", str(port),
                               "--rate-limit", "0", "--time-limit", "60"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(url, server, log.name)
        fresh, kept = {}, {}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def on_kept_connection(path: str) -> None:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}")

        for name, queries in classes.items():
            paths = [f"/api/search?{urllib.parse.urlencode({'q': q})}" for q in queries]
            for path in paths:  # warm-up pass
                urllib.request.urlopen(url + path, timeout=60).read()
            for out, send in ((fresh, lambda path: urllib.request.urlopen(url + path, timeout=60).read()),
                              (kept, on_kept_connection)):
                times = []
                for path in paths:
                    started = time.perf_counter()
                    send(path)
                    times.append((time.perf_counter() - started) * 1000)
                out[name] = {**percentiles(times), "n": len(times)}
        connection.close()
        return fresh, kept
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def lucene(harness: Path, *args: str) -> dict:
    stats = Path(args[args.index("--stats-json") + 1])
    timed_child([str(harness / "run.sh"), *args])
    return json.loads(stats.read_text("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, nargs="+", default=DEFAULT_CORPUS)
    parser.add_argument("--replicate", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bahth-perf"))
    parser.add_argument("--lucene", type=Path, help="the built ../shared/peers/lucene harness")
    parser.add_argument("--queries", type=int, default=200, help="queries per class")
    parser.add_argument("--load-seconds", type=float, default=30)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--resume", action="store_true",
                        help="keep the steps an interrupted run with the same --json and --work finished")
    args = parser.parse_args(argv)
    if not args.corpus:
        raise SystemExit("no corpus: pass --corpus FILES (../shared/corpus/ is not beside the project)")
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    records, input_bytes = write_corpus(args.corpus, corpus, args.replicate)
    report: dict = {"records": records, "input_mb": round(input_bytes / 2**20, 1), "replicate": args.replicate}

    if args.resume and args.json and args.json.exists():
        earlier = json.loads(args.json.read_text("utf-8"))
        if earlier.get("records") == records and earlier.get("replicate") == args.replicate:
            report = {**earlier, "resumed": True}
    save = (lambda: args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")) \
        if args.json else (lambda: None)

    # After each step the report is saved: a long run that fails late keeps what it measured,
    # and --resume goes on from the first step it lacks.
    ours_dir = work / "bahth-index"
    if "bahth_index" not in report:
        report["bahth_index"] = build_ours(corpus, ours_dir, input_bytes)
        save()
    classes = query_classes(ours_dir, args.queries, args.seed)
    if "bahth_query_ms" not in report:
        report["bahth_query_ms"] = {name: our_latency(ours_dir, qs) for name, qs in classes.items()}
        save()
    if "bahth_api_ms" not in report:
        report["bahth_api_ms"], report["bahth_api_keepalive_ms"] = api_latency(ours_dir, classes)
        save()

    if args.lucene:
        lucene_dir = work / "lucene-index"
        shutil.rmtree(lucene_dir, ignore_errors=True)  # a half-built one from an interrupted run
        stats = lucene(args.lucene, "index", "--corpus", str(corpus), "--index", str(lucene_dir),
                       "--force-merge", "--stats-json", str(work / "lucene-index.json"))
        report["lucene_index"] = {"docs": stats["docs"], "seconds": round(stats["index_seconds"], 1),
                                  "docs_per_s": round(stats["docs_per_s"], 1), "mb_per_s": round(stats["mb_per_s"], 2),
                                  "size_mb": round(stats["index_bytes"] / 2**20, 1),
                                  "size_ratio": round(stats["index_to_corpus_ratio"], 2)}
        report["lucene_query_ms"] = {}
        for name, qs in classes.items():
            qfile = work / f"queries-{name}.jsonl"
            qfile.write_text("".join(json.dumps({"qid": str(i), "query": q}, ensure_ascii=False) + "\n"
                                     for i, q in enumerate(qs)), "utf-8")
            s = lucene(args.lucene, "search", "--queries", str(qfile), "--index", str(lucene_dir), "--k", "100",
                       "--warmup", "1", "--repeat", "1", "--run", str(work / f"lucene-{name}.trec"),
                       "--stats-json", str(work / f"lucene-{name}.json"))
            report["lucene_query_ms"][name] = {"p50": round(s["latency_ms_p50"], 2), "p95": round(s["latency_ms_p95"], 2),
                                               "p99": round(s["latency_ms_p99"], 2), "n": s["queries"]}

    save()
    load = load_run(ours_dir, clients=8, seconds=args.load_seconds, warmup=5, threads=4, seed=args.seed)
    report["server"] = {"clients": 8, "throughput_rps": load["throughput_rps"], "errors": load["errors"],
                        "latency_ms": load["latency_ms"], **{k: load["server"][k] for k in
                        ("cold_start_s", "rss_idle_mb", "rss_end_mb", "rss_max_mb", "anon_end_mb", "file_end_mb")}}
    print_table(report)
    print(json.dumps(report, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    return 0


def print_table(report: dict) -> None:
    ours, theirs = report["bahth_index"], report.get("lucene_index")

    def ratio(a, b):
        return f"{a / b:.2f}×" if b else "—"
    print(f"corpus: {report['records']} records, {report['input_mb']} MB of JSONL (×{report['replicate']})")
    print("| measure | Bahth | Lucene | Bahth / Lucene |\n|---|---|---|---|")
    for label, key in (("indexing docs/s", "docs_per_s"), ("indexing MB/s", "mb_per_s"),
                       ("indexing wall s", "seconds"), ("index size MB", "size_mb"),
                       ("index / input", "size_ratio")):
        other = theirs[key] if theirs else None
        print(f"| {label} | {ours[key]} | {other if other is not None else '—'} | "
              f"{ratio(ours[key], other) if other else '—'} |")
    print(f"| indexing peak RSS MB | {ours['peak_rss_mb']} | — | — |")
    for label, key in (("engine, no snippets", "bahth_query_ms"), ("API over HTTP, snippets", "bahth_api_ms"),
                       ("API, kept-alive connection, snippets", "bahth_api_keepalive_ms")):
        for name, mine in report.get(key, {}).items():
            other = (report.get("lucene_query_ms") or {}).get(name)
            for p in ("p50", "p95", "p99"):
                print(f"| {name} queries, {label}, {p} ms (n={mine['n']}; Lucene raw top 100) | {mine[p]} | "
                      f"{other[p] if other else '—'} | {ratio(mine[p], other[p]) if other else '—'} |")
    server = report["server"]
    print(f"| server: 8 clients throughput | {server['throughput_rps']} req/s (errors: {server['errors'] or 'none'}) | — | — |")
    print(f"| server: cold start / RSS end (own + mapped index files) | {server['cold_start_s']} s / "
          f"{server['rss_end_mb']} MB ({server['anon_end_mb']} + {server['file_end_mb']}) | — | — |")


if __name__ == "__main__":
    sys.exit(main())
