"""Who and where (search.entities): the gazetteer's matching, the shipped data, and the
place/person/organization facets of a real index through the API, the page and the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conftest import build_small_index
from search.cli import main
from search.entities import Entity, Gazetteer, gazetteer, load_gazetteer, name_words, word_keys
from search.request import SearchRequest


def small_gazetteer() -> Gazetteer:
    return Gazetteer({
        "place": [(Entity("place", "غزة"), ["غزة"]), (Entity("place", "قطاع غزة"), ["قطاع غزة"]),
                  (Entity("place", "القدس"), ["القدس", "القدس الشريف"]),
                  (Entity("place", "الأمم"), ["الأمم"])],  # (claims "الأمم" first: nothing else may)
        "person": [(Entity("person", "إسماعيل هنية"), ["إسماعيل هنية", "هنية"])],
        "organization": [(Entity("organization", "الأمم المتحدة"), ["الأمم المتحدة", "الأمم"]),
                         (Entity("organization", "سرايا القدس"), ["سرايا القدس"])],
    })


def test_a_word_matches_a_name_without_the_proclitics_it_carries():
    assert "القدس" in word_keys("وبالقدس") and "القدس" in word_keys("والقدس")
    assert "الامم" in word_keys("للأمم")  # ل + ال written لل
    assert "غزه" in word_keys("بغزة") and "غزه" in word_keys("فغزة")
    assert word_keys("بن") == ("بن",)  # too short to carry anything
    assert name_words("إسماعيل هنيّة") == name_words("اسماعيل هنيه")  # normalized as the analyzer does


def test_the_longest_name_wins_and_nested_names_are_not_counted_twice():
    names = small_gazetteer().entities("قصف في قطاع غزة، وصواريخ سرايا القدس على القدس الشريف. وفي بغزة ارتفع العدد")
    assert names == {"place": ["القدس", "غزة", "قطاع غزة"], "person": [], "organization": ["سرايا القدس"]}
    # القدس inside سرايا القدس is not the city; the city is named later in its own right.
    only_brigades = small_gazetteer().entities("أعلنت سرايا القدس مسؤوليتها")
    assert only_brigades["place"] == [] and only_brigades["organization"] == ["سرايا القدس"]


def test_names_match_across_spellings_and_clitics_and_nothing_is_found_in_unrelated_text():
    found = small_gazetteer().entities("والتقى هنيّه وفد للأمم المتحدة")
    assert found["person"] == ["إسماعيل هنية"] and found["organization"] == ["الأمم المتحدة"]
    assert found["place"] == []  # (الأمم was the organization's name, claimed by the longer match)
    assert small_gazetteer().entities("ارتفعت أسعار الخضار في الأسواق") == {
        "place": [], "person": [], "organization": []}


def test_the_shipped_gazetteer_knows_the_region():
    named = gazetteer().entities("التقى رئيس المكتب السياسي لحركة حماس إسماعيل هنية في القاهرة وفدًا من "
                                 "حركة الجهاد الإسلامي، وبحثا الأوضاع في الضفة الغربية وقطاع غزة والقدس")
    assert {"القاهرة", "الضفة الغربية", "قطاع غزة", "القدس"} <= set(named["place"])
    assert "إسماعيل هنية" in named["person"]
    assert {"حماس", "الجهاد الإسلامي"} <= set(named["organization"])
    # Countries carry pycountry's Arabic names as well as the ones news uses.
    assert "مصر" in gazetteer().entities("جمهورية مصر العربية")["place"]
    assert "مصر" in gazetteer().entities("وفد مصري إلى بمصر")["place"]


def test_the_data_files_are_well_formed():
    entries = load_gazetteer()
    for kind, rows in entries.items():
        assert len(rows) > 50, kind
        canonical = [entity.name for entity, _ in rows]
        assert len(canonical) == len(set(canonical)), f"{kind}: a canonical name twice"
        for entity, names in rows:
            assert entity.name and all(name_words(n) for n in names), entity


# --- facets of a real index ------------------------------------------------------------

RECORDS = [
    {"id": "a1", "source": "وكالة", "date": "2020-01-01", "title": "هنية في القاهرة",
     "text": "وصل إسماعيل هنية إلى القاهرة على رأس وفد من حركة حماس لبحث التهدئة في قطاع غزة."},
    {"id": "a2", "source": "وكالة", "date": "2020-01-02", "title": "وفد الجهاد في القاهرة",
     "text": "وصل وفد حركة الجهاد الإسلامي إلى القاهرة وبحث مع المسؤولين المصريين أوضاع بغزة."},
    {"id": "a3", "source": "صحيفة", "date": "2020-01-03", "title": "اجتماع في بيروت",
     "text": "عقدت حماس والجهاد الإسلامي اجتماعًا في بيروت لبحث التطورات."},
    {"id": "a4", "source": "صحيفة", "date": "2020-01-04", "title": "أسعار",
     "text": "ارتفعت أسعار الخضار في الأسواق المحلية مع بداية الموسم."},
]


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    return build_small_index(tmp_path_factory.mktemp("entities"), RECORDS)


def counts(facet: list[dict]) -> dict:
    return {f["value"]: f["count"] for f in facet}


def test_facets_count_the_places_people_and_organizations_of_the_hits(named):
    result = named.search(SearchRequest(q="وفد"))
    assert result.total == 2
    assert counts(result.facets["place"])["القاهرة"] == 2
    assert counts(result.facets["organization"]) == {"حماس": 1, "الجهاد الإسلامي": 1}
    assert counts(result.facets["person"]) == {"إسماعيل هنية": 1}
    assert {"قطاع غزة", "غزة"} & set(counts(result.facets["place"]))  # بغزة, in a2


def test_an_entity_filters_like_a_source_and_counts_without_its_own_filter(named):
    in_beirut = named.search(SearchRequest.from_mapping({"place": ["بيروت"]}))
    assert [h.id for h in in_beirut.hits] == ["a3"]
    both = named.search(SearchRequest.from_mapping({"organization": ["حماس"], "place": ["القاهرة"]}))
    assert [h.id for h in both.hits] == ["a1"]
    # The place facet still lists every place of the Hamas articles, to switch between them.
    assert set(counts(both.facets["place"])) >= {"القاهرة", "بيروت"}
    either = named.search(SearchRequest.from_mapping({"organization": ["حماس", "الجهاد الإسلامي"]}))
    assert sorted(h.id for h in either.hits) == ["a1", "a2", "a3"]


def test_an_entity_filter_takes_any_name_or_spelling_and_says_when_nothing_mentions_it(named):
    assert gazetteer().canonical("person", "اسماعيل هنيه") == "إسماعيل هنية"
    assert gazetteer().canonical("organization", "حركة المقاومة الإسلامية") == "حماس"
    assert gazetteer().canonical("place", "حماس") is None  # of another kind
    by_other_name = named.search(SearchRequest.from_mapping({"organization": ["حركة حماس"]}))
    assert sorted(h.id for h in by_other_name.hits) == ["a1", "a3"] and not by_other_name.warnings
    nowhere = named.search(SearchRequest.from_mapping({"place": ["طوكيو"], "q": "وفد"}))
    assert nowhere.total == 0 and [w.code for w in nowhere.warnings] == ["unknown_place"]


def test_entity_facets_in_the_api_the_page_and_the_cli(named):
    from web import create_app

    client = create_app({"INDEX_DIR": named.index_dir, "TESTING": True, "RATE_LIMIT": 0}).test_client()
    data = client.get("/api/search?q=القاهرة&person=إسماعيل هنية").get_json()
    assert [h["id"] for h in data["hits"]] == ["a1"] and data["filters"]["person"] == ["إسماعيل هنية"]
    page = client.get("/?q=وفد").get_data(as_text=True)
    assert "الأماكن" in page and "الأشخاص" in page and "المنظمات" in page and "place=" in page
    about = client.get("/terms?q=وفد").get_data(as_text=True)
    assert "من وأين" in about and "إسماعيل هنية" in about
    out = CliRunner().invoke(main, ["search", "وفد", "--index-dir", str(named.index_dir)])
    assert out.exit_code == 0 and "Mentioned in the results" in out.output and "القاهرة (2)" in out.output
    narrowed = CliRunner().invoke(main, ["search", "وفد", "--place", "غزة", "--organization", "الجهاد الإسلامي",
                                         "--index-dir", str(named.index_dir), "--json"])
    assert narrowed.exit_code == 0 and '"a2"' in narrowed.output and '"a1"' not in narrowed.output
