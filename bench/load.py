"""Load test: N concurrent clients against the production server (`bahth serve`) on loopback.

    .venv/bin/python bench/load.py --index-dir /tmp/ix85 [--clients 16] [--seconds 60]

The index must exist (build the 85k corpus with
`bahth index ../shared/corpus/*/docs.jsonl.gz --index-dir /tmp/ix85 --rebuild --allow-skips`).
Queries are drawn from the index's own titles (short 1-3 word queries, headline-length
queries, phrases, filtered and date-sorted searches, later pages), with a fixed seed.
The server runs with rate limiting off (this measures the engine, not the limiter).

Prints requests, errors by status, throughput, latency percentiles and the server's
resident memory sampled through the run (after a warm-up, to show growth), as a table
and as JSON. Exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import percentiles  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.indexer import live_generation, open_index  # noqa: E402


def titles_from_index(index_dir: Path, count: int, seed: int) -> list[tuple[str, str | None]]:
    """(title, source) of ``count`` random documents, read from the index itself."""
    rng = random.Random(seed)
    picked = []
    with open_index(index_dir).searcher() as searcher:
        total = searcher.doc_count_all()
        for docnum in rng.sample(range(total), min(count * 3, total)):
            if searcher.ixreader.is_deleted(docnum):
                continue
            fields = searcher.stored_fields(docnum)
            words = (fields.get("title") or "").split()
            if len(words) >= 4:
                picked.append((" ".join(words), fields.get("source")))
            if len(picked) == count:
                break
    return picked


def query_mix(titles: list[tuple[str, str | None]], seed: int) -> list[dict]:
    rng = random.Random(seed)
    mix = []
    for title, source in titles:
        words = [w for w in title.split() if len(w) > 2]
        if len(words) < 3:
            continue
        kind = rng.random()
        if kind < 0.55:
            start = rng.randrange(len(words))
            params = {"q": " ".join(words[start:start + rng.randint(1, 3)])}
        elif kind < 0.75:
            params = {"q": " ".join(words[:12])}
        elif kind < 0.85:
            start = rng.randrange(max(1, len(words) - 1))
            params = {"q": '"' + " ".join(words[start:start + 2]) + '"'}
        elif kind < 0.95:
            params = {"q": words[0], "sort": "date"}
            if source:
                params["source"] = source
        else:
            params = {"q": " ".join(words[:2]), "page": 2}
        mix.append(params)
    return mix


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mb(pid: int) -> dict[str, float]:
    """The process's resident memory: all of it (what ``ps`` shows), its own (anonymous)
    and the pages of mapped files (the index is memory-mapped: those pages are the page
    cache, shared and reclaimable, and a bigger index shows more of them)."""
    found = {"VmRSS:": 0.0, "RssAnon:": 0.0, "RssFile:": 0.0}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key = line.split(maxsplit=1)[0]
            if key in found:
                found[key] = int(line.split()[1]) / 1024
    return {"rss": found["VmRSS:"], "anon": found["RssAnon:"], "file": found["RssFile:"]}


def rss_mb(pid: int) -> float:
    return memory_mb(pid)["rss"]


def wait_until_up(url: str, server: subprocess.Popen, log_path: str, timeout: float = 300) -> float:
    """Seconds until ``/healthz`` answers (its first answer loads the index's columns)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            raise SystemExit(f"the server exited; its output is in {log_path}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=timeout):
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the server did not come up in {timeout:.0f} s; its output is in {log_path}")


def run(index_dir: Path, clients: int, seconds: float, warmup: float, threads: int, seed: int) -> dict:
    if live_generation(index_dir) is None:
        raise SystemExit(f"no index in {index_dir}; build one first (see this script's docstring)")
    mix = query_mix(titles_from_index(index_dir, 3000, seed), seed)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bahth = Path(sys.executable).parent / "bahth"
    # The server's output goes to a file: an unread pipe fills up (waitress logs a line
    # for every queued request under load) and would block the server.
    log = tempfile.NamedTemporaryFile("w+b", prefix="bahth-load-server-", suffix=".log", delete=False)
    server = subprocess.Popen([str(bahth), "serve", "--index-dir", str(index_dir), "--port", str(port),
                               "--threads", str(threads), "--rate-limit", "0"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        cold_start = wait_until_up(url, server, log.name)
        rss_idle = rss_mb(server.pid)
        latencies: list[float] = []
        statuses: Counter = Counter()
        lock = threading.Lock()
        measuring = threading.Event()
        stop = threading.Event()

        def client(number: int) -> None:
            rng = random.Random(seed + number)
            while not stop.is_set():
                params = rng.choice(mix)
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(f"{url}/api/search?{urllib.parse.urlencode(params)}",
                                                timeout=60) as response:
                        response.read()
                        status = response.status
                except urllib.error.HTTPError as error:
                    status = error.code
                except OSError as error:
                    status = f"connection: {type(error).__name__}"
                elapsed = (time.perf_counter() - started) * 1000
                if measuring.is_set():
                    with lock:
                        latencies.append(elapsed)
                        statuses[status] += 1

        workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
        for worker in workers:
            worker.start()
        time.sleep(warmup)
        samples = [memory_mb(server.pid)]
        measuring.set()
        measured_from = time.perf_counter()
        while time.perf_counter() - measured_from < seconds:
            time.sleep(min(5.0, seconds / 12))
            samples.append(memory_mb(server.pid))
        measuring.clear()
        duration = time.perf_counter() - measured_from
        stop.set()
        for worker in workers:
            worker.join(timeout=70)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    rss_samples = [sample["rss"] for sample in samples]
    anon = [sample["anon"] for sample in samples]
    third = max(1, len(rss_samples) // 3)
    early, late = statistics.median(rss_samples[:third]), statistics.median(rss_samples[-third:])
    errors = {str(k): v for k, v in statuses.items() if k != 200}
    return {
        "index_dir": str(index_dir),
        "server_log": log.name,
        "documents": Engine(index_dir).doc_count(),
        "clients": clients, "server_threads": threads, "seconds": round(duration, 1),
        "requests": sum(statuses.values()), "errors": errors,
        "throughput_rps": round(sum(statuses.values()) / duration, 2),
        "latency_ms": percentiles(latencies, digits=1),
        "server": {"cold_start_s": round(cold_start, 2), "rss_idle_mb": round(rss_idle, 1),
                   "rss_after_warmup_mb": round(rss_samples[0], 1), "rss_end_mb": round(rss_samples[-1], 1),
                   "rss_max_mb": round(max(rss_samples), 1),
                   "rss_growth_mb": round(late - early, 1), "rss_samples_mb": [round(x) for x in rss_samples],
                   "anon_end_mb": round(anon[-1], 1), "anon_max_mb": round(max(anon), 1),
                   "file_end_mb": round(samples[-1]["file"], 1)},
    }


def print_table(report: dict) -> None:
    lat, srv = report["latency_ms"], report["server"]
    rows = [
        ("documents", report["documents"]),
        ("clients / server threads", f"{report['clients']} / {report['server_threads']}"),
        ("measured seconds", report["seconds"]),
        ("requests", report["requests"]),
        ("errors", report["errors"] or "none"),
        ("throughput", f"{report['throughput_rps']} req/s"),
        ("latency p50 / p95 / p99 / max", f"{lat['p50']} / {lat['p95']} / {lat['p99']} / {lat['max']} ms"),
        ("server cold start", f"{srv['cold_start_s']} s"),
        ("server RSS idle / after warm-up / end / max", f"{srv['rss_idle_mb']} / {srv['rss_after_warmup_mb']} / "
                                                        f"{srv['rss_end_mb']} / {srv['rss_max_mb']} MB"),
        ("RSS growth (first third → last third, medians)", f"{srv['rss_growth_mb']} MB"),
        ("of the RSS at the end: own / mapped index files", f"{srv['anon_end_mb']} / {srv['file_end_mb']} MB"
                                                             f" (own at most {srv['anon_max_mb']} MB)"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=Path(os.environ.get("BAHTH_INDEX_DIR", ROOT / "index")))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--threads", type=int, default=4, help="server worker threads")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    report = run(args.index_dir, args.clients, args.seconds, args.warmup, args.threads, args.seed)
    print_table(report)
    print(json.dumps(report, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
