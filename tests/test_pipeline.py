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

import pyarrow.compute as pc
import pytest
from cli_runs import run_cli

from schemas.tables import ARTICLES, DUPLICATES, ENTITIES, REJECTS, open_table

ROOT = pathlib.Path(__file__).resolve().parent.parent
DUMP = ROOT / "samples" / "dump"
EXPECTED = json.loads((ROOT / "samples" / "expected.json").read_text())


ingest = run_cli


def relative(uri: str) -> str:
    return uri.split(str(DUMP) + "/", 1)[1]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dataset")
    result = ingest(str(DUMP), "--output", str(out))
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
    name, label, count = summary["top_entities"][0]
    assert count == max(entities.values()) == entities[name]
    assert f"{name} ({label})" in stdout
    stages = dict(summary["stage_seconds"])
    assert stages["clean"] > 0 and stages["entities"] > 0  # busy time is measured where the work is
    assert "time per stage" in stdout and "wall time: plan" in stdout


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


def test_duckdb_reads_the_dataset(sample_run):
    duckdb = pytest.importorskip("duckdb")
    out, _, tables = sample_run
    (rows,) = duckdb.sql(
        f"SELECT count(*), count(year), max(year) FROM read_parquet('{out}/articles/**/*.parquet', hive_partitioning=true)"
    ).fetchall()
    dated = sum(row["published_date"] is not None for row in tables[ARTICLES])
    assert rows == (len(tables[ARTICLES]), dated, 2024)


def test_bad_inputs_become_rejects_and_the_run_goes_on(tmp_path):
    """Bad inputs in a run of their own: a missing path and a corrupt gzip are rejects, not crashes.
    The output folder sits inside the input and is run twice: a dataset is never read back as input."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.txt.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    out = bad / "out"
    for _ in range(2):
        ingest(str(bad), str(tmp_path / "missing"), "--output", str(out), "--direct_num_workers=1")
    runs = sorted((out / "_runs").glob("*.json"))
    summaries = [json.loads(run.read_text()) for run in runs]
    # The second run skips the unchanged broken file (manifest), lists the missing input again and finds
    # its reject already written: nothing is added.
    assert [(s["documents"], s["inputs_unchanged"], s["already_ingested"]) for s in summaries] == [(2, 0, 0), (1, 1, 1)]
    assert open_table(str(out), REJECTS).count_rows() == 2
    rejects = open_table(str(out), REJECTS).to_table(filter=pc.field("run_id") == runs[0].stem).to_pylist()
    reasons = sorted(row["reason"] for row in rejects)
    assert reasons == [
        "corrupt or truncated compressed file: it could not be decompressed",
        "input not found: no file or directory matches this path",
    ]


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
