"""Rows of the output tables, built from pipeline records. Column names live here and in tables.py."""
from __future__ import annotations

import dataclasses

from schemas.records import Document, RejectRow, RunInfo, Verdict


def article_row(doc: Document, run: RunInfo) -> dict:
    return {
        "doc_id": doc.doc_id,
        "source_uri": doc.source_uri,
        "url": doc.url,
        "fetched_at": doc.fetched_at,
        "title": doc.title,
        "text": doc.text,
        "published_date": doc.published_date,
        "date_source": doc.date_source,
        "date_confidence": doc.date_confidence,
        "language": doc.language,
        "encoding": doc.encoding,
        "entities": [dataclasses.asdict(entity) for entity in doc.entities],
        "mentioned_dates": [dataclasses.asdict(mention) for mention in doc.mentioned_dates],
        "duplicate_count": doc.duplicate_count,
        "boilerplate_share": doc.boilerplate_share,
        **run.columns(),
    }


def entity_rows(doc: Document, run: RunInfo) -> list[dict]:
    """One row per canonical entity of an article: its label, how often and where first it is named."""
    by_canonical: dict[str, list] = {}
    for entity in doc.entities:
        by_canonical.setdefault(entity.canonical, []).append(entity)
    rows = []
    for canonical, mentions in sorted(by_canonical.items()):
        labels = [m.label for m in mentions]
        in_text = [m.start for m in mentions if m.start >= 0]
        rows.append({
            "doc_id": doc.doc_id,
            "source_uri": doc.source_uri,
            "canonical": canonical,
            "label": max(sorted(set(labels)), key=labels.count),
            "mentions": len(mentions),
            "first_offset": min(in_text) if in_text else -1,
            "surfaces": sorted({m.text for m in mentions}),
            "published_date": doc.published_date,
            **run.columns(),
        })
    return rows


def duplicate_row(copy: tuple[Document, Verdict], run: RunInfo) -> dict:
    doc, verdict = copy
    return {
        "doc_id": doc.doc_id,
        "source_uri": doc.source_uri,
        "duplicate_of": verdict.duplicate_of,
        "kind": verdict.kind,
        "similarity": verdict.similarity,
        "url": doc.url,
        "title": doc.title,
        "published_date": doc.published_date,
        **run.columns(),
    }


def reject_row(reject: RejectRow, run: RunInfo) -> dict:
    return {
        "source_uri": reject.source_uri,
        "stage": reject.stage,
        "reason": reject.reason,
        "detail": reject.detail,
        "doc_id": reject.doc_id,
        **run.columns(),
    }
