"""Names the corpus uses: frequent two- and three-word sequences that a statistical test
says are units, not chance neighbours (candidates for the entity gazetteer).

    .venv/bin/python bench/collocations.py --out /tmp/candidates.tsv [--min-count 30] [--top 3000]

Words are normalized (search.arabic.normalize); a sequence may not start or end with a
function word, nor hold digits or punctuation between its words. The test is Dunning's
log-likelihood ratio G² (Dunning 1993) on the 2×2 table of the sequence's first part and
last word, in the counts of the whole corpus: how much more often they occur together than
their separate frequencies predict. G² is robust for rare events, unlike PMI, which
favours rare pairs, and chi-square, which overstates them. Kept: sequences seen at least
``--min-count`` times, the ``--top`` highest G², each with its most frequent written form.
The list is for review (search/data/entities/ holds what a reviewer accepted, with its
kind); nothing here goes into the product unread.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.analysis import STOPWORDS  # noqa: E402
from search.arabic import is_arabic, normalize  # noqa: E402
from search.ingest import Document, read_documents  # noqa: E402

DEFAULT_CORPUS = sorted((ROOT.parent / "shared" / "corpus").glob("*/docs.jsonl.gz"))
#: Runs of words inside a sentence (punctuation and digits end a run).
_RUN_BREAK = "،؛؟.!:()[]«»\"'\n-–—/"


def runs(text: str):
    """Runs of consecutive Arabic words (as written) between punctuation marks."""
    run: list[str] = []
    for token in text.split():
        word = token.strip(_RUN_BREAK)
        plain = normalize(word)
        if not (plain and plain.isalpha() and is_arabic(plain)):
            if run:
                yield run
            run = []
            continue
        if token[0] in _RUN_BREAK and run:  # punctuation before it: a new run
            yield run
            run = []
        run.append(word)
        if token[-1] in _RUN_BREAK:  # punctuation after it: the run ends
            yield run
            run = []
    if run:
        yield run


def g2(both: int, first: int, second: int, total: int) -> float:
    """Dunning's log-likelihood ratio of a pair seen ``both`` times, its parts ``first``
    and ``second`` times, among ``total`` pairs."""
    table = ((both, first - both), (second - both, total - first - second + both))
    rows = (first, total - first)
    cols = (second, total - second)
    score = 0.0
    for i in range(2):
        for j in range(2):
            observed = table[i][j]
            expected = rows[i] * cols[j] / total
            if observed > 0 and expected > 0:
                score += observed * math.log(observed / expected)
    return 2 * score


def mine(paths: list[Path], min_count: int, top: int) -> list[tuple]:
    unigrams: Counter = Counter()
    pairs: Counter = Counter()
    triples: Counter = Counter()
    written: dict[tuple, Counter] = {}
    for item in read_documents(paths):
        if not isinstance(item, Document):
            continue
        for run in runs(f"{item.title or ''}\n{item.body}"):
            words = [normalize(w) for w in run]
            unigrams.update(words)
            for size, counter in ((2, pairs), (3, triples)):
                for i in range(len(words) - size + 1):
                    gram = tuple(words[i:i + size])
                    if gram[0] in STOPWORDS or gram[-1] in STOPWORDS:
                        continue
                    counter[gram] += 1
                    forms = written.setdefault(gram, Counter()) if counter[gram] >= min_count // 2 else None
                    if forms is not None:
                        forms[" ".join(run[i:i + size])] += 1
    total = sum(pairs.values()) or 1
    found = []
    for gram, count in list(pairs.items()) + list(triples.items()):
        if count < min_count:
            continue
        head = gram[:-1]
        head_count = unigrams[head[0]] if len(head) == 1 else pairs.get(head, 0)
        found.append((g2(count, head_count, unigrams[gram[-1]], total), count, " ".join(gram),
                      written.get(gram, Counter({" ".join(gram): 1})).most_common(1)[0][0]))
    found.sort(reverse=True)
    return found[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, nargs="+", default=DEFAULT_CORPUS)
    parser.add_argument("--min-count", type=int, default=30)
    parser.add_argument("--top", type=int, default=3000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows = mine(args.corpus, args.min_count, args.top)
    with open(args.out, "w", encoding="utf-8") as out:
        out.write("g2\tcount\tnormalized\twritten\n")
        for score, count, gram, form in rows:
            out.write(f"{score:.1f}\t{count}\t{gram}\t{form}\n")
    print(f"{len(rows)} candidates written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
