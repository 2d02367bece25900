"""The Elasticsearch/OpenSearch export: mapping, bulk file and query DSL, checked on the
real archive index. No Elasticsearch runs here, so the DSL is evaluated over the exported
documents by a small interpreter of the clauses it uses (term, match_phrase, prefix,
bool, terms on keywords): it must select exactly the articles Bahth itself matches."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from search.cli import main
from search.export import query_dsl
from search.request import SearchRequest


@pytest.fixture(scope="module")
def exported(archive_index, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    result = CliRunner().invoke(main, ["export", str(out), "--index-dir", str(archive_index), "--index-name", "news"])
    assert result.exit_code == 0, result.output
    lines = (out / "bulk.ndjson").read_text("utf-8").splitlines()
    actions, records = lines[0::2], [json.loads(line) for line in lines[1::2]]
    return json.loads((out / "mapping.json").read_text("utf-8")), [json.loads(a) for a in actions], records


def test_bulk_file_and_mapping_agree(exported, archive):
    mapping, actions, records = exported
    assert len(records) == archive.doc_count()
    assert all(a["index"]["_index"] == "news" and a["index"]["_id"] == r["id"] for a, r in zip(actions, records))
    properties = mapping["mappings"]["properties"]
    assert mapping["mappings"]["dynamic"] == "strict"
    assert all(set(r) <= set(properties) for r in records)  # strict mapping accepts every record
    analyzers = mapping["settings"]["analysis"]["analyzer"]
    used = {p.get(k) for p in properties.values() for k in ("analyzer", "search_analyzer")} - {None}
    used |= {f["analyzer"] for p in properties.values() for f in p.get("fields", {}).values()}
    assert used <= set(analyzers)
    for record in records:  # one stem and one surface form per position
        for field in ("title", "body"):
            assert len(record[f"{field}_stems"].split()) == len(record[f"{field}_exact"].split())
    story1 = next(r for r in records if r["id"] == "story1")
    assert "قسام" in story1["body_stems"].split() and "القسام" in story1["body_exact"].split()
    assert story1["story"] == "story1" and story1["date"] == "2023-02-10"
    assert {"حماس", "الجهاد الإسلامي"} <= set(story1["organization"]) and "قطاع غزة" in story1["place"]


def _matches(clause: dict, record: dict) -> bool:
    kind, body = next(iter(clause.items()))
    if kind == "match_all":
        return True
    if kind == "range":  # on the publication date
        day = record.get("date") or ""
        return bool(day) and body["date"]["gte"] <= day <= body["date"]["lte"]
    if kind == "dis_max":
        return any(_matches(c, record) for c in body["queries"])
    if kind == "bool":
        should = body.get("should", [])
        return (all(_matches(c, record) for c in body.get("filter", []))
                and not any(_matches(c, record) for c in body.get("must_not", []))
                and (not should or sum(_matches(c, record) for c in should) >= body.get("minimum_should_match", 1)))
    field, spec = next(iter(body.items()))
    if field == "source_folded":  # a keyword: the whole value
        return record.get(field) == spec["value"]
    tokens = (record.get(field) or "").split()
    if kind == "term":
        return spec["value"] in tokens
    if kind == "prefix":
        return any(t.startswith(spec["value"]) for t in tokens)
    if kind == "match_phrase":
        words = spec["query"].split()
        return any(tokens[i:i + len(words)] == words for i in range(len(tokens) - len(words) + 1))
    raise AssertionError(f"unexpected clause {kind}")


@pytest.mark.parametrize("q", ["القسام", "حماس الجهاد", '"لقاء الحركتين"', "الأسواق -الصادرات",
                               "الفلسطين*", "عنوان:موجز", "القاهرة أو بيروت", "مصدر:al-riyadh الأسواق",
                               "-مصدر:\"صحيفه الغد\" الأسواق", "مصدر:riyadh الأسواق", "",
                               "الباسلة وحماس",  # (names read two ways: dis_max)
                               "الأسواق 2022", "2021"])  # (a year: its text, or published then)
def test_query_dsl_selects_what_bahth_matches(exported, archive, q):
    _, _, records = exported
    selected = {r["id"] for r in records if _matches(query_dsl(q), r)}
    ours = archive.search(SearchRequest(q=q, per_page=100, collapse=False))
    assert selected == {h.id for h in ours.hits} and len(selected) == ours.total


def test_query_dsl_command_prints_the_query():
    out = CliRunner().invoke(main, ["query-dsl", "القسام -فتح"])
    query = json.loads(out.output)["query"]["bool"]
    assert query["must_not"] and query["should"][0]["bool"]["should"][0]["term"]["title_stems"]["value"] == "قسام"
