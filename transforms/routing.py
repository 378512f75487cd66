"""One mechanism routes a failed document to `rejects`, for every stage.

A stage is a plain function `fn(Document) -> Document`. When a document cannot go on, the function
raises `Rejected(reason, detail)` with a reason a person understands. `ApplyStage` runs the function
in Beam, counts every outcome with named Beam counters, and sends rejected documents (and documents
that hit an unexpected error) to a tagged `rejects` output.

A stage that is more than a function per document (reading: a pattern to list, a file that yields many
documents; entities: a batch) uses the same parts in its own DoFn, as `ApplyStage` does: a `RejectRoute`
per stage, whose `attempt` runs the work for one document or one input and turns its failure into the
reject row (the documents an input yielded before failing stay yielded), and whose `reject` sends a
failure a reader named without raising it (a refused file, a container entry that is no document).
`reject_row` is the one place an exception becomes a row; the route counts it and writes the `rejects`
output (dedupe's rejected copies, rows made from their page's reject, are sent by a route too). Readers
still catch what breaks inside a file to say what it means (a `Rejected` with a reason of their own: a
truncated archive, a store that hung up) and read on; no stage writes a `rejects` output by hand.
"""
from __future__ import annotations

import contextlib
import dataclasses
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


@dataclasses.dataclass
class Attempt:
    """One document's work under `RejectRoute.attempt`: `output` is its `rejects` output when it failed."""

    output: beam.pvalue.TaggedOutput | None = None

    @property
    def failed(self) -> bool:
        return self.output is not None


class RejectRoute:
    """How one stage sends what it cannot pass on to its `rejects` output, each row counted in
    `counted_as` (None: the stage keeps no count of its rejects). Plain data: DoFns carry it to workers."""

    def __init__(self, stage: str, counted_as: str | None = None):
        self.stage = stage
        self._counted_as = counted_as

    def send(self, row: RejectRow) -> beam.pvalue.TaggedOutput:
        """The row as the stage's `rejects` output, counted: for a DoFn to yield."""
        if self._counted_as:
            counter(self._counted_as).inc()
        return beam.pvalue.TaggedOutput(REJECTS, row)

    def reject(
        self, uri: str, error: BaseException, doc_id: str | None = None, page: str | None = None
    ) -> beam.pvalue.TaggedOutput:
        """A document (or an input) that failed with `error`, as the stage's `rejects` output."""
        return self.send(reject_row(uri, self.stage, error, doc_id, page))

    @contextlib.contextmanager
    def attempt(
        self,
        uri: str,
        doc_id: str | None = None,
        page_of: Document | None = None,
        timed: bool = False,
        explain: Callable[[Exception], Exception] | None = None,
    ) -> Iterator[Attempt]:
        """Run the block's work for one document, or one input that may yield many (what it yields before
        failing stays yielded). A failure becomes the `Attempt`'s output instead of a crash, and the work
        after the block goes on. `page_of`: the document whose page key the row carries (hashed only on
        failure). `timed`: count the block in `<stage>.busy_us` and hold it to the time limit of one
        document. `explain`: what an unexpected error means for this input (default: a bug of ours)."""
        attempt = Attempt()
        try:
            with self._timed() if timed else contextlib.nullcontext():
                yield attempt
        except Exception as error:  # noqa: BLE001 - every failure becomes a reject row, never a crash
            page = page_key(page_of) if page_of is not None else None
            attempt.output = self.reject(uri, explain(error) if explain else error, doc_id, page)

    @contextlib.contextmanager
    def _timed(self) -> Iterator[None]:
        with busy(self.stage), time_limit(self.stage):
            yield


class _StageFn(beam.DoFn):
    def __init__(self, stage: str, fn: Callable[[Document], Document]):
        self._stage = stage
        self._fn = fn

    def setup(self):
        self._done = counter(metrics.stage_ok(self._stage))
        self._rejects = RejectRoute(self._stage, metrics.stage_rejected(self._stage))

    def process(self, doc: Document, *side_inputs):
        page_of = doc if doc.raw else None
        with self._rejects.attempt(doc.source_uri, doc.doc_id, page_of, timed=True) as attempt:
            out = self._fn(doc, *side_inputs)
        if attempt.failed:
            yield attempt.output
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
