"""Ranking-quality regression guard on a slice of arwiki-qa (../shared/data).

The full benchmark is bench/relevance.py (figures in bench/RESULTS.md). This
runs the first 150 queries of each half against the whole 1,981-passage corpus,
through the same pipeline, and fails if quality drops below floors set a little
under what the tuned product measures on this slice (nDCG@10 0.840, MRR@10 0.812,
R@100 0.963; the untuned foundation ranking scored about 0.78 nDCG@10).
"""

from bench.relevance import evaluate
from tests.conftest import shared_path

FLOORS = {"nDCG@10": 0.81, "MRR@10": 0.78, "R@100": 0.94}


def test_ranking_quality_stays_above_the_floor():
    collection = shared_path("data", "arwiki-qa")
    report = evaluate(collection, {"title", "text"}, ["all"], sample=150)
    overall = report["results"]["all"]["overall"]
    assert overall["n"] == 300
    for metric, floor in FLOORS.items():
        assert overall[metric] >= floor, f"{metric} {overall[metric]:.3f} fell below {floor} ({overall})"
