"""Pseudo-relevance feedback within the top hits (an experiment: see bench/RESULTS.md).

The words the best FEEDBACK_DOCS hits share (their stems, from the ``stems`` column),
weighted by how much of each hit they make up and how rare they are, are the topic's
other words; the best RERANK_WINDOW hits are rescored with their BM25 at
FEEDBACK_WEIGHT. Only the window is read.
"""

from __future__ import annotations

import numpy as np

from search.ranking import K1
from search.view import IndexView

FEEDBACK_DOCS = 10
FEEDBACK_TERMS = 10
#: Weight of the feedback score against the BM25 score (0: off).
FEEDBACK_WEIGHT = 1.0
#: A feedback word must be in this many of the FEEDBACK_DOCS.
MIN_DOCS = 3


def feedback(view: IndexView, ranked: list[tuple[float, int]], stems: tuple[str, ...]) -> list[tuple[float, int]]:
    if FEEDBACK_WEIGHT <= 0 or len(ranked) <= FEEDBACK_DOCS:
        return ranked
    docnums = [d for _, d in ranked]
    owner, vocab, counts = view.stem_pairs(docnums)
    vocabulary = view.stem_vocabulary()
    top = owner < FEEDBACK_DOCS
    lengths = np.bincount(owner, weights=counts, minlength=len(docnums))
    share = counts[top] / np.maximum(lengths[owner[top]], 1)
    words, where = np.unique(vocab[top], return_inverse=True)
    in_docs = np.bincount(where, minlength=len(words))
    weight = np.bincount(where, weights=share, minlength=len(words))
    asked = set(stems)
    candidates = [i for i in np.flatnonzero(in_docs >= MIN_DOCS).tolist()
                  if len(vocabulary[words[i]]) >= 3 and vocabulary[words[i]] not in asked]
    if not candidates:
        return ranked
    idf = np.array([view.idf("body", vocabulary[words[i]]) for i in candidates])
    scored = weight[candidates] * idf
    best = np.argsort(-scored)[:FEEDBACK_TERMS]
    chosen = words[np.array(candidates)[best]]
    term_weight = scored[best] / scored[best].sum()
    term_idf = idf[best]
    # BM25 of each chosen word in every hit of the window.
    hit = np.isin(vocab, chosen)
    column = np.searchsorted(np.sort(chosen), vocab[hit])
    order = np.argsort(chosen)
    tf = np.zeros((len(docnums), len(chosen)))
    np.add.at(tf, (owner[hit], order[column]), counts[hit])
    norms = view.norms("body")[np.array(docnums)]
    bm25 = term_idf * tf * (K1 + 1) / (tf + norms[:, None])
    bonus = FEEDBACK_WEIGHT * (bm25 * term_weight).sum(axis=1)
    rescored = [(score + extra, docnum) for (score, docnum), extra in zip(ranked, bonus.tolist())]
    rescored.sort(key=lambda pair: (-pair[0], pair[1]))
    return rescored
