"""A run larger than its memory budget goes in batches (pipelines/batches.py): how plans are cut, and real
runs of the sample dump in batches read back against one run of it."""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from cli_runs import ROOT, dataset_content, run_cli

from pipelines.batches import BASE_BYTES, batch_files, estimated_peak, parse_size, split_plan
from pipelines.plan import Plan
from schemas.tables import ARTICLES, DUPLICATES
from storage.layout import RUNS_FOLDER
from storage.visible import open_table
from transforms.read import InputFile

DUMP = ROOT / "samples" / "dump"
SAMPLE_DOCUMENTS = 16


def files(*specs: tuple[str, int]) -> tuple[InputFile, ...]:
    return tuple(InputFile(uri, size) for uri, size in specs)


def test_sizes_read_as_people_write_them():
    assert parse_size("3G") == 3 * 1024**3
    assert parse_size("500MB") == 500 * 1024**2
    assert parse_size("2.5GiB") == int(2.5 * 1024**3)
    assert parse_size("1000") == 1000
    for bad in ("", "3X", "-1G", "0"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_batches_keep_whole_folders_together_and_split_only_a_folder_larger_than_one_batch():
    listed = files(("f:///d/a/1", 40), ("f:///d/a/2", 40), ("f:///d/b/1", 30), ("f:///d/b/2", 30),
                   ("f:///d/c/1", 60), ("f:///d/c/2", 60), ("f:///d/c/3", 60))
    batches = [[file.uri.removeprefix("f:///d/") for file in batch] for batch in batch_files(listed, 100)]
    # a and b do not fit together (140): b starts a batch; c (180) is larger than a batch: split alone.
    assert batches == [["a/1", "a/2"], ["b/1", "b/2"], ["c/1"], ["c/2"], ["c/3"]]


def test_compressed_files_weigh_what_they_hold():
    assert estimated_peak(files(("f:///d/a.warc.gz", 100))) > estimated_peak(files(("f:///d/a.txt", 100)))


def test_a_plan_within_the_budget_is_one_batch_and_a_larger_one_is_cut_with_its_counts_in_the_first():
    plan = Plan(files(("f:///d/a/1", 10_000), ("f:///d/b/1", 10_000)), ("f:///gone",), unchanged=7,
                reprocessed=("f:///d/b/1",), changed=())
    assert split_plan(plan, None) == [plan]
    assert split_plan(plan, 10 * BASE_BYTES) == [plan]
    first, second = split_plan(plan, BASE_BYTES)  # no room at all: the smallest batches
    assert [file.uri for file in first.files] == ["f:///d/a/1"]
    assert (first.unlisted, first.unchanged, first.reprocessed) == (("f:///gone",), 7, ())
    assert (second.unlisted, second.unchanged, second.reprocessed) == ((), 0, ("f:///d/b/1",))


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    """(the dump, the dataset of one run over it without NER): what runs in batches must equal."""
    dump = pathlib.Path(shutil.copytree(DUMP, tmp_path_factory.mktemp("one") / "dump"))
    out = dump.parent / "out"
    run_cli(dump, "--output", out, "--no-entities")
    return dump, out


@pytest.mark.slow
def test_a_run_in_batches_publishes_a_run_per_batch_and_the_dataset_of_one_run(tmp_path, one_run):
    reference, single = one_run
    dump = pathlib.Path(shutil.copytree(DUMP, tmp_path / "dump"))
    out = tmp_path / "out"
    # A budget that leaves no room over the processes' fixed cost: batches of the smallest size.
    result = run_cli(dump, "--output", out, "--no-entities", "--memory-budget", str(BASE_BYTES), "--log-level", "info")
    runs = sorted((out / RUNS_FOLDER).glob("*.json"))
    assert len(runs) == 3, result.stderr[-2000:]  # 16 kB batches of whole folders
    records = [json.loads(path.read_text()) for path in runs]
    assert sum(record["documents"] for record in records) == SAMPLE_DOCUMENTS
    assert "in 3 batches" in result.stderr and "(3 batches, runs" in result.stdout
    # The same articles, duplicates (and their links) and rejects as one run over the same files; only
    # `duplicate_count`, a count of copies within one run, is the batch's (a copy in a later batch is not
    # counted on its original's row).
    assert _relative(dataset_content(out), dump) == _relative(dataset_content(single), reference)
    counts = {row["source_uri"]: row["duplicate_count"] for row in open_table(str(out), ARTICLES).to_table().to_pylist()}
    copies = open_table(str(out), DUPLICATES).to_table().num_rows
    assert 0 < sum(counts.values()) <= copies
    # A re-run reads nothing: every batch is in the manifest.
    again = run_cli(dump, "--output", out, "--no-entities", "--memory-budget", str(BASE_BYTES))
    assert "nothing new to ingest" in again.stdout


def _relative(content: dict, root: pathlib.Path) -> dict:
    """The dataset's content with the dump's own path taken out of every URI, without `duplicate_count`."""
    return {table: sorted(tuple((k, v.replace(str(root), "DUMP")) for k, v in row if k != "duplicate_count")
                          for row in rows)
            for table, rows in content.items()}


@pytest.mark.slow
def test_a_batched_run_killed_after_its_first_batch_is_completed_by_the_rerun(tmp_path, one_run):
    reference, single = one_run
    dump = pathlib.Path(shutil.copytree(DUMP, tmp_path / "dump"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "pipelines.cli", "ingest", str(dump), "--output", str(out), "--no-entities",
               "--memory-budget", str(BASE_BYTES)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 300
    records = lambda: [p for p in (out / RUNS_FOLDER).glob("*.json") if not p.name.endswith(".pending.json")]
    while not (out / RUNS_FOLDER).exists() or not records():  # the first batch is published
        assert time.monotonic() < deadline and process.poll() is None, "the first batch never published"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and its workers, in the second batch
    process.wait()
    published = len(records())
    assert 1 <= published < 3
    rerun = run_cli(dump, "--output", out, "--no-entities", "--memory-budget", str(BASE_BYTES))
    # The re-run reads only what the published batches did not, and the dataset is the one of one run.
    planned = re.search(r"(\d+) files to read \((\d+) unchanged", rerun.stderr)
    assert planned and int(planned.group(2)) > 0 and int(planned.group(1)) + int(planned.group(2)) == SAMPLE_DOCUMENTS
    assert _relative(dataset_content(out), dump) == _relative(dataset_content(single), reference)
    assert not (out / "_staging").exists()


def test_a_batched_run_that_fails_says_which_batches_were_published():
    from pipelines.cli import what_was_published

    error = RuntimeError("disk full")
    error.published_batches = (["20261208T010000Z-aaaaaa", "20261208T010500Z-bbbbbb"], 5)
    message = what_was_published(error, "out")
    assert "2 of its 5 batches were published" in message and "20261208T010500Z-bbbbbb" in message
    assert "published nothing" in message and "as it was before" not in message
    assert "as it was before the run" in what_was_published(RuntimeError("disk full"), "out")
