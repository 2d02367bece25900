"""The analyst's view on a real index: attention over time compared (search.analytics
.trends), what a result set is about (search.analytics.terms), the downloads, the pages
and the CLI."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from conftest import build_small_index
from search.analytics import choose_period, g2, mentions, terms, trends
from search.cli import main
from search.request import SearchRequest

MONTHS = ["2018-03", "2018-04", "2018-05", "2018-06", "2018-07", "2018-08"]
SOURCES = ("وكالة الرصد", "صحيفة المدار")
#: Per month: marches articles (1, 2, … 6), deal articles (3), other articles (so that
#: every month has 12 in all).
MARCHES = "تواصلت مسيرات العودة الكبرى على حدود قطاع غزة وأطلق المتظاهرون الطائرات الورقية المشتعلة نحو المستوطنات"
DEAL = "رفض الرئيس الفلسطيني صفقة القرن الأمريكية وقال إن القدس ليست للبيع في كلمة أمام المجلس المركزي"
OTHER = "ارتفعت أسعار الخضار والفواكه في الأسواق المحلية مع بداية الموسم وقال التجار إن الطلب تراجع"


def analytics_records() -> list[dict]:
    records = []
    for m, month in enumerate(MONTHS):
        kinds = [("march", MARCHES)] * (m + 1) + [("deal", DEAL)] * 3
        kinds += [("other", OTHER)] * (12 - len(kinds))
        for n, (kind, text) in enumerate(kinds):
            records.append({"id": f"{kind}-{month}-{n}", "source": SOURCES[n % 2], "date": f"{month}-{n + 1:02d}",
                            "title": f"تقرير رقم {n} لشهر {month}", "text": f"{text}. الخبر رقم {n} من شهر {month}."})
    return records


def expected_counts(kind: str) -> list[int]:
    return [sum(r["id"].startswith(f"{kind}-{month}-") for r in analytics_records()) for month in MONTHS]


@pytest.fixture(scope="module")
def analytics(tmp_path_factory):
    return build_small_index(tmp_path_factory.mktemp("analytics"), analytics_records())


@pytest.fixture()
def analytics_client(analytics):
    from web import create_app

    return create_app({"INDEX_DIR": analytics.index_dir, "TESTING": True, "RATE_LIMIT": 0}).test_client()


# --- attention over time -------------------------------------------------------------

def test_counts_and_shares_per_month_for_two_queries(analytics):
    result = trends(analytics, ["مسيرات العودة", "صفقة القرن"], SearchRequest(), "month")
    assert result.by == "month"
    marches, deal = result.series
    assert [p["period"] for p in marches.points] == MONTHS == [p["period"] for p in deal.points]
    assert [p["count"] for p in marches.points] == expected_counts("march") == [1, 2, 3, 4, 5, 6]
    assert [p["count"] for p in deal.points] == expected_counts("deal")
    assert [p["share"] for p in marches.points] == [round(c / 12, 6) for c in expected_counts("march")]


def test_the_period_is_chosen_from_the_span_and_can_be_switched(analytics):
    assert [choose_period(d) for d in (0, 45, 46, 366, 367, 6 * 366, 6 * 366 + 1)] == \
        ["day", "day", "week", "week", "month", "month", "year"]
    auto = trends(analytics, ["مسيرات العودة"], SearchRequest())
    assert auto.by == "week"  # March to August
    weeks = auto.series[0].points
    assert sum(p["count"] for p in weeks) == 21 and all(
        p["period"] >= "2018-02-26" and p["period"] <= "2018-08-06" for p in weeks)
    years = trends(analytics, ["مسيرات العودة"], SearchRequest(), "year").series[0].points
    assert years == [{"period": "2018", "count": 21, "share": round(21 / 72, 6)}]


def test_filters_apply_to_every_query_and_source_clauses_to_their_own(analytics):
    one_source = SearchRequest.from_mapping({"source": [SOURCES[0]]})
    marches_a = [r for r in analytics_records() if r["id"].startswith("march") and r["source"] == SOURCES[0]]
    counted = trends(analytics, ["مسيرات العودة"], one_source, "year").series[0].points[0]
    published_a = sum(r["source"] == SOURCES[0] for r in analytics_records())
    assert counted == {"period": "2018", "count": len(marches_a), "share": round(len(marches_a) / published_a, 6)}
    # A source clause in one query is that query's filter: its share is of that source alone.
    own = trends(analytics, [f'مسيرات العودة مصدر:"{SOURCES[0]}"', "مسيرات العودة"], SearchRequest(), "year")
    assert own.series[0].points[0] == counted
    assert own.series[1].points[0]["count"] == 21
    dated = trends(analytics, ["مسيرات العودة"], SearchRequest.from_mapping({"from": "2018-05-01"}), "month")
    assert [p["count"] for p in dated.series[0].points] == expected_counts("march")[2:]


def test_trends_refuse_bad_requests_clearly(analytics_client):
    assert analytics_client.get("/api/trends").status_code == 400
    too_many = analytics_client.get("/api/trends", query_string={"q": ["أ", "ب", "ج", "د", "ه"]})
    assert too_many.status_code == 400 and too_many.get_json()["error"]["code"] == "bad_queries"
    bad_by = analytics_client.get("/api/trends?q=مسيرات&by=decade")
    assert bad_by.status_code == 400 and bad_by.get_json()["error"]["code"] == "bad_by"
    assert analytics_client.get("/api/trends?q=مسيرات&from=yesterday").status_code == 400
    nothing = analytics_client.get("/api/trends?q=كلمةلاتوجد").get_json()
    assert nothing["series"] == [{"query": "كلمةلاتوجد", "points": []}]


def test_trends_api_and_csv_download(analytics_client):
    args = {"q": ["مسيرات العودة", "صفقة القرن"], "by": "month"}
    data = analytics_client.get("/api/trends", query_string=args).get_json()
    assert [s["query"] for s in data["series"]] == args["q"] and data["by"] == "month"
    response = analytics_client.get("/api/trends", query_string={**args, "format": "csv"})
    assert response.headers["Content-Disposition"] == 'attachment; filename="bahth-trends.csv"'
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeffquery,period,count,share\r\n")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2 * len(MONTHS)
    assert [int(r["count"]) for r in rows if r["query"] == "صفقة القرن"] == expected_counts("deal")
    lines = analytics_client.get("/api/trends", query_string={**args, "format": "jsonl"}).get_data(as_text=True)
    assert [json.loads(line)["count"] for line in lines.splitlines()][:len(MONTHS)] == expected_counts("march")


# --- what a result set is about -----------------------------------------------------------

def test_g2_is_zero_unless_the_foreground_uses_a_term_more():
    assert g2(10, 100, 10, 10_000) > g2(5, 100, 5, 10_000) > 0
    assert g2(1, 100, 100, 10_000) == 0  # as frequent as everywhere else
    assert g2(0, 100, 50, 10_000) == 0


def test_distinctive_words_and_phrases_as_articles_write_them(analytics):
    result = terms(analytics, SearchRequest(q="مسيرات العودة"))
    texts = [t.text for t in result.terms]
    assert result.foreground == 21 and result.archive == 72
    assert "الطائرات الورقية" in texts  # a phrase, as written (with its article)
    assert not {"مسيرات", "العودة", "مسيرات العودة"} & set(texts)  # the query's own words are not news
    assert not {"الأسواق", "الخضار", "الرئيس", "الخبر"} & set(texts)  # elsewhere as much or more
    assert all(t.count >= 3 and t.score > 0 for t in result.terms)
    assert [t.score for t in result.terms] == sorted((t.score for t in result.terms), reverse=True)


def test_terms_are_stable_under_paging_and_refine_the_search(analytics_client):
    first = analytics_client.get("/api/terms?q=مسيرات العودة").get_json()
    later = analytics_client.get("/api/terms?q=مسيرات العودة&page=2&per_page=5").get_json()
    assert first["terms"] == later["terms"] and first["terms"]
    page = analytics_client.get("/terms?q=مسيرات العودة").get_data(as_text=True)
    assert "الطائرات الورقية" in page
    assert "/?q=%D9%85%D8%B3%D9%8A%D8%B1%D8%A7%D8%AA" in page  # each term links to the refined search
    refined = analytics_client.get("/api/search", query_string={"q": 'مسيرات العودة "الطائرات الورقية"'}).get_json()
    assert refined["total"] == 21


def test_terms_refuse_bad_parameters(analytics_client):
    assert analytics_client.get("/api/terms?q=مسيرات&scorer=magic").get_json()["error"]["code"] == "bad_scorer"
    assert analytics_client.get("/api/terms?q=مسيرات&limit=0").status_code == 400
    assert analytics_client.get("/api/terms?q=مسيرات&limit=lots").status_code == 400
    assert analytics_client.get("/api/terms?q=مسيرات&format=xls").status_code == 400
    jlh = analytics_client.get("/api/terms?q=مسيرات العودة&scorer=jlh&limit=3").get_json()
    assert jlh["scorer"] == "jlh" and len(jlh["terms"]) <= 3


# --- downloads --------------------------------------------------------------------------

def test_every_hit_downloads_as_csv_with_the_page_filters(analytics_client):
    response = analytics_client.get("/api/search", query_string={
        "q": "مسيرات العودة", "source": SOURCES[1], "format": "csv", "page": 3})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="bahth-hits.csv"'
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    wanted = {r["id"] for r in analytics_records() if r["id"].startswith("march") and r["source"] == SOURCES[1]}
    assert {r["id"] for r in rows} == wanted  # all of them, not one page
    assert list(rows[0]) == ["id", "title", "source", "date", "url", "score", "story"]
    assert all(r["source"] == SOURCES[1] and float(r["score"]) > 0 for r in rows)
    facets = analytics_client.get("/api/search?q=مسيرات العودة&format=jsonl&list=facets").get_data(as_text=True)
    sources = {json.loads(line)["value"]: json.loads(line)["count"] for line in facets.splitlines()
               if json.loads(line)["facet"] == "source"}
    assert sum(sources.values()) == 21


# --- the pages and the command line -----------------------------------------------------

def test_trends_page_draws_the_chart_with_a_table_and_downloads(analytics_client):
    page = analytics_client.get("/trends", query_string={"q": ["مسيرات العودة", "صفقة القرن"], "by": "month",
                                                          "show": "share"}).get_data(as_text=True)
    assert '<svg class="chart"' in page and page.count("<polyline") == 2
    assert "حصة التغطية في كل شهر" in page and "<table>" in page
    assert "مارس 2018" in page and "أغسطس 2018" in page
    assert "/api/trends?q=" in page and "format=csv" in page
    empty = analytics_client.get("/trends").get_data(as_text=True)
    assert "<svg" not in empty and 'name="q"' in empty


def test_trends_page_keeps_the_chart_when_a_parameter_is_wrong(analytics_client):
    response = analytics_client.get("/trends", query_string={"q": "مسيرات العودة", "by": "decade"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'role="alert"' in page and "decade" in page  # (as the search page)
    assert "<svg" in page


def test_user_text_is_escaped_on_the_new_pages(analytics_client):
    evil = '<script>alert(1)</script>'
    for url in ("/trends", "/terms"):
        page = analytics_client.get(url, query_string={"q": evil}).get_data(as_text=True)
        assert evil not in page and "&lt;script&gt;" in page


def test_cli_trends_and_terms(analytics):
    runner = CliRunner()
    index = ["--index-dir", str(analytics.index_dir)]
    out = runner.invoke(main, ["trends", "مسيرات العودة", "صفقة القرن", "--by", "month", "--csv", *index])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert [int(r["count"]) for r in rows if r["query"] == "مسيرات العودة"] == expected_counts("march")
    table = runner.invoke(main, ["trends", "مسيرات العودة", "--by", "month", *index])
    assert table.exit_code == 0 and "2018-08" in table.output and "(50.0%)" in table.output
    bad = runner.invoke(main, ["trends", "مسيرات", "--by", "decade", *index])
    assert bad.exit_code == 2 and "decade" in bad.output
    words = runner.invoke(main, ["terms", "مسيرات العودة", *index])
    assert words.exit_code == 0 and "الطائرات الورقية" in words.output
    as_json = json.loads(runner.invoke(main, ["terms", "مسيرات العودة", "--json", *index]).output)
    assert as_json["foreground"] == 21


def test_who_and_where_of_a_coverage_counts_the_articles_with_every_word(tmp_path):
    """A two-word query also finds articles with one of its words (ranked after); what the
    coverage mentions is counted over the articles with both, as its terms are."""
    engine = build_small_index(tmp_path, [
        {"id": "m1", "text": "انطلقت مسيرات العودة قرب السياج شرق غزة"},
        {"id": "m2", "text": "مسيرات العودة تتواصل في غزة للأسبوع العاشر"},
        {"id": "o1", "text": "العودة القوية للفريق في مدريد بعد الإصابة"},
        {"id": "o2", "text": "العودة إلى الدوري في مدريد الأسبوع المقبل"},
        {"id": "o3", "text": "العودة المنتظرة للنجم إلى مدريد"},
    ])
    request = SearchRequest(q="مسيرات العودة")
    everything = {f["value"]: f["count"] for f in engine.search(request).facets["place"]}
    assert everything.get("مدريد") == 3  # the search's facets count every match
    count, every_word, found = mentions(engine, request)
    assert count == 2 and every_word
    assert {f["value"]: f["count"] for f in found["place"]} == {"غزة": 2}
    # No article with every word: every match counts, and the page says which it counted.
    count, every_word, found = mentions(engine, SearchRequest(q="مسيرات مدريد"))
    assert count == 5 and not every_word and {f["value"] for f in found["place"]} == {"غزة", "مدريد"}


def test_the_chart_breaks_its_line_where_a_period_has_no_value():
    """A share is undefined in a period nothing was published: the line stops there and
    resumes after, instead of a straight stroke across periods never measured; a value
    alone between two gaps is a dot."""
    from web.charts import Line, line_chart

    svg = str(line_chart("t", ["2015", "2016", "2017", "2018", "2019", "2020"],
                         [Line("a", [0.1, 0.2, None, 0.3, None, 0.4]), Line("b", [1, 2, 3, 4, 5, 6])],
                         True, ["2015", "2017", "2020"]))
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 2  # a: [2015-2016], dots 2018 and 2020
