"""Benchmarks (run as scripts; see the README). Shared helpers live here."""

from __future__ import annotations

import statistics


def percentiles(values: list[float], digits: int = 2) -> dict[str, float]:
    """Median, p95, p99 (nearest rank) and maximum of ``values``, rounded."""
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]
    return {"p50": round(statistics.median(ordered), digits), "p95": round(rank(95), digits),
            "p99": round(rank(99), digits), "max": round(ordered[-1], digits)}
