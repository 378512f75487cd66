"""Publishing a run: the invariant check refuses lost or repeated documents; publish moves files."""
import datetime as dt
import json
import os
import pathlib
import subprocess

import pytest
from cli_runs import ROOT, run_cli

from pipelines.invariant import InvariantViolation, check_invariant
from schemas.records import RejectRow, RunInfo
from schemas.rows import reject_row
from schemas.tables import REJECTS
from storage.files import write_rows
from storage.layout import Layout, part_file_name
from storage.publication import publish, staged_files, write_file_list
from storage.visible import open_table

SAMPLES = ROOT / "samples"

RUN = RunInfo("20240101T000000Z-abcdef", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "0.1.0")


def stage_rejects(staging: Layout, uris: list[str]) -> None:
    fs, root = staging.fs, staging.staging_root
    rows = [reject_row(RejectRow(uri, "read", "empty file", "0 bytes"), RUN) for uri in uris]
    relative = f"{REJECTS}/{part_file_name(RUN.run_id, 0)}"
    write_rows(fs, f"{root}/{relative}", REJECTS, rows)
    write_file_list(staging, [relative])  # as the pipeline's last step does


def test_invariant_accepts_each_document_once_and_counts_reasons(tmp_path):
    staging = Layout(str(tmp_path), RUN.run_id)
    stage_rejects(staging, ["file:///a", "file:///b"])
    rows, reasons = check_invariant(staging, staged_files(staging), documents_in=2)
    assert rows[REJECTS] == 2
    assert reasons == {"empty file": 2}


def test_invariant_refuses_lost_documents(tmp_path):
    staging = Layout(str(tmp_path), RUN.run_id)
    stage_rejects(staging, ["file:///a"])
    with pytest.raises(InvariantViolation, match="2 input documents were read"):
        check_invariant(staging, staged_files(staging), documents_in=2)


def test_invariant_refuses_a_document_written_twice(tmp_path):
    staging = Layout(str(tmp_path), RUN.run_id)
    stage_rejects(staging, ["file:///a", "file:///a"])
    with pytest.raises(InvariantViolation, match="more than once"):
        check_invariant(staging, staged_files(staging), documents_in=2)


def test_only_the_listed_files_count_not_those_a_failed_bundle_left(tmp_path):
    staging = Layout(str(tmp_path), RUN.run_id)
    stage_rejects(staging, ["file:///a"])
    fs, root = staging.fs, staging.staging_root
    stray = [reject_row(RejectRow("file:///a", "read", "empty file", "0 bytes"), RUN)]
    write_rows(fs, f"{root}/{REJECTS}/{part_file_name(RUN.run_id, 'failed')}", REJECTS, stray)
    assert staged_files(staging)[REJECTS] == [f"{REJECTS}/{part_file_name(RUN.run_id, 0)}"]
    rows, _ = check_invariant(staging, staged_files(staging), documents_in=1)
    assert rows[REJECTS] == 1


def test_publish_moves_files_gives_every_table_a_file_and_writes_the_record_last(tmp_path):
    out = str(tmp_path / "out")
    staging = Layout(out, RUN.run_id)
    stage_rejects(staging, ["file:///a"])
    files = staged_files(staging)
    publish(staging, files, {"run_id": RUN.run_id})
    assert not (tmp_path / "out" / "_staging").exists()
    assert json.loads((tmp_path / "out" / "_runs" / f"{RUN.run_id}.json").read_text()) == {"run_id": RUN.run_id}
    assert open_table(out, "rejects").to_table().num_rows == 1
    # Tables without rows in this run still get a (empty) file, so queries on them never fail.
    assert open_table(out, "articles").to_table().num_rows == 0
    assert open_table(out, "duplicates").to_table().num_rows == 0


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MB filesystem (tmpfs): room for one sample run, then filled up. Needs root (CI runs as root)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2M", "tmpfs", str(mount_point)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _snapshot(folder: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_disk_full_fails_clearly_and_leaves_the_previous_dataset_intact(tiny_disk):
    out = tiny_disk / "out"
    run_cli(SAMPLES / "dump", "--output", out)
    before = _snapshot(out)
    filler = tiny_disk / "filler"
    with filler.open("wb", buffering=0) as stream:  # fill the disk, then free its last 16 KB
        try:
            while True:
                stream.write(b"\0" * 4096)
        except OSError:
            pass
    os.truncate(filler, max(0, filler.stat().st_size - 16384))
    result = run_cli(SAMPLES / "formats", "--output", out, check=False)
    assert result.returncode == 1
    assert "no space left on device" in result.stderr
    assert "the dataset in" in result.stderr and "is as it was before the run" in result.stderr
    assert _snapshot(out) == before  # no new file, no changed file, no staging left behind
