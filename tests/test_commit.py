"""Publishing a run: the invariant check refuses lost or repeated documents; publish moves files."""
import datetime as dt
import json

import pytest
from fsspec.core import url_to_fs

from pipelines.commit import InvariantViolation, check_invariant, publish, staged_files
from schemas.rows import RunInfo, reject_row
from schemas.tables import REJECTS, open_table
from transforms.routing import RejectRow
from transforms.write import part_file_name, staging_uri, write_table_file

RUN = RunInfo("20240101T000000Z-abcdef", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "0.1.0")


def stage_rejects(staging: str, uris: list[str]) -> None:
    fs, root = url_to_fs(staging)
    rows = [reject_row(RejectRow(uri, "read", "empty file", "0 bytes"), RUN) for uri in uris]
    write_table_file(fs, f"{root}/{REJECTS}/{part_file_name(RUN.run_id, 0)}", REJECTS, rows)


def test_invariant_accepts_each_document_once_and_counts_reasons(tmp_path):
    staging = staging_uri(str(tmp_path), RUN.run_id)
    stage_rejects(staging, ["file:///a", "file:///b"])
    rows, reasons = check_invariant(staging, staged_files(staging), documents_in=2)
    assert rows[REJECTS] == 2
    assert reasons == {"empty file": 2}


def test_invariant_refuses_lost_documents(tmp_path):
    staging = staging_uri(str(tmp_path), RUN.run_id)
    stage_rejects(staging, ["file:///a"])
    with pytest.raises(InvariantViolation, match="2 input documents were read"):
        check_invariant(staging, staged_files(staging), documents_in=2)


def test_invariant_refuses_a_document_written_twice(tmp_path):
    staging = staging_uri(str(tmp_path), RUN.run_id)
    stage_rejects(staging, ["file:///a", "file:///a"])
    with pytest.raises(InvariantViolation, match="more than once"):
        check_invariant(staging, staged_files(staging), documents_in=2)


def test_publish_moves_files_gives_every_table_a_file_and_writes_the_record_last(tmp_path):
    out = str(tmp_path / "out")
    staging = staging_uri(out, RUN.run_id)
    stage_rejects(staging, ["file:///a"])
    files = staged_files(staging)
    publish(staging, out, RUN.run_id, files, {"run_id": RUN.run_id})
    assert not (tmp_path / "out" / "_staging").exists()
    assert json.loads((tmp_path / "out" / "_runs" / f"{RUN.run_id}.json").read_text()) == {"run_id": RUN.run_id}
    assert open_table(out, "rejects").to_table().num_rows == 1
    # Tables without rows in this run still get a (empty) file, so queries on them never fail.
    assert open_table(out, "articles").to_table().num_rows == 0
    assert open_table(out, "duplicates").to_table().num_rows == 0
