"""Snippets that mark the original surface words of the stored text.

The stored text is re-analyzed token by token with the shared ANALYZER, keeping each
token's offsets in the original string: for the query ``القسام`` the mark covers
``القســـــام`` exactly as the article wrote it. Everything outside
the marks is HTML-escaped; ``<mark>`` is the only markup that comes out.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

from search.analysis import ANALYZER, TOKEN_PATTERN

SNIPPET_CHARS = 260
CONTEXT_BEFORE = 50


@dataclass
class Highlight:
    html: Markup
    matched: list[str]  # the surface forms that matched, in order of first appearance


class _Matcher:
    """Which tokens match one query's terms, remembered across the texts of its hits (they
    share most of their words): each distinct token is analysed once (ANALYZER, index mode)."""

    def __init__(self, terms: frozenset[str], prefixes: tuple[str, ...]):
        self.terms, self.prefixes = terms, prefixes
        self.seen: set[str] = set()
        self.hits: dict[str, str] = {}  # token -> the term it matched (as shown: no exact mark)

    def hits_in(self, tokens: set[str]) -> set[str]:
        for token in tokens - self.seen:
            for term in ANALYZER.token_terms(token):
                if term in self.terms or term.startswith(self.prefixes):
                    self.hits[token] = term.lstrip("=")
                    break
        self.seen |= tokens
        return tokens & self.hits.keys()


@lru_cache(maxsize=256)
def _matcher(terms: frozenset[str], prefixes: tuple[str, ...]) -> _Matcher:
    return _Matcher(terms, prefixes)


def _spans(text: str, terms: frozenset[str], prefixes: tuple[str, ...] = ()) -> list[tuple[int, int, str]]:
    """(start, end, term) of every token of ``text`` that is one of ``terms`` or starts
    with one of ``prefixes`` (of ``word*`` queries), as the ANALYZER reads tokens in index
    mode. The distinct tokens of the text are compared (:class:`_Matcher`), then only the
    places where a matching one stands are looked at: an article is hundreds of tokens,
    a handful of which match."""
    if not (terms or prefixes):
        return []
    matcher = _matcher(terms, prefixes)
    found = matcher.hits_in(set(TOKEN_PATTERN.findall(text)))
    spans = []
    for token in found:
        at = text.find(token)
        while at >= 0:
            end = at + len(token)
            whole = TOKEN_PATTERN.match(text, at)  # (a whole token, not a piece of a longer one)
            if whole is not None and whole.end() == end and not _inside_token(text, at):
                spans.append((at, end, matcher.hits[token]))
            at = text.find(token, at + 1)
    spans.sort()
    return spans


def _inside_token(text: str, start: int) -> bool:
    """Whether the token match at ``start`` continues one that began before it."""
    if start == 0:
        return False
    before = TOKEN_PATTERN.match(text, start - 1)
    if before is not None and before.end() > start:
        return True
    return text[start - 1] in ".,\u066b\u066c" and start > 1 and text[start - 2].isdigit() and text[start].isdigit()


def _render(text: str, spans: list[tuple[int, int, str]], start: int, end: int) -> Markup:
    """``text[start:end]`` escaped, with the spans inside it marked (built as plain
    strings, every piece escaped, and made Markup once)."""
    out, cursor = [], start
    for s, e, _ in spans:
        if s < start or e > end:
            continue
        out += (html.escape(text[cursor:s], quote=True), "<mark>", html.escape(text[s:e], quote=True), "</mark>")
        cursor = e
    out.append(html.escape(text[cursor:end], quote=True))
    return Markup("".join(out))


def _best_window(spans: list[tuple[int, int, str]], width: int) -> tuple[int, int]:
    """(start, end) of the stretch of at most ``width`` chars holding the most distinct
    terms, then the most matches; ``end`` is the end of its last match."""
    best, best_key = (spans[0][0], spans[0][1]), (0, 0)
    for i, (start, _, _) in enumerate(spans):
        inside = [(e, t) for s, e, t in spans[i:] if e <= start + width] or [(spans[i][1], spans[i][2])]
        key = (len({t for _, t in inside}), len(inside))
        if key > best_key:
            best, best_key = (start, inside[-1][0]), key
    return best


def _word_boundary(text: str, pos: int, forward: bool) -> int:
    """The nearest space at or beyond ``pos`` (backwards or forwards), or the text's edge."""
    step = 1 if forward else -1
    while 0 < pos < len(text) and not text[pos].isspace():
        pos += step
    return max(0, min(pos, len(text)))


def snippet(text: str, terms: frozenset[str], prefixes: tuple[str, ...] = (),
            width: int = SNIPPET_CHARS) -> Highlight:
    """The passage of ``text`` that best shows why it matched, with marks."""
    text = " ".join(text.split())
    spans = _spans(text, terms, prefixes)
    if spans:
        first, last = _best_window(spans, width - CONTEXT_BEFORE)
        start = _word_boundary(text, first - CONTEXT_BEFORE, forward=False)
        if start <= CONTEXT_BEFORE:  # that close to the beginning: show the beginning
            start = 0
        end = _word_boundary(text, max(last, start + width), forward=True)
    else:
        start, end = 0, _word_boundary(text, width, forward=True)
    html = _render(text, spans, start, end)
    if start > 0:
        html = Markup("…") + html
    if end < len(text):
        html = html + Markup("…")
    return Highlight(html, _surface_forms(text, spans))


def lead(text: str, terms: frozenset[str], width: int = SNIPPET_CHARS, shown: int = 5) -> Highlight:
    """The beginning of ``text``, unmarked, and up to ``shown`` of the words of ``terms`` it
    uses: for "more like this", whose many query words would otherwise mark half the text."""
    text = " ".join(text.split())
    end = _word_boundary(text, width, forward=True)
    head = text[:end]
    html = escape(head) + (Markup("…") if end < len(text) else Markup(""))
    return Highlight(html, _surface_forms(head, _spans(head, terms))[:shown])


def mark_all(text: str, terms: frozenset[str], prefixes: tuple[str, ...] = ()) -> Highlight:
    """The whole text, every match marked: for titles and the article page."""
    spans = _spans(text, terms, prefixes)
    return Highlight(_render(text, spans, 0, len(text)), _surface_forms(text, spans))


def _surface_forms(text: str, spans: list[tuple[int, int, str]]) -> list[str]:
    return list(dict.fromkeys(text[s:e] for s, e, _ in spans))
