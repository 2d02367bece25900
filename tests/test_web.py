"""The real Flask app over the real seed index: JSON API and the HTML page."""

import pytest

from search.indexer import build_index


def api(client, **params):
    return client.get("/api/search", query_string=params)


def test_api_search_shape(client):
    response = api(client, q="القسام")
    assert response.status_code == 200
    data = response.get_json()
    assert list(data)[:6] == ["query", "total", "page", "per_page", "pages", "took_ms"]
    assert data["query"] == "القسام" and data["total"] == 2 and data["page"] == 1
    assert data["per_page"] == 10 and data["took_ms"] >= 0
    hit = data["hits"][0]
    assert set(hit) >= {"id", "title", "url", "source", "date", "score", "snippet"}
    assert hit["id"] == "001_d30af9c42a70480b"
    assert "<mark>القســـــام</mark>" in hit["snippet"]
    assert {"value": "صدى نيوز", "count": 2} in data["facets"]["source"]
    assert data["facets"]["date"] == [{"value": "2023", "count": 1}, {"value": "2022", "count": 1}]


def test_api_filters_sort_and_paging(client):
    data = api(client, q="حماس", source=["صدى نيوز", "أرض كنعان"], sort="date", per_page=2, page=2).get_json()
    assert data["total"] == 3 and len(data["hits"]) == 1
    assert data["hits"][0]["source"] == "أرض كنعان"
    data = client.get("/api/search?q=حماس&source=").get_json()  # empty source = unknown
    assert data["total"] == 2 and all(h["source"] is None for h in data["hits"])
    data = api(client, q="حماس", **{"from": "2023-01-01", "to": "2023-12-31"}).get_json()
    assert [h["date"] for h in data["hits"]] == ["2023-06-04"]


@pytest.mark.parametrize("params,code", [
    ({"page": "0"}, "bad_page"), ({"page": "abc"}, "bad_page"), ({"page": "9" * 30}, "bad_page"),
    ({"per_page": "101"}, "bad_per_page"), ({"per_page": "-1"}, "bad_per_page"),
    ({"sort": "x"}, "bad_sort"), ({"from": "2022-13-45"}, "bad_date"), ({"to": "yesterday"}, "bad_date"),
    ({"from": "2023-02-01", "to": "2023-01-01"}, "bad_date_range"), ({"q": "ب" * 1001}, "query_too_long"),
    ({"page": "2000", "per_page": "100"}, "page_too_deep"),
])
def test_api_bad_parameters_are_400_with_json_error(client, params, code):
    response = api(client, q=params.pop("q", "حماس"), **params)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]


@pytest.mark.parametrize("q", ['"حماس', "-", "OR أو", "\x00", "\ud7ff", "<script>", "٠١٢", "ـــ", "\u0651\u064b"])
def test_odd_queries_never_500(client, q):
    assert api(client, q=q).status_code == 200
    assert client.get("/", query_string={"q": q}).status_code == 200


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/nothing")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_missing_index_is_503_not_500(tmp_path):
    from web import create_app

    client = create_app({"INDEX_DIR": tmp_path / "none"}).test_client()
    response = client.get("/api/search?q=x")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "no_index"
    assert client.get("/?q=x").status_code == 503


def test_page_is_arabic_first(client):
    html = client.get("/", query_string={"q": "القسام"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "<mark>القســـــام</mark>" in html
    assert "صدى نيوز" in html and "22 أغسطس 2022" in html
    assert 'href="https://sadanews.ps/news/print/124377.html"' in html
    assert "المصدر" in html and "التاريخ" in html


def test_page_facet_links_filter_and_unfilter(client):
    html = client.get("/", query_string={"q": "حماس"}).get_data(as_text=True)
    assert "source=%D8%B5%D8%AF%D9%89+%D9%86%D9%8A%D9%88%D8%B2" in html  # صدى نيوز
    assert "غير معروف" in html
    filtered = client.get("/", query_string={"q": "حماس", "source": "صدى نيوز"}).get_data(as_text=True)
    assert 'class="active"' in filtered and "إزالة كل المرشحات" in filtered
    assert '<input type="hidden" name="source" value="صدى نيوز">' in filtered


def test_page_empty_state_and_fallback_notice(client):
    html = client.get("/", query_string={"q": "كورونا"}).get_data(as_text=True)
    assert "لا نتائج" in html
    html = client.get("/", query_string={"q": "بيروت كورونا"}).get_data(as_text=True)
    assert "لا توجد مقالات تضم كل كلمات البحث" in html


def test_partial_matches_are_announced_and_counted(client):
    data = api(client, q="النخالة بيروت").get_json()
    assert data["match"] == "or" and data["complete"] == 1 and data["total"] > 1
    html = client.get("/", query_string={"q": "النخالة بيروت"}).get_data(as_text=True)
    assert "1 منها تضم كل كلمات البحث" in html
    assert api(client, q="القسام").get_json()["complete"] == 2  # one word: every hit is complete


def test_a_bad_parameter_on_the_page_is_said_in_arabic_and_the_rest_still_shows(client):
    response = client.get("/", query_string={"q": "حماس", "page": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and '<bdi dir="ltr">x</bdi>' in html and "ليست عددًا صحيحًا" in html
    assert html.count('class="hit"') == 5 and 'class="facets"' in html  # page 1 of the results, the sidebar
    response = client.get("/", query_string={"q": "حماس", "from": "2022-13-45", "to": "2023-12-31"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'تاريخ البداية «<bdi dir="ltr">2022-13-45</bdi>» ليس تاريخًا صحيحًا' in html and "must be" not in html
    assert 'value="حماس"' in html and 'class="facets"' in html and 'class="hit"' in html
    assert 'name="to" value="2023-12-31"' in html  # the good half of the range still applies
    # Typed as people type dates: day first, slashes, Arabic-Indic digits.
    assert client.get("/", query_string={"q": "حماس", "from": "١/٦/٢٠٢٣"}).status_code == 200


def test_security_headers(client):
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"]


def test_user_and_document_strings_are_escaped(tmp_path):
    from web import create_app

    payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    corpus = tmp_path / "evil.jsonl"
    import json
    corpus.write_text(json.dumps({
        "id": "evil", "source": payload, "date": "2020-01-01", "title": f"حماس {payload}",
        "url": "javascript:alert(3)", "category": None, "text": f"حماس في غزة {payload} نهاية"},
        ensure_ascii=False) + "\n", "utf-8")
    build_index([corpus], tmp_path / "ix")
    client = create_app({"INDEX_DIR": tmp_path / "ix"}).test_client()
    html = client.get("/", query_string={"q": f"حماس {payload}"}).get_data(as_text=True)
    assert "<script>" not in html and "<img" not in html and "javascript:" not in html
    assert "&lt;script&gt;" in html
    snippet = client.get("/api/search", query_string={"q": "حماس"}).get_json()["hits"][0]["snippet"]
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet and "<mark>" in snippet


@pytest.mark.parametrize("sort", ["relevance", "date"])
@pytest.mark.parametrize("q", ["حماس", "حماس الجهاد", ""])
def test_every_hit_respects_the_filters(client, q, sort):
    data = api(client, q=q, source="صدى نيوز", sort=sort).get_json()
    assert data["total"] == len(data["hits"]) == 2
    assert {h["source"] for h in data["hits"]} == {"صدى نيوز"}
    data = api(client, q=q, sort=sort, **{"from": "2023-01-01"}).get_json()
    assert data["total"] == len(data["hits"]) and all(h["date"] >= "2023-01-01" for h in data["hits"])


def test_query_time_limit_stops_searches_in_worker_threads(seed_index):
    """The limit is a deadline checked while walking matches, so it works off the main
    thread (Whoosh's SIGALRM limit does not) and in the real threaded server."""
    import json
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request

    from search.engine import Engine
    from search.errors import QueryTimeout
    from search.request import SearchRequest
    from tests.conftest import serving

    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(
        _raised(lambda: Engine(seed_index, time_limit=1e-9).search(SearchRequest(q="حماس")))))
    worker.start()
    worker.join()
    assert outcome == [QueryTimeout]
    assert _raised(lambda: Engine(seed_index, time_limit=5).search(SearchRequest(q="حماس"))) is None
    with serving(seed_index, QUERY_TIME_LIMIT=1e-9) as url:
        query = urllib.parse.urlencode({"q": "حماس"})
        with pytest.raises(urllib.error.HTTPError) as api_error:
            urllib.request.urlopen(f"{url}/api/search?{query}", timeout=10)
        assert api_error.value.code == 503 and api_error.value.headers["Retry-After"] == "1"
        assert json.loads(api_error.value.read())["error"]["code"] == "timeout"
        with pytest.raises(urllib.error.HTTPError) as page_error:
            urllib.request.urlopen(f"{url}/?{query}", timeout=10)
        assert page_error.value.code == 503 and "استغرق البحث" in page_error.value.read().decode()


def _raised(call):
    try:
        call()
    except Exception as error:  # the type is what the test compares
        return type(error)
    return None


def test_copies_say_whether_other_outlets_or_the_same_one_carried_the_story():
    from web.format import copies_label, others_label

    assert others_label(1, 0) == "نشر هذا الخبر مصدر آخر"
    assert others_label(3, 0) == "نشرت هذا الخبر 3 مصادر أخرى"
    assert others_label(0, 1) == "أعاد المصدر نفسه نشره مرة أخرى"
    assert others_label(0, 2) == "أعاد المصدر نفسه نشره مرتين أخريين"
    assert others_label(2, 5) == "نشر هذا الخبر مصدران آخران، وأعاد المصدر نفسه نشره 5 مرات أخرى"
    copies = [{"source": "France 24 Arabic"}, {"source": "France 24 Arabic"}]
    assert copies_label("France 24 Arabic", copies) == "أعاد المصدر نفسه نشره مرتين أخريين"


def test_counts_are_said_with_arabic_number_agreement():
    from web.format import counted

    assert [counted(n, "result") for n in (1, 2, 3, 10, 11, 99, 100, 101, 103, 111, 1000, 12345)] == [
        "نتيجة واحدة", "نتيجتان", "3 نتائج", "10 نتائج", "11 نتيجة", "99 نتيجة", "100 نتيجة", "101 نتيجة",
        "103 نتائج", "111 نتيجة", "1٬000 نتيجة", "12٬345 نتيجة"]
    assert counted(5, "story") == "5 أخبار مختلفة" and counted(40, "story") == "40 خبرًا مختلفًا"


def test_a_long_facet_shows_its_most_frequent_values_and_folds_the_rest(archive_client):
    from web.format import FACET_SHOWN

    places = archive_client.get("/api/search", query_string={"q": "", "per_page": 1}).get_json()["facets"]["place"]
    assert len(places) > FACET_SHOWN + 1  # (the archive mentions many places)
    html = archive_client.get("/", query_string={"q": ""}).get_data(as_text=True)
    section = html[html.index('class="facet-place"'):]
    section = section[:section.index("</section>")]
    visible, _, folded = section.partition('<details class="more">')
    assert visible.count("<li>") == FACET_SHOWN and f"المزيد ({len(places) - FACET_SHOWN})" in folded
    assert folded.count("<li>") == len(places) - FACET_SHOWN
    # A chosen value from the folded part stays in view, marked as chosen.
    rare = places[-1]["value"]
    html = archive_client.get("/", query_string={"q": "", "place": rare}).get_data(as_text=True)
    section = html[html.index('class="facet-place"'):]
    visible = section[:section.index("</section>")].partition('<details class="more">')[0]
    assert rare in visible and 'aria-current="true"' in visible
