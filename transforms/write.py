"""Write the output tables as Hive-partitioned Parquet into a run's staging folder.

Beam's fileio.WriteToFiles loses data with Hive-style destination folders, so rows are keyed by
(table, partition, shard), grouped, and each group is written with pyarrow to a temporary name and
renamed to a deterministic one: a retried bundle overwrites its own file instead of adding another.
The driver publishes the staging folder once the whole run has succeeded (pipelines/commit.py).
"""
from __future__ import annotations

import posixpath
import uuid

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from schemas.tables import SCHEMAS, partition_path, step_name
from transforms.document import stable_hash
from transforms.routing import counter

DEFAULT_SHARDS = 2  # files per partition and run: one per core of a small machine
PARQUET_COMPRESSION = "zstd"


STAGING_FOLDER = "_staging"


def staging_uri(output_uri: str, run_id: str) -> str:
    """Where a run writes before it is published: invisible to readers of the tables."""
    return posixpath.join(output_uri.rstrip("/"), STAGING_FOLDER, run_id)


def part_file_name(run_id: str, shard: int) -> str:
    return f"part-{run_id}-{shard:05d}.parquet"


def shard_of(row: dict, shards: int) -> int:
    """Which of a partition's files a row goes to: by document (index rows: by their first column)."""
    value = row["source_uri"] if "source_uri" in row else next(iter(row.values()))
    return stable_hash(value if isinstance(value, bytes) else str(value)) % shards


def _row_order(row: dict) -> tuple:
    if "source_uri" in row:  # the tables: by document
        return row.get("doc_id") or "", row["source_uri"]
    return tuple(str(value) for value in row.values())  # state rows: by all their values


def write_table_file(fs, path: str, table: str, rows: list[dict]) -> None:
    """Write rows as one Parquet file at `path`, atomically: a temporary name, then a rename."""
    # Sorted rows make the file's content independent of the order in which the runner delivered them.
    rows = sorted(rows, key=_row_order)
    write_arrow_file(fs, path, pa.Table.from_pylist(rows, schema=SCHEMAS[table]))


def write_arrow_file(fs, path: str, arrow: pa.Table) -> None:
    """Write an Arrow table as one Parquet file at `path`, atomically: a temporary name, then a rename."""
    folder = posixpath.dirname(path)
    fs.makedirs(folder, exist_ok=True)
    temporary = posixpath.join(folder, f".tmp-{uuid.uuid4().hex}.parquet")
    with fs.open(temporary, "wb") as stream:
        pq.write_table(arrow, stream, compression=PARQUET_COMPRESSION)
    fs.mv(temporary, path)


class _WriteGroupFn(beam.DoFn):
    def __init__(self, staging: str, run_id: str):
        self._staging = staging
        self._run_id = run_id

    def process(self, element):
        (table, partition, shard), rows = element
        rows = list(rows)
        fs, root = url_to_fs(self._staging)
        path = posixpath.join(root, table, partition, part_file_name(self._run_id, shard))
        write_table_file(fs, path, table, rows)
        counter(f"write.{table}.rows").inc(len(rows))
        counter(f"write.{table}.files").inc()
        yield table, len(rows)


class WriteTables(beam.PTransform):
    """{table name: PCollection of rows} -> Parquet files in the run's staging folder."""

    def __init__(self, staging: str, run_id: str, shards: int = DEFAULT_SHARDS):
        super().__init__()
        self._staging = staging
        self._run_id = run_id
        self._shards = shards

    def expand(self, rows_by_table):
        shards = self._shards
        keyed = [
            rows | f"Key{step_name(table)}" >> beam.Map(
                lambda row, t=table: ((t, partition_path(t, row), shard_of(row, shards)), row)
            )
            for table, rows in rows_by_table.items()
        ]
        return (
            keyed
            | "AllRows" >> beam.Flatten()
            | "GroupFiles" >> beam.GroupByKey()
            | "WriteFiles" >> beam.ParDo(_WriteGroupFn(self._staging, self._run_id))
        )
