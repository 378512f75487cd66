"""Check a finished run's staged output, then publish it into the dataset (driver side).

A run writes only into OUT/_staging/<run_id>/, which no reader of the tables looks at. Once the
pipeline has finished, the driver takes the files its write steps listed (transforms/write.py: not
every file in the folder, some may be a failed bundle's), checks the invariant (every input document is
in exactly one of articles, duplicates, rejects), then publishes in three steps:

1. the journal OUT/_runs/<run_id>.pending.json lists every file to move (written atomically);
2. the staged files are renamed into the tables (and superseded state files removed);
3. the run summary OUT/_runs/<run_id>.json is written last: it is the commit record.

A run killed before step 1 published nothing: the next run removes its staging folder. A run killed
after step 1 is completed by the next run (`recover`), which replays the journal: every step can be
replayed, so a crash during recovery is recovered the same way. A failed run publishes nothing.

A journal is read back from OUT, where anyone with write access could have changed it: before anything
is done with it, its run id must be a run id and every path in it must stay inside the dataset's own
folders (`check_journal`). A journal that fails (or cannot be parsed) is damage (`DamagedOutput`): runs
refuse the output and `newsflow check OUT --repair` moves it aside; it is never replayed.

Readers of the tables (`visible_files`) see only the files of committed runs: a file carries its run id
in its name, and a run is committed once its record exists. The files a committed run replaces are
removed after its record; until a replay has removed them, readers skip them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import posixpath
import re
import secrets
from collections import Counter

import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from pipelines.retract import REPLACED_FOLDER
from schemas.tables import (
    DATE_PARTITIONED,
    ENTITIES,
    INDEX_FOLDER,
    INDEX_TABLES,
    MANIFEST,
    NULL_PARTITION,
    REJECTS,
    STATE_FOLDER,
    TABLES,
    TEMPLATES,
)
from transforms.write import STAGING_FOLDER, part_file_name, read_file_list, staging_uri, write_table_file

log = logging.getLogger(__name__)

RUNS_FOLDER = "_runs"
JOURNAL_SUFFIX = ".pending.json"
# Tests stop a publication at a chosen step, as `kill -9` would: "journal", "move:N", "record".
CRASH_POINT_VARIABLE = "NEWSFLOW_TEST_CRASH_AT"


# A run id as pipelines/ingest.py `new_run` makes it ("20261207T142407Z-6a1eec"); data files are named
# part-<run_id>-<tag>.parquet (transforms/write.py `part_file_name`).
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
_PART_FILE = re.compile(rf"part-({RUN_ID.pattern})-[^/]*\.parquet")
# Where a journal may move files to (its run's report aside), remove files from (what --reprocess
# replaces), and replace every file of (the state a run rewrites whole). Nothing else in OUT (the lock,
# the run records), nothing outside it.
MOVE_FOLDERS = (*TABLES, ENTITIES, INDEX_FOLDER, STATE_FOLDER)
REPLACEABLE_FOLDERS = (*TABLES, ENTITIES, INDEX_FOLDER, MANIFEST)
WHOLE_STATE_FOLDERS = (f"{STATE_FOLDER}/{TEMPLATES}",)


def new_run_id(now: dt.datetime) -> str:
    """A run's id: its start time (so ids sort by time) and a random suffix."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


class InvariantViolation(RuntimeError):
    """The run's output does not account for every input document exactly once."""


class DamagedOutput(RuntimeError):
    """A file of the output that a run cannot use as it is (unreadable, or naming paths outside OUT):
    runs refuse the output until `newsflow check OUT --repair` has moved it aside."""

    def __init__(self, path: str, why: str):
        super().__init__(f"{path}: {why}")
        self.path, self.why = path, why


def run_of_file(path: str) -> str | None:
    """The run id in a data file's name (part-<run_id>-<tag>.parquet), or None."""
    match = _PART_FILE.fullmatch(posixpath.basename(path))
    return match.group(1) if match else None


def is_run_id(value) -> bool:
    return isinstance(value, str) and RUN_ID.fullmatch(value) is not None


def is_inside(relative, folders: tuple[str, ...] | None) -> bool:
    """Whether a path read from state is a plain relative path (into one of `folders`, unless None): no
    '..', no '.', no absolute path, no URL, nothing that normalises to anything else."""
    if not isinstance(relative, str) or not relative or "\\" in relative or "\0" in relative:
        return False
    if relative.startswith(("/", "../")) or relative == ".." or "://" in relative:
        return False
    if posixpath.normpath(relative) != relative:  # "a/../b", "./a", "a//b"
        return False
    return folders is None or any(relative == folder or relative.startswith(folder + "/") for folder in folders)


def staged_files(staging: str) -> dict[str, list[str]]:
    """The run's Parquet files by table, as paths relative to the staging folder: those in the list its
    successful write steps recorded (transforms/write.py). Other files there (of a failed bundle) are
    not the run's output."""
    files: dict[str, list[str]] = {table: [] for table in (*TABLES, ENTITIES, *INDEX_TABLES, MANIFEST)}
    for relative in sorted(read_file_list(staging)):
        for table, paths in files.items():
            if relative.startswith(table + "/"):
                paths.append(relative)
    return files


def staged_state(staging: str) -> list[str]:
    """Staged state files that replace their folder's files (statistics for the next runs), as paths
    relative to the staging folder."""
    fs, root = url_to_fs(staging)
    folder = posixpath.join(root, STATE_FOLDER, TEMPLATES)
    if not fs.exists(folder):
        return []
    return [posixpath.relpath(path, root) for path in sorted(fs.find(folder)) if "/.tmp-" not in path]


def check_invariant(
    staging: str, files: dict[str, list[str]], documents_in: int | None
) -> tuple[dict[str, int], dict[str, int]]:
    """(rows per table, rejects per reason); raises InvariantViolation unless each input document
    appears exactly once in the staged output."""
    fs, root = url_to_fs(staging)
    seen: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    rows = {}
    for table in TABLES:
        paths = files[table]
        rows[table] = 0
        columns = ["source_uri", "reason"] if table == REJECTS else ["source_uri"]
        for relative in paths:
            with fs.open(posixpath.join(root, relative), "rb") as stream:
                staged = pq.read_table(stream, columns=columns)
            rows[table] += staged.num_rows
            seen.update(staged.column("source_uri").to_pylist())
            if table == REJECTS:
                reasons.update(staged.column("reason").to_pylist())
    repeated = [uri for uri, n in seen.items() if n > 1]
    if repeated:
        raise InvariantViolation(
            f"{len(repeated)} input documents appear more than once in the output, e.g. {repeated[:3]}"
        )
    total = sum(rows.values())
    if documents_in is not None and total != documents_in:
        raise InvariantViolation(
            f"{documents_in} input documents were read but the output accounts for {total} "
            f"({', '.join(f'{t}: {n}' for t, n in rows.items())}): documents were lost or invented"
        )
    return rows, dict(reasons)


class TooManyRejects(RuntimeError):
    """A run's rejects exceed the share of its documents the user allows (--max-reject-share)."""


def check_reject_share(rows: dict[str, int], reasons: dict[str, int], limit: float | None) -> None:
    """Raise TooManyRejects when more than `limit` (0-1) of the run's new rows are rejects."""
    written = sum(rows.values())
    if limit is None or not written or rows[REJECTS] / written <= limit:
        return
    top = ", ".join(f"{count:,} {reason}" for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
    raise TooManyRejects(f"{rows[REJECTS]:,} of its {written:,} documents were rejected "
                         f"({rows[REJECTS] / written:.0%}, more than --max-reject-share {limit:g}): {top}")


def publish(
    staging: str, output: str, run_id: str, files: dict[str, list[str]], summary: dict, state: list[str] = (),
    replaced: tuple[str, ...] = (), deleted: tuple[str, ...] = (), report: str | None = None,
) -> None:
    """Publish a checked run: write its journal, then replay it (see the module docstring).

    `report`: the staged HTML report (a path relative to the staging folder), published as
    _runs/<run_id>.html with the tables.

    `replaced` published files have a staged copy under _replaced/ that takes their place, under a name
    of this run (so that readers see it only once the run is committed); they and the `deleted` ones are
    removed after the commit record (--reprocess, pipelines/retract.py).

    State files (`state`) replace the other files of their folder: each run writes the whole merged
    state. They move after the commit record; a crash in between leaves old and new state side by
    side until the replay, which the readers of the state merge idempotently anyway.
    """
    fs, root = url_to_fs(staging)
    for table, paths in files.items():
        if not paths and table in (*TABLES, ENTITIES) and not fs.exists(posixpath.join(out_root_of(output), table)):
            # An empty file keeps every table readable (and its schema visible) after any run.
            partition = f"year={NULL_PARTITION}/month={NULL_PARTITION}" if table in DATE_PARTITIONED else ""
            relative = posixpath.join(table, partition, part_file_name(run_id, "empty"))
            write_table_file(fs, posixpath.join(root, relative), table, [])
            paths.append(relative)
    journal = {
        "run_id": run_id,
        "moves": [[relative, relative] for paths in files.values() for relative in paths]
        + [[posixpath.join(REPLACED_FOLDER, relative), replacement_path(relative, run_id)] for relative in replaced]
        + ([[report, report_path(run_id)]] if report else []),
        "deletes": [*replaced, *deleted],
        "state": list(state),
        "summary": summary,
    }
    _write_json(fs, journal_path(output, run_id), journal)
    _crash_point("journal")
    replay(output, journal)


def replacement_path(relative: str, run_id: str) -> str:
    """Where the copy of a published file that a run rewrote goes: beside it, named after the run."""
    tag = "r" + hashlib.blake2b(relative.encode(), digest_size=8).hexdigest()
    return posixpath.join(posixpath.dirname(relative), part_file_name(run_id, tag))


def out_root_of(output: str) -> str:
    return url_to_fs(output)[1]


def check_journal(journal, path: str) -> dict:
    """The journal read from `path`, once it is known to be safe to replay; else DamagedOutput."""
    if not isinstance(journal, dict):
        raise DamagedOutput(path, "the journal is not a JSON object")
    run_id = journal.get("run_id")
    if not is_run_id(run_id) or posixpath.basename(path) != run_id + JOURNAL_SUFFIX:
        raise DamagedOutput(path, f"the journal's run id {run_id!r} is not the run id of its name")
    moves, deletes, state = journal.get("moves"), journal.setdefault("deletes", []), journal.get("state")
    if not isinstance(journal.get("summary"), dict):
        raise DamagedOutput(path, "the journal has no run summary")
    if not isinstance(moves, list) or not all(isinstance(move, list) and len(move) == 2 for move in moves):
        raise DamagedOutput(path, "the journal's moves are not pairs of paths")
    if not isinstance(deletes, list) or not isinstance(state, list):
        raise DamagedOutput(path, "the journal's deletes or state are not lists")
    allowed = [(target, MOVE_FOLDERS) for _, target in moves if target != report_path(run_id)]
    allowed += [(relative, REPLACEABLE_FOLDERS) for relative in deletes]
    allowed += [(relative, WHOLE_STATE_FOLDERS) for relative in state]
    for relative, folders in allowed:
        if not is_inside(relative, folders):
            raise DamagedOutput(path, f"the journal names {relative!r}, which is not inside the dataset's folders "
                                      f"it may change ({', '.join(folders)})")
    for staged, _ in moves:  # relative to the run's staging folder
        if not is_inside(staged, folders=None):
            raise DamagedOutput(path, f"the journal moves {staged!r}, which is not inside its staging folder")
    return journal


def read_journal(fs, path: str) -> dict:
    """A pending journal, checked (`check_journal`); DamagedOutput when it is empty, garbled or unsafe."""
    try:
        with fs.open(path, "r") as stream:
            journal = json.load(stream)
    except (ValueError, UnicodeDecodeError) as error:
        raise DamagedOutput(path, f"the journal cannot be read ({type(error).__name__}: {error})") from None
    return check_journal(journal, path)


def pending_journals(fs, out_root: str) -> list[str]:
    runs = posixpath.join(out_root, RUNS_FOLDER)
    return sorted(fs.glob(posixpath.join(runs, "*" + JOURNAL_SUFFIX))) if fs.exists(runs) else []


def journal_path(output: str, run_id: str) -> str:
    return posixpath.join(out_root_of(output), RUNS_FOLDER, run_id + JOURNAL_SUFFIX)


def record_path(output: str, run_id: str) -> str:
    return posixpath.join(out_root_of(output), RUNS_FOLDER, f"{run_id}.json")


def report_path(run_id: str) -> str:
    """Where a run's HTML report is published, relative to the output."""
    return posixpath.join(RUNS_FOLDER, f"{run_id}.html")


def report_uri(output: str, run_id: str) -> str:
    return posixpath.join(output.rstrip("/"), report_path(run_id))


def publishing_started(output: str, run_id: str) -> bool:
    """Whether a run's journal is written: from then on its publication must be completed, not undone."""
    fs, _ = url_to_fs(output)
    return fs.exists(journal_path(output, run_id))


def _write_json(fs, path: str, content: dict) -> None:
    """Write a JSON file atomically: a temporary name, then a rename."""
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    with fs.open(path + ".tmp", "w") as stream:
        json.dump(content, stream, indent=2, sort_keys=True, default=str)
    fs.mv(path + ".tmp", path)


def _crash_point(step: str) -> None:
    if os.environ.get(CRASH_POINT_VARIABLE) == step:
        os._exit(137)  # as if killed: no cleanup, no exception handler


def replay(output: str, journal: dict) -> None:
    """Carry out a journal (checked: `read_journal`): move what is still staged, write the commit record,
    remove what the run replaced, replace the state. Each step is skipped when an earlier, interrupted
    replay already did it."""
    run_id = journal["run_id"]
    fs, out_root = url_to_fs(output)
    _, root = url_to_fs(staging_uri(output, run_id))
    for number, (staged, relative) in enumerate(journal["moves"], 1):
        source, target = posixpath.join(root, staged), posixpath.join(out_root, relative)
        if fs.exists(source):
            fs.makedirs(posixpath.dirname(target), exist_ok=True)
            fs.mv(source, target)
        _crash_point(f"move:{number}")
    if not fs.exists(record_path(output, run_id)):
        _write_json(fs, record_path(output, run_id), journal["summary"])
    _crash_point("record")
    # After the record: until then, readers see the replaced files, not the run's copies of them.
    for relative in journal.get("deletes", ()):
        if fs.exists(posixpath.join(out_root, relative)):
            fs.rm(posixpath.join(out_root, relative))
    targets = {posixpath.join(out_root, relative) for relative in journal["state"]}
    for relative in journal["state"]:
        source, target = posixpath.join(root, relative), posixpath.join(out_root, relative)
        if fs.exists(source):
            fs.makedirs(posixpath.dirname(target), exist_ok=True)
            fs.mv(source, target)
    for folder in sorted({posixpath.dirname(target) for target in targets}):
        for path in fs.glob(posixpath.join(folder, "*")):
            if path not in targets:
                fs.rm(path)
    fs.rm(journal_path(output, run_id))
    discard(staging_uri(output, run_id))


def recover(output: str) -> list[str]:
    """Finish what killed runs left (call it holding the lock): replay every pending journal, remove the
    staging folders of runs that died before publishing. Returns what was done, for the log. A damaged
    journal raises DamagedOutput before anything is done."""
    fs, out_root = url_to_fs(output)
    done = []
    runs = posixpath.join(out_root, RUNS_FOLDER)
    journals = [read_journal(fs, path) for path in pending_journals(fs, out_root)]  # all checked first
    for journal in journals:
        replay(output, journal)
        done.append(f"completed the publication of run {journal['run_id']}, which was interrupted")
    for path in fs.glob(posixpath.join(runs, "*.tmp")) if fs.exists(runs) else []:
        fs.rm(path)  # a journal or record whose writing was interrupted: its run published nothing
    staging = posixpath.join(out_root, STAGING_FOLDER)
    for path in sorted(fs.ls(staging, detail=False)) if fs.exists(staging) else []:
        run_id = posixpath.basename(path.rstrip("/"))
        discard(staging_uri(output, run_id))
        done.append(f"removed the staged files of run {run_id}, which stopped before publishing")
    for line in done:
        log.warning("%s", line)
    return done


def discard(staging: str) -> None:
    """Remove a run's staging folder, and the _staging folder itself once no run is using it."""
    fs, root = url_to_fs(staging)
    if fs.exists(root):
        fs.rm(root, recursive=True)
    parent = posixpath.dirname(root)
    if fs.exists(parent) and not fs.ls(parent):
        fs.rmdir(parent)


# --- what readers see ---------------------------------------------------------------------------------


def commit_state(fs, out_root: str) -> tuple[set[str], set[str]]:
    """(ids of the committed runs, files a committed run replaced that a replay has still to remove)."""
    runs = posixpath.join(out_root, RUNS_FOLDER)
    records = fs.glob(posixpath.join(runs, "*.json")) if fs.exists(runs) else []
    committed = {posixpath.basename(path)[: -len(".json")] for path in records if not path.endswith(JOURNAL_SUFFIX)}
    replaced = set()
    for path in pending_journals(fs, out_root):
        if posixpath.basename(path)[: -len(JOURNAL_SUFFIX)] not in committed:
            continue  # a run not committed yet replaces nothing yet
        try:
            replaced.update(read_journal(fs, path)["deletes"])
        except DamagedOutput as damage:  # readers read on; runs refuse the output (pipelines/check.py)
            log.warning("%s: readers may see the rows it replaced as well", damage)
    return committed, replaced


def folder_files(fs, out_root: str, folder: str) -> list[str]:
    """Every file under a folder of OUT. Names starting with '.' or '_' are skipped, as pyarrow and Spark
    skip them: a `.tmp-*` file being written is not part of a table."""
    root = posixpath.join(out_root, folder)
    if not fs.isdir(root):
        return []
    return sorted(path for path in fs.find(root)
                  if not any(part.startswith((".", "_")) for part in posixpath.relpath(path, root).split("/")))


def table_files(fs, out_root: str, table: str) -> list[str]:
    """Every Parquet file of a table's folder, committed or not."""
    return [path for path in folder_files(fs, out_root, table) if path.endswith(".parquet")]


def visible_files(fs, out_root: str, table: str, state: tuple[set[str], set[str]] | None = None) -> list[str]:
    """A table's files that readers see: those of committed runs (a file names its run), less those a
    committed run replaced. A run killed while publishing is invisible until its replay has finished;
    a file no run wrote (dropped in by hand) is never seen. `state`: `commit_state`, when known."""
    committed, replaced = state or commit_state(fs, out_root)
    return [path for path in table_files(fs, out_root, table)
            if run_of_file(path) in committed and posixpath.relpath(path, out_root) not in replaced]
