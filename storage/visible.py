"""What readers of the tables see: the files of committed runs only.

A file carries its run id in its name, and a run is committed once its record (_runs/<run_id>.json)
exists. The files a committed run replaces are removed after its record; until a replay has removed
them, readers skip them. So a run killed while publishing is invisible until its replay has finished,
and a file no run wrote (dropped in by hand) is never seen.
"""
from __future__ import annotations

import logging
import posixpath

import pyarrow as pa
import pyarrow.dataset as ds
from fsspec.implementations.local import LocalFileSystem

from schemas.tables import ARTICLES_PARTITION_SCHEMA, DATE_PARTITIONED, SCHEMAS
from storage.files import is_hidden
from storage.layout import JOURNAL_SUFFIX, RECORD_SUFFIX, Layout, run_of_file
from storage.publication import DamagedOutput, pending_journals, read_journal

log = logging.getLogger(__name__)


def commit_state(layout: Layout) -> tuple[set[str], set[str]]:
    """(ids of the committed runs, files a committed run replaced that a replay has still to remove)."""
    fs, runs = layout.fs, layout.runs_folder
    records = fs.glob(posixpath.join(runs, "*" + RECORD_SUFFIX)) if fs.exists(runs) else []
    committed = {posixpath.basename(path)[: -len(RECORD_SUFFIX)] for path in records
                 if not path.endswith(JOURNAL_SUFFIX)}
    replaced = set()
    for path in pending_journals(layout):
        if posixpath.basename(path)[: -len(JOURNAL_SUFFIX)] not in committed:
            continue  # a run not committed yet replaces nothing yet
        try:
            replaced.update(read_journal(fs, path)["deletes"])
        except DamagedOutput as damage:  # readers read on; runs refuse the output (pipelines/check.py)
            log.warning("%s: readers may see the rows it replaced as well", damage)
    return committed, replaced


def folder_files(layout: Layout, folder: str) -> list[str]:
    """Every file under a folder of OUT. Names starting with '.' or '_' are skipped, as pyarrow and Spark
    skip them: a temporary file being written is not part of a table."""
    fs, root = layout.fs, layout.path(folder)
    if not fs.isdir(root):
        return []
    return sorted(path for path in fs.find(root) if not is_hidden(posixpath.relpath(path, root)))


def table_files(layout: Layout, table: str) -> list[str]:
    """Every Parquet file of a table's folder, committed or not."""
    return [path for path in folder_files(layout, table) if path.endswith(".parquet")]


def visible_files(layout: Layout, table: str, state: tuple[set[str], set[str]] | None = None) -> list[str]:
    """A table's files that readers see: those of committed runs, less those a committed run replaced.
    `state`: `commit_state`, when known."""
    committed, replaced = state or commit_state(layout)
    return [path for path in table_files(layout, table)
            if run_of_file(path) in committed and layout.relative(path) not in replaced]


def open_table(output: str, table: str) -> ds.Dataset:
    """A pyarrow dataset over one output table (partition columns typed, undated rows as NULL): the files
    of committed runs only, not those of a run killed mid-publish."""
    layout = Layout(output)
    files = visible_files(layout, table)
    partitioning = ds.partitioning(ARTICLES_PARTITION_SCHEMA, flavor="hive") if table in DATE_PARTITIONED else None
    schema = None if files else pa.schema([*SCHEMAS[table], *(ARTICLES_PARTITION_SCHEMA if partitioning else ())])
    return ds.dataset(
        files,
        schema=schema,
        format="parquet",
        partitioning=partitioning,
        partition_base_dir=layout.path(table),
        filesystem=None if isinstance(layout.fs, LocalFileSystem) else layout.fs,  # pyarrow's own for local files
        exclude_invalid_files=False,
    )
