"""`newsflow ingest --no-entities`: a run that cleans, dates and dedupes without NER, every document still
in exactly one table."""
import pathlib
import shutil

from cli_runs import ROOT

from pipelines import ingest
from pipelines.options import IngestConfig
from schemas.tables import ARTICLES, DUPLICATES, ENTITIES, REJECTS
from storage.visible import open_table
from transforms.mentions import mention_document

DUMP = ROOT / "samples" / "dump"
IN_PROCESS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]  # so the patched stage is the one run


def test_a_run_without_entities_counts_each_reject_once_and_writes_no_entities(tmp_path, monkeypatch):
    dump = pathlib.Path(shutil.copytree(DUMP, tmp_path / "dump"))

    def failing_on_the_wire_story(doc):
        if "wirepress" in doc.source_uri:
            raise ValueError("a bug in the mentions stage")
        return mention_document(doc)

    monkeypatch.setattr(ingest, "mention_document", failing_on_the_wire_story)
    out = tmp_path / "out"
    summary = ingest.run_ingest(IngestConfig(inputs=(str(dump),), output=str(out), entities=False), IN_PROCESS)
    rows = {table: open_table(str(out), table).to_table().to_pylist() for table in (ARTICLES, DUPLICATES, REJECTS)}
    assert sum(len(table_rows) for table_rows in rows.values()) == summary["documents"] == 16
    failed = [row for row in rows[REJECTS] if "wirepress" in row["source_uri"]]
    assert len(failed) == 1 and "mentions" in failed[0]["reason"].lower() + failed[0].get("detail", "").lower()
    assert all(row["entities"] == [] for row in rows[ARTICLES])
    assert not (out / ENTITIES).exists() or open_table(str(out), ENTITIES).to_table().num_rows == 0
