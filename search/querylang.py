"""The user's query string -> a Whoosh query, through the shared ANALYZER.

Syntax (lenient: nothing a user types is an error):
    words            ranked by relevance: articles with any of the words, those
                     with more of them first; sorted by date: articles with all
                     of them (any of them if none has all)
    "a phrase"       the words in this order (also «…» and “…”); stopwords kept
    -word, -"phrase" must not match
    a OR b, a أو b   either
An unbalanced quote is read as if it were closed at the end of the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import query as wq

from search.analysis import ANALYZER, EXACT_MARK

#: Fields searched, with their weights. A title match is scored on its own (BM25
#: saturates per field), so a lower weight than the body's still rewards it well;
#: tuned on the dev halves in bench/relevance.py.
FIELD_WEIGHTS = {"title": 0.6, "body": 1.0}
#: Extra weight of a word's exact (unstemmed) surface form over its stem.
EXACT_WEIGHT = 0.3
MAX_QUERY_CHARS = 1000

_QUOTES = {'"': '"', "«": "»", "“": "”", "„": "”"}
_OR_WORDS = {"OR", "أو", "او", "|"}
_TOKEN = re.compile(r'(-?)(["«“„])|(\S+)')


@dataclass
class Clause:
    text: str
    phrase: bool = False
    negated: bool = False


@dataclass
class ParsedQuery:
    """Groups of alternatives: all groups must match, any clause inside a group may."""

    groups: list[list[Clause]] = field(default_factory=list)

    @property
    def positive(self) -> list[list[Clause]]:
        return [[c for c in g if not c.negated] for g in self.groups if any(not c.negated for c in g)]

    @property
    def negative(self) -> list[Clause]:
        return [c for g in self.groups for c in g if c.negated]


def parse(text: str) -> ParsedQuery:
    """Split a query string into clauses (no analysis yet)."""
    clauses: list[Clause | str] = []
    pos = 0
    text = text[:MAX_QUERY_CHARS]
    while True:
        match = _TOKEN.search(text, pos)
        if not match:
            break
        if match.group(2):  # an opening quote
            close = _QUOTES[match.group(2)]
            end = text.find(close, match.end())
            end = len(text) if end < 0 else end
            inner = text[match.end():end].strip()
            if inner:
                clauses.append(Clause(inner, phrase=True, negated=bool(match.group(1))))
            pos = end + 1
            continue
        word = match.group(3)
        pos = match.end()
        if word in _OR_WORDS:
            clauses.append("OR")
        elif word.startswith("-") and len(word) > 1:
            clauses.append(Clause(word[1:], negated=True))
        else:
            clauses.append(Clause(word.lstrip("-")))
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


@dataclass
class Word:
    """One analyzed query word: its stem and, when different, its exact form."""

    stem: str
    exact: str | None = None


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


def _word_query(word: Word) -> wq.Query:
    parts = [wq.Term(f, word.stem, boost=w) for f, w in FIELD_WEIGHTS.items()]
    if word.exact:
        parts += [wq.Term(f, word.exact, boost=w * EXACT_WEIGHT) for f, w in FIELD_WEIGHTS.items()]
    return wq.Or(parts)


def _words_query(words: list[Word]) -> wq.Query | None:
    """One word, or the words of a phrase (quoted, or one typed word made of several tokens)."""
    if not words:
        return None
    if len(words) == 1:
        return _word_query(words[0])
    stems = [w.stem for w in words]
    return wq.Or([wq.Phrase(f, stems, boost=w) for f, w in FIELD_WEIGHTS.items()])


@dataclass
class CompiledQuery:
    """One user query as Whoosh queries: one per query word (a group: the word's stem and
    exact form in every field, or a phrase, or OR-ed alternatives) and the exclusions."""

    groups: list[wq.Query] = field(default_factory=list)  # all must match for "every word"
    negatives: list[wq.Query] = field(default_factory=list)  # none may match
    terms: frozenset[str] = frozenset()  # the index terms to highlight

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


def compile_query(text: str) -> CompiledQuery:
    parsed = parse(text)
    positive = parsed.positive
    words_of = {id(c): _clause_words(c, False) for g in positive for c in g}
    if positive and not any(words_of.values()):  # only stopwords: search for them after all
        words_of = {id(c): _clause_words(c, True) for g in positive for c in g}
    groups = []
    terms: set[str] = set()
    for group in positive:
        alternatives = []
        for clause in group:
            words = words_of[id(clause)]
            terms.update(t for w in words for t in (w.stem, w.exact) if t)
            q = _words_query(words)
            if q is not None:
                alternatives.append(q)
        if alternatives:
            groups.append(alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives))
    negatives = [q for c in parsed.negative
                 if (q := _words_query(_clause_words(c, False) or _clause_words(c, True)))]
    return CompiledQuery(groups, negatives, frozenset(terms))
