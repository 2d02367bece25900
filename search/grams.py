"""The second ranking stage: three-letter sequences of stems, compared within the top hits.

Whole-word BM25 cannot see what Arabic morphology and transliteration change inside a
word: يستخدم / استخدام / المستخدمة, جاجارين / غاغارين, تاتشر / ثاتشر. Their stems still
share most of their trigrams. So the best RERANK_WINDOW documents by BM25 are scored a
second time on the trigrams of the query's stems, with BM25 whose idf is counted *within
that window* (a trigram every candidate has says nothing about which one is best), and
GRAM_WEIGHT times that score is added to theirs. Only the window is read, so the cost
is the same whatever the size of the archive.

Each document's stems are kept in the ``stems`` column at index time (zlib-compressed,
~0.6 kB per news article), so rescoring reads a few hundred bytes per candidate and
counts trigrams with ``str.count`` instead of analysing its text again. Measured on the
dev halves of bench/relevance.py (bench/RESULTS.md): arwiki-qa nDCG@10 +0.013, its mlqa
subset +0.017, news headlines +0.008; counting each stem once per document instead was
worse (mlqa +0.004).
"""

from __future__ import annotations

import zlib
from collections import Counter
from math import log
from typing import Callable, Iterable

from search.analysis import ANALYZER, EXACT_MARK
from search.ranking import B, K1

GRAM = 3
#: Weight of the trigram score against the BM25 score (tuned on the dev halves: 0.5–1.5
#: all help, 1.0 best on both collections).
GRAM_WEIGHT = 1.0


def stem_text(text: str) -> str:
    """The stems of ``text`` that have trigrams, in order, space-separated, function words
    left out (the query side leaves them out too). Same ANALYZER as everything else."""
    return " ".join(token.text for token in ANALYZER(text, mode="query")
                    if len(token.text) >= GRAM and not token.text.startswith(EXACT_MARK))


def pack(stems: str) -> bytes:
    return zlib.compress(stems.encode("utf-8"), 1)  # (level 6: 10% smaller, twice as slow)


def unpack(data: bytes) -> str:
    return zlib.decompress(data).decode("utf-8") if data else ""


def grams(stem: str) -> tuple[str, ...]:
    """The trigrams of a stem, in order (a stem of fewer than three letters has none)."""
    return tuple(stem[i:i + GRAM] for i in range(len(stem) - GRAM + 1))


def rescore(ranked: list[tuple[float, int]], stems: Iterable[str],
            stems_of: Callable[[int], str]) -> list[tuple[float, int]]:
    """(score, docnum) pairs with GRAM_WEIGHT times their trigram BM25 added, best first.
    ``stems_of`` gives a document's :func:`stem_text` (the ``stems`` column)."""
    wanted = frozenset(g for stem in stems for g in grams(stem))
    if not wanted or not ranked:
        return ranked
    found: dict[int, dict[str, int]] = {}
    lengths: dict[int, int] = {}
    for _, docnum in ranked:
        text = stems_of(docnum)
        # A trigram cannot span the space between two stems, so counting it in the text
        # counts its occurrences in the stems (at C speed).
        found[docnum] = {gram: n for gram in wanted if (n := text.count(gram))}
        words = text.count(" ") + 1 if text else 0
        lengths[docnum] = len(text) - 3 * words + 1 if text else 0  # trigrams in all stems
    n = len(ranked)
    average = sum(lengths.values()) / n or 1.0
    df = Counter(gram for tf in found.values() for gram in tf)
    idf = {gram: log(1 + (n - k + 0.5) / (k + 0.5)) for gram, k in df.items()}
    rescored = []
    for score, docnum in ranked:
        norm = K1 * (1 - B + B * lengths[docnum] / average)
        bonus = sum(idf[gram] * tf * (K1 + 1) / (tf + norm) for gram, tf in found[docnum].items())
        rescored.append((score + GRAM_WEIGHT * bonus, docnum))
    rescored.sort(key=lambda pair: (-pair[0], pair[1]))
    return rescored
