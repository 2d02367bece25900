"""The one seam between the search code and Whoosh: an index opened for searching.

Everything the engine, the vocabulary, stories and the export read from an index goes
through :class:`IndexView`'s named methods: postings as arrays, positions, columns as
arrays, stored fields, lexicon walks. Only this module touches Whoosh's searchers and
readers.

One index state (a generation and Whoosh's commit number) is read by every server
thread. What is derived from it once (BM25 length norms, the live documents, columns as
integer codes, memos) lives in an :class:`IndexState` that the threads share; each thread
keeps its own :class:`IndexView` (a Whoosh searcher and lexicon readers are not
thread-safe), reopened when the index changes.
"""

from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.util.numeric import byte_to_length

from search.codec import BahthCodec, CodeColumn, CodesColumn, numeric_array, run_indices
from search.entities import KINDS as ENTITY_KINDS
from search.errors import IndexProblem, IndexUnreadable
from search.generations import check_schema, live_generation
from search.ranking import bm25_idf, length_norm
from search.schema import TEXT_FIELDS

MEMO_SIZE = 2000
INFO_CACHE = 50_000  # term infos a view remembers (a few MB)
RECENT_POSTINGS = 64  # terms whose decoded postings a view keeps (search.view.IndexView._segment_postings)
RECENT_BYTES = 16 << 20  # ... and at most this much of them (a view per server thread)
#: A prefix query reads at most this many terms from the lexicon and keeps the most
#: frequent of them (as Lucene bounds its clause count): ``ا*`` must not read millions.
SCAN_EXPANSIONS = 5000
MAX_EXPANSIONS = 64
_MISSING = object()
#: Whoosh keeps a field's length per document in one byte (lossy); BM25 reads it back
#: through this table (and Whoosh's own scorer counts a length of 0 as 1).
_LENGTHS = np.array([1] + [byte_to_length(b) for b in range(1, 256)], dtype=np.float64)
_EMPTY = np.zeros(0, np.int64)


class IndexState:
    """What the views of one index state share: sizes, live documents, BM25 norms,
    columns as arrays, memos. Read-only once built (memos aside)."""

    def __init__(self, searcher):
        reader = searcher.reader()
        self.size = reader.doc_count_all()
        self.live = np.ones(self.size, bool)
        perdocs = []
        for leaf, offset in _leaves(reader):
            deleted = np.fromiter(leaf.segment().deleted_docs(), dtype=np.int64)
            self.live[offset + deleted] = False
            perdocs.append((offset, leaf.codec().per_document_reader(leaf.storage(), leaf.segment())))
        self.count = int(self.live.sum())
        self.norms = {}
        for field in TEXT_FIELDS:
            average = searcher.avg_field_length(field) or 1
            lengths = _LENGTHS[self._joined(perdocs, lambda r: r.lengths(field), np.uint8)]
            self.norms[field] = length_norm(lengths, average)
        self.codes: dict[str, np.ndarray] = {}
        self.values: dict[str, list] = {}
        for name in ("source", "category", "story"):
            self.codes[name], self.values[name] = self._code_column(perdocs, name)
        #: Several values per document: (start of each document's codes plus the end, codes)
        self.lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in ENTITY_KINDS:
            self.lists[name], self.values[name] = self._codes_column(perdocs, name)
        self.day = self._joined(perdocs, lambda r: _numeric(r, "day", searcher.schema), np.int64).astype(np.int64)
        for _, perdoc in perdocs:
            perdoc.close()
        self.memo: dict = {}
        self.lock = threading.RLock()  # (a shared value may be built from another)

    def _joined(self, perdocs, read: Callable, dtype) -> np.ndarray:
        parts = [read(perdoc) for _, perdoc in perdocs]
        return np.concatenate(parts) if parts else np.zeros(0, dtype)

    def _code_column(self, perdocs, name: str) -> tuple[np.ndarray, list]:
        """One integer code per document for a CodeColumn, with one table of values for
        all segments (code 0: no value)."""
        values: list = [None]
        number: dict = {None: 0}
        parts = []
        for _, perdoc in perdocs:
            column = perdoc.column_reader(name, CodeColumn()) if perdoc.has_column(name) else None
            if column is None:
                parts.append(np.zeros(perdoc.doc_count_all(), np.int64))
                continue
            parts.append(_renumbered(column.values, number, values)[column.codes])
        return (np.concatenate(parts) if parts else _EMPTY), values

    def _codes_column(self, perdocs, name: str) -> tuple[tuple[np.ndarray, np.ndarray], list]:
        """A CodesColumn of every segment as one (offsets, codes) pair and one table."""
        values: list = [None]
        number: dict = {None: 0}
        offsets, codes, base = [np.zeros(1, np.int64)], [], 0
        for _, perdoc in perdocs:
            count = perdoc.doc_count_all()
            if not perdoc.has_column(name):
                offsets.append(np.full(count, base, np.int64))
                continue
            column = perdoc.column_reader(name, CodesColumn())
            codes.append(_renumbered(column.values, number, values)[column.codes])
            offsets.append(column.offsets[1:] + base)
            base += len(column.codes)
        return (np.concatenate(offsets), np.concatenate(codes) if codes else _EMPTY), values


def _renumbered(table: list, number: dict, values: list) -> np.ndarray:
    """A segment's codes (positions in its ``table``, 0 = no value) as codes of the
    index-wide ``values``, which grow with the values this segment adds."""
    for value in table[1:]:
        if value not in number:
            number[value] = len(values)
            values.append(value)
    return np.array([number[value] for value in table], np.int64)


def _leaves(reader) -> list:
    """(segment reader, first document number) of each segment (none for an empty index)."""
    return [(leaf, offset) for leaf, offset in reader.leaf_readers() if hasattr(leaf, "segment")]


def _numeric(perdoc, name: str, schema) -> np.ndarray:
    if not perdoc.has_column(name):
        return np.zeros(perdoc.doc_count_all(), np.int64)
    return numeric_array(perdoc.column_reader(name, schema[name].column_type), perdoc.doc_count_all())


class IndexView:
    """One thread's view of an index state: its searcher, its lexicon readers, and the
    shared :class:`IndexState`."""

    def __init__(self, searcher, state: IndexState):
        self.searcher = searcher
        self.state = state
        self.size = state.size
        self.live = state.live
        self.count = state.count
        reader = searcher.reader()
        leaves = _leaves(reader)
        # The segment readers' own lexicon and per-document readers (search.codec's), not
        # second copies: a view holds its files once.
        self._segments = [(leaf._terms, offset) for leaf, offset in leaves]
        self._perdocs = [leaf._perdoc for leaf, _ in leaves]
        self._firsts = np.array([offset for _, offset in leaves], np.int64)
        self._reader = reader
        self._columns: dict = {}  # this thread's column readers (per-document columns)
        self._stem_readers: dict = {}
        self._info_cache: dict = {}
        self._recent: OrderedDict = OrderedDict()  # (field, text) -> postings per segment, the newest last
        self._recent_bytes = 0

    @classmethod
    def open(cls, searcher) -> "IndexView":
        """A view of its own (not shared with other threads) over ``searcher``."""
        return cls(searcher, IndexState(searcher))

    # --- postings -------------------------------------------------------------------

    def _infos(self, field: str, text: str) -> list:
        """(segment's terms reader, its first document, term info) of each segment that
        has the term. Looked up once per term for a while: a query asks for a term's
        postings, its frequency, its idf."""
        key = (field, text)
        found = self._info_cache.get(key)
        if found is None:
            term = text.encode("utf-8")
            found = [(terms, offset, info) for terms, offset in self._segments
                     if (info := terms.info(field, term)) is not None]
            if len(self._info_cache) >= INFO_CACHE:
                self._info_cache.clear()
            self._info_cache[key] = found
        return found

    def _segment_postings(self, field: str, text: str) -> list:
        """(terms reader, term info, document numbers, frequencies) of a term in each
        segment that has it. The last RECENT_POSTINGS terms are kept: a query reads a
        word's postings to match it, then again for its positions (search.proximity)."""
        key = (field, text)
        found = self._recent.get(key)
        if found is None:
            found = []
            for terms, offset, info in self._infos(field, text):
                docs, tfs = terms.postings(info)
                found.append((terms, info, docs + offset, tfs.astype(np.int64)))
            size = sum(docs.nbytes + tfs.nbytes for _, _, docs, tfs in found)
            while self._recent and (len(self._recent) >= RECENT_POSTINGS
                                    or self._recent_bytes + size > RECENT_BYTES):
                _, oldest = self._recent.popitem(last=False)
                self._recent_bytes -= sum(d.nbytes + f.nbytes for _, _, d, f in oldest)
            if size <= RECENT_BYTES:
                self._recent[key] = found
                self._recent_bytes += size
        return found

    def postings(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, frequencies) of a term, live documents only, in order."""
        docs, tfs = [], []
        for _, _, d, f in self._segment_postings(field, text):
            docs.append(d)
            tfs.append(f)
        if not docs:
            return _EMPTY, _EMPTY
        docs, tfs = (docs[0], tfs[0]) if len(docs) == 1 else (np.concatenate(docs), np.concatenate(tfs))
        live = self.live[docs]
        return (docs, tfs) if live.all() else (docs[live], tfs[live])

    def positions(self, field: str, text: str, within: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(documents, frequencies, positions, start of each document's positions plus
        the end) of a stem term, live documents only; with ``within`` (sorted document
        numbers), in those documents only (only their positions are decoded)."""
        parts = []
        for terms, info, docs, tfs in self._segment_postings(field, text):
            chosen = None
            if within is not None:
                if not len(docs):
                    continue
                at = np.minimum(np.searchsorted(docs, within), len(docs) - 1)
                chosen = at[docs[at] == within]
            positions, ends = terms.positions(info, tfs, chosen)
            if chosen is not None:
                docs, tfs = docs[chosen], tfs[chosen]
            parts.append((docs, tfs, positions, ends))
        if not parts:
            return _EMPTY, _EMPTY, _EMPTY, np.zeros(1, np.int64)
        docs = np.concatenate([p[0] for p in parts])
        tfs = np.concatenate([p[1] for p in parts])
        positions = np.concatenate([p[2] for p in parts])
        ends = np.zeros(len(tfs) + 1, np.int64)
        np.cumsum(tfs, out=ends[1:])
        live = self.live[docs]
        if not live.all():
            keep = np.repeat(live, tfs)
            docs, tfs, positions = docs[live], tfs[live], positions[keep]
            ends = np.zeros(len(tfs) + 1, np.int64)
            np.cumsum(tfs, out=ends[1:])
        return docs, tfs, positions, ends

    def doc_frequency(self, field: str, text: str) -> int:
        """Articles using a term, deleted ones included (as Whoosh counts it for idf)."""
        return sum(info.doc_frequency() for _, _, info in self._infos(field, text))

    def idf(self, field: str, text: str) -> float:
        """BM25's idf, ``log(1 + (N - n + 0.5) / (n + 0.5))`` (search.ranking)."""
        return float(bm25_idf(self.size, self.doc_frequency(field, text)))

    def norms(self, field: str) -> np.ndarray:
        return self.state.norms[field]

    def prefix_terms(self, field: str, prefix: str) -> list[str]:
        """The MAX_EXPANSIONS most frequent terms of ``field`` starting with ``prefix``
        (of at most SCAN_EXPANSIONS read from the lexicon), most frequent first."""
        def most_frequent():
            found: dict[str, int] = {}
            for terms, _ in self._segments:
                for number, ((name, term), info) in enumerate(terms.items_from(field, prefix.encode("utf-8"))):
                    text = term.decode("utf-8")
                    if number >= SCAN_EXPANSIONS or name != field or not text.startswith(prefix):
                        break
                    found[text] = found.get(text, 0) + info.doc_frequency()
            return [text for _, text in heapq.nlargest(MAX_EXPANSIONS, ((n, t) for t, n in found.items()))]
        return self.remember(("prefix", field, prefix), most_frequent)

    def field_terms(self, field: str, limit: int) -> list[tuple[str, int]]:
        """The first ``limit`` terms of ``field`` in the lexicon, with their frequencies."""
        out = []
        for terms, _ in self._segments[:1]:
            for number, ((_, term), info) in enumerate(terms.items_from(field, b"")):
                if number >= limit:
                    break
                out.append((term.decode("utf-8"), info.doc_frequency()))
        return out

    # --- documents ------------------------------------------------------------------

    def stored(self, docnum: int, text: bool = True) -> dict:
        """A document's stored fields (id, title, body, date, url, fingerprint); without
        ``text``, all but the body (cheaper: the body is stored apart)."""
        segment = int(np.searchsorted(self._firsts, docnum, side="right")) - 1
        perdoc, local = self._perdocs[segment], docnum - int(self._firsts[segment])
        return perdoc.stored_fields(local) if text else perdoc.stored_meta(local)

    def docnum(self, doc_id: str) -> int | None:
        """The document number of a live article, or None."""
        return self.searcher.document_number(id=doc_id)

    def codes(self, name: str) -> np.ndarray:
        """One integer code per document of a CodeColumn (source, category, story)."""
        return self.state.codes[name]

    def values(self, name: str) -> list:
        """What each code of :meth:`codes` (or :meth:`code_lists`) stands for (code 0: None)."""
        return self.state.values[name]

    def code_lists(self, name: str, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The codes of documents in a column of several values per document (places,
        people, organizations), as (position in ``docs``, code) arrays."""
        sizes, codes = self._gathered(name, docs)
        return np.repeat(np.arange(len(docs)), sizes), codes

    def _gathered(self, name: str, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(how many codes each of ``docs`` holds, their codes one document after the other)."""
        offsets, codes = self.state.lists[name]
        starts = offsets[docs]
        sizes = offsets[docs + 1] - starts
        return sizes, codes[run_indices(starts, sizes)]

    def code_counts(self, name: str, docs: np.ndarray) -> np.ndarray:
        """How many of ``docs`` hold each code of a column of several values per document.
        Few documents: their values are gathered and counted. Many: the column inverted
        once per index state (each code's documents, in runs) is summed run by run over a
        mask of the documents, which reads the whole column once without sorting."""
        size = len(self.values(name))
        if len(docs) * 4 < self.size:
            return np.bincount(self._gathered(name, docs)[1], minlength=size)

        def invert():
            offsets, codes = self.state.lists[name]
            owners = np.repeat(np.arange(self.size, dtype=np.int32), np.diff(offsets))
            order = np.argsort(codes, kind="stable")
            starts = np.searchsorted(codes[order], np.arange(size + 1))
            used = np.flatnonzero(starts[1:] > starts[:-1])  # (reduceat needs non-empty runs)
            return owners[order], starts[used], used
        by_code, starts, used = self.shared(f"inverted_{name}", invert)
        chosen = np.zeros(self.size, np.int32)
        chosen[docs] = 1
        counts = np.zeros(size, np.int64)
        if len(by_code):
            counts[used] = np.add.reduceat(chosen[by_code], starts)
        return counts

    def value(self, name: str, docnum: int):
        """A document's value in a column, read on demand (stems, minhash)."""
        reader = self._columns.get(name)
        if reader is None:
            reader = self._columns[name] = self._reader.column_reader(name, translate=False)
        return reader[docnum]

    def day(self) -> np.ndarray:
        """YYYYMMDD of every document (0: unknown)."""
        return self.state.day

    def stem_vocabulary(self) -> list[str]:
        """Every stem of the ``stems`` columns of all segments, numbered once for the index
        (the numbers :meth:`stem_pairs` gives)."""
        return self._stems()[0]

    def _stems(self) -> tuple[list[str], list[np.ndarray]]:
        """The index's stems, and for each segment its stem numbers in the index's."""
        def build():
            number: dict[str, int] = {}
            mappings = []
            for leaf, _ in _leaves(self._reader):
                if not leaf.has_column("stems"):
                    mappings.append(np.zeros(0, np.int64))
                    continue
                table = leaf.column_reader("stems", translate=False).table
                mappings.append(np.array([number.setdefault(stem, len(number)) for stem in table], np.int64))
            return list(number), mappings
        return self.shared("stems", build)

    def stem_idf(self, numbers: np.ndarray) -> np.ndarray:
        """The body's BM25 idf of stems given by their numbers in :meth:`stem_vocabulary`,
        each looked up once per index state."""
        table = self.shared("stem_idf", lambda: np.full(len(self.stem_vocabulary()), np.nan))
        values = table[numbers]
        missing = np.flatnonzero(np.isnan(values))
        if len(missing):
            vocabulary = self.stem_vocabulary()
            for i in missing.tolist():
                values[i] = table[numbers[i]] = self.idf("body", vocabulary[numbers[i]])
        return values

    def stem_pairs(self, docnums: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stems of documents, as (position in ``docnums``, stem number in
        :meth:`stem_vocabulary`, count) arrays, document after document."""
        mappings = self._stems()[1]
        docnums = np.asarray(docnums, np.int64)
        segments = np.searchsorted(self._firsts, docnums, side="right") - 1
        parts = []
        for segment in np.unique(segments).tolist():
            reader = self._stem_readers.get(segment)
            if reader is None:
                leaf = _leaves(self._reader)[segment][0]
                reader = self._stem_readers[segment] = leaf.column_reader("stems", translate=False)
            positions = np.flatnonzero(segments == segment)
            owner, numbers, times = reader.pairs_of((docnums[positions] - self._firsts[segment]).tolist())
            parts.append((positions[owner], mappings[segment][numbers], times))
        if not parts:
            return _EMPTY, _EMPTY, _EMPTY
        if len(parts) == 1:
            return parts[0]
        owner = np.concatenate([p[0] for p in parts])
        order = np.argsort(owner, kind="stable")  # document after document
        return owner[order], np.concatenate([p[1] for p in parts])[order], np.concatenate([p[2] for p in parts])[order]

    # --- derived data -----------------------------------------------------------------

    def remember(self, key, compute: Callable[[], object]):
        """A small memo for derived data that stays true as long as this index state
        (prefix expansions, original spellings); shared by threads, cleared when full."""
        memo = self.state.memo
        value = memo.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[key] = value
        return value

    def shared(self, key, compute: Callable[[], object]):
        """Like :meth:`remember`, for larger data built once per index state under a lock
        (one thread builds, the others wait and read) and never evicted."""
        state = self.state
        value = state.__dict__.get(key, _MISSING)
        if value is _MISSING:
            with state.lock:
                value = state.__dict__.get(key, _MISSING)
                if value is _MISSING:
                    value = compute()
                    setattr(state, key, value)
        return value

    def close(self) -> None:
        self.searcher.close()


class Views:
    """Each thread's view of the live generation of ``index_dir``, reopened when the live
    generation changes or was updated in place; the :class:`IndexState` of the newest
    index state is shared by the threads."""

    def __init__(self, index_dir: Path, weighting):
        self.index_dir = Path(index_dir)
        self._weighting = weighting
        self._local = threading.local()
        self._states: dict[tuple, IndexState] = {}
        self._lock = threading.Lock()

    def current(self) -> IndexView:
        generation = live_generation(self.index_dir)
        if generation is None:
            raise IndexProblem(f"no index in {self.index_dir}: run `bahth index` to build one")
        local = self._local
        view = getattr(local, "view", None)
        if view is None or local.generation != generation or not view.searcher.up_to_date():
            if view is not None:
                view.close()
                local.view = None
            check_schema(generation)  # terms from another analyzer would silently not match
            # A fresh searcher, not Searcher.refresh(): refresh reuses segment readers and
            # with them the old deletion sets, so deleted documents would still be found.
            try:
                ix = whoosh_index.open_dir(str(generation))
                searcher = ix.searcher(weighting=self._weighting)
                _check_codec(searcher)
                local.view = IndexView(searcher, self._state((generation, ix.latest_generation()), searcher))
            except IndexProblem:
                raise
            except Exception as error:  # damaged files surface as whatever Whoosh trips on
                raise IndexUnreadable(
                    f"the index in {self.index_dir} cannot be read ({type(error).__name__}); "
                    "run `bahth index --check`, then `bahth index --rebuild` with its sources") from error
            local.generation = generation
        return local.view

    def _state(self, key: tuple, searcher) -> IndexState:
        """The IndexState of an index state, one for all threads; only the newest is kept
        (views of older ones hold their own reference)."""
        with self._lock:
            if key not in self._states:
                self._states = {key: IndexState(searcher)}
            return self._states[key]


def _check_codec(searcher) -> None:
    """Every segment must hold Bahth's postings (search.codec); Whoosh's W3 ones are not
    read as arrays."""
    for leaf, _ in _leaves(searcher.reader()):
        codec = leaf.codec()
        if not isinstance(codec, BahthCodec) and isinstance(codec, W3Codec):
            raise IndexProblem("the index holds postings in Whoosh's own format, not Bahth's: "
                               "run `bahth index --rebuild` with its sources")
