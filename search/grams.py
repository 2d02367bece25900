"""The second ranking stage: three-letter sequences of stems, compared within the top hits.

Whole-word BM25 cannot see what Arabic morphology and transliteration change inside a
word: يستخدم / استخدام / المستخدمة, جاجارين / غاغارين, تاتشر / ثاتشر. Their stems still
share most of their trigrams. So the best RERANK_WINDOW documents by BM25 are scored a
second time on the trigrams of the query's stems, with BM25 whose idf is counted *within
that window* (a trigram every candidate has says nothing about which one is best), and
GRAM_WEIGHT times that score is added to theirs. Only the window is read, so the cost
is the same whatever the size of the archive.

Each document's stems are kept at index time as a multiset (the ``stems`` column:
search.codec.StemsColumn, numbers into the segment's table of stems, with counts). The
trigrams of every stem of the archive's vocabulary are indexed once per index state
(:class:`GramIndex`), so rescoring is array work over the pairs of the 100 candidates:
which of their stems contain which query trigram, how often, weighted by the stem's
count. The counts are the ones ``str.count`` would give on the text of the document's
stems (trigrams never span two stems). Measured on the dev halves of bench/relevance.py
(bench/RESULTS.md): arwiki-qa nDCG@10 +0.013, its mlqa subset +0.017, news headlines
+0.008; counting each stem once per document instead was worse (mlqa +0.004).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from search.analysis import ANALYZER, EXACT_MARK
from search.ranking import bm25_idf, length_norm, saturation

GRAM = 3
#: Weight of the trigram score against the BM25 score (tuned on the dev halves: 0.5–1.5
#: all help, 1.0 best on both collections).
GRAM_WEIGHT = 1.0


def stem_text(text: str) -> str:
    """The stems of ``text`` that have trigrams, in order, space-separated, function words
    left out (the query side leaves them out too). Same ANALYZER as everything else."""
    return " ".join(token.text for token in ANALYZER(text, mode="query")
                    if len(token.text) >= GRAM and not token.text.startswith(EXACT_MARK))


def grams(stem: str) -> tuple[str, ...]:
    """The trigrams of a stem, in order (a stem of fewer than three letters has none)."""
    return tuple(stem[i:i + GRAM] for i in range(len(stem) - GRAM + 1))


class GramIndex:
    """Every trigram of a vocabulary of stems: for each, the stems that contain it and
    how many times (``str.count``), and each stem's number of trigrams."""

    def __init__(self, stems: list[str]):
        self.trigrams = np.array([max(len(s) - GRAM + 1, 0) for s in stems], np.int64)
        keys: dict[str, int] = {}
        key_of, stem_of, times = [], [], []
        for number, stem in enumerate(stems):
            for gram in set(grams(stem)):
                key_of.append(keys.setdefault(gram, len(keys)))
                stem_of.append(number)
                times.append(stem.count(gram))
        key_of = np.array(key_of, np.int64)
        order = np.argsort(key_of, kind="stable")
        self._stems = np.array(stem_of, np.int64)[order]
        self._times = np.array(times, np.int64)[order]
        self._starts = np.searchsorted(key_of[order], np.arange(len(keys) + 1))
        self._keys = keys

    def containing(self, gram: str) -> tuple[np.ndarray, np.ndarray]:
        """(stems containing ``gram``, how many times each)."""
        key = self._keys.get(gram)
        if key is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        a, b = self._starts[key], self._starts[key + 1]
        return self._stems[a:b], self._times[a:b]


Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]


def rescore(ranked: list[tuple[float, int]], stems: Iterable[str], index: GramIndex, pairs: Pairs
            ) -> list[tuple[float, int]]:
    """(score, docnum) pairs with GRAM_WEIGHT times their trigram BM25 added, best first.
    ``pairs`` are their stems (search.view.IndexView.stem_pairs of their docnums, in the
    order of ``ranked``): (position in ``ranked``, stem in the ``index``'s vocabulary,
    count) arrays, grouped by document."""
    wanted = sorted(frozenset(g for stem in stems for g in grams(stem)))
    if not wanted or not ranked:
        return ranked
    n = len(ranked)
    owner, vocab, counts = pairs
    lengths = np.bincount(owner, weights=counts * index.trigrams[vocab], minlength=n)
    # Each distinct stem of the candidates: how many times it holds each wanted trigram.
    distinct, where = np.unique(vocab, return_inverse=True)
    holds = np.zeros((len(distinct), len(wanted)), np.int64)
    for column, gram in enumerate(wanted):
        with_gram, times = index.containing(gram)
        at = np.minimum(np.searchsorted(distinct, with_gram), max(len(distinct) - 1, 0))
        present = distinct[at] == with_gram if len(distinct) else np.zeros(0, bool)
        holds[at[present], column] = times[present]
    # Summed per document (the pairs come grouped by document): differences of running sums.
    running = np.zeros((len(owner) + 1, len(wanted)), np.int64)
    np.cumsum(counts[:, None] * holds[where], axis=0, out=running[1:])
    bounds = np.searchsorted(owner, np.arange(n + 1))
    tf = (running[bounds[1:]] - running[bounds[:-1]]).astype(np.float64)
    average = lengths.sum() / n or 1.0
    df = (tf > 0).sum(axis=0)
    bonus = (bm25_idf(n, df) * saturation(tf, length_norm(lengths, average)[:, None])).sum(axis=1)
    rescored = [(score + GRAM_WEIGHT * extra, docnum) for (score, docnum), extra in zip(ranked, bonus.tolist())]
    rescored.sort(key=lambda pair: (-pair[0], pair[1]))
    return rescored
