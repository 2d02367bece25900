"""Who and where: the places, people and organizations an article mentions.

A gazetteer kept as data (``search/data/entities/``: countries with their names from
pycountry's Arabic translations plus the names news uses, the region's cities and
territories, people, organizations; see its README) is matched against an article's
words at index time. Names are compared the way the analyzer compares words: normalized
(search.arabic.normalize: diacritics, tatweel, hamza, ى/ي, ة/ه), and a word of the text
may carry proclitics the name does not (و ف, then ب ك ل, and لل for ل + ال: بغزة,
والقدس, للأمم المتحدة). The longest name wins where names overlap (قطاع غزة, not غزة).
Each entity is found under its canonical name, which the facets show and filter on.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pycountry

from search.analysis import TOKEN_PATTERN
from search.arabic import normalize

KINDS = ("place", "person", "organization")
_FILES = {"place": ("countries.tsv", "places.tsv"), "person": ("people.tsv",),
          "organization": ("organizations.tsv",)}
#: Letters a word may carry before a name: a conjunction, then a preposition.
CONJUNCTIONS = ("و", "ف")
PREPOSITIONS = ("ب", "ك", "ل")


@dataclass(frozen=True)
class Entity:
    kind: str
    name: str


def word_keys(token: str) -> tuple[str, ...]:
    """The forms a word of a text can match a name's word by: itself, and without the
    proclitics it may carry (وبالقدس: بالقدس, القدس; للأمم: الأمم)."""
    return _keys(normalize(token))


@lru_cache(maxsize=200_000)
def _keys(word: str) -> tuple[str, ...]:
    keys = [word]
    rest = word
    if rest[:1] in CONJUNCTIONS and len(rest) > 3:
        rest = rest[1:]
        keys.append(rest)
    if rest.startswith("لل") and len(rest) > 4:  # ل + ال
        keys.append("ا" + rest[1:])
    elif rest[:1] in PREPOSITIONS and len(rest) > 3:
        keys.append(rest[1:])
    return tuple(dict.fromkeys(keys))


def name_words(name: str) -> tuple[str, ...]:
    """A name as the sequence of normalized words it is matched by."""
    return tuple(normalize(w) for w in TOKEN_PATTERN.findall(name))


def _rows(filename: str) -> list[list[str]]:
    text = resources.files("search.data").joinpath("entities", filename).read_text("utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _country_names() -> dict[str, list[str]]:
    """ISO code -> formal Arabic names (pycountry's translations of ISO 3166)."""
    arabic = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ar"])
    return {country.alpha_2: [arabic.gettext(country.name)] for country in pycountry.countries}


def ambiguous_names() -> set[tuple[str, ...]]:
    """Names never matched on their own (``ambiguous.tsv``): a country whose name is also
    a common word (مالي "financial", بنين "boys") or another place's (عمان: Oman and
    Amman) is found only by its longer names (جمهورية مالي، سلطنة عمان)."""
    return {name_words(row[0]) for row in _rows("ambiguous.tsv")}


def load_gazetteer() -> dict[str, list[tuple[Entity, list[str]]]]:
    """Kind -> (entity, the names it is written by), ambiguous names left out."""
    formal = _country_names()
    unsafe = ambiguous_names()
    out: dict[str, list[tuple[Entity, list[str]]]] = {kind: [] for kind in KINDS}
    for kind, files in _FILES.items():
        for filename in files:
            for row in _rows(filename):
                if filename == "countries.tsv":
                    code, name, others = (row + ["", ""])[:3]
                    names = [name, *others.split("|"), *formal.get(code, [])]
                else:
                    name, others = (row + [""])[:2]
                    names = [name, *others.split("|")]
                names = [n.strip() for n in names if n.strip() and name_words(n) not in unsafe]
                out[kind].append((Entity(kind, name.strip()), names))
    return out


class Gazetteer:
    """Finds the entities of a text (:meth:`find`)."""

    def __init__(self, entries: dict[str, list[tuple[Entity, list[str]]]] | None = None):
        entries = load_gazetteer() if entries is None else entries
        #: first word of a name -> (the name's words, its entity), longest names first
        self._by_first: dict[str, list[tuple[tuple[str, ...], Entity]]] = {}
        seen: dict[tuple[str, ...], Entity] = {}
        for kind_entries in entries.values():
            for entity, names in kind_entries:
                for name in names:
                    words = name_words(name)
                    if words and words not in seen:  # (the first entity to claim a name keeps it)
                        seen[words] = entity
                        self._by_first.setdefault(words[0], []).append((words, entity))
        for candidates in self._by_first.values():
            candidates.sort(key=lambda c: -len(c[0]))

    def canonical(self, kind: str, text: str) -> str | None:
        """The canonical name of the ``kind`` entity ``text`` names as a whole (any of
        its names, in any spelling the analyzer folds: هنيه, اسماعيل هنية), or None."""
        words = name_words(text)
        for candidate, entity in self._by_first.get(words[0], ()) if words else ():
            if candidate == words and entity.kind == kind:
                return entity.name
        return None

    def starts(self, keys: tuple[str, ...]) -> bool:
        """Whether a name may start at a word with these :func:`word_keys`."""
        return any(key in self._by_first for key in keys)

    def find(self, keys, positions=None) -> set[Entity]:
        """The entities named in a text given the :func:`word_keys` of its words (any
        sequence), looking only at ``positions`` when given (where names may start)."""
        found: set[Entity] = set()
        end = 0
        for i in (range(len(keys)) if positions is None else positions):
            if i < end:  # inside a name already found
                continue
            match = self._match_at(keys, i)
            if match is not None:
                length, entity = match
                found.add(entity)
                end = i + length
        return found

    def _match_at(self, keys: list[tuple[str, ...]], i: int) -> tuple[int, Entity] | None:
        best = None
        for key in keys[i]:
            for words, entity in self._by_first.get(key, ()):
                if len(words) <= len(keys) - i and all(words[j] in keys[i + j] for j in range(1, len(words))):
                    if best is None or len(words) > best[0]:
                        best = (len(words), entity)
                    break  # (longest first: the rest of this key's names are shorter)
        return best

    def entities(self, text: str) -> dict[str, list[str]]:
        """Kind -> the canonical names a text mentions, sorted."""
        out: dict[str, list[str]] = {kind: [] for kind in KINDS}
        for entity in self.find([word_keys(token) for token in TOKEN_PATTERN.findall(text)]):
            out[entity.kind].append(entity.name)
        return {kind: sorted(names) for kind, names in out.items()}


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer of the data files, loaded once."""
    return Gazetteer()
