"""`--reprocess`: take the rows of files that are read again out of the dataset, in the same commit.

Before the pipeline runs, the driver finds every published file holding rows of the files to read
again, and stages a copy without those rows (or marks the file for deletion when nothing is left). The
run's journal then replaces and deletes those files together with adding the run's own: files without
such rows are not touched. The earlier articles being replaced are "forgotten" by this run's index
lookups, so that a document is not taken for a copy of its own older version.
"""
from __future__ import annotations

import dataclasses
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from schemas.tables import (
    ARTICLES,
    DUPLICATES,
    ENTITIES,
    INDEX_ARTICLES,
    INDEX_DOCUMENTS,
    INDEX_KEYS,
    MANIFEST,
    REJECTS,
)
from storage.files import read_parquet, write_arrow
from storage.layout import REPLACED_FOLDER, Layout
from storage.visible import table_files
from transforms.index import source_file

# Each table's column that tells which input file (or which forgotten article) a row belongs to.
BY_SOURCE = {ARTICLES: "source_uri", DUPLICATES: "source_uri", REJECTS: "source_uri", ENTITIES: "source_uri",
             INDEX_DOCUMENTS: "source_uri", MANIFEST: "uri"}
BY_ARTICLE = {INDEX_KEYS: "doc_id", INDEX_ARTICLES: "doc_id"}


@dataclasses.dataclass(frozen=True)
class Retraction:
    replaced: tuple[str, ...] = ()  # published files (relative to OUT) with a staged copy in _replaced/
    deleted: tuple[str, ...] = ()  # published files left with no row
    rows: int = 0  # rows taken out
    rows_by_table: dict[str, int] = dataclasses.field(default_factory=dict)  # of those, per table
    forgotten: frozenset[str] = frozenset()  # doc_ids this run's dedupe must not match


def _values(layout: Layout, table: str, columns: list[str]) -> list[tuple]:
    rows = []
    for path in table_files(layout, table):
        part = read_parquet(layout.fs, path, columns)
        rows.extend(zip(*(part.column(name).to_pylist() for name in columns)))
    return rows


def forgotten_articles(layout: Layout, files: set[str]) -> tuple[set[str], set[str]]:
    """(doc_ids of the files' articles and near copies, which leave the index; those plus the earlier
    near copies pointing at them, which this run's dedupe ignores)."""
    kept = {doc for doc, uri in _values(layout, ARTICLES, ["doc_id", "source_uri"]) if source_file(uri) in files}
    near = {doc for doc, uri, kind in _values(layout, DUPLICATES, ["doc_id", "source_uri", "kind"])
            if kind == "near" and source_file(uri) in files}
    leaving = kept | near
    pointing = {doc for doc, target in _values(layout, INDEX_ARTICLES, ["doc_id", "duplicate_of"]) if target in leaving}
    return leaving, leaving | pointing


def retract(run: Layout, files: set[str]) -> Retraction:
    """Stage the dataset without the rows of `files` (input file URIs) into the run's staging folder;
    see the module docstring."""
    if not files:
        return Retraction()
    leaving, ignored = forgotten_articles(run, files)
    replaced, deleted, removed = [], [], Counter()
    for table, column in {**BY_SOURCE, **BY_ARTICLE}.items():
        for path in table_files(run, table):
            keys = read_parquet(run.fs, path, [column]).column(column).to_pylist()
            if table in BY_SOURCE:
                gone = [source_file(key) in files for key in keys]
            else:
                gone = [key in leaving for key in keys]
            if not any(gone):
                continue
            relative = run.relative(path)
            removed[table] += sum(gone)
            if all(gone):
                deleted.append(relative)
                continue
            remaining = read_parquet(run.fs, path).filter(pc.invert(pa.array(gone)))
            write_arrow(run.fs, run.staged(REPLACED_FOLDER, relative), remaining)
            replaced.append(relative)
    return Retraction(replaced=tuple(replaced), deleted=tuple(deleted), rows=sum(removed.values()),
                      rows_by_table=dict(removed), forgotten=frozenset(ignored))
