"""A damaged output: runs refuse it with the file and the command that repairs it; `newsflow check
--repair` moves what cannot be read aside and rebuilds the index and the manifest, after which the next
run neither fails nor ingests a published document again; journals that reach outside OUT are refused;
readers see only committed runs. Real command-line runs on copies of the sample dataset."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from cli_runs import ROOT, dataset_content, run_cli

from pipelines import exits
from pipelines.check import (
    Tables,
    read_folder,
    rebuild_index,
    rebuild_manifest,
)
from pipelines.inspect import VIEWS, open_dataset
from schemas.tables import (
    ARTICLES,
    DUPLICATES,
    ENTITIES,
    INDEX_ARTICLES,
    INDEX_DOCUMENTS,
    INDEX_KEYS,
    MANIFEST,
    REJECTS,
)
from storage.layout import JOURNAL_SUFFIX, QUARANTINE_FOLDER, QUARANTINE_REPORT, Layout
from storage.publication import CRASH_POINT_VARIABLE, DamagedOutput, check_journal
from storage.visible import commit_state, open_table

DUMP = ROOT / "samples" / "dump"
SAMPLE_DOCUMENTS = 16
STRANGER = "20990101T000000Z-abcdef"  # a run id no run of these tests has


def newsflow(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    """`newsflow ARGS...` (any command) in a fresh process."""
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=600, env={**os.environ, **(env or {})})


@pytest.fixture
def reference(sample_dataset):
    return sample_dataset[0]


@pytest.fixture
def out(tmp_path, reference):
    return pathlib.Path(shutil.copytree(reference, tmp_path / "out"))


def counts(out: pathlib.Path) -> dict[str, int]:
    return {table: open_table(str(out), table).count_rows() for table in (ARTICLES, DUPLICATES, REJECTS, ENTITIES)}


def first_file(out: pathlib.Path, folder: str) -> pathlib.Path:
    return min((out / folder).rglob("*.parquet"))


def truncate(path: pathlib.Path) -> pathlib.Path:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_text(text)
    return path


DAMAGES = {
    "truncated index file": lambda out: truncate(first_file(out, INDEX_DOCUMENTS)),
    "truncated manifest file": lambda out: truncate(first_file(out, MANIFEST)),
    "empty journal": lambda out: write(out / "_runs" / f"{STRANGER}{JOURNAL_SUFFIX}", ""),
    "garbled journal": lambda out: write(out / "_runs" / f"{STRANGER}{JOURNAL_SUFFIX}", '{"run_id": "2099'),
    "not Parquet in articles": lambda out: write(out / ARTICLES / "year=2024" / "month=3" / "notes.parquet", "hello"),
    "garbled run record": lambda out: write(next((out / "_runs").glob("*.json")), '{"run_id": '),
}


@pytest.mark.slow  # a real run per case: in test-all
@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_output_stops_runs_until_check_repair_moves_it_aside(out, reference, damage):
    damaged = DAMAGES[damage](out)
    relative, content = damaged.relative_to(out), damaged.read_bytes()
    for extra in ([], ["--reprocess", "all"], ["--dry-run"]):
        refused = newsflow("ingest", DUMP, "--output", out, *extra)
        assert refused.returncode == exits.DAMAGED_OUTPUT, refused.stderr[-2000:]
        assert str(relative) in refused.stderr and f"newsflow check {out} --repair" in refused.stderr
        assert "Traceback" not in refused.stderr
    checked = newsflow("check", out)
    assert checked.returncode == exits.DAMAGED_OUTPUT and str(relative) in checked.stdout

    repaired = newsflow("check", out, "--repair")
    assert repaired.returncode == exits.OK, repaired.stdout + repaired.stderr
    (quarantine,) = (out / QUARANTINE_FOLDER).iterdir()
    assert (quarantine / relative).read_bytes() == content  # moved, not deleted
    assert str(relative) in (quarantine / QUARANTINE_REPORT).read_text()
    if damaged.suffix == ".parquet" and damaged.exists():  # rebuilt: named after its content, like the original
        assert pq.read_table(damaged).num_rows
    if damage == "garbled run record":  # replaced by a minimal one: the run's files stay committed
        assert json.loads(damaged.read_text())["run_id"] == damaged.stem
    assert newsflow("check", out).returncode == exits.OK

    run_cli(DUMP, "--output", out)
    assert dataset_content(out) == dataset_content(reference)  # nothing lost, nothing ingested twice


def test_a_lost_index_and_manifest_are_rebuilt_and_the_next_run_adds_no_article(out, reference):
    shutil.rmtree(out / "_index")
    shutil.rmtree(out / MANIFEST)
    refused = newsflow("ingest", DUMP, "--output", out)
    assert refused.returncode == exits.DAMAGED_OUTPUT and "the index lists 0 documents" in refused.stderr
    assert newsflow("check", out, "--repair").returncode == exits.OK
    run_cli(DUMP, "--output", out)
    last = json.loads(max((out / "_runs").glob("*.json")).read_text())
    # The rebuilt manifest cannot know the files' sizes and versions: they are read again, and every
    # document is found in the rebuilt index.
    assert (last["documents"], last["already_ingested"], last["articles"]) == (SAMPLE_DOCUMENTS, SAMPLE_DOCUMENTS, 0)
    assert dataset_content(out) == dataset_content(reference)
    assert "nothing new to ingest" in run_cli(DUMP, "--output", out).stdout  # the manifest is whole again


def test_the_rebuilt_index_is_the_one_the_runs_wrote(reference):
    layout = Layout(str(reference))
    state = commit_state(layout)
    tables = Tables.read(layout, state)

    def rows(folder: str) -> set:
        return {tuple(sorted((k, repr(v)) for k, v in row.items() if k != "_run_id"))
                for row in read_folder(layout, folder, state[0])}

    salvaged = {folder: read_folder(layout, folder, state[0]) for folder in (INDEX_ARTICLES, INDEX_KEYS)}
    rebuilt = rebuild_index(tables, salvaged[INDEX_ARTICLES], salvaged[INDEX_KEYS])
    for folder in (INDEX_DOCUMENTS, INDEX_KEYS, INDEX_ARTICLES):
        assert {tuple(sorted((k, repr(v)) for k, v in row.items())) for _, row in rebuilt[folder]} == rows(folder)
    # Without the old index, only the near copies' own rows are missing (their text is in no table).
    alone = rebuild_index(tables, [], [])
    near = {row["doc_id"] for row in tables.duplicates if row["kind"] == "near"}
    assert near and {row["doc_id"] for _, row in alone[INDEX_ARTICLES]} == {row["doc_id"] for row in tables.articles}
    assert len(alone[INDEX_DOCUMENTS]) == SAMPLE_DOCUMENTS
    manifest = {row["uri"]: row for row in read_folder(layout, MANIFEST, state[0])}
    for _, row in rebuild_manifest(tables, []):
        old = manifest[row["uri"]]
        assert (row["content_hash"], row["documents"], row["run_id"]) == (old["content_hash"], old["documents"],
                                                                           old["run_id"])
        assert row["size"] is None and row["version"] is None  # unknown: the next run reads the file again


# --- journals that reach outside the output ---------------------------------------------------------------


def journal(**changes) -> dict:
    return {"run_id": STRANGER, "moves": [["articles/part-x.parquet", "articles/part-x.parquet"]], "deletes": [],
            "state": [], "summary": {"run_id": STRANGER}, **changes}


@pytest.mark.parametrize("bad", [
    {"deletes": ["../victim/a.txt"]},
    {"deletes": ["articles/../../victim/a.txt"]},
    {"deletes": ["/etc/passwd"]},
    {"deletes": ["_lock.json"]},
    {"deletes": ["s3://bucket/key"]},
    {"moves": [["articles/x.parquet", "../victim/x.parquet"]]},
    {"moves": [["../../elsewhere", "articles/x.parquet"]]},
    {"state": ["_state/../../victim"]},
    {"state": ["_runs/x.json"]},  # replay removes every other file of a state file's folder
    {"deletes": [f"_runs/{STRANGER}.json"]},
    {"moves": [["x.json", "_runs/20240101T000000Z-abcdef.json"]]},
    {"run_id": "../victim/run"},
    {"run_id": "20990101T000000Z-bbbbbb"},  # not the run id of the journal's name
    {"moves": "articles"},
    {"summary": None},
])
def test_a_journal_naming_a_path_outside_the_dataset_is_refused(bad):
    path = f"/out/_runs/{STRANGER}{JOURNAL_SUFFIX}"
    assert check_journal(journal(), path)
    with pytest.raises(DamagedOutput):
        check_journal(journal(**bad), path)


def test_a_run_refuses_a_journal_that_reaches_outside_and_touches_nothing_there(tmp_path, out):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "a.txt").write_text("not yours")
    (out / "_runs" / f"{STRANGER}{JOURNAL_SUFFIX}").write_text(json.dumps(journal(
        deletes=["../victim/a.txt"], moves=[["articles/x.parquet", "../victim/moved.parquet"]])))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if out not in p.parents)
    refused = newsflow("ingest", DUMP, "--output", out)
    assert refused.returncode == exits.DAMAGED_OUTPUT and f"{STRANGER}{JOURNAL_SUFFIX}" in refused.stderr
    assert "which is not inside the dataset" in refused.stderr and "../victim/" in refused.stderr
    assert (victim / "a.txt").read_text() == "not yours"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if out not in p.parents) == before

    assert newsflow("check", out, "--repair").returncode == exits.OK
    assert (victim / "a.txt").exists() and not list((out / "_runs").glob(f"*{JOURNAL_SUFFIX}"))
    assert "nothing new to ingest" in run_cli(DUMP, "--output", out).stdout


# --- readers see committed runs only ----------------------------------------------------------------------


@pytest.mark.slow  # a real run per case: in test-all
@pytest.mark.parametrize("crash_at", ["move:4", "record"])
def test_readers_see_no_half_published_run(out, reference, crash_at):
    """A --reprocess run replaces published files: killed while publishing, before or after its record,
    readers see one whole dataset, never both versions of a row nor neither."""
    crashed = newsflow("ingest", DUMP, "--output", out, "--reprocess", "all", env={CRASH_POINT_VARIABLE: crash_at})
    assert crashed.returncode == 137
    assert list((out / "_runs").glob(f"*{JOURNAL_SUFFIX}"))  # its publication is incomplete
    assert dataset_content(out) == dataset_content(reference)  # open_table
    con = open_dataset(str(out))
    assert {table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in VIEWS} == counts(reference)
    run_cli(DUMP, "--output", out)  # completes it
    assert dataset_content(out) == dataset_content(reference)
    assert not list((out / "_runs").glob(f"*{JOURNAL_SUFFIX}"))


def test_watch_mode_stops_on_a_damaged_output_as_a_run_does(out):
    """No later poll can get past the damage: the watcher stops with 74 instead of failing every poll."""
    damaged = DAMAGES["empty journal"](out)
    watcher = newsflow("ingest", "--watch", "--poll-seconds", "0.2", DUMP, "--output", out)
    assert watcher.returncode == exits.DAMAGED_OUTPUT, watcher.stderr[-2000:]
    assert str(damaged.relative_to(out)) in watcher.stderr and "--repair" in watcher.stderr
