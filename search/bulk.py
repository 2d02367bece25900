"""The bulk build: a new index generation written as arrays, analysed in worker processes.

    inputs (search.ingest.raw_inputs) ──batches──► workers: parse, analyse, compress
          ──in order──► this process: skips and duplicates, stories, one segment's
                        documents and postings ──► Whoosh segment (search.codec)

Whoosh's own writer adds a document at a time and sends every posting through a Python
call into an external-sort pool. Here each worker turns a batch of raw inputs into
documents and their postings as arrays (term, document, frequency, positions), with the
stored fields and the ``stems`` column already compressed; this process keeps the order
(duplicate ids, skips), assigns stories (they depend on every earlier article), writes
the per-document values through Whoosh's per-document writer, and gathers the postings in
an :class:`ArrayPool`, which Whoosh's segment writer hands to the codec's field writer at
commit: one sort per field, one write per term. Whoosh still writes the segment's files,
its table of contents and the generation.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Callable, Iterable, Iterator

import numpy as np

from search import grams
from search.analysis import ANALYZER, EXACT_MARK, STOPWORDS, TOKEN_PATTERN
from search.arabic import normalize
from search.codec import STORED_BLOCK, BahthCodec, run_indices, stored_blocks
from search.entities import KINDS, gazetteer, word_keys
from search.ingest import Document, InOrder, Raw, Skip, parse
from search.periods import day_number
from search.schema import TEXT_FIELDS
from search.stories import Print, StoryFinder, fingerprint_words, pack, word_hash

#: Inputs per batch sent to a worker.
BATCH = 400
#: Batches analysed in this process before any worker is started.
INLINE_BATCHES = 2
#: Documents per segment: one segment up to this size (the 85k corpus is one), more
#: beyond it, so that a build's memory stays bounded.
SEGMENT_DOCS = 250_000
_EXACT = EXACT_MARK.encode()


# --- in the workers ----------------------------------------------------------------

class _Words(dict):
    """Token (as written) -> its number in this worker, with what the analysis makes of
    it: its stem's and exact form's term numbers, the hash story detection uses, and the
    stem the ``stems`` column keeps (search.grams). Tokens repeat, so each distinct one
    is analysed once and every occurrence is a dictionary lookup."""

    def __init__(self):
        super().__init__()
        self.terms: dict[str, int] = {}
        self.term_text: list[str] = []
        size = 1 << 16
        self.stem = np.full(size, -1, np.int64)
        self.exact = np.full(size, -1, np.int64)
        self.hash = np.zeros(size, np.uint64)
        self.gram = np.full(size, -1, np.int64)  # the stem's term number when the stems column keeps it
        self.keys: list[tuple[str, ...]] = []  # the forms a name's word may match (search.entities)
        self.name_start = np.zeros(size, bool)  # whether a name of the gazetteer may start here

    def _term(self, text: str) -> int:
        number = self.terms.get(text)
        if number is None:
            number = self.terms[text] = len(self.term_text)
            self.term_text.append(text)
        return number

    def __missing__(self, token: str) -> int:
        number = len(self)
        if number >= len(self.stem):
            grow = len(self.stem)
            self.stem = np.concatenate([self.stem, np.full(grow, -1, np.int64)])
            self.exact = np.concatenate([self.exact, np.full(grow, -1, np.int64)])
            self.hash = np.concatenate([self.hash, np.zeros(grow, np.uint64)])
            self.gram = np.concatenate([self.gram, np.full(grow, -1, np.int64)])
            self.name_start = np.concatenate([self.name_start, np.zeros(grow, bool)])
        terms = ANALYZER.token_terms(token)
        if terms:
            self.stem[number] = self._term(terms[0])
        if len(terms) > 1:
            self.exact[number] = self._term(terms[1])
        self.hash[number] = word_hash(token)
        if terms and len(terms[0]) >= grams.GRAM and normalize(token) not in STOPWORDS:
            self.gram[number] = self.stem[number]
        keys = word_keys(token)
        self.keys.append(keys)
        self.name_start[number] = gazetteer().starts(keys)
        self[token] = number
        return number

    def codes(self, text: str) -> np.ndarray:
        tokens = TOKEN_PATTERN.findall(text)
        return np.fromiter(map(self.__getitem__, tokens), dtype=np.int64, count=len(tokens))


_WORDS: _Words | None = None


@dataclass
class FieldPostings:
    """One field's postings of a batch (or of a segment, once gathered)."""

    terms: list[bytes]  # the terms, indexed by ``term``
    term: np.ndarray  # per posting
    doc: np.ndarray  # per posting: the document's number in the batch (segment)
    tf: np.ndarray
    position_count: np.ndarray  # positions kept per posting (none for exact forms)
    positions: np.ndarray  # posting after posting
    lengths: np.ndarray  # per document: terms in the field (Whoosh's field length)


@dataclass
class Analyzed:
    """A worker's answer for one batch of inputs: per document (in ``items`` order), its
    postings, its stored fields already compressed, its column values, and what story
    detection compares."""

    items: list  # Document | Skip, one per input, in order
    fields: dict[str, FieldPostings]
    stored: list[tuple[int, bytes, bytes]] = field(default_factory=list)  # (search.codec.stored_blocks)
    columns: dict[str, list] = field(default_factory=dict)  # column -> one value per document
    prints: list[Print] = field(default_factory=list)


def _field_postings(codes: list[np.ndarray], words: _Words) -> FieldPostings:
    counts = np.array([len(c) for c in codes], np.int64)
    flat = np.concatenate(codes) if codes else np.zeros(0, np.int64)
    doc = np.repeat(np.arange(len(codes)), counts)
    first = np.zeros(len(codes) + 1, np.int64)
    np.cumsum(counts, out=first[1:])
    position = np.arange(len(flat)) - np.repeat(first[:-1], counts)
    stems, exacts = words.stem[flat], words.exact[flat]
    has_stem, has_exact = stems >= 0, exacts >= 0
    term = np.concatenate([stems[has_stem], exacts[has_exact]])
    doc = np.concatenate([doc[has_stem], doc[has_exact]])
    position = np.concatenate([position[has_stem], position[has_exact]])
    is_exact = np.concatenate([np.zeros(has_stem.sum(), bool), np.ones(has_exact.sum(), bool)])
    # The batch's terms in the lexicon's order (UTF-8 bytes), so that the segment's sort
    # merges batches that are each already sorted.
    used, token_term = np.unique(term, return_inverse=True)
    text = words.term_text
    terms = [text[t].encode("utf-8") for t in used.tolist()]
    by_text = sorted(range(len(terms)), key=terms.__getitem__)
    rank = np.empty(len(terms), np.int64)
    rank[by_text] = np.arange(len(terms))
    term = rank[token_term]
    # By term, then document, then position: tokens come in (document, position) order, so
    # a stable sort on one key (term and document) keeps the positions in order.
    order = np.argsort(term * len(codes) + doc, kind="stable")
    term, doc, position, is_exact = term[order], doc[order], position[order], is_exact[order]
    starts = np.flatnonzero(np.r_[True, (term[1:] != term[:-1]) | (doc[1:] != doc[:-1])]) if len(term) \
        else np.zeros(0, np.int64)
    tf = np.diff(np.r_[starts, len(term)])
    return FieldPostings(
        terms=[terms[i] for i in by_text], term=term[starts], doc=doc[starts], tf=tf,
        position_count=np.where(is_exact[starts], 0, tf), positions=position[~is_exact],
        lengths=np.bincount(doc, minlength=len(codes)))


def stored_fields(doc: Document) -> dict:
    """What is stored of an article (the hits, the article page), as Whoosh's writer
    stores it: the fields given a value, in name order."""
    values = {"id": doc.id, "body": doc.body, "fingerprint": doc.fingerprint,
              "title": doc.title or None, "url": doc.url or None,
              "date": dt.datetime(doc.date.year, doc.date.month, doc.date.day) if doc.date else None}
    return {k: values[k] for k in sorted(values) if values[k] is not None}


def _blocks(fields: list[dict]) -> list[tuple[int, bytes, bytes]]:
    return [(len(fields[i:i + STORED_BLOCK]), *stored_blocks(fields[i:i + STORED_BLOCK]))
            for i in range(0, len(fields), STORED_BLOCK)]


def analyze_batch(raws: list) -> Analyzed:
    """Parse and analyse one batch (in a worker process)."""
    global _WORDS
    words = _WORDS = _WORDS or _Words()
    items = [parse(raw) if isinstance(raw, Raw) else raw for raw in raws]
    docs = [item for item in items if isinstance(item, Document)]
    codes = {name: [words.codes(getattr(doc, name) or "") for doc in docs] for name in TEXT_FIELDS}
    result = Analyzed(items, {name: _field_postings(codes[name], words) for name in TEXT_FIELDS})
    result.stored = _blocks([stored_fields(doc) for doc in docs])
    result.prints = [fingerprint_words(words.hash[body]) for body in codes["body"]]
    result.columns = {"source": [doc.source for doc in docs], "category": [doc.category for doc in docs],
                      "day": np.array([day_number(doc.date) if doc.date else 0 for doc in docs], np.int64),
                      "minhash": [pack(fp) for fp in result.prints],
                      "stems": _stem_pairs(codes["title"], codes["body"], words),
                      **_entities(codes["title"], codes["body"], words)}
    return result


def _entities(titles: list[np.ndarray], bodies: list[np.ndarray], words: _Words) -> dict[str, list[list[str]]]:
    """The places, people and organizations each document names (search.entities), looked
    for only where a name may start."""
    names = gazetteer()
    out: dict[str, list[list[str]]] = {kind: [] for kind in KINDS}
    keys = words.keys
    for title, body in zip(titles, bodies):
        found = set()
        for codes in (title, body):
            starts = np.flatnonzero(words.name_start[codes])
            if len(starts):
                found |= names.find(_Keys(codes, keys), starts.tolist())
        for kind in KINDS:
            out[kind].append(sorted(e.name for e in found if e.kind == kind))
    return out


class _Keys:
    """The word keys of a document's words, looked up as they are asked for."""

    def __init__(self, codes: np.ndarray, keys: list[tuple[str, ...]]):
        self._codes, self._keys = codes, keys

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, i: int) -> tuple[str, ...]:
        return self._keys[self._codes[i]]


def _stem_pairs(titles: list[np.ndarray], bodies: list[np.ndarray], words: _Words) -> tuple:
    """The ``stems`` column of a batch (search.codec.StemsColumn.Writer.add_many): for
    each document, each stem it keeps for the second ranking stage and how often."""
    per_doc = [np.concatenate([t, b]) for t, b in zip(titles, bodies)]
    owner = np.repeat(np.arange(len(per_doc)), [len(c) for c in per_doc])
    stem = words.gram[np.concatenate(per_doc)] if per_doc else np.zeros(0, np.int64)
    kept = stem >= 0
    size = len(words.term_text) + 1
    pairs, counts = np.unique(owner[kept] * size + stem[kept], return_counts=True)
    used, local = np.unique(pairs % size, return_inverse=True)
    return pairs // size, [words.term_text[t] for t in used.tolist()], local, counts


# --- in this process ---------------------------------------------------------------------

class ArrayPool:
    """Whoosh's posting pool replaced: a segment's postings gathered as arrays, batch after
    batch, handed whole to the codec's field writer at commit (``iter_postings`` returns
    the pool itself, which :meth:`search.codec.ArrayFieldWriter.add_postings` recognises)."""

    def __init__(self, field_lengths: Callable[[str], np.ndarray]):
        #: per field, per batch: (term number, document, tf, position count, positions)
        self._parts: dict[str, list[tuple[np.ndarray, ...]]] = {}
        self._vocabulary: dict[str, dict[bytes, int]] = {}
        self._field_lengths = field_lengths  # per document of the segment, by field
        self.fieldnames: set[str] = set()

    def add(self, name: str, postings: FieldPostings, keep: np.ndarray, first_doc: int) -> None:
        """A batch's postings of field ``name``; ``keep`` says which of its documents are
        indexed (a duplicate id is not), numbered from ``first_doc`` in the segment."""
        vocabulary = self._vocabulary.setdefault(name, {})
        if not keep.all():
            postings = _only(postings, keep)
        numbers = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in postings.terms], np.int64)
        new_doc = np.cumsum(keep) - 1 + first_doc
        # Kept until the commit in 32 bits (a segment's numbers fit): half the memory of a build.
        self._parts.setdefault(name, []).append(tuple(a.astype(np.int32) for a in (
            numbers[postings.term], new_doc[postings.doc], postings.tf, postings.position_count,
            postings.positions)))
        self.fieldnames.add(name)

    def add_terms(self, name: str, terms: list[str], first_doc: int) -> None:
        """One term per document (an ``id`` field), no positions."""
        count = len(terms)
        self.add(name, FieldPostings([t.encode("utf-8") for t in terms], np.arange(count), np.arange(count),
                                     np.ones(count, np.int64), np.zeros(count, np.int64), np.zeros(0, np.int64),
                                     np.zeros(count, np.int64)), np.ones(count, bool), first_doc)

    def iter_postings(self):
        return self

    def write_fields(self, fieldwriter, schema) -> None:
        """Every field's postings, sorted by term then document, into ``fieldwriter``."""
        for name in sorted(self._parts):
            parts = self._parts[name]
            vocabulary = self._vocabulary[name]
            terms = sorted(vocabulary)
            rank = np.empty(len(terms), np.int64)
            rank[[vocabulary[t] for t in terms]] = np.arange(len(terms))
            term = rank[np.concatenate([p[0] for p in parts])]
            doc, tf, count, positions = (np.concatenate([p[i] for p in parts]) for i in range(1, 5))
            parts.clear()  # (this field's batches are no longer needed)
            order = np.argsort(term, kind="stable")  # batches come in document order
            positions = positions[_gather_runs(count, order)]
            term, doc, tf, count = term[order], doc[order], tf[order], count[order]
            starts = np.searchsorted(term, np.arange(len(terms) + 1))
            field_lengths = self._field_lengths(name)
            fieldwriter.add_arrays(name, schema[name], terms, starts, doc, tf, positions, count,
                                   field_lengths[doc] if len(field_lengths) else np.zeros(len(doc), np.int64))

    def cleanup(self):
        self._parts.clear()


def _only(postings: FieldPostings, keep: np.ndarray) -> FieldPostings:
    """The postings of the kept documents only, and only the terms they use (a word only
    a dropped duplicate had gets no lexicon entry)."""
    posting_kept = keep[postings.doc]
    term = postings.term[posting_kept]
    used = np.bincount(term, minlength=len(postings.terms)) > 0
    return FieldPostings([t for t, u in zip(postings.terms, used.tolist()) if u], (np.cumsum(used) - 1)[term],
                         postings.doc[posting_kept], postings.tf[posting_kept],
                         postings.position_count[posting_kept],
                         postings.positions[np.repeat(posting_kept, postings.position_count)],
                         postings.lengths[keep])


def _gather_runs(counts: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Indices that reorder runs (run ``i`` has ``counts[i]`` items) into ``order`` (in 32
    bits when they fit: these arrays are as long as a segment's positions)."""
    index = np.int32 if int(counts.sum()) < 2**31 else np.int64
    starts = np.zeros(len(counts) + 1, index)
    np.cumsum(counts, out=starts[1:])
    return run_indices(starts[order], counts[order], index)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _close(fds: tuple[int, ...]) -> None:
    for fd in fds:
        os.close(fd)


def analyzed_batches(raw_items: Iterable, workers: int, private_fds: tuple[int, ...] = ()
                     ) -> Iterator[tuple[list, Analyzed]]:
    """(raw inputs, their analysis) batch after batch, in order, from ``workers`` forked
    processes (0: in this process). The first INLINE_BATCHES are analysed here, so that a
    small build starts no process at all (and the workers inherit the words already seen).

    A forked worker starts with copies of this process's files; it closes
    ``private_fds`` (the build lock, an flock: a worker holding it would keep it past a
    ``kill -9`` of this process). Workers end when this process's end of their pipes closes."""
    batches = _batches(raw_items, BATCH)
    for batch in (batches if workers <= 0 else islice(batches, INLINE_BATCHES)):
        yield batch, analyze_batch(batch)
    more = next(batches, None)
    if more is None:
        return
    batches = chain([more], batches)
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_close, initargs=(private_fds,)) as pool:
        pending = []
        for batch in batches:  # at most 2 batches a worker in flight: bounded memory
            pending.append((batch, pool.apply_async(analyze_batch, (batch,))))
            if len(pending) > 2 * workers:
                batch, result = pending.pop(0)
                yield batch, result.get()
        for batch, result in pending:
            yield batch, result.get()


def default_workers() -> int:
    return os.cpu_count() or 1


@dataclass
class SegmentBuilder:
    """The documents of one segment, written as they come through a Whoosh segment writer
    whose pool is an :class:`ArrayPool`."""

    writer: object
    stories: StoryFinder
    count: int = 0
    lengths: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def __post_init__(self):
        self.pool = self.writer.pool = ArrayPool(self.field_lengths)

    def add(self, docs: list[Document], analyzed: Analyzed, keep: np.ndarray) -> None:
        """``docs``: the batch's documents (all, in order); ``keep``: those indexed."""
        writer = self.writer
        first = self.count
        kept = np.flatnonzero(keep).tolist()
        lengths = {}
        for name in TEXT_FIELDS:
            postings = analyzed.fields[name]
            self.pool.add(name, postings, keep, first)
            lengths[name] = postings.lengths[keep]
            self.lengths.setdefault(name, []).append(lengths[name])
        self.pool.add_terms("id", [docs[i].id for i in kept], first)
        columns = {name: [values[i] for i in kept] if isinstance(values, list) else values[keep]
                   for name, values in analyzed.columns.items() if name != "stems"}
        docs_of_pairs, table, stems, counts = analyzed.columns["stems"]
        pair_kept = keep[docs_of_pairs]
        renumbered = np.cumsum(keep) - 1
        columns["stems"] = (renumbered[docs_of_pairs[pair_kept]], table, stems[pair_kept], counts[pair_kept])
        columns["story"] = [self.stories.add(docs[i].id, analyzed.prints[i], docs[i].date) for i in kept]
        blocks = analyzed.stored
        if len(kept) < len(docs):  # (a duplicate id left out: the blocks made again without it)
            blocks = _blocks([stored_fields(docs[i]) for i in kept])
        writer.perdocwriter.add_documents(len(kept), blocks, lengths,
                                          {name: (writer.schema[name], values) for name, values in columns.items()})
        self.count += len(kept)
        writer.docnum = self.count
        writer._added = True

    def field_lengths(self, name: str) -> np.ndarray:
        parts = self.lengths.get(name)
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def commit(self) -> None:
        self.writer.commit(merge=False)


def bulk_add(ix, raw_items: Iterable, on_item: Callable[[object], None], workers: int | None = None,
             phase: Callable[[str], None] | None = None, private_fds: tuple[int, ...] = ()) -> int:
    """Index ``raw_items`` (search.ingest.raw_inputs) into the empty index ``ix`` in
    segments of up to SEGMENT_DOCS documents. ``on_item`` sees every Document or Skip in
    input order; ``phase`` hears when a segment is being written; the workers close
    ``private_fds``. Returns the number of documents indexed."""
    workers = default_workers() if workers is None else workers
    stories = StoryFinder()
    checks = InOrder()
    segment = None
    indexed = 0
    for batch, analyzed in analyzed_batches(raw_items, workers, private_fds):
        docs = [item for item in analyzed.items if isinstance(item, Document)]
        kept_ids = set()
        for raw, parsed in zip(batch, analyzed.items):
            for item in checks.feed(raw if isinstance(raw, Raw) else None, parsed):
                on_item(item)
                if isinstance(item, Document):
                    kept_ids.add(id(item))
        keep = np.array([id(doc) in kept_ids for doc in docs], bool)
        if segment is None:
            segment = SegmentBuilder(ix.writer(codec=BahthCodec(), compound=False), stories)
        segment.add(docs, analyzed, keep)
        indexed += int(keep.sum())
        if segment.count >= SEGMENT_DOCS:
            _commit(segment, phase)
            segment = None
    for item in checks.close():
        on_item(item)
    if segment is not None:
        _commit(segment, phase)
    return indexed


def _commit(segment: SegmentBuilder, phase: Callable[[str], None] | None) -> None:
    if phase:
        phase(f"writing a segment of {segment.count:,} articles")
    segment.commit()
