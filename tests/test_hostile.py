"""Hostile inputs (tests/hostile_corpus.py): one real run over all of them, read back with pyarrow.

Every file ends in exactly one table: an article (or a copy of one) when it is legitimately readable,
else a reject with a reason a person understands; never a crash, never a bug report, nothing written
outside the output folder.
"""
import http.server
import os
import pathlib
import threading

import pytest
from cli_runs import run_cli
from hostile_corpus import ARTICLES, write_corpus

from schemas.tables import DUPLICATES, REJECTS
from storage.visible import open_table

pytestmark = pytest.mark.slow  # hostile inputs end to end, and 100,000 tiny files

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
READABLE = {ARTICLES, DUPLICATES}  # a legitimately readable file is an article, or a copy of one


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    dump, out = root / "dump", root / "out"
    expected = write_corpus(dump, MAX_DOCUMENT_BYTES)
    before = sorted(p.name for p in root.iterdir())
    result = run_cli(dump, "--output", out, f"--max-document-bytes={MAX_DOCUMENT_BYTES}", check=False, timeout=900)
    found = {}
    for table in (ARTICLES, DUPLICATES, REJECTS):
        for row in open_table(str(out), table).to_table().to_pylist():
            name = row["source_uri"].split(str(dump) + "/", 1)[1]
            if name.startswith("image-only.warc.gz#"):
                name = "image-only.warc.gz#<record>"  # WARC record ids are random
            found.setdefault(name, []).append((table, row.get("reason", "")))
    return result, expected, found, before, sorted(p.name for p in root.iterdir())


def test_the_run_finishes(hostile_run):
    result = hostile_run[0]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR" not in result.stderr  # bad input is reported in rejects, not logged as an error


def test_every_hostile_file_is_in_exactly_one_table(hostile_run):
    _, expected, found, _, _ = hostile_run
    assert sorted(found) == sorted(expected)
    assert all(len(rows) == 1 for rows in found.values()), {k: v for k, v in found.items() if len(v) > 1}


def test_each_kind_lands_where_a_person_expects_with_an_understandable_reason(hostile_run):
    _, expected, found, _, _ = hostile_run
    wrong = {}
    for name, (tables, reason) in expected.items():
        [(table, why)] = found[name]
        allowed = (tables - {ARTICLES}) | (READABLE if ARTICLES in tables else set())
        if table not in allowed or (table == REJECTS and reason not in why) or "a bug" in (why or ""):
            wrong[name] = (table, why)
    assert not wrong


def test_at_least_thirty_kinds_are_covered(hostile_run):
    assert len(hostile_run[1]) >= 30


def test_nothing_is_written_outside_the_output(hostile_run):
    _, _, _, before, after = hostile_run
    assert after == sorted({*before, "out"})
    assert not (pathlib.Path("/etc/absolute.txt")).exists()
    assert os.path.exists(ROOT / "pyproject.toml")


class _BreaksMidRead(http.server.BaseHTTPRequestHandler):
    """Promises 100,000 bytes, sends a few hundred, then hangs up: a store failing mid-read."""

    def _headers(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.send_header("Content-Type", "text/plain")
        self.end_headers()

    def do_HEAD(self):
        self._headers()

    def do_GET(self):
        self._headers()
        self.wfile.write(b"The harbour board met on Tuesday to approve a night ferry. " * 10)
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_an_fsspec_url_that_fails_mid_read_is_a_reject(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BreaksMidRead)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/story.txt"
        result = run_cli(url, "--output", tmp_path / "out")
    finally:
        server.shutdown()
    [row] = open_table(str(tmp_path / "out"), REJECTS).to_table().to_pylist()
    assert row["source_uri"] == url
    assert row["reason"] == "file could not be read: the store failed while sending it (network or server error)"
    assert "Not enough data" in row["detail"] or "payload" in row["detail"].lower()
    assert "ERROR" not in result.stderr


def test_a_directory_of_100000_tiny_files(tmp_path):
    """Listing, reading and rejecting 100,000 files in one run (about a minute on 2 cores)."""
    dump = tmp_path / "dump"
    for folder in range(100):
        (dump / f"d{folder:02d}").mkdir(parents=True)
        for number in range(1000):
            (dump / f"d{folder:02d}" / f"{number:03d}.txt").write_text(f"tiny {folder}-{number}\n")
    result = run_cli(dump, "--output", tmp_path / "out", timeout=900)
    uris = open_table(str(tmp_path / "out"), REJECTS).to_table(columns=["source_uri", "reason"])
    assert uris.num_rows == 100_000 == len(set(uris.column("source_uri").to_pylist()))
    assert set(uris.column("reason").to_pylist()) == {"no article body found"}
    assert "100000" in result.stdout.replace(",", "")
