"""The analyst's view of a search: attention over time, compared, and what a result set
is about. Both count over whole result sets (search.engine.Selection), as arrays.

Attention over time: the articles each query finds (every word; search.engine.Selection
.listed) counted per day, week, month or year, and as a share of everything the selected
sources published in that period (so that a source publishing more that month does not
look more interested). The period is chosen from the span of the articles found.

What a result set is about: the words and two-word phrases that are distinctive of its
best FOREGROUND articles against the whole archive (Elasticsearch's ``significant_terms``
idea), scored by Dunning's log-likelihood ratio G² (see bench/RESULTS.md for why G² and
not JLH or chi-square), shown as the articles write them.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from pyarabic import araby
from whoosh import query as wq

from search.analysis import ANALYZER, STOPWORDS, TOKEN_PATTERN
from search.arabic import normalize
from search.engine import Engine, value_counts
from search.errors import BadRequest
from search.facets import BY_KEY, ENTITY_FACETS
from search.matching import Deadline, phrase_scores
from search.querylang import parse
from search.request import SearchRequest

PERIODS = ("day", "week", "month", "year")
MAX_SERIES = 4
#: The articles a result set's distinctive words are counted over (its best, by
#: relevance: the same whatever page is shown).
FOREGROUND = 200
#: A word or phrase must be in this many of the FOREGROUND articles to be listed.
MIN_FOREGROUND = 3
TERMS = 20
#: A term must be this many times more frequent among the results than in the archive
#: (its lift): G² alone also lists common words a large result set uses a little more
#: (دول، العربية، السياسي); bench/RESULTS.md measures 3, 5 and 8.
MIN_LIFT = 8
MAX_TERMS = 100
#: Two-word phrases whose archive frequency is looked up (their positions are read).
PHRASE_CANDIDATES = 40
_EPOCH = np.datetime64("1970-01-01", "D")
_BREAK = re.compile(r"[^\s\u0640]")  # anything but space (and tatweel) between two words


# --- attention over time --------------------------------------------------------------

def _ordinals(engine_view) -> np.ndarray:
    """Days since 1970-01-01 of every document (-1: no date), from the ``day`` column."""
    def build():
        day = engine_view.day()
        known = day > 0
        years, months, days = day // 10000, day // 100 % 100, day % 100
        out = np.full(len(day), -1, np.int64)
        if known.any():
            first = (years[known] - 1970) * 12 + months[known] - 1
            out[known] = (first.astype("datetime64[M]").astype("datetime64[D]") - _EPOCH).astype(np.int64) \
                + days[known] - 1
        return out
    return engine_view.shared("ordinals", build)


def _period_keys(ordinals: np.ndarray, by: str) -> np.ndarray:
    """Each day's period as an integer that sorts and steps by one period."""
    if by == "day":
        return ordinals
    if by == "week":  # weeks start on Monday (1970-01-01 was a Thursday)
        return (ordinals + 3) // 7
    dates = _EPOCH + ordinals.astype("timedelta64[D]")
    months = dates.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    return months if by == "month" else months // 12


def period_label(key: int, by: str) -> str:
    """``2018-05-14`` (a day, or a week's Monday), ``2018-05`` or ``2018``."""
    if by == "day":
        return str(_EPOCH + np.timedelta64(int(key), "D"))
    if by == "week":
        return str(_EPOCH + np.timedelta64(int(key) * 7 - 3, "D"))
    if by == "month":
        return f"{1970 + key // 12:04d}-{key % 12 + 1:02d}"
    return f"{1970 + key:04d}"


def choose_period(span_days: int) -> str:
    """Days up to 45 days, weeks up to a year, months up to six years, then years."""
    if span_days <= 45:
        return "day"
    if span_days <= 366:
        return "week"
    return "month" if span_days <= 6 * 366 else "year"


@dataclass
class Series:
    query: str
    points: list[dict] = field(default_factory=list)  # {"period", "count", "share"}

    def to_dict(self) -> dict:
        return {"query": self.query, "points": self.points}


@dataclass
class Trends:
    by: str
    series: list[Series]
    took_ms: float = 0.0
    warnings: list = field(default_factory=list)

    #: The columns of :meth:`rows` (downloads, ``bahth trends --csv``).
    COLUMNS = ("query", "period", "count", "share")

    def rows(self) -> list[dict]:
        """One row per query and period."""
        return [{"query": s.query, **point} for s in self.series for point in s.points]

    def to_dict(self) -> dict:
        return {"by": self.by, "series": [s.to_dict() for s in self.series], "took_ms": self.took_ms,
                "warnings": [w.to_dict() for w in self.warnings]}


def trends(engine: Engine, queries: list[str], request: SearchRequest, by: str | None = None) -> Trends:
    """The articles each query finds per period, and their share of all the articles
    the same filters (and the query's own ``source:`` clauses) let through."""
    started = time.perf_counter()
    if not queries or len(queries) > MAX_SERIES:
        raise BadRequest("bad_queries", f"give 1 to {MAX_SERIES} queries",
                         f"قارن بين استعلام واحد و{MAX_SERIES} استعلامات", params=("q",))
    if by is not None and by not in PERIODS:
        raise BadRequest("bad_by", f"by must be one of: {', '.join(PERIODS)}",
                         "الفترة «{echo}» غير معروفة: يوم أو أسبوع أو شهر أو سنة", echo=by, params=("by",))
    deadline = Deadline(engine.time_limit)
    found, bases, warnings = [], [], []
    for query in queries:
        selection = engine.select(_with_query(request, query, "date"), deadline)
        found.append(selection.listed)
        bases.append(_everything_from(engine, request, query, deadline))
        warnings += selection.notices
    ordinals = _ordinals(selection.view)
    dated = [ordinals[docs][ordinals[docs] >= 0] for docs in found]
    every = np.concatenate(dated) if dated else np.zeros(0, np.int64)
    if by is None:
        by = choose_period(int(every.max() - every.min()) if len(every) else 0)
    series = []
    if len(every):
        keys = [_period_keys(d, by) for d in dated]
        first, last = min(k.min() for k in keys if len(k)), max(k.max() for k in keys if len(k))
        for query, key, base in zip(queries, keys, bases):
            counts = np.bincount(key - first, minlength=last - first + 1)
            base_keys = _period_keys(ordinals[base][ordinals[base] >= 0], by)
            in_range = (base_keys >= first) & (base_keys <= last)
            totals = np.bincount(base_keys[in_range] - first, minlength=last - first + 1)
            series.append(Series(query, [
                {"period": period_label(first + i, by), "count": int(c),
                 "share": round(c / t, 6) if t else None}
                for i, (c, t) in enumerate(zip(counts.tolist(), totals.tolist()))]))
    else:
        series = [Series(query) for query in queries]
    return Trends(by, series, round((time.perf_counter() - started) * 1000, 2), warnings)


def _with_query(request: SearchRequest, query: str, sort: str = "relevance") -> SearchRequest:
    return SearchRequest(q=query, chosen=request.chosen, date_from=request.date_from, date_to=request.date_to,
                         sort=sort)


def _everything_from(engine: Engine, request: SearchRequest, query: str, deadline: Deadline) -> np.ndarray:
    """Every article the filters let through, with the query's own ``source:`` clauses
    (the share's denominator)."""
    clauses = parse(query)
    sources = " ".join(f'{"-" if negated else ""}مصدر:"{name}"' for negated in (False, True)
                       for name in clauses.sources(negated))
    return engine.select(_with_query(request, sources, "date"), deadline).docs


# --- what a result set is about -----------------------------------------------------------

def g2(in_foreground: int, foreground: int, in_archive: int, archive: int) -> float:
    """Dunning's log-likelihood ratio that a term is more frequent in the foreground than
    in the rest of the archive (0 when it is less frequent)."""
    a, b = in_foreground, foreground - in_foreground
    c, d = max(in_archive - in_foreground, 0), max(archive - foreground - (in_archive - in_foreground), 0)
    if foreground == 0 or a / foreground <= (a + c) / max(foreground + c + d, 1):
        return 0.0
    total = a + b + c + d
    score = 0.0
    for observed, row, col in ((a, a + b, a + c), (b, a + b, b + d), (c, c + d, a + c), (d, c + d, b + d)):
        expected = row * col / total
        if observed > 0 and expected > 0:
            score += observed * math.log(observed / expected)
    return 2 * score


def jlh(in_foreground: int, foreground: int, in_archive: int, archive: int) -> float:
    """Elasticsearch's default: (fg% - bg%) * fg% / bg%."""
    fg, bg = in_foreground / max(foreground, 1), max(in_archive, 1) / max(archive, 1)
    return (fg - bg) * fg / bg if fg > bg else 0.0


def chi_square(in_foreground: int, foreground: int, in_archive: int, archive: int) -> float:
    """Pearson's chi-square of the same 2x2 table as :func:`g2`."""
    a, b = in_foreground, foreground - in_foreground
    c, d = max(in_archive - in_foreground, 0), max(archive - foreground - (in_archive - in_foreground), 0)
    total = a + b + c + d
    denominator = (a + b) * (c + d) * (a + c) * (b + d)
    if not denominator or a / max(a + b, 1) <= (a + c) / max(total, 1):
        return 0.0
    return total * (a * d - b * c) ** 2 / denominator


SCORERS = {"g2": g2, "jlh": jlh, "chi2": chi_square}


@dataclass
class Term:
    text: str  # as the articles write it
    score: float
    count: int  # of the foreground articles that use it
    query: str  # what to search to refine by it

    def to_dict(self) -> dict:
        return {"text": self.text, "score": self.score, "count": self.count}


@dataclass
class Terms:
    query: str
    foreground: int  # the articles counted over (the best FOREGROUND hits)
    archive: int  # the articles they are compared with
    scorer: str
    terms: list[Term]
    took_ms: float = 0.0
    warnings: list = field(default_factory=list)

    #: The columns of :meth:`rows` (downloads, ``bahth terms --csv``).
    COLUMNS = ("text", "score", "count")

    def rows(self) -> list[dict]:
        return [t.to_dict() for t in self.terms]

    def to_dict(self) -> dict:
        return {"query": self.query, "foreground": self.foreground, "archive": self.archive,
                "scorer": self.scorer, "terms": [t.to_dict() for t in self.terms], "took_ms": self.took_ms,
                "warnings": [w.to_dict() for w in self.warnings]}


def mentions(engine: Engine, request: SearchRequest) -> tuple[int, bool, dict[str, list[dict]]]:
    """Who and where the coverage of ``request`` mentions: the places, people and
    organizations of the articles with every word of the query (the set :func:`terms`
    draws from), or of every match when none has them all; with the number of those
    articles and whether they are the ones with every word."""
    selection = engine.select(_with_query(request, request.q))
    docs = selection.listed
    found = {}
    for key in ENTITY_FACETS:
        counts = value_counts(selection.view, BY_KEY[key].column, docs, multi=True)
        found[key] = [{"value": value, "count": count}
                      for value, count in sorted(counts, key=lambda kv: (-kv[1], kv[0] or ""))]
    return len(docs), selection.kind != "all" and len(selection.every_word) > 0, found


def terms(engine: Engine, request: SearchRequest, limit: int = TERMS, scorer: str = "g2") -> Terms:
    """The words and two-word phrases most distinctive of the result set of ``request``."""
    started = time.perf_counter()
    if scorer not in SCORERS:
        raise BadRequest("bad_scorer", f"scorer must be one of: {', '.join(SCORERS)}",
                         "طريقة القياس «{echo}» غير معروفة", echo=scorer, params=("scorer",))
    if not 1 <= limit <= MAX_TERMS:
        raise BadRequest("bad_limit", f"limit must be between 1 and {MAX_TERMS}",
                         f"عدد الكلمات بين 1 و{MAX_TERMS}", params=("limit",))
    deadline = Deadline(engine.time_limit)
    selection = engine.select(_with_query(request, request.q), deadline)
    view = selection.view
    # (what the query is about is in the articles with all of its words, when there are some)
    selection = dataclasses.replace(selection, docs=selection.listed)
    docnums = [d for _, d in engine.ranked(selection, FOREGROUND)] if not selection.compiled.empty else \
        selection.docs[-FOREGROUND:].tolist()
    size, archive = len(docnums), view.count
    asked = set(selection.compiled.stems) | {normalize(w) for w in TOKEN_PATTERN.findall(request.q)}
    words, phrases, written = _foreground_counts(view, docnums, deadline)
    score = SCORERS[scorer]
    # (a small archive cannot show a lift of MIN_LIFT: no term is more than archive/size
    # times as frequent among the results; ask for half that)
    lift = min(MIN_LIFT, archive / max(size, 1) / 2)
    found: list[Term] = []
    for stem, count in words.items():
        if count >= MIN_FOREGROUND and stem not in asked:
            frequency = view.doc_frequency("body", stem)
            if count * archive < lift * size * frequency:
                continue
            found.append(Term(written[stem].most_common(1)[0][0], score(count, size, frequency, archive), count, ""))
    candidates = sorted(((c, p) for p, c in phrases.items() if c >= MIN_FOREGROUND and not set(p) & asked),
                        reverse=True)[:PHRASE_CANDIDATES]
    for count, pair in candidates:
        deadline.check()
        text = written[pair].most_common(1)[0][0]
        frequency = _phrase_frequency(view, pair)
        if count * archive < lift * size * frequency:
            continue
        found.append(Term(text, score(count, size, frequency, archive), count, ""))
    found = _without_repeats(sorted((t for t in found if t.score > 0), key=lambda t: (-t.score, t.text)))
    out = []
    for term in found[:limit]:
        term.score = round(term.score, 2)
        term.query = f'"{term.text}"' if " " in term.text else term.text
        out.append(term)
    return Terms(request.q, size, archive, scorer, out, round((time.perf_counter() - started) * 1000, 2),
                 selection.notices)


#: A word is not listed beside a listed phrase that holds it in this share of its articles
#: or more (الطائرات is said by الطائرات الورقية).
SUBSUMED = 0.8


def _without_repeats(ranked: list[Term]) -> list[Term]:
    """The terms, best first, less the words a listed phrase already says, and the phrases
    that only extend a better phrase into the same articles (الطائرات الورقية، الورقية
    الحارقة: one of them)."""
    phrases = [t for t in ranked if " " in t.text]
    out = []
    for term in ranked:
        words = term.text.split()
        if len(words) == 1:
            if any(term.text in p.text.split() and p.count >= SUBSUMED * term.count for p in phrases):
                continue
        elif any(" " in kept.text and kept.count == term.count and set(kept.text.split()) & set(words)
                 for kept in out):
            continue
        out.append(term)
    return out


def _foreground_counts(view, docnums: list[int], deadline: Deadline):
    """In how many of the documents each stem and each pair of consecutive stems occurs
    (function words left out, as the query side leaves them out), and how they are
    written there."""
    words: Counter = Counter()
    phrases: Counter = Counter()
    written: dict = {}
    for docnum in docnums:
        deadline.check()
        stored = view.stored(docnum)
        seen_words, seen_pairs = set(), set()
        text = stored.get("body", "")  # (the archive's counts are of bodies too)
        previous = None
        end = 0
        for match in TOKEN_PATTERN.finditer(text):
            token = match.group()
            if _BREAK.search(text, end, match.start()):
                previous = None  # (a phrase does not run across punctuation)
            end = match.end()
            terms = ANALYZER.token_terms(token)
            if not terms or normalize(token) in STOPWORDS or len(terms[0]) < 3 or not terms[0].isalpha():
                previous = None  # (a phrase does not span a function word or a number)
                continue
            stem, shown = terms[0], _as_written(token)
            written.setdefault(stem, Counter())[shown] += 1
            seen_words.add(stem)
            if previous is not None:
                pair = (previous[0], stem)
                seen_pairs.add(pair)
                written.setdefault(pair, Counter())[f"{previous[1]} {shown}"] += 1
            previous = (stem, shown)
        words.update(seen_words)
        phrases.update(seen_pairs)
    return words, phrases, written


def _as_written(token: str) -> str:
    """A word as an article writes it, without diacritics or tatweel."""
    return araby.strip_tatweel(araby.strip_diacritics(token))


def _phrase_frequency(view, pair: tuple[str, str]) -> int:
    """Articles of the archive where the two stems follow each other (body)."""
    return len(phrase_scores(view, wq.Phrase("body", list(pair))))
