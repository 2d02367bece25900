"""The `bahth` command line: index, search, serve (a real server on a free port)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from click.testing import CliRunner

from search.cli import main
from search.paths import PROJECT_ROOT


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def test_index_then_search(tmp_path):
    result = invoke("index", "--index-dir", tmp_path)
    assert result.exit_code == 0, result.output
    assert "Indexed 5 documents" in result.output and "skipped 0" in result.output
    result = invoke("search", "القسام", "--index-dir", tmp_path)
    assert result.exit_code == 0 and result.output.startswith("2 results")
    assert "صدى نيوز" in result.output and "القســـــام" in result.output


def test_search_json_matches_the_api_shape(tmp_path):
    invoke("index", "--index-dir", tmp_path)
    result = invoke("search", "حماس", "--index-dir", tmp_path, "--json", "--sort", "date", "--limit", "2")
    data = json.loads(result.output)
    assert data["total"] == 5 and len(data["hits"]) == 2 and data["sort"] == "date"
    assert data["hits"][0]["date"] == "2023-06-04"


def test_index_dir_from_environment(tmp_path):
    env = {"BAHTH_INDEX_DIR": str(tmp_path)}
    assert invoke("index", env=env).exit_code == 0
    result = invoke("search", "اسماعيل", "--source", "صدى نيوز", env=env)
    assert result.exit_code == 0 and result.output.startswith("1 result ")


def test_index_reports_skips_with_reasons(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "حماس"}\n{oops\n', "utf-8")
    result = invoke("index", bad, "--index-dir", tmp_path / "ix")
    assert "Indexed 1 document " in result.output and "skipped 1" in result.output
    assert f"skipped: {bad}:2: invalid JSON" in result.output
    assert result.exit_code == 3 and "--allow-skips" in result.output  # scripts can tell
    assert invoke("search", "حماس", "--index-dir", tmp_path / "ix").output.startswith("1 result")
    tolerated = invoke("index", bad, "--index-dir", tmp_path / "ix2", "--allow-skips")
    assert tolerated.exit_code == 0 and "skipped 1" in tolerated.output


def test_user_mistakes_are_messages_not_tracebacks(tmp_path):
    result = invoke("search", "حماس", "--index-dir", tmp_path / "none")
    assert result.exit_code == 1 and "bahth index" in result.output and "Traceback" not in result.output
    invoke("index", "--index-dir", tmp_path)
    result = invoke("search", "حماس", "--index-dir", tmp_path, "--from", "2022-13-01")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    result = invoke("index", tmp_path / "missing", "--index-dir", tmp_path)
    assert result.exit_code == 1 and "no such file" in result.output
    result = invoke("serve", "--index-dir", tmp_path / "none")
    assert result.exit_code == 1 and "bahth index" in result.output


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_real_http(tmp_path):
    invoke("index", "--index-dir", tmp_path)
    port = _free_port()
    bahth = os.path.join(os.path.dirname(sys.executable), "bahth")
    server = subprocess.Popen([bahth, "serve", "--index-dir", str(tmp_path), "--port", str(port)],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/api/search?" + urllib.parse.urlencode({"q": "القسام"})
        for _ in range(100):
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    data = json.loads(response.read())
                    server_header = response.headers["Server"]
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not answer: " + server.stdout.read1().decode())
        assert data["hits"][0]["id"] == "001_d30af9c42a70480b"
        assert "<mark>القســـــام</mark>" in data["hits"][0]["snippet"]
        assert server_header == "bahth"  # waitress, not Flask's development server
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_update_delete_and_check_from_the_command_line(tmp_path):
    assert invoke("index", "--index-dir", tmp_path, "--update").exit_code == 1  # nothing to update yet
    assert invoke("index", "--index-dir", tmp_path).exit_code == 0
    again = invoke("index", "--index-dir", tmp_path, "--update")
    assert again.exit_code == 0 and "5 unchanged" in again.output
    deleted = invoke("index", "--index-dir", tmp_path, "--delete", "001_d30af9c42a70480b")
    assert deleted.exit_code == 0 and "Deleted 1 document " in deleted.output and "4 documents" in deleted.output
    unknown = invoke("index", "--index-dir", tmp_path, "--delete", "nope")
    assert unknown.exit_code == 3 and "no document with this id" in unknown.output
    checked = invoke("index", "--index-dir", tmp_path, "--check")
    assert checked.exit_code == 0 and "is fine" in checked.output and "4 documents" in checked.output
    (tmp_path / "CURRENT").write_text("gen-gone\n")
    broken = invoke("index", "--index-dir", tmp_path, "--check")
    assert broken.exit_code == 1 and "FAIL no live index" in broken.output


def test_index_modes_cannot_be_combined(tmp_path):
    result = invoke("index", "--index-dir", tmp_path, "--rebuild", "--check")
    assert result.exit_code == 2 and "cannot be combined" in result.output
    assert invoke("index", "--index-dir", tmp_path, "--delete", "x", "seeds").exit_code == 2


def test_a_busy_port_is_one_line_that_says_what_to_do(tmp_path):
    invoke("index", "--index-dir", tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bahth = os.path.join(os.path.dirname(sys.executable), "bahth")
        done = subprocess.run([bahth, "serve", "--index-dir", str(tmp_path), "--port", str(port)],
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr + done.stdout
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and f"port {port}" in message and "in use" in message
    assert "--port" in message and "make serve PORT=" in message


def test_a_rebuild_from_garbage_changes_nothing_and_says_so(tmp_path):
    assert invoke("index", "--index-dir", tmp_path).exit_code == 0
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    result = invoke("index", garbage, "--rebuild", "--index-dir", tmp_path)
    assert result.exit_code == 1 and "kept" in result.output and "5 documents" in result.output
    assert "Traceback" not in result.output
    assert invoke("search", "القسام", "--index-dir", tmp_path).output.startswith("2 results")
    assert "ok" in invoke("index", "--check", "--index-dir", tmp_path).output


def test_progress_lines_when_the_output_is_not_a_terminal(tmp_path, monkeypatch):
    from search.cli import LineProgress

    monkeypatch.setattr(LineProgress, "EVERY", 0.0)  # a line per article instead of every 10 s
    result = CliRunner().invoke(main, ["index", "--index-dir", str(tmp_path)])
    lines = result.stderr.splitlines()
    assert result.exit_code == 0 and lines[0] == "indexing about 5 articles"
    assert any(line.startswith("indexing: 3 of about 5 (60%)") and "per second" in line and "left" in line
               for line in lines)
    assert any("writing a segment of 5 articles" in line for line in lines)
    assert "indexing" not in invoke("index", "--index-dir", tmp_path, "--rebuild", "--quiet").output


def test_a_large_update_says_a_rebuild_would_be_faster(tmp_path, monkeypatch):
    from search import indexer

    assert invoke("index", "--index-dir", tmp_path / "ix").exit_code == 0  # the 5 seeds
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps({"id": f"n{i}", "text": f"خبر رقم {i} عن اجتماع الفصائل"},
                                        ensure_ascii=False) + "\n" for i in range(8)), "utf-8")
    monkeypatch.setattr(indexer, "LARGE_UPDATE", 6)  # (10,000 articles in the product)
    result = CliRunner().invoke(main, ["index", str(batch), "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 0 and "--rebuild" in result.stderr and "8 articles" in result.stderr
    assert "13" in invoke("search", "", "--index-dir", tmp_path / "ix").output.split()[0]  # all kept
    # Fewer articles than the index holds, or a rebuild: nothing to advise.
    small = tmp_path / "small.jsonl"
    small.write_text(json.dumps({"id": "s1", "text": "خبر قصير عن اللقاء"}, ensure_ascii=False) + "\n", "utf-8")
    assert "--rebuild" not in CliRunner().invoke(main, ["index", str(small), "--index-dir",
                                                        str(tmp_path / "ix")]).stderr
    assert "--rebuild" not in CliRunner().invoke(main, ["index", str(batch), "--rebuild", "--index-dir",
                                                        str(tmp_path / "ix2")]).stderr
