"""What a scheduler sees of real command-line runs: JSON log lines, --dry-run on an existing dataset,
--max-reject-share, and SIGTERM stopping a run or --watch cleanly (tables read back with pyarrow)."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

from cli_runs import ROOT, run_cli

from pipelines import exits
from schemas.tables import ARTICLES, REJECTS
from storage.layout import LOCK_FILE
from storage.visible import open_table

# Three sample stories that are no copies of one another (samples/README.md).
STORIES = [ROOT / "samples" / "dump" / "2024-03" / name for name in (
    "wirepress/wp-20240311-0417.txt", "northshore-daily/3a6f8c21e5d9.txt", "harborline-gazette/2f7e9c41d6a3.txt")]


def small_dump(folder: pathlib.Path, stories: int = 2) -> pathlib.Path:
    folder.mkdir(parents=True)
    for story in STORIES[:stories]:
        shutil.copy(story, folder / story.name)
    return folder


def start(*args: object) -> subprocess.Popen:
    """`newsflow ingest ARGS` in its own process group, as a scheduler starts it."""
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ingest", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(condition, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def group_members(group: int) -> list[int]:
    """The processes still in a process group (a run's workers are in its group)."""
    members = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def test_json_logs_name_the_run_and_carry_its_counts_then_dry_run_tells_new_from_changed(tmp_path):
    dump, out = small_dump(tmp_path / "dump"), tmp_path / "out"
    result = run_cli(dump, "--output", out, "--log-format", "json", "--direct_num_workers=1")
    assert result.stdout == ""  # in JSON mode the summary is a log line too
    lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line is one JSON object
    (record,) = (out / "_runs").glob("*.json")
    run_id = record.stem
    events = {line["stage"]: line for line in lines if line["logger"] == "newsflow"}
    assert {"plan", "publish", "summary"} <= set(events)
    assert all(events[stage]["run_id"] == run_id for stage in ("plan", "publish", "summary"))
    assert events["plan"]["counts"]["files"] == 2
    summary = json.loads(record.read_text())
    assert events["summary"]["counts"]["articles"] == summary["articles"] == open_table(str(out), ARTICLES).count_rows()
    assert events["publish"]["counts"]["documents"] == 2
    # The run record names its inputs and output absolutely, wherever it is read from.
    assert summary["inputs"] == [dump.as_uri()] and summary["output"] == out.as_uri()

    (dump / STORIES[0].name).write_bytes(STORIES[0].read_bytes() + b"\nCorrection appended.\n")
    shutil.copy(STORIES[2], dump / STORIES[2].name)
    before = sorted(path for path in out.rglob("*"))
    dry = run_cli(dump, "--output", out, "--dry-run")
    head, *files = dry.stdout.splitlines()
    assert "2 files to read (1 new, 1 changed, 0 read again), 1 unchanged" in head
    assert sorted(line.split() for line in files) == sorted([
        ["changed", (dump / STORIES[0].name).as_uri()], ["new", (dump / STORIES[2].name).as_uri()]])
    assert sorted(path for path in out.rglob("*")) == before  # nothing read, nothing written


def test_too_many_rejects_fail_the_run_with_65_and_publish_nothing(tmp_path):
    dump, out = small_dump(tmp_path / "dump", stories=1), tmp_path / "out"
    (dump / "empty.txt").write_bytes(b"")
    (dump / "blank.txt").write_bytes(b"   \n")
    result = run_cli(dump, "--output", out, "--max-reject-share", "0.5", "--direct_num_workers=1", check=False)
    assert result.returncode == exits.TOO_MANY_REJECTS, result.stderr[-2000:]
    assert "2 of its 3 documents were rejected (67%, more than --max-reject-share 0.5): 2 empty file" in result.stderr
    assert not list(out.glob("_runs/*.json")) and not (out / ARTICLES).exists() and not (out / REJECTS).exists()
    assert not (out / "_staging").exists() and not (out / LOCK_FILE).exists()


def test_sigterm_stops_a_run_before_it_publishes_and_leaves_no_process(tmp_path):
    out = tmp_path / "out"
    run = start(ROOT / "samples" / "dump", "--output", out)
    try:
        wait_for(lambda: (out / "_staging").exists())  # the pipeline is writing
        os.kill(run.pid, signal.SIGTERM)  # the main process only, as Kubernetes and Airflow send it
        _, stderr = run.communicate(timeout=120)
        wait_for(lambda: not group_members(run.pid), 30)  # its workers are gone too
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 143, stderr[-2000:]
    assert "stopped by SIGTERM. Nothing was published" in stderr
    assert not list(out.glob("_runs/*.json")) and not (out / ARTICLES).exists()
    assert not (out / "_staging").exists() and not (out / LOCK_FILE).exists()


def test_sigterm_stops_watch_mode_with_143_and_a_message(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    watcher = start("--watch", "--poll-seconds", "0.2", dump, "--output", tmp_path / "out")
    try:
        assert "watching" in watcher.stderr.readline()
        time.sleep(1)  # a few polls of an empty folder
        os.kill(watcher.pid, signal.SIGTERM)
        _, stderr = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            os.killpg(watcher.pid, signal.SIGKILL)
    assert watcher.returncode == 143
    assert "stopped watching (SIGTERM)" in stderr
    assert not (tmp_path / "out").exists()  # polls of an empty folder create no dataset
