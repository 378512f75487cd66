"""The one way newsflow writes a file into an output: whole or not at all.

Every file is written under a temporary name in its own folder, then renamed: readers never see half a
file. Temporary names start with ".tmp-", which every reader of the tables skips (as pyarrow, Spark and
DuckDB skip names starting with "." or "_"), and which recovery removes.
"""
from __future__ import annotations

import json
import posixpath
import uuid

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.tables import SCHEMAS

TEMPORARY_PREFIX = ".tmp-"
PARQUET_COMPRESSION = "zstd"


def temporary_path(path: str) -> str:
    """A unique temporary name beside `path` (same folder, so the rename stays in one filesystem)."""
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}-{name}")


def is_temporary(path: str) -> bool:
    return posixpath.basename(path).startswith(TEMPORARY_PREFIX)


def is_hidden(relative: str) -> bool:
    """Whether a path relative to a table's folder is not part of the table: a part of it starts with
    "." or "_" (a temporary file, a staging folder), as pyarrow and Spark decide."""
    return any(part.startswith((".", "_")) for part in relative.split("/"))


def write_atomically(fs, path: str, data: bytes, make_folder: bool = True) -> None:
    """Write `data` to `path`: under a temporary name, then renamed. `make_folder`: create its folder
    first when it does not exist."""
    if make_folder:
        fs.makedirs(posixpath.dirname(path), exist_ok=True)
    temporary = temporary_path(path)
    with fs.open(temporary, "wb") as stream:
        stream.write(data)
    fs.mv(temporary, path)


def write_json(fs, path: str, content, indent: int | None = 2) -> None:
    write_atomically(fs, path, json.dumps(content, indent=indent, sort_keys=True, default=str).encode())


def read_json(fs, path: str, default=None):
    """A JSON file's content; `default` when there is no such file."""
    if not fs.exists(path):
        return default
    with fs.open(path, "r") as stream:
        return json.load(stream)


# --- Parquet -----------------------------------------------------------------------------------------------


def _row_order(row: dict) -> tuple:
    if "source_uri" in row:  # the tables: by document
        return row.get("doc_id") or "", row["source_uri"]
    return tuple(str(value) for value in row.values())  # state rows: by all their values


def parquet_bytes(table: str, rows: list[dict]) -> bytes:
    """Rows of a table (schemas/tables.py) as a Parquet file's bytes. Sorted rows make the file's content
    independent of the order in which the runner delivered them."""
    return arrow_parquet_bytes(pa.Table.from_pylist(sorted(rows, key=_row_order), schema=SCHEMAS[table]))


def arrow_parquet_bytes(arrow: pa.Table, row_group_size: int | None = None) -> bytes:
    """An Arrow table as a Parquet file's bytes (`row_group_size`: rows per row group; None: pyarrow's)."""
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink, compression=PARQUET_COMPRESSION, row_group_size=row_group_size)
    return sink.getvalue().to_pybytes()


def write_rows(fs, path: str, table: str, rows: list[dict]) -> None:
    """Write rows as one Parquet file at `path`, sorted, atomically."""
    write_atomically(fs, path, parquet_bytes(table, rows))


def write_arrow(fs, path: str, arrow: pa.Table) -> None:
    """Write an Arrow table as one Parquet file at `path`, atomically."""
    write_atomically(fs, path, arrow_parquet_bytes(arrow))


def read_parquet(fs, path: str, columns: list[str] | None = None, filters=None) -> pa.Table:
    with fs.open(path, "rb") as stream:
        return pq.read_table(stream, columns=columns, filters=filters)
