"""The newsflow ingest pipeline: read, clean, date, dedupe, entities, write; then check and publish."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import posixpath
import time
from importlib.metadata import PackageNotFoundError, version
from typing import NamedTuple

import apache_beam as beam

from pipelines import logs, signals
from pipelines.batches import default_budget, split_plan
from pipelines.invariant import check_invariant, check_reject_share
from pipelines.lock import RunLock
from pipelines.options import IngestConfig, runner_and_options
from pipelines.plan import Plan, check_input, plan_run
from pipelines.progress import Progress
from pipelines.report import write_report
from pipelines.retract import Retraction, retract
from pipelines.run_stats import run_stats
from pipelines.summary import (
    add_stats,
    build_summary,
    counters_of,
    documents_to_write,
    nothing_new_summary,
    report_data,
    step_seconds,
    whole_run_summary,
)
from schemas.records import RunInfo
from schemas.rows import article_row, duplicate_row, entity_rows, reject_row
from schemas.tables import (
    ARTICLES,
    DUPLICATES,
    ENTITIES,
    INDEX_ARTICLES,
    INDEX_DOCUMENTS,
    INDEX_KEYS,
    MANIFEST,
    REJECTS,
    TABLES,
    TEMPLATES,
    step_name,
)
from storage.layout import STAGED_REPORT, Layout, new_run_id
from storage.publication import discard, publish, publishing_started, recover, staged_files
from storage.state import IndexReader, TemplateStatistics
from transforms import metrics
from transforms.clean import CleanDocuments
from transforms.dates import DateDocuments
from transforms.dedupe import Deduplicate, index_rows
from transforms.entities import ExtractEntities
from transforms.index import SkipIngested, written_documents
from transforms.mentions import mention_document
from transforms.read import ReadDump
from transforms.routing import ApplyStage, StageOutputs
from transforms.samples import SampleDocuments
from transforms.templates import ApplyTemplates, LearnTemplates
from transforms.write import WriteTables

log = logging.getLogger(__name__)


def pipeline_version() -> str:
    try:
        return version("newsflow")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


def new_run(now: dt.datetime | None = None) -> RunInfo:
    now = now or dt.datetime.now(dt.timezone.utc)
    return RunInfo(run_id=new_run_id(now), ingested_at=now, pipeline_version=pipeline_version())


class CleanOutputs(NamedTuple):
    documents: beam.PCollection
    rejects: beam.PCollection
    templates: beam.PCollection  # (source, line keys it prints on many different stories)
    statistics: beam.PCollection  # the template statistics the run leaves for the next runs


class CleanDump(beam.PTransform):
    """Boilerplate removal: each page on its own, then the templates learned across the whole dump (and
    earlier runs into the same output, `prior`) removed. Returns `.documents`, `.rejects`, `.templates`
    and `.statistics`."""

    def __init__(self, prior: TemplateStatistics):
        super().__init__()
        self._prior = prior

    def expand(self, documents):
        cleaned = documents | "Pages" >> CleanDocuments()
        learned = cleaned.documents | "LearnTemplates" >> LearnTemplates(self._prior)
        untemplated = cleaned.documents | "ApplyTemplates" >> ApplyTemplates(learned.templates)
        rejects = (cleaned.rejects, untemplated.rejects) | "CleanRejects" >> beam.Flatten()
        return CleanOutputs(untemplated.documents, rejects, learned.templates, learned.statistics)


class IngestDump(beam.PTransform):
    """A news dump in, the three output tables written to the run's staging folder.

    Without a `plan`, every input is read; with one (what `run_ingest` does), only the plan's files.
    """

    def __init__(self, config: IngestConfig, run: RunInfo, plan: Plan | None = None,
                 retraction: Retraction | None = None):
        super().__init__()
        self._config = config
        self._run = run
        self._inputs = [*plan.files, *plan.unlisted] if plan else list(config.inputs)
        self._again = frozenset(plan.reprocessed) if plan else frozenset()
        self._forgotten = retraction.forgotten if retraction else frozenset()
        self._indexed = plan.indexed if plan else True

    def expand(self, pipeline):
        config, run = self._config, self._run
        layout = Layout(config.output, run.run_id)
        # What earlier runs into this output left: none on a first run.
        index = IndexReader(config.output) if self._indexed else None
        read = pipeline | "Read" >> ReadDump(
            self._inputs, config.max_document_bytes, exclude=config.output, jsonl_fields=dict(config.jsonl_fields)
        )
        # Documents an earlier run into this output already wrote (same URI, same bytes) are not redone,
        # unless they are read again on request (--reprocess). A first run has nothing to look up.
        fresh = StageOutputs(read.documents, read.rejects)
        if index:
            fresh = (read.documents, read.rejects) | "SkipIngested" >> SkipIngested(index, self._again)
        cleaned = fresh.documents | "Clean" >> CleanDump(TemplateStatistics(config.output))
        # A date on a line a source prints on many stories (a crawl date in its header) is no evidence.
        dated = cleaned.documents | "Date" >> DateDocuments(config.reference_date, cleaned.templates)
        # The run report shows a few pages with the lines cleaning removed (it reads the raw page, which
        # dedupe releases).
        dated.documents | "ReportSamples" >> SampleDocuments(layout)
        # Dedupe runs after dating (the earliest copy is kept) and before NER (only kept articles). It
        # groups copies of one page by the raw page, then releases it before documents wait for the verdicts.
        # A page rejected before dedupe (its site's template left no article) rejects its other copies.
        rejected = (cleaned.rejects, dated.rejects) | "RejectsBeforeDedupe" >> beam.Flatten()
        deduped = dated.documents | "Dedupe" >> Deduplicate(index, self._forgotten, rejected)
        mentioned = deduped.articles | "MentionedDates" >> ApplyStage(metrics.MENTIONS, mention_document)
        stage_rejects = [fresh.rejects, cleaned.rejects, dated.rejects, deduped.rejects, mentioned.rejects]
        annotated = mentioned  # --no-entities: the articles as they are
        if config.entities:
            annotated = mentioned.documents | "Entities" >> ExtractEntities(config.spacy_model)
            stage_rejects.append(annotated.rejects)
        rejects = tuple(stage_rejects) | "AllRejects" >> beam.Flatten()
        tables = {
            ARTICLES: annotated.documents | "ArticleRows" >> beam.Map(article_row, run),
            ENTITIES: annotated.documents | "EntityRows" >> beam.FlatMap(entity_rows, run),
            DUPLICATES: deduped.duplicates | "DuplicateRows" >> beam.Map(duplicate_row, run),
            REJECTS: rejects | "RejectRows" >> beam.Map(reject_row, run),
        }
        # The index later runs look up: every document written, and the keys of kept articles and near
        # copies. Each source's rows are written where they are made: a Flatten of the two would make the
        # local runner pass them all through a stage of their own.
        index_sources = {
            "Articles": annotated.documents | "IndexArticles" >> beam.Map(index_rows),
            "NearCopies": deduped.duplicates
            | "NearCopies" >> beam.Filter(lambda item: item[1].kind == "near")
            | "IndexNearCopies" >> beam.MapTuple(lambda doc, verdict: index_rows(doc, verdict.duplicate_of)),
        }
        # The template statistics are written where they are learned: gathered in one place, a 100,000-page
        # dump's millions of statistics rows took 3 GB of one worker.
        tables[TEMPLATES] = cleaned.statistics
        tables[MANIFEST] = read.manifest | "ManifestRows" >> beam.Map(lambda row: {**row, **run.columns()})
        tables[INDEX_DOCUMENTS] = written_documents({table: tables[table] for table in TABLES}, run.run_id)
        for table in (INDEX_KEYS, INDEX_ARTICLES):
            tables[table] = tuple(
                rows | f"{step_name(table)}Of{source}" >> beam.FlatMap(lambda rows, t=table: rows[t])
                for source, rows in index_sources.items()
            )
        return tables | "Write" >> WriteTables(layout, config.max_file_rows)


def run_ingest(config: IngestConfig, beam_args: list[str] | None = None, progress: Progress | None = None) -> dict:
    """Run the pipeline on what is new in the inputs, check that no document was lost, publish the
    run; returns its summary. Holds the output's lock throughout, and first finishes what a killed
    run left behind. `progress` shows how the run goes (default: nothing)."""
    run = new_run()
    progress = progress or Progress("off")
    started = time.monotonic()
    logs.set_run(run.run_id)
    try:
        with RunLock(config.output, run.run_id, config.lock_seconds):
            recover(Layout(config.output))
            plan = plan_run(config.inputs, config.output, run.pipeline_version, config.reprocess)
            check_input(plan, config.inputs)
            if plan.nothing_to_do:
                return nothing_new_summary(config, plan, time.monotonic() - started)
            batches = split_plan(plan, memory_budget(config, beam_args or []))
            progress.say(f"run {run.run_id}: {len(plan.files):,} files to read ({plan.unchanged:,} unchanged, "
                         f"{len(plan.reprocessed):,} read again) into {config.output}"
                         + (f", in {len(batches)} batches" if len(batches) > 1 else ""), "plan",
                         {"files": len(plan.files), "unchanged": plan.unchanged, "reprocessed": len(plan.reprocessed),
                          "batches": len(batches)})
            if len(batches) == 1:
                return _run_plan(config, run, plan, beam_args or [], started, progress)
            return _run_batches(config, run, batches, beam_args or [], started, progress)
    finally:
        logs.set_run(None)


def memory_budget(config: IngestConfig, beam_args: list[str]) -> int | None:
    """The budget a run's batches are cut to: the user's, or on the local runner the default one. A
    cluster runner's shuffle is on disk: there a run is one batch unless the user sets a budget."""
    if config.memory_budget is not None:
        return config.memory_budget
    runner, _ = runner_and_options(beam_args)
    return default_budget() if runner is not None else None


def _run_batches(config: IngestConfig, run: RunInfo, batches: list[Plan], beam_args: list[str], started: float,
                 progress: Progress) -> dict:
    """Each batch planned, run and published as a run of its own, under the one lock: the next batch
    reads the index and templates the last one published. The summary speaks of the whole run."""
    summaries = []
    done = 0
    for number, batch in enumerate(batches, 1):
        batch_run = run if number == 1 else new_run()
        logs.set_run(batch_run.run_id)
        progress.say(f"batch {number} of {len(batches)} (run {batch_run.run_id}): {len(batch.files):,} files "
                     f"({done:,} of {done + sum(len(b.files) for b in batches[number - 1:]):,} done)", "batch",
                     {"batch": number, "batches": len(batches), "files": len(batch.files), "files_done": done})
        # A first run's first batch has no index; the batches after it read the index it published.
        batch = dataclasses.replace(batch, indexed=batch.indexed or IndexReader(config.output).exists())
        try:
            summaries.append(_run_plan(config, batch_run, batch, beam_args, time.monotonic(), progress))
        except BaseException as error:
            # The batches before this one are published: the message says so, and a re-run reads the rest.
            error.published_batches = ([summary["run_id"] for summary in summaries], len(batches))
            raise
        done += len(batch.files)
    return whole_run_summary(summaries, time.monotonic() - started)


def _run_plan(config: IngestConfig, run: RunInfo, plan: Plan, beam_args: list[str], started: float,
              progress: Progress) -> dict:
    layout = Layout(config.output, run.run_id)
    runner, options = runner_and_options(beam_args)
    phases = {"plan": time.monotonic() - started}
    phase_started = time.monotonic()

    def phase_done(name: str) -> None:
        nonlocal phase_started
        phases[name] = time.monotonic() - phase_started
        phase_started = time.monotonic()

    published = False
    try:
        retraction = retract(layout, set(plan.reprocessed))
        phase_done("retract")
        pipeline = beam.Pipeline(runner=runner, options=options)
        pipeline | "Ingest" >> IngestDump(config, run, plan, retraction)
        with progress.watching(len(plan.files) + len(plan.unlisted)):
            result = pipeline.run()
            result.wait_until_finish()
        phase_done("pipeline")
        counters = counters_of(result)
        files = staged_files(layout)
        rows, reject_reasons = check_invariant(layout, files, documents_to_write(counters))
        check_reject_share(rows, reject_reasons, config.max_reject_share)
        phase_done("check")
        summary = build_summary(config, run, counters, rows, reject_reasons, time.monotonic() - started)
        summary.update(inputs_unchanged=plan.unchanged, reprocessed_files=len(plan.reprocessed),
                       rows_replaced=retraction.rows, rows_replaced_by_table=retraction.rows_by_table)
        stats = run_stats(layout, files, counters, step_seconds(result))
        phase_done("report")
        add_stats(summary, stats, phases)
        summary["report"] = layout.report_uri()
        write_report(posixpath.join(layout.staging_uri, STAGED_REPORT), report_data(summary, stats))
        with signals.deferred():  # a stop signal waits until the run is published
            publish(layout, files, summary, retraction.replaced, retraction.deleted, report=STAGED_REPORT)
            published = True
    except BaseException as error:
        if published:  # a stop signal that waited for the publication: the run is complete
            error.published_run = run.run_id
        elif publishing_started(layout):
            # Its journal is written: the next run into this output completes the publication.
            error.publication_pending = run.run_id
            log.error("run %s stopped while publishing: the next run completes it", run.run_id)
        else:
            ended = "was stopped" if isinstance(error, signals.Stopped) else "failed"
            log.error("run %s %s: nothing was published; the dataset is as it was before", run.run_id, ended)
            discard(layout)
        raise
    progress.say(f"run {run.run_id} published", "publish",
                 {table: summary[table] for table in ("documents", "articles", "duplicates", "rejects")})
    return summary
