"""Reading articles from disk: folders of .txt files (with metadata.json) and JSON Lines.

Every input becomes either a :class:`Document` (cleaned, ready to analyze) or a
:class:`Skip` saying where and why, so nothing is lost silently.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Union

from search.clean import clean_text, parse_page
from search.errors import InputError

METADATA_FILE = "metadata.json"
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
#: The record format of shared/corpus (and of `bahth index` input in general).
RECORD_FIELDS = ("id", "source", "date", "title", "url", "category", "text")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
#: One article (a .txt file or a JSON line) larger than this is refused: no real news
#: article is near it, and it would cost the index and every snippet of it.
MAX_RECORD_BYTES = 8 * 1024 * 1024
#: Dates outside this range are data errors (a scraper's epoch 0001, a typo'd 2202).
MIN_YEAR = 1800
FUTURE_TOLERANCE = dt.timedelta(days=1)  # time zones: "tomorrow" may already be today somewhere


@dataclass
class Document:
    id: str
    body: str
    title: str | None = None
    source: str | None = None
    date: dt.date | None = None
    url: str | None = None
    category: str | None = None
    where: str = ""  # file (and line) it came from, for messages
    warnings: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        """Content hash: re-indexing an unchanged document can be skipped."""
        parts = (self.title, self.body, self.source, self.date, self.url, self.category)
        return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=12).hexdigest()


@dataclass
class Skip:
    where: str
    reason: str
    count: int = 1  # inputs it stands for (several lines of a file reported as one)
    not_record: bool = False  # a line of a JSON Lines file that is not a JSON record


Item = Union[Document, Skip]


# --- decoding ------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


#: High bytes of UTF-16 code units for Latin (0x00) and Arabic (0x06) text.
_UTF16_HIGH_BYTES = frozenset((0x00, 0x06))


def sniff_encoding(head: bytes) -> str | None:
    """The encoding a file's first bytes prove: a BOM, or UTF-16 without one (nearly
    every other byte is 0x00 or 0x06, the high bytes of Latin and Arabic code points,
    which UTF-8 and Windows-1256 text never shows). None means "UTF-8 or Windows-1256",
    decided by :func:`decode`."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    sample = head[:4096]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) >= 4:
        pairs = len(sample) // 2
        for encoding, high in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
            if sum(high.count(b) for b in _UTF16_HIGH_BYTES) >= 0.9 * pairs:
                return encoding
    return None


def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes; returns (text, encoding). BOMs and UTF-16 are detected
    (:func:`sniff_encoding`), then UTF-8 is tried, then Windows-1256 (the legacy
    Arabic code page) but only when the result holds Arabic letters and no NULs,
    so a binary file is not taken for text."""
    encoding = sniff_encoding(data)
    if encoding:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            if encoding.startswith("utf-16-"):  # a guess from byte patterns, not a BOM
                raise
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("cp1256")
        except UnicodeDecodeError:
            raise utf8_error from None
        if re.search("[\u0621-\u064a]", text) and "\x00" not in text:
            return text, "cp1256"
        raise utf8_error from None


def parse_date(value: object) -> dt.date | None:
    """``YYYY-MM-DD`` (a time part is ignored); raises ValueError for anything else."""
    if value is None or value == "":
        return None
    match = _DATE.match(str(value).strip())
    if not match:
        raise ValueError(f"date {value!r} is not YYYY-MM-DD")
    try:
        date = dt.date(*map(int, match.groups()))
    except ValueError:
        raise ValueError(f"date {value!r} is not a real calendar date") from None
    if date.year < MIN_YEAR:
        raise ValueError(f"date {value!r} is before {MIN_YEAR}")
    if date > dt.date.today() + FUTURE_TOLERANCE:
        raise ValueError(f"date {value!r} is in the future")
    return date


def _text_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = clean_text(str(value))
    return text or None


# --- documents ---------------------------------------------------------------------

def make_document(record: dict, where: str) -> Item:
    """Build a Document from a record (JSONL line or .txt file with its metadata)."""
    doc_id = record.get("id")
    if not isinstance(doc_id, (str, int)) or not str(doc_id).strip():
        return Skip(where, "no id")
    raw_text = record.get("text")
    if raw_text is not None and not isinstance(raw_text, str):
        return Skip(where, f"text is {type(raw_text).__name__}, not a string")
    title = _text_or_none(record.get("title"))
    source = _text_or_none(record.get("source"))
    page = parse_page(clean_text(raw_text or ""), title=title, source=source)
    if not page.body and not page.title:
        return Skip(where, "empty document (no text and no title)")
    warnings = []
    try:
        date = parse_date(record.get("date"))
    except ValueError as error:
        date = None
        warnings.append(f"{error}; indexed without a date")
    return Document(
        id=str(doc_id).strip(),
        body=page.body,
        title=page.title,
        source=page.source,
        date=date,
        url=_text_or_none(record.get("url")),
        category=_text_or_none(record.get("category")),
        where=where,
        warnings=warnings,
    )


def _load_metadata(folder: Path) -> dict:
    path = folder / METADATA_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(decode(path.read_bytes())[0])
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected an object mapping file names to metadata")
    return data


@dataclass
class Raw:
    """One input as read from disk, not yet decoded or parsed: reading is cheap and in
    order, parsing (:func:`parse`) is the costly part and may run in worker processes."""

    where: str  # "file:line" or the .txt file's path, for messages
    data: bytes | str  # a JSON line (str when its file was decoded whole), or a .txt file's bytes
    file: str  # the file it comes from
    meta: dict | None = None  # a .txt file's entry in metadata.json (None for JSON lines)


def parse(raw: Raw) -> Item:
    """A document, or why the input is skipped. A skip of a line that is not a JSON
    record is marked ``not_record`` (:func:`in_order` summarises runs of them)."""
    if raw.meta is not None:
        return _parse_text_file(raw)
    if len(raw.data) > MAX_RECORD_BYTES:
        return Skip(raw.where, f"record larger than {MAX_RECORD_BYTES // 2**20} MB")
    try:
        # (strict=False: a tab or NUL typed raw inside a string is cleaned later, not a lost line)
        record = json.loads(raw.data if isinstance(raw.data, str) else decode(raw.data)[0], strict=False)
    except (ValueError, UnicodeDecodeError) as error:
        return Skip(raw.where, f"invalid JSON ({error})", not_record=True)
    if isinstance(record, list):
        return Skip(raw.where, "a JSON line must be an object, not a list: write one article per line "
                               "(JSON Lines)", not_record=True)
    if not isinstance(record, dict):
        return Skip(raw.where, "a JSON line must be an object", not_record=True)
    return make_document(record, raw.where)


def _parse_text_file(raw: Raw) -> Item:
    try:
        text, _ = decode(raw.data)
    except UnicodeDecodeError as error:
        return Skip(raw.where, f"not UTF-8, UTF-16 or Windows-1256 text ({error.reason} at byte {error.start})")
    record = {key: raw.meta.get(key) for key in RECORD_FIELDS if key != "text"}
    record["id"] = raw.meta.get("id") or Path(raw.where).name.removesuffix(".txt")
    record["text"] = text.replace("\x00", "")
    return make_document(record, raw.where)


def _read_text_file(path: Path, metadata: dict) -> Raw | Skip:
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            return Skip(str(path), f"larger than {MAX_RECORD_BYTES // 2**20} MB; split it into articles")
        data = path.read_bytes()
    except OSError as error:
        return Skip(str(path), f"cannot read ({error.strerror})")
    return Raw(str(path), data, str(path), metadata.get(path.name) or {})


def _jsonl_lines(handle) -> Iterator[tuple[str | bytes, bool]]:
    """Lines of an open binary JSONL stream, as (line, is_text): UTF-16 files are
    decoded as a whole (their newlines are two bytes), others line by line so one
    Windows-1256 line does not spoil its neighbours."""
    head = handle.peek(4096)[:4096] if hasattr(handle, "peek") else b""
    encoding = sniff_encoding(head)
    if encoding and encoding.startswith("utf-16"):
        for line in io.TextIOWrapper(handle, encoding=encoding, newline=None):
            yield line.lstrip("\ufeff"), True
    else:
        for line in handle:
            yield line, False


def _read_jsonl(path: Path) -> Iterator[Raw | Skip]:
    opener = gzip.open if path.name.endswith(".gz") else open
    records = 0
    try:
        with opener(path, "rb") as raw:
            handle = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
            for number, (line, _) in enumerate(_jsonl_lines(handle), 1):
                if line.strip():
                    records += 1
                    yield Raw(f"{path}:{number}", line, str(path))
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as error:
        yield Skip(str(path), f"cannot read ({error})")
        return
    if records == 0:
        yield Skip(str(path), "empty file (no records)")


#: Lines of one file that are not JSON records reported one by one; the rest are counted
#: and reported in one line (a file that is not JSON Lines would give one per line).
SHOWN_BAD_LINES = 5


class _BadLines:
    """The lines of one JSON Lines file that are not records."""

    def __init__(self, file: str):
        self.file, self.records, self.count, self.first_hidden, self.last = file, 0, 0, None, None

    def skip(self, skip: Skip) -> Skip | None:
        """The skip to report for this line, or None once it is one too many to list."""
        self.count += 1
        self.last = skip.where.rpartition(":")[2]
        if self.count <= SHOWN_BAD_LINES:
            return skip
        self.first_hidden = self.first_hidden or self.last
        return None

    def summary(self) -> Skip | None:
        if self.first_hidden is None:
            return None
        hidden = self.count - SHOWN_BAD_LINES
        verdict = ("; this file does not look like JSON Lines (one JSON object per line)"
                   if self.count > self.records / 2 else "")
        return Skip(f"{self.file}:{self.first_hidden}-{self.last}",
                    f"{hidden} more lines that are not JSON records, not listed one by one "
                    f"({self.count} of {self.records} lines in all){verdict}", count=hidden)


def _input_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*")
            if p.is_file() and (p.suffix == ".txt" or p.name.endswith(JSONL_SUFFIXES))
        )
    raise InputError(f"{path}: no such file or directory")


def count_inputs(paths: Iterable[Path]) -> int:
    """About how many inputs ``paths`` hold (lines of JSON Lines files, .txt files), read
    fast, for a progress total; unreadable files count as one."""
    total = 0
    for file in (f for p in paths for f in _input_files(Path(p))):
        if not file.name.endswith(JSONL_SUFFIXES):
            total += 1
            continue
        opener = gzip.open if file.name.endswith(".gz") else open
        try:
            with opener(file, "rb") as handle:
                lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        except (OSError, EOFError):
            lines = 1
        total += max(lines, 1)
    return total


def raw_inputs(paths: Iterable[Path]) -> Iterator[Raw | Skip]:
    """Every input under ``paths`` as read from disk, in order (files that cannot be read
    at all are skips already)."""
    files = [f for p in paths for f in _input_files(Path(p))]
    metadata_by_folder: dict[Path, dict] = {}
    for file in files:
        if file.name.endswith(JSONL_SUFFIXES):
            yield from _read_jsonl(file)
        elif file.suffix == ".txt":
            if file.parent not in metadata_by_folder:
                metadata_by_folder[file.parent] = _load_metadata(file.parent)
            yield _read_text_file(file, metadata_by_folder[file.parent])
        else:
            yield Skip(str(file), "not a .txt, .jsonl or .jsonl.gz file")


class InOrder:
    """The checks that need the inputs in order, fed (input, what it parsed to) pairs one
    by one: a later copy of an id is skipped, and after the first few lines of a file
    that are not JSON records the rest are summarised in one skip."""

    def __init__(self):
        self._seen: dict[str, str] = {}
        self._bad: _BadLines | None = None

    def feed(self, raw: Raw | None, item: Item) -> list[Item]:
        """What to report for this input (nothing, it, or a summary and it)."""
        out = []
        file = raw.file if raw is not None else None
        if self._bad is not None and file != self._bad.file:
            out += self.close()
        if raw is not None and raw.meta is None:
            self._bad = self._bad or _BadLines(file)
            self._bad.records += 1
        if isinstance(item, Skip) and item.not_record and self._bad is not None:
            item = self._bad.skip(item)
        elif isinstance(item, Document):
            if item.id in self._seen:
                item = Skip(item.where, f"duplicate id {item.id!r} (first seen at {self._seen[item.id]})")
            else:
                self._seen[item.id] = item.where
        return out + ([item] if item is not None else [])

    def close(self) -> list[Item]:
        """The summary of the current file's bad lines, if any."""
        summary = self._bad.summary() if self._bad is not None else None
        self._bad = None
        return [summary] if summary else []


def in_order(pairs: Iterable[tuple[Raw | None, Item]]) -> Iterator[Item]:
    checks = InOrder()
    for raw, item in pairs:
        yield from checks.feed(raw, item)
    yield from checks.close()


def read_documents(paths: Iterable[Path]) -> Iterator[Item]:
    """All documents under ``paths``, in order; later copies of an id are skipped."""
    return in_order((raw, parse(raw)) if isinstance(raw, Raw) else (None, raw) for raw in raw_inputs(paths))
