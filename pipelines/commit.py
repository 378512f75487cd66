"""Check a finished run's staged output, then publish it into the dataset (driver side).

A run writes only into OUT/_staging/<run_id>/. Once the pipeline has finished, the driver checks the
invariant (every input document is in exactly one of articles, duplicates, rejects), moves the staged
files into the tables, and writes the run summary OUT/_runs/<run_id>.json last: it is the commit
record. A failed run publishes nothing.
"""
from __future__ import annotations

import json
import posixpath
from collections import Counter

import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from schemas.tables import (
    DATE_PARTITIONED,
    ENTITIES,
    INDEX_TABLES,
    NULL_PARTITION,
    REJECTS,
    STATE_FOLDER,
    TABLES,
)
from transforms.write import part_file_name, write_table_file

RUNS_FOLDER = "_runs"


class InvariantViolation(RuntimeError):
    """The run's output does not account for every input document exactly once."""


def staged_files(staging: str) -> dict[str, list[str]]:
    """Staged Parquet files by table, as paths relative to the staging folder."""
    fs, root = url_to_fs(staging)
    files: dict[str, list[str]] = {table: [] for table in (*TABLES, ENTITIES, *INDEX_TABLES)}
    if not fs.exists(root):
        return files
    for path in sorted(fs.find(root)):
        relative = posixpath.relpath(path, root)
        if not relative.endswith(".parquet") or "/.tmp-" in f"/{relative}":
            continue
        for table, paths in files.items():
            if relative.startswith(table + "/"):
                paths.append(relative)
    return files


def staged_state(staging: str) -> list[str]:
    """Staged state files (statistics for the next runs), as paths relative to the staging folder."""
    fs, root = url_to_fs(staging)
    folder = posixpath.join(root, STATE_FOLDER)
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


def publish(
    staging: str, output: str, run_id: str, files: dict[str, list[str]], summary: dict, state: list[str] = ()
) -> None:
    """Move staged files into the tables, give every new table a file, then write the commit record.

    State files (`state`) replace the files of the same state folder that earlier runs left: each run
    writes the whole merged state. They go after the commit record; a crash in between leaves old and
    new state side by side, which the readers of the state merge idempotently.
    """
    fs, root = url_to_fs(staging)
    _, out_root = url_to_fs(output)
    for table, paths in files.items():
        if not paths and table in (*TABLES, ENTITIES) and not fs.exists(posixpath.join(out_root, table)):
            # An empty file keeps every table readable (and its schema visible) after any run.
            partition = f"year={NULL_PARTITION}/month={NULL_PARTITION}" if table in DATE_PARTITIONED else ""
            relative = posixpath.join(table, partition, part_file_name(run_id, 0))
            write_table_file(fs, posixpath.join(root, relative), table, [])
            paths.append(relative)
        for relative in paths:
            target = posixpath.join(out_root, relative)
            fs.makedirs(posixpath.dirname(target), exist_ok=True)
            fs.mv(posixpath.join(root, relative), target)
    record = posixpath.join(out_root, RUNS_FOLDER, f"{run_id}.json")
    fs.makedirs(posixpath.dirname(record), exist_ok=True)
    with fs.open(record + ".tmp", "w") as stream:
        json.dump(summary, stream, indent=2, sort_keys=True, default=str)
    fs.mv(record + ".tmp", record)
    for relative in state:
        target = posixpath.join(out_root, relative)
        superseded = [path for path in fs.glob(posixpath.join(posixpath.dirname(target), "*")) if path != target]
        fs.makedirs(posixpath.dirname(target), exist_ok=True)
        fs.mv(posixpath.join(root, relative), target)
        for path in superseded:
            fs.rm(path)
    discard(staging)


def discard(staging: str) -> None:
    """Remove a run's staging folder, and the _staging folder itself once no run is using it."""
    fs, root = url_to_fs(staging)
    if fs.exists(root):
        fs.rm(root, recursive=True)
    parent = posixpath.dirname(root)
    if fs.exists(parent) and not fs.ls(parent):
        fs.rmdir(parent)
