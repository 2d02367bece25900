"""Building and updating the Whoosh index without ever breaking the one being served.

Layout of an index directory::

    index/
      CURRENT          name of the live generation (replaced atomically)
      gen-<time>-<pid>/  a complete Whoosh index plus bahth.json (its manifest)
      .build.lock      held while a build runs

A rebuild writes a new generation, checks that it opens and holds the expected
number of documents, and only then points CURRENT at it. An update adds to the
live generation through Whoosh's own atomic commit.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from tqdm import tqdm
from whoosh import index as whoosh_index
from whoosh.index import LockError

from search.ingest import Document, Skip, read_documents
from search.schema import SCHEMA_VERSION, make_schema

CURRENT = "CURRENT"
MANIFEST = "bahth.json"
LOCK = ".build.lock"
KEEP_GENERATIONS = 2  # the live one and the one before it (a server may still be reading it)


class IndexProblem(Exception):
    """The index is missing, busy, or cannot be built; the message says what to do."""


@dataclass
class Summary:
    indexed: int = 0
    skipped: list[Skip] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    total: int = 0  # documents in the index afterwards
    generation: str = ""
    seconds: float = 0.0
    rebuilt: bool = False


def live_generation(index_dir: Path) -> Path | None:
    """The directory of the live index generation, or None when there is none yet."""
    try:
        name = (Path(index_dir) / CURRENT).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    path = Path(index_dir) / name
    return path if name and path.is_dir() else None


def open_index(index_dir: Path):
    generation = live_generation(index_dir)
    if generation is None:
        raise IndexProblem(f"no index in {index_dir}: run `bahth index` to build one")
    return whoosh_index.open_dir(str(generation))


def check_schema(generation: Path) -> None:
    """Refuse an index whose terms were made by another analyzer version."""
    version = read_manifest(generation).get("schema_version")
    if version != SCHEMA_VERSION:
        raise IndexProblem(
            f"the index in {generation.parent} was built by another version of bahth "
            f"(schema {version}, this is {SCHEMA_VERSION}): run `bahth index --rebuild` with its sources")


def read_manifest(generation: Path) -> dict:
    try:
        return json.loads((generation / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def document_fields(doc: Document) -> dict:
    fields = {"id": doc.id, "body": doc.body, "fingerprint": doc.fingerprint, "day": 0}
    for name in ("title", "source", "category", "url"):
        value = getattr(doc, name)
        if value:
            fields[name] = value
    if doc.date:
        fields["date"] = dt.datetime(doc.date.year, doc.date.month, doc.date.day)
        fields["day"] = doc.date.year * 10000 + doc.date.month * 100 + doc.date.day
        fields["year"] = f"{doc.date.year:04d}"
        fields["month"] = f"{doc.date.year:04d}-{doc.date.month:02d}"
    return fields


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexProblem(f"another `bahth index` is writing to {index_dir}; wait for it to finish") from None
        yield  # the lock goes with the process, so a killed build never leaves a stale one


def _switch_to(index_dir: Path, generation: Path) -> None:
    tmp = index_dir / f"{CURRENT}.{os.getpid()}.tmp"
    tmp.write_text(generation.name + "\n", "utf-8")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / CURRENT)


def _remove_old_generations(index_dir: Path) -> None:
    generations = sorted(p for p in index_dir.glob("gen-*") if p.is_dir())
    live = live_generation(index_dir)
    keep = {live} | set(generations[-KEEP_GENERATIONS:])
    for path in generations:
        if path not in keep:
            shutil.rmtree(path, ignore_errors=True)


def _write(writer, items: Iterable, summary: Summary, update: bool, progress: bool) -> None:
    add = writer.update_document if update else writer.add_document
    for item in tqdm(items, unit=" doc", disable=not progress, desc="indexing"):
        if isinstance(item, Skip):
            summary.skipped.append(item)
            continue
        add(**document_fields(item))
        summary.indexed += 1
        summary.warnings.extend((item.where, w) for w in item.warnings)


def build_index(paths: Iterable[Path], index_dir: Path, rebuild: bool = False,
                progress: bool = False) -> Summary:
    """Index ``paths`` into ``index_dir``: a new generation when ``rebuild`` or when there
    is no index yet, otherwise an update of the live one (same id = replaced)."""
    index_dir = Path(index_dir)
    started = time.perf_counter()
    summary = Summary()
    items = read_documents(paths)
    with _build_lock(index_dir):
        live = live_generation(index_dir)
        if live is not None and not rebuild:
            check_schema(live)
            ix = whoosh_index.open_dir(str(live))
            try:
                writer = ix.writer(limitmb=256)
            except LockError:
                raise IndexProblem(f"{live} is locked by another writer") from None
            try:
                _write(writer, items, summary, update=True, progress=progress)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            generation = live
        else:
            summary.rebuilt = True
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
            generation = index_dir / f"gen-{stamp}-{os.getpid()}"
            generation.mkdir()
            try:
                ix = whoosh_index.create_in(str(generation), make_schema())
                writer = ix.writer(limitmb=256)
                try:
                    _write(writer, items, summary, update=False, progress=progress)
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit(optimize=True)
                count = whoosh_index.open_dir(str(generation)).doc_count()
                if count != summary.indexed:
                    raise IndexProblem(f"new index holds {count} documents, expected {summary.indexed}")
            except BaseException:
                shutil.rmtree(generation, ignore_errors=True)
                raise
        with whoosh_index.open_dir(str(generation)).searcher() as searcher:
            summary.total = searcher.doc_count()
        manifest = {"schema_version": SCHEMA_VERSION, "documents": summary.total,
                    "updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        (generation / MANIFEST).write_text(json.dumps(manifest), "utf-8")
        if generation != live:
            _switch_to(index_dir, generation)
            _remove_old_generations(index_dir)
    summary.generation = generation.name
    summary.seconds = time.perf_counter() - started
    return summary
