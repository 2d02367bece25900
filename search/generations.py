"""The layout of an index directory, read by the indexer and by the search side::

    index/
      CURRENT          name of the live generation (replaced atomically)
      gen-<time>-<pid>/  a complete Whoosh index plus bahth.json (its manifest)
      .build.lock      held while a build runs
"""

from __future__ import annotations

import json
from pathlib import Path

from search.codec import FORMAT
from search.errors import IndexProblem
from search.schema import SCHEMA_VERSION

CURRENT = "CURRENT"
MANIFEST = "bahth.json"
LOCK = ".build.lock"


def live_generation(index_dir: Path) -> Path | None:
    """The directory of the live index generation, or None when there is none yet."""
    try:
        name = (Path(index_dir) / CURRENT).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    path = Path(index_dir) / name
    return path if name and path.is_dir() else None


def read_manifest(generation: Path) -> dict:
    try:
        return json.loads((generation / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def check_schema(generation: Path) -> None:
    """Refuse an index whose terms were made by another analyzer version, or whose
    postings are in another format."""
    manifest = read_manifest(generation)
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION or manifest.get("format", FORMAT) != FORMAT:
        raise IndexProblem(
            f"the index in {generation.parent} was built by another version of bahth "
            f"(schema {version}, this is {SCHEMA_VERSION}): run `bahth index --rebuild` with its sources")
