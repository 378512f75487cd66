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
(storage/publication.py `write_file_list`). The driver checks and publishes exactly the listed files and then
removes the staging folder with whatever else is in it.

(Beam's fileio.WriteToFiles is not used: it loses data with Hive-style destination folders.)
"""
from __future__ import annotations

import collections
import hashlib
import posixpath

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from schemas.tables import partition_path, step_name
from storage.files import parquet_bytes, write_atomically
from storage.layout import Layout, part_file_name
from storage.publication import write_file_list
from transforms import metrics
from transforms.metrics import counter

# A partition's buffer is written out as a file once it holds this many rows (20,000 news articles are
# some 100 MB of text): it bounds what a worker holds of one partition without making small files. A
# bundle spread over many partitions still holds all its rows until it ends, as a group did before.
DEFAULT_MAX_FILE_ROWS = 20_000


def write_part_file(fs, root: str, run_id: str, table: str, partition: str, rows: list[dict]) -> str:
    """Write rows as a Parquet file in `root`/table/partition, named after its content; returns its path
    relative to `root`. A retried bundle with the same rows rewrites the same file."""
    data = parquet_bytes(table, rows)
    name = part_file_name(run_id, hashlib.blake2b(data, digest_size=8).hexdigest())
    relative = posixpath.join(table, partition, name)
    write_atomically(fs, posixpath.join(root, relative), data)
    return relative


class _WriteBundleFn(beam.DoFn):
    """Rows of one table -> one Parquet file per partition and bundle; outputs the paths it wrote."""

    def __init__(self, run: Layout, table: str, max_file_rows: int):
        self._run, self._table, self._max_rows = run, table, max_file_rows

    def setup(self):
        self._fs, self._root = self._run.fs, self._run.staging_root
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
        path = write_part_file(self._fs, self._root, self._run.run_id, self._table, partition, rows)
        self._rows.inc(len(rows))
        self._files.inc()
        return path


class WriteRows(beam.PTransform):
    """Rows of one table -> Parquet files in the run's staging folder, under the table's (one per partition
    and bundle); their paths relative to the staging folder."""

    def __init__(self, run: Layout, table: str, max_file_rows: int = DEFAULT_MAX_FILE_ROWS):
        super().__init__()
        self._write = _WriteBundleFn(run, table, max_file_rows)

    def expand(self, rows):
        return rows | beam.ParDo(self._write)


class WriteTables(beam.PTransform):
    """{table name: PCollection of rows, or a tuple of them} -> Parquet files in the run's staging folder,
    and their list. Each PCollection is written by its own step, fused into the stage that makes it."""

    def __init__(self, run: Layout, max_file_rows: int = DEFAULT_MAX_FILE_ROWS):
        super().__init__()
        self._run = run
        self._max_file_rows = max_file_rows

    def expand(self, rows_by_table):
        run = self._run
        written = [
            rows | f"Write{step_name(table)}{number or ''}" >> WriteRows(run, table, self._max_file_rows)
            for table, sources in rows_by_table.items()
            for number, rows in enumerate(sources if isinstance(sources, tuple) else (sources,))
        ]
        return (
            written
            | "AllFiles" >> beam.Flatten()
            | "FileList" >> beam.combiners.ToList()
            | "RecordFiles" >> beam.Map(lambda paths: write_file_list(run, paths))
        )
