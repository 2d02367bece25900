"""Which scorer lists what a result set is about best: G², JLH, chi-square, G² with a minimum lift.

    .venv/bin/python bench/scorers.py --index-dir /tmp/ix85

For the short and medium-length topics of bench/topical (on an index of the 85k corpus), the
top 20 terms of each query under each scorer, and three figures per scorer: the share of terms
found in fewer than 10 of the hits (weakly supported), the share of single words found in more
than 5% of the archive (generic), and the median number of hits a term is found in.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search import analytics  # noqa: E402
from search.analysis import ANALYZER  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.request import SearchRequest  # noqa: E402

#: label -> (scorer, minimum lift); a lift of 1 only asks the term to be more frequent
SETTINGS = {"G²": ("g2", 1), "JLH": ("jlh", 1), "chi-square": ("chi2", 1),
            "G², lift ≥ 3": ("g2", 3), "G², lift ≥ 5": ("g2", 5), "G², lift ≥ 8": ("g2", 8)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True, help="an index of the 85k corpus")
    parser.add_argument("--topics", type=Path, default=ROOT / "bench" / "topical" / "queries.jsonl")
    args = parser.parse_args(argv)
    queries = [topic["query"] for topic in map(json.loads, args.topics.read_text("utf-8").splitlines())
               if topic["kind"] != "question"]
    engine = Engine(args.index_dir)
    view = engine._view()

    def archive_share(text: str, archive: int) -> float | None:
        """The share of the archive holding a single word (None for a phrase)."""
        if " " in text:
            return None
        terms = ANALYZER.token_terms(text)
        return view.doc_frequency("body", terms[0]) / archive if terms else None

    kept = analytics.MIN_LIFT
    print(f"{len(queries)} queries; index {args.index_dir}")
    print("| scorer | terms | in fewer than 10 hits | single words in over 5% of the archive | median hits |")
    print("|---|---|---|---|---|")
    try:
        for label, (scorer, lift) in SETTINGS.items():
            analytics.MIN_LIFT = lift
            counts, weak, generic = [], 0, 0
            for q in queries:
                result = analytics.terms(engine, SearchRequest(q=q), 20, scorer)
                for term in result.terms:
                    counts.append(term.count)
                    weak += term.count < 10
                    share = archive_share(term.text, result.archive)
                    generic += share is not None and share > 0.05
            n = len(counts)
            print(f"| {label} | {n} | {weak / n:.3f} | {generic / n:.3f} | {statistics.median(counts):g} |", flush=True)
    finally:
        analytics.MIN_LIFT = kept


if __name__ == "__main__":
    main()
