"""The cross-run index: copies of earlier runs' articles are found, re-runs add nothing.

Real pipeline runs into one output, read back with pyarrow; the stories are fictional, written here.
"""
import datetime as dt
import json
import pathlib
import random

import pyarrow as pa
import pytest
from cli_runs import rows_by_name, run_cli

from pipelines.plan import plan_run
from schemas.records import Document
from schemas.tables import (
    ARTICLES,
    DUPLICATES,
    INDEX_ARTICLES,
    INDEX_DOCUMENTS,
    INDEX_KEYS,
    REJECTS,
    index_shard,
)
from storage.files import write_rows
from storage.state import IndexReader
from storage.visible import open_table
from transforms.dedupe import candidate_of, earlier_candidate, index_keys, index_rows, kept_order

DAM = (
    "Engineers in the northern province of Valdoria said on Tuesday that the upgrade of the old river dam "
    "had been finished three months ahead of schedule, and that the new floodgates would be tested before "
    "the spring rains arrive.\n\n"
    "The project, which cost the provincial government about 40 million crowns, was started after the "
    "floods of two years ago damaged farms and houses along the lower valley.\n\n"
    "The council said it would publish a timetable for the tests next week, and that the footpath over the "
    "dam would stay closed until the end of the month while workers remove the scaffolding from the site."
)
FERRY = (
    "The harbour board said on Monday that a new night crossing to Kelby Island would start in May, after "
    "two years of requests from island workers who miss the last boat home in the evening.\n\n"
    "The crossing will leave the mainland pier at eleven and return at midnight, with room for forty "
    "passengers and a dozen cars on each trip, the board said in a statement.\n\n"
    "Island shopkeepers welcomed the plan, saying a later boat would bring more visitors to the restaurants "
    "on the quay, which close early in winter for lack of customers from the mainland."
)
CHOIR = (
    "The Harbour Voices choir won the regional choir competition in Dunmere on Sunday, the first win for the "
    "town in the forty years that the competition has been held in the province.\n\n"
    "The thirty singers, the youngest of whom is fifteen, sang two sea shanties and a hymn, and the judges "
    "praised the way the choir held the long notes of its final piece in the cathedral.\n\n"
    "The choir will represent the province at the national festival in the capital in October, its "
    "conductor Mara Quist said after the prizes were handed out."
)


def page(title: str, body: str, dateline: str = "") -> str:
    return f"{title}\n\n{dateline}{body}\n"


def ingest(*inputs: pathlib.Path, out: pathlib.Path) -> tuple[dict, str]:
    """Run the command line; returns the run's summary (its commit record) and what it printed."""
    result = run_cli(*inputs, "--output", out)
    records = sorted((out / "_runs").glob("*.json"))
    return json.loads(records[-1].read_text()), result.stdout


rows = rows_by_name


def write_pages(folder: pathlib.Path, pages: dict[str, str]) -> pathlib.Path:
    folder.mkdir(parents=True)
    for name, text in pages.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.slow
def test_copies_of_earlier_articles_point_at_them_and_reruns_add_nothing(tmp_path):
    out = tmp_path / "out"
    week1 = write_pages(tmp_path / "week1", {
        "dam.txt": page("River dam upgrade finished early", DAM, "VALDORIA, March 5 (Wire) - "),
        "ferry.txt": page("Night ferry to Kelby Island from May", FERRY),
    })
    summary, _ = ingest(week1, out=out)
    assert (summary["articles"], summary["duplicates"], summary["rejects"]) == (2, 0, 0)
    first = rows(out, ARTICLES)

    # Next week: another outlet's edited copy of the dam story, a byte-identical copy of the ferry story
    # under a new name, and a new story.
    edited = DAM.replace("said on Tuesday", "said late on Tuesday").replace("about 40 million", "some 40 million")
    week2 = write_pages(tmp_path / "week2", {
        "dam-copy.txt": page("Valdoria dam ready ahead of time", edited),
        "ferry-again.txt": (week1 / "ferry.txt").read_text(),
        "choir.txt": page("Harbour choir wins regional title", CHOIR),
    })
    summary, _ = ingest(week2, out=out)
    assert (summary["articles"], summary["duplicates"], summary["rejects"]) == (1, 2, 0)
    duplicates = rows(out, DUPLICATES)
    assert duplicates["dam-copy.txt"]["duplicate_of"] == first["dam.txt"]["doc_id"]
    assert duplicates["dam-copy.txt"]["kind"] == "near"
    assert duplicates["ferry-again.txt"]["duplicate_of"] == first["ferry.txt"]["doc_id"]
    assert duplicates["ferry-again.txt"]["kind"] == "exact"
    assert set(rows(out, ARTICLES)) == {"dam.txt", "ferry.txt", "choir.txt"}

    # Re-running both deliveries reads nothing, adds nothing, and says so.
    before = {table: open_table(str(out), table).count_rows() for table in (ARTICLES, DUPLICATES, REJECTS)}
    records = sorted((out / "_runs").glob("*.json"))
    stdout = run_cli(week1, week2, "--output", out).stdout
    assert "nothing new to ingest: the 5 input files are in the manifest" in stdout
    assert sorted((out / "_runs").glob("*.json")) == records
    assert {table: open_table(str(out), table).count_rows() for table in before} == before

    # A file touched but not changed is read again, and found in the index: it adds nothing either.
    (week1 / "ferry.txt").touch()
    summary, _ = ingest(week1, week2, out=out)
    assert (summary["inputs_unchanged"], summary["already_ingested"]) == (4, 1)
    assert (summary["articles"], summary["duplicates"], summary["rejects"]) == (0, 0, 0)


def test_a_first_run_plans_no_index_lookups(tmp_path):
    """Without an index no document can be a repeat or a copy of an earlier one: the run skips the lookups."""
    week1, out = write_pages(tmp_path / "week1", {"dam.txt": page("River dam upgrade", DAM)}), tmp_path / "out"
    assert not plan_run((str(week1),), str(out), "0.1.0").indexed
    (out / INDEX_DOCUMENTS).mkdir(parents=True)
    assert plan_run((str(week1),), str(out), "0.1.0").indexed


@pytest.mark.slow
def test_a_changed_file_is_ingested_again_and_a_failed_read_is_not_reported_twice(tmp_path):
    out = tmp_path / "out"
    dump = write_pages(tmp_path / "dump", {"ferry.txt": page("Night ferry to Kelby Island from May", FERRY)})
    (dump / "broken.txt.gz").write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    summary, _ = ingest(dump, out=out)
    assert (summary["articles"], summary["rejects"]) == (1, 1)
    # The vendor corrects a figure in the story: same name, new bytes -> a new version, a near copy.
    (dump / "ferry.txt").write_text(page("Night ferry to Kelby Island from May", FERRY.replace("forty", "fifty")))
    summary, _ = ingest(dump, out=out)
    # The broken file is unchanged: the manifest skips it without reading it again.
    assert (summary["inputs_unchanged"], summary["duplicates"], summary["rejects"]) == (1, 1, 0)
    assert rows(out, DUPLICATES)["ferry.txt"]["duplicate_of"] == rows(out, ARTICLES)["ferry.txt"]["doc_id"]


# --- plain functions -------------------------------------------------------------------------------


def document(name: str, text: str, date: dt.date | None = None) -> Document:
    return Document(doc_id=f"id-{name}", source_uri=name, content_type="text", encoding="utf-8", text=text,
                    published_date=date)


def test_index_rows_round_trip_into_an_earlier_candidate():
    doc = document("dam", DAM, dt.date(2024, 3, 5))
    written = index_rows(doc)
    assert [row["key"] for row in written[INDEX_KEYS]] == index_keys(candidate_of(doc))
    assert len(written[INDEX_KEYS]) == 34  # the content hash, the bytes and 32 band keys
    earlier = earlier_candidate(written[INDEX_ARTICLES][0])
    fresh = candidate_of(doc)
    assert (earlier.doc_id, earlier.signature, earlier.numbers) == (fresh.doc_id, fresh.signature, fresh.numbers)
    # Even an undated, shorter earlier article stays the kept one over a dated copy of this run.
    shorter = earlier_candidate({**written[INDEX_ARTICLES][0], "published_date": None, "length": 10})
    assert min([fresh, shorter], key=kept_order) is shorter


def test_read_index_reads_only_the_rows_asked_for(tmp_path):
    import fsspec

    keys = [index_rows(document(name, text)) for name, text in (("dam", DAM), ("ferry", FERRY), ("choir", CHOIR))]
    wanted = keys[0][INDEX_KEYS][5]["key"]
    shard = index_shard(wanted)
    same_shard = [row for rows_ in keys for row in rows_[INDEX_KEYS] if index_shard(row["key"]) == shard]
    path = tmp_path / INDEX_KEYS / f"shard={shard}" / "part-run.parquet"
    write_rows(fsspec.filesystem("file"), str(path), INDEX_KEYS, same_shard)
    found = IndexReader(str(tmp_path)).lookup(INDEX_KEYS, shard, [wanted])
    assert found.column("key").to_pylist() == [wanted]
    assert found.column("doc_id").to_pylist() == ["id-dam"]
    assert IndexReader(str(tmp_path)).lookup(INDEX_KEYS, (shard + 1) % 16, [wanted]).num_rows == 0
    assert IndexReader(str(tmp_path / "nothing")).lookup(INDEX_KEYS, shard, [wanted]) == pa.table({})


def paragraphs_about(topic: str, count: int) -> list[str]:
    """`count` fictional paragraphs that share almost no word triple: English glue, made-up names."""
    rng = random.Random(topic)
    syllables = ["ka", "lo", "mer", "vin", "dal", "or", "sen", "tu", "bra", "gel", "fi", "nor"]

    def name() -> str:
        return "".join(rng.choice(syllables) for _ in range(3)).title()

    return [
        " ".join(
            f"The {name()} council of {name()} said on {name()} that the {name()} plan would help the "
            f"{name()} quay and its {name()} workers."
            for _ in range(3)
        )
        for _ in range(count)
    ]


@pytest.mark.slow
def test_a_copy_of_an_earlier_copy_points_at_the_earlier_article(tmp_path):
    story = paragraphs_about("harbour", 8)
    out = tmp_path / "out"
    week1 = write_pages(tmp_path / "week1", {
        "full.txt": page("Harbour committee approves quay plan", "\n\n".join(story)),
        "trimmed.txt": page("Quay plan approved", "\n\n".join(story[:5])),
    })
    summary, _ = ingest(week1, out=out)
    assert (summary["articles"], summary["duplicates"]) == (1, 1)
    article = rows(out, ARTICLES)["full.txt"]["doc_id"]
    # Three paragraphs: close to the trimmed copy, too far from the full story on its own.
    week2 = write_pages(tmp_path / "week2", {"short.txt": page("Quay plan", "\n\n".join(story[:3]))})
    ingest(week2, out=out)
    assert rows(out, DUPLICATES)["short.txt"]["duplicate_of"] == article
