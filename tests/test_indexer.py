"""Building, updating and atomically switching index generations."""

import json
import shutil

import pytest

from search.engine import Engine
from search.errors import IndexProblem
from search.generations import CURRENT, live_generation
from search.indexer import build_index, check_index, delete_documents
from search.errors import InputError
from search.paths import SEEDS_DIR
from search.request import SearchRequest
from tests.conftest import record


def count(index_dir, q=""):
    return Engine(index_dir).search(SearchRequest(q=q)).total


def test_build_creates_a_generation_and_points_current_at_it(tmp_path):
    summary = build_index([SEEDS_DIR], tmp_path)
    assert summary.rebuilt and summary.total == 5
    assert (tmp_path / CURRENT).read_text().strip() == summary.generation
    assert live_generation(tmp_path).name == summary.generation


def test_failed_rebuild_leaves_the_served_index_untouched(tmp_path):
    first = build_index([SEEDS_DIR], tmp_path)
    engine = Engine(tmp_path)
    assert engine.search(SearchRequest(q="حماس")).total == 5
    with pytest.raises(InputError):
        build_index([SEEDS_DIR, tmp_path / "missing.jsonl"], tmp_path, rebuild=True)
    assert (tmp_path / CURRENT).read_text().strip() == first.generation
    assert sorted(p.name for p in tmp_path.glob("gen-*")) == [first.generation]
    assert engine.search(SearchRequest(q="حماس")).total == 5


def test_rebuild_switches_and_a_running_engine_follows(tmp_path):
    build_index([SEEDS_DIR], tmp_path)
    engine = Engine(tmp_path)
    assert engine.search(SearchRequest(q="")).total == 5
    corpus = tmp_path / "new.jsonl"
    corpus.write_text(record("n1", "خبر جديد عن الانتخابات البلدية") + "\n", "utf-8")
    summary = build_index([corpus], tmp_path, rebuild=True)
    assert summary.total == 1
    assert engine.search(SearchRequest(q="")).total == 1
    assert engine.search(SearchRequest(q="الانتخابات")).total == 1


def test_update_adds_and_replaces_by_id(tmp_path):
    build_index([SEEDS_DIR], tmp_path)
    corpus = tmp_path / "more.jsonl"
    corpus.write_text(record("n1", "اجتماع أول في رام الله") + "\n", "utf-8")
    summary = build_index([corpus], tmp_path)
    assert not summary.rebuilt and summary.total == 6
    corpus.write_text(record("n1", "اجتماع معدل في نابلس") + "\n", "utf-8")
    assert build_index([corpus], tmp_path).total == 6
    assert count(tmp_path, "نابلس") == 1 and count(tmp_path, "رام") == 0
    # Re-indexing the seeds replaces them instead of duplicating.
    assert build_index([SEEDS_DIR], tmp_path).total == 6


def test_old_generations_are_pruned(tmp_path):
    for _ in range(4):
        build_index([SEEDS_DIR], tmp_path, rebuild=True)
    assert len(list(tmp_path.glob("gen-*"))) == 2


def test_update_of_an_index_from_another_schema_version_is_refused(tmp_path):
    summary = build_index([SEEDS_DIR], tmp_path)
    manifest = tmp_path / summary.generation / "bahth.json"
    manifest.write_text(json.dumps({"schema_version": -1}), "utf-8")
    with pytest.raises(IndexProblem, match="--rebuild"):
        build_index([SEEDS_DIR], tmp_path)
    with pytest.raises(IndexProblem, match="another version"):  # nor is it served
        Engine(tmp_path).search(SearchRequest(q="حماس"))
    assert build_index([SEEDS_DIR], tmp_path, rebuild=True).total == 5
    assert Engine(tmp_path).search(SearchRequest(q="حماس")).total == 5


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexProblem, match="bahth index"):
        Engine(tmp_path).search(SearchRequest(q="حماس"))


def test_a_deleted_generation_directory_counts_as_no_index(tmp_path):
    summary = build_index([SEEDS_DIR], tmp_path)
    shutil.rmtree(tmp_path / summary.generation)
    assert live_generation(tmp_path) is None


def test_update_skips_unchanged_documents_and_counts_replacements(tmp_path):
    build_index([SEEDS_DIR], tmp_path)
    again = build_index([SEEDS_DIR], tmp_path, update=True)
    assert (again.indexed, again.unchanged, again.total) == (0, 5, 5)
    corpus = tmp_path / "more.jsonl"
    corpus.write_text(record("001_d30af9c42a70480b", "نص معدل عن لقاء في الدوحة") + "\n"
                      + record("new", "خبر جديد") + "\n", "utf-8")
    summary = build_index([corpus], tmp_path, update=True)
    assert (summary.indexed, summary.replaced, summary.total) == (2, 1, 6)
    assert count(tmp_path, "الدوحة") == 1


def test_update_without_an_index_is_an_error_not_a_build(tmp_path):
    with pytest.raises(IndexProblem, match="--rebuild"):
        build_index([SEEDS_DIR], tmp_path, update=True)
    assert live_generation(tmp_path) is None


def test_delete_removes_by_id_and_a_running_engine_sees_it(tmp_path):
    build_index([SEEDS_DIR], tmp_path)
    engine = Engine(tmp_path)
    assert engine.search(SearchRequest(q="القسام")).total == 2
    summary = delete_documents(["001_d30af9c42a70480b", "no-such-id"], tmp_path)
    assert summary.deleted == 1 and summary.total == 4
    assert [s.where for s in summary.skipped] == ["no-such-id"]
    assert engine.search(SearchRequest(q="القسام")).total == 1
    assert all(c.ok for c in check_index(tmp_path))  # the manifest follows the deletion


def test_check_passes_a_good_index_and_names_what_is_wrong(tmp_path):
    summary = build_index([SEEDS_DIR], tmp_path)
    assert all(c.ok for c in check_index(tmp_path))
    generation = tmp_path / summary.generation
    manifest = json.loads((generation / "bahth.json").read_text())
    (generation / "bahth.json").write_text(json.dumps({**manifest, "documents": 9}))
    assert [c.what for c in check_index(tmp_path) if not c.ok] == ["5 documents (manifest says 9)"]
    for segment_file in generation.glob("*.trm"):
        segment_file.write_bytes(b"\0" * 64)
    failed = [c.what for c in check_index(tmp_path) if not c.ok]
    assert failed and "cannot read the index" in failed[-1] and "--rebuild" in failed[-1]
    (tmp_path / CURRENT).unlink()
    (only,) = check_index(tmp_path)
    assert not only.ok and "no live index" in only.what


def test_segments_are_separate_files_not_one_compound_file(tmp_path):
    """Whoosh reads a compound segment through an in-memory copy of each part (hundreds of
    MB per searcher on the real corpus); separate files are read from disk as needed."""
    summary = build_index([SEEDS_DIR], tmp_path)
    generation = tmp_path / summary.generation
    assert list(generation.glob("*.trm")) and not list(generation.glob("*.seg"))
    corpus = tmp_path / "more.jsonl"
    corpus.write_text(record("n1", "خبر إضافي") + "\n", "utf-8")
    build_index([corpus], tmp_path, update=True)
    assert not list(generation.glob("*.seg"))


def test_a_rebuild_that_reads_no_document_keeps_the_live_index(tmp_path):
    first = build_index([SEEDS_DIR], tmp_path)
    garbage = tmp_path / "garbage.txt"
    garbage.write_bytes(b"\x00\x01\xff binary \xfe\x00" * 200)
    summary = build_index([garbage], tmp_path, rebuild=True)
    assert summary.indexed == 0 and summary.skipped and "kept" in summary.refused
    assert live_generation(tmp_path).name == first.generation == summary.generation
    assert sorted(p.name for p in tmp_path.glob("gen-*")) == [first.generation]
    assert count(tmp_path, "حماس") == 5 and all(c.ok for c in check_index(tmp_path))
    # With no index yet, nothing is built either (and nothing is served).
    assert "no index was built" in build_index([garbage], tmp_path / "new").refused
    assert live_generation(tmp_path / "new") is None


def test_an_index_emptied_on_purpose_is_an_empty_archive_not_an_error(tmp_path):
    from web import create_app

    build_index([SEEDS_DIR], tmp_path)
    ids = [hit.id for hit in Engine(tmp_path).search(SearchRequest(per_page=10)).hits]
    assert delete_documents(ids, tmp_path).total == 0
    assert count(tmp_path) == 0 and count(tmp_path, "حماس") == 0
    client = create_app({"INDEX_DIR": tmp_path}).test_client()
    for path in ("/", "/?q=حماس", "/api/search?q=حماس&sort=date", "/feed?q=حماس", "/api/suggest?q=حم"):
        assert client.get(path).status_code == 200, path
    assert client.get("/healthz").get_json() == {"status": "ok", "documents": 0}
    assert all(c.ok for c in check_index(tmp_path))


def test_check_verifies_every_file_against_its_checksum(tmp_path):
    summary = build_index([SEEDS_DIR], tmp_path)
    assert any("files match their checksums" in c.what and c.ok for c in check_index(tmp_path))
    terms = next((tmp_path / summary.generation).glob("*.trm"))
    data = bytearray(terms.read_bytes())
    data[1000:1000 + 4096] = bytes(4096)  # 4 KB overwritten: Whoosh still reads it "fine"
    terms.write_bytes(data)
    failed = [c.what for c in check_index(tmp_path) if not c.ok]
    assert len(failed) == 1 and terms.name in failed[0] and "--rebuild" in failed[0]
    # An update renews the checksums of what it changed and keeps the others.
    build_index([SEEDS_DIR], tmp_path / "other")
    extra = tmp_path / "extra.jsonl"
    extra.write_text(record("n1", "خبر إضافي عن المصالحة") + "\n", "utf-8")
    build_index([extra], tmp_path / "other", update=True)
    assert all(c.ok for c in check_index(tmp_path / "other"))


def test_health_reads_what_serving_needs(tmp_path):
    from web import create_app

    summary = build_index([SEEDS_DIR], tmp_path)
    client = create_app({"INDEX_DIR": tmp_path}).test_client()
    assert client.get("/healthz").get_json() == {"status": "ok", "documents": 5}
    story = next((tmp_path / summary.generation).glob("*.story.col"))
    story.write_bytes(story.read_bytes()[:7])  # a column cut short
    fresh = create_app({"INDEX_DIR": tmp_path}).test_client()
    response = fresh.get("/healthz")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "index_unreadable"
    assert not all(c.ok for c in check_index(tmp_path))


def test_a_dropped_duplicate_leaves_no_trace_of_its_own_words(tmp_path):
    """The first copy of an id wins; words only the dropped copy had must neither break the
    build (a term without postings) nor be found."""
    data = tmp_path / "dup.jsonl"
    data.write_text("\n".join((record("a1", "اجتماع قيادة الحركتين في القاهرة"),
                               record("a1", "نسخة مكررة بكلمات فريدة تماما"),
                               record("a2", "لقاء آخر في غزة"))) + "\n", "utf-8")
    summary = build_index([data], tmp_path / "ix", rebuild=True)
    assert summary.indexed == 2 and [s.reason for s in summary.skipped][0].startswith("duplicate id")
    engine = Engine(tmp_path / "ix")
    assert engine.search(SearchRequest(q="الحركتين")).total == 1
    assert engine.search(SearchRequest(q="فريدة")).total == 0
    assert all(check.ok for check in check_index(tmp_path / "ix"))



def test_the_stems_column_is_the_same_whatever_order_stems_were_first_seen_in():
    """Workers number stems in the order they meet them, which depends on which worker got
    which batch; the file must not: equally used stems are numbered in their own order."""
    import io

    import numpy as np
    from whoosh.filedb.structfile import StructFile

    from search.codec import StemsColumn

    def written(table: list[str]) -> bytes:
        # documents 0 and 1: (قمة ×2, حماس), (حماس, غزة, اجتماع); each stem in one or two documents
        pairs = [(0, "قمة", 2), (0, "حماس", 1), (1, "حماس", 1), (1, "غزة", 1), (1, "اجتماع", 1)]
        buffer = io.BytesIO()
        writer = StemsColumn().writer(StructFile(buffer))
        writer.add_many(0, np.array([d for d, _, _ in pairs]), table,
                        np.array([table.index(stem) for _, stem, _ in pairs]), np.array([c for _, _, c in pairs]))
        writer.finish(2)
        return buffer.getvalue()

    assert written(["قمة", "حماس", "غزة", "اجتماع"]) == written(["اجتماع", "غزة", "حماس", "قمة"])


def test_the_same_articles_always_give_the_same_index_files(tmp_path):
    """Two builds of the same inputs, in processes with different string hashing, write
    the same bytes (file names and the table of contents aside): builds are reproducible."""
    import glob
    import hashlib
    import os
    import subprocess
    import sys

    bahth = os.path.join(os.path.dirname(sys.executable), "bahth")

    def build(name: str, seed: str) -> list[str]:
        index_dir = tmp_path / name
        subprocess.run([bahth, "index", str(SEEDS_DIR), "--index-dir", str(index_dir), "--quiet"],
                       check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed})
        generation = live_generation(index_dir)
        return sorted(hashlib.sha1(open(f, "rb").read()).hexdigest() for f in glob.glob(str(generation / "*"))
                      if not f.endswith(".json") and not os.path.basename(f).startswith(("_MAIN", "MAIN_WRITELOCK")))

    first, second = build("a", "1"), build("b", "2")
    assert len(first) > 10 and first == second


def test_an_index_grown_by_updates_answers_as_a_rebuilt_one(tmp_path, monkeypatch):
    """Updates write postings through Whoosh's posting-at-a-time path, gathered and encoded
    many terms at once (here a few postings at a time, to cross several flushes)."""
    from search.codec import ArrayFieldWriter

    monkeypatch.setattr(ArrayFieldWriter, "FLUSH_POSTINGS", 7)
    words = ["حماس", "الجهاد", "القاهرة", "غزة", "اجتماع", "وفد", "التهدئة", "المقاومة", "مصر", "قطر"]
    news = tmp_path / "news.jsonl"
    news.write_text("".join(record(f"n{i}", " ".join(words[(i * k) % len(words)] for k in range(1, 8)) +
                                   f" خبر رقم {i}") + "\n" for i in range(40)), "utf-8")
    build_index([SEEDS_DIR], tmp_path / "grown")
    assert build_index([news], tmp_path / "grown").indexed == 40  # an update of the seeds' index
    build_index([SEEDS_DIR, news], tmp_path / "rebuilt", rebuild=True)
    grown, rebuilt = Engine(tmp_path / "grown"), Engine(tmp_path / "rebuilt")
    for q in ["حماس", "الجهاد القاهرة", '"وفد التهدئة"', "غزة -قطر", "المقاو*", "القسام"]:
        a, b = (e.search(SearchRequest(q=q, collapse=False, per_page=50)) for e in (grown, rebuilt))
        assert a.total == b.total > 0
        assert [(h.id, round(h.score, 6)) for h in a.hits] == [(h.id, round(h.score, 6)) for h in b.hits]
