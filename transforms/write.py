"""Write the output tables as Hive-partitioned Parquet into a run's staging folder, without a shuffle.

Rows are written where they are made: a DoFn fused into the stage that produces a table's rows buffers
them per partition and, at the end of each bundle (and, whenever it holds `max_file_rows` rows of all
partitions together, for its largest partitions), writes each partition's rows, sorted, as one Parquet
file named after its content. So a run writes about one file per partition, table (and source of its
rows) and bundle; the local runner's bundles are large (one per worker and stage): 186 files for the
10,052 Reuters documents on 2 cores (120 before).

A bundle that fails leaves its files behind, and a retried bundle may be split differently; so a file's
presence proves nothing. Each write step outputs the paths it wrote, and Beam keeps only the outputs of
bundles that succeeded: the last step gathers those paths into the staging folder's file list
(`FILE_LIST`). The driver checks and publishes exactly the listed files (pipelines/commit.py) and then
removes the staging folder with whatever else is in it.

(Beam's fileio.WriteToFiles is not used: it loses data with Hive-style destination folders.)
"""
from __future__ import annotations

import collections
import hashlib
import json
import posixpath
import uuid

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.transforms.window import GlobalWindows
from fsspec.core import url_to_fs

from schemas.tables import SCHEMAS, partition_path, step_name
from transforms import metrics
from transforms.metrics import counter

# A partition's buffer is written out as a file once it holds this many rows (20,000 news articles are
# some 100 MB of text): it bounds what a worker holds of one partition without making small files. A
# bundle spread over many partitions still holds all its rows until it ends, as a group did before.
DEFAULT_MAX_FILE_ROWS = 20_000
PARQUET_COMPRESSION = "zstd"

STAGING_FOLDER = "_staging"
FILE_LIST = "_files.json"  # in the staging folder: the files the run's successful bundles wrote


def staging_uri(output_uri: str, run_id: str) -> str:
    """Where a run writes before it is published: invisible to readers of the tables."""
    return posixpath.join(output_uri.rstrip("/"), STAGING_FOLDER, run_id)


def part_file_name(run_id: str, tag: object) -> str:
    """A data file's name: the run, then what tells it apart (its content's hash)."""
    return f"part-{run_id}-{tag}.parquet"


def _row_order(row: dict) -> tuple:
    if "source_uri" in row:  # the tables: by document
        return row.get("doc_id") or "", row["source_uri"]
    return tuple(str(value) for value in row.values())  # state rows: by all their values


def _parquet_bytes(table: str, rows: list[dict]) -> bytes:
    # Sorted rows make the file's content independent of the order in which the runner delivered them.
    return _arrow_parquet_bytes(pa.Table.from_pylist(sorted(rows, key=_row_order), schema=SCHEMAS[table]))


def _arrow_parquet_bytes(arrow: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink, compression=PARQUET_COMPRESSION)
    return sink.getvalue().to_pybytes()


def _write_atomically(fs, path: str, data: bytes) -> None:
    """Write a file under a temporary name, then rename it: readers never see half a file."""
    folder = posixpath.dirname(path)
    fs.makedirs(folder, exist_ok=True)
    temporary = posixpath.join(folder, f".tmp-{uuid.uuid4().hex}{posixpath.splitext(path)[1]}")
    with fs.open(temporary, "wb") as stream:
        stream.write(data)
    fs.mv(temporary, path)


def write_table_file(fs, path: str, table: str, rows: list[dict]) -> None:
    """Write rows as one Parquet file at `path`, sorted, atomically."""
    _write_atomically(fs, path, _parquet_bytes(table, rows))


def write_arrow_file(fs, path: str, arrow: pa.Table) -> None:
    """Write an Arrow table as one Parquet file at `path`, atomically."""
    _write_atomically(fs, path, _arrow_parquet_bytes(arrow))


def write_part_file(fs, root: str, run_id: str, table: str, partition: str, rows: list[dict]) -> str:
    """Write rows as a Parquet file in `root`/table/partition, named after its content; returns its path
    relative to `root`. A retried bundle with the same rows rewrites the same file."""
    data = _parquet_bytes(table, rows)
    name = part_file_name(run_id, hashlib.blake2b(data, digest_size=8).hexdigest())
    relative = posixpath.join(table, partition, name)
    _write_atomically(fs, posixpath.join(root, relative), data)
    return relative


def write_staged_json(staging: str, relative: str, content) -> None:
    """Write a small JSON file into a run's staging folder, atomically."""
    fs, root = url_to_fs(staging)
    _write_atomically(fs, posixpath.join(root, relative), json.dumps(content, indent=0).encode())


def read_staged_json(staging: str, relative: str, default):
    """A JSON file of a run's staging folder; `default` when it was not written."""
    fs, root = url_to_fs(staging)
    path = posixpath.join(root, relative)
    if not fs.exists(path):
        return default
    with fs.open(path, "r") as stream:
        return json.load(stream)


def write_file_list(staging: str, paths: list[str]) -> None:
    """Record the files a run wrote (paths relative to its staging folder): the ones to publish."""
    write_staged_json(staging, FILE_LIST, sorted(paths))


def read_file_list(staging: str) -> list[str]:
    """The files a run's successful bundles wrote; none when the list was not written."""
    return read_staged_json(staging, FILE_LIST, [])


class _WriteBundleFn(beam.DoFn):
    """Rows of one table -> one Parquet file per partition and bundle; outputs the paths it wrote."""

    def __init__(self, staging: str, run_id: str, table: str, max_file_rows: int):
        self._staging, self._run_id, self._table, self._max_rows = staging, run_id, table, max_file_rows

    def setup(self):
        self._fs, self._root = url_to_fs(self._staging)
        self._rows = counter(metrics.rows_written(self._table))
        self._files = counter(metrics.files_written(self._table))

    def start_bundle(self):
        self._buffers: dict[str, list[dict]] = collections.defaultdict(list)
        self._buffered = 0

    def process(self, row):
        self._buffers[partition_path(self._table, row)].append(row)
        self._buffered += 1
        # A local run's bundle is half a stage: counting the rows of all partitions together keeps a
        # worker's memory bounded however many months the articles span. The largest partitions are
        # written first, so that a month with few rows is not written as many small files.
        if self._buffered >= self._max_rows:
            while self._buffered > self._max_rows // 2:
                largest = max(self._buffers, key=lambda partition: len(self._buffers[partition]))
                rows = self._buffers.pop(largest)
                self._buffered -= len(rows)
                yield self._write(largest, rows)

    def finish_bundle(self):
        for partition, rows in sorted(self._buffers.items()):
            yield GlobalWindows.windowed_value(self._write(partition, rows))
        self._buffers.clear()
        self._buffered = 0

    def _write(self, partition: str, rows: list[dict]) -> str:
        path = write_part_file(self._fs, self._root, self._run_id, self._table, partition, rows)
        self._rows.inc(len(rows))
        self._files.inc()
        return path


class WriteRows(beam.PTransform):
    """Rows of one table -> Parquet files under `root`/table (per partition and bundle); their paths."""

    def __init__(self, root: str, run_id: str, table: str, max_file_rows: int = DEFAULT_MAX_FILE_ROWS):
        super().__init__()
        self._write = _WriteBundleFn(root, run_id, table, max_file_rows)

    def expand(self, rows):
        return rows | beam.ParDo(self._write)


class WriteTables(beam.PTransform):
    """{table name: PCollection of rows, or a tuple of them} -> Parquet files in the run's staging folder,
    and their list. Each PCollection is written by its own step, fused into the stage that makes it."""

    def __init__(self, staging: str, run_id: str, max_file_rows: int = DEFAULT_MAX_FILE_ROWS):
        super().__init__()
        self._staging = staging
        self._run_id = run_id
        self._max_file_rows = max_file_rows

    def expand(self, rows_by_table):
        staging = self._staging
        written = [
            rows | f"Write{step_name(table)}{number or ''}" >> WriteRows(staging, self._run_id, table, self._max_file_rows)
            for table, sources in rows_by_table.items()
            for number, rows in enumerate(sources if isinstance(sources, tuple) else (sources,))
        ]
        return (
            written
            | "AllFiles" >> beam.Flatten()
            | "FileList" >> beam.combiners.ToList()
            | "RecordFiles" >> beam.Map(lambda paths: write_file_list(staging, paths))
        )
