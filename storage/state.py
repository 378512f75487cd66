"""What earlier runs left for the next ones, behind small reader objects that the stages receive.

- `IndexReader`: the cross-run index (OUT/_index/, schemas in schemas/tables.py), sharded by its lookup
  column, so that a lookup opens one shard's files and reads, with a filter, only matching rows;
- `TemplateStatistics`: per source, how many different stories print a line (OUT/_state/templates/);
- `read_manifest`: every input file a committed run read (OUT/_state/manifest/).

Each holds only the output's URI: it pickles to the workers and opens the filesystem there. What a run
adds is written as tables into its staging folder (transforms/write.py) and published with the run.
"""
from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from schemas.tables import INDEX_DOCUMENTS, INDEX_LOOKUP_COLUMN, MANIFEST, TEMPLATES
from storage.files import read_parquet
from storage.layout import Layout


class IndexReader:
    """Lookups in the cross-run index of one output."""

    def __init__(self, output: str):
        self._layout = Layout(output)

    def exists(self) -> bool:
        """Whether an earlier run wrote the index: without it, no document can be a repeat or a copy of
        an earlier one."""
        return self._layout.fs.exists(self._layout.path(INDEX_DOCUMENTS))

    def lookup(self, table: str, shard: int, values: Iterable, columns: list[str] | None = None) -> pa.Table:
        """Rows of one index shard whose lookup column is in `values` (an empty table when there is none)."""
        fs, folder = self._layout.fs, self._layout.path(table, f"shard={shard}")
        wanted = pa.array(sorted(set(values)))
        tables = []
        if len(wanted) and fs.exists(folder):
            condition = pc.field(INDEX_LOOKUP_COLUMN[table]).isin(wanted)
            tables = [read_parquet(fs, path, columns, condition) for path in sorted(fs.glob(f"{folder}/*.parquet"))]
        return pa.concat_tables(tables) if tables else pa.table({})


class TemplateStatistics:
    """The template statistics earlier runs into one output left."""

    def __init__(self, output: str):
        self._layout = Layout(output)

    def read(self) -> Iterable[tuple[str, tuple[int, tuple[int, ...]]]]:
        """(source, (line key, story sketch)) of every persisted row."""
        fs, folder = self._layout.fs, self._layout.path(TEMPLATES)
        if not fs.exists(folder):
            return
        for path in sorted(fs.glob(f"{folder}/*.parquet")):
            for row in read_parquet(fs, path).to_pylist():
                yield row["source"], (row["line_key"], tuple(row["stories"]))


def read_manifest(layout: Layout) -> pa.Table:
    """The manifest: one row per file read by any committed run (the latest run's row last)."""
    fs, folder = layout.fs, layout.path(MANIFEST)
    if not fs.exists(folder):
        return pa.table({"uri": pa.array([], pa.string())})
    table = ds.dataset(folder, format="parquet", filesystem=fs).to_table()
    return table.sort_by([("ingested_at", "ascending")])
