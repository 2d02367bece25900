"""Building and updating the Whoosh index without ever breaking the one being served.

A rebuild writes a new generation (search.generations) with the bulk builder
(search.bulk), checks that it opens and holds the expected number of documents, and
only then points CURRENT at it. An update adds to the live generation through Whoosh's
own writer (with Bahth's codec) and its atomic commit.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.index import LockError

from search import grams
from search.analysis import EXACT_MARK
from search.bulk import bulk_add
from search.codec import FORMAT, BahthCodec, CodesColumn
from search.entities import gazetteer
from search.errors import IndexProblem
from search.generations import CURRENT, LOCK, MANIFEST, check_schema, live_generation, read_manifest
from search.ingest import Document, Skip, count_inputs, raw_inputs, read_documents
from search.periods import day_number
from search.ranking import WEIGHTING
from search.schema import SCHEMA_VERSION, make_schema
from search.stories import StoryFinder, fingerprint, pack
from search.view import IndexView

#: Segment files stay separate (``compound=False``): Whoosh reads a compound segment
#: through an in-memory copy of each part, hundreds of MB per open searcher.
KEEP_GENERATIONS = 2  # the live one and the one before it (a server may still be reading it)


@dataclass
class Summary:
    indexed: int = 0
    skipped: list[Skip] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    total: int = 0  # documents in the index afterwards
    generation: str = ""
    seconds: float = 0.0
    rebuilt: bool = False
    replaced: int = 0  # of ``indexed``: ids that were already in the index
    unchanged: int = 0  # documents identical to the indexed copy, left alone
    deleted: int = 0
    notes: list[str] = field(default_factory=list)  # what the build found and repaired
    refused: str | None = None  # why nothing was changed (a rebuild that read no document)

    @property
    def skipped_count(self) -> int:
        """Inputs skipped (a summary line may stand for many)."""
        return sum(skip.count for skip in self.skipped)


def open_index(index_dir: Path):
    generation = live_generation(index_dir)
    if generation is None:
        raise IndexProblem(f"no index in {index_dir}: run `bahth index` to build one")
    return whoosh_index.open_dir(str(generation))


def document_fields(doc: Document, stories: StoryFinder) -> dict:
    """An article as Whoosh's writer takes it (updates; the bulk build writes the same
    values in search.bulk)."""
    story_print = fingerprint(doc.body)
    fields = {"id": doc.id, "body": doc.body, "fingerprint": doc.fingerprint,
              "story": stories.add(doc.id, story_print, doc.date), "minhash": pack(story_print),
              "stems": grams.stem_text(f"{doc.title or ''}\n{doc.body}")}
    named = gazetteer().entities(f"{doc.title or ''}\n{doc.body}")
    fields.update({kind: CodesColumn.SEPARATOR.join(names) for kind, names in named.items() if names})
    for name in ("title", "source", "category", "url"):
        value = getattr(doc, name)
        if value:
            fields[name] = value
    if doc.date:
        fields["date"] = dt.datetime(doc.date.year, doc.date.month, doc.date.day)
        fields["day"] = day_number(doc.date)
    return fields


@contextmanager
def _build_lock(index_dir: Path, summary: Summary) -> Iterator[int]:
    """One writer per index directory. The lock is an flock, so it dies with its
    process; the file also names its holder, which tells us when the previous
    writer was killed before finishing (its name is still there)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a+", encoding="utf-8") as handle:
        handle.seek(0)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "another process"
            raise IndexProblem(f"`bahth index` ({holder}) is writing to {index_dir}; "
                               "wait for it to finish") from None
        previous = handle.read().strip()
        if previous:
            summary.notes.append(f"the previous `bahth index` ({previous}) was stopped before it "
                                 "finished; the served index was not affected by it")
        for debris in _unfinished_generations(index_dir):
            shutil.rmtree(debris, ignore_errors=True)
            summary.notes.append(f"removed {debris.name}, an unfinished build")
        _rewrite(handle, f"pid {os.getpid()} since {_now()}")
        try:
            yield handle.fileno()
        finally:
            _rewrite(handle, "")


def _rewrite(handle, text: str) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(text)
    handle.flush()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _unfinished_generations(index_dir: Path) -> list[Path]:
    """Generations a killed build left: no manifest (written last) and not live.
    Only called under the build lock, so no build is writing them."""
    live = live_generation(index_dir)
    return [p for p in sorted(index_dir.glob("gen-*"))
            if p.is_dir() and p != live and not (p / MANIFEST).exists()]


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


def _save_manifest(generation: Path, manifest: dict) -> None:
    tmp = generation / f"{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest), "utf-8")
    os.replace(tmp, generation / MANIFEST)


def _checksums(generation: Path, previous: dict | None) -> dict:
    """name -> [size, mtime_ns, blake2b] of every file of a generation but the manifest and
    Whoosh's lock. Segment files never change once written, so the checksum of a file
    whose size and time are those recorded before is taken over, not recomputed."""
    previous = previous or {}
    out = {}
    for path in sorted(generation.iterdir()):
        if not path.is_file() or path.name.startswith(MANIFEST) or path.name.endswith("WRITELOCK"):
            continue
        stat = path.stat()
        known = previous.get(path.name)
        if known and known[:2] == [stat.st_size, stat.st_mtime_ns]:
            out[path.name] = known
        else:
            out[path.name] = [stat.st_size, stat.st_mtime_ns, _file_hash(path)]
    return out


def _file_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_manifest(generation: Path, summary: Summary, previous: dict | None = None) -> None:
    with whoosh_index.open_dir(str(generation)).searcher() as searcher:
        summary.total = searcher.doc_count()
    _save_manifest(generation, {"schema_version": SCHEMA_VERSION, "format": FORMAT, "documents": summary.total,
                                "updated": _now(),
                                "files": _checksums(generation, (previous or {}).get("files"))})


def _counter(summary: Summary, progress: Progress | None) -> Callable[[object], None]:
    """What happens to every input read: counted, skipped or warned about."""
    def count(item) -> None:
        if progress:
            progress.advance(item.count if isinstance(item, Skip) else 1)
        if isinstance(item, Skip):
            summary.skipped.append(item)
        else:
            summary.indexed += 1
            summary.warnings.extend((item.where, w) for w in item.warnings)
    return count


def _merge_in(writer, view, items: Iterable, summary: Summary, progress: Progress | None) -> None:
    """The live generation: new ids are added, changed ones replaced, unchanged ones
    (same content fingerprint) left alone."""
    stories = StoryFinder.from_view(view)
    for item in items:
        if progress:
            progress.advance(item.count if isinstance(item, Skip) else 1)
        if isinstance(item, Skip):
            summary.skipped.append(item)
            continue
        docnum = view.docnum(item.id)
        if docnum is not None and view.stored(docnum).get("fingerprint") == item.fingerprint:
            summary.unchanged += 1
            continue
        writer.update_document(**document_fields(item, stories))
        summary.indexed += 1
        summary.replaced += docnum is not None
        summary.warnings.extend((item.where, w) for w in item.warnings)


@contextmanager
def _live_writer(index_dir: Path, summary: Summary):
    """A writer on the live generation, committed (and the manifest renewed) on success,
    cancelled on any error. Whoosh commits atomically (a new table of contents renamed
    into place), so a crash mid-way leaves the previous state."""
    live = live_generation(index_dir)
    if live is None:
        raise IndexProblem(f"no index in {index_dir} to change: run `bahth index --rebuild` first")
    check_schema(live)
    ix = whoosh_index.open_dir(str(live))
    try:
        writer = ix.writer(limitmb=256, compound=False, codec=BahthCodec())
    except LockError:
        raise IndexProblem(f"{live} is locked by another writer") from None
    manifest = read_manifest(live)
    # Until the commit is done the count is unknown: a writer killed right after Whoosh's
    # commit must not leave a manifest that --check would take for lost documents.
    _save_manifest(live, {**manifest, "documents": None, "files": None, "update_started": _now()})
    try:
        view = IndexView.open(ix.searcher(weighting=WEIGHTING))
        try:
            yield writer, view
        finally:
            view.close()
    except BaseException:
        writer.cancel()
        _save_manifest(live, manifest)
        raise
    writer.commit()
    _write_manifest(live, summary, manifest)
    summary.generation = live.name


def _new_generation(index_dir: Path, paths: list[Path], summary: Summary, progress: Progress | None,
                    workers: int | None, lock_fd: int) -> None:
    """Build a complete generation beside the live one, check it, switch to it. A build
    that holds no document replaces nothing: the live index stays (``summary.refused``)."""
    summary.rebuilt = True
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    generation = index_dir / f"gen-{stamp}-{os.getpid()}"
    generation.mkdir()
    try:
        ix = whoosh_index.create_in(str(generation), make_schema())
        phase = progress.phase if progress else None
        bulk_add(ix, raw_inputs(paths), _counter(summary, progress), workers, phase, private_fds=(lock_fd,))
        if not summary.indexed:
            shutil.rmtree(generation, ignore_errors=True)
            _refuse_empty(index_dir, summary)
            return
        if progress:
            progress.phase("checking the new index")
        _write_manifest(generation, summary)  # counts what the new index holds
        if summary.total != summary.indexed:
            raise IndexProblem(f"new index holds {summary.total} documents, expected {summary.indexed}")
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    _switch_to(index_dir, generation)
    _remove_old_generations(index_dir)
    summary.generation = generation.name


def _refuse_empty(index_dir: Path, summary: Summary) -> None:
    """No document could be read: say so, and keep what is served."""
    live = live_generation(index_dir)
    what = "no document could be read from the inputs"
    if live is None:
        summary.refused = f"{what}; no index was built"
        return
    summary.total = read_manifest(live).get("documents") or 0
    summary.generation = live.name
    summary.refused = f"{what}; the live index ({summary.total} documents) was kept as it was"


class Progress(Protocol):
    """What a long build reports as it goes (the CLI shows it)."""

    def start(self, total: int) -> None: ...
    def advance(self, count: int = 1) -> None: ...  # inputs read (indexed or skipped)
    def phase(self, text: str) -> None: ...  # a step after the inputs are read


#: An update bringing at least this many articles, and more than the index holds, is worth
#: a word: updates go article by article through Whoosh's writer (85k articles into the
#: seeds' index: 7 min, against 1 min for a rebuild of them all).
LARGE_UPDATE = 10_000


def build_index(paths: Iterable[Path], index_dir: Path, rebuild: bool = False,
                progress: Progress | None = None, update: bool = False, workers: int | None = None,
                notice: Callable[[str], None] | None = None) -> Summary:
    """Index ``paths`` into ``index_dir``: a new generation when ``rebuild`` or when there
    is no index yet, otherwise an update of the live one (new ids added, changed ones
    replaced). ``update=True`` insists on updating: no index is an error. ``workers``:
    processes that analyse a rebuild (default: one per core; 0: none, all in this one).
    ``notice`` hears advice before the work starts (a large update is better a rebuild)."""
    index_dir = Path(index_dir)
    started = time.perf_counter()
    summary = Summary()
    paths = list(paths)
    total = count_inputs(paths) if progress or notice else 0
    if progress:
        progress.start(total)
    with _build_lock(index_dir, summary) as lock_fd:
        live = live_generation(index_dir)
        if rebuild or (not update and live is None):
            _new_generation(index_dir, paths, summary, progress, workers, lock_fd)
        else:
            held = (read_manifest(live).get("documents") or 0) if live else 0
            if notice and total >= LARGE_UPDATE and total > held:
                notice(f"note: these {total:,} articles are added to the {held:,} of the live index one by one "
                       "(an update), several times slower than a rebuild; for a large first import, "
                       "`bahth index --rebuild` with every source to keep is faster")
            with _live_writer(index_dir, summary) as (writer, view):
                _merge_in(writer, view, read_documents(paths), summary, progress)
                if progress:
                    progress.phase("writing the index files")
    summary.seconds = time.perf_counter() - started
    return summary


def delete_documents(ids: Iterable[str], index_dir: Path) -> Summary:
    """Remove documents by id from the live index; unknown ids are reported as skips."""
    index_dir = Path(index_dir)
    started = time.perf_counter()
    summary = Summary()
    with _build_lock(index_dir, summary):
        with _live_writer(index_dir, summary) as (writer, _):
            for doc_id in dict.fromkeys(ids):
                if writer.delete_by_term("id", doc_id):
                    summary.deleted += 1
                else:
                    summary.skipped.append(Skip(doc_id, "no document with this id in the index"))
    summary.seconds = time.perf_counter() - started
    return summary


# --- checking ------------------------------------------------------------------------

@dataclass
class Check:
    ok: bool
    what: str


def check_index(index_dir: Path) -> list[Check]:
    """Verify the live index the way the server will use it; stops at the first failure
    that makes the later checks meaningless."""
    index_dir = Path(index_dir)
    checks: list[Check] = []
    generation = live_generation(index_dir)
    if generation is None:
        return [Check(False, f"no live index in {index_dir} ({CURRENT} missing or pointing nowhere): "
                             "run `bahth index --rebuild`")]
    checks.append(Check(True, f"live generation {generation.name}"))
    manifest = read_manifest(generation)
    try:
        check_schema(generation)
    except IndexProblem as problem:
        return checks + [Check(False, str(problem))]
    checks.append(Check(True, f"analyzer version {SCHEMA_VERSION}"))
    checks += verify_files(generation, manifest)
    try:
        ix = whoosh_index.open_dir(str(generation))
        with ix.searcher() as searcher:
            count = searcher.doc_count()
            expected = manifest.get("documents")
            if expected is None:
                checks.append(Check(True, f"{count} documents (an update started "
                                          f"{manifest.get('update_started')} did not finish; "
                                          "the index holds what was committed before or by it)"))
            else:
                checks.append(Check(count == expected, f"{count} documents (manifest says {expected})"))
            checks += serving_checks(searcher, whole=True)
    except Exception as error:  # any damage shows up here as some exception from Whoosh
        checks.append(Check(False, f"cannot read the index ({type(error).__name__}: {error}): "
                                   "run `bahth index --rebuild` with its sources"))
    debris = _unfinished_generations(index_dir)
    if debris:
        checks.append(Check(True, f"note: {len(debris)} unfinished build(s) left by a stopped "
                                  "`bahth index`; the next build removes them"))
    return checks


def verify_files(generation: Path, manifest: dict) -> list[Check]:
    """The generation's files against the sizes and checksums written when it was built."""
    recorded = manifest.get("files")
    if recorded is None:
        return [Check(True, "file checksums not verified (none recorded: an update did not finish, "
                            "or the index predates them)")]
    wrong = [name for name, (size, _, digest) in recorded.items()
             if not (generation / name).is_file() or (generation / name).stat().st_size != size
             or _file_hash(generation / name) != digest]
    if wrong:
        return [Check(False, f"{len(wrong)} of {len(recorded)} files differ from what was written "
                             f"({', '.join(sorted(wrong)[:3])}{' …' if len(wrong) > 3 else ''}): the index "
                             "is damaged; run `bahth index --rebuild` with its sources")]
    return [Check(True, f"{len(recorded)} files match their checksums")]


def serving_checks(searcher, whole: bool = False) -> list[Check]:
    """What serving needs, tried the way the server does it: the columns read (with
    ``whole``, every document's value, as `bahth index --check` does; otherwise the first,
    middle and last document's of each segment, the server having loaded the columns it
    keeps in memory already), a query run, the stored fields of its hits read. Raises what
    Whoosh raises on damage."""
    reader = searcher.reader()
    columns = [name for name, field in searcher.schema.items() if field.column_type]
    for leaf, _ in (reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]):
        count = leaf.doc_count_all()
        for name in columns:
            if not leaf.has_column(name):
                continue
            column = leaf.column_reader(name, translate=False)
            if whole:
                list(column)
            elif count:
                for docnum in {0, count // 2, count - 1}:
                    column[docnum]
    checks = [Check(True, f"{len(columns)} columns readable")]
    if searcher.doc_count():
        term = _frequent_body_term(searcher)
        hits = searcher.search(wq.Term("body", term), limit=3)
        readable = hits.scored_length() > 0 and all("id" in hit.fields() for hit in hits)
        checks.append(Check(readable, f"sample query {term!r}: {len(hits)} hits, stored fields readable"))
    return checks


def _frequent_body_term(searcher) -> str:
    """A common body term, read from the lexicon without loading documents."""
    best, best_df = None, -1
    for i, (term, info) in enumerate(searcher.reader().iter_field("body")):
        if info.doc_frequency() > best_df and not term.startswith(EXACT_MARK.encode()):
            best, best_df = term, info.doc_frequency()
        if i >= 2000:
            break
    return best.decode("utf-8") if isinstance(best, bytes) else best
