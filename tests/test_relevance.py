"""Ranking-quality regression guard on a slice of arwiki-qa (../shared/data).

The full benchmark is bench/relevance.py (figures in bench/RESULTS.md). This
runs the first 150 queries of each half against the whole 1,981-passage corpus,
through the same pipeline, and fails if quality drops below floors set a little
under what the tuned product measures on this slice (nDCG@10 0.854, MRR@10 0.828,
R@100 0.963, mlqa nDCG@10 0.725; before the trigram stage and typo tolerance 0.840 /
0.812 / 0.963; the untuned foundation ranking scored about 0.78 nDCG@10).
"""

from bench.relevance import evaluate
from tests.conftest import shared_path

FLOORS = {"nDCG@10": 0.835, "MRR@10": 0.805, "R@100": 0.94}
#: The hardest subset (questions translated from English) has a floor of its own.
MLQA_FLOOR = 0.70


def test_ranking_quality_stays_above_the_floor():
    collection = shared_path("data", "arwiki-qa")
    report = evaluate(collection, {"title", "text"}, ["all"], sample=150)
    overall = report["results"]["all"]["overall"]
    assert overall["n"] == 300
    for metric, floor in FLOORS.items():
        assert overall[metric] >= floor, f"{metric} {overall[metric]:.3f} fell below {floor} ({overall})"
    mlqa = report["results"]["all"]["mlqa"]["nDCG@10"]
    assert mlqa >= MLQA_FLOOR, f"mlqa nDCG@10 {mlqa:.3f} fell below {MLQA_FLOOR}"
