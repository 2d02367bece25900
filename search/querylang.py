"""The user's query string -> a Whoosh query, through the shared ANALYZER.

Syntax (lenient: nothing a user types is an error):
    words            ranked by relevance: articles with any of the words, those
                     with more of them first; sorted by date: articles with all
                     of them (any of them if none has all)
    "a phrase"       the words in this order (also «…» and “…”); stopwords kept
    -word, -"phrase" must not match
    a OR b, a أو b   either
    word*            words starting with ``word`` (at least two letters)
    title:word, عنوان:word, title:"a phrase"   in the title only
    source:name, مصدر:name, مصدر:"two words"   from that source (-source: excludes it)
An unbalanced quote is read as if it were closed at the end of the query; an unknown
``name:`` is an ordinary word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from whoosh import query as wq

from search.analysis import ANALYZER, EXACT_MARK, TOKEN_PATTERN
from search.arabic import normalize, other_stem

#: Fields searched, with their weights. A title match is scored on its own (BM25
#: saturates per field), so a lower weight than the body's still rewards it well;
#: tuned on the dev halves in bench/relevance.py.
FIELD_WEIGHTS = {"title": 0.6, "body": 1.0}
#: Extra weight of a word's exact (unstemmed) surface form over its stem.
EXACT_WEIGHT = 0.3
#: Weight of a spelling variant of an unknown word, relative to the word itself.
VARIANT_WEIGHT = 0.5
MAX_QUERY_CHARS = 1000
#: A year in the query (1900-2099) also matches the articles published that year, at
#: this weight of how rare that year is in the archive (search.matching): news about
#: "the 2018 elections" often does not write the year. 0: only the year's text.
YEAR_WEIGHT = 1.0
_YEAR = re.compile(r"(19|20)\d\d")

_QUOTES = {'"': '"', "«": "»", "“": "”", "„": "”"}
_OR_WORDS = {"OR", "أو", "او", "|"}
#: Field names a clause may start with, in English and Arabic.
FIELD_NAMES = {"title": "title", "عنوان": "title", "العنوان": "title",
               "source": "source", "مصدر": "source", "المصدر": "source"}
_FIELD = "|".join(sorted(FIELD_NAMES, key=len, reverse=True))
_TOKEN = re.compile(rf'(-?)(?:({_FIELD}):)?(["«“„])|(\S+)', re.IGNORECASE)
_FIELD_WORD = re.compile(rf"(-?)({_FIELD}):(.*)", re.IGNORECASE | re.DOTALL)
#: Shortest prefix (in letters) that ``word*`` expands; shorter ones are plain words.
MIN_PREFIX = 2


def fold_source(name: str) -> str:
    """A source's name as filters compare it: words only, any case, any Arabic spelling
    (``al-riyadh`` = ``Al Riyadh``; ``الجزيره`` = ``الجزيرة``)."""
    return " ".join(normalize(word) for word in TOKEN_PATTERN.findall(name)).casefold()


@dataclass
class Clause:
    text: str
    phrase: bool = False
    negated: bool = False
    field: str | None = None  # "title" or "source"; None: title and body
    prefix: bool = False


@dataclass
class ParsedQuery:
    """Groups of alternatives: all groups must match, any clause inside a group may."""

    groups: list[list[Clause]] = field(default_factory=list)

    @property
    def positive(self) -> list[list[Clause]]:
        groups = [[c for c in g if not c.negated and c.field != "source"] for g in self.groups]
        return [g for g in groups if g]

    @property
    def negative(self) -> list[Clause]:
        return [c for g in self.groups for c in g if c.negated and c.field != "source"]

    def sources(self, negated: bool = False) -> list[str]:
        """The ``source:`` filters (or exclusions) as typed."""
        return [c.text for g in self.groups for c in g if c.field == "source" and c.negated == negated]


def parse(text: str) -> ParsedQuery:
    """Split a query string into clauses (no analysis yet)."""
    clauses: list[Clause | str] = []
    pos = 0
    text = text[:MAX_QUERY_CHARS]
    while True:
        match = _TOKEN.search(text, pos)
        if not match:
            break
        if match.group(3):  # an opening quote, perhaps after a field name
            close = _QUOTES[match.group(3)]
            end = text.find(close, match.end())
            end = len(text) if end < 0 else end
            inner = text[match.end():end].strip()
            field = FIELD_NAMES[match.group(2).lower()] if match.group(2) else None
            if inner:
                clauses.append(Clause(inner, phrase=field != "source", negated=bool(match.group(1)),
                                      field=field))
            pos = end + 1
            continue
        word = match.group(4)
        pos = match.end()
        if word in _OR_WORDS:
            clauses.append("OR")
            continue
        negated = word.startswith("-") and len(word) > 1
        word = word[1:] if negated else word.lstrip("-")
        field = None
        if named := _FIELD_WORD.fullmatch(word):
            field, word = FIELD_NAMES[named.group(2).lower()], named.group(3)
        prefix = field != "source" and word.endswith("*")
        word = word.rstrip("*") if prefix else word
        if word:
            clauses.append(Clause(word, negated=negated, field=field, prefix=prefix))
    groups: list[list[Clause]] = []
    join_next = False
    for item in clauses:
        if item == "OR":
            join_next = bool(groups)
            continue
        if join_next:
            groups[-1].append(item)
        else:
            groups.append([item])
        join_next = False
    return ParsedQuery(groups)


class PublishedIn(wq.Query):
    """The articles published in ``year`` (scored from the ``day`` column: search.matching)."""

    def __init__(self, year: int, boost: float = 1.0):
        self.year = year
        self.boost = boost

    def __eq__(self, other) -> bool:
        return isinstance(other, PublishedIn) and (self.year, self.boost) == (other.year, other.boost)

    def __hash__(self) -> int:
        return hash((PublishedIn, self.year, self.boost))

    def __repr__(self) -> str:
        return f"PublishedIn({self.year}, boost={self.boost})"


@dataclass
class Word:
    """One analyzed query word: its stem and, when different, its exact form."""

    stem: str
    exact: str | None = None

    @property
    def surface(self) -> str:
        """The normalized word as written."""
        return self.exact.removeprefix(EXACT_MARK) if self.exact else self.stem

    @property
    def other(self) -> str | None:
        """Its stem on the stemmer's other path (with / without the article), if different."""
        return other_stem(self.surface)


def analyze(text: str, keep_stopwords: bool = False) -> list[Word]:
    """Words of ``text`` as the index sees them (one Word per position)."""
    words: dict[int, Word] = {}
    mode = "phrase" if keep_stopwords else "query"
    for token in ANALYZER(text, positions=True, mode=mode):
        if token.text.startswith(EXACT_MARK):
            words[token.pos].exact = token.text
        else:
            words[token.pos] = Word(token.text)
    return list(words.values())


def _weights(field: str | None) -> dict[str, float]:
    return {field: FIELD_WEIGHTS[field]} if field in FIELD_WEIGHTS else FIELD_WEIGHTS


def _word_query(word: Word, weights: dict[str, float]) -> wq.Query:
    """The word's stem and exact form; when the stemmer may have read a name two ways
    (search.arabic.other_stem), the better of that and the other reading's stem."""
    parts = [wq.Term(f, word.stem, boost=w) for f, w in weights.items()]
    if word.exact:
        parts += [wq.Term(f, word.exact, boost=w * EXACT_WEIGHT) for f, w in weights.items()]
    if word.other is None:
        return wq.Or(parts)
    return wq.DisjunctionMax([wq.Or(parts), wq.Or([wq.Term(f, word.other, boost=w) for f, w in weights.items()])])


def _words_query(words: list[Word], field: str | None = None) -> wq.Query | None:
    """One word, or the words of a phrase (quoted, or one typed word made of several tokens)."""
    weights = _weights(field)
    if not words:
        return None
    if len(words) == 1:
        return _word_query(words[0], weights)
    stems = [w.stem for w in words]
    return wq.Or([wq.Phrase(f, stems, boost=w) for f, w in weights.items()])


def prefix_of(clause: Clause) -> str | None:
    """The normalized prefix of a ``word*`` clause (not stemmed: it is a part of a word),
    or None when it is too short to expand or is more than one word."""
    words = [normalize(w) for w in TOKEN_PATTERN.findall(clause.text)]
    if len(words) != 1 or len(words[0]) < MIN_PREFIX:
        return None
    return words[0]


def _prefix_query(prefix: str, field: str | None) -> wq.Query:
    """Index terms starting with ``prefix``: stems, and exact forms (which keep clitics)."""
    return wq.Or([wq.Prefix(f, text, boost=w) for f, w in _weights(field).items()
                  for text in (prefix, EXACT_MARK + prefix)])


@dataclass
class CompiledQuery:
    """One user query as Whoosh queries: one per query word (a group: the word's stem and
    exact form in every field, or a phrase, or OR-ed alternatives) and the exclusions."""

    groups: list[wq.Query] = field(default_factory=list)  # all must match for "every word"
    negatives: list[wq.Query] = field(default_factory=list)  # none may match
    terms: frozenset[str] = frozenset()  # the index terms to highlight
    stems: tuple[str, ...] = ()  # stems of the words searched for (search.grams rescores with them)
    prefixes: tuple[str, ...] = ()  # ... and the prefixes of the terms to highlight
    #: Single words as typed, with their analysis (for spelling suggestions)
    words: list[tuple[str, Word]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # source: filters, as typed
    excluded_sources: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to search for: browse the whole index (minus any exclusions)."""
        return not self.groups

    def _without_negatives(self, q: wq.Query) -> wq.Query:
        return wq.AndNot(q, wq.Or(self.negatives)) if self.negatives else q

    @property
    def strict(self) -> wq.Query | None:
        """Every word (one Whoosh query; the engine matches groups itself, this is for
        inspection and for callers that want Whoosh to run it)."""
        if not self.groups:
            return self._without_negatives(wq.Every()) if self.negatives else None
        return self._without_negatives(self.groups[0] if len(self.groups) == 1 else wq.And(self.groups))

    @property
    def loose(self) -> wq.Query | None:
        """Any word (None when that equals ``strict``)."""
        return self._without_negatives(wq.Or(self.groups)) if len(self.groups) > 1 else None


def _clause_words(clause: Clause, keep_stopwords: bool) -> list[Word]:
    # A "word" the user typed may hold several tokens (covid-19): they form a phrase.
    return analyze(clause.text, keep_stopwords=keep_stopwords or clause.phrase)


def _varied_query(word: Word, variants: list[Word], field: str | None) -> wq.Query:
    """A word, or its best match among the word and its spelling variants (weighted down)."""
    q = _word_query(word, _weights(field))
    if not variants:
        return q
    weaker = {f: w * VARIANT_WEIGHT for f, w in _weights(field).items()}
    return wq.DisjunctionMax([q] + [_word_query(v, weaker) for v in variants])


def compile_query(text: str, variants: Callable[[Word], list[Word]] | None = None) -> CompiledQuery:
    """``variants``: spelling variants of a query word that the index has never seen
    (search.vocabulary.spelling_variants, bound to an index); they match at VARIANT_WEIGHT."""
    parsed = parse(text)
    positive = parsed.positive
    prefixes = {id(c): p for g in positive for c in g if c.prefix and (p := prefix_of(c))}
    words_of = {id(c): _clause_words(c, False) for g in positive for c in g}
    if positive and not prefixes and not any(words_of.values()):  # only stopwords: search them after all
        words_of = {id(c): _clause_words(c, True) for g in positive for c in g}
    compiled = CompiledQuery(sources=parsed.sources(), excluded_sources=parsed.sources(negated=True))
    terms: set[str] = set()
    stems: list[str] = []
    for group in positive:
        alternatives = []
        for clause in group:
            if id(clause) in prefixes:
                alternatives.append(_prefix_query(prefixes[id(clause)], clause.field))
                continue
            words = words_of[id(clause)]
            stems.extend(w.stem for w in words)
            single = len(words) == 1 and not clause.phrase
            others = variants(words[0]) if single and variants else []
            terms.update(t for w in words + others for t in (w.stem, w.exact, w.other) if t)
            if single:
                compiled.words.append((clause.text, words[0]))
                q = _varied_query(words[0], others, clause.field)
                if YEAR_WEIGHT and clause.field is None and _YEAR.fullmatch(words[0].surface):
                    q = wq.DisjunctionMax([q, PublishedIn(int(words[0].surface), YEAR_WEIGHT)])
            else:
                q = _words_query(words, clause.field)
            if q is not None:
                alternatives.append(q)
        if alternatives:
            compiled.groups.append(alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives))
    for clause in parsed.negative:
        prefix = prefix_of(clause) if clause.prefix else None
        q = (_prefix_query(prefix, clause.field) if prefix else
             _words_query(_clause_words(clause, False) or _clause_words(clause, True), clause.field))
        if q is not None:
            compiled.negatives.append(q)
    compiled.terms = frozenset(terms)
    compiled.stems = tuple(stems)
    compiled.prefixes = tuple(t for p in prefixes.values() for t in (p, EXACT_MARK + p))
    return compiled
