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
    # (the same body under two headlines is one story: list both)
    assert top_ids(engine, "المصالحة", collapse=False) == ["title", "body"]


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


def test_words_sharing_a_stem_s_letters_lift_an_article_among_the_top_hits(tmp_path):
    # Both articles hold the query's words once and are as long; only "related" also
    # has relatives of استخدام (يستخدمون، المستخدمة) that whole-word BM25 cannot see.
    # "plain" is indexed first, so it would win the tie without the trigram stage.
    engine = build_small_index(tmp_path, [
        {"id": "plain", "text": "استخدام الطاقة الشمسية " + FILLER + "المزارعون يزرعون القمح الأخضر"},
        {"id": "related", "text": "استخدام الطاقة الشمسية " + FILLER + "المزارعون يستخدمون الألواح المستخدمة"},
    ])
    assert top_ids(engine, "استخدام الطاقة") == ["related", "plain"]


def test_a_name_spelled_another_way_lifts_the_article_that_has_it(tmp_path):
    engine = build_small_index(tmp_path, [
        {"id": "other", "text": "أول رائد فضاء في التاريخ " + FILLER + "الرائد كوروليف"},
        {"id": "name", "text": "أول رائد فضاء في التاريخ " + FILLER + "يوري غاغارين"},
    ])
    assert top_ids(engine, "رائد الفضاء") == ["other", "name"]  # "other" says رائد twice
    assert top_ids(engine, "رائد الفضاء جاجارين") == ["name", "other"]  # غاغارين ≈ جاجارين


def test_a_word_no_article_uses_finds_the_words_one_edit_away(tmp_path):
    engine = build_small_index(tmp_path, [
        {"id": "government", "text": FILLER + "الحكومة قررت رفع الأجور"},
        {"id": "wisdom", "text": FILLER + "الحكمة ضالة المؤمن"},
        {"id": "city", "text": FILLER + "مدينة هيلفرسوم في هولندا"},
    ])
    assert top_ids(engine, "هيلفرسم") == ["city"]  # unknown: its one-edit neighbour
    assert top_ids(engine, "الحكومة") == ["government"]  # known words are never widened
    assert top_ids(engine, "الحكمة") == ["wisdom"]
    typo, right = (engine.search(SearchRequest(q=q)).hits[0] for q in ("الحكومهة", "الحكومة"))
    assert typo.id == right.id == "government" and typo.score < right.score


def test_a_name_is_found_with_and_without_the_article(tmp_path):
    engine = build_small_index(tmp_path, [
        {"id": "bare", "text": FILLER + "قال متحدث باسم كرملين موسكو"},
        {"id": "article", "text": FILLER + "قال متحدث باسم الكرملين اليوم"},
        {"id": "other", "text": FILLER + "قال متحدث باسم الحكومة"},
    ])
    for q in ("الكرملين", "كرملين", "للكرملين"):
        result = engine.search(SearchRequest(q=q))
        assert sorted(h.id for h in result.hits) == ["article", "bare"], q
        assert all(h.matched for h in result.hits)  # both spellings are marked


def test_a_year_matches_the_articles_published_that_year(tmp_path):
    text = "أجريت الانتخابات البرلمانية العراقية وسط إقبال ضعيف " + FILLER
    engine = build_small_index(tmp_path, [
        {"id": "2014", "date": "2014-04-30", "text": text},
        {"id": "2018", "date": "2018-05-12", "text": text},
        {"id": "says-2018", "date": "2021-10-10", "text": "تذكير بانتخابات 2018 " + text},
        {"id": "2016", "date": "2016-01-01", "text": FILLER},
    ])
    result = engine.search(SearchRequest(q="الانتخابات البرلمانية العراقية 2018", collapse=False))
    assert {h.id for h in result.hits[:2]} == {"2018", "says-2018"} and result.hits[2].id == "2014"
    assert result.complete == 2  # published in 2018 holds "2018" as much as saying it
    # A year alone lists what was published then, with the articles that name it.
    assert set(top_ids(engine, "2018", collapse=False)) == {"2018", "says-2018"}


def test_query_words_standing_together_outrank_the_same_words_apart(tmp_path):
    # The same words, as often, in articles of the same length: only their order differs.
    engine = build_small_index(tmp_path, [
        {"id": "apart", "title": "تقرير", "text": f"الحرب في سوريا مستمرة. {FILLER} الصادرات التجارية للبلاد"},
        {"id": "together", "title": "تقرير", "text": f"الصادرات في سوريا مستمرة. {FILLER} الحرب التجارية للبلاد"},
    ] + [{"id": f"other{i}", "title": "أخبار", "text": f"{FILLER} رقم {i}"} for i in range(10)])
    assert top_ids(engine, "الحرب التجارية", collapse=False)[:2] == ["together", "apart"]


def test_the_words_the_best_hits_share_lift_the_hits_about_the_same_topic(tmp_path):
    topic = "سد النهضة الإثيوبي ومفاوضات مصر والسودان حول ملء الخزان وحصص مياه النيل"
    records = [{"id": f"dam{i}", "text": f"{topic} في الجولة رقم {i}. {FILLER}"} for i in range(12)]
    records += [{"id": "on-topic", "text": f"النهضة: مفاوضات ملء الخزان وحصص مياه النيل بين مصر والسودان. {FILLER}"},
                {"id": "off-topic", "text": f"النهضة: فاز فريق الشباب في مباراة كرة القدم أمس بهدفين. {FILLER}"}]
    records += [{"id": f"other{i}", "text": f"ارتفعت أسعار النفط في الأسواق العالمية رقم {i}. {FILLER}"}
                for i in range(40)]
    ranked = top_ids(build_small_index(tmp_path, records), "النهضة", per_page=20, collapse=False)
    assert ranked.index("on-topic") < ranked.index("off-topic")
