"""Scheduled re-processing: the manifest of processed inputs, --reprocess, the lock, and runs killed at
any point (real command-line runs on a copy of the sample dump, tables read back with pyarrow)."""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
from cli_runs import ROOT, dataset_content, rows_by_name, run_cli

from pipelines.inspect import open_dataset
from pipelines.lock import is_stale, owner_record
from pipelines.plan import Reprocess, parse_reprocess, reprocess_selection
from schemas.tables import ARTICLES, MANIFEST, REJECTS
from storage.layout import LOCK_FILE
from storage.publication import CRASH_POINT_VARIABLE

DUMP = ROOT / "samples" / "dump"
SAMPLE_DOCUMENTS = 16


def copy_of_sample(tmp_path: pathlib.Path) -> pathlib.Path:
    return pathlib.Path(shutil.copytree(DUMP, tmp_path / "dump"))


def published_files(out: pathlib.Path) -> dict[str, bytes]:
    """Every file of the dataset with its bytes (the lock, a run in progress, is not part of it)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != LOCK_FILE}


def summaries(out: pathlib.Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "_runs").glob("*.json"))]


@pytest.fixture(scope="module")
def reference(sample_dataset):
    """An uninterrupted run of the sample dump: what every interrupted run must end up with."""
    return sample_dataset[0]


def test_the_manifest_records_every_file_and_an_unchanged_rerun_reads_nothing(tmp_path, reference):
    manifest = pq.read_table(reference / MANIFEST).to_pylist()
    files = sorted(p for p in DUMP.rglob("*") if p.is_file())
    assert sorted(row["uri"] for row in manifest) == [f"file://{p}" for p in files]
    for row in manifest:
        path = pathlib.Path(row["uri"].removeprefix("file://"))
        assert row["size"] == path.stat().st_size and row["version"] and row["documents"] == 1
        assert len(row["content_hash"]) == 32
    assert sum(row["documents"] for row in manifest) == SAMPLE_DOCUMENTS

    out = tmp_path / "out"
    shutil.copytree(reference, out)
    before = published_files(out)
    result = run_cli(DUMP, "--output", out)
    assert f"nothing new to ingest: the {SAMPLE_DOCUMENTS} input files are in the manifest" in result.stdout
    assert published_files(out) == before


@pytest.mark.slow
def test_a_new_file_in_the_dump_is_the_only_one_read(tmp_path, reference):
    dump, out = copy_of_sample(tmp_path), tmp_path / "out"
    run_cli(dump, "--output", out)
    story = (DUMP / "2024-03" / "wirepress").glob("*.txt").__next__().read_text()
    (dump / "late.txt").write_text("Late edition\n\n" + story.replace("said", "told reporters", 2))
    run_cli(dump, "--output", out)
    last = summaries(out)[-1]
    assert (last["documents"], last["inputs_unchanged"]) == (1, SAMPLE_DOCUMENTS)
    assert last["articles"] + last["duplicates"] + last["rejects"] == 1
    manifest = pq.read_table(out / MANIFEST).to_pylist()
    assert [row["uri"] for row in manifest].count(f"file://{dump}/late.txt") == 1


@pytest.mark.slow
def test_reprocess_all_replaces_every_row_and_adds_none(tmp_path, reference):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    run_cli(DUMP, "--output", out, "--reprocess", "all")
    last = summaries(out)[-1]
    assert (last["reprocessed_files"], last["documents"], last["already_ingested"]) == (SAMPLE_DOCUMENTS, 16, 0)
    assert last["rows_replaced"] > SAMPLE_DOCUMENTS  # tables, entities, index and manifest rows
    # The same dataset: no article became a copy of its own older version, nothing is there twice.
    assert dataset_content(out) == dataset_content(reference)
    assert {row["run_id"] for row in pq.read_table(out / ARTICLES).to_pylist()} == {last["run_id"]}
    assert len(pq.read_table(out / MANIFEST)) == SAMPLE_DOCUMENTS
    # The runs view tells the rows a run added from those it replaced: summed, `_new` is the table's size.
    runs = open_dataset(str(out)).sql(
        "SELECT articles, articles_new, articles_replaced, rejects_new, rejects_replaced FROM runs ORDER BY run_id"
    ).fetchall()
    articles, rejects = len(pq.read_table(out / ARTICLES)), len(pq.read_table(out / REJECTS))
    assert runs == [(articles, articles, 0, rejects, 0), (articles, 0, articles, 0, rejects)]


@pytest.mark.slow
def test_reprocess_a_date_range_touches_only_its_files(tmp_path, reference):
    dump, out = copy_of_sample(tmp_path), tmp_path / "out"
    run_cli(dump, "--output", out, "--reference-date", "2024-03-20")
    old_story = "Old story\n\nPORTVALE, Jan 9, 2023 - " + "The harbour board met on Monday to discuss the ferry. " * 12
    (dump / "old.txt").write_text(old_story)
    run_cli(dump, "--output", out, "--reference-date", "2024-03-20")
    assert rows_by_name(out, ARTICLES)["old.txt"]["published_date"].year == 2023
    before = published_files(out)
    run_cli(dump, "--output", out, "--reference-date", "2024-03-20", "--reprocess", "2023-01-01..2023-12-31")
    last = summaries(out)[-1]
    assert (last["reprocessed_files"], last["documents"]) == (1, 1)
    after = published_files(out)
    changed = {name for name in before if before[name] != after.get(name)}
    # Only files that held the old story's rows changed; the 2024 partitions were not touched.
    assert changed and all("year=2024" not in name for name in changed)
    assert all(after[name] == before[name] for name in before if "year=2024" in name)
    assert rows_by_name(out, ARTICLES)["old.txt"]["run_id"] == last["run_id"]
    assert sum(1 for name in rows_by_name(out, ARTICLES) if name == "old.txt") == 1


def test_reprocess_requests_choose_the_right_files():
    known = {"a": (1, "v", "0.1.0"), "b": (2, "v", "0.2.0")}
    assert reprocess_selection(Reprocess(everything=True), known, "unused", "0.2.0") == {"a", "b"}
    assert reprocess_selection(Reprocess(older_versions=True), known, "unused", "0.2.0") == {"a"}
    assert parse_reprocess("2017-01-01..") == Reprocess(start=__import__("datetime").date(2017, 1, 1))
    with pytest.raises(ValueError, match="write all, older, or a date range"):
        parse_reprocess("yesterday")


# --- the lock ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_live_lock_makes_a_second_run_refuse_and_a_dead_one_is_taken_over(tmp_path):
    dump, out = copy_of_sample(tmp_path), tmp_path / "out"
    out.mkdir()
    holder = owner_record("20240101T000000Z-aaaaaa", 600)  # this test process: alive
    (out / LOCK_FILE).write_text(json.dumps(holder))
    refused = run_cli(dump, "--output", out, check=False)
    assert refused.returncode == 75
    assert "another newsflow run (20240101T000000Z-aaaaaa" in refused.stderr and "expires at" in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # it did nothing

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    (out / LOCK_FILE).write_text(json.dumps({**holder, "pid": int(dead.stdout)}))  # that process is gone
    run_cli(dump, "--output", out)
    assert not (out / LOCK_FILE).exists()
    assert len(summaries(out)) == 1


def test_a_lock_expires_when_its_owner_on_another_host_stops_renewing_it():
    holder = owner_record("r", 600)
    assert not is_stale(holder)
    assert is_stale({**holder, "host": "elsewhere", "expires_at": "2020-01-01T00:00:00+00:00"})
    assert not is_stale({**holder, "host": "elsewhere", "pid": 1})  # not expired: we cannot see its pid
    assert is_stale({"garbage": True})
    assert socket.gethostname() == holder["host"]


# --- runs killed at any point ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("crash_at", ["journal", "move:5", "record"])
def test_a_run_killed_while_publishing_is_completed_by_the_next(tmp_path, reference, crash_at):
    out = tmp_path / "out"
    crashed = subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", str(DUMP), "--output", str(out)],
                             cwd=ROOT, capture_output=True, text=True, check=False,
                             env={**os.environ, CRASH_POINT_VARIABLE: crash_at})
    assert crashed.returncode == 137
    assert (out / "_staging").exists()  # what the killed run left
    run_cli(DUMP, "--output", out)
    assert dataset_content(out) == dataset_content(reference)
    assert not (out / "_staging").exists() and not list((out / "_runs").glob("*.pending.json"))
    assert len(summaries(out)) == 1  # the killed run, completed; the re-run found nothing new


@pytest.mark.slow
def test_a_run_that_fails_while_publishing_says_the_next_run_completes_it_and_the_next_run_does(tmp_path, reference):
    out = tmp_path / "out"
    failed = subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", str(DUMP), "--output", str(out)],
                            cwd=ROOT, capture_output=True, text=True, check=False,
                            env={**os.environ, CRASH_POINT_VARIABLE: "fail:move:1"})
    assert failed.returncode == 1
    assert "had started publishing" in failed.stderr and "Nothing was published" not in failed.stderr
    assert list((out / "_runs").glob("*.pending.json"))  # its journal, for the next run
    run_cli(DUMP, "--output", out)
    assert dataset_content(out) == dataset_content(reference)
    assert len(summaries(out)) == 1  # the failed run, completed; the re-run found nothing new


@pytest.mark.slow
def test_a_run_killed_at_a_random_moment_leaves_no_visible_output_and_the_rerun_completes_it(tmp_path, reference):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ingest", str(DUMP), "--output", str(out)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not (out / "_staging").exists() and time.monotonic() < deadline:  # the pipeline is writing
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the whole process group: driver and workers
    process.wait()
    visible = [p for table in (ARTICLES, REJECTS) if (out / table).exists() for p in (out / table).rglob("*.parquet")]
    if not list((out / "_runs").glob("*.pending.json")):  # killed before publishing: nothing to see
        assert not visible
    run_cli(DUMP, "--output", out)
    assert dataset_content(out) == dataset_content(reference)
    assert not (out / "_staging").exists() and not (out / LOCK_FILE).exists()


# --- watch mode -----------------------------------------------------------------------------------


def wait_for(condition, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
def test_watch_ingests_each_new_batch_and_stops_cleanly_on_ctrl_c(tmp_path):
    dump, out = tmp_path / "dump", tmp_path / "out"
    dump.mkdir()
    stories = sorted((DUMP / "2024-03" / "wirepress").glob("*.txt")) + sorted((DUMP / "2024-03").glob("*/*.txt"))
    shutil.copy(stories[0], dump / "first.txt")
    watcher = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "ingest", "--watch", "--poll-seconds", "1", str(dump), "--output", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for(lambda: len(list((out / "_runs").glob("*.json"))) == 1 if (out / "_runs").exists() else False)
        # Delivered as transfer tools do: written elsewhere, then renamed in (a poll never sees half of it).
        shutil.copy(stories[1], tmp_path / "second.txt")
        os.replace(tmp_path / "second.txt", dump / "second.txt")
        wait_for(lambda: len(list((out / "_runs").glob("*.json"))) == 2)
        time.sleep(2)  # a few more polls: nothing new, nothing written
        os.killpg(watcher.pid, signal.SIGINT)  # Ctrl-C in a terminal signals the whole process group
        _, stderr = watcher.communicate(timeout=300)
    finally:
        if watcher.poll() is None:
            os.killpg(watcher.pid, signal.SIGKILL)
    assert watcher.returncode == 130  # 128 + SIGINT, as a shell reports it
    assert "stopped watching (SIGINT)" in stderr
    assert [s["documents"] for s in summaries(out)] == [1, 1]
    assert not (out / LOCK_FILE).exists() and not (out / "_staging").exists()
    names = {pathlib.Path(uri).name for uri in pq.read_table(out / MANIFEST).column("uri").to_pylist()}
    assert names == {"first.txt", "second.txt"}
