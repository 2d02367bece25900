"""The load benchmark itself works (a few seconds on the seeds; the real run is in bench/)."""

from bench.load import run


def test_load_bench_runs_against_the_real_server(seed_index):
    report = run(seed_index, clients=2, seconds=2, warmup=0.5, threads=2, seed=1)
    assert report["requests"] > 0 and report["errors"] == {}
    assert report["documents"] == 5 and report["server"]["rss_end_mb"] > 0
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]


def test_perf_bench_runs_without_lucene(tmp_path, capsys):
    import json

    from bench.perf import main
    from tests.conftest import record

    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(record(f"d{i}", f"نص الخبر رقم {i} عن حماس والجهاد في غزة والقاهرة",
                                     title=f"لقاء قادة حماس والجهاد الإسلامي في القاهرة اليوم لبحث التهدئة {i}")
                              + "\n" for i in range(30)), "utf-8")
    assert main(["--corpus", str(corpus), "--replicate", "2", "--work", str(tmp_path / "w"),
                 "--queries", "5", "--load-seconds", "1"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["records"] == 60 and report["bahth_index"]["docs"] == 60  # copies get new ids
    assert set(report["bahth_query_ms"]) == {"short", "headline", "phrase"}
    for key in ("bahth_api_ms", "bahth_api_keepalive_ms"):  # new connections, one kept alive
        assert {name: row["n"] for name, row in report[key].items()} == {"short": 5, "headline": 5, "phrase": 5}
    assert report["server"]["errors"] == {}


def test_experience_bench_runs_on_the_seeds(seed_index, capsys):
    import json

    from bench.experience import main

    main(["--index-dir", str(seed_index), "--repeat", "1"])
    out = capsys.readouterr().out
    report = json.loads(out[out.index("\n{") + 1:])
    assert report["documents"] == 5 and len(report["cases"]) == 13
    assert all(row["p50"] >= 0 for row in report["cases"].values())


def test_floors_bench_runs(seed_index, capsys):
    import json

    from bench.floors import main

    main(["--index-dir", str(seed_index), "--docs", "30", "--queries", "5", "--lucene-ms", "short=1.0"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["queries"]["documents"] == 5
    short = report["queries"]["median_ms"]["short"]
    assert short["total"] >= short["match (BM25 over postings arrays)"] > 0 and short["budget (2x Lucene p50)"] == 2.0
    if "indexing_ms_per_article" in report:  # (../shared/corpus is there)
        indexing = report["indexing_ms_per_article"]
        assert indexing["articles"] > 0 and indexing["worker_steps"]["analysis (tokens, normalize, stem; memo)"] > 0
        assert indexing["main_steps"]["commit (lexicon, postings, columns: search/codec)"] > 0


def test_anchor_run_ranks_with_the_peer_analyzer_and_scores_on_the_halves(tmp_path):
    import json

    from bench.anchor import run as anchor_run
    from bench.relevance import score_run
    from tests.conftest import shared_path

    shared_path("peers", "peerlib.py")
    collection = tmp_path / "tiny"
    collection.mkdir()
    docs = [{"id": "a", "title": "حماس", "text": "وفد حماس في القاهرة"},
            {"id": "b", "title": "الجهاد", "text": "الجهاد الإسلامي يلتقي في بيروت"},
            {"id": "c", "title": "طقس", "text": "أمطار غزيرة على الساحل"}]
    queries = [{"qid": "q1", "query": "وفد حماس"}, {"qid": "q2", "query": "الجهاد في بيروت"}]
    (collection / "corpus.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), "utf-8")
    (collection / "queries.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), "utf-8")
    (collection / "qrels.tsv").write_text("q1\ta\t1\nq2\tb\t1\n", "utf-8")
    assert anchor_run(collection, ["title", "text"], tmp_path / "run.trec") == 2
    lines = (tmp_path / "run.trec").read_text("utf-8").splitlines()
    assert lines[0].split()[:3] == ["q1", "Q0", "a"] and "c" not in {line.split()[2] for line in lines}
    assert score_run(collection, tmp_path / "run.trec", ["all"])["results"]["all"]["overall"]["MRR@10"] == 1.0
