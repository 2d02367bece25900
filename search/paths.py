"""Default locations: the seeds and the index live beside the packages in the project tree."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = PROJECT_ROOT / "seeds"
INDEX_ENV = "BAHTH_INDEX_DIR"


def default_index_dir() -> Path:
    """``$BAHTH_INDEX_DIR`` when set, else ``index/`` in the project."""
    return Path(os.environ.get(INDEX_ENV) or PROJECT_ROOT / "index")
