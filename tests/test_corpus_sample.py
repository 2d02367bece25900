"""Indexing real news from ../shared/corpus (skipped when the shared folder is absent)."""

import json
from datetime import date

from conftest import shared_path
from search.engine import Engine
from search.indexer import build_index
from search.request import SearchRequest


def test_antcorpus_sample_indexes_and_searches(tmp_path):
    sample = shared_path("corpus", "antcorpus", "sample.jsonl")
    records = [json.loads(line) for line in sample.read_text("utf-8").splitlines() if line.strip()]
    summary = build_index([sample], tmp_path)
    kept = [r for r in records if (r["text"] or "").strip() or (r["title"] or "").strip()]
    empty = len(records) - len(kept)
    assert summary.indexed + len(summary.skipped) == len(records)
    assert len(summary.skipped) == empty
    assert all("empty" in s.reason for s in summary.skipped)
    engine = Engine(tmp_path)
    everything = engine.search(SearchRequest(q=""))
    assert everything.total == summary.indexed
    sources = {f["value"]: f["count"] for f in everything.facets["source"]}
    expected = {}
    for r in kept:
        expected[r["source"]] = expected.get(r["source"], 0) + 1
    assert sources == expected
    # A title word of a real record finds that record.
    record = next(r for r in records if r["title"] and len(r["title"].split()) > 5)
    result = engine.search(SearchRequest(q=f'"{record["title"]}"', per_page=100))
    assert record["id"] in {h.id for h in result.hits}
    # Year facets and the date filter agree with the records' own dates.
    in_2018 = sum(1 for r in kept if (r["date"] or "").startswith("2018"))
    years = {f["value"]: f["count"] for f in everything.facets["date"]}
    assert years.get("2018", 0) == in_2018
    filtered = engine.search(SearchRequest(q="", date_from=date(2018, 1, 1), date_to=date(2018, 12, 31)))
    assert filtered.total == in_2018


def test_stories_suggestions_and_dates_on_real_news(tmp_path):
    """The first 1,500 SaudiNewsNet articles (July–August 2015): the same wire story from
    several outlets collapses, did-you-mean and completions work on a real vocabulary."""
    corpus = shared_path("corpus", "saudinewsnet", "docs.jsonl.gz")
    import gzip
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for _, line in zip(range(1500), lines)]
    sample = tmp_path / "snn.jsonl"
    sample.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    build_index([sample], tmp_path / "ix", rebuild=True)
    engine = Engine(tmp_path / "ix")
    everything = engine.search(SearchRequest(q="", per_page=100))
    assert everything.stories < everything.total  # wire copies collapse
    copied = next(h for h in everything.hits if h.others_total)
    copy = engine.document(copied.others[0]["id"])
    assert copy["story"] == copied.story and copied.id in {c["id"] for c in copy["copies"]}
    flat = engine.search(SearchRequest(q="", per_page=100, collapse=False))
    assert flat.total == everything.total and flat.stories == flat.total
    # The histogram covers every dated article; the newest date anchors the presets.
    assert all(r["date"] for r in records)
    assert sum(b["count"] for b in everything.histogram["buckets"]) == everything.total
    newest = max(r["date"] for r in records if r["date"])
    assert everything.date_presets[0]["to"] == newest
    assert engine.search(SearchRequest(q="السعودبة")).suggestion == "السعودية"
    assert "السعودية" in engine.suggest("السعو")
    similar = engine.similar(copied.id, 5)
    assert similar.hits and copied.id not in {h.id for h in similar.hits}
