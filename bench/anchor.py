"""The issue's anchor as a TREC run, so it can be scored on the same query halves as the product.

    .venv/bin/python bench/anchor.py ../shared/data/arwiki-qa --run /tmp/anchor-arwiki.trec
    .venv/bin/python bench/relevance.py ../shared/data/arwiki-qa --peer-run /tmp/anchor-arwiki.trec

The anchor is BM25 (k1 0.9, b 0.4, Lucene's idf) over the title and text as one bag of
words, analysed by the Python re-implementation of Lucene's ArabicAnalyzer in
``../shared/peers/peerlib.py`` (imported from there, not copied). Over all arwiki-qa
queries it reproduces the issue's figures (MRR@10 0.793, nDCG@10 0.825, R@100 0.969;
tydi 0.881 / 0.899 / 0.982; mlqa 0.609 / 0.648 / 0.892). A measuring tool only.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT.parent / "shared" / "peers"

K1, B = 0.9, 0.4
DEPTH = 100


def run(collection: Path, fields: list[str], out: Path) -> int:
    """Write the top DEPTH of every query to ``out``; returns the number of queries."""
    sys.path.insert(0, str(PEERS))
    import peerlib  # noqa: PLC0415 (only where ../shared/peers exists)

    analyzer = peerlib.LuceneLikeArabicAnalyzer()
    ids, lengths = [], []
    postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for docnum, doc in enumerate(peerlib.read_jsonl(collection / "corpus.jsonl")):
        terms = [t for t in analyzer.tokens(" ".join(doc.get(f) or "" for f in fields)) if t]
        ids.append(doc["id"])
        lengths.append(len(terms))
        for term, tf in Counter(terms).items():
            postings[term].append((docnum, tf))
    total, average = len(ids), sum(lengths) / max(len(ids), 1)
    queries = peerlib.read_queries(collection / "queries.jsonl")
    with open(out, "w", encoding="utf-8") as handle:
        for qid, text in queries:
            scores: dict[int, float] = defaultdict(float)
            for term in {t for t in analyzer.tokens(text) if t}:
                found = postings.get(term, [])
                idf = math.log(1 + (total - len(found) + 0.5) / (len(found) + 0.5))
                for docnum, tf in found:
                    scores[docnum] += idf * tf / (tf + K1 * (1 - B + B * lengths[docnum] / average))
            best = heapq.nlargest(DEPTH, scores.items(), key=lambda kv: (kv[1], -kv[0]))
            for rank, (docnum, score) in enumerate(best, 1):
                handle.write(f"{qid} Q0 {ids[docnum]} {rank} {score:.4f} anchor\n")
    return len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("collection", type=Path)
    parser.add_argument("--fields", default="title,text", help="corpus fields to index (default: title,text)")
    parser.add_argument("--run", type=Path, required=True, help="where to write the TREC run")
    args = parser.parse_args()
    if not (PEERS / "peerlib.py").exists():
        parser.error(f"{PEERS} is not there: the anchor's analyzer lives in ../shared/peers")
    count = run(args.collection, args.fields.split(","), args.run)
    print(f"{count} queries -> {args.run}")


if __name__ == "__main__":
    main()
