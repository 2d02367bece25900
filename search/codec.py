"""Bahth's posting format and columns inside Whoosh: arrays numpy reads in one call.

Whoosh stays the index of record: schema, segments, table of contents and generations,
the lexicon (``.trm``), stored fields, deletions and merging are Whoosh's. What changes
is how a term's postings are kept. Whoosh's W3 format stores each block of 128 postings
as a zlib-compressed pickle of Python tuples (ids, weights and positions together), so
every read costs a Python step per posting. Here, per term:

``.pst``  the document numbers, delta-encoded, as 1-, 2- or 4-byte little-endian integers
          (the width its largest gap needs), then its frequencies (1 or 2 bytes) (the file
          keeps W3's name, not its layout);
``.bps``  the positions of stems, delta-encoded within each document (1, 2 or 4 bytes),
          read only for phrases. Exact-form terms (``=word``) are never searched as
          phrases, so they keep no positions.

A term's lexicon entry is Whoosh's W3 term info (so Whoosh's own code reads the lexicon
as it always did) followed by :data:`_EXTENT`: where these arrays are and how wide their
numbers are. Writing goes through :class:`ArrayFieldWriter`, which takes a whole field's
postings as arrays (:meth:`ArrayFieldWriter.add_arrays`, the bulk build) or Whoosh's
posting-at-a-time calls (updates and merges); both end in the same encoder.

Columns read whole at search time are :class:`CodeColumn` (a table of values and one
integer code per document) and Whoosh's numeric columns, both decoded as numpy arrays
by :func:`column_array`.
"""

from __future__ import annotations

import io
import json
import mmap
import os
import pickle
import struct
import zlib
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
from whoosh import columns
from whoosh.codec import whoosh3
from whoosh.filedb import filetables
from whoosh.matching import ListMatcher
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE, _LONG_SIZE
from whoosh.util.numeric import byte_to_length

#: Written in each index's manifest; an index of another format must be rebuilt.
FORMAT = "bahth-arrays-2"
EXACT_PREFIX = b"="
_WIDTH_DTYPES = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}
#: After Whoosh's W3 term info: docs width, tfs width, positions offset, bytes, width.
_EXTENT = struct.Struct("<BBQIB")
_W3_SIZE = whoosh3.W3TermInfo._struct.size + _LONG_SIZE + _INT_SIZE


# --- packing groups of integers ------------------------------------------------------

def _width_of(maximum: np.ndarray) -> np.ndarray:
    return np.where(maximum < 1 << 8, 1, np.where(maximum < 1 << 16, 2, 4)).astype(np.int64)


#: Width code of a group packed one byte a value, where 255 says "the next of the
#: exceptions", which follow the bytes as uint32: most gaps between positions and between
#: documents fit a byte, and a few large ones should not make every value two bytes wide.
ESCAPED = 3
_ESCAPE = 255


def pack_groups(values: np.ndarray, starts: np.ndarray, widths: np.ndarray | None = None,
                escapes: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-negative integers in consecutive groups (group ``g`` is
    ``values[starts[g]:starts[g+1]]``), each group packed little-endian at the byte
    width its largest value needs (1, 2 or 4), or at ``widths`` when given; with
    ``escapes``, a group is packed ESCAPED when that is smaller.
    Returns (bytes as uint8, byte offset of each group plus the end, widths)."""
    values = values.astype(np.uint32, copy=False)
    counts = np.diff(starts)
    nonempty = counts > 0
    if widths is None:
        maxima = np.zeros(len(counts), np.uint32)
        if len(values):
            maxima[nonempty] = np.maximum.reduceat(values, starts[:-1][nonempty])
        widths = _width_of(maxima)
    large = np.zeros(len(counts), np.int64)  # values needing an exception, per group
    if escapes and len(values):
        large[nonempty] = np.add.reduceat((values >= _ESCAPE).astype(np.int64), starts[:-1][nonempty])
        widths = np.where(counts + 4 * large < counts * widths, ESCAPED, widths)
    sizes = np.where(widths == ESCAPED, counts + 4 * large, counts * widths)
    offsets = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.zeros(int(offsets[-1]), np.uint8)
    first = 0
    while first < len(counts):  # whole groups, about PACK_CHUNK values at a time
        last = max(int(np.searchsorted(starts, starts[first] + PACK_CHUNK, side="right")) - 1, first + 1)
        last = min(last, len(counts))
        _pack_into(out, values, starts, offsets, widths, counts, first, last)
        first = last
    return out, offsets, widths


#: pack_groups fills its output this many values at a time: its temporaries (several
#: 8-byte arrays as long as the values) stay bounded on a segment's millions of positions.
PACK_CHUNK = 1 << 22


def _pack_into(out, values, starts, offsets, widths, counts, first: int, last: int) -> None:
    """Groups ``first`` to ``last`` (excluded) of :func:`pack_groups`, written into ``out``."""
    base = int(starts[first])
    chunk = values[base:int(starts[last])]
    if not len(chunk):
        return
    group = np.repeat(np.arange(first, last), counts[first:last])
    index = np.arange(len(chunk)) - (starts[group] - base)
    width = widths[group]
    plain = width != ESCAPED
    destination = offsets[group] + index * np.where(plain, width, 1)
    for byte in range(4):
        wide = plain & (width > byte)
        out[destination[wide] + byte] = (chunk[wide] >> np.uint32(8 * byte)) & np.uint32(0xFF)
    escaped = ~plain
    out[destination[escaped]] = np.minimum(chunk[escaped], _ESCAPE)
    exception = escaped & (chunk >= _ESCAPE)
    if exception.any():
        running = np.cumsum(exception)
        # exceptions in this chunk before each of its groups
        before = np.concatenate(([0], running))[starts[first:last] - base]
        rank = running - 1 - before[group - first]
        at = (offsets[group] + counts[group] + 4 * rank)[exception]
        for byte in range(4):
            out[at + byte] = (chunk[exception] >> np.uint32(8 * byte)) & np.uint32(0xFF)


def unpack(data, width: int, count: int | None = None, offset: int = 0) -> np.ndarray:
    """``count`` values (all of ``data`` if None; required for ESCAPED) packed at
    ``width`` in ``data`` from byte ``offset``."""
    if width != ESCAPED:
        return np.frombuffer(data, _WIDTH_DTYPES[width], -1 if count is None else count, offset)
    low = np.frombuffer(data, np.uint8, count, offset)
    escaped = np.flatnonzero(low == _ESCAPE)
    if not len(escaped):
        return low
    out = low.astype(np.uint32)
    out[escaped] = np.frombuffer(data, "<u4", len(escaped), offset + count)
    return out


def deltas(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each value minus the one before it in its group (the first of a group as it is)."""
    out = np.diff(values, prepend=0)
    heads = starts[:-1][np.diff(starts) > 0]
    out[heads] = values[heads]
    return out


def undelta(gaps: np.ndarray) -> np.ndarray:
    return np.cumsum(gaps, dtype=np.int64)


def run_indices(starts: np.ndarray, sizes: np.ndarray, dtype=np.int64) -> np.ndarray:
    """The indices of runs laid one after the other: ``starts[i]`` to ``starts[i] +
    sizes[i] - 1`` for every run ``i`` (to gather runs from a flat array, or to place them)."""
    starts, sizes = np.asarray(starts).astype(dtype, copy=False), np.asarray(sizes).astype(dtype, copy=False)
    before = np.cumsum(sizes, dtype=dtype) - sizes  # where each run begins in the output
    return np.arange(int(sizes.sum()), dtype=dtype) + np.repeat(starts - before, sizes)


# --- writing -----------------------------------------------------------------------

class ArrayTermInfo(whoosh3.W3TermInfo):
    """W3's term info, plus where the term's arrays are (:data:`_EXTENT`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.doc_width = self.tf_width = self.pos_width = 1
        self.pos_offset = self.pos_length = 0

    def to_bytes(self) -> bytes:
        return super().to_bytes() + _EXTENT.pack(self.doc_width, self.tf_width, self.pos_offset,
                                                 self.pos_length, self.pos_width)

    @classmethod
    def from_bytes(cls, data: bytes) -> "ArrayTermInfo":
        info = whoosh3.W3TermInfo.from_bytes.__func__(cls, data)
        if isinstance(info._length, tuple):  # (W3 leaves it as struct.unpack returns it)
            info._length = info._length[0]
        (info.doc_width, info.tf_width, info.pos_offset, info.pos_length,
         info.pos_width) = _EXTENT.unpack_from(data, _W3_SIZE)
        return info


@dataclass
class _PendingTerms:
    """Terms of Whoosh's posting-at-a-time path not yet encoded, their postings flat."""

    terms: list = field(default_factory=list)
    ends: list = field(default_factory=list)  # per term: where its postings end
    docs: list = field(default_factory=list)
    tfs: list = field(default_factory=list)
    lengths: list = field(default_factory=list)
    counts: list = field(default_factory=list)  # per posting: its number of positions
    positions: list = field(default_factory=list)


class ArrayFieldWriter(whoosh3.W3FieldWriter):
    """Writes the postings of each field with the array encoder. Takes a whole field at
    once (:meth:`add_arrays`) or Whoosh's calls one posting at a time (gathered term after
    term and encoded many terms at once: numpy costs too much per call for a term at a time)."""

    #: Whoosh's path encodes its gathered terms when they hold this many postings.
    FLUSH_POSTINGS = 1 << 20

    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        self._posfile = self._create_file(BahthCodec.POSITIONS_EXT)
        self._posfile.write(b"BPS1")  # (offset 0 never holds a term's positions)
        self._pending = _PendingTerms()

    # Whoosh's path: one posting at a time (updates, merges).
    def start_field(self, fieldname, fieldobj):
        super().start_field(fieldname, fieldobj)
        self._postwriter = None  # no W3 postings writer: ours below
        self._pending = _PendingTerms()

    def start_term(self, btext):
        self._btext = btext
        self._pending.terms.append(btext)

    def add(self, docnum, weight, vbytes, length):
        pending = self._pending
        pending.docs.append(docnum)
        pending.tfs.append(int(weight))
        pending.lengths.append(length or 0)
        found = () if self._btext.startswith(EXACT_PREFIX) or not vbytes else self._format.decode_positions(vbytes)
        pending.counts.append(len(found))
        pending.positions.extend(found)

    def finish_term(self):
        pending = self._pending
        pending.ends.append(len(pending.docs))
        if len(pending.docs) >= self.FLUSH_POSTINGS:
            self._flush()

    def finish_field(self):
        self._flush()
        super().finish_field()

    def _flush(self) -> None:
        pending = self._pending
        if pending.terms:
            as_array = lambda values: np.array(values, np.int64)  # noqa: E731
            self._write_terms(pending.terms, as_array([0] + pending.ends), as_array(pending.docs),
                              as_array(pending.tfs), as_array(pending.positions), as_array(pending.counts),
                              as_array(pending.lengths))
        self._pending = _PendingTerms()

    def add_postings(self, schema, lengths, items):
        """Whoosh's segment writer hands over its pool's postings at commit: a bulk pool
        (search.bulk.ArrayPool) writes its arrays field by field, any other goes through
        Whoosh's posting-at-a-time calls."""
        if hasattr(items, "write_fields"):
            items.write_fields(self, schema)
        else:
            super().add_postings(schema, lengths, items)

    # The bulk path: a whole field.
    def add_arrays(self, fieldname: str, fieldobj, terms: list[bytes], starts: np.ndarray,
                   docs: np.ndarray, tfs: np.ndarray, positions: np.ndarray, position_counts: np.ndarray,
                   lengths: np.ndarray) -> None:
        """Write every term of ``fieldname``: ``terms`` sorted, term ``t``'s postings at
        ``starts[t]:starts[t+1]`` of ``docs`` (increasing within a term), ``tfs`` and the
        field ``lengths`` of those documents; ``positions`` holds, posting after posting,
        ``position_counts`` positions each (none for exact forms)."""
        self.start_field(fieldname, fieldobj)
        self._write_terms(terms, starts, docs, tfs, positions, position_counts, lengths)
        self.finish_field()

    def _write_terms(self, terms, starts, docs, tfs, positions, position_counts, lengths) -> None:
        count = len(terms)
        doc_bytes, doc_offsets, doc_widths = pack_groups(deltas(docs, starts), starts, escapes=True)
        tf_bytes, tf_offsets, tf_widths = pack_groups(tfs, starts, np.where(
            _group_max(tfs, starts) < 256, 1, 2).astype(np.int64))
        posting_ends = np.zeros(len(position_counts) + 1, np.int64)
        np.cumsum(position_counts, out=posting_ends[1:])
        term_pos_starts = posting_ends[starts]  # where each term's positions begin
        pos_bytes, pos_offsets, pos_widths = pack_groups(deltas(positions, posting_ends), term_pos_starts,
                                                         escapes=True)
        # One block per term in the postings file: its docs, then its frequencies.
        block_sizes = np.diff(doc_offsets) + np.diff(tf_offsets)
        block_starts = np.zeros(count + 1, np.int64)
        np.cumsum(block_sizes, out=block_starts[1:])
        block = np.empty(int(block_starts[-1]), np.uint8)
        _scatter(block, block_starts[:-1], doc_bytes, doc_offsets)
        _scatter(block, block_starts[:-1] + np.diff(doc_offsets), tf_bytes, tf_offsets)
        base = self._postfile.tell()
        self._postfile.write(block.tobytes())
        pos_base = self._posfile.tell()
        self._posfile.write(pos_bytes.tobytes())

        info = np.zeros(count, _TERM_INFO)
        info["weight"] = np.add.reduceat(tfs, starts[:-1]) if len(tfs) else 0
        info["df"] = np.diff(starts)
        if len(lengths):
            info["minlen"] = length_bytes(np.minimum.reduceat(lengths, starts[:-1]))
            info["maxlen"] = length_bytes(np.maximum.reduceat(lengths, starts[:-1]))
        info["maxweight"] = _group_max(tfs, starts)
        info["minid"], info["maxid"] = docs[starts[:-1]], docs[starts[1:] - 1]
        info["offset"], info["length"] = base + block_starts[:-1], block_sizes
        info["doc_width"], info["tf_width"] = doc_widths, tf_widths
        info["pos_offset"] = pos_base + pos_offsets[:-1]
        info["pos_length"], info["pos_width"] = np.diff(pos_offsets), pos_widths
        prefix = whoosh3.pack_ushort(self._fieldid)
        raw = info.tobytes()
        size = _TERM_INFO.itemsize
        add_sorted(self._tindex, [prefix + term for term in terms],
                   [raw[i:i + size] for i in range(0, len(raw), size)])

    def close(self):
        super().close()
        self._posfile.close()


#: ArrayTermInfo.to_bytes as a numpy record: W3's term info (big-endian) then _EXTENT.
_TERM_INFO = np.dtype([("flags", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlen", "u1"), ("maxlen", "u1"),
                       ("maxweight", ">f4"), ("minid", ">u4"), ("maxid", ">u4"), ("offset", ">u8"),
                       ("length", ">i4"), ("doc_width", "u1"), ("tf_width", "u1"), ("pos_offset", "<u8"),
                       ("pos_length", "<u4"), ("pos_width", "u1")])
_LENGTH_BYTES = np.array([byte_to_length(b) for b in range(256)], np.int64)


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """Whoosh's ``length_to_byte`` of every length (its lossy one-byte encoding)."""
    return np.where(lengths >= _LENGTH_BYTES[255], 255, np.searchsorted(_LENGTH_BYTES, lengths)).astype(np.uint8)


def add_sorted(table: filetables.OrderedHashWriter, keys: list[bytes], values: list[bytes]) -> None:
    """``table.add(key, value)`` for keys in increasing order, written in one piece:
    the same file as one call per key, without a Python call per key."""
    if not keys:
        return
    if keys[0] <= table.lastkey:
        raise ValueError(f"keys must increase: {table.lastkey!r}..{keys[0]!r}")
    dbfile = table.dbfile
    heads = [_RECORD_HEAD.pack(len(k), len(v)) for k, v in zip(keys, values)]
    sizes = np.fromiter((8 + len(k) + len(v) for k, v in zip(keys, values)), np.int64, len(keys))
    starts = np.zeros(len(sizes), np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    positions = (dbfile.tell() + starts).tolist()
    dbfile.write(b"".join(part for record in zip(heads, keys, values) for part in record))
    table.index.extend(positions)
    buckets, hashed = table.buckets, table.hashfn
    for key, position in zip(keys, positions):
        h = hashed(key)
        buckets[h & 255].append((h, position))
    table.lastkey = keys[-1]


_RECORD_HEAD = struct.Struct("!ii")  # (filetables' own record header)


def _group_max(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    if not len(values):
        return np.zeros(len(starts) - 1, np.int64)
    return np.maximum.reduceat(values, starts[:-1])


def _scatter(out: np.ndarray, destinations: np.ndarray, data: np.ndarray, offsets: np.ndarray) -> None:
    """Copy group ``g`` of ``data`` (``offsets[g]:offsets[g+1]``) to ``out[destinations[g]:]``."""
    if len(data):
        out[run_indices(destinations, np.diff(offsets))] = data


# --- reading ---------------------------------------------------------------------------

class ArrayTermsReader(whoosh3.W3TermsReader):
    """The lexicon (Whoosh's) and the postings as arrays. Reads with ``os.pread``, so one
    reader can serve every thread."""

    def __init__(self, codec, dbfile, length, postfile, path_of):
        super().__init__(codec, dbfile, length, postfile)
        # (files, not bare descriptors: closed with the reader even if no one calls close)
        self._docs_file = open(path_of(whoosh3.W3Codec.POSTS_EXT), "rb", buffering=0)
        self._pos_file = open(path_of(BahthCodec.POSITIONS_EXT), "rb", buffering=0)
        self._docs_fd, self._pos_fd = self._docs_file.fileno(), self._pos_file.fileno()
        # Positions are mapped, not read: a query decodes the positions of a few documents
        # out of a word's whole list (search.proximity), so only those pages are touched.
        size = os.fstat(self._pos_fd).st_size
        self._pos_map = mmap.mmap(self._pos_fd, size, access=mmap.ACCESS_READ) if size else None

    def term_info(self, fieldname, tbytes):
        key = self._keycoder(fieldname, tbytes)
        try:
            return ArrayTermInfo.from_bytes(self._tindex[key])
        except KeyError:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}") from None

    def info(self, fieldname: str, tbytes: bytes) -> ArrayTermInfo | None:
        try:
            return self.term_info(fieldname, tbytes)
        except TermNotFound:
            return None

    def postings(self, info: ArrayTermInfo) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, frequencies) of a term, in document order."""
        offset, size = info.extent()
        data = os.pread(self._docs_fd, size, offset)
        df = info.doc_frequency()
        split = len(data) - df * info.tf_width  # (frequencies are never ESCAPED)
        return undelta(unpack(data, info.doc_width, df)), unpack(data, info.tf_width, df, split)

    def positions(self, info: ArrayTermInfo, tfs: np.ndarray, chosen: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """(positions, start of each posting's positions plus the end) of a stem term;
        with ``chosen`` (indexes of postings), of those postings only: each posting's
        positions are coded apart, so only theirs are decoded."""
        ends = np.zeros(len(tfs) + 1, np.int64)
        np.cumsum(tfs, out=ends[1:])
        gaps = unpack(self._pos_map, info.pos_width, int(ends[-1]), info.pos_offset) \
            if info.pos_length else np.zeros(0, np.uint8)
        if chosen is not None:
            tfs = tfs[chosen]
            gaps = gaps[run_indices(ends[chosen], tfs)]
            ends = np.zeros(len(tfs) + 1, np.int64)
            np.cumsum(tfs, out=ends[1:])
        gaps = gaps.astype(np.int64)
        # Undo the per-posting deltas: a running sum that restarts at every posting.
        running = np.cumsum(gaps)
        heads = ends[:-1][tfs > 0]
        restart = np.zeros(len(gaps), np.int64)
        restart[heads] = running[heads] - gaps[heads]
        return running - np.maximum.accumulate(restart), ends

    def matcher(self, fieldname, tbytes, format_, scorer=None):
        """Whoosh's view of a term's postings (its own searches, merges): a list matcher
        whose values are positions encoded the way Whoosh's Positions format encodes them."""
        info = self.term_info(fieldname, tbytes)
        docs, tfs = self.postings(info)
        if not format_.supports("positions"):  # (an id)
            values = None
        elif tbytes.startswith(EXACT_PREFIX):  # no positions kept: the frequency only
            values = [format_.encode([0] * tf) for tf in tfs.tolist()]
        else:
            positions, ends = self.positions(info, tfs)
            flat, bounds = positions.tolist(), ends.tolist()
            values = [format_.encode(flat[a:b]) for a, b in zip(bounds, bounds[1:])]
        return ListMatcher(docs.tolist(), [float(t) for t in tfs.tolist()], values, format_,
                           scorer=scorer, term=(fieldname, tbytes), terminfo=info)

    def close(self):
        super().close()
        self._docs_file.close()
        if self._pos_map is not None:
            try:
                self._pos_map.close()
            except BufferError:  # an array still looks into it: unmapped when it goes
                pass
        self._pos_file.close()


class BahthCodec(whoosh3.W3Codec):
    """Whoosh's W3 codec with :mod:`search.codec`'s postings."""

    POSITIONS_EXT = ".bps"
    STORED_EXT = ".bsd"
    TEXTS_EXT = ".btx"

    def field_writer(self, storage, segment):
        return ArrayFieldWriter(self, storage, segment)

    def per_document_writer(self, storage, segment):
        return ArrayPerDocWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return ArrayPerDocReader(storage, segment)

    def terms_reader(self, storage, segment):
        name = segment.make_filename(self.TERMS_EXT)
        folder = storage.folder

        def path_of(ext: str) -> str:
            return os.path.join(folder, segment.make_filename(ext))
        return ArrayTermsReader(self, storage.open_file(name), storage.file_length(name),
                                segment.open_file(storage, self.POSTS_EXT), path_of)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        raise NotImplementedError("Bahth's postings are read through ArrayTermsReader")


# --- per-document values -------------------------------------------------------------

#: Documents per block of stored values, compressed together: neighbours share most of
#: their vocabulary, so a block compresses better and faster than its documents one by one
#: (85k corpus, bodies at zlib level 1: one by one 82 MB, blocks of 4 77 MB, of 16 74 MB),
#: while a hit costs the decompression of its whole block.
STORED_BLOCK = 4
STORED_LEVEL = 6  # zlib level: blocks of 4 documents are 12% smaller than at level 1, as fast to read
_BLOCKS_TAIL = struct.Struct("<QQ")  # number of blocks, where their index starts
#: The stored field kept apart from the others: a hit's title, date and link are read
#: without decompressing its text (only the snippet needs it).
TEXT_FIELD = "body"


def stored_blocks(fields: list[dict]) -> tuple[bytes, bytes]:
    """The stored fields of consecutive documents as one block of each store: the fields
    but the text (``.bsd``), the texts (``.btx``)."""
    meta = [{k: v for k, v in f.items() if k != TEXT_FIELD} for f in fields]
    texts = [f.get(TEXT_FIELD) for f in fields]
    return (zlib.compress(pickle.dumps(meta, pickle.HIGHEST_PROTOCOL), STORED_LEVEL),
            zlib.compress(pickle.dumps(texts, pickle.HIGHEST_PROTOCOL), STORED_LEVEL))


class _BlockWriter:
    """A file of compressed blocks of documents' values, and where each block starts."""

    def __init__(self, dbfile):
        self._file, self._firsts, self._offsets = dbfile, [], []

    def add(self, first_doc: int, block: bytes) -> None:
        self._firsts.append(first_doc)
        self._offsets.append(self._file.tell())
        self._file.write(block)

    def close(self) -> None:
        index_at = self._file.tell()
        self._file.write(np.array(self._firsts, "<u8").tobytes())
        self._file.write(np.array(self._offsets + [index_at], "<u8").tobytes())
        self._file.write(_BLOCKS_TAIL.pack(len(self._firsts), index_at))
        self._file.close()


class _BlockReader:
    """A document's value from a file of blocks (the last block read is kept: neighbours
    are often read together). Reads with ``os.pread``."""

    def __init__(self, path: str):
        self._file = open(path, "rb", buffering=0)  # (closed with the reader, whatever happens)
        self._fd = self._file.fileno()
        size = os.fstat(self._fd).st_size
        count, index_at = _BLOCKS_TAIL.unpack(os.pread(self._fd, _BLOCKS_TAIL.size, size - _BLOCKS_TAIL.size))
        index = np.frombuffer(os.pread(self._fd, 8 * (2 * count + 1), index_at), "<u8").astype(np.int64)
        self._firsts, self._offsets = index[:count], index[count:]
        self._cached: tuple[int, list] = (-1, [])

    def get(self, docnum: int):
        block = int(np.searchsorted(self._firsts, docnum, side="right")) - 1
        if block != self._cached[0]:
            start, end = int(self._offsets[block]), int(self._offsets[block + 1])
            self._cached = (block, pickle.loads(zlib.decompress(os.pread(self._fd, end - start, start))))
        return self._cached[1][docnum - self._firsts[block]]

    def close(self) -> None:
        self._file.close()


class ArrayPerDocWriter(whoosh3.W3PerDocWriter):
    """W3's per-document writer, with stored fields in compressed blocks of documents
    (:func:`stored_blocks`) instead of one compressed pickle per document, and which also
    takes a whole batch of documents at once (the bulk build): stored blocks made by its
    workers, field lengths and column values as lists and arrays."""

    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        del self._colwriters["_stored"]  # (W3's one-pickle-per-document column)
        self._meta = _BlockWriter(segment.create_file(storage, BahthCodec.STORED_EXT))
        self._texts = _BlockWriter(segment.create_file(storage, BahthCodec.TEXTS_EXT))
        self._pending: list[dict] = []  # stored fields of documents not yet in a block

    def finish_doc(self):
        self._pending.append(self._storedfields)
        self._storedfields = {}
        self._indoc = False
        if len(self._pending) >= STORED_BLOCK:
            self._flush_stored()

    def _flush_stored(self) -> None:
        if self._pending:
            self._add_blocks(self._doccount - len(self._pending), [(len(self._pending), *stored_blocks(self._pending))])
            self._pending = []

    def _add_blocks(self, first: int, blocks: list[tuple[int, bytes, bytes]]) -> None:
        for size, meta, texts in blocks:
            self._meta.add(first, meta)
            self._texts.add(first, texts)
            first += size

    def add_documents(self, count: int, blocks: list[tuple[int, bytes, bytes]], lengths: dict[str, np.ndarray],
                      values: dict[str, tuple]) -> None:
        """The next ``count`` documents: their stored fields as (documents, blocks)
        made by :func:`stored_blocks`, each text field's lengths, and per column (field
        object, one value per document)."""
        if self._indoc:
            raise RuntimeError("add_documents inside a document")
        self._flush_stored()
        first = self._doccount
        self._add_blocks(first, blocks)
        for name, field_lengths in lengths.items():
            self._fieldlengths[name] += int(field_lengths.sum())
            _append_numbers(self._column(whoosh3._lenfield(name), whoosh3.LENGTHS_COLUMN),
                            whoosh3.LENGTHS_COLUMN, first, length_bytes(field_lengths))
        for name, (fieldobj, column_values) in values.items():
            column = fieldobj.column_type
            writer = self._column(name, column)
            if isinstance(writer, StemsColumn.Writer):
                writer.add_many(first, *column_values)
            elif isinstance(writer, (CodeColumn.Writer, CodesColumn.Writer)):
                writer.add_many(first, column_values)
            elif isinstance(writer, columns.NumericColumn.Writer):
                _append_numbers(writer, column, first, np.asarray(column_values))
            else:  # fixed or variable bytes
                _append(writer, first, column_values)
        self._doccount += count
        self._docnum = self._doccount - 1

    def close(self):
        self._flush_stored()
        self._meta.close()
        self._texts.close()
        self._indoc = None  # (W3's close finishes a document unless this is None)
        super().close()

    def _column(self, name: str, column):
        if not self._has_column(name):
            self._create_column(name, column)
        return self._get_column(name)


def _append(writer: columns.VarBytesColumn.Writer | columns.FixedBytesColumn.Writer, first: int,
            blobs: list[bytes]) -> None:
    """Whoosh's ``add`` of consecutive documents' bytes, written in one piece."""
    if isinstance(writer, columns.FixedBytesColumn.Writer):
        writer.fill(first)
        writer._dbfile.write(b"".join(blobs))
        writer._count = first + len(blobs)
        return
    writer.fill(first)
    sizes = [len(blob) for blob in blobs]
    writer._dbfile.write(b"".join(blobs))
    writer._lengths.extend(sizes)
    starts = np.zeros(len(sizes), np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    writer._offsets.extend((writer._offset_base + starts).tolist())
    writer._offset_base += sum(sizes)
    writer._count = first + len(blobs)


def _append_numbers(writer: columns.NumericColumn.Writer, column: columns.NumericColumn, first: int,
                    numbers: np.ndarray) -> None:
    """Whoosh's numeric ``add`` of consecutive documents' values (big-endian), in one piece."""
    writer.fill(first)
    writer._dbfile.write(numbers.astype(np.dtype(">" + column._typecode)).tobytes())
    writer._count = first + len(numbers)


class ArrayPerDocReader(whoosh3.W3PerDocReader):
    """W3's per-document reader, with stored fields read from blocks (a hit's fields
    without its text when that is all that is asked), and whole columns as arrays."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)

        def path(ext: str) -> str:
            return os.path.join(storage.folder, segment.make_filename(ext))
        self._meta = _BlockReader(path(BahthCodec.STORED_EXT))
        self._texts = _BlockReader(path(BahthCodec.TEXTS_EXT))

    def stored_fields(self, docnum):
        fields = dict(self._meta.get(docnum))
        text = self._texts.get(docnum)
        if text is not None:
            fields[TEXT_FIELD] = text
        return fields

    def stored_meta(self, docnum) -> dict:
        """The stored fields of a document but its text."""
        return self._meta.get(docnum)

    def close(self):
        self._meta.close()
        self._texts.close()
        super().close()

    def lengths(self, fieldname: str) -> np.ndarray:
        """The length byte (Whoosh's lossy encoding of a field's length) of every document."""
        name = whoosh3._lenfield(fieldname)
        if not self.has_column(name):
            return np.zeros(self._doccount, np.uint8)
        return numeric_array(self.column_reader(name, whoosh3.LENGTHS_COLUMN), self._doccount)


def _little_endian(raw: np.ndarray, at: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """The unsigned little-endian integers of ``widths`` bytes starting at ``at`` in ``raw``."""
    out = np.zeros(len(at), np.int64)
    for byte in range(4):
        wide = widths > byte
        out[wide] |= raw[at[wide] + byte].astype(np.int64) << (8 * byte)
    return out


# --- columns read whole as arrays -----------------------------------------------------

class _ArrayColumn(columns.Column):
    """A Whoosh column whose writer and reader are its nested ``Writer`` and ``Reader``
    classes; ``_default`` is what a document without a value reads as."""

    _default: object = b""

    def writer(self, dbfile):
        return self.Writer(dbfile)

    def reader(self, dbfile, basepos, length, doccount):
        return self.Reader(dbfile, basepos, length, doccount)


class CodeColumn(_ArrayColumn):
    """A text value per document kept as a table of the distinct values and one integer
    code per document (0 = no value), so that a search counts and filters whole columns
    with numpy (``bincount``, masks). Whoosh reads it like any column."""

    _TAIL = struct.Struct("<QB")  # bytes of the value table, code width
    _default = None

    class Writer(columns.ColumnWriter):
        def __init__(self, dbfile):
            super().__init__(dbfile)
            self._codes: dict[str, int] = {}
            self._rows = np.zeros(1024, np.uint32)

        def add(self, docnum, value):
            if value is None or value == "":
                return
            if isinstance(value, bytes):
                value = value.decode("utf-8")
            code = self._codes.setdefault(value, len(self._codes) + 1)
            if docnum >= len(self._rows):
                self._rows = np.concatenate([self._rows, np.zeros(max(docnum + 1, 2 * len(self._rows)), np.uint32)])
            self._rows[docnum] = code

        def add_many(self, start: int, values: Iterable[str | None]) -> None:
            for offset, value in enumerate(values):
                self.add(start + offset, value)

        def finish(self, doccount):
            rows = self._rows[:doccount]
            if len(rows) < doccount:
                rows = np.concatenate([rows, np.zeros(doccount - len(rows), np.uint32)])
            table = json.dumps(list(self._codes), ensure_ascii=False).encode("utf-8")
            width = 2 if len(self._codes) < 1 << 16 else 4
            self._dbfile.write(table)
            self._dbfile.write(rows.astype(_WIDTH_DTYPES[width]).tobytes())
            self._dbfile.write(CodeColumn._TAIL.pack(len(table), width))

    class Reader(columns.ColumnReader):
        def __init__(self, dbfile, basepos, length, doccount):
            super().__init__(dbfile, basepos, length, doccount)
            tail = CodeColumn._TAIL
            table_size, width = tail.unpack(dbfile.get(basepos + length - tail.size, tail.size))
            self.values: list[str | None] = [None] + json.loads(dbfile.get(basepos, table_size).decode("utf-8"))
            self.codes = np.frombuffer(dbfile.get(basepos + table_size, doccount * width),
                                       dtype=_WIDTH_DTYPES[width]).astype(np.int64)

        def __getitem__(self, docnum):
            return self.values[self.codes[docnum]]

        def __iter__(self):
            values = self.values
            return (values[code] for code in self.codes.tolist())


def numeric_array(column, count: int) -> np.ndarray:
    """Every value of a Whoosh numeric column reader, as an array (its file holds them
    big-endian, the trailing defaults left out)."""
    dtype = np.dtype(">" + column._typecode)
    stored = np.frombuffer(column._dbfile.get(column._basepos, column._count * dtype.itemsize), dtype)
    out = np.full(count, column._default, dtype=dtype.newbyteorder("="))
    out[:len(stored)] = stored
    return out


class StemsColumn(_ArrayColumn):
    """The stems of each document as a multiset: (stem number, count) pairs, numbers into
    the segment's table of stems, the most used stems first (small numbers), sorted and
    delta-encoded per document at the width its largest gap needs. A search reads the
    pairs of its top hits as arrays (search.grams); Whoosh reads a document's value as
    the text of its stems (each repeated as often as it occurs), and writes one from
    such a text (updates, merges)."""

    _TAIL = struct.Struct("<QQ")  # where the table starts, where the offsets start

    class Writer(columns.ColumnWriter):
        def __init__(self, dbfile):
            super().__init__(dbfile)
            self._numbers: dict[str, int] = {}
            self._docs: list[np.ndarray] = []  # per batch: the document of each pair
            self._stems: list[np.ndarray] = []
            self._counts: list[np.ndarray] = []

        def add(self, docnum, value):
            text = value.decode("utf-8") if isinstance(value, bytes) else (value or "")
            stems, counts = np.unique(np.array(text.split(), dtype=object), return_counts=True) \
                if text else (np.zeros(0, object), np.zeros(0, np.int64))
            self.add_many(docnum, np.zeros(len(stems), np.int64), list(stems), np.arange(len(stems)), counts)

        def add_many(self, first: int, docs: np.ndarray, table: list[str], stems: np.ndarray,
                     counts: np.ndarray) -> None:
            """Pairs of consecutive documents: document ``first + docs[i]`` holds stem
            ``table[stems[i]]`` ``counts[i]`` times."""
            numbers = self._numbers
            mapped = np.array([numbers.setdefault(stem, len(numbers)) for stem in table], np.int64)
            self._docs.append(docs + first)
            self._stems.append(mapped[stems] if len(stems) else np.zeros(0, np.int64))
            self._counts.append(np.asarray(counts, np.int64))

        def finish(self, doccount):
            docs = np.concatenate(self._docs) if self._docs else np.zeros(0, np.int64)
            stems = np.concatenate(self._stems) if self._stems else np.zeros(0, np.int64)
            counts = np.concatenate(self._counts) if self._counts else np.zeros(0, np.int64)
            # Numbered by how many documents use them, most used first: most gaps are small;
            # ties in the stems' order, so that the same articles always give the same file.
            names = np.array(list(self._numbers), dtype=object)
            alphabetical = np.empty(len(names), np.int64)
            alphabetical[np.argsort(names, kind="stable")] = np.arange(len(names))
            by_use = np.lexsort((alphabetical, -np.bincount(stems, minlength=len(self._numbers))))
            rank = np.empty(len(by_use), np.int64)
            rank[by_use] = np.arange(len(by_use))
            stems = rank[stems]
            order = np.lexsort((stems, docs))
            docs, stems, counts = docs[order], stems[order], counts[order]
            starts = np.searchsorted(docs, np.arange(doccount + 1))
            stem_bytes, stem_offsets, stem_widths = pack_groups(deltas(stems, starts), starts)
            count_bytes, count_offsets, count_widths = pack_groups(counts, starts, np.where(
                _group_max(counts, starts) < 256, 1, 2).astype(np.int64))
            # Per document: a header byte (widths), its stem gaps, its counts.
            sizes = 1 + np.diff(stem_offsets) + np.diff(count_offsets)
            offsets = np.zeros(doccount + 1, np.int64)
            np.cumsum(sizes, out=offsets[1:])
            out = np.zeros(int(offsets[-1]), np.uint8)
            out[offsets[:-1]] = stem_widths + 8 * count_widths
            _scatter(out, offsets[:-1] + 1, stem_bytes, stem_offsets)
            _scatter(out, offsets[:-1] + 1 + np.diff(stem_offsets), count_bytes, count_offsets)
            names = [None] * len(by_use)
            for stem, number in self._numbers.items():
                names[rank[number]] = stem
            table = json.dumps(names, ensure_ascii=False).encode("utf-8")
            self._dbfile.write(out.tobytes())
            self._dbfile.write(table)
            self._dbfile.write(offsets.astype("<u8").tobytes())
            self._dbfile.write(StemsColumn._TAIL.pack(len(out), len(out) + len(table)))

    class Reader(columns.ColumnReader):
        def __init__(self, dbfile, basepos, length, doccount):
            super().__init__(dbfile, basepos, length, doccount)
            tail = StemsColumn._TAIL
            self._table_at, self._offsets_at = tail.unpack(dbfile.get(basepos + length - tail.size, tail.size))
            self.offsets = np.frombuffer(dbfile.get(basepos + self._offsets_at, 8 * (doccount + 1)), "<u8").astype(np.int64)
            self._table: list[str] | None = None
            self._mapped = None  # the column file's bytes, mapped (see _bytes)

        def _bytes(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
            """The bytes of ``starts[i]:ends[i]`` of the column, one run after another: one
            gather from the mapped file (a search reads 100 documents' stems), or reads
            where the file cannot be mapped (a storage in memory)."""
            if self._mapped is None:
                try:
                    self._mapped = np.frombuffer(mmap.mmap(self._dbfile.file.fileno(), 0, access=mmap.ACCESS_READ),
                                                 np.uint8)
                except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
                    self._mapped = False
            if self._mapped is False:
                return np.frombuffer(b"".join(self._dbfile.get(self._basepos + int(a), int(b - a))
                                              for a, b in zip(starts.tolist(), ends.tolist())), np.uint8)
            return self._mapped[run_indices(self._basepos + starts, ends - starts)]

        @property
        def table(self) -> list[str]:
            """The segment's stems, by number."""
            if self._table is None:
                raw = self._dbfile.get(self._basepos + self._table_at, self._offsets_at - self._table_at)
                self._table = json.loads(raw.decode("utf-8"))
            return self._table

        def pairs(self, docnum: int) -> tuple[np.ndarray, np.ndarray]:
            """(stem numbers, counts) of a document."""
            start, end = int(self.offsets[docnum]), int(self.offsets[docnum + 1])
            if end <= start:
                return np.zeros(0, np.int64), np.zeros(0, np.int64)
            data = self._dbfile.get(self._basepos + start, end - start)
            stem_width, count_width = data[0] % 8, data[0] // 8
            size = (len(data) - 1) // (stem_width + count_width)
            gaps = unpack(data[1:1 + size * stem_width], stem_width)
            return undelta(gaps), unpack(data[1 + size * stem_width:], count_width).astype(np.int64)

        def pairs_of(self, docnums: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            """(position in ``docnums``, stem number, count) of many documents, decoded
            together (grouped by the widths their numbers were packed at)."""
            ends, starts = self.offsets[np.array(docnums, np.int64) + 1], self.offsets[docnums]
            raw = self._bytes(starts, ends)
            sizes = ends - starts
            at = np.zeros(len(docnums) + 1, np.int64)
            np.cumsum(sizes, out=at[1:])
            header = raw[at[:-1][sizes > 0]].astype(np.int64)
            present = np.flatnonzero(sizes > 0)
            stem_width, count_width = header % 8, header // 8
            pairs = (sizes[present] - 1) // (stem_width + count_width)
            owner = np.repeat(present, pairs)
            index = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
            base = np.repeat(at[:-1][present] + 1, pairs)
            widths = np.repeat(stem_width, pairs)
            gaps = _little_endian(raw, base + index * widths, widths)
            count_base = base + np.repeat(pairs * stem_width, pairs)
            count_widths = np.repeat(count_width, pairs)
            counts = _little_endian(raw, count_base + index * count_widths, count_widths)
            # Undo the deltas: a running sum that restarts at every document.
            running = np.cumsum(gaps)
            firsts = np.cumsum(pairs) - pairs
            restart = np.repeat(running[firsts] - gaps[firsts], pairs) if len(gaps) else gaps
            return owner, running - restart, counts

        def __getitem__(self, docnum):
            stems, counts = self.pairs(docnum)
            table = self.table
            return " ".join(" ".join([table[s]] * c) for s, c in zip(stems.tolist(), counts.tolist())).encode("utf-8")


class CodesColumn(_ArrayColumn):
    """Several text values per document (the places an article mentions): a table of the
    distinct values, and per document its codes (1-based; offsets say where each
    document's codes start), so that a search counts and filters them with numpy. Whoosh
    reads a document's value as its values joined by ``|`` and writes one from such a text."""

    SEPARATOR = "|"
    _TAIL = struct.Struct("<QQB")  # bytes of the value table, of the offsets, code width

    class Writer(columns.ColumnWriter):
        def __init__(self, dbfile):
            super().__init__(dbfile)
            self._codes: dict[str, int] = {}
            self._docs: list[int] = []
            self._values: list[int] = []

        def add(self, docnum, value):
            text = value.decode("utf-8") if isinstance(value, bytes) else (value or "")
            self.add_many(docnum, [[v for v in text.split(CodesColumn.SEPARATOR) if v]])

        def add_many(self, first: int, values: list[list[str]]) -> None:
            """The values of consecutive documents, from document ``first`` on."""
            codes = self._codes
            for offset, names in enumerate(values):
                for name in dict.fromkeys(names):
                    self._docs.append(first + offset)
                    self._values.append(codes.setdefault(name, len(codes) + 1))

        def finish(self, doccount):
            docs, values = np.array(self._docs, np.int64), np.array(self._values, np.int64)
            order = np.argsort(docs, kind="stable")
            offsets = np.searchsorted(docs[order], np.arange(doccount + 1)).astype("<u8")
            width = 2 if len(self._codes) < 1 << 16 else 4
            table = json.dumps(list(self._codes), ensure_ascii=False).encode("utf-8")
            self._dbfile.write(table)
            self._dbfile.write(offsets.tobytes())
            self._dbfile.write(values[order].astype(_WIDTH_DTYPES[width]).tobytes())
            self._dbfile.write(CodesColumn._TAIL.pack(len(table), len(offsets) * 8, width))

    class Reader(columns.ColumnReader):
        def __init__(self, dbfile, basepos, length, doccount):
            super().__init__(dbfile, basepos, length, doccount)
            tail = CodesColumn._TAIL
            table_size, offsets_size, width = tail.unpack(dbfile.get(basepos + length - tail.size, tail.size))
            self.values: list[str | None] = [None] + json.loads(dbfile.get(basepos, table_size).decode("utf-8"))
            self.offsets = np.frombuffer(dbfile.get(basepos + table_size, offsets_size), "<u8").astype(np.int64)
            count = int(self.offsets[-1]) if len(self.offsets) else 0
            self.codes = np.frombuffer(dbfile.get(basepos + table_size + offsets_size, count * width),
                                       dtype=_WIDTH_DTYPES[width]).astype(np.int64)

        def __getitem__(self, docnum):
            values = self.values
            codes = self.codes[self.offsets[docnum]:self.offsets[docnum + 1]]
            return CodesColumn.SEPARATOR.join(values[c] for c in codes.tolist()).encode("utf-8")
