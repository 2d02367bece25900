"""Searching the real seed index: matching, ranking, snippets, facets, filters, paging."""

import datetime as dt

import pytest

from search.errors import BadRequest
from search.request import SearchRequest

ALL_SEEDS = {"000_281d92c1e047680d", "001_d30af9c42a70480b", "002_a017300901ef6bd3",
             "003_f808f8908193cba8", "004_ba4bac017325e1a8"}


def ids(result):
    return {h.id for h in result.hits}


def run(engine, q="", **kwargs):
    return engine.search(SearchRequest(q=q, **kwargs))


def seeds_containing(*surfaces):
    """Seeds whose raw text holds any of the surface forms: the expected answer, from the files."""
    from search.paths import SEEDS_DIR

    return {p.stem for p in SEEDS_DIR.glob("*.txt")
            if any(s in p.read_text("utf-8").split("Menu")[-1] for s in surfaces)}


# Each case of shared/seeds/README.md: the query and surface forms it must find.
README_CASES = [
    ("القسام", ["القســـــام", "القسام"]),
    ("المستويات", ["المـــستويات", "المستويات"]),
    ("الجهاد", ["والجهاد", "الجهاد"]),
    ("القدس", ["بالقدس", "القدس"]),
    ("الحركتين", ["للحركتين", "الحركتين"]),
    ("الأسرى", ["وللأسرى", "الأسرى"]),
    ("حركة", ["لحركة"]),
    ("سرايا", ["وسرايا"]),
    ("الاسلامي", ["الإسلامي"]),
    ("انهاء", ["إنهاء", "انهاء"]),
    ("الاشاعات", ["الإشاعات", "الاشاعات"]),
    ("اسماعيل", ["إسماعيل"]),
    ("القاهره", ["القاهرة"]),
    ("الأقصي", ["الأقصى"]),
    ("السايسي", ["السايسي"]),
    ("البمذول", ["البمذول"]),
    ("مفنصلة", ["مفنصلة"]),
    ("173", ["173"]),
    ("ساعات", ["5 ساعات"]),
]


@pytest.mark.parametrize("query,surfaces", README_CASES)
def test_seed_readme_cases(engine, query, surfaces):
    expected = seeds_containing(*surfaces)
    assert expected, "the case must occur in the seeds"
    assert expected <= ids(run(engine, query))


def test_tatweel_surface_form_is_marked_in_the_snippet(engine):
    result = run(engine, "القسام")
    hit = next(h for h in result.hits if h.id == "001_d30af9c42a70480b")
    assert "<mark>القســـــام</mark>" in hit.snippet
    assert "القســـــام" in hit.matched


def test_hamza_variant_marked_in_original_form(engine):
    hit = run(engine, "اسماعيل").hits[0]
    assert "<mark>إسماعيل</mark>" in hit.snippet


@pytest.mark.parametrize("query", ["كورونا", "بتسيلم", "الأونروا", "Menu", "google39ae0e62e4a5bc94"])
def test_sidebar_of_seed_004_is_not_searchable(engine, query):
    assert run(engine, query).total == 0


def test_relevance_ranks_articles_with_every_word_first(engine):
    result = run(engine, "النخالة بيروت")
    assert result.match == "or" and result.complete == 1
    assert result.hits[0].id == "002_a017300901ef6bd3"  # the only seed with both words
    assert result.total == len(seeds_containing("النخالة", "بيروت"))
    assert result.hits[0].score > result.hits[1].score


def test_date_sort_needs_every_word_unless_none_has_them_all(engine):
    both = run(engine, "النخالة بيروت", sort="date")
    assert both.match == "and" and ids(both) == {"002_a017300901ef6bd3"}
    fallback = run(engine, "بيروت كورونا", sort="date")
    assert fallback.match == "or" and fallback.complete == 0
    assert "002_a017300901ef6bd3" in ids(fallback)


def test_stopwords_do_not_punish_the_user(engine):
    assert ids(run(engine, "اجتماع في القاهرة")) == ids(run(engine, "اجتماع القاهرة"))
    assert run(engine, "في").total > 0  # a query of stopwords alone still searches


def test_phrase_and_exclusion(engine):
    phrase = run(engine, '"المكتب السياسي"')
    assert phrase.total and all("المكتب السياسي" in h.snippet.replace("<mark>", "").replace("</mark>", "")
                                for h in phrase.hits)
    without = run(engine, "النخالة -بيروت")
    assert "002_a017300901ef6bd3" not in ids(without) and without.total > 0


def test_exact_surface_form_ranks_first(engine):
    result = run(engine, "للحركتين")
    top = result.hits[0]
    assert "للحركتين" in top.matched


def test_facets_count_the_whole_result_set(engine):
    result = run(engine, "حماس", per_page=1)
    assert result.total == 5 and len(result.hits) == 1
    sources = {f["value"]: f["count"] for f in result.facets["source"]}
    assert sources == {"صدى نيوز": 2, None: 2, "أرض كنعان": 1}
    years = {f["value"]: f["count"] for f in result.facets["date"]}
    assert years == {"2023": 1, "2022": 1, None: 3}
    assert {f["value"] for f in result.facets["month"]} == {"2023-06", "2022-08", None}


def test_source_filter_including_unknown(engine):
    assert ids(run(engine, "حماس", chosen={"source": ("صدى نيوز",)})) == {"001_d30af9c42a70480b", "003_f808f8908193cba8"}
    assert ids(run(engine, "حماس", chosen={"source": (None,)})) == {"000_281d92c1e047680d", "002_a017300901ef6bd3"}
    assert run(engine, "حماس", chosen={"source": ("صدى نيوز", "أرض كنعان")}).total == 3
    filtered = run(engine, "حماس", chosen={"source": ("أرض كنعان",)})
    assert filtered.total == 1
    # Multi-select: the source facet is counted without its own filter, so the other
    # sources can still be added; the other facets count what the filter keeps.
    assert filtered.facets["source"] == [{"value": "صدى نيوز", "count": 2}, {"value": None, "count": 2},
                                         {"value": "أرض كنعان", "count": 1}]
    assert sum(f["count"] for f in filtered.facets["date"]) == 1


def test_dates_are_counted_without_the_date_filter(engine):
    filtered = run(engine, "حماس", date_from=dt.date(2023, 1, 1))
    assert filtered.total == 1
    assert {f["value"]: f["count"] for f in filtered.facets["date"]} == {"2023": 1, "2022": 1, None: 3}
    assert [f["value"] for f in filtered.facets["source"]] == ["صدى نيوز"]


def test_date_filter(engine):
    assert ids(run(engine, "حماس", date_from=dt.date(2023, 1, 1))) == {"003_f808f8908193cba8"}
    assert ids(run(engine, "حماس", date_to=dt.date(2022, 8, 22))) == {"001_d30af9c42a70480b"}
    assert run(engine, "حماس", date_from=dt.date(2024, 1, 1)).total == 0


def test_sort_by_date_puts_unknown_dates_last(engine):
    result = run(engine, "حماس", sort="date")
    assert [h.date for h in result.hits] == ["2023-06-04", "2022-08-22", None, None, None]
    assert all(h.score is None for h in result.hits)


def test_relevance_scores_descend(engine):
    scores = [h.score for h in run(engine, "المقاومة الفلسطينية").hits]
    assert scores == sorted(scores, reverse=True) and len(scores) > 1


def test_pagination_is_exact_and_disjoint(engine):
    pages = [run(engine, "حماس", per_page=2, page=p) for p in (1, 2, 3, 4)]
    assert [len(p.hits) for p in pages] == [2, 2, 1, 0]
    assert all(p.total == 5 and p.pages == 3 for p in pages)
    seen = [h.id for p in pages for h in p.hits]
    assert len(seen) == len(set(seen)) == 5 and set(seen) == ALL_SEEDS


def test_empty_query_browses_newest_first(engine):
    result = run(engine, "")
    assert result.match == "all" and result.total == 5 and result.hits[0].date == "2023-06-04"


def test_malformed_queries_never_fail(engine):
    for q in ['"حماس', "-", "OR", "أو حماس", '""', "«", "- -حماس", "((", "*", "حماس OR", "\u200f\u0651"]:
        run(engine, q)  # no exception


@pytest.mark.parametrize("kwargs,code", [
    ({"page": 0}, "bad_page"), ({"per_page": 0}, "bad_per_page"), ({"per_page": 101}, "bad_per_page"),
    ({"sort": "popular"}, "bad_sort"), ({"q": "x" * 1001}, "query_too_long"),
    ({"date_from": dt.date(2023, 1, 2), "date_to": dt.date(2023, 1, 1)}, "bad_date_range"),
])
def test_bad_requests(kwargs, code):
    with pytest.raises(BadRequest) as error:
        SearchRequest(**kwargs)
    assert error.value.code == code


def test_source_filters_follow_one_rule_everywhere(archive, archive_client):
    """The API's source=, the CLI's --source and the query's مصدر: name a source by its
    whole name, whatever the case and Arabic spelling; a name that matches no source
    says so instead of an empty result without a word."""
    from click.testing import CliRunner

    from search.cli import main

    exact = archive.search(SearchRequest(q="الأسواق", chosen={"source": ("Al-Riyadh",)})).total
    assert exact == 8
    for spelled in ("al-riyadh", "AL RIYADH"):
        assert archive.search(SearchRequest(q="الأسواق", chosen={"source": (spelled,)})).total == exact
        assert archive.search(SearchRequest(q=f'مصدر:"{spelled}" الأسواق')).total == exact
    assert archive.search(SearchRequest(q="الأسواق", chosen={"source": ("صحيفه الغد",)})).total == 8  # ة/ه
    for result in (archive.search(SearchRequest(q="الأسواق", chosen={"source": ("riyadh",)})),
                   archive.search(SearchRequest(q="مصدر:riyadh الأسواق"))):
        assert result.total == 0
        (warning,) = result.warnings
        assert warning.code == "unknown_source" and "Al-Riyadh" in warning.message
    data = archive_client.get("/api/search", query_string={"q": "الأسواق", "source": "riyadh"}).get_json()
    assert data["total"] == 0 and data["warnings"][0]["code"] == "unknown_source"
    html = archive_client.get("/", query_string={"q": "الأسواق", "source": "riyadh"}).get_data(as_text=True)
    assert 'لا يوجد مصدر باسم «<bdi dir="ltr">riyadh</bdi>»' in html
    out = CliRunner().invoke(main, ["search", "الأسواق", "--source", "riyadh",
                                    "--index-dir", str(archive.index_dir)]).output
    assert out.startswith("0 results") and "Note: no source is named 'riyadh'; did you mean Al-Riyadh?" in out
    assert archive.search(SearchRequest(q="الأسواق")).warnings == []
