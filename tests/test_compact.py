"""`newsflow compact`: small files merged per folder (table partition, index shard, manifest), every row kept,
atomically, under the lock and journal of a run; a second compaction changes nothing; a compaction that dies
at any step is completed or undone by the next command; runs, --reprocess and `check` work on the result.

The fast tests compact datasets of invented rows published run by run through storage/publication.py; the
slow ones (real pipeline runs over invented dumps, several runs into one output) compact through the CLI.
"""
from __future__ import annotations

import datetime as dt
import os
import pathlib
import random
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict

import pyarrow as pa
import pytest
from cli_runs import ROOT, dataset_content

from pipelines import compact as compact_module
from pipelines import exits
from pipelines.compact import compact, compact_command
from pipelines.invariant import InvariantViolation
from pipelines.lock import OutputLocked, RunLock
from schemas.tables import (
    ARTICLES,
    DUPLICATES,
    INDEX_DOCUMENTS,
    INDEX_LOOKUP_COLUMN,
    SCHEMAS,
    TABLES,
    partition_path,
)
from storage import compaction
from storage.compaction import COMPACTED, folders_of
from storage.files import read_parquet, write_rows
from storage.layout import JOURNAL_SUFFIX, LOCK_FILE, Layout, new_run_id, part_file_name
from storage.publication import CRASH_POINT_VARIABLE, publish
from storage.visible import visible_files

# --- what the tests compare ------------------------------------------------------------------------------


def visible_rows(out: pathlib.Path) -> dict[str, Counter]:
    """The multiset of rows readers see, per compacted table (the index and manifest too), run id included."""
    layout = Layout(str(out))
    content = {}
    for table in COMPACTED:
        rows = Counter()
        for path in visible_files(layout, table):
            rows.update(repr(sorted(row.items())) for row in read_parquet(layout.fs, path).to_pylist())
        content[table] = rows
    return content


def files_per_folder(out: pathlib.Path) -> dict[str, int]:
    layout = Layout(str(out))
    return {folder: len(paths) for table in COMPACTED for folder, paths in folders_of(layout, table).items()}


def every_file(out: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != LOCK_FILE}


def pending(out: pathlib.Path) -> list[pathlib.Path]:
    return list((out / "_runs").glob(f"*{JOURNAL_SUFFIX}"))


# --- a dataset of invented rows, published run by run ----------------------------------------------------

DAYS = [dt.date(2024, 1, 5), dt.date(2024, 2, 5), None]  # two months and the undated partition


def invented_row(table: str, run_id: str, number: int) -> dict:
    """A row of `table` with a value of its type in every column, unique per run, table and number."""
    row = {}
    for field in SCHEMAS[table]:
        kind = field.type
        if field.name == "run_id":
            value = run_id
        elif field.name == "published_date":
            value = DAYS[number % len(DAYS)]
        elif pa.types.is_string(kind):
            value = f"{field.name}-{run_id}-{table}-{number}"
        elif pa.types.is_binary(kind):
            value = f"{run_id}-{number}".encode()
        elif pa.types.is_integer(kind):
            value = number
        elif pa.types.is_floating(kind):
            value = number / 8
        elif pa.types.is_timestamp(kind):
            value = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=number)
        elif pa.types.is_date32(kind):
            value = dt.date(2024, 3, 1)
        else:  # lists
            value = []
        row[field.name] = value
    return row


def publish_invented_run(out: pathlib.Path, night: int, rows_per_table: int = 6, files_per_folder: int = 2) -> str:
    """One run's worth of invented rows in every compacted table, `files_per_folder` files per partition (as
    bundles write them), published as a run is: journal, moves, commit record."""
    run = Layout(str(out), new_run_id(dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=night)))
    files: dict[str, list[str]] = defaultdict(list)
    for table in COMPACTED:
        # One index row per document of the tables, as runs write them (runs check that count).
        count = rows_per_table * len(TABLES) if table == INDEX_DOCUMENTS else rows_per_table
        partitions = defaultdict(list)
        for number in range(count):
            row = invented_row(table, run.run_id, number)
            partitions[partition_path(table, row)].append(row)
        for partition, rows in partitions.items():
            for bundle in range(files_per_folder):
                relative = os.path.join(table, partition, part_file_name(run.run_id, f"b{bundle}"))
                write_rows(run.fs, run.staged(relative), table, rows[bundle::files_per_folder])
                files[table].append(relative)
    publish(run, dict(files), {"run_id": run.run_id})
    return run.run_id


@pytest.fixture(scope="module")
def invented_nights(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("invented") / "out"
    for night in range(5):
        publish_invented_run(out, night)
    return out


@pytest.fixture
def nightly(invented_nights, tmp_path) -> pathlib.Path:
    """Five nights of invented runs into one output (a copy, to change)."""
    return pathlib.Path(shutil.copytree(invented_nights, tmp_path / "out"))


# --- fast: the mechanics -------------------------------------------------------------------------------


def test_compact_merges_each_folder_into_one_file_and_keeps_every_row(nightly):
    before = visible_rows(nightly)
    assert max(files_per_folder(nightly).values()) == 10  # 5 runs x 2 bundles
    summary = compact(str(nightly))
    assert summary["command"] == "compact" and summary["files_written"] == len(files_per_folder(nightly))
    assert visible_rows(nightly) == before  # the multiset of rows of every table, index and manifest
    assert set(files_per_folder(nightly).values()) == {1}
    assert not pending(nightly) and not (nightly / "_staging").exists() and not (nightly / LOCK_FILE).exists()
    # Every row keeps the run that wrote it (what --reprocess, the runs view and check --repair read).
    runs = {row["run_id"] for row in read_parquet(Layout(str(nightly)).fs, str(next((nightly / ARTICLES).rglob("*.parquet")))).to_pylist()}
    assert len(runs) == 5


def test_merged_files_are_sorted_by_document_and_the_index_by_its_lookup_column(nightly):
    compact(str(nightly))
    layout = Layout(str(nightly))
    for table, column in {ARTICLES: "doc_id", DUPLICATES: "doc_id", **INDEX_LOOKUP_COLUMN}.items():
        for path in visible_files(layout, table):
            values = read_parquet(layout.fs, path, [column]).column(column).to_pylist()
            assert values == sorted(values), path


def test_a_second_compaction_changes_nothing(nightly):
    compact(str(nightly))
    before = every_file(nightly)
    assert compact(str(nightly)) is None
    assert every_file(nightly) == before
    assert compact_command(str(nightly)) == exits.OK and every_file(nightly) == before


def test_big_files_are_left_alone_and_what_is_merged_stays_merged(nightly, monkeypatch):
    """With targets of 10 rows: files of 3+ rows (a quarter) are big and never merged; the small ones are
    packed up to 10 rows a file; a second compaction changes nothing."""
    monkeypatch.setattr(compaction, "TARGET_FILE_ROWS", 10)
    before = visible_rows(nightly)
    compact(str(nightly))
    assert visible_rows(nightly) == before
    layout = Layout(str(nightly))
    for table in COMPACTED:
        for folder, paths in folders_of(layout, table).items():
            sizes = [compaction.describe(layout, path) for path in paths]
            assert all(file.rows <= 10 for file in sizes), folder
            assert sum(not file.is_big() for file in sizes) <= 1, folder  # at most one small file left
    files = every_file(nightly)
    assert compact(str(nightly)) is None and every_file(nightly) == files


def test_a_folder_with_one_file_is_left_alone(tmp_path):
    out = tmp_path / "out"
    publish_invented_run(out, 0, files_per_folder=1)
    before = every_file(out)
    assert compaction.plan_compaction(Layout(str(out))) == []
    assert compact(str(out)) is None and every_file(out) == before


@pytest.mark.parametrize("crash_at", ["journal", "move:3", "record"])
def test_a_compaction_that_fails_while_publishing_is_completed_by_the_next_command(nightly, monkeypatch, crash_at):
    """Readers see the dataset before (journal, moves) or after (record) the compaction, never half; the
    next compaction replays the journal and ends where an uninterrupted one does."""
    before = visible_rows(nightly)
    monkeypatch.setenv(CRASH_POINT_VARIABLE, f"fail:{crash_at}")
    with pytest.raises(OSError):
        compact(str(nightly))
    monkeypatch.delenv(CRASH_POINT_VARIABLE)
    assert pending(nightly) and visible_rows(nightly) == before
    assert not (nightly / LOCK_FILE).exists()
    compact(str(nightly))  # recovers first, then finds nothing left to merge
    assert not pending(nightly) and not (nightly / "_staging").exists()
    assert visible_rows(nightly) == before and set(files_per_folder(nightly).values()) == {1}


def test_a_compaction_that_fails_before_its_journal_changes_nothing(nightly, monkeypatch):
    before = every_file(nightly)

    def refuse(*_):
        raise InvariantViolation("invented")

    monkeypatch.setattr(compact_module, "check_merges", refuse)
    assert compact_command(str(nightly)) == exits.FAILED
    assert every_file(nightly) == before  # no staging folder, no journal, no lock left


def test_the_lock_refuses_a_concurrent_compaction(nightly):
    before = every_file(nightly)
    with RunLock(str(nightly), new_run_id(dt.datetime.now(dt.timezone.utc))):
        with pytest.raises(OutputLocked):
            compact(str(nightly))
        assert compact_command(str(nightly)) == exits.LOCKED
    assert every_file(nightly) == before


def test_the_command_line_refuses_to_compact_while_another_command_holds_the_lock(nightly):
    before = every_file(nightly)
    with RunLock(str(nightly), new_run_id(dt.datetime.now(dt.timezone.utc))):
        refused = newsflow("compact", nightly)
    assert refused.returncode == exits.LOCKED and "another newsflow run" in refused.stderr
    assert every_file(nightly) == before


def test_exit_statuses_dry_run_missing_and_damaged_output(nightly, tmp_path, capsys):
    before = every_file(nightly)
    assert compact_command(str(nightly), dry_run=True) == exits.OK
    assert "would become" in capsys.readouterr().out and every_file(nightly) == before
    assert compact_command(str(tmp_path / "nowhere")) == exits.USAGE
    victim = min((nightly / ARTICLES).rglob("*.parquet"))
    victim.write_bytes(victim.read_bytes()[:20])
    assert compact_command(str(nightly)) == exits.DAMAGED_OUTPUT
    assert {k: v for k, v in every_file(nightly).items() if k != str(victim.relative_to(nightly))} == \
        {k: v for k, v in before.items() if k != str(victim.relative_to(nightly))}


# --- slow: real pipeline runs, the command line --------------------------------------------------------------

MONTHS = ["January", "February", "March"]
WORDS = ["harbour", "council", "ferry", "budget", "bridge", "river", "festival", "audit", "contract", "storm", "quay", "pier", "workers", "mayor", "residents", "engineers", "fishermen", "cooperative", "company", "nets", "winter", "vote", "market", "school", "hospital", "road"]
FAST_BEAM = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def invented_dump(folder: pathlib.Path, night: int, stories: int = 4) -> pathlib.Path:
    """A night's delivery: stories dated in three months, an exact copy of one, an empty file."""
    rng = random.Random(night)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(stories):
        body = "\n\n".join(" ".join(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "."
                                    for _ in range(4)) for _ in range(4))
        dateline = f"LONDON, {MONTHS[(night + number) % 3]} {number + 3}, 2024 - "
        (folder / f"n{night}-s{number}.txt").write_text(f"Night {night} story {number}\n\n{dateline}{body}\n")
    (folder / f"n{night}-copy.txt").write_bytes((folder / f"n{night}-s0.txt").read_bytes())
    (folder / f"n{night}-empty.txt").write_text("")
    return folder


def ingest(dump: pathlib.Path, out: pathlib.Path, *args: object) -> None:
    from pipelines.ingest import run_ingest
    from pipelines.options import IngestConfig
    from pipelines.plan import parse_reprocess

    reprocess = parse_reprocess(str(args[1])) if args[:1] == ("--reprocess",) else None
    run_ingest(IngestConfig(inputs=(str(dump),), output=str(out), reprocess=reprocess), FAST_BEAM)


def newsflow(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=600, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def real_nightly(tmp_path_factory) -> tuple[pathlib.Path, pathlib.Path]:
    """(four nights of real runs into one output, the folder of the nights' dumps)."""
    root = tmp_path_factory.mktemp("nightly")
    out, dumps = root / "out", root / "dumps"
    for night in range(4):
        ingest(invented_dump(dumps / f"night-{night}", night), out)
    return out, dumps


@pytest.fixture
def real_out(real_nightly, tmp_path) -> pathlib.Path:
    return pathlib.Path(shutil.copytree(real_nightly[0], tmp_path / "out"))


@pytest.mark.slow  # four real runs (in the module's fixture)
def test_compact_after_nightly_runs_keeps_every_row_and_the_dataset_checks(real_out):
    from pipelines.inspect import open_dataset

    before = visible_rows(real_out)
    assert max(files_per_folder(real_out).values()) >= 4
    result = newsflow("compact", real_out)
    assert result.returncode == exits.OK, result.stderr[-2000:]
    assert visible_rows(real_out) == before
    assert max(files_per_folder(real_out).values()) == 1
    assert newsflow("check", real_out).returncode == exits.OK
    con = open_dataset(str(real_out))
    runs = con.sql("SELECT count(*), sum(articles_new) FROM runs").fetchall()[0]
    assert runs == (5, sum(before[ARTICLES].values()))  # four runs and the compaction, which added nothing
    files = every_file(real_out)
    again = newsflow("compact", real_out)
    assert again.returncode == exits.OK and "nothing to compact" in again.stderr and every_file(real_out) == files


@pytest.mark.slow
def test_runs_and_reprocess_on_a_compacted_dataset_give_the_same_tables(real_nightly, tmp_path):
    """--reprocess rewrites the published files holding rows of the files read again, whatever run wrote
    them: it works on merged files as on a run's, and a later run deduplicates against the merged index."""
    plain = pathlib.Path(shutil.copytree(real_nightly[0], tmp_path / "plain"))
    merged = pathlib.Path(shutil.copytree(real_nightly[0], tmp_path / "merged"))
    assert compact(str(merged))
    later = invented_dump(tmp_path / "later", 9)
    shutil.copy(real_nightly[1] / "night-1" / "n1-s2.txt", later / "repeat-of-night-1.txt")  # an exact copy
    for out in (plain, merged):
        ingest(later, out)
        ingest(real_nightly[1], out, "--reprocess", "all")
    assert dataset_content(merged) == dataset_content(plain)
    assert newsflow("check", merged).returncode == exits.OK


@pytest.mark.slow
@pytest.mark.parametrize("crash_at", ["journal", "move:2", "record"])
def test_a_compaction_killed_while_publishing_is_completed_by_the_next_command(real_out, crash_at):
    before = visible_rows(real_out)
    killed = newsflow("compact", real_out, env={CRASH_POINT_VARIABLE: crash_at})
    assert killed.returncode == 137 and pending(real_out)
    assert visible_rows(real_out) == before  # readers: before, or after (record), never half
    assert newsflow("check", real_out).returncode == exits.OK  # a pending journal is not damage
    result = newsflow("compact", real_out)
    assert result.returncode == exits.OK, result.stderr[-2000:]
    assert not pending(real_out) and not (real_out / "_staging").exists()
    assert visible_rows(real_out) == before and max(files_per_folder(real_out).values()) == 1
    assert newsflow("check", real_out).returncode == exits.OK


@pytest.mark.slow
@pytest.mark.parametrize("share", [0.3, 0.6, 0.9])
def test_a_compaction_killed_at_any_moment_is_completed_or_undone_by_the_next(real_nightly, real_out, tmp_path, share):
    """kill -9 at `share` of an uninterrupted compaction's wall time (start-up included), then compact again:
    the dataset is the one an uninterrupted compaction leaves."""
    reference = pathlib.Path(shutil.copytree(real_nightly[0], tmp_path / "reference"))
    started = time.monotonic()
    assert newsflow("compact", reference).returncode == exits.OK
    wall = time.monotonic() - started
    before = visible_rows(real_out)
    process = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "compact", str(real_out)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(wall * share)
    process.kill()
    process.wait()
    assert visible_rows(real_out) == before  # whatever the moment
    assert newsflow("compact", real_out).returncode == exits.OK
    assert visible_rows(real_out) == visible_rows(reference) and files_per_folder(real_out) == files_per_folder(reference)
    assert not pending(real_out) and not (real_out / "_staging").exists()
    assert newsflow("check", real_out).returncode == exits.OK
