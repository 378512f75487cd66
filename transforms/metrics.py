"""Every counter a run keeps, named once.

The stages count with these names (Beam counters in the "newsflow" namespace, also tallied for the
live progress of a local run); the invariant check, the run summary, the progress display and the
benchmarks read them by the same names. A stage's name is also the `stage` column of its rejects.
"""
from __future__ import annotations

import apache_beam as beam

from transforms import progress

NAMESPACE = "newsflow"

# --- the stages ------------------------------------------------------------------------------------------
READ = "read"
CLEAN = "clean"
TEMPLATES = "templates"
DATES = "dates"
DEDUPE = "dedupe"
MENTIONS = "mentions"
ENTITIES = "entities"

# --- what each stage counts ------------------------------------------------------------------------------
BUSY_SUFFIX = ".busy_us"  # microseconds of work in a stage (or a part of one), summed over workers


def busy_us(stage: str) -> str:
    return stage + BUSY_SUFFIX


def stage_ok(stage: str) -> str:
    """Documents a stage passed on."""
    return f"{stage}.ok"


def stage_rejected(stage: str) -> str:
    """Documents a stage sent to rejects."""
    return f"{stage}.rejected"


READ_FILES_LISTED = "read.files_listed"
READ_INPUTS_UNLISTED = "read.inputs_unlisted"  # an input that could not be listed: one reject row
READ_FILES = "read.files"  # files read, of those the run has to read (live progress)
READ_DOCUMENTS = "read.documents"  # documents read: each must end in exactly one table
READ_REJECTED = "read.rejected"
READ_MOJIBAKE_REPAIRED = "read.mojibake_repaired"
READ_WARC_RECORDS_SKIPPED = "read.warc_records_skipped"


def read_of_type(content_type: str) -> str:
    """Documents read as "text" or "html"."""
    return f"read.{content_type}"


ALREADY_INGESTED = "index.already_ingested"  # documents an earlier run into the output already wrote

CLEAN_PLAIN_STORY = "clean.plain_story"
CLEAN_RULES_LONG_PAGE = "clean.rules_long_page"
CLEAN_RULES_FALLBACK = "clean.rules_fallback"
CLEAN_NO_BODY = "clean.no_body"


def cleaned_of_type(content_type: str) -> str:
    return f"clean.{content_type}"


TEMPLATES_SOURCES = "templates.sources"
TEMPLATES_LINES = "templates.lines"  # template lines learned
TEMPLATES_RECLEANED = "templates.recleaned"
TEMPLATES_PAGE_LINES_WORK = TEMPLATES_LINES  # as busy_us: turning pages into line keys
TEMPLATES_LEARN_WORK = "templates.learn"  # busy_us of learning the templates

DEDUPE_UNIQUE = "dedupe.unique"
DEDUPE_KEPT_WITH_COPIES = "dedupe.kept_with_copies"
DEDUPE_REJECTED_COPIES = "dedupe.rejected_copies"
DEDUPE_DATED_FROM_CLUSTER = "dedupe.dated_from_cluster"
DEDUPE_SAME_SOURCE_EQUAL_TEXTS = "dedupe.same_source_equal_texts"
DEDUPE_SAME_SOURCE_OPENINGS_DIFFER = "dedupe.same_source_openings_differ"
EXACT_DUPLICATES = "dedupe.exact_duplicates"
NEAR_DUPLICATES = "dedupe.near_duplicates"
DUPLICATES_OF_KIND = {"exact": EXACT_DUPLICATES, "near": NEAR_DUPLICATES}

ENTITIES_DOCUMENTS = "entities.documents"
ENTITIES_SKIPPED_LANGUAGE = "entities.skipped_language"
ENTITIES_MENTIONS = "entities.mentions"


def rows_written(table: str) -> str:
    return f"write.{table}.rows"


def files_written(table: str) -> str:
    return f"write.{table}.files"


# --- counting --------------------------------------------------------------------------------------------


class _Counter:
    """A Beam counter that also feeds the live progress of a local run (transforms/progress.py)."""

    def __init__(self, name: str):
        self._name = name
        self._beam = beam.metrics.Metrics.counter(NAMESPACE, name)

    def inc(self, n: int = 1) -> None:
        self._beam.inc(n)
        progress.tally(self._name, n)


def counter(name: str) -> _Counter:
    return _Counter(name)
