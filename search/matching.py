"""Which documents match a compiled query, and their BM25 scores, as array operations.

A query is one Whoosh query per word (a group: the word's stem and exact form in title
and body, its spelling variants, a phrase, a prefix); each is evaluated over postings
read as arrays (search.view): a term's BM25 contribution for all its documents is one
vector expression, a sum of terms a scatter-add, a dis_max an elementwise maximum, a
phrase an intersection of shifted positions. The scores are the ones Whoosh's own
matchers give (same BM25 formula, idf, length norms and boosts; tests compare them
document by document); only the way of computing them changed.

Results are sparse: sorted document numbers with their scores, so a rare word costs
what its postings cost, whatever the size of the archive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from whoosh import query as wq

from search.codec import run_indices
from search.errors import QueryTimeout
from search.querylang import PublishedIn
from search.ranking import bm25_idf, saturation
from search.view import IndexView

#: Seconds one search may take before it is abandoned (see :class:`Deadline`).
DEFAULT_TIME_LIMIT = 5.0
_EMPTY = np.zeros(0, np.int64)
_NONE = np.zeros(0, np.float64)
#: Above this many postings per document in the index, sums go through a dense array
#: (a scatter-add over all documents) instead of sorting the postings.
DENSE_SHARE = 1 / 16
_SHIFT = np.int64(1 << 32)  # key of a position: document * 2**32 + position


class Deadline:
    """A per-search time limit that works in any thread (Whoosh's own TimeLimitCollector
    relies on SIGALRM, which only the main thread receives); checked between steps."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise QueryTimeout(f"the search took longer than {self.seconds:g} s and was stopped; "
                               "try fewer or rarer words, or filter by source or date")


@dataclass
class Scores:
    """Sorted document numbers and their scores."""

    docs: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.docs)


EMPTY = Scores(_EMPTY, _NONE)


def _combine(parts: list[Scores], size: int, best: bool = False) -> Scores:
    """The sum (or, with ``best``, the maximum) of each document's scores in ``parts``."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    total = sum(len(p) for p in parts)
    if total > size * DENSE_SHARE:
        acc = np.zeros(size, np.float64)
        seen = np.zeros(size, bool)
        for part in parts:  # documents are unique within a part: no collisions
            if best:
                acc[part.docs] = np.maximum(acc[part.docs], part.values)
            else:
                acc[part.docs] += part.values
            seen[part.docs] = True
        docs = np.flatnonzero(seen)
        return Scores(docs, acc[docs])
    docs = np.concatenate([p.docs for p in parts])
    values = np.concatenate([p.values for p in parts])
    order = np.argsort(docs, kind="stable")
    docs, values = docs[order], values[order]
    heads = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
    reduce = np.maximum.reduceat if best else np.add.reduceat
    return Scores(docs[heads], reduce(values, heads))


def term_scores(view: IndexView, term: wq.Term) -> Scores:
    """BM25 of one term for every live document that has it."""
    docs, tfs = view.postings(term.fieldname, term.text)
    if not len(docs):
        return EMPTY
    idf = view.idf(term.fieldname, term.text)
    return Scores(docs, term.boost * idf * saturation(tfs, view.norms(term.fieldname)[docs]))


def phrase_scores(view: IndexView, phrase: wq.Phrase) -> Scores:
    """Documents with the words in this order, scored as Whoosh scores a phrase: the
    phrase's boost times the sum of each word's BM25 in that document."""
    field = phrase.fieldname
    parts = [view.positions(field, word) for word in phrase.words]
    if not parts or any(not len(docs) for docs, *_ in parts):
        return EMPTY
    candidates = parts[0][0]
    for docs, *_ in parts[1:]:
        candidates = np.intersect1d(candidates, docs, assume_unique=True)
    if not len(candidates):
        return EMPTY
    common = None
    for shift, (docs, tfs, positions, ends) in enumerate(parts):
        chosen = np.searchsorted(docs, candidates)  # the postings of the candidates
        counts = tfs[chosen]
        run = np.repeat(np.arange(len(chosen)), counts)
        keys = candidates[run] * _SHIFT + (positions[run_indices(ends[chosen], counts)] - shift + len(parts))
        common = keys if common is None else np.intersect1d(common, keys)
    matched = np.unique(common // _SHIFT)
    total = np.zeros(len(matched))
    for word, (docs, tfs, *_) in zip(phrase.words, parts):
        tf = tfs[np.searchsorted(docs, matched)]
        total += view.idf(field, word) * saturation(tf, view.norms(field)[matched])
    return Scores(matched, phrase.boost * total)


def published_in(view: IndexView, q: PublishedIn) -> Scores:
    """The live articles published in a year, each scored its boost times the year's
    BM25 idf over publication dates (a year few articles are from says more)."""
    day = view.day()
    docs = np.flatnonzero((day // 10000 == q.year) & view.live)
    if not len(docs):
        return EMPTY
    return Scores(docs, np.full(len(docs), q.boost * bm25_idf(view.count, len(docs))))


def query_scores(view: IndexView, q: wq.Query, deadline: Deadline) -> Scores:
    """Every live document matching one group (or part of one), with its score: an Or
    adds its parts' scores, a DisjunctionMax and a Prefix keep each document's best
    alternative (so a document is not rewarded for holding many words that share a
    prefix, or several spellings of one word)."""
    deadline.check()
    if isinstance(q, wq.Term):
        return term_scores(view, q)
    if isinstance(q, wq.Phrase):
        return phrase_scores(view, q)
    if isinstance(q, PublishedIn):
        return published_in(view, q)
    if isinstance(q, wq.Prefix):
        terms = [wq.Term(q.fieldname, text, boost=q.boost) for text in view.prefix_terms(q.fieldname, q.text)]
        return _combine([term_scores(view, t) for t in terms], view.size, best=True)
    if isinstance(q, wq.DisjunctionMax):
        return _combine([query_scores(view, sub, deadline) for sub in q.subqueries], view.size, best=True)
    if isinstance(q, wq.Or):
        return _combine([query_scores(view, sub, deadline) for sub in q.subqueries], view.size)
    raise TypeError(f"no array evaluation of {type(q).__name__}")


@dataclass
class Matches:
    """Who matches any word, who matches every word, and how well (arrays aligned with
    ``any_word``, which is sorted)."""

    any_word: np.ndarray
    every_word: np.ndarray  # sorted, a subset of any_word
    scores: np.ndarray  # BM25 summed over the words, per document of ``any_word``
    coverage: np.ndarray  # how many of the query's words each document of ``any_word`` holds


def match(view: IndexView, groups: list[wq.Query], negatives: list[wq.Query],
          keep: Callable[[np.ndarray], np.ndarray] | None, deadline: Deadline) -> Matches:
    """Match ``groups`` (one query per word; empty = browse everything) minus
    ``negatives``; ``keep`` maps document numbers to a mask of those the filters allow."""
    excluded = _combine([query_scores(view, n, deadline) for n in negatives], view.size).docs

    def allowed(docs: np.ndarray) -> np.ndarray:
        mask = np.ones(len(docs), bool) if keep is None else keep(docs)
        if len(excluded):
            mask &= ~np.isin(docs, excluded, assume_unique=True)
        return mask

    if not groups:
        everything = np.flatnonzero(view.live)
        everything = everything[allowed(everything)]
        return Matches(everything, everything, np.zeros(len(everything)), np.zeros(len(everything), np.int64))
    per_group = [query_scores(view, group, deadline) for group in groups]
    deadline.check()
    totals = _combine(per_group, view.size)
    coverage = _combine([Scores(g.docs, np.ones(len(g))) for g in per_group], view.size)
    mask = allowed(totals.docs)
    docs, scores, covered = totals.docs[mask], totals.values[mask], coverage.values[mask].astype(np.int64)
    return Matches(docs, docs[covered == len(groups)], scores, covered)
