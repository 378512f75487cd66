"""A few pages of a run with the lines that cleaning removed, for the run report (pipelines/report.py).

The sample is the same for the same documents: the pages whose doc_id hashes lowest. Only those few
are turned into lines, after dating, while the raw page is still at hand.
"""
from __future__ import annotations

import apache_beam as beam

from schemas.records import Document
from storage.files import read_json, write_json
from storage.layout import STAGED_SAMPLES, Layout
from transforms.clean_paragraphs import normalise
from transforms.date_markup import html_to_text
from transforms.identity import stable_hash

SAMPLE_SIZE = 6


def _squashed(text: str) -> str:
    return " ".join(text.split())


def page_lines(doc: Document) -> list[str]:
    """The page's visible lines, page chrome included, spaces squashed, blank lines left out."""
    doc.require("report samples", "raw")
    page = html_to_text(doc.raw) if doc.content_type == "html" else normalise(doc.raw)
    return [line for line in map(_squashed, page.split("\n")) if line]


def sample_entry(doc: Document) -> dict:
    """The page's lines, each marked kept (in the title or body) or removed."""
    kept_text = f"{_squashed(doc.title or '')}\n{_squashed(doc.text)}"
    return {
        "doc_id": doc.doc_id,
        "source_uri": doc.source_uri,
        "title": doc.title,
        # A line counts as kept when it is part of the body: bodies join a page's wrapped lines.
        "lines": [[line, line in kept_text] for line in page_lines(doc)],
    }


def _sample_order(doc: Document) -> int:
    return stable_hash(doc.doc_id)


def write_samples(samples: list[dict], run: Layout) -> None:
    """Into the run's staging folder: not a table, never published."""
    write_json(run.fs, run.staged(STAGED_SAMPLES), samples, indent=0)


def read_samples(run: Layout) -> list[dict]:
    """The samples a run staged; [] when it staged none (no document reached dating)."""
    return read_json(run.fs, run.staged(STAGED_SAMPLES), [])


class SampleDocuments(beam.PTransform):
    """Dated documents (with their raw page) -> the report's sample, written into the staging folder."""

    def __init__(self, run: Layout):
        super().__init__()
        self._run = run

    def expand(self, documents):
        run = self._run
        return (
            documents
            | "Lowest" >> beam.combiners.Top.Of(SAMPLE_SIZE, key=_sample_order, reverse=True)
            | "Entries" >> beam.Map(lambda docs: [sample_entry(doc) for doc in docs])
            | "WriteSamples" >> beam.Map(write_samples, run)
        )
