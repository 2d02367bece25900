"""Precision and recall of who-and-where (search.entities) on 100 annotated articles.

    .venv/bin/python bench/entities.py [--gold bench/entities/heldout.jsonl] [--show 10]

Two samples of 100 articles of the corpus each, annotated by hand with the places,
people and organizations they name (rules: bench/entities/GUIDELINES.md), by article id:
``gold.jsonl``, which the gazetteer's authors also used to look for false matches and
missing spellings (a development set), and ``heldout.jsonl``, annotated afterwards
without looking at the gazetteer or the product (the figures to report). The text
annotated was the title and the first 4,000 characters of the article, read here from
../shared/corpus. The product's gazetteer runs on the same text.

A gold entity is found when the product names an entity of the same kind that is written
the same way: the gold name, or one of its mentions without the proclitics a word may
carry, is one of the names the gazetteer knows the product's entity by (normalized as the
analyzer normalizes). Precision: the product's entities that are some gold entity;
recall: the gold entities found; both per kind, and recall again for the political
entities (the gazetteer's scope: heads of state, parties, armed groups, state bodies …).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.arabic import normalize  # noqa: E402
from search.entities import KINDS, gazetteer, load_gazetteer, name_words, word_keys  # noqa: E402

GOLD = ROOT / "bench" / "entities" / "heldout.jsonl"
CORPUS = ROOT.parent / "shared" / "corpus"
TEXT_CHARS = 4000
GOLD_KINDS = {"place": "places", "person": "people", "organization": "organizations"}


def read_texts(ids: set[str]) -> dict[str, str]:
    texts = {}
    for path in sorted(CORPUS.rglob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("id") in ids:
                    texts[record["id"]] = f"{record.get('title') or ''}\n{(record.get('text') or '')[:TEXT_CHARS]}"
    return texts


#: Words the annotation rules strip in front of a name (GUIDELINES.md: مدينة غزة is
#: annotated غزة): compared without them on both sides, so that the gazetteer's
#: مخيم جباليا and تنظيم القاعدة are the annotators' جباليا and القاعدة.
CLASSIFIERS = {name_words(w)[0] for w in "مدينة محافظة ولاية حي منطقة مديرية حركة جماعة نادي صحيفة وكالة "
               "سوق دولة مملكة إمارة مخيم معتمدية تنظيم شركة قناة".split()}


def bare(words: tuple[str, ...]) -> tuple[str, ...]:
    return words[1:] if len(words) > 1 and words[0] in CLASSIFIERS else words


def written_forms(text: str) -> set[tuple[str, ...]]:
    """A name or mention as word sequences, the first word with and without proclitics
    and without a classifier."""
    words = name_words(text)
    if not words:
        return set()
    forms = {(first, *words[1:]) for first in word_keys(words[0])} | {words}
    return forms | {bare(form) for form in forms}


def evaluate(gold_path: Path = GOLD, show: int = 0) -> dict:
    gold = [json.loads(line) for line in gold_path.read_text("utf-8").splitlines() if line.strip()]
    texts = read_texts({g["id"] for g in gold})
    missing = [g["id"] for g in gold if g["id"] not in texts]
    if missing:
        raise SystemExit(f"{len(missing)} gold articles are not in {CORPUS} (e.g. {missing[0]})")
    names: dict[tuple[str, str], set[tuple[str, ...]]] = defaultdict(set)
    for kind, entries in load_gazetteer().items():
        for entity, written in entries:
            for name in written:
                names[(kind, entity.name)].update({name_words(name), bare(name_words(name))})
    finder = gazetteer()
    counts = {kind: defaultdict(int) for kind in KINDS}
    examples = {kind: {"missed": [], "wrong": []} for kind in KINDS}
    for article in gold:
        found = finder.entities(texts[article["id"]])
        for kind in KINDS:
            system = found[kind]
            wanted = article[GOLD_KINDS[kind]]
            matched_system: set[str] = set()
            for entity in wanted:
                forms = written_forms(entity["name"]).union(*(written_forms(m) for m in entity["mentions"]))
                hits = [s for s in system if names[(kind, s)] & forms]
                political = entity.get("political", True)
                counts[kind]["gold"] += 1
                counts[kind]["gold_political"] += political
                if hits:
                    matched_system.update(hits)
                    counts[kind]["found"] += 1
                    counts[kind]["found_political"] += political
                elif political:
                    examples[kind]["missed"].append(f"{entity['name']} ({article['id']})")
            counts[kind]["system"] += len(system)
            counts[kind]["right"] += len(matched_system)
            examples[kind]["wrong"] += [f"{s} ({article['id']})" for s in system if s not in matched_system]
    report = {}
    for kind in KINDS:
        c = counts[kind]
        report[kind] = {
            "articles": len(gold), "gold": c["gold"], "found": c["system"],
            "precision": round(c["right"] / c["system"], 3) if c["system"] else None,
            "recall": round(c["found"] / c["gold"], 3) if c["gold"] else None,
            "recall_political": round(c["found_political"] / c["gold_political"], 3) if c["gold_political"] else None,
        }
        if show:
            report[kind]["missed"] = examples[kind]["missed"][:show]
            report[kind]["wrong"] = examples[kind]["wrong"][:show]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, default=GOLD, help="the annotated sample (default: the held-out one)")
    parser.add_argument("--show", type=int, default=0, help="list up to N missed and wrong entities per kind")
    args = parser.parse_args()
    if not CORPUS.exists():
        raise SystemExit(f"{CORPUS} is not here: the gold articles' texts are read from it")
    report = evaluate(args.gold, args.show)
    print("| kind | gold entities | found by Bahth | precision | recall | recall, political |")
    print("|---|---|---|---|---|---|")
    for kind, row in report.items():
        print(f"| {kind} | {row['gold']} | {row['found']} | {row['precision']} | {row['recall']} | "
              f"{row['recall_political']} |")
    for kind, row in report.items():
        for what in ("missed", "wrong"):
            if row.get(what):
                print(f"{kind} {what}: " + "، ".join(row[what]))
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
