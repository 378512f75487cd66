"""Running the real command line from tests, as a user would, and reading its tables back by file name."""
from __future__ import annotations

import pathlib
import subprocess
import sys

from schemas.tables import ARTICLES, DUPLICATES, ENTITIES, REJECTS
from storage.visible import open_table

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run_cli(*args: object, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    """`newsflow ingest ARGS...` in a fresh process; fails the test on a non-zero exit unless `check=False`."""
    command = [sys.executable, "-m", "pipelines.cli", "ingest", *map(str, args)]
    result = subprocess.run(command, check=False, capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def rows_by_name(out: pathlib.Path, table: str) -> dict[str, dict]:
    """A table's rows keyed by the file name of their `source_uri`."""
    rows = open_table(str(out), table).to_table().to_pylist()
    return {pathlib.PurePosixPath(row["source_uri"]).name: row for row in rows}


def dataset_content(out: pathlib.Path, tables=(ARTICLES, DUPLICATES, REJECTS, ENTITIES)) -> dict:
    """The tables' rows, sorted, without the columns that differ between two runs of the same data."""
    volatile = {"run_id", "ingested_at"}
    content = {}
    for table in tables:
        rows = open_table(str(out), table).to_table().to_pylist() if (out / table).exists() else []
        content[table] = sorted(tuple((k, repr(v)) for k, v in sorted(row.items()) if k not in volatile) for row in rows)
    return content
