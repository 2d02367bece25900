"""Pseudo-relevance feedback within the top hits (measured and kept: bench/RESULTS.md).

The words the best FEEDBACK_DOCS hits share (their stems, from the ``stems`` column),
weighted by how much of each hit they make up and how rare they are, are the topic's
other words; the best RERANK_WINDOW hits are rescored with their BM25 at
FEEDBACK_WEIGHT. Only the window is read.
"""

from __future__ import annotations

import numpy as np

from search.grams import Pairs
from search.ranking import saturation
from search.view import IndexView

FEEDBACK_DOCS = 10
FEEDBACK_TERMS = 10
#: Weight of the feedback score against the BM25 score (0: off).
FEEDBACK_WEIGHT = 1.0
#: A feedback word must be in this many of the FEEDBACK_DOCS.
MIN_DOCS = 3


def feedback(view: IndexView, ranked: list[tuple[float, int]], stems: tuple[str, ...],
             window: list[tuple[float, int]], pairs: Pairs) -> list[tuple[float, int]]:
    """(score, docnum) pairs, best first, with the feedback score added. ``pairs`` are
    the stems of the same documents (search.view.IndexView.stem_pairs) in the order of
    ``window``."""
    if FEEDBACK_WEIGHT <= 0 or len(ranked) <= FEEDBACK_DOCS:
        return ranked
    docnums = [d for _, d in window]
    owner, vocab, counts = pairs
    at = {docnum: i for i, docnum in enumerate(docnums)}
    top = np.isin(owner, [at[d] for _, d in ranked[:FEEDBACK_DOCS]])
    vocabulary = view.stem_vocabulary()
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
    idf = view.stem_idf(words[candidates])
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
    bm25 = term_idf * saturation(tf, norms[:, None])
    bonus = dict(zip(docnums, (FEEDBACK_WEIGHT * (bm25 * term_weight).sum(axis=1)).tolist()))
    rescored = [(score + bonus[docnum], docnum) for score, docnum in ranked]
    rescored.sort(key=lambda pair: (-pair[0], pair[1]))
    return rescored
