"""The Arabic analysis chain, built once and shared by the indexer and the query side.

    ANALYZER = ArabicTokenizer() | NormalizeFilter() | QueryStopFilter() | LightStemFilter()

Tokens keep the character offsets of the *original* text (``chars=True``), so the
highlighter can mark ``القســـــام`` for a query ``القسام``.

The bulk build (search.bulk) needs the same analysis as plain data, a million tokens at a
time: :meth:`ArabicAnalyzer.token_terms` gives the terms the chain makes of one token in
index mode, from the same functions and tables; the tests check that both paths agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

from whoosh.analysis import CompositeAnalyzer, Filter, Token, Tokenizer

from search.arabic import CACHE_WORDS, load_word_list, normalize, stem

#: Arabic combining marks and tatweel: part of a word, never a word boundary
#: (Python's ``\w`` does not match them and would cut ``تشكِيل`` in two).
_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640"
#: A word is letters and marks; a number is digits with inner separators (3.5, 1,000, ٣٫٥).
TOKEN_PATTERN = re.compile(rf"(?:[^\W\d_]|[{_MARKS}])+|\d+(?:[.,\u066b\u066c]\d+)*")

#: Prefix of the second token emitted for a word whose stem differs from its
#: normalized surface form; querying it rewards exact surface matches.
EXACT_MARK = "="


STOPWORDS = load_word_list("stopwords.txt")


class ArabicTokenizer(Tokenizer):
    """Splits text into words and numbers; punctuation (« » ، ؛ ؟ " ( ) :) separates."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:  # the whole value is one token (Whoosh does this for some queries)
            matches = [(value, 0, len(value))]
        else:
            matches = ((m.group(), m.start(), m.end()) for m in TOKEN_PATTERN.finditer(value))
        for pos, (text, start, end) in enumerate(matches):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class NormalizeFilter(Filter):
    """Diacritics, tatweel, alef/yeh/teh forms, ligatures, digits, case (search.arabic.normalize)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = normalize(token.text)
            if token.text:
                yield token


class QueryStopFilter(Filter):
    """Drops function words from free-text queries only (``mode="query"``).

    The index keeps every word so that quoted phrases (analyzed with another
    mode) still match word for word.
    """

    def __call__(self, tokens):
        for token in tokens:
            if token.mode == "query" and token.text in STOPWORDS:
                continue
            yield token


class LightStemFilter(Filter):
    """Emits the light stem of each word, and at the same position the exact form
    (``=`` + normalized surface) when it differs, so one field serves both."""

    def __call__(self, tokens):
        for token in tokens:
            surface = token.text
            token.text = stem(surface)
            yield token
            if token.text != surface:
                token.text = EXACT_MARK + surface
                yield token


@lru_cache(maxsize=CACHE_WORDS)
def token_terms(token: str) -> tuple[str, ...]:
    """The index terms the chain makes of one token (a TOKEN_PATTERN match) in index mode,
    at its position: none (nothing left after normalization), its stem, or its stem then
    its exact form."""
    surface = normalize(token)
    if not surface:
        return ()
    root = stem(surface)
    return (root,) if root == surface else (root, EXACT_MARK + surface)


class ArabicAnalyzer(CompositeAnalyzer):
    """The chain, and the same analysis one token at a time (:func:`token_terms`) for
    bulk indexing and for finding a query's words in a text to highlight."""

    token_terms = staticmethod(token_terms)


ANALYZER = ArabicAnalyzer(ArabicTokenizer(), NormalizeFilter(), QueryStopFilter(), LightStemFilter())
