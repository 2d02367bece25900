"""Cleaning raw article text before analysis: characters first, then page furniture.

The cleaned text is what is stored, shown and highlighted; the analyzer only
ever sees it, never the raw bytes. Furniture rules describe *kinds* of lines
(clock-stamped link lists, lines with no Arabic in them, a kicker above a
headline), never a particular site.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from search.arabic import normalize

# --- characters ------------------------------------------------------------

#: Zero-width, bidi-control and soft-hyphen characters: invisible, never part of a word.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
#: No-break and typographic spaces.
_ODD_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\v\f]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85]")
_SPACES = re.compile(" {2,}")
_BLANK_LINES = re.compile("\n{3,}")


def clean_text(raw: str) -> str:
    """NFKC, no invisible or control characters, plain spaces, unescaped entities, tidy lines."""
    text = _LINE_BREAKS.sub("\n", raw)
    if "&" in text:
        text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _ODD_SPACES.sub(" ", text)
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text))
    lines = (line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# --- page structure ----------------------------------------------------------

_ARABIC = re.compile("[\u0621-\u064a]")
#: A sidebar/ticker entry: a clock time glued to or followed by a short headline.
_CLOCK_LINE = re.compile(r"^\d{1,2}:\d{2}(?!\d{2})")
_SENTENCE_END = re.compile(r"[.!?؟…]\s*$")

#: Furniture thresholds.
MAX_FURNITURE_WORDS = 6  # a line with no Arabic and at most this many words (Menu, file names)
MIN_TICKER_RUN = 3  # clock-stamped lines this many in a row form a link list
MAX_TICKER_WORDS = 30
MAX_HEADER_WORDS = 20  # longer lines are paragraphs
MIN_HEADLINE_WORDS = 3
MAX_HEADER_LINES = 6

#: Words that mark a byline as a news outlet rather than a dateline (غزة - …).
OUTLET_WORDS = ("نيوز", "وكاله", "قناه", "صحيفه", "موقع", "شبكه", "اذاعه", "راديو", "تلفزيون", "news")
#: Byline labels that come before an outlet name: خاص صدى نيوز -
BYLINE_LABELS = ("خاص", "حصري", "عاجل", "متابعه", "تقرير")
_BYLINE = re.compile(r"^(?P<name>[^\s\-–—:،.][^\-–—:،.\n]{1,40}?)\s*[-–—]\s*")
MAX_BYLINE_WORDS = 5
MAX_OUTLET_LINE_WORDS = 3  # a header line this short may be the outlet's name


@dataclass
class Page:
    """A cleaned article: its body for display and indexing, and what the text itself says."""

    body: str
    title: str | None = None
    source: str | None = None


def _words(line: str) -> int:
    return len(line.split())


def _is_furniture(line: str) -> bool:
    """A line with no Arabic letter and few words: menu labels, file names, share buttons."""
    return not _ARABIC.search(line) and _words(line) <= MAX_FURNITURE_WORDS


def _drop_furniture(lines: list[str]) -> tuple[list[str], bool]:
    """Remove furniture lines and runs of clock-stamped link lines; report whether any went."""
    ticker = [bool(_CLOCK_LINE.match(l)) and _words(l) <= MAX_TICKER_WORDS for l in lines]
    keep = [True] * len(lines)
    i = 0
    while i < len(lines):
        if ticker[i]:
            j = i
            while j < len(lines) and ticker[j]:
                j += 1
            if j - i >= MIN_TICKER_RUN:
                keep[i:j] = [False] * (j - i)
            i = j
        else:
            i += 1
    for i, line in enumerate(lines):
        if line and _is_furniture(line):
            keep[i] = False
    kept = [l for l, k in zip(lines, keep) if k]
    return kept, len(kept) != len(lines)


def _same(a: str, b: str) -> bool:
    return " ".join(map(normalize, a.split())) == " ".join(map(normalize, b.split()))


def _is_outlet_name(name: str, known_source: str | None) -> bool:
    if known_source and _same(name, known_source):
        return True
    folded = " ".join(normalize(w) for w in name.split())
    return any(word in folded.split() for word in OUTLET_WORDS)


def detect_byline(paragraph: str, known_source: str | None = None) -> str | None:
    """The outlet named by a byline opening the lead (``صدى نيوز -``), if any."""
    match = _BYLINE.match(paragraph)
    if not match:
        return None
    words = match.group("name").split()
    if words and normalize(words[0].replace("ـ", "")) in BYLINE_LABELS:
        words = words[1:]
    name = " ".join(w.replace("ـ", "") for w in words)
    if not name or len(words) > MAX_BYLINE_WORDS or not _is_outlet_name(name, known_source):
        return None
    return name


def lead_title(paragraph: str, max_chars: int = 110) -> str:
    """A title made from the lead's first sentence, clipped at a clause or word boundary."""
    match = _BYLINE.match(paragraph)
    if match and detect_byline(paragraph):
        paragraph = paragraph[match.end():]
    sentence = re.split(r"(?<=[.!?؟])\s", paragraph, maxsplit=1)[0].strip()
    if len(sentence) <= max_chars:
        return sentence.rstrip(".")
    clause_end = sentence.rfind("،", 0, max_chars)
    if clause_end >= max_chars // 2:
        return sentence[:clause_end].strip() + "…"
    return sentence[: sentence.rfind(" ", 0, max_chars)].strip(" ،,") + "…"


def _header_zone(lines: list[str]) -> list[int]:
    """Indices of the short header lines (kicker, headline, outlet) before the first paragraph."""
    header = []
    for i, line in enumerate(lines):
        if not line:
            continue
        if _words(line) > MAX_HEADER_WORDS or _SENTENCE_END.search(line):
            return header if len(header) <= MAX_HEADER_LINES else []
        header.append(i)
    return []  # no paragraph after it: the whole text is short lines, not a page header


def parse_page(text: str, title: str | None = None, source: str | None = None) -> Page:
    """Split cleaned text into body, title and source, dropping page furniture.

    ``title`` and ``source`` are what the metadata already knows; the text fills
    in what is missing, and header lines repeating them are removed from the body.
    """
    lines, had_furniture = _drop_furniture(text.split("\n"))
    header = _header_zone(lines)
    headline = None
    drop = set()
    for i in header:
        line = lines[i]
        short = _words(line) <= MAX_OUTLET_LINE_WORDS
        if (source and _same(line, source)) or (not source and short and _is_outlet_name(line, None)):
            source = source or line
            drop.add(i)
        elif headline is None and (
            (title and _same(line, title)) or (not title and _words(line) >= MIN_HEADLINE_WORDS)
        ):
            headline = i
    if headline is not None:
        # Above the headline of a scraped page stand kickers and tags; the headline is the title.
        drop.update(i for i in header if i <= headline and (had_furniture or i == headline))
        title = title or lines[headline]
        below = next((i for i in header if i > headline), None)
        if had_furniture and below is not None and _words(lines[below]) <= MAX_OUTLET_LINE_WORDS:
            # A short line alone under a scraped page's headline is its byline.
            source = source or lines[below]
            drop.add(below)
    body_lines = [l for i, l in enumerate(lines) if i not in drop]
    body = _BLANK_LINES.sub("\n\n", "\n".join(body_lines)).strip()
    paragraphs = [l for l in body_lines if l]
    if paragraphs and not source:
        source = detect_byline(paragraphs[0])
    if not title and paragraphs:
        title = lead_title(paragraphs[0])
    return Page(body=body, title=title or None, source=source or None)
