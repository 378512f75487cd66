"""End to end: `newsflow ingest` on the bundled sample dump, Parquet read back with pyarrow.

samples/expected.json holds the hand-written expectations for every sample file.
"""
import datetime as dt
import html
import json
import os
import pathlib
import re
from collections import Counter

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from cli_runs import run_cli

from schemas.tables import ARTICLES, DUPLICATES, ENTITIES, REJECTS
from storage.visible import open_table

ROOT = pathlib.Path(__file__).resolve().parent.parent
DUMP = ROOT / "samples" / "dump"
EXPECTED = json.loads((ROOT / "samples" / "expected.json").read_text())


ingest = run_cli


def relative(uri: str) -> str:
    return uri.split(str(DUMP) + "/", 1)[1]


@pytest.fixture(scope="module")
def sample_run(sample_dataset):
    out, result = sample_dataset
    tables = {table: open_table(str(out), table).to_table().to_pylist() for table in (ARTICLES, DUPLICATES, REJECTS)}
    return out, result.stdout, tables


def test_every_input_document_is_in_exactly_one_table(sample_run):
    _, _, tables = sample_run
    files = sorted(
        str(pathlib.Path(folder, name).relative_to(DUMP)) for folder, _, names in os.walk(DUMP) for name in names
    )
    seen = [relative(row["source_uri"]) for rows in tables.values() for row in rows]
    assert sorted(seen) == files
    totals = EXPECTED["totals"]
    assert (len(tables[ARTICLES]), len(tables[DUPLICATES]), len(tables[REJECTS])) == (
        totals["articles"], totals["duplicates"], totals["rejects"])


def test_articles_have_expected_titles_dates_languages_and_bodies(sample_run):
    _, _, tables = sample_run
    articles = {relative(row["source_uri"]): row for row in tables[ARTICLES]}
    for path, expected in EXPECTED["documents"].items():
        if expected["outcome"] != "article":
            continue
        row = articles[path]
        assert row["title"] == expected["title"], path
        published = expected["published"] and dt.date.fromisoformat(expected["published"])
        assert row["published_date"] == (published or None), path
        assert row["language"] == expected["language"], path
        assert row["text"].startswith(expected["body_starts"]), path
        assert row["text"].endswith(expected["body_ends"]), path
        for phrase in expected.get("must_contain", []):
            assert phrase in row["text"], (path, phrase)
        for phrase in expected.get("must_not_contain", []):
            assert phrase not in row["text"], (path, phrase)
        assert row["duplicate_count"] == expected["duplicate_count"], path
        assert "\n\n\n" not in row["text"]
        assert row["run_id"] and row["pipeline_version"] and row["ingested_at"]


def test_undated_articles_land_in_the_null_partition(sample_run):
    _, _, tables = sample_run
    for row in tables[ARTICLES]:
        if row["published_date"] is None:
            assert row["year"] is None and row["month"] is None
        else:
            assert (row["year"], row["month"]) == (row["published_date"].year, row["published_date"].month)


def test_copies_point_at_the_kept_article(sample_run):
    _, _, tables = sample_run
    doc_ids = {relative(row["source_uri"]): row["doc_id"] for row in tables[ARTICLES]}
    duplicates = {relative(row["source_uri"]): row for row in tables[DUPLICATES]}
    for path, expected in EXPECTED["documents"].items():
        if expected["outcome"] in ("near_duplicate", "exact_duplicate"):
            row = duplicates[path]
            assert row["duplicate_of"] == doc_ids[expected["duplicate_of"]]
            assert row["kind"] == expected["outcome"].split("_")[0]
            assert 0.5 <= row["similarity"] <= 1.0
    for a, b in EXPECTED["must_not_merge"]:
        assert a in doc_ids and b in doc_ids


def test_rejects_say_why(sample_run):
    _, _, tables = sample_run
    rejects = {relative(row["source_uri"]): row for row in tables[REJECTS]}
    for path, expected in EXPECTED["documents"].items():
        if expected["outcome"] == "reject":
            assert rejects[path]["reason"].startswith(expected["reason"]), rejects[path]


def test_entities_offsets_point_into_the_text(sample_run):
    _, _, tables = sample_run
    mentions = 0
    for row in tables[ARTICLES]:
        for entity in row["entities"]:
            if entity["start"] >= 0:
                assert row["text"][entity["start"] : entity["end"]] == entity["text"]
                mentions += 1
    assert mentions > 20
    canonical = {e["canonical"] for row in tables[ARTICLES] for e in row["entities"]}
    assert "Port Alder" in canonical


def test_run_summary_is_published_and_matches_the_tables(sample_run):
    out, stdout, tables = sample_run
    (record,) = (out / "_runs").glob("*.json")
    summary = json.loads(record.read_text())
    assert summary["documents"] == EXPECTED["totals"]["input_documents"]
    assert (summary["articles"], summary["duplicates"], summary["rejects"]) == tuple(
        len(tables[t]) for t in (ARTICLES, DUPLICATES, REJECTS))
    assert summary["counters"]["read.documents"] == summary["documents"]
    assert f"newsflow run {summary['run_id']}" in stdout
    assert not (out / "_staging").exists()


def test_summary_table_shows_dates_by_source_top_entities_and_stage_times(sample_run):
    out, stdout, tables = sample_run
    summary = json.loads(next((out / "_runs").glob("*.json")).read_text())
    sources = Counter(row["date_source"] for row in tables[ARTICLES])
    assert {source: count for source, count in summary["date_sources"]} == dict(sources)
    for source, count in sources.items():
        assert f"{count:>8,}  {source or '(no date found)'}" in stdout
    entities = Counter(row["canonical"] for row in open_table(str(out), ENTITIES).to_table().to_pylist())
    # Top entities only when an entity is named by more than one article: ties of 1 say nothing.
    assert [name for name, _, _ in summary["top_entities"]] == [
        name for name, count in sorted(entities.items(), key=lambda item: (-item[1], item[0])) if count > 1][:10]
    assert ("top entities" in stdout) == bool(summary["top_entities"])
    stages = dict(summary["stage_seconds"])
    # Every stage's time, as the local runner measured each step: read, dedupe and write included.
    assert {"read", "clean", "templates", "dates", "dedupe", "mentions", "entities", "write"} <= set(stages)
    assert stages["clean"] > 0 and stages["entities"] > 0 and stages["read"] > 0 and stages["write"] > 0
    assert "time per stage" in stdout and "wall time: plan" in stdout
    assert all(f"  {stage} (" in stdout for stage in stages)


def test_articles_record_the_share_of_page_chrome_removed(sample_run):
    _, _, tables = sample_run
    shares = {relative(row["source_uri"]): row["boilerplate_share"] for row in tables[ARTICLES]}
    assert all(0 <= share < 1 for share in shares.values())
    # A page in its site's menus, share buttons and footer vs a bare wire story (samples/README.md).
    assert shares["2024-03/fenwick-post/c2e9a4b7f013.txt.gz"] > 0.1
    assert shares["2024-03/wirepress/wp-20240311-0417.txt"] < 0.02


def test_run_report_is_published_beside_the_commit_record(sample_run):
    out, stdout, tables = sample_run
    (record,) = (out / "_runs").glob("*.json")
    report = record.with_suffix(".html")
    assert report.is_file()
    assert f"report: {report}" in stdout
    page = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # self-contained: nothing fetched
    titles = {row["title"] for row in tables[ARTICLES]}
    assert any(html.escape(title) in page for title in titles)  # the sample articles are shown


def test_pandas_reads_every_table_folder_as_written_with_integer_partitions(sample_run):
    """`pd.read_parquet(folder)`, undated articles included (the NULL partition), year and month as
    nullable integers, not categories or floats."""
    out, _, tables = sample_run
    for table in (ARTICLES, ENTITIES, DUPLICATES, REJECTS):
        assert len(pd.read_parquet(out / table)) == open_table(str(out), table).count_rows(), table
    for frame in (pd.read_parquet(out / ARTICLES), open_table(str(out), ARTICLES).to_table().to_pandas()):
        assert {str(frame[name].dtype) for name in ("year", "month")} == {"int32[pyarrow]"}
        undated = frame[frame["published_date"].isna()]
        assert len(undated) == 1 and undated["year"].isna().all() and undated["month"].isna().all()
        dated = frame[frame["published_date"].notna()]
        assert list(dated["year"]) == [day.year for day in dated["published_date"]]
        assert list(dated["month"]) == [day.month for day in dated["published_date"]]
    assert len(pd.read_parquet(out / ARTICLES, filters=[("year", "=", 2024)])) == len(tables[ARTICLES]) - 1


def test_polars_reads_every_table_as_written_with_integer_partitions(sample_run):
    out, _, _ = sample_run
    for table in (ARTICLES, ENTITIES, DUPLICATES, REJECTS):
        frame = pl.read_parquet(f"{out}/{table}/**/*.parquet", hive_partitioning=True)
        assert frame.height == open_table(str(out), table).count_rows(), table
    articles = pl.read_parquet(out / ARTICLES)  # the folder itself, as pandas is given it
    assert articles.schema["year"].is_integer() and articles.schema["month"].is_integer()
    undated = articles.filter(pl.col("published_date").is_null())
    assert undated.height == 1 and undated["year"].null_count() == 1
    dated = articles.filter(pl.col("published_date").is_not_null())
    assert dated["year"].to_list() == [day.year for day in dated["published_date"].to_list()]


def test_a_spark_style_hive_reader_reads_every_table_as_written(sample_run):
    """What Spark does with a folder: discover the `key=value` folders, infer their types, NULL for
    __HIVE_DEFAULT_PARTITION__ (here pyarrow's own discovery, without newsflow's partition schema)."""
    out, _, _ = sample_run
    for table in (ARTICLES, ENTITIES, DUPLICATES, REJECTS):
        found = ds.dataset(out / table, format="parquet", partitioning="hive").to_table()
        assert found.num_rows == open_table(str(out), table).count_rows(), table
    articles = ds.dataset(out / ARTICLES, format="parquet", partitioning="hive").to_table()
    assert pa.types.is_integer(articles.schema.field("year").type)
    assert articles.column("year").null_count == 1


def test_duckdb_reads_every_table_as_written_with_integer_partitions(sample_run):
    out, _, tables = sample_run
    for table in (ARTICLES, ENTITIES, DUPLICATES, REJECTS):
        ((count,),) = duckdb.sql(f"SELECT count(*) FROM read_parquet('{out}/{table}/**/*.parquet')").fetchall()
        assert count == open_table(str(out), table).count_rows(), table
    (rows,) = duckdb.sql(
        f"SELECT count(*), count(year), max(year), typeof(max(year)), typeof(max(month)) "
        f"FROM read_parquet('{out}/articles/**/*.parquet', hive_partitioning=true)"
    ).fetchall()
    dated = sum(row["published_date"] is not None for row in tables[ARTICLES])
    assert rows[:3] == (len(tables[ARTICLES]), dated, 2024)
    assert rows[3] in ("INTEGER", "BIGINT") and rows[4] in ("INTEGER", "BIGINT")


def test_bad_inputs_become_rejects_and_the_run_goes_on(tmp_path):
    """A corrupt gzip is a reject, not a crash. The output folder sits inside the input and is run twice:
    a dataset is never read back as input, and the second run finds nothing new."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.txt.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    out = bad / "out"
    first = ingest(str(bad), "--output", str(out), "--direct_num_workers=1")
    second = ingest(str(bad), "--output", str(out), "--direct_num_workers=1")
    assert "nothing new to ingest: the 1 input files are in the manifest" in second.stdout
    (record,) = (out / "_runs").glob("*.json")
    assert f"newsflow run {record.stem}" in first.stdout
    rejects = open_table(str(out), REJECTS).to_table().to_pylist()
    assert [row["reason"] for row in rejects] == ["corrupt or truncated compressed file: it could not be decompressed"]


def test_a_run_whose_every_input_vanished_publishes_the_rejects_and_exits_66(tmp_path):
    """The only file is a link whose target is gone (as a file deleted between listing and reading): the
    run reads nothing, says so, and fails, though its rejects are published as always."""
    dump, out = tmp_path / "dump", tmp_path / "out"
    dump.mkdir()
    (dump / "story.txt").symlink_to(tmp_path / "deleted-before-it-was-read.txt")
    result = ingest(str(dump), "--output", str(out), "--direct_num_workers=1", check=False)
    assert result.returncode == 66, result.stderr[-2000:]
    assert "the run read nothing" in result.stderr
    rejects = open_table(str(out), REJECTS).to_table().to_pylist()
    assert [row["reason"] for row in rejects] == ["file disappeared or is a broken link"]


def test_mentioned_dates_point_into_the_text_and_resolve_against_the_publication_date(sample_run):
    _, _, tables = sample_run
    resolved = 0
    for row in tables[ARTICLES]:
        for mention in row["mentioned_dates"]:
            assert row["text"][mention["start"]:mention["end"]] == mention["text"]
            if mention["text"].lower() == "today":
                assert mention["date"] == row["published_date"].isoformat()
                resolved += 1
    assert resolved >= 2  # two sample stories say "today"


def test_entities_table_has_one_row_per_article_and_canonical_entity(sample_run):
    out, _, tables = sample_run
    rows = open_table(str(out), ENTITIES).to_table().to_pylist()
    articles = {row["doc_id"]: row for row in tables[ARTICLES]}
    assert rows and {row["doc_id"] for row in rows} <= set(articles)
    assert len({(row["doc_id"], row["canonical"]) for row in rows}) == len(rows)
    for row in rows:
        article = articles[row["doc_id"]]
        named = [e for e in article["entities"] if e["canonical"] == row["canonical"]]
        assert row["mentions"] == len(named)
        assert row["surfaces"] == sorted({e["text"] for e in named})
        assert row["first_offset"] == min((e["start"] for e in named if e["start"] >= 0), default=-1)
        assert (row["year"], row["month"]) == (
            (article["published_date"].year, article["published_date"].month) if article["published_date"] else (None, None))


@pytest.mark.slow
def test_small_files_hold_at_most_max_file_rows_and_lose_nothing(sample_run, tmp_path):
    """With --max-file-rows 3 a worker writes a file whenever it holds 3 rows of a table (its largest
    partition's): no file is larger, and the tables hold the same rows as the default run's."""
    import pyarrow.parquet as pq

    out = tmp_path / "small-files"
    ingest(str(DUMP), "--output", str(out), "--max-file-rows", "3", "--direct_num_workers=1")
    for table in (ARTICLES, ENTITIES):
        files = sorted((out / table).rglob("*.parquet"))
        assert len(files) > 1 and max(pq.ParquetFile(f).metadata.num_rows for f in files) <= 3
    _, _, default_tables = sample_run
    articles = open_table(str(out), ARTICLES).to_table(columns=["doc_id"]).column("doc_id").to_pylist()
    assert sorted(articles) == sorted(row["doc_id"] for row in default_tables[ARTICLES])


# An invented story, written for this test; its accented letters are the same in Latin-1, cp1252 and
# cp1250, so that the detected codec cannot garble them.
STORY_WITH_ACCENTS = """Café owners of Port Alder ask for a later closing hour

PORT ALDER, March 12 - The owners of the twelve cafés on the harbour front asked the town council on
Tuesday to let them stay open until midnight during the summer season, when the ferries bring visitors
from Bramblewood until late in the evening.

"Our terraces are full at ten and empty at ten past," said Inés Gómez, who runs the Café Aurora on the
quay. She said the façade lights of the old customs house would make the promenade safe after dark.

The council's committee for public order will study the request and report in April. Councillor Jürgen
Öhlund said residents of the upper town had complained about noise in earlier years, and that any later
hour would come with a limit on music after ten o'clock.

Last year the harbour front counted more than forty thousand visitors between June and September,
according to the tourist office, which supports the request.
"""


def test_the_same_article_in_five_encodings_is_one_clean_article(tmp_path):
    """UTF-8, Latin-1, cp1252 (with its curly apostrophes), UTF-16 and mojibake (the UTF-8 bytes once read
    as Latin-1 and saved again): one cluster, and the article it keeps reads "Café", never "CafÃ©"."""
    dump = tmp_path / "dump" / "2024-03"
    curly = STORY_WITH_ACCENTS.replace("'", "\u2019")
    copies = {
        "utf8-daily/story.txt": STORY_WITH_ACCENTS.encode("utf-8"),
        "latin1-post/story.txt": STORY_WITH_ACCENTS.encode("latin-1"),
        "cp1252-tribune/story.txt": curly.encode("cp1252"),
        "utf16-courier/story.txt": STORY_WITH_ACCENTS.encode("utf-16"),
        "garbled-gazette/story.txt": STORY_WITH_ACCENTS.encode("utf-8").decode("latin-1").encode("utf-8"),
    }
    for name, data in copies.items():
        (dump / name).parent.mkdir(parents=True)
        (dump / name).write_bytes(data)
    out = tmp_path / "out"
    ingest(str(dump.parent), "--output", str(out), "--direct_num_workers=1")
    (article,) = open_table(str(out), ARTICLES).to_table().to_pylist()
    duplicates = open_table(str(out), DUPLICATES).to_table().to_pylist()
    assert len(duplicates) == 4 and {row["duplicate_of"] for row in duplicates} == {article["doc_id"]}
    assert "Café Aurora" in article["text"] and "Jürgen" in article["text"] and "Ã" not in article["text"]
    assert "Ã" not in article["title"]
