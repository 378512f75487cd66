"""`newsflow inspect OUT [SQL]`: the dataset's tables as DuckDB views; a query's result or an overview, as text.

The views are built over the files the dataset has committed (storage/visible.py `visible_files`: not
those of a run killed mid-publish until its replay), listed with fsspec (so any fsspec URL works, and a
remote filesystem is handed to DuckDB), never over `_staging/` or a half-written `.tmp-*` file.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import numbers
import posixpath

import duckdb
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem

from schemas.tables import (
    ARTICLES,
    ARTICLES_PARTITION_SCHEMA,
    DATE_PARTITIONED,
    DUPLICATES,
    ENTITIES,
    REJECTS,
    SCHEMAS,
)
from storage.layout import JOURNAL_SUFFIX, RECORD_SUFFIX, RUNS_FOLDER, Layout
from storage.visible import commit_state, visible_files
from transforms.identity import source_of

log = logging.getLogger(__name__)

VIEWS = (ARTICLES, DUPLICATES, REJECTS, ENTITIES)
RUNS = "runs"  # the view over the committed runs' summaries, _runs/<run_id>.json
# Per table: the rows a run wrote, the earlier rows it replaced (--reprocess), and the rows it added
# (`_new`, written minus replaced): summed over runs, `_new` is the table's size; the rows written are not.
COUNTED = (ARTICLES, DUPLICATES, REJECTS)
RUNS_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string()),
        pa.field("started_at", pa.timestamp("us", tz="UTC")),
        pa.field("finished_at", pa.timestamp("us", tz="UTC")),
        pa.field("wall_seconds", pa.float64()),
        pa.field("documents", pa.int64()),
        *(pa.field(f"{table}{part}", pa.int64()) for table in COUNTED for part in ("", "_new", "_replaced")),
        pa.field("inputs", pa.list_(pa.string())),
        pa.field("output", pa.string()),
        pa.field("pipeline_version", pa.string()),
    ]
)
MAX_ROWS = 50  # rows a query prints as a table; --format csv prints them all
MAX_CELL = 80  # characters of a cell (an article's text) a table prints


class NotADataset(ValueError):
    """OUT is missing, or holds none of a dataset's tables."""


# --- opening ---------------------------------------------------------------------------------------------


def open_dataset(output: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per table (and `runs`), and `source_of(uri)`: the publisher of a
    page as the pipeline's template learning sees it (web host, else the outlet's folder)."""
    layout = Layout(output)
    fs, root = layout.fs, layout.root
    if not fs.isdir(root):
        raise NotADataset(f"{output}: no such folder")
    if not any(fs.isdir(posixpath.join(root, name)) for name in (*VIEWS, RUNS_FOLDER)):
        raise NotADataset(f"{output} is not a newsflow dataset (it has none of {', '.join(VIEWS)}, {RUNS_FOLDER})")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # timestamps print as the tables store them, not in local time
    remote = not isinstance(fs, LocalFileSystem)
    if remote:
        con.register_filesystem(fs)  # DuckDB reads `memory://`, `s3://`, ... through this very filesystem
    state = commit_state(layout)
    for table in VIEWS:
        files = [fs.unstrip_protocol(path) if remote else path for path in visible_files(layout, table, state)]
        create_view(con, table, files)
    con.register(RUNS, committed_runs(layout))
    con.create_function("source_of", source_of, [duckdb.sqltype("VARCHAR")], duckdb.sqltype("VARCHAR"))
    return con


def create_view(con: duckdb.DuckDBPyConnection, table: str, files: list[str]) -> None:
    """The view of one table. A table without files is an empty view with the schema's columns, so that
    a query naming its columns works on a dataset that has, say, never rejected anything."""
    partitioned = table in DATE_PARTITIONED
    if not files:
        schema = SCHEMAS[table]
        if partitioned:
            schema = pa.schema([*schema, *ARTICLES_PARTITION_SCHEMA])
        con.register(table, schema.empty_table())
        return
    listed = ", ".join("'" + path.replace("'", "''") + "'" for path in files)
    # Partition columns typed as pyarrow reads them (int32); the null partition folder reads as NULL.
    hive = "true, hive_types = {'year': INTEGER, 'month': INTEGER}" if partitioned else "false"
    con.execute(
        f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listed}], union_by_name = true, "
        f"hive_partitioning = {hive})"
    )


def committed_runs(layout: Layout) -> pa.Table:
    """One row per committed run: its summary `_runs/<run_id>.json` (a journal, `.pending.json`, is a run
    still publishing, or one that died doing so; it is not committed)."""
    fs, folder = layout.fs, layout.runs_folder
    paths = sorted(fs.glob(posixpath.join(folder, "*" + RECORD_SUFFIX))) if fs.isdir(folder) else []
    rows = []
    for path in paths:
        if path.endswith(JOURNAL_SUFFIX):
            continue
        try:
            with fs.open(path, "r") as stream:
                summary = json.load(stream)
        except ValueError:  # damaged: `newsflow check OUT --repair` replaces it; the other runs are listed
            log.warning("%s is not a run record (not JSON): `newsflow check --repair` replaces it", path)
            continue
        if not isinstance(summary, dict):
            continue
        row = {field.name: summary.get(field.name) for field in RUNS_SCHEMA}
        for name in ("started_at", "finished_at"):
            row[name] = row[name] and dt.datetime.fromisoformat(row[name])
        replaced = summary.get("rows_replaced_by_table") or {}
        for table in COUNTED:
            row[f"{table}_replaced"] = replaced.get(table, 0)
            row[f"{table}_new"] = (row[table] or 0) - row[f"{table}_replaced"]
        rows.append(row)
    rows.sort(key=lambda row: row["run_id"] or "")  # run ids start with their UTC start time
    return pa.Table.from_pylist(rows, schema=RUNS_SCHEMA)


# --- printing --------------------------------------------------------------------------------------------


def run_query(con: duckdb.DuckDBPyConnection, sql: str, fmt: str = "table") -> str:
    """A query's result as an aligned table (the first MAX_ROWS rows, long cells cut) or as CSV."""
    relation = con.sql(sql)
    if relation is None:  # a statement without a result (SET, CREATE VIEW ...)
        return ""
    if fmt == "csv":
        return to_csv(relation.columns, relation.fetchall())
    # Read as Arrow batches: the rows past the first MAX_ROWS are only counted, never turned into Python.
    shown, more = [], 0
    for batch in relation.to_arrow_reader(MAX_ROWS):
        room = max(0, MAX_ROWS - len(shown))
        shown += batch.slice(0, room).to_pylist()
        more += max(0, batch.num_rows - room)
    return format_table(relation.columns, [list(row.values()) for row in shown], more)


def to_csv(columns: list[str], rows: list[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().rstrip("\n")


def format_table(columns: list[str], rows: list[list], more: int = 0) -> str:
    """Plain aligned columns under a header; numbers right-aligned."""
    cells = [[cell_text(value) for value in row] for row in rows]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]
    numeric = [bool(rows) and all(isinstance(row[i], numbers.Number) or row[i] is None for row in rows)
               for i in range(len(columns))]

    def line(values: list[str]) -> str:
        padded = (v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric))
        return "  ".join(padded).rstrip()

    lines = [line(list(columns)), line(["-" * w for w in widths]), *(line(row) for row in cells)]
    if more:
        lines.append(f"… {more} more rows")
    elif not rows:
        lines.append("(no rows)")
    return "\n".join(lines)


def cell_text(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        text = f"{value:.6f}".rstrip("0").rstrip(".")  # float32 columns: 0.9, not 0.8999999761581421
        return text if text not in ("0", "-0") or value == 0 else f"{value:.3g}"
    text = " ".join(str(value).split())  # an article's paragraphs on one line
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


# --- the overview ----------------------------------------------------------------------------------------

OVERVIEW = (
    ("Languages", ("SELECT coalesce(language, '?') AS language, count(*) AS articles FROM articles "
                   "GROUP BY ALL ORDER BY articles DESC, language LIMIT 5")),
    ("Top sources", ("SELECT source_of(coalesce(url, source_uri)) AS source, count(*) AS articles FROM articles "
                     "GROUP BY ALL ORDER BY articles DESC, source LIMIT 5")),
    ("Duplicates by kind", "SELECT kind, count(*) AS duplicates FROM duplicates GROUP BY ALL ORDER BY ALL"),
    ("Rejects by reason", "SELECT reason, count(*) AS rejects FROM rejects GROUP BY ALL ORDER BY rejects DESC, reason"),
    ("Top entities", ("SELECT canonical, label, count(DISTINCT doc_id) AS articles, sum(mentions) AS mentions "
                      "FROM entities GROUP BY ALL ORDER BY articles DESC, mentions DESC, canonical LIMIT 10")),
)


def overview(con: duckdb.DuckDBPyConnection, output: str) -> str:
    """A page about the dataset: table sizes, dates, languages, sources, duplicates, rejects, entities, runs."""
    counts = {table: first_row(con, f"SELECT count(*) FROM {table}")[0] for table in VIEWS}
    first, last, undated = first_row(
        con, "SELECT min(published_date), max(published_date), count(*) FILTER (published_date IS NULL) FROM articles"
    )
    dates = f"published {first} .. {last}" if first else "no publication dates"
    parts = [
        f"newsflow dataset {output}",
        "  " + ", ".join(f"{table} {n}" for table, n in counts.items()),
        f"  articles {dates}; {undated} undated",
    ]
    for title, sql in OVERVIEW:
        parts += ["", title, indent(run_query(con, sql))]
    parts += ["", runs_line(con)]
    return "\n".join(parts)


def runs_line(con: duckdb.DuckDBPyConnection) -> str:
    runs = first_row(con, f"SELECT count(*) FROM {RUNS}")[0]
    last = first_row(con, "SELECT run_id, started_at, wall_seconds, documents, articles, duplicates, rejects "
                          f"FROM {RUNS} ORDER BY run_id DESC LIMIT 1")
    if last is None:
        return "Runs: none committed"
    run_id, started, seconds, documents, articles, duplicates, rejects = last
    started = started.strftime("%Y-%m-%d %H:%M UTC") if started else "?"
    return (f"Runs: {runs} committed; the last, {run_id}, started {started}, took {seconds} s: "
            f"{documents} documents -> {articles} articles, {duplicates} duplicates, {rejects} rejects")


def first_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    rows = con.sql(sql).fetchall()
    return rows[0] if rows else None


def indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def one_line(error: BaseException) -> str:
    """DuckDB's message without its multi-line pointer into the query ("LINE 1: ... ^^^")."""
    paragraph = str(error).split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines() if line.strip())
