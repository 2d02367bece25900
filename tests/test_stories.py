"""Stories: copies of one report join, look-alikes do not, on real news and planted edits."""

from __future__ import annotations

import datetime as dt
import json
import random

import numpy as np

from bench.stories import rewrite, shuffled, wrapped
from search.engine import Engine
from search.indexer import build_index
from search.request import SearchRequest
from search.stories import HASHES, THRESHOLD, StoryFinder, fingerprint, jaccard
from tests.conftest import shared_path

REPORT = ("أعلنت وزارة الصحة الفلسطينية في قطاع غزة اليوم ارتفاع عدد الشهداء إلى اثني عشر شهيدا "
          "وإصابة العشرات في قصف استهدف منازل في مدينة خان يونس جنوبي القطاع، وقالت الوزارة في بيان "
          "إن طواقمها تعمل على انتشال الضحايا من تحت الأنقاض وسط نقص حاد في الوقود والمعدات الطبية، "
          "وأضافت أن المستشفيات تعمل فوق طاقتها الاستيعابية وأن عشرات الجرحى ينتظرون العلاج.")


def story_of(finder_or_engine, doc_id):
    return finder_or_engine.document(doc_id)["story"]


def test_a_signature_estimates_similarity_it_is_not_all_or_nothing():
    """The bug this replaces: one mask for every hash made each estimate 0 or 1."""
    fp = fingerprint(REPORT)
    assert len(set(fp.signature.tolist())) > HASHES // 2  # independent hash functions
    edited = fingerprint(REPORT.replace("اثني عشر", "خمسة عشر").replace("العشرات", "المئات"))
    agree = float(np.mean(fp.signature == edited.signature))
    assert 0.3 < agree < 1.0 and 0.3 < jaccard(fp.shingles, edited.shingles) < 1.0


def test_an_identical_copy_meets_its_own_twin_outside_the_first_ones_window():
    """A bucket is not owned by its first article: a twin published later, out of the
    first one's window, is still found by the next copy."""
    finder = StoryFinder()
    fp = fingerprint(REPORT)
    day = dt.date(2024, 1, 1)
    assert finder.add("a", fp, day) == "a"
    assert finder.add("b", fp, day + dt.timedelta(days=20)) == "b"  # a month later: another story
    assert finder.add("c", fp, day + dt.timedelta(days=22)) == "b"  # ... that its own copy joins
    assert finder.add("d", fp, day + dt.timedelta(days=3)) == "a"


def test_candidates_are_confirmed_by_the_real_similarity_to_the_first_article():
    finder = StoryFinder()
    day = dt.date(2024, 1, 1)
    finder.add("first", fingerprint(REPORT), day)
    # Each edit replaces a few words of the one before: close to its neighbour, further
    # from the first article at every step. A chain of neighbours must not glue them on.
    text, joined, steps = REPORT, [], []
    rng = random.Random(3)
    for step in range(6):
        replaced = text.split()
        for i in rng.sample(range(len(replaced)), len(replaced) // 15):
            replaced[i] = f"كلمة{step}{i}"
        previous, text = text, " ".join(replaced)
        steps.append(jaccard(fingerprint(previous).shingles, fingerprint(text).shingles))
        similarity = jaccard(fingerprint(REPORT).shingles, fingerprint(text).shingles)
        story = finder.add(f"edit{step}", fingerprint(text), day)
        joined.append((similarity >= THRESHOLD, story == "first"))
    assert all(expected == actual for expected, actual in joined), joined
    assert joined[0] == (True, True) and joined[-1] == (False, False)
    assert min(steps) >= THRESHOLD  # every edit alone would have been a copy of the one before


def test_planted_rewrites_join_and_look_alikes_do_not_among_real_news(tmp_path):
    sample = shared_path("corpus", "antcorpus", "sample.jsonl")
    records = [json.loads(line) for line in sample.read_text("utf-8").splitlines() if line.strip()]
    rng = random.Random(11)
    usable = [r for r in records if r["date"] and len((r["text"] or "").split()) >= 80]
    originals, others = usable[:12], usable[12:]
    vocabulary = [w for r in others[:50] for w in r["text"].split() if len(w) > 3]
    planted = []
    for number, original in enumerate(originals):
        later = (dt.date.fromisoformat(original["date"]) + dt.timedelta(days=2)).isoformat()
        base = {"source": "وكالة مزروعة", "date": later, "url": None, "category": None,
                "title": original["title"]}
        planted += [{**base, "id": f"rewrite{number}", "text": rewrite(original["text"], rng, vocabulary)},
                    {**base, "id": f"shuffled{number}", "text": shuffled(original["text"], rng)},
                    {**base, "id": f"wrapped{number}", "text": wrapped(original["text"], others[number]["text"])}]
    corpus = tmp_path / "news.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records + planted), "utf-8")
    build_index([corpus], tmp_path / "index", rebuild=True)
    engine = Engine(tmp_path / "index")
    for number, original in enumerate(originals):
        story = story_of(engine, original["id"])
        assert story_of(engine, f"rewrite{number}") == story, f"rewrite of {original['id']} not joined"
        assert story_of(engine, f"shuffled{number}") != story
        assert story_of(engine, f"wrapped{number}") != story
    # Both directions: a search shows the rewrite under its original, and the original's
    # unrelated neighbours are not folded under anything.
    first = originals[0]
    hit = next(h for h in engine.search(SearchRequest(q=f'"{" ".join(first["text"].split()[5:9])}"')).hits
               if h.story == story_of(engine, first["id"]))
    assert "rewrite0" in {o["id"] for o in hit.others} | {hit.id}
    everything = engine.search(SearchRequest(per_page=100))
    folded = {o["id"] for h in everything.hits for o in h.others}
    assert folded <= {p["id"] for p in planted} | {r["id"] for r in originals} | _identical_twins(records)


def _identical_twins(records: list[dict]) -> set[str]:
    """Ids of records whose text another record repeats (real copies in the sample)."""
    seen: dict[str, str] = {}
    twins = set()
    for record in records:
        key = " ".join((record["text"] or "").split())
        if key in seen:
            twins |= {record["id"], seen[key]}
        seen.setdefault(key, record["id"])
    return twins
