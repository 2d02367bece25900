"""Shared fixtures: a real Whoosh index of the seeds on disk, the real Flask app."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from search.engine import Engine
from search.indexer import build_index
from search.paths import PROJECT_ROOT, SEEDS_DIR

SHARED = PROJECT_ROOT.parent / "shared"
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/, or skip the test with a clear reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (the shared data folder sits beside the project on dev machines and CI)")
    return path


def record(doc_id, text, **extra) -> str:
    """One JSON Lines article record, with a source and a date unless given."""
    return json.dumps({"id": doc_id, "source": "وكالة", "date": "2020-01-01", "title": None,
                       "url": None, "category": None, "text": text, **extra}, ensure_ascii=False)


def build_small_index(directory: Path, records: list[dict]) -> Engine:
    """A real index of a few articles (``id``, ``text`` and optional fields) in ``directory``."""
    corpus = directory / "articles.jsonl"
    lines = []
    for rec in records:
        extra = {k: v for k, v in rec.items() if k not in ("id", "text")}
        lines.append(record(rec["id"], rec["text"], **extra) + "\n")
    corpus.write_text("".join(lines), "utf-8")
    summary = build_index([corpus], directory / "index", rebuild=True)
    assert summary.indexed == len(records), summary.skipped
    return Engine(directory / "index")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("seed-index")
    summary = build_index([SEEDS_DIR], index_dir)
    assert summary.indexed == 5 and not summary.skipped
    return index_dir


@pytest.fixture(scope="session")
def engine(seed_index) -> Engine:
    return Engine(seed_index)


@pytest.fixture()
def app(seed_index):
    from web import create_app

    return create_app({"INDEX_DIR": seed_index, "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@contextmanager
def serving(index_dir: Path, **config):
    """The production server (waitress) on a free loopback port in a thread; yields its URL."""
    import waitress

    from web import SERVER_OPTIONS, create_app

    server = waitress.create_server(create_app({"INDEX_DIR": index_dir, **config}),
                                    host="127.0.0.1", port=0, threads=4, **SERVER_OPTIONS)
    stopping = threading.Event()

    def run():
        try:
            server.run()
        except (OSError, ValueError):  # its socket closed under select() while stopping
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        server.close()
        thread.join(timeout=5)


#: The archive fixture: the seed texts as stories, some carried by several outlets,
#: plus short dated articles, with categories (what the seeds alone do not have).
ARCHIVE_SOURCES = ("وكالة الأنباء", "صحيفة الغد", "Al-Riyadh")


def archive_records() -> list[dict]:
    texts = [p.read_text("utf-8") for p in sorted(SEEDS_DIR.glob("*.txt"))]
    records = []
    for number, text in enumerate(texts):
        records.append({"id": f"story{number}", "text": text, "source": ARCHIVE_SOURCES[number % 3],
                        "date": f"2023-0{number + 1}-10", "category": "سياسة" if number % 2 else "أمن",
                        "title": f"الخبر رقم {number} عن لقاء الحركتين", "url": f"https://example.org/{number}"})
    # Seed 1 carried by two more outlets the next days, with their own first sentence.
    for copy, source in enumerate(ARCHIVE_SOURCES[1:], 1):
        records.append({"id": f"story1-copy{copy}", "source": source, "date": f"2023-02-1{copy}",
                        "category": "سياسة", "title": f"نسخة {copy}: لقاء الحركتين في القاهرة",
                        "text": f"نقلت {source} عن مصادرها الخبر التالي. " + texts[1]})
    for number in range(24):  # a month each through two years: pagination and the histogram
        year, month = 2021 + number // 12, number % 12 + 1
        records.append({"id": f"brief{number:02d}", "source": ARCHIVE_SOURCES[number % 3],
                        "date": f"{year}-{month:02d}-0{number % 9 + 1}", "category": "اقتصاد",
                        "title": f"موجز اقتصادي {number}",
                        "text": f"أعلنت السلطة الفلسطينية في موجزها الاقتصادي رقم {number} ارتفاع الأسعار "
                                f"في الأسواق الفلسطينية وتراجع الصادرات بنسبة {number + 3} بالمئة."})
    return records


@pytest.fixture(scope="session")
def archive_index(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("archive")
    build_small_index(directory, archive_records())
    return directory / "index"


@pytest.fixture(scope="session")
def archive(archive_index) -> Engine:
    return Engine(archive_index)


@pytest.fixture()
def archive_client(archive_index):
    from web import create_app

    return create_app({"INDEX_DIR": archive_index, "TESTING": True, "RATE_LIMIT": 0}).test_client()
