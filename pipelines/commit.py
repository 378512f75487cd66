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
"""
from __future__ import annotations

import json
import logging
import os
import posixpath
from collections import Counter

import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from pipelines.retract import REPLACED_FOLDER
from schemas.tables import (
    DATE_PARTITIONED,
    ENTITIES,
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


class InvariantViolation(RuntimeError):
    """The run's output does not account for every input document exactly once."""


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

    `replaced` published files have a staged copy under _replaced/ that takes their place; `deleted`
    ones are removed (--reprocess, pipelines/retract.py).

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
        + [[posixpath.join(REPLACED_FOLDER, relative), relative] for relative in replaced]
        + ([[report, report_path(run_id)]] if report else []),
        "deletes": list(deleted),
        "state": list(state),
        "summary": summary,
    }
    _write_json(fs, journal_path(output, run_id), journal)
    _crash_point("journal")
    replay(output, journal)


def out_root_of(output: str) -> str:
    return url_to_fs(output)[1]


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
    """Carry out a journal: move what is still staged, write the commit record, replace the state.
    Each step is skipped when an earlier, interrupted replay already did it."""
    run_id = journal["run_id"]
    fs, out_root = url_to_fs(output)
    _, root = url_to_fs(staging_uri(output, run_id))
    for number, (staged, relative) in enumerate(journal["moves"], 1):
        source, target = posixpath.join(root, staged), posixpath.join(out_root, relative)
        if fs.exists(source):
            fs.makedirs(posixpath.dirname(target), exist_ok=True)
            fs.mv(source, target)
        _crash_point(f"move:{number}")
    for relative in journal.get("deletes", ()):
        if fs.exists(posixpath.join(out_root, relative)):
            fs.rm(posixpath.join(out_root, relative))
    if not fs.exists(record_path(output, run_id)):
        _write_json(fs, record_path(output, run_id), journal["summary"])
    _crash_point("record")
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
    staging folders of runs that died before publishing. Returns what was done, for the log."""
    fs, out_root = url_to_fs(output)
    done = []
    runs = posixpath.join(out_root, RUNS_FOLDER)
    for path in sorted(fs.glob(posixpath.join(runs, "*" + JOURNAL_SUFFIX))) if fs.exists(runs) else []:
        with fs.open(path, "r") as stream:
            journal = json.load(stream)
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
