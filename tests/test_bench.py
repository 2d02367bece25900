"""The load benchmark itself works (a few seconds on the seeds; the real run is in bench/)."""

from bench.load import run


def test_load_bench_runs_against_the_real_server(seed_index):
    report = run(seed_index, clients=2, seconds=2, warmup=0.5, threads=2, seed=1)
    assert report["requests"] > 0 and report["errors"] == {}
    assert report["documents"] == 5 and report["server"]["rss_end_mb"] > 0
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]
