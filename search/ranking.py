"""How hits are scored: BM25 per field, then a coverage bonus over the top hits.

Two phases, like Elasticsearch's rescore: Whoosh finds the best RERANK_WINDOW
documents by BM25 (fast, using its block-quality skipping), then those are
re-ordered by how many of the query's words each contains, so an article with
every word comes before one that repeats a single word many times. Tuned on
the dev half of the test collections (bench/relevance.py, bench/RESULTS.md).
"""

from __future__ import annotations

from math import log

from whoosh.scoring import BM25F

#: BM25 constants (Robertson's defaults; Lucene's too).
K1 = 1.2
B = 0.75
#: How many top BM25 hits the coverage bonus may re-order.
RERANK_WINDOW = 100
#: score * (1 + COVERAGE_BONUS * covered**COVERAGE_POWER), covered = share of query words present.
COVERAGE_BONUS = 1.0
COVERAGE_POWER = 2.0


class Bm25(BM25F):
    """Whoosh's BM25F with the BM25 idf, ``log(1 + (N - n + 0.5) / (n + 0.5))``.

    Whoosh's default idf, ``log(N / (n + 1)) + 1``, keeps very common words
    worth at least 1, so a question's filler words outweighed its rare ones.
    """

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        total = parent.doc_count_all()
        return log(1 + (total - n + 0.5) / (n + 0.5))


WEIGHTING = Bm25(B=B, K1=K1)


def coverage_order(hits, term_groups: dict[str, int], groups: int) -> list[tuple[float, object]]:
    """(new score, hit) for Whoosh ``hits`` searched with ``terms=True``, best first.

    ``term_groups`` maps each index term of the query to the query word it
    stands for, so a stem and an exact form of one word, in any field, count once.
    """
    scored = []
    for hit in hits:
        covered = {term_groups.get(_text(term)) for _field, term in hit.matched_terms()}
        covered.discard(None)
        share = len(covered) / groups
        scored.append((hit.score * (1 + COVERAGE_BONUS * share ** COVERAGE_POWER), hit))
    scored.sort(key=lambda pair: -pair[0])
    return scored


def _text(term) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term
