"""One wire story, many outlets: near-duplicate articles found at index time.

An article's text is the set of its word 3-shingles (normalized words, hashed). Two
articles carry the same story when the Jaccard similarity of those sets is at least
THRESHOLD (0.4: on the 85k news corpus, pairs above it are rewrites of one report by
different outlets; below 0.3 they share boilerplate or a subject, not a story; see
bench/stories.py and bench/RESULTS.md).

Comparing every pair is out of the question, so candidates come from locality-sensitive
hashing: a MinHash signature of HASHES values (each the smallest of a random
multiply-shift hash over the shingles), cut into BANDS bands of ROWS rows; articles
sharing a whole band, or the exact same text, meet in a bucket. With 20 bands of 2 rows
a pair at similarity 0.4 meets 97% of the time, one at 0.5 99.7%; every earlier member
of a bucket is a candidate.

A candidate nominates its story; the new article joins the story whose *first* article
it is most similar to (exact Jaccard of the full shingle sets, at least THRESHOLD) and
that was published within MAX_DAYS_APART days of it. Comparing with the first article,
not with the nominating one, keeps chains of small edits from gluing unrelated articles
together.

The story of an article is the id of its story's first article (its own id when it has
no twin); the search engine collapses hits that share one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from search.analysis import TOKEN_PATTERN
from search.arabic import normalize
from search.periods import day_of

SHINGLE = 3
HASHES = 40
BANDS = 20
ROWS = HASHES // BANDS
#: Exact Jaccard similarity of the shingle sets from which two articles are one story.
THRESHOLD = 0.4
#: Texts with fewer shingles (about twenty words) get no signature: only an identical
#: text finds them (short leads share too much phrasing to tell stories apart).
MIN_SHINGLES = 20
#: Copies of one story are published within days of each other; the same text a
#: month later (a recurring bulletin, a boilerplate notice) is another story.
MAX_DAYS_APART = 7
#: Members of one bucket looked at, newest first (a boilerplate band may hold thousands).
MAX_BUCKET = 200

_rng = np.random.default_rng(20261129)
_MULTIPLIERS = _rng.integers(1, 2**63, size=HASHES, dtype=np.uint64) | np.uint64(1)
_OFFSETS = _rng.integers(0, 2**63, size=HASHES, dtype=np.uint64)
_SHIFT = np.uint64(32)
_MIX = (np.uint64(0x9E3779B1), np.uint64(0x85EBCA77))
_LOW32 = np.uint64(0xFFFFFFFF)
#: What the ``minhash`` column holds per article: the signature (low 16 bits of each
#: value, enough to tell equal rows apart) and the 8-byte key of its exact text.
SIGNATURE_DTYPE = np.dtype("<u2")
RECORD_BYTES = HASHES * SIGNATURE_DTYPE.itemsize + 8


@dataclass(frozen=True)
class Print:
    """What story detection knows of one text."""

    shingles: np.ndarray  # sorted unique uint32 hashes of its word 3-shingles
    signature: np.ndarray | None  # HASHES uint16 values, None when the text is too short
    exact: bytes  # 8 bytes identifying the exact (normalized) word sequence


def word_hash(token: str) -> int:
    """crc32 of a token's normalized form (the same in every process, unlike ``hash``)."""
    return zlib.crc32(normalize(token).encode())


def fingerprint(text: str) -> Print:
    return fingerprint_words(np.fromiter(map(word_hash, TOKEN_PATTERN.findall(text)), dtype=np.uint64))


def fingerprint_words(words: np.ndarray) -> Print:
    """The print of a text given the :func:`word_hash` of each of its tokens (uint64)."""
    exact = hashlib.blake2b(words.tobytes(), digest_size=8).digest()
    if len(words) < SHINGLE:
        return Print(np.zeros(0, np.uint32), None, exact)
    mixed = (words[:-2] * _MIX[0] + words[1:-1] * _MIX[1] + words[2:]) & _LOW32
    shingles = np.unique(mixed.astype(np.uint32))
    signature = None
    if len(shingles) >= MIN_SHINGLES:
        hashed = (_MULTIPLIERS[:, None] * shingles.astype(np.uint64)[None, :] + _OFFSETS[:, None]) >> _SHIFT
        signature = hashed.min(axis=1).astype(SIGNATURE_DTYPE)
    return Print(shingles, signature, exact)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted sets of shingle hashes."""
    if not len(a) or not len(b):
        return 0.0
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return shared / (len(a) + len(b) - shared)


def pack(fp: Print) -> bytes:
    """The ``minhash`` column value of an article: signature (zeros if none) + exact key."""
    signature = fp.signature if fp.signature is not None else np.zeros(HASHES, SIGNATURE_DTYPE)
    return signature.tobytes() + fp.exact


def unpack(data: bytes) -> tuple[np.ndarray | None, bytes] | None:
    if len(data) != RECORD_BYTES:
        return None
    signature = np.frombuffer(data[:-8], dtype=SIGNATURE_DTYPE)
    return (signature if signature.any() else None), data[-8:]


def bucket_keys(signature: np.ndarray | None, exact: bytes) -> list[bytes]:
    """The LSH buckets of an article: one per band of its signature, one for its exact text."""
    keys = [b"x" + exact]
    if signature is not None:
        raw = signature.tobytes()
        width = ROWS * signature.itemsize
        keys += [bytes((band,)) + raw[band * width:(band + 1) * width] for band in range(BANDS)]
    return keys


class StoryFinder:
    """Assigns each article to a story as articles arrive (in index order).

    ``shingles_of``: the shingles of an already indexed story head, for a finder built
    from an index (:meth:`from_index`), which keeps signatures but not shingle sets.
    """

    def __init__(self, shingles_of: Callable[[str], np.ndarray] | None = None):
        self._buckets: dict[bytes, list[int]] = defaultdict(list)  # key -> member numbers
        self._member_story: list[str] = []
        #: story id -> shingles (None: ask ``shingles_of``) and day of its first article
        self._heads: dict[str, tuple[np.ndarray | None, int | None]] = {}
        self._shingles_of = shingles_of

    def add(self, doc_id: str, fp: Print, day: dt.date | None = None) -> str:
        """The story of a new article."""
        ordinal = day.toordinal() if day else None
        keys = bucket_keys(fp.signature, fp.exact)
        story = self._find(fp.shingles, ordinal, keys) or doc_id
        self._remember(story, keys, fp.shingles, ordinal)
        return story

    def _remember(self, story: str, keys: list[bytes], shingles: np.ndarray | None,
                  ordinal: int | None) -> None:
        if story not in self._heads:
            self._heads[story] = (shingles, ordinal)
        member = len(self._member_story)
        self._member_story.append(story)
        for key in keys:
            self._buckets[key].append(member)

    def _head_shingles(self, story: str) -> tuple[np.ndarray, int | None]:
        shingles, ordinal = self._heads[story]
        if shingles is None:
            shingles = self._shingles_of(story)
            self._heads[story] = (shingles, ordinal)
        return shingles, ordinal

    def _find(self, shingles: np.ndarray, ordinal: int | None, keys: list[bytes]) -> str | None:
        best, best_similarity = None, 0.0
        looked: set[str] = set()
        for key in keys:
            members = self._buckets.get(key)
            if not members:
                continue
            for member in reversed(members[-MAX_BUCKET:]):
                story = self._member_story[member]
                if story in looked:
                    continue
                looked.add(story)
                head, head_ordinal = self._head_shingles(story)
                if ordinal and head_ordinal and abs(ordinal - head_ordinal) > MAX_DAYS_APART:
                    continue
                similarity = jaccard(shingles, head)
                if similarity >= THRESHOLD and similarity > best_similarity:
                    best, best_similarity = story, similarity
        return best

    @classmethod
    def from_view(cls, view) -> "StoryFinder":
        """The stories already in an index (search.view.IndexView), to place the articles
        an update adds. A story's first live article in index order stands for it; its
        shingles are recomputed from its text when a new article needs them."""
        first_doc: dict[str, int] = {}
        finder = cls(lambda story: fingerprint(view.stored(first_doc[story]).get("body", "")).shingles)
        codes, values, days = view.codes("story"), view.values("story"), view.day()
        for docnum in np.flatnonzero(view.live & (codes > 0)).tolist():
            record = unpack(view.value("minhash", docnum))
            if record is None:
                continue
            story = values[codes[docnum]]
            first_doc.setdefault(story, docnum)
            day = day_of(int(days[docnum]))
            finder._remember(story, bucket_keys(*record), None, day.toordinal() if day else None)
        return finder
