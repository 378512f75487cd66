"""The cross-run index: what later runs into the same output look up instead of re-reading earlier data.

Three append-only tables under OUT/_index/ (schemas in schemas/tables.py), each sharded by its lookup
column, so that a lookup opens only one shard's files and reads, with a filter, only matching rows:

- `documents`: (source_uri, doc_id) of every input document a run wrote a row for. A re-run of the same
  dump finds every document there and writes nothing again ("already ingested");
- `keys`: the content hash and the LSH band keys of every kept article;
- `articles`: what verifying a near duplicate needs of a kept article (signature, numbers, date, length).

Dedupe (transforms/dedupe.py) joins a run's keys with `keys`, fetches the matching earlier articles from
`articles`, and verifies them exactly like pairs within the run: a copy of last week's story lands in
`duplicates` pointing at last week's doc_id.
"""
from __future__ import annotations

import apache_beam as beam

from schemas.tables import INDEX_DOCUMENTS, index_shard, step_name
from storage.state import IndexReader
from transforms import metrics
from transforms.containers import file_of
from transforms.metrics import counter
from transforms.routing import StageOutputs

# ---------------------------------------------------------------------------------------------
# Plain functions (tested without Beam)
# ---------------------------------------------------------------------------------------------


def document_key(source_uri: str, doc_id: str | None) -> tuple[str, str]:
    return source_uri, doc_id or ""


def documents_index_row(source_uri: str, doc_id: str | None, run_id: str) -> dict:
    uri, doc = document_key(source_uri, doc_id)
    return {"source_uri": uri, "doc_id": doc, "run_id": run_id}


# ---------------------------------------------------------------------------------------------
# Beam: skipping documents an earlier run already wrote
# ---------------------------------------------------------------------------------------------


class _SeenInShardFn(beam.DoFn):
    """(shard, document keys of this run) -> the keys an earlier run already wrote a row for."""

    def __init__(self, index: IndexReader):
        self._index = index

    def process(self, element):
        shard, keys = element
        keys = set(keys)
        found = self._index.lookup(INDEX_DOCUMENTS, shard, [uri for uri, _ in keys], ["source_uri", "doc_id"])
        if found.num_rows:
            for uri, doc_id in zip(found.column("source_uri").to_pylist(), found.column("doc_id").to_pylist()):
                if (uri, doc_id) in keys:
                    yield (uri, doc_id), True


def source_file(source_uri: str) -> str:
    """The input file of a document: itself, or the container of an entry ("file#entry")."""
    return file_of(source_uri)


def _not_seen(item, seen: dict, again: frozenset[str] = frozenset()) -> bool:
    if document_key(*item) in seen and source_file(item[0]) not in again:
        counter(metrics.ALREADY_INGESTED).inc()
        return False
    return True


class SkipIngested(beam.PTransform):
    """(documents, read rejects) -> the same without what an earlier run (its `index`) already wrote.

    Same URI and same bytes: the document is in the dataset already, in whichever table. A file whose
    bytes changed has a new doc_id and is ingested again; so are the files in `again` (--reprocess).
    """

    def __init__(self, index: IndexReader, again: frozenset[str] = frozenset()):
        super().__init__()
        self._index = index
        self._again = again

    def expand(self, inputs):
        documents, rejects = inputs
        keys = (
            (
                documents | "DocumentKeys" >> beam.Map(lambda doc: document_key(doc.source_uri, doc.doc_id)),
                rejects | "RejectKeys" >> beam.Map(lambda row: document_key(row.source_uri, row.doc_id)),
            )
            | "AllKeys" >> beam.Flatten()
            | "ByShard" >> beam.Map(lambda key: (index_shard(key[0]), key))
            | "GroupShards" >> beam.GroupByKey()
            | "Seen" >> beam.ParDo(_SeenInShardFn(self._index))
        )
        seen, again = beam.pvalue.AsDict(keys), self._again
        return StageOutputs(
            documents | "NewDocuments" >> beam.Filter(
                lambda doc, s: _not_seen((doc.source_uri, doc.doc_id), s, again), seen),
            rejects | "NewRejects" >> beam.Filter(
                lambda row, s: _not_seen((row.source_uri, row.doc_id), s, again), seen),
        )


def written_documents(rows: dict[str, beam.PCollection], run_id: str) -> beam.PCollection:
    """`documents` index rows for every row the run writes to articles, duplicates and rejects."""
    return [
        table_rows | f"Indexed{step_name(name)}" >> beam.Map(
            lambda row: documents_index_row(row["source_uri"], row.get("doc_id"), run_id)
        )
        for name, table_rows in rows.items()
    ] | "AllIndexed" >> beam.Flatten()
