"""The search experience of a news archive, on a real index of the archive fixture
(seed texts as stories, copies from other outlets, two years of dated briefs):
query language, did-you-mean, facets and dates, stories, article pages, similar
articles, suggestions, the Atom feed and the OpenAPI document."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from conftest import ARCHIVE_SOURCES, archive_records, build_small_index
from search.cli import main
from search.indexer import build_index
from search.request import SearchRequest
from web.openapi import openapi_document

BRIEFS = 24  # articles about "الأسواق الفلسطينية", one a month from 2021-01


def ids(result) -> list[str]:
    return [h.id for h in result.hits]


# --- query language ------------------------------------------------------------------

def test_prefix_matches_words_starting_with_it_and_marks_them(archive):
    result = archive.search(SearchRequest(q="الفلسطين*", per_page=100, collapse=False))
    assert {f"brief{n:02d}" for n in range(BRIEFS)} <= set(ids(result))
    brief = next(h for h in result.hits if h.id.startswith("brief"))
    assert "<mark>الفلسطينية</mark>" in brief.snippet
    # Too short a prefix is an ordinary word, not an expansion of half the lexicon.
    assert archive.search(SearchRequest(q="ا*")).total == 0


def test_field_clauses_in_english_and_arabic(archive):
    assert archive.search(SearchRequest(q="الأسواق")).total == BRIEFS
    assert archive.search(SearchRequest(q="عنوان:الأسواق")).total == 0  # only in bodies
    assert archive.search(SearchRequest(q="title:موجز")).total == BRIEFS
    copies = archive.search(SearchRequest(q='عنوان:"لقاء الحركتين في القاهرة"', collapse=False))
    assert sorted(ids(copies)) == ["story1-copy1", "story1-copy2"]
    by_source = archive.search(SearchRequest(q='مصدر:"صحيفة الغد" الأسواق', per_page=50))
    assert by_source.total == BRIEFS // 3 and {h.source for h in by_source.hits} == {"صحيفة الغد"}
    assert {h.source for h in archive.search(SearchRequest(q="source:al-riyadh الأسواق")).hits} == {"Al-Riyadh"}
    excluded = archive.search(SearchRequest(q="-مصدر:al-riyadh الأسواق", per_page=50))
    assert excluded.total == BRIEFS - BRIEFS // 3 and "Al-Riyadh" not in {h.source for h in excluded.hits}


@pytest.mark.parametrize("q", ['عنوان:', 'مصدر:"', 'title:"', 'foo:bar', '* -* OR', 'ال* أو', '"الأسواق'])
def test_malformed_field_and_prefix_queries_are_read_leniently(archive_client, q):
    response = archive_client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200
    assert archive_client.get("/", query_string={"q": q}).status_code == 200


# --- did you mean ---------------------------------------------------------------------

def test_did_you_mean_from_the_index_vocabulary(archive_client):
    data = archive_client.get("/api/search", query_string={"q": "الفلسطينبة"}).get_json()
    assert data["suggestion"] == "الفلسطينية"  # written as articles write it
    data = archive_client.get("/api/search", query_string={"q": "ارتفاع الاسعار الفلسطينبة"}).get_json()
    assert data["suggestion"] == "ارتفاع الاسعار الفلسطينية"  # only the unknown word changes
    assert archive_client.get("/api/search", query_string={"q": "الفلسطينية"}).get_json()["suggestion"] is None
    assert archive_client.get("/api/search", query_string={"q": "زززززز"}).get_json()["suggestion"] is None
    page = archive_client.get("/", query_string={"q": "الفلسطينبة"}).get_data(as_text=True)
    assert "هل تقصد" in page and 'href="/?q=%D8%A7%D9%84%D9%81%D9%84%D8%B3%D8%B7%D9%8A%D9%86%D9%8A%D8%A9"' in page


def test_a_word_no_article_uses_matches_its_spelling_variants(archive_client):
    def search(q):
        return archive_client.get("/api/search", query_string={"q": q, "per_page": 50}).get_json()
    typo, right = search("الفلسطينبة"), search("الفلسطينية")
    assert right["total"] > 0 and typo["total"] == right["total"]
    assert [h["id"] for h in typo["hits"]] == [h["id"] for h in right["hits"]]
    # ... ranked below what the right spelling would score, and marked as articles write it
    assert all(t["score"] < r["score"] for t, r in zip(typo["hits"], right["hits"]))
    assert [h["matched"] for h in typo["hits"]] == [h["matched"] for h in right["hits"]]
    assert "<mark>الفلسطينية</mark>" in typo["hits"][0]["snippet"] + typo["hits"][0]["title_html"]
    # Short unknown words are not widened (one edit from a four-letter word is another word).
    assert search("حماز")["total"] == 0 and search("حماس")["total"] > 0
    # Only the first five unknown words of a query are looked at (a pasted paragraph of
    # unknown words must not cost a lexicon scan each).
    noise = "ظظظظظ ضضضضض ذذذذذ ثثثثث غغغغغ"
    assert search(f"الفلسطينبة {noise}")["total"] == right["total"]
    assert search(f"{noise} الفلسطينبة")["total"] == 0


# --- facets, dates, sorting -------------------------------------------------------------

def test_category_facet_and_multi_select_sources(archive_client, client):
    data = archive_client.get("/api/search", query_string={"q": "الأسواق"}).get_json()
    assert data["facets"]["category"] == [{"value": "اقتصاد", "count": BRIEFS}]
    assert "category" not in client.get("/api/search?q=حماس").get_json()["facets"]  # seeds have none
    two = archive_client.get("/api/search", query_string={"q": "الأسواق", "source": list(ARCHIVE_SOURCES[:2]),
                                                         "per_page": 50}).get_json()
    assert two["total"] == 2 * BRIEFS // 3 and {h["source"] for h in two["hits"]} == set(ARCHIVE_SOURCES[:2])
    none = archive_client.get("/api/search", query_string={"q": "الأسواق", "category": "سياسة"}).get_json()
    assert none["total"] == 0


def test_histogram_and_presets_count_back_from_the_newest_article(archive):
    everything = archive.search(SearchRequest())
    newest = max(r["date"] for r in archive_records())
    assert everything.date_presets[1] == {"key": "week", "from": "2023-05-04", "to": newest}
    histogram = everything.histogram
    assert histogram["interval"] == "month"
    keys = [b["key"] for b in histogram["buckets"]]
    assert keys[0] == "2021-01" and keys[-1] == "2023-05" and len(keys) == 29  # gaps included
    assert sum(b["count"] for b in histogram["buckets"]) == everything.total
    march = next(b for b in histogram["buckets"] if b["key"] == "2023-03")
    assert (march["from"], march["to"]) == ("2023-03-01", "2023-03-31")
    bar = archive.search(SearchRequest(date_from=SearchRequest.from_mapping({"from": march["from"]}).date_from,
                                       date_to=SearchRequest.from_mapping({"to": march["to"]}).date_to))
    assert bar.total == march["count"] == 1
    last_year = archive.search(SearchRequest(q="الأسواق", **_range(everything.date_presets[3])))
    assert last_year.total == 7  # briefs of 2022-06 .. 2022-12 within a year of 2023-05-10


def _range(preset: dict) -> dict:
    parsed = SearchRequest.from_mapping({"from": preset["from"], "to": preset["to"]})
    return {"date_from": parsed.date_from, "date_to": parsed.date_to}


def test_sort_by_date_newest_first(archive):
    result = archive.search(SearchRequest(q="الأسواق", sort="date", per_page=5))
    assert [h.date for h in result.hits] == sorted((h.date for h in result.hits), reverse=True)
    assert result.hits[0].id == "brief23"


def test_page_shows_presets_custom_range_and_histogram(archive_client):
    html = archive_client.get("/", query_string={"q": "الأسواق"}).get_data(as_text=True)
    for text in ("آخر أسبوع", "آخر سنة", 'name="from" inputmode="numeric"', 'class="histogram"', "التصنيف",
                 "10 مايو 2023"):  # presets end at the newest article, dated for Arabic readers
        assert text in html
    assert html.count('<span class="bar h') == BRIEFS  # one a month for two years


# --- stories -----------------------------------------------------------------------

def test_copies_of_a_story_collapse_into_one_hit(archive):
    result = archive.search(SearchRequest(q="القسام"))
    head = result.hits[0]
    assert head.id == "story1" and head.others_total == 2
    assert {o["id"] for o in head.others} == {"story1-copy1", "story1-copy2"}
    assert result.total == 4 and result.stories == 2 and len(result.hits) == 2
    flat = archive.search(SearchRequest(q="القسام", collapse=False))
    assert len(flat.hits) == 4 and all(h.others_total == 0 for h in flat.hits)


def test_collapsed_paging_counts_stories(archive):
    first = archive.search(SearchRequest(q="لقاء الحركتين", per_page=2))
    second = archive.search(SearchRequest(q="لقاء الحركتين", per_page=2, page=2))
    shown = ids(first) + ids(second)
    assert len(shown) == len(set(shown)) == 4  # 5 seed stories + 2 copies: 5 stories ... 4 on two pages
    assert first.pages == -(-first.stories // 2) and first.stories == first.total - 2


def test_an_update_places_a_new_copy_in_its_story(tmp_path):
    records = archive_records()
    engine = build_small_index(tmp_path, [r for r in records if r["id"] != "story1-copy2"])
    assert engine.document("story1")["copies"][0]["id"] == "story1-copy1"
    late = tmp_path / "late.jsonl"
    copy = next(r for r in records if r["id"] == "story1-copy2")
    late.write_text(json.dumps({**copy, "text": copy["text"]}, ensure_ascii=False) + "\n", "utf-8")
    build_index([late], tmp_path / "index", update=True)
    assert {c["id"] for c in engine.document("story1")["copies"]} == {"story1-copy1", "story1-copy2"}


# --- article page, similar articles, suggestions -----------------------------------------

def test_article_page_and_document_api(archive_client):
    data = archive_client.get("/api/documents/story1", query_string={"q": "القسام"}).get_json()
    assert data["id"] == "story1" and data["url"] == "https://example.org/1"
    assert "<mark>القســـــام</mark>" in data["body_html"]
    assert {c["id"] for c in data["copies"]} == {"story1-copy1", "story1-copy2"}
    html = archive_client.get("/doc/story1", query_string={"q": "القسام"}).get_data(as_text=True)
    assert "<mark>القســـــام</mark>" in html and 'href="https://example.org/1"' in html
    assert "مقالات مشابهة" in html and "نشر هذا الخبر مصدر آخر، وأعاد المصدر نفسه نشره مرة أخرى" in html
    assert 'href="/doc/story1-copy1?q=' in html
    assert archive_client.get("/api/documents/nothing").status_code == 404
    assert archive_client.get("/doc/nothing").status_code == 404


def test_similar_articles_have_the_search_hit_shape_and_leave_out_the_story(archive_client):
    data = archive_client.get("/api/similar/story1").get_json()
    found = [h["id"] for h in data["hits"]]
    assert found and not {"story1", "story1-copy1", "story1-copy2"} & set(found)
    assert all(h["id"].startswith("story") for h in data["hits"])  # the other seed stories, not briefs
    search_hit = archive_client.get("/api/search?q=القسام").get_json()["hits"][0]
    assert set(data["hits"][0]) == set(search_hit)
    assert archive_client.get("/api/similar/nothing").status_code == 404
    assert archive_client.get("/api/similar/story1?per_page=0").status_code == 400


def test_suggest_completes_the_last_word(archive_client):
    data = archive_client.get("/api/suggest", query_string={"q": "ارتفاع الفلسط"}).get_json()
    assert data["suggestions"][0] == "ارتفاع الفلسطينية"
    assert archive_client.get("/api/suggest?q=").get_json()["suggestions"] == []
    assert archive_client.get("/api/suggest", query_string={"q": "ب" * 101}).status_code == 400


# --- feed and OpenAPI --------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"


def test_atom_feed_of_a_query_newest_first(archive_client):
    response = archive_client.get("/feed", query_string={"q": "الأسواق", "source": ARCHIVE_SOURCES[0]})
    assert response.status_code == 200 and response.content_type.startswith("application/atom+xml")
    feed = ElementTree.fromstring(response.data)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == BRIEFS // 3
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True) and feed.findtext(f"{ATOM}updated") == updated[0]
    link = entries[0].find(f"{ATOM}link[@rel='alternate']").get("href")
    assert link == "http://localhost/doc/brief21"
    assert archive_client.get("/feed?q=x&from=nope").status_code == 400


@pytest.fixture(scope="module")
def spec():
    document = openapi_document()
    Draft202012Validator.check_schema(document["components"]["schemas"]["SearchResult"])
    return document


def conforms(spec, name: str, data) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.mark.parametrize("url,name", [
    ("/api/search?q=القسام", "SearchResult"), ("/api/search", "SearchResult"),
    ("/api/search?q=الفلسطينبة", "SearchResult"), ("/api/search?q=الأسواق&sort=date&page=2", "SearchResult"),
    ("/api/search?q=القسام&collapse=false", "SearchResult"), ("/api/similar/story1", "SearchResult"),
    ("/api/documents/story1?q=القسام", "Document"), ("/api/suggest?q=الفلسط", "Suggestions"),
    ("/healthz", "Health"), ("/api/search?page=0", "Error"), ("/api/documents/none", "Error"),
])
def test_real_responses_match_the_openapi_document(archive_client, spec, url, name):
    response = archive_client.get(url)
    conforms(spec, name, response.get_json())
    path = url.split("?")[0].replace("story1", "{id}").replace("none", "{id}")
    documented = spec["paths"][path]["get"]["responses"]
    assert str(response.status_code) in documented


def test_openapi_is_served(archive_client):
    served = archive_client.get("/openapi.json").get_json()
    assert served["openapi"].startswith("3.") and "/api/similar/{id}" in served["paths"]


# --- the command line ------------------------------------------------------------------

def test_cli_search_show_and_similar(archive_index):
    runner = CliRunner()
    out = runner.invoke(main, ["search", "الفلسطينبة", "--index-dir", str(archive_index)])
    assert out.exit_code == 0 and "Did you mean: الفلسطينية" in out.output
    out = runner.invoke(main, ["search", "القسام", "--index-dir", str(archive_index)])
    assert "4 results in 2 stories" in out.output
    assert "+ 2 other copies of this story: 1 other outlet (Al-Riyadh), 1 from the same outlet" in out.output
    out = runner.invoke(main, ["search", "القسام", "--all-copies", "--index-dir", str(archive_index)])
    assert "other copies" not in out.output and "story1-copy2" in out.output
    out = runner.invoke(main, ["show", "story1", "--similar", "2", "--index-dir", str(archive_index)])
    assert out.exit_code == 0 and "Also carried by صحيفة الغد" in out.output and "Similar articles" in out.output
    data = json.loads(runner.invoke(main, ["show", "story1", "--json", "--index-dir", str(archive_index)]).output)
    assert data["id"] == "story1" and data["similar"] is None
    missing = runner.invoke(main, ["show", "nothing", "--index-dir", str(archive_index)])
    assert missing.exit_code == 1 and "no document with id 'nothing'" in missing.output


def test_similar_articles_show_their_lead_not_a_wall_of_marks(archive):
    similar = archive.similar("story1", 5)
    assert similar.hits
    for hit in similar.hits:
        body = archive.document(hit.id)["body"]
        assert "<mark>" not in hit.snippet + hit.title_html
        assert hit.snippet.rstrip("…").split()[:5] == " ".join(body.split()).split()[:5]  # the lead
        assert 0 < len(hit.matched) <= 5  # a few shared words say why it is similar
