"""The shared reject mechanism: a stage function's failures become reject rows, never crashes."""
import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import Document
from transforms.identity import page_key
from transforms.routing import ApplyStage, Rejected, RejectRoute, reject_row


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


def test_an_attempt_turns_a_failure_into_its_reject_row_and_the_work_goes_on():
    route = RejectRoute("entities")
    passed, rejected = [], []
    for document in [doc("refused"), doc("buggy"), doc("after")]:
        with route.attempt(document.source_uri, document.doc_id, page_of=document) as attempt:
            passed.append(stage(document).doc_id)
        if attempt.failed:
            rejected.append(attempt.output)
    assert passed == ["after"]
    assert [output.tag for output in rejected] == ["rejects", "rejects"]
    refused, buggy = (output.value for output in rejected)
    assert (refused.source_uri, refused.stage, refused.reason, refused.detail) == (
        "file:///refused", "entities", "no article body found", "0 letters")
    assert refused.doc_id == "refused" and refused.page == page_key(doc("refused"))
    assert buggy.reason.startswith("newsflow failed in its entities stage") and "ZeroDivisionError" in buggy.detail


def test_an_input_that_fails_part_way_keeps_the_documents_it_yielded_and_adds_its_own_reject():
    def two_then_broken():
        yield doc("first")
        yield doc("second")
        raise OSError("the store hung up")

    def read(uri):
        with RejectRoute("read").attempt(uri, explain=lambda error: Rejected("file could not be read", str(error))) as attempt:
            yield from two_then_broken()
        if attempt.failed:
            yield attempt.output

    first, second, reject = read("file:///dump.tar")
    assert (first.doc_id, second.doc_id) == ("first", "second")
    assert (reject.value.source_uri, reject.value.stage, reject.value.reason, reject.value.detail) == (
        "file:///dump.tar", "read", "file could not be read", "the store hung up")
