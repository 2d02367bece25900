"""Ingest: decoding, cleaning, page furniture, metadata, records and skips."""

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from search.clean import clean_text, parse_page
from search.errors import InputError
from search.ingest import MAX_RECORD_BYTES, Document, Skip, decode, read_documents
from search.paths import SEEDS_DIR
from tests.conftest import record

SEED_004 = SEEDS_DIR / "004_ba4bac017325e1a8.txt"
ARABIC = "قال الناطق باسم حركة حماس إن العلاقة مع الجهاد الإسلامي استراتيجية."


def docs_by_id(paths):
    return {d.id: d for d in read_documents(paths) if isinstance(d, Document)}


def test_clean_text_characters():
    raw = "ﺣﻤﺎس\u200b و\u202bالجهاد\u202c\u00a0في&nbsp;غزة &amp; القدس\r\nسطر\x07ثان\ufeff"
    assert clean_text(raw) == "حماس والجهاد في غزة & القدس\nسطر ثان"


def test_seed_files_are_byte_copies_of_shared(tmp_path):
    from conftest import shared_path

    shared = shared_path("seeds")
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        assert path.read_bytes() == (shared / path.name).read_bytes()


def test_seed_metadata_is_used_and_unknowns_stay_null():
    docs = docs_by_id([SEEDS_DIR])
    assert sorted(docs) == sorted(p.stem for p in SEEDS_DIR.glob("*.txt"))
    assert docs["001_d30af9c42a70480b"].source == "صدى نيوز"
    assert docs["001_d30af9c42a70480b"].date.isoformat() == "2022-08-22"
    assert docs["003_f808f8908193cba8"].date.isoformat() == "2023-06-04"
    for unknown in ("000_281d92c1e047680d", "002_a017300901ef6bd3"):
        assert docs[unknown].source is None and docs[unknown].date is None
    assert docs["004_ba4bac017325e1a8"].source == "أرض كنعان"
    assert docs["004_ba4bac017325e1a8"].date is None


def test_page_furniture_of_seed_004_is_dropped():
    page = parse_page(clean_text(SEED_004.read_text("utf-8")))
    assert page.title == "حماس: اللقاء الأخير مع حركة الجهاد أسس لعلاقة أكثر تماسكاً"
    assert page.source == "أرض كنعان"  # the outlet line under the headline
    assert page.body.startswith("قال الناطق باسم حركة حماس")
    for furniture in ("google39ae0e62e4a5bc94", "Menu", "21:08", "كورونا", "بتسيلم", "الأونروا"):
        assert furniture not in page.body


def test_furniture_rules_are_general_not_keyed_to_one_file():
    text = "\n".join([
        "Home | News", "Login",
        "10:01 خبر أول عن الطقس", "10:05 خبر ثان عن الرياضة", "10:09 خبر ثالث عن الاقتصاد",
        "عنوان الخبر الرئيسي عن لقاء الفصائل",
        ARABIC,
    ])
    page = parse_page(clean_text(text))
    assert page.title == "عنوان الخبر الرئيسي عن لقاء الفصائل"
    assert page.body == ARABIC


def test_a_headline_naming_an_outlet_word_is_still_a_headline():
    page = parse_page(clean_text(f"قناة السويس تستقبل سفنا أكثر هذا العام\n{ARABIC}"))
    assert page.title == "قناة السويس تستقبل سفنا أكثر هذا العام" and page.source is None
    assert page.body == ARABIC


def test_clock_lines_inside_an_article_are_kept():
    text = f"{ARABIC}\n10:30 بدأ الاجتماع في القاهرة بحضور الوفود كافة وتواصل حتى المساء.\n{ARABIC}"
    assert "10:30 بدأ الاجتماع" in parse_page(clean_text(text)).body


@pytest.mark.parametrize("lead,source", [
    ("صدى نيوز- أكدت حركتا حماس والجهاد الإسلامي موقفهما.", "صدى نيوز"),
    ("خـــــاص صدى نيوز - كشف مصدر فلسطيني عن لقاء.", "صدى نيوز"),
    ("غزة - أكدت حركتا حماس والجهاد الإسلامي موقفهما.", None),  # a dateline, not an outlet
    ("أكدت حركتا حماس والجهاد الإسلامي - في بيان - موقفهما.", None),
])
def test_source_from_byline(lead, source):
    assert parse_page(clean_text(lead)).source == source


def test_title_from_the_lead_is_clipped_at_a_boundary():
    page = parse_page(clean_text((SEEDS_DIR / "000_281d92c1e047680d.txt").read_text("utf-8")))
    assert page.title.startswith("أعلنت حركة حماس والجهاد الإسلامي")
    assert page.title.endswith("…") and len(page.title) <= 111
    assert page.body.startswith("أعلنت حركة حماس")  # the lead itself stays in the body


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1256"])
def test_decoding(tmp_path, encoding):
    (tmp_path / "a.txt").write_bytes(ARABIC.encode(encoding))
    (doc,) = read_documents([tmp_path])
    assert isinstance(doc, Document) and doc.body == ARABIC


def test_undecodable_file_is_skipped_with_a_reason(tmp_path):
    (tmp_path / "bad.txt").write_bytes(bytes([0x80, 0x81, 0xff, 0x00, 0x9d]))
    (item,) = read_documents([tmp_path])
    assert isinstance(item, Skip) and "bad.txt" in item.where


def test_jsonl_records_and_skips(tmp_path):
    good = {"id": "a1", "source": "BBC Arabic", "date": "2018-02-18", "title": "عنوان",
            "url": "http://x", "category": "middleEast", "text": ARABIC}
    lines = [
        json.dumps(good, ensure_ascii=False),
        "{not json",
        json.dumps({**good, "id": "a1"}, ensure_ascii=False),  # duplicate id
        json.dumps({**good, "id": "a2", "text": "", "title": None}),  # empty
        json.dumps({**good, "id": "a3", "date": "2022-13-45"}, ensure_ascii=False),
        json.dumps({**good, "id": None}),
        "[1, 2]",
        "",
    ]
    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    items = list(read_documents([path]))
    docs = [i for i in items if isinstance(i, Document)]
    skips = {i.where.rsplit(":", 1)[1]: i.reason for i in items if isinstance(i, Skip)}
    assert [d.id for d in docs] == ["a1", "a3"]
    assert docs[0].source == "BBC Arabic" and docs[0].category == "middleEast"
    assert docs[1].date is None and "not a real calendar date" in docs[1].warnings[0]
    assert set(skips) == {"2", "3", "4", "6", "7"}
    assert "invalid JSON" in skips["2"] and "duplicate id" in skips["3"]
    assert "empty" in skips["4"] and "no id" in skips["6"]


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(read_documents([tmp_path / "missing"]))


def test_broken_metadata_file_is_an_error(tmp_path):
    (tmp_path / "a.txt").write_text(ARABIC, "utf-8")
    (tmp_path / "metadata.json").write_text("{broken", "utf-8")
    with pytest.raises(InputError, match="metadata.json"):
        list(read_documents([tmp_path]))


def test_decode_prefers_boms():
    assert decode(b"\xef\xbb\xbfabc") == ("abc", "utf-8-sig")
    assert decode("حماس".encode("utf-16"))[0] == "حماس"


# --- messy inputs: each ends indexed correctly or skipped with a reason ---------------

@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_detected(tmp_path, encoding):
    (tmp_path / "a.txt").write_bytes(ARABIC.encode(encoding))
    (doc,) = read_documents([tmp_path])
    assert isinstance(doc, Document) and doc.body == ARABIC


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("compressed", [False, True])
def test_jsonl_in_any_unicode_encoding(tmp_path, encoding, compressed):
    text = record("r1", ARABIC) + "\n" + record("r2", "نص ثان عن المقاومة") + "\n"
    path = tmp_path / ("docs.jsonl.gz" if compressed else "docs.jsonl")
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if compressed else data)
    docs = list(read_documents([path]))
    assert [(d.id, d.body) for d in docs] == [("r1", ARABIC), ("r2", "نص ثان عن المقاومة")]


def test_windows_1256_jsonl_line_among_utf8_lines(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_bytes((record("u", ARABIC) + "\n").encode("utf-8")
                     + (record("w", "بيان حركة الجهاد") + "\n").encode("cp1256"))
    assert {d.id: d.body for d in read_documents([path])} == {"u": ARABIC, "w": "بيان حركة الجهاد"}


def test_nul_bytes_are_dropped_not_indexed(tmp_path):
    (tmp_path / "a.txt").write_bytes(("حماس\x00 والجهاد").encode("utf-8"))
    (tmp_path / "b.jsonl").write_text(record("b", "بيان\\u0000 مشترك").replace("\\\\u", "\\u") + "\n", "utf-8")
    docs = docs_by_id([tmp_path])
    assert "\x00" not in docs["a"].body and docs["a"].body.startswith("حماس")
    assert "\x00" not in docs["b"].body and "بيان" in docs["b"].body


def test_raw_control_characters_inside_a_json_string_do_not_lose_the_line(tmp_path):
    """A tab or NUL typed raw (not escaped) inside a JSON string is invalid JSON by the
    letter; the article is kept and the characters cleaned, as escaped ones are."""
    path = tmp_path / "raw.jsonl"
    path.write_bytes('{"id": "t", "text": "وفد\tحماس\x00 في القاهرة"}\n'.encode("utf-8"))
    (doc,) = read_documents([path])
    assert isinstance(doc, Document) and doc.body == "وفد حماس في القاهرة"


def test_a_json_array_is_told_to_be_one_object_per_line(tmp_path):
    path = tmp_path / "array.jsonl"
    path.write_text(json.dumps([{"id": "a", "text": ARABIC}], ensure_ascii=False), "utf-8")
    (item,) = read_documents([path])
    assert isinstance(item, Skip) and "not a list" in item.reason and "one article per line" in item.reason


def test_binary_file_is_skipped_not_decoded(tmp_path):
    (tmp_path / "image.txt").write_bytes(bytes(range(256)) * 8)
    (item,) = read_documents([tmp_path])
    assert isinstance(item, Skip) and "not UTF-8" in item.reason


def test_empty_files_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "empty.jsonl").write_bytes(b"\n\n")
    reasons = {Path(i.where).name: i.reason for i in read_documents([tmp_path])}
    assert reasons == {"empty.jsonl": "empty file (no records)",
                       "empty.txt": "empty document (no text and no title)"}


def test_huge_inputs_are_skipped_and_the_rest_kept(tmp_path):
    huge = "كلمة " * (MAX_RECORD_BYTES // 8)
    (tmp_path / "huge.txt").write_text(huge, "utf-8")
    (tmp_path / "docs.jsonl").write_text(record("big", huge) + "\n" + record("ok", ARABIC) + "\n", "utf-8")
    items = list(read_documents([tmp_path]))
    skipped = {i.where: i.reason for i in items if isinstance(i, Skip)}
    assert [d.id for d in items if isinstance(d, Document)] == ["ok"]
    assert len(skipped) == 2 and all("larger than 8 MB" in r for r in skipped.values())


@pytest.mark.parametrize("date, reason", [
    ("2022-13-45", "not a real calendar date"),
    ("0001-01-01", "before 1800"),
    ("2999-01-01", "in the future"),
    ("yesterday", "not YYYY-MM-DD"),
    (20220101, "not YYYY-MM-DD"),
])
def test_bad_dates_keep_the_article_without_a_date(tmp_path, date, reason):
    path = tmp_path / "docs.jsonl"
    path.write_text(record("d", ARABIC, date=date) + "\n", "utf-8")
    (doc,) = read_documents([path])
    assert doc.date is None and reason in doc.warnings[0]


def test_a_date_with_a_time_and_today_are_kept(tmp_path):
    today = dt.date.today().isoformat()
    path = tmp_path / "docs.jsonl"
    path.write_text(record("t", ARABIC, date="2019-05-02T10:00:00Z") + "\n"
                    + record("n", ARABIC, date=today) + "\n", "utf-8")
    docs = docs_by_id([path])
    assert docs["t"].date == dt.date(2019, 5, 2) and docs["n"].date.isoformat() == today


def test_missing_optional_fields_are_null_and_wrong_types_skipped(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"id": 7, "text": ARABIC}) + "\n"
                    + json.dumps({"id": "x", "text": ["list"]}) + "\n"
                    + json.dumps({"id": "y", "title": "عنوان فقط"}, ensure_ascii=False) + "\n", "utf-8")
    items = list(read_documents([path]))
    assert items[0].id == "7" and items[0].source is None and items[0].date is None
    assert isinstance(items[1], Skip) and "text is list" in items[1].reason
    assert items[2].title == "عنوان فقط" and items[2].body == ""


def test_truncated_gzip_keeps_what_was_readable_and_says_so(tmp_path):
    data = gzip.compress("".join(record(f"r{i}", ARABIC) + "\n" for i in range(200)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    items = list(read_documents([path]))
    assert isinstance(items[-1], Skip) and "cannot read" in items[-1].reason
    assert all(isinstance(i, Document) for i in items[:-1])


def test_a_file_that_is_not_json_lines_is_summarised_not_listed_line_by_line(tmp_path):
    from search.ingest import SHOWN_BAD_LINES

    noise = tmp_path / "noise.jsonl"
    noise.write_text("".join(f"<p>صفحة {i} ليست سجلًا</p>\n" for i in range(70)), "utf-8")
    skips = [item for item in read_documents([noise]) if isinstance(item, Skip)]
    assert len(skips) == SHOWN_BAD_LINES + 1 and sum(s.count for s in skips) == 70
    assert skips[-1].where.endswith(f":{SHOWN_BAD_LINES + 1}-70")
    assert "does not look like JSON Lines" in skips[-1].reason
    # A file of good records with a few bad lines keeps one line per bad line, no verdict.
    mixed = tmp_path / "mixed.jsonl"
    lines = [json.dumps({"id": f"a{i}", "text": "خبر عن غزة"}, ensure_ascii=False) for i in range(20)]
    lines[3] = lines[9] = "{oops"
    mixed.write_text("\n".join(lines) + "\n", "utf-8")
    skips = [item for item in read_documents([mixed]) if isinstance(item, Skip)]
    assert [s.where for s in skips] == [f"{mixed}:4", f"{mixed}:10"]
