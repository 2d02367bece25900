"""How well stories group copies of one report: precision and recall on real news.

    .venv/bin/python bench/stories.py --index-dir /tmp/ix85            # grouping of a built index
    .venv/bin/python bench/stories.py --planted 500                     # planted copies and look-alikes

On a built index (any version: only the stored fields and the ``story`` column are read):
- precision: of the pairs of articles that share a story (every pair of each story, a
  sample of 300 pairs in a story of over 25 articles), the share whose exact Jaccard
  similarity of word 3-shingles is at least THRESHOLD (the same story), at least 0.3,
  and the share whose titles share no word (the issue's symptom of unrelated merges);
- recall of identical copies: of the pairs of articles with the same normalized text
  published within MAX_DAYS_APART days of each other, the share in one story.

With ``--planted N``: N real articles of the corpus (with at least 60 words) each get a
lightly edited rewrite (another lead sentence, one short sentence dropped, one word in
twenty replaced) published 1-3 days later by another outlet, and two look-alikes that must not
join them: the same words shuffled (same vocabulary, no shared phrasing) and the same
first and last 12 words around another article's body (shared boilerplate). They are
indexed among 4,000 other articles of the corpus with the product's own indexer;
reported: rewrites joined to their original, look-alikes wrongly joined.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import itertools
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.analysis import STOPWORDS, TOKEN_PATTERN  # noqa: E402
from search.arabic import normalize  # noqa: E402
from search.generations import live_generation  # noqa: E402
from search.indexer import build_index  # noqa: E402
from search.stories import MAX_DAYS_APART, THRESHOLD, fingerprint, jaccard  # noqa: E402

DEFAULT_CORPUS = sorted((ROOT.parent / "shared" / "corpus").glob("*/docs.jsonl.gz"))
PAIRS_PER_BIG_STORY = 300
BIG_STORY = 25
BOILERPLATE = 12  # words of a look-alike's shared opening, and of its shared ending
_SENTENCE = re.compile(r"(?<=[.!؟?])\s+|\n+")


def indexed_articles(index_dir: Path) -> list[dict]:
    """id, title, body, date and story of every live article, read with Whoosh directly."""
    from whoosh import index as whoosh_index

    generation = live_generation(index_dir)
    if generation is None:
        raise SystemExit(f"no index in {index_dir}")
    out = []
    with whoosh_index.open_dir(str(generation)).searcher() as searcher:
        for docnum, stored in searcher.iter_docs():
            date = stored.get("date")
            out.append({"id": stored["id"], "title": stored.get("title") or "", "body": stored.get("body", ""),
                        "day": date.date().toordinal() if date else None, "story": stored.get("story")})
    return out


def title_words(title: str) -> set[str]:
    return {w for w in map(normalize, TOKEN_PATTERN.findall(title)) if w not in STOPWORDS and len(w) > 1}


def grouped_pairs(articles: list[dict], rng: random.Random) -> list[tuple[int, int]]:
    by_story: dict[str, list[int]] = defaultdict(list)
    for number, article in enumerate(articles):
        by_story[article["story"] or article["id"]].append(number)
    pairs = []
    for members in by_story.values():
        if len(members) < 2:
            continue
        every = list(itertools.combinations(members, 2))
        pairs += rng.sample(every, PAIRS_PER_BIG_STORY) if len(members) > BIG_STORY else every
    return pairs


def within_window(a: dict, b: dict) -> bool:
    return a["day"] is None or b["day"] is None or abs(a["day"] - b["day"]) <= MAX_DAYS_APART


def measure_index(index_dir: Path, seed: int) -> dict:
    started = time.perf_counter()
    articles = indexed_articles(index_dir)
    prints = [fingerprint(a["body"]) for a in articles]
    pairs = grouped_pairs(articles, random.Random(seed))
    similarities = [jaccard(prints[i].shingles, prints[j].shingles) for i, j in pairs]
    no_title_word = sum(1 for i, j in pairs if articles[i]["title"] and articles[j]["title"]
                        and not title_words(articles[i]["title"]) & title_words(articles[j]["title"]))
    by_text: dict[bytes, list[int]] = defaultdict(list)
    for number, fp in enumerate(prints):
        if len(fp.shingles):
            by_text[fp.exact].append(number)
    identical = [(i, j) for members in by_text.values() for i, j in itertools.combinations(members, 2)
                 if within_window(articles[i], articles[j])]
    joined = sum(1 for i, j in identical if articles[i]["story"] == articles[j]["story"])
    split_groups = sum(1 for members in by_text.values() if len(members) > 1
                       and len({articles[m]["story"] for m in members}) > 1
                       and all(within_window(articles[members[0]], articles[m]) for m in members))
    stories = len({a["story"] or a["id"] for a in articles})
    n = len(pairs) or 1
    return {
        "articles": len(articles), "stories": stories,
        "articles_in_shared_stories": sum(1 for c in _story_sizes(articles) if c > 1 for _ in range(c)),
        "grouped_pairs": len(pairs),
        "precision": round(sum(s >= THRESHOLD for s in similarities) / n, 4),
        "precision_at_0.3": round(sum(s >= 0.3 for s in similarities) / n, 4),
        "pairs_below_0.1": sum(s < 0.1 for s in similarities),
        "pairs_sharing_no_title_word": no_title_word,
        "identical_pairs_within_window": len(identical),
        "identical_recall": round(joined / len(identical), 4) if identical else None,
        "identical_groups_split": split_groups,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _story_sizes(articles: list[dict]) -> list[int]:
    sizes: dict[str, int] = defaultdict(int)
    for article in articles:
        sizes[article["story"] or article["id"]] += 1
    return list(sizes.values())


# --- planted copies and look-alikes ------------------------------------------------------

def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def rewrite(text: str, rng: random.Random, vocabulary: list[str]) -> str:
    """A light edit: another lead, one short sentence dropped (at most a fifth of the
    words), one word in twenty replaced."""
    parts = sentences(text)
    lead = "ذكرت مصادر مطلعة اليوم في تصريحات صحفية أن"
    parts[0] = f"{lead} {' '.join(parts[0].split()[4:])}"
    total = len(text.split())
    short = [i for i in range(1, len(parts)) if len(parts[i].split()) <= total / 5]
    if short:
        del parts[rng.choice(short)]
    words = " ".join(parts).split(" ")
    for i in range(len(words)):
        if rng.random() < 0.05:
            words[i] = rng.choice(vocabulary)
    return " ".join(words)


def shuffled(text: str, rng: random.Random) -> str:
    words = text.split()
    rng.shuffle(words)
    return " ".join(words)


def wrapped(text: str, other: str) -> str:
    """``other`` with its first and last BOILERPLATE words replaced by those of ``text``
    (an outlet's fixed opening and sign-off around a different report)."""
    words, body = text.split(), other.split()
    return " ".join(words[:BOILERPLATE] + body[BOILERPLATE:-BOILERPLATE] + words[-BOILERPLATE:])


def read_corpus(paths: list[Path], limit: int, rng: random.Random) -> list[dict]:
    records = []
    for path in paths:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            records += [json.loads(line) for line in handle if line.strip()]
    rng.shuffle(records)
    return [r for r in records if r.get("date") and len((r.get("text") or "").split()) >= 60][:limit]


def measure_planted(paths: list[Path], planted: int, others: int, seed: int) -> dict:
    rng = random.Random(seed)
    records = read_corpus(paths, planted + others, rng)
    originals, background = records[:planted], records[planted:]
    vocabulary = [w for r in background[:200] for w in r["text"].split() if len(w) > 3]
    extra = []
    for number, record in enumerate(originals):
        date = dt.date.fromisoformat(record["date"]) + dt.timedelta(days=rng.randint(1, 3))
        base = {"source": "مصدر مزروع", "date": date.isoformat(), "url": None, "category": None}
        other = background[number % len(background)]["text"]
        extra += [{**base, "id": f"rewrite-{number}", "title": record.get("title"),
                   "text": rewrite(record["text"], rng, vocabulary)},
                  {**base, "id": f"shuffled-{number}", "title": record.get("title"),
                   "text": shuffled(record["text"], rng)},
                  {**base, "id": f"wrapped-{number}", "title": record.get("title"),
                   "text": wrapped(record["text"], other)}]
    with tempfile.TemporaryDirectory(prefix="bahth-stories-") as tmp:
        corpus = Path(tmp) / "planted.jsonl"
        with open(corpus, "w", encoding="utf-8") as out:
            for record in originals + background + extra:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        build_index([corpus], Path(tmp) / "index", rebuild=True)
        story = {a["id"]: a["story"] for a in indexed_articles(Path(tmp) / "index")}
    joined = {kind: sum(story.get(f"{kind}-{n}") == story[r["id"]] for n, r in enumerate(originals))
              for kind in ("rewrite", "shuffled", "wrapped")}
    return {"planted": planted, "background": len(background),
            "rewrites_joined": joined["rewrite"], "rewrite_recall": round(joined["rewrite"] / planted, 4),
            "shuffled_wrongly_joined": joined["shuffled"], "wrapped_wrongly_joined": joined["wrapped"]}


def compare_datasketch(index_dir: Path, limit: int) -> dict:
    """Seconds to find the stories of ``limit`` indexed articles with Bahth's finder and
    with datasketch's MinHash + MinHashLSH (same shingles, 40 permutations, 20 bands of
    2 rows; candidates confirmed the same way), and how often both agree."""
    import numpy as np
    from datasketch import MinHash, MinHashLSH

    from search.stories import BANDS, HASHES, ROWS, StoryFinder

    articles = indexed_articles(index_dir)[:limit]
    started = time.perf_counter()
    finder = StoryFinder()
    ours = [finder.add(a["id"], fingerprint(a["body"]), dt.date.fromordinal(a["day"]) if a["day"] else None)
            for a in articles]
    ours_seconds = time.perf_counter() - started

    started = time.perf_counter()
    lsh = MinHashLSH(num_perm=HASHES, params=(BANDS, ROWS))
    heads: dict[str, tuple] = {}
    theirs = []
    for a in articles:
        shingles = fingerprint(a["body"]).shingles
        story = a["id"]
        if len(shingles) >= 20:
            minhash = MinHash(num_perm=HASHES, hashfunc=lambda x: x)
            minhash.update_batch(shingles.astype(np.uint64))
            best = 0.0
            for other in lsh.query(minhash):
                head_shingles, head_day = heads[theirs[other]]
                if a["day"] and head_day and abs(a["day"] - head_day) > MAX_DAYS_APART:
                    continue
                similarity = jaccard(shingles, head_shingles)
                if similarity >= THRESHOLD and similarity > best:
                    story, best = theirs[other], similarity
            lsh.insert(len(theirs), minhash)
        heads.setdefault(story, (shingles, a["day"]))
        theirs.append(story)
    their_seconds = time.perf_counter() - started
    agree = sum((x == a["id"]) == (y == a["id"]) for x, y, a in zip(ours, theirs, articles))
    return {"articles": len(articles), "bahth_seconds": round(ours_seconds, 1),
            "datasketch_seconds": round(their_seconds, 1),
            "same_grouped_or_not": round(agree / len(articles), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, help="measure the stories of this built index")
    parser.add_argument("--planted", type=int, default=0, help="plant this many rewrites and look-alikes")
    parser.add_argument("--corpus", type=Path, nargs="+", default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--datasketch", type=int, metavar="N", default=0,
                        help="with --index-dir: time N articles through datasketch too (pip install datasketch)")
    args = parser.parse_args(argv)
    if not args.index_dir and not args.planted:
        parser.error("give --index-dir, --planted N, or both")
    report = {}
    if args.index_dir:
        report["index"] = measure_index(args.index_dir, args.seed)
        if args.datasketch:
            report["datasketch"] = compare_datasketch(args.index_dir, args.datasketch)
    if args.planted:
        if not args.corpus:
            parser.error("no corpus: pass --corpus FILES (../shared/corpus/ is not beside the project)")
        report["planted"] = measure_planted(args.corpus, args.planted, 4000, args.seed)
    for part, figures in report.items():
        print(f"{part}:")
        for name, value in figures.items():
            print(f"  {name}: {value}")
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
