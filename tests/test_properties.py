"""Property-based tests (hypothesis): whatever text or parameters arrive, the analyzer,
the query parser, the highlighter and the API answer sensibly, never with a crash."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from search.analysis import ANALYZER, EXACT_MARK
from search.arabic import normalize
from search.highlight import mark_all, snippet
from search.querylang import MAX_QUERY_CHARS, analyze, compile_query
from search.request import SearchRequest
from tests.conftest import build_small_index

# Text that stresses Arabic handling: letters, hamza/alef forms, diacritics (also lone ones),
# tatweel, Arabic-Indic digits, bidi and zero-width marks, NUL, emoji, Latin, punctuation.
ARABIC_LETTERS = st.characters(min_codepoint=0x0621, max_codepoint=0x064A)
AWKWARD = st.sampled_from(list("\u064b\u064e\u0650\u0651\u0652\u0640\u200f\u200e\u202b\u202c\u200d\ufeff"
                               "\x00 \n\t\"«»-*:،؛؟٣٫أإآىةؤئ") + ["😀", "OR", "أو", "a", "1"])
ARABISH = st.lists(st.one_of(ARABIC_LETTERS, AWKWARD), max_size=60).map("".join)
ANY_TEXT = st.one_of(ARABISH, st.text(max_size=200))
WORD = st.text(ARABIC_LETTERS, min_size=2, max_size=9)

FAST = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(ANY_TEXT)
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@FAST
@given(ANY_TEXT)
def test_analyzer_tokens_point_into_the_original_text(text):
    for token in ANALYZER(text, positions=True, chars=True):
        assert token.text and not re.search(r"\s", token.text)
        assert 0 <= token.startchar < token.endchar <= len(text)
        if not token.text.startswith(EXACT_MARK):  # stems can be shorter than the surface
            assert normalize(text[token.startchar:token.endchar])


@FAST
@given(ANY_TEXT)
def test_any_query_compiles(text):
    compiled = compile_query(text[:MAX_QUERY_CHARS])
    assert compiled.empty or compiled.strict is not None  # no words: browse (minus any -exclusions)
    assert all(isinstance(term, str) and term for term in compiled.terms)


@FAST
@given(ANY_TEXT, ANY_TEXT)
def test_highlighting_only_adds_marks_and_escapes_the_rest(text, query):
    terms = compile_query(query[:MAX_QUERY_CHARS]).terms
    for marked in (snippet(text, terms).html, mark_all(text, terms).html):
        plain = str(marked).replace("<mark>", "").replace("</mark>", "")
        assert "<" not in plain and ">" not in plain.replace("&gt;", "")
        shown = html.unescape(plain).strip("…")
        assert shown in " ".join(text.split()) or shown in text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(WORD, min_size=1, max_size=12))
def test_an_indexed_text_is_found_by_searching_itself(tmp_path_factory, words):
    """Index time and query time analyze alike: any Arabic text finds its own article."""
    text = " ".join(words)
    if not analyze(text):  # all stopwords: nothing to search for
        return
    engine = build_small_index(tmp_path_factory.mktemp("prop"), [
        {"id": "self", "text": text},
        {"id": "other", "text": "نص آخر لا علاقة له"},
    ])
    result = engine.search(SearchRequest(q=text))
    assert result.hits and result.hits[0].id == "self"
    assert engine.search(SearchRequest(q=f'"{text}"')).hits[0].id == "self"


PARAM_VALUES = st.one_of(ANY_TEXT, st.integers(-10**12, 10**12).map(str),
                         st.sampled_from(["", "0", "-1", "101", "1e3", "2023-02-30", "9999-99-99",
                                          "2020-01-01", "date", "relevance", " 5 "]))


@pytest.fixture(scope="module")
def api(seed_index):
    from web import create_app
    return create_app({"INDEX_DIR": seed_index, "RATE_LIMIT": 0}).test_client()  # hundreds of requests


@settings(max_examples=300, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=ANY_TEXT, params=st.dictionaries(
    st.sampled_from(["source", "from", "to", "sort", "page", "per_page", "bogus"]), PARAM_VALUES, max_size=4))
def test_api_answers_200_or_400_never_500(api, q, params):
    for path in ("/api/search", "/"):
        response = api.get(path, query_string={"q": q, **params})
        assert response.status_code in (200, 400), (path, q, params, response.data[:300])
        if path.startswith("/api/"):
            body = response.get_json()
            assert ("hits" in body) if response.status_code == 200 else body["error"]["code"]


def test_huge_query_is_a_400_with_a_reason(api):
    response = api.get("/api/search", query_string={"q": "حماس " * 20_000})  # 100k characters
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "query_too_long"
    assert api.get("/", query_string={"q": "ب" * 100_000}).status_code == 400


GROUPS = st.lists(st.lists(st.one_of(st.integers(0, 300), st.integers(0, 2**32 - 1)), max_size=40), max_size=12)


@FAST
@given(GROUPS, st.booleans())
def test_packed_groups_unpack_to_what_was_packed(groups, escapes):
    """The postings' integer packing (search.codec): plain widths and ESCAPED groups."""
    import numpy as np

    from search.codec import ESCAPED, pack_groups, unpack

    values = np.array([v for g in groups for v in g], np.int64)
    starts = np.zeros(len(groups) + 1, np.int64)
    np.cumsum([len(g) for g in groups], out=starts[1:])
    out, offsets, widths = pack_groups(values, starts, escapes=escapes)
    data = out.tobytes()
    for g, group in enumerate(groups):
        chunk = data[offsets[g]:offsets[g + 1]]
        assert unpack(chunk, int(widths[g]), len(group)).tolist() == group
        if widths[g] == ESCAPED:  # (chosen only when smaller than the plain width)
            assert len(chunk) < len(group) * (1 if max(group) < 256 else 2 if max(group) < 65536 else 4)


def _spans_token_by_token(text, terms, prefixes=()):
    """The highlighter's spans the plain way: every token analysed where it stands."""
    from search.analysis import TOKEN_PATTERN

    spans = []
    for match in TOKEN_PATTERN.finditer(text):
        for term in ANALYZER.token_terms(match.group()):
            if term in terms or term.startswith(prefixes):
                spans.append((match.start(), match.end(), term.lstrip("=")))
                break
    return spans


NUMBERS = st.sampled_from(["2018", "3.14", "14", "٢٠١٨", "1,5", "5"])


@FAST
@given(st.lists(st.one_of(ARABISH, WORD, NUMBERS, st.sampled_from(["حماس", "وحماس", "الحماسة", "لحماس", "القســـام"])),
                max_size=30).map(" ".join),
       st.lists(st.one_of(WORD, NUMBERS, st.sampled_from(["حماس", "القسام"])), min_size=1, max_size=3).map(" ".join))
@example("العدد 3.14 و14 والرقم 214", "14")  # (a number inside a longer number is not it)
@example("كتبوحماس حماس وحماس", "حماس")  # (nor a word at the end of a longer word)
def test_the_highlighter_finds_exactly_the_tokens_that_match(text, query):
    from search.highlight import _spans

    compiled = compile_query(query)
    assert _spans(text, compiled.terms, compiled.prefixes) == _spans_token_by_token(text, compiled.terms,
                                                                                   compiled.prefixes)


@FAST
@given(GROUPS, st.booleans(), st.integers(1, 30))
def test_packing_in_chunks_writes_the_same_bytes(groups, escapes, chunk):
    """pack_groups fills its output a few groups at a time (search.codec.PACK_CHUNK values):
    any chunk size gives the bytes of one pass over everything."""
    import numpy as np

    from search import codec

    values = np.array([v for g in groups for v in g], np.int64)
    starts = np.zeros(len(groups) + 1, np.int64)
    np.cumsum([len(g) for g in groups], out=starts[1:])
    whole = codec.pack_groups(values, starts, escapes=escapes)
    kept = codec.PACK_CHUNK
    codec.PACK_CHUNK = chunk
    try:
        chunked = codec.pack_groups(values, starts, escapes=escapes)
    finally:
        codec.PACK_CHUNK = kept
    assert all(np.array_equal(a, b) for a, b in zip(whole, chunked))
