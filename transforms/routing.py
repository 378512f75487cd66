"""One mechanism that routes a failed document to `rejects`, for every stage.

A stage is a plain function `fn(Document) -> Document`. When a document cannot go on, the function
raises `Rejected(reason, detail)` with a reason a person understands. `ApplyStage` runs the function
in Beam, counts every outcome with named Beam counters, and sends rejected documents (and documents
that hit an unexpected error) to a tagged `rejects` output. No stage writes its own try/except.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

import apache_beam as beam

from schemas.records import Document, RejectRow
from transforms import metrics
from transforms.identity import page_key
from transforms.metrics import counter

REJECTS = "rejects"
# One document in one stage: a news page takes milliseconds; past this it is a pathological input.
DOCUMENT_SECONDS = 60.0
log = logging.getLogger(__name__)


class StageOutputs(NamedTuple):
    """What a stage PTransform returns when it is not a plain ApplyStage: documents and rejects."""

    documents: beam.PCollection
    rejects: beam.PCollection


class Rejected(Exception):
    """Raised by a stage function when a document cannot become an article."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def reject_row(
    source_uri: str, stage: str, error: BaseException, doc_id: str | None = None, page: str | None = None
) -> RejectRow:
    """Turn an exception raised while processing a document into a `rejects` row."""
    if isinstance(error, Rejected):
        return RejectRow(source_uri, stage, error.reason, error.detail[:2000], doc_id, page)
    # An unexpected error is a bug of ours, not of the input: say so, and keep the evidence.
    log.exception("stage %s failed on %s", stage, source_uri)
    return RejectRow(
        source_uri,
        stage,
        f"newsflow failed in its {stage} stage on this document (a bug: please report it)",
        f"{type(error).__name__}: {error}"[:2000],
        doc_id,
        page,
    )


_limit = threading.local()  # each worker thread processes one document at a time


@contextlib.contextmanager
def time_limit(stage: str, seconds: float = DOCUMENT_SECONDS) -> Iterator[None]:
    """Bound the time the block spends on one document: `check_time_limit` calls inside it (in the
    stages' loops) raise `Rejected` once it is over, and so does its end. Cooperative: a single step
    (one regular expression, one model call) is bounded by the stages' size limits instead."""
    _limit.stage, _limit.deadline, _limit.seconds = stage, time.monotonic() + seconds, seconds
    try:
        yield
        check_time_limit()
    finally:
        _limit.deadline = None


def check_time_limit() -> None:
    """Raise `Rejected` when the document being processed is over its stage's time limit."""
    deadline = getattr(_limit, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise Rejected(f"took longer than the time limit of {_limit.seconds:g} s for one document in the "
                       f"{_limit.stage} stage: not processed further", "a news page takes milliseconds")


@contextlib.contextmanager
def busy(stage: str) -> Iterator[None]:
    """Count the microseconds the block works in `<stage>.busy_us`, summed over workers: the stage's
    share of a run's cost (the benchmarks and the run summary read it)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        _busy_counter(stage).inc(round((time.perf_counter() - started) * 1e6))


@functools.cache
def _busy_counter(stage: str):
    return counter(metrics.busy_us(stage))  # a delegating counter: it reports to whichever step runs it


class _StageFn(beam.DoFn):
    def __init__(self, stage: str, fn: Callable[[Document], Document]):
        self._stage = stage
        self._fn = fn

    def setup(self):
        self._done = counter(metrics.stage_ok(self._stage))
        self._rejected = counter(metrics.stage_rejected(self._stage))

    def process(self, doc: Document, *side_inputs):
        try:
            with busy(self._stage), time_limit(self._stage):
                out = self._fn(doc, *side_inputs)
        except Exception as error:  # noqa: BLE001 - every failure becomes a reject row, never a crash
            self._rejected.inc()
            yield beam.pvalue.TaggedOutput(REJECTS, reject_row(
                doc.source_uri, self._stage, error, doc.doc_id, page_key(doc) if doc.raw else None))
            return
        self._done.inc()
        yield out


class ApplyStage(beam.PTransform):
    """Apply `fn` to every document; returns a tuple with `.documents` and `.rejects`.

    Side inputs (`beam.pvalue.AsDict(...)` and the like) are passed to `fn` after the document.
    """

    def __init__(self, stage: str, fn: Callable[..., Document], *side_inputs):
        super().__init__(label=None)
        self._stage = stage
        self._fn = fn
        self._side_inputs = side_inputs

    def expand(self, documents):
        stage_fn = _StageFn(self._stage, self._fn)
        return documents | beam.ParDo(stage_fn, *self._side_inputs).with_outputs(REJECTS, main="documents")
