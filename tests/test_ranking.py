"""Ranking on small real indexes: title, coverage, exact forms, idf."""

from search.request import SearchRequest
from tests.conftest import build_small_index

FILLER = "وقال المتحدث في بيان صدر اليوم إن الاجتماع تناول عدة ملفات "


def top_ids(engine, q, **kwargs):
    return [h.id for h in engine.search(SearchRequest(q=q, **kwargs)).hits]


def test_a_headline_match_adds_to_the_body_match(tmp_path):
    text = FILLER + "المصالحة " + FILLER
    engine = build_small_index(tmp_path, [
        {"id": "body", "title": "لقاء في العاصمة", "text": text},
        {"id": "title", "title": "المصالحة في العاصمة", "text": text},
    ])
    assert top_ids(engine, "المصالحة") == ["title", "body"]


def test_an_article_with_every_word_beats_one_repeating_a_single_word(tmp_path):
    engine = build_small_index(tmp_path, [
        {"id": "repeats", "text": "النخالة " * 6 + FILLER},
        {"id": "both", "text": "النخالة في بيروت " + FILLER * 2},
        {"id": "other", "text": "بيروت " + FILLER},
    ])
    result = engine.search(SearchRequest(q="النخالة بيروت"))
    assert [h.id for h in result.hits][0] == "both"
    assert result.match == "or" and result.complete == 1 and result.total == 3


def test_the_exact_surface_form_outranks_a_stem_only_match(tmp_path):
    engine = build_small_index(tmp_path, [
        {"id": "stem", "text": FILLER + "الحركتين " + FILLER},
        {"id": "exact", "text": FILLER + "للحركتين " + FILLER},
    ])
    assert top_ids(engine, "للحركتين") == ["exact", "stem"]


def test_a_rare_word_counts_more_than_a_common_one(tmp_path):
    common = [{"id": f"c{i}", "text": FILLER + "الاحتلال"} for i in range(8)]
    engine = build_small_index(tmp_path, common + [
        {"id": "rare", "text": FILLER + "الاحتلال جنين"},
        {"id": "rare-only", "text": FILLER + "جنين"},
    ])
    ranked = top_ids(engine, "الاحتلال جنين")
    assert ranked[0] == "rare" and ranked[1] == "rare-only"
