"""Reading articles from disk: folders of .txt files (with metadata.json) and JSON Lines.

Every input becomes either a :class:`Document` (cleaned, ready to analyze) or a
:class:`Skip` saying where and why, so nothing is lost silently.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Union

from search.clean import clean_text, parse_page

METADATA_FILE = "metadata.json"
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
#: The record format of shared/corpus (and of `bahth index` input in general).
RECORD_FIELDS = ("id", "source", "date", "title", "url", "category", "text")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")


class IngestError(Exception):
    """An input that cannot be read at all (a missing path, a broken metadata file)."""


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


Item = Union[Document, Skip]


# --- decoding ------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes; returns (text, encoding). BOMs are honoured, then UTF-8,
    then Windows-1256 (the legacy Arabic code page) when the result is Arabic."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("cp1256")
        except UnicodeDecodeError:
            raise utf8_error from None
        if re.search("[\u0621-\u064a]", text):
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
        return dt.date(*map(int, match.groups()))
    except ValueError:
        raise ValueError(f"date {value!r} is not a real calendar date") from None


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
        raise IngestError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise IngestError(f"{path}: expected an object mapping file names to metadata")
    return data


def read_text_file(path: Path, metadata: dict) -> Item:
    try:
        text, _ = decode(path.read_bytes())
    except UnicodeDecodeError as error:
        return Skip(str(path), f"not UTF-8, UTF-16 or Windows-1256 text ({error.reason} at byte {error.start})")
    except OSError as error:
        return Skip(str(path), f"cannot read ({error.strerror})")
    meta = metadata.get(path.name) or {}
    record = {key: meta.get(key) for key in RECORD_FIELDS if key != "text"}
    record["id"] = meta.get("id") or path.name.removesuffix(".txt")
    record["text"] = text.replace("\x00", "")
    return make_document(record, str(path))


def read_jsonl(path: Path) -> Iterator[Item]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                where = f"{path}:{number}"
                if not line.strip():
                    continue
                try:
                    record = json.loads(decode(line)[0])
                except (ValueError, UnicodeDecodeError) as error:
                    yield Skip(where, f"invalid JSON ({error})")
                    continue
                if not isinstance(record, dict):
                    yield Skip(where, "a JSON line must be an object")
                    continue
                yield make_document(record, where)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        yield Skip(str(path), f"cannot read ({error})")


def _input_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*")
            if p.is_file() and (p.suffix == ".txt" or p.name.endswith(JSONL_SUFFIXES))
        )
    raise IngestError(f"{path}: no such file or directory")


def read_documents(paths: Iterable[Path]) -> Iterator[Item]:
    """All documents under ``paths``, in order; later copies of an id are skipped."""
    seen: dict[str, str] = {}
    files = [f for p in paths for f in _input_files(Path(p))]
    metadata_by_folder: dict[Path, dict] = {}
    for file in files:
        if file.name.endswith(JSONL_SUFFIXES):
            items = read_jsonl(file)
        elif file.suffix == ".txt":
            folder = file.parent
            if folder not in metadata_by_folder:
                metadata_by_folder[folder] = _load_metadata(folder)
            items = iter([read_text_file(file, metadata_by_folder[folder])])
        else:
            items = iter([Skip(str(file), "not a .txt, .jsonl or .jsonl.gz file")])
        for item in items:
            if isinstance(item, Document):
                if item.id in seen:
                    item = Skip(item.where, f"duplicate id {item.id!r} (first seen at {seen[item.id]})")
                else:
                    seen[item.id] = item.where
            yield item
