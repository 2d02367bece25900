"""How hits are scored: BM25 per field, then two rescoring steps over the top hits.

Like Elasticsearch's rescore: the best RERANK_WINDOW documents by BM25
(search/matching.py scores them term at a time) get a bonus for the trigrams their
stems share with the query's (search/grams.py: morphology and transliteration that
whole words miss), then are re-ordered by how many of the query's words each
contains, so an article with every word comes before one that repeats a single word
many times. Tuned on the dev half of the test collections (bench/relevance.py,
bench/RESULTS.md).
"""

from __future__ import annotations

import numpy as np
from whoosh.scoring import BM25F

#: BM25 constants (Robertson's defaults; Lucene's too).
K1 = 1.2
B = 0.75
#: How many top BM25 hits the coverage bonus may re-order.
RERANK_WINDOW = 100
#: score * (1 + COVERAGE_BONUS * covered**COVERAGE_POWER), covered = share of query words present.
COVERAGE_BONUS = 1.0
COVERAGE_POWER = 2.0


def bm25_idf(total, n):
    """BM25's idf of a term ``n`` of ``total`` documents have (numbers or arrays)."""
    return np.log(1 + (total - n + 0.5) / (n + 0.5))


def length_norm(lengths, average):
    """BM25's denominator term for documents of ``lengths`` (``K1 * (1 - B + B * l / avg)``)."""
    return K1 * (1 - B + B * lengths / average)


def saturation(tf, norm):
    """BM25's term-frequency part, ``tf * (K1 + 1) / (tf + norm)``: a term's BM25 is its
    idf times this."""
    return tf * (K1 + 1) / (tf + norm)


class Bm25(BM25F):
    """Whoosh's BM25F with the BM25 idf, ``log(1 + (N - n + 0.5) / (n + 0.5))``.

    Whoosh's default idf, ``log(N / (n + 1)) + 1``, keeps very common words
    worth at least 1, so a question's filler words outweighed its rare ones.
    """

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        return float(bm25_idf(parent.doc_count_all(), parent.doc_frequency(fieldname, text)))


WEIGHTING = Bm25(B=B, K1=K1)


def coverage_order(ranked: list[tuple[float, int]], coverage: dict[int, int],
                   groups: int) -> list[tuple[float, int]]:
    """Re-order (BM25 score, docnum) pairs, best first, by the share of the query's
    ``groups`` (words) each document holds (``coverage``): a word's stem and exact
    form, in any field, count once."""
    scored = [(score * (1 + COVERAGE_BONUS * (coverage.get(docnum, 0) / groups) ** COVERAGE_POWER), docnum)
              for score, docnum in ranked]
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return scored
