"""The shared reject mechanism: a stage function's failures become reject rows, never crashes."""
import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import Document
from transforms.routing import ApplyStage, Rejected, reject_row


def doc(name: str) -> Document:
    return Document(doc_id=name, source_uri=f"file:///{name}", content_type="text", encoding="utf-8", raw=name)


def stage(document: Document) -> Document:
    if document.raw == "refused":
        raise Rejected("no article body found", "0 letters")
    if document.raw == "buggy":
        raise ZeroDivisionError("division by zero")
    return document


def test_rejected_documents_keep_their_reason_and_bugs_say_so():
    assert reject_row("u", "clean", Rejected("no article body found", "x")).reason == "no article body found"
    row = reject_row("u", "clean", KeyError("title"))
    assert row.reason.startswith("newsflow failed in its clean stage") and "KeyError" in row.detail


def test_apply_stage_routes_every_document_to_exactly_one_output():
    with BeamTestPipeline(runner="FnApiRunner") as pipeline:
        result = pipeline | beam.Create([doc("fine"), doc("refused"), doc("buggy")]) | ApplyStage("clean", stage)
        assert_that(result.documents | "Ids" >> beam.Map(lambda d: d.doc_id), equal_to(["fine"]), label="docs")
        assert_that(
            result.rejects | "Reasons" >> beam.Map(lambda r: (r.source_uri, r.stage, r.reason.split(" (")[0])),
            equal_to([
                ("file:///refused", "clean", "no article body found"),
                ("file:///buggy", "clean", "newsflow failed in its clean stage on this document"),
            ]),
            label="rejects",
        )
