"""Faults: a build or update killed with SIGKILL, two writers at once, a rebuild under a
live server. The served index must stay intact and usable throughout."""

import fcntl
import json
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from search.engine import Engine
from search.errors import IndexProblem
from search.generations import CURRENT, LOCK
from search.indexer import build_index, check_index
from search.paths import PROJECT_ROOT, SEEDS_DIR
from search.request import SearchRequest
from tests.conftest import record, serving

BAHTH = Path(sys.executable).parent / "bahth"
WORDS = ("حماس الجهاد الاسلامي القاهرة غزة وفد اجتماع المكتب السياسي الحركة المقاومة الاحتلال "
         "بيان مشترك التهدئة القدس الضفة رام الله الرئيس الوزراء المصالحة الانتخابات").split()


def big_corpus(path: Path, count: int, prefix: str = "b") -> Path:
    """Enough articles that indexing them takes seconds, so a kill lands mid-build."""
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(record(f"{prefix}{i}", " ".join(rng.choices(WORDS, k=300))) + "\n")
    return path


def kill_mid_build(index_dir: Path, *args) -> None:
    """Start `bahth index ARGS`, SIGKILL it once it has been writing for a moment."""
    process = subprocess.Popen([str(BAHTH), "index", "--index-dir", str(index_dir), "--quiet", *map(str, args)],
                               cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = index_dir / LOCK
    deadline = time.monotonic() + 30
    while not (lock.exists() and lock.read_text().startswith("pid")):
        assert process.poll() is None and time.monotonic() < deadline, "the build never started"
        time.sleep(0.02)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL, "the build ended before it could be killed"


def test_rebuild_killed_midway_leaves_the_served_index_intact(tmp_path):
    index_dir = tmp_path / "index"
    first = build_index([SEEDS_DIR], index_dir)
    engine = Engine(index_dir)
    kill_mid_build(index_dir, big_corpus(tmp_path / "big.jsonl", 6000), "--rebuild")
    assert (index_dir / CURRENT).read_text().strip() == first.generation
    assert engine.search(SearchRequest(q="القسام")).total == 2
    assert Engine(index_dir).search(SearchRequest(q="")).total == 5
    assert all(c.ok for c in check_index(index_dir))
    # The next build says what happened, clears the debris and works.
    summary = build_index([SEEDS_DIR], index_dir, rebuild=True)
    assert any("stopped before it finished" in note for note in summary.notes)
    assert any("unfinished build" in note for note in summary.notes)
    assert sorted(p.name for p in index_dir.glob("gen-*")) == sorted([first.generation, summary.generation])


def test_update_killed_midway_leaves_a_usable_index(tmp_path):
    index_dir = tmp_path / "index"
    build_index([SEEDS_DIR], index_dir)
    kill_mid_build(index_dir, big_corpus(tmp_path / "big.jsonl", 6000), "--update")
    total = Engine(index_dir).search(SearchRequest(q="")).total
    assert total in (5, 6005)  # before or after Whoosh's atomic commit, never in between
    assert all(c.ok for c in check_index(index_dir)), check_index(index_dir)
    # No stale lock: the next update runs and renews the manifest.
    extra = tmp_path / "one.jsonl"
    extra.write_text(record("late", "خبر متأخر عن المصالحة") + "\n", "utf-8")
    summary = build_index([extra], index_dir, update=True)
    assert summary.total == total + 1 and summary.notes
    checks = check_index(index_dir)
    assert all(c.ok for c in checks) and any("manifest says" in c.what for c in checks)


def test_a_second_writer_is_refused_with_the_holders_name(tmp_path):
    build_index([SEEDS_DIR], tmp_path)
    with open(tmp_path / LOCK, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write("pid 4242 since 2026-01-01T00:00:00+00:00")
        handle.flush()
        with pytest.raises(IndexProblem, match="pid 4242.*wait for it"):
            build_index([SEEDS_DIR], tmp_path, rebuild=True)
    assert build_index([SEEDS_DIR], tmp_path, rebuild=True).total == 5  # released with its holder


def test_rebuild_under_a_live_server_never_interrupts_answers(tmp_path):
    index_dir = tmp_path / "index"
    build_index([SEEDS_DIR], index_dir)
    corpus = big_corpus(tmp_path / "big.jsonl", 400)
    statuses, totals, stop = [], [], threading.Event()
    with serving(index_dir, RATE_LIMIT=0) as url:  # one client polling as fast as it can
        def poll():
            query = url + "/api/search?" + urllib.parse.urlencode({"q": "حماس"})
            while not stop.is_set():
                with urllib.request.urlopen(query, timeout=30) as response:
                    statuses.append(response.status)
                    totals.append(json.loads(response.read())["total"])
        poller = threading.Thread(target=poll)
        poller.start()
        try:
            build_index([corpus], index_dir, rebuild=True)
            time.sleep(0.3)
        finally:
            stop.set()
            poller.join(timeout=60)
    assert statuses and set(statuses) == {200}
    assert totals[0] == 5 and totals[-1] == 400 and set(totals) <= {5, 400}


def test_the_web_app_never_writes_the_index(tmp_path):
    index_dir = tmp_path / "index"
    build_index([SEEDS_DIR], index_dir)

    def snapshot():
        return {str(p.relative_to(index_dir)): (p.stat().st_size, p.stat().st_mtime_ns)
                for p in index_dir.rglob("*")}

    before = snapshot()
    from web import create_app
    client = create_app({"INDEX_DIR": index_dir}).test_client()
    for path in ("/?q=حماس", "/api/search?q=القسام&sort=date", "/api/search?page=0", "/healthz",
                 "/?q=" + "ب" * 2000, "/api/search?q=%22unclosed"):
        client.get(path)
    assert snapshot() == before
