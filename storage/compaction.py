"""Compaction: the small files of a dataset merged into files of a sensible size, never changing a row
(the Beam-free core of `newsflow compact`, pipelines/compact.py).

Each run adds about one file per partition, table and bundle (transforms/write.py), so a year of nightly
runs leaves hundreds of files in a month's partition and thousands in an index shard, and every reader
pays an open and a footer read per file. Compaction works one folder of Parquet files at a time: a Hive
partition of a table (`articles/year=2024/month=3/`), an index shard (`_index/keys/shard=7/`), the
manifest (`_state/manifest/`). It merges the small files readers see there (storage/visible.py: files of
committed runs, less those a committed run replaced) into as few files as the targets below allow. The
template statistics (`_state/templates/`) are left alone: every run replaces them whole.

A merged file holds exactly the rows of the files it replaces (same columns, same values: the `run_id`
column still says which run wrote each row), sorted (`SORT_KEYS`), and is named after the compaction's own
id and its content, `part-<compaction id>-c<hash>.parquet`: it is published like a run's file, under the
compaction's journal and commit record (storage/publication.py), and the files it replaces are the
journal's deletes. So readers see the files before or after, never both nor neither.
"""
from __future__ import annotations

import dataclasses
import hashlib
import posixpath
from collections import defaultdict

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.tables import (
    ARTICLES,
    DUPLICATES,
    ENTITIES,
    INDEX_LOOKUP_COLUMN,
    INDEX_TABLES,
    MANIFEST,
    REJECTS,
    TABLES,
)
from storage.files import arrow_parquet_bytes, read_parquet, write_atomically
from storage.layout import Layout, part_file_name
from storage.visible import commit_state, visible_files

# What is compacted: the tables, the index and the manifest (each grows by files every run).
COMPACTED = (*TABLES, ENTITIES, *INDEX_TABLES, MANIFEST)

# The size a merged file grows to. 128 MiB is what Spark reads as one split and about what DuckDB's and
# Iceberg's guides recommend as a minimum: opening a file and reading its footer is then negligible next
# to reading its data, and compaction holds no more than one such file's rows in memory (a few hundred MB
# decompressed for articles). The row limit bounds that memory for rows that compress well, and keeps an
# index shard (tiny rows: a key and a doc_id) in files of at most a million rows.
TARGET_FILE_BYTES = 128 * 1024 * 1024
TARGET_FILE_ROWS = 1_000_000
# A file of a quarter of either target is big enough and never merged again. A merge stops filling a file
# only when the next small file would overflow a target, so every merged file but a partition's last is
# past three quarters of one (rows do not change when merged, and bytes do not shrink by 3x): the files a
# compaction leaves are big, but for at most one per folder, and the next compaction changes nothing.
BIG_FILE_SHARE = 4

# A merged file's rows are sorted: tables by document, as runs write them (transforms/write.py), so the
# row-group statistics of `doc_id` let a join or lookup by document skip row groups; the index by its
# lookup column (`IndexReader.lookup` filters on it), so that each row group covers a narrow range of keys
# and a lookup of a few keys reads only the row groups whose min/max can hold them; the manifest by file.
SORT_KEYS = {
    ARTICLES: ["doc_id", "source_uri"],
    DUPLICATES: ["doc_id", "source_uri"],
    REJECTS: ["doc_id", "source_uri"],
    ENTITIES: ["doc_id", "source_uri", "canonical"],
    MANIFEST: ["uri", "ingested_at"],
    **{table: [column] for table, column in INDEX_LOOKUP_COLUMN.items()},
}
# Rows per row group of a merged file: small enough that the sorted index's row-group statistics narrow a
# lookup (64k keys of a shard), large enough for scans (pyarrow's default is a million rows).
ROW_GROUP_ROWS = 64 * 1024


@dataclasses.dataclass(frozen=True)
class DataFile:
    path: str  # relative to OUT
    size: int  # bytes
    rows: int

    def is_big(self) -> bool:
        return self.size * BIG_FILE_SHARE >= TARGET_FILE_BYTES or self.rows * BIG_FILE_SHARE >= TARGET_FILE_ROWS


@dataclasses.dataclass(frozen=True)
class Merge:
    """Small files of one folder that become one file."""

    table: str  # a name of COMPACTED
    folder: str  # relative to OUT: the table's folder, or one of its partitions
    files: tuple[DataFile, ...]

    @property
    def rows(self) -> int:
        return sum(file.rows for file in self.files)

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)


def folders_of(layout: Layout, table: str, state=None) -> dict[str, list[str]]:
    """{folder relative to OUT: the visible files in it (paths in `layout.fs`)} of one table."""
    folders: dict[str, list[str]] = defaultdict(list)
    for path in visible_files(layout, table, state):
        folders[layout.relative(posixpath.dirname(path))].append(path)
    return dict(sorted(folders.items()))


def describe(layout: Layout, path: str) -> DataFile:
    fs = layout.fs
    with fs.open(path, "rb") as stream:
        rows = pq.read_metadata(stream).num_rows
    return DataFile(layout.relative(path), fs.size(path), rows)


def pack(files: list[DataFile]) -> list[list[DataFile]]:
    """Consecutive files in groups that stay within both targets (a file alone may exceed them)."""
    groups: list[list[DataFile]] = []
    for file in files:
        group = groups[-1] if groups else None
        if group and sum(f.size for f in group) + file.size <= TARGET_FILE_BYTES \
                and sum(f.rows for f in group) + file.rows <= TARGET_FILE_ROWS:
            group.append(file)
        else:
            groups.append([file])
    return groups


def plan_compaction(layout: Layout) -> list[Merge]:
    """The merges that compacting OUT takes: in each folder, its small files (in name order, which is run
    order) packed into groups; a folder with at most one small file is left alone."""
    state = commit_state(layout)
    merges = []
    for table in COMPACTED:
        for folder, paths in folders_of(layout, table, state).items():
            small = [file for file in (describe(layout, path) for path in paths) if not file.is_big()]
            merges += [Merge(table, folder, tuple(group)) for group in pack(small) if len(group) > 1]
    return merges


def merged_rows(layout: Layout, merge: Merge) -> pa.Table:
    """The rows of a merge's files, sorted (`SORT_KEYS`; a stable sort, over the files in name order, so
    the same files always give the same bytes)."""
    parts = [read_parquet(layout.fs, layout.path(file.path)) for file in merge.files]
    rows = pa.concat_tables(parts, promote_options="default")  # a file of an older version may lack a column
    return rows.sort_by([(name, "ascending") for name in SORT_KEYS[merge.table] if name in rows.column_names])


def write_merge(run: Layout, merge: Merge) -> str:
    """Write a merge's file into the compaction's staging folder (`run` names the compaction); its path
    relative to the staging folder, which is where it is published relative to OUT."""
    data = arrow_parquet_bytes(merged_rows(run, merge), ROW_GROUP_ROWS)
    name = part_file_name(run.run_id, "c" + hashlib.blake2b(data, digest_size=8).hexdigest())
    relative = posixpath.join(merge.folder, name)
    write_atomically(run.fs, run.staged(relative), data)
    return relative


def staged_rows(run: Layout, relative: str) -> int:
    with run.fs.open(run.staged(relative), "rb") as stream:
        return pq.read_metadata(stream).num_rows
