"""Proximity: a bonus for the top hits where consecutive query words stand together.

BM25 scores each word alone, so an article that says الحرب التجارية ranks no higher
than one that mentions حرب in one paragraph and تجارية in another; for multi-word
concepts whose words are common one by one (الحرب التجارية، سوء التغذية، الانتخابات
الرئاسية) the second is usually off topic. Like the sequential dependence model, each
pair of consecutive query words found in order within WINDOW positions of each other
(a function word between them is allowed) adds, per pair, the BM25 of the pair's
occurrences as if they were one term with the rarer word's idf, times PROXIMITY_WEIGHT.
Only the best RERANK_WINDOW hits are read (their positions in the body), so the cost
does not grow with the archive beyond reading the words' positions.
"""

from __future__ import annotations

import numpy as np

from search.ranking import saturation
from search.view import IndexView

#: Weight of the pair score against the BM25 score (0: off).
PROXIMITY_WEIGHT = 0.7
#: Largest distance, in positions, between the two words of a pair (1: adjacent).
WINDOW = 2
_SHIFT = np.int64(1 << 32)


def _keys(view: IndexView, stem: str, candidates: np.ndarray) -> np.ndarray:
    """document * 2**32 + position of each body occurrence of ``stem`` in the candidates."""
    docs, tfs, positions, _ = view.positions("body", stem, within=candidates)
    return np.repeat(docs, tfs) * _SHIFT + positions


def proximity(view: IndexView, ranked: list[tuple[float, int]], stems: tuple[str, ...]) -> list[tuple[float, int]]:
    """(score, docnum) pairs, best first, with the pair bonus added."""
    if PROXIMITY_WEIGHT <= 0 or len(stems) < 2 or not ranked:
        return ranked
    candidates = np.array(sorted(d for _, d in ranked), np.int64)
    keys = {stem: _keys(view, stem, candidates) for stem in dict.fromkeys(stems)}
    norms = view.norms("body")[candidates]
    bonus = np.zeros(len(candidates))
    for first, second in zip(stems, stems[1:]):
        if first == second:
            continue
        a, b = keys[first], keys[second]
        if not len(a) or not len(b):
            continue
        # (keys are sorted: the next occurrence of the second word after each of the
        # first's is one binary search away)
        following = b[np.minimum(np.searchsorted(b, a + 1), len(b) - 1)]
        found = (following > a) & (following - a <= WINDOW)
        counts = np.bincount(np.searchsorted(candidates, a[found] // _SHIFT), minlength=len(candidates))
        idf = min(view.idf("body", first), view.idf("body", second))
        bonus += idf * saturation(counts, norms)
    extra = dict(zip(candidates.tolist(), (PROXIMITY_WEIGHT * bonus).tolist()))
    rescored = [(score + extra[docnum], docnum) for score, docnum in ranked]
    rescored.sort(key=lambda pair: (-pair[0], pair[1]))
    return rescored
