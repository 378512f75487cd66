"""`newsflow inspect OUT [SQL]`: DuckDB views over a dataset the real pipeline wrote from samples/dump,
checked against the same tables read with pyarrow."""
import datetime as dt
import json
import pathlib
import shutil
from collections import Counter

import fsspec
import pytest
from cli_runs import ROOT
from fsspec.implementations.local import LocalFileSystem

from pipelines.cli import main
from pipelines.inspect import MAX_CELL, MAX_ROWS, NotADataset, open_dataset, overview, run_query
from schemas.tables import (
    ARTICLES,
    ARTICLES_PARTITION_SCHEMA,
    DATE_PARTITIONED,
    DUPLICATES,
    ENTITIES,
    REJECTS,
    SCHEMAS,
)
from storage.files import write_rows
from storage.visible import open_table

EXPECTED = json.loads((ROOT / "samples" / "expected.json").read_text())["totals"]
VIEWS = (ARTICLES, DUPLICATES, REJECTS, ENTITIES)


@pytest.fixture(scope="module")
def sample(sample_dataset) -> pathlib.Path:
    return sample_dataset[0]


@pytest.fixture
def copy(sample, tmp_path) -> pathlib.Path:
    """A copy of the sample dataset that a test may alter."""
    return pathlib.Path(shutil.copytree(sample, tmp_path / "copy"))


def count(con, table: str) -> int:
    return con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def pyarrow_counts(out) -> dict[str, int]:
    return {table: open_table(str(out), table).count_rows() for table in VIEWS}


def test_each_view_has_the_rows_pyarrow_reads(sample):
    con = open_dataset(str(sample))
    expected = pyarrow_counts(sample)
    assert {table: count(con, table) for table in VIEWS} == expected
    assert (expected[ARTICLES], expected[DUPLICATES], expected[REJECTS]) == (
        EXPECTED["articles"], EXPECTED["duplicates"], EXPECTED["rejects"])
    assert expected[ENTITIES] > 0


def test_views_have_the_schema_columns_and_integer_partitions(sample):
    con = open_dataset(str(sample))
    for table in VIEWS:
        columns = dict(con.sql(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())
        partitions = ARTICLES_PARTITION_SCHEMA.names if table in DATE_PARTITIONED else []
        assert sorted(columns) == sorted([*SCHEMAS[table].names, *partitions]), table
        assert all(columns[name] == "INTEGER" for name in partitions)


def test_articles_per_year_and_month_as_pyarrow_counts_them(sample):
    con = open_dataset(str(sample))
    rows = con.sql("SELECT year, month, count(*) FROM articles GROUP BY ALL").fetchall()
    dates = open_table(str(sample), ARTICLES).to_table(columns=["published_date"]).column(0).to_pylist()
    expected = Counter((d.year, d.month) if d else (None, None) for d in dates)
    assert {(year, month): n for year, month, n in rows} == expected
    assert expected[(None, None)] >= 1  # the sample has an undated article: its null partition reads as NULL


def test_runs_lists_the_committed_runs(sample):
    con = open_dataset(str(sample))
    (record,) = (sample / "_runs").glob("*.json")
    summary = json.loads(record.read_text())
    rows = con.sql("SELECT run_id, documents, articles, duplicates, rejects, started_at FROM runs").fetchall()
    assert rows == [(summary["run_id"], summary["documents"], summary["articles"], summary["duplicates"],
                     summary["rejects"], dt.datetime.fromisoformat(summary["started_at"]))]


def test_uncommitted_files_are_not_read(copy):
    expected = pyarrow_counts(copy)
    some_file = next((copy / DUPLICATES).glob("*.parquet"))
    shutil.copy(some_file, copy / DUPLICATES / ".tmp-0123abcd.parquet")  # a file being written
    staged = copy / "_staging" / "20990101T000000Z-abcdef" / DUPLICATES
    staged.mkdir(parents=True)
    shutil.copy(some_file, staged / some_file.name)
    (copy / "_runs" / "20990101T000000Z-abcdef.pending.json").write_text('{"run_id": "20990101T000000Z-abcdef"}')
    con = open_dataset(str(copy))
    assert {table: count(con, table) for table in VIEWS} == expected
    assert count(con, "runs") == 1


def test_a_table_without_rows_or_files_is_an_empty_view(copy):
    shutil.rmtree(copy / REJECTS)  # no file at all
    for path in (copy / DUPLICATES).glob("*.parquet"):
        path.unlink()
    write_rows(LocalFileSystem(), str(copy / DUPLICATES / "part-empty-00000.parquet"), DUPLICATES, [])
    con = open_dataset(str(copy))
    assert count(con, REJECTS) == 0 and count(con, DUPLICATES) == 0
    assert con.sql("SELECT reason, count(*) FROM rejects GROUP BY reason").fetchall() == []
    assert con.sql("SELECT kind, similarity FROM duplicates").fetchall() == []
    assert run_query(con, "SELECT reason, detail FROM rejects").splitlines()[-1] == "(no rows)"
    text = overview(con, str(copy))
    assert "duplicates 0, rejects 0" in text


def test_a_dataset_in_any_fsspec_filesystem(sample):
    memory = fsspec.filesystem("memory")
    memory.put(str(sample), "/inspect-test/out", recursive=True)
    try:
        con = open_dataset("memory://inspect-test/out")
        assert {table: count(con, table) for table in VIEWS} == pyarrow_counts(sample)
        assert count(con, "runs") == 1
    finally:
        memory.rm("/inspect-test", recursive=True)


def test_overview_gives_the_numbers(sample):
    text = overview(open_dataset(str(sample)), str(sample))
    counts = pyarrow_counts(sample)
    assert f"articles {counts[ARTICLES]}, duplicates {counts[DUPLICATES]}, rejects {counts[REJECTS]}, " \
           f"entities {counts[ENTITIES]}" in text
    dates = [d for d in open_table(str(sample), ARTICLES).to_table().column("published_date").to_pylist()]
    known = [d for d in dates if d]
    assert f"published {min(known)} .. {max(known)}; {len(dates) - len(known)} undated" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "en 8" in lines and "de 1" in lines and "es 1" in lines  # samples/README.md: 8 en, 1 de, 1 es
    for reason, n in EXPECTED["by_reason"].items():
        assert f"{reason} {n}" in lines
    assert "exact 1" in lines and "near 1" in lines
    assert "pressdesk 2" in lines  # the two earnings notices, kept apart
    (record,) = (sample / "_runs").glob("*.json")
    assert f"Runs: 1 committed; the last, {record.stem}," in text


def test_query_results_are_capped_and_long_cells_cut(sample):
    con = open_dataset(str(sample))
    lines = run_query(con, "SELECT range AS n FROM range(120)").splitlines()
    assert lines[:3] == [" n", "--", " 0"]  # right-aligned to the widest shown value, 49
    assert len(lines) == 2 + MAX_ROWS + 1 and lines[-1] == f"… {120 - MAX_ROWS} more rows"
    texts = run_query(con, "SELECT text FROM articles").splitlines()[2:]
    assert len(texts) == EXPECTED["articles"]
    assert all(len(line) <= MAX_CELL for line in texts) and all(line.endswith("…") for line in texts)


def test_cli_prints_a_query_result(sample, capsys):
    assert main(["inspect", str(sample), "SELECT language, count(*) AS n FROM articles GROUP BY ALL ORDER BY n DESC"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["language", "n"] and lines[2].split() == ["en", "8"]
    assert main(["inspect", str(sample), "SELECT kind, count(*) AS n FROM duplicates GROUP BY ALL ORDER BY ALL",
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out == "kind,n\nexact,1\nnear,1\n"


def test_cli_prints_the_overview_without_sql(sample, capsys):
    assert main(["inspect", str(sample)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"newsflow dataset {sample}\n") and "Top entities" in out


def test_cli_bad_sql_is_one_line_and_exit_1(sample, capsys):
    assert main(["inspect", str(sample), "SELEC title FROM articles"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("newsflow: Parser Error: ")
    assert main(["inspect", str(sample), "SELECT nope FROM articles"]) == 1
    assert "Binder Error" in capsys.readouterr().err


def test_cli_not_a_dataset_is_exit_2(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "notes").mkdir()
    assert main(["inspect", str(tmp_path / "notes"), "SELECT 1"]) == 2
    assert "not a newsflow dataset" in capsys.readouterr().err
    with pytest.raises(NotADataset):
        open_dataset(str(tmp_path / "notes"))


@pytest.mark.slow  # moto and s3fs come with the slow extra
def test_a_dataset_in_s3(sample, monkeypatch, capsys):
    """`newsflow inspect s3://...`: DuckDB reads through s3fs (here against moto's local S3 server)."""
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    s3fs = pytest.importorskip("s3fs")
    s3fs.S3FileSystem.clear_instance_cache()  # an instance cached by another test points at another server
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for name, value in {"AWS_ACCESS_KEY_ID": "inspect", "AWS_SECRET_ACCESS_KEY": "inspect",
                            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://{host}:{port}"}.items():
            monkeypatch.setenv(name, value)
        client = boto3.client("s3")
        client.create_bucket(Bucket="news-data")
        for path in sample.rglob("*"):
            if path.is_file():
                client.put_object(Bucket="news-data", Key=f"out/{path.relative_to(sample)}", Body=path.read_bytes())
        assert main(["inspect", "s3://news-data/out", "SELECT count(*) AS n FROM articles", "--format", "csv"]) == 0
        assert capsys.readouterr().out == f"n\n{pyarrow_counts(sample)[ARTICLES]}\n"
        assert count(open_dataset("s3://news-data/out"), "runs") == 1
    finally:
        server.stop()
        s3fs.S3FileSystem.clear_instance_cache()
