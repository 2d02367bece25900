"""Term-at-a-time matching (search/matching.py) against Whoosh's own matcher tree on a
real index: the same documents and the same BM25 scores."""

import pytest

from search.engine import Engine
from search.indexer import build_index, delete_documents
from search.matching import Deadline, match
from search.paths import SEEDS_DIR
from search.querylang import compile_query
from tests.conftest import build_small_index, record

QUERIES = ["حماس", "حماس الجهاد", "القسام والمقاومة في غزة", "وفد حماس القاهرة -بيروت",
           '"المكتب السياسي" حماس', "القاهرة OR بيروت", "كلمةغيرموجودة حماس", "-حماس",
           "وحماس OR بالنخالة"]  # (names read two ways: dis_max inside an OR)


NO_HURRY = 60  # seconds: these tests check results, not the time limit


def whoosh_scores(searcher, q):
    return {hit.docnum: hit.score for hit in searcher.search(q, limit=None)}


@pytest.fixture(scope="module")
def view(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("matching")
    build_index([SEEDS_DIR], index_dir)
    return Engine(index_dir)._view()


@pytest.mark.parametrize("q", QUERIES)
def test_same_documents_and_scores_as_whoosh(view, q):
    compiled = compile_query(q)
    searcher = view.searcher
    found = match(view, compiled.groups, compiled.negatives, None, Deadline(NO_HURRY))
    if compiled.empty:
        assert found.any_word == set(searcher.docs_for_query(compiled.strict or compiled.loose))
        return
    strict = set(searcher.docs_for_query(compiled.strict))
    assert found.every_word == strict
    loose = whoosh_scores(searcher, compiled.loose or compiled.strict)
    assert found.any_word == set(loose)
    for docnum, score in loose.items():
        assert found.scores[docnum] == pytest.approx(score, rel=1e-9)


def test_deleted_and_replaced_documents_never_match(tmp_path):
    build_index([SEEDS_DIR], tmp_path)
    corpus = tmp_path / "change.jsonl"
    corpus.write_text(record("001_d30af9c42a70480b", "نص جديد بلا الكلمة") + "\n", "utf-8")
    build_index([corpus], tmp_path, update=True)
    view = Engine(tmp_path)._view()
    compiled = compile_query("القسام")
    found = match(view, compiled.groups, [], None, Deadline(NO_HURRY))
    ids = {view.searcher.stored_fields(d)["id"] for d in found.any_word}
    assert "001_d30af9c42a70480b" not in ids and len(ids) == 1
    assert found.any_word <= view.all_docs


def test_threads_share_the_data_derived_from_one_index_state(tmp_path):
    import threading

    engine = build_small_index(tmp_path, [{"id": "a", "text": "حماس في غزة"}, {"id": "b", "text": "فتح في رام الله"}])
    views = []
    thread = threading.Thread(target=lambda: views.append(engine._view()))
    thread.start()
    thread.join()
    here = engine._view()
    assert here.searcher is not views[0].searcher  # searchers are per thread
    assert here.column("source") is views[0].column("source") and here.all_docs is views[0].all_docs
    delete_documents(["b"], tmp_path / "index")  # a new index state: new data, not the stale one
    assert engine._view().all_docs != here.all_docs and len(engine._view().all_docs) == 1
