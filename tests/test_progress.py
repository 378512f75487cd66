"""Live progress: the workers' tallies, the status line, and what a terminal, a log and --quiet show."""
import io
import json
import os
import pathlib
import pty
import select
import subprocess
import sys
import time

import pytest
from cli_runs import ROOT, run_cli

from pipelines import logs
from pipelines.progress import Progress, clock, fraction_done, status_line
from transforms import progress

DUMP = ROOT / "samples" / "dump"


def test_worker_tallies_reach_the_driver_through_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(progress.PROGRESS_FOLDER_VARIABLE, str(tmp_path))
    progress.tally("read.files", 3)
    progress.tally("read.documents", 7)
    deadline = time.monotonic() + 10
    while progress.read_tallies(str(tmp_path)) != {"read.files": 3, "read.documents": 7}:
        assert time.monotonic() < deadline, list(tmp_path.iterdir())
        time.sleep(0.1)
    # A second run in the same process starts from zero.
    other = tmp_path / "next-run"
    other.mkdir()
    monkeypatch.setenv(progress.PROGRESS_FOLDER_VARIABLE, str(other))
    progress.tally("read.files")
    while progress.read_tallies(str(other)) != {"read.files": 1}:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_without_the_variable_nothing_is_tallied(tmp_path, monkeypatch):
    monkeypatch.delenv(progress.PROGRESS_FOLDER_VARIABLE, raising=False)
    progress.tally("read.files", 5)
    time.sleep(progress.FLUSH_SECONDS * 3)
    assert progress.read_tallies(str(tmp_path)) == {}


def test_json_progress_lines_carry_the_run_id_and_the_workers_counts():
    stream = io.StringIO()
    logs.configure("info", "json", stream)
    logs.set_run("20260101T000000Z-abcdef")
    try:
        with Progress("log", log_seconds=0.1).watching(files_to_read=4):
            progress.tally("read.files", 2)
            progress.tally("read.documents", 5)
            deadline = time.monotonic() + 10
            while '"read.documents": 5' not in stream.getvalue():
                assert time.monotonic() < deadline, stream.getvalue()
                time.sleep(0.1)
    finally:
        logs.set_run(None)
        logs.configure()
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert (line["run_id"], line["stage"], line["level"]) == ("20260101T000000Z-abcdef", "pipeline", "info")
    assert line["counts"] == {"read.files": 2, "read.documents": 5}
    assert line["message"].startswith("progress: ") and "files 2/4" in line["message"]


def test_status_line_shows_counts_rate_and_remaining_time():
    tally = {"read.files": 50, "read.documents": 100, "clean.ok": 90, "clean.rejected": 10, "dates.ok": 90,
             "dedupe.unique": 80, "dedupe.exact_duplicates": 10, "entities.documents": 40}
    assert clock(75) == "1:15" and clock(3725) == "1:02:05"
    line = status_line(tally, 50, elapsed=20.0)
    for part in ("0:20 elapsed", "files 50/50", "documents 100 (5.0/s)", "cleaned 90", "copies 10",
                 "entities 40", "rejects 10"):
        assert part in line, line
    # All files read (0.3), and 40 of the 80 articles expected through NER: 90 documents not rejected,
    # of which 1 in 9 is a copy so far (0.7 x 0.5).
    assert abs(fraction_done(tally, 50) - 0.65) < 1e-9
    assert "65%, ~0:10 left" in line


def test_remaining_time_waits_for_evidence():
    assert fraction_done({}, 10) is None
    assert "left" not in status_line({}, 10, elapsed=3.0)
    assert fraction_done({"read.files": 5, "read.documents": 5}, 10) == 0.15  # NER not started yet


def run_in_terminal(*args: str, timeout: float = 600) -> tuple[int, str]:
    """`newsflow ingest ARGS` with stderr on a pseudo-terminal, as a person at a terminal runs it."""
    controller, terminal = pty.openpty()
    command = [sys.executable, "-m", "pipelines.cli", "ingest", *args]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    os.close(controller)
    stdout = process.communicate(timeout=60)[0].decode()
    return process.wait(), seen.decode(errors="replace") + stdout


@pytest.mark.slow
def test_a_terminal_sees_the_status_line_redrawn_then_the_summary(tmp_path):
    status, shown = run_in_terminal(str(DUMP), "--output", str(tmp_path / "out"))
    assert status == 0, shown[-2000:]
    assert "\r\x1b[2K" in shown  # redrawn in place
    redraws = [part for part in shown.split("\r\x1b[2K") if "elapsed" in part]
    assert redraws, shown[-2000:]
    assert any("files 16/16" in line and "documents 16" in line for line in redraws), redraws[-3:]
    assert "newsflow run " in shown and "publication dates, by where they were found" in shown


def test_off_a_terminal_only_plain_lines_and_quiet_prints_nothing(tmp_path, sample_dataset):
    _, logged = sample_dataset
    assert "\r" not in logged.stderr and "\x1b" not in logged.stderr
    assert "16 files to read" in logged.stderr and "published" in logged.stderr
    quiet = run_cli(DUMP, "--output", tmp_path / "quiet", "--quiet")
    assert quiet.stdout == "" and quiet.stderr == ""
    assert any(pathlib.Path(tmp_path / "quiet" / "_runs").glob("*.html"))


def test_the_progress_folders_of_killed_runs_are_removed_by_the_next_run():
    import tempfile

    from pipelines.progress import FOLDER_PREFIX, remove_orphan_folders

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True,
                          text=True)
    orphan = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{int(dead.stdout)}-")
    alive = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
    remove_orphan_folders()
    assert not os.path.exists(orphan) and os.path.exists(alive)
    os.rmdir(alive)
