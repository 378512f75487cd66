"""What a finished run's staged tables say about its quality: the figures of the run summary's table
and of the HTML report (pipelines/report.py). Read on the driver, from the few columns they need."""
from __future__ import annotations

from collections import Counter, defaultdict

import pyarrow as pa

from schemas.tables import ARTICLES, DUPLICATES, ENTITIES, SCHEMAS
from storage.files import read_parquet
from storage.layout import Layout
from transforms import metrics
from transforms.identity import source_of
from transforms.samples import read_samples

TOP_ENTITIES = 25
TOP_SOURCES = 50


def read_staged(run: Layout, paths: list[str], table: str, columns: list[str]) -> pa.Table:
    """The given columns of a table's staged files, as one Arrow table (empty, typed, without files)."""
    parts = [read_parquet(run.fs, run.staged(relative), columns) for relative in paths]
    if not parts:
        return pa.schema([SCHEMAS[table].field(name) for name in columns]).empty_table()
    return pa.concat_tables(parts)


# The stage each step of the ingest pipeline (pipelines/ingest.py) belongs to, by its label under
# "Ingest/": the clean step's template learning and application is the templates stage; the steps that
# make rows and index entries from finished documents are part of writing them.
STAGE_OF_STEP = {"Read": "read", "SkipIngested": "index lookups", "Clean": "clean", "Date": "dates",
                 "ReportSamples": "report samples", "Dedupe": "dedupe",
                 "MentionedDates": "mentions", "Entities": "entities"}
TEMPLATE_STEPS = ("LearnTemplates", "ApplyTemplates")


def stage_of(step: str) -> str:
    """'Ingest/Clean/ApplyTemplates/...' -> 'templates'; 'Ingest/ArticleRows' -> 'write'."""
    parts = step.split("/")
    if len(parts) > 2 and parts[1] == "Clean" and parts[2] in TEMPLATE_STEPS:
        return "templates"
    return STAGE_OF_STEP.get(parts[1] if len(parts) > 1 else step, "write")


def stage_seconds(counters: dict[str, int], steps: dict[str, float] | None = None) -> list[list]:
    """[stage, busy seconds summed over workers], the costliest first: every stage from the runner's
    execution times of the steps, where it reports them; else from the stages' own busy counters."""
    if steps:
        busy: Counter[str] = Counter()
        for step, seconds in steps.items():
            busy[stage_of(step)] += seconds
        pairs = [[stage, round(seconds, 3)] for stage, seconds in busy.items()]  # to the ms: a small write takes a few
    else:
        pairs = [[name[: -len(metrics.BUSY_SUFFIX)], round(value / 1e6, 3)]
                 for name, value in counters.items() if name.endswith(metrics.BUSY_SUFFIX)]
    return sorted(pairs, key=lambda item: -item[1])


def _counted(values, top: int | None = None) -> list[list]:
    """[value, count], the most frequent first (ties by value, None last)."""
    counts = Counter(values)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, str(item[0])))
    return [[value, count] for value, count in ordered[:top]]


def _boilerplate_by_source(articles: pa.Table) -> list[list]:
    shares: dict[str, list[float]] = defaultdict(list)
    for url, uri, share in zip(*(articles.column(name).to_pylist() for name in ("url", "source_uri", "boilerplate_share"))):
        if share is not None:
            shares[source_of(url or uri)].append(share)
    rows = [[source, len(values), round(sum(values) / len(values), 3)] for source, values in shares.items()]
    return sorted(rows, key=lambda row: (-row[1], row[0]))[:TOP_SOURCES]


def _top_entities(entities: pa.Table) -> list[list]:
    labels: dict[str, Counter] = defaultdict(Counter)
    # Counted by Arrow first: a big run has millions of (article, entity) rows but few distinct pairs.
    pairs = entities.group_by(["canonical", "label"]).aggregate([("canonical", "count")])
    for row in pairs.to_pylist():
        labels[row["canonical"]][row["label"]] += row["canonical_count"]
    rows = [[canonical, by_label.most_common(1)[0][0], sum(by_label.values())] for canonical, by_label in labels.items()]
    return sorted(rows, key=lambda row: (-row[2], row[0]))[:TOP_ENTITIES]


def _fates(articles: pa.Table, duplicates: pa.Table, samples: list[dict]) -> list[dict]:
    kept, copies = set(articles.column("doc_id").to_pylist()), set(duplicates.column("doc_id").to_pylist())
    for sample in samples:
        doc_id = sample["doc_id"]
        sample["fate"] = "article" if doc_id in kept else "duplicate" if doc_id in copies else "reject"
    return samples


def run_stats(run: Layout, files: dict[str, list[str]], counters: dict[str, int],
              steps: dict[str, float] | None = None) -> dict:
    """The report's data (see pipelines/report.py) for a run (`run`) whose checked output is staged;
    `steps`: the runner's seconds per pipeline step (pipelines/summary.py `step_seconds`)."""
    articles = read_staged(run, files[ARTICLES], ARTICLES, [
        "doc_id", "source_uri", "url", "published_date", "date_source", "duplicate_count", "boilerplate_share"])
    duplicates = read_staged(run, files[DUPLICATES], DUPLICATES, ["doc_id", "kind"])
    entities = read_staged(run, files[ENTITIES], ENTITIES, ["canonical", "label"])
    days = [day for day in articles.column("published_date").to_pylist() if day is not None]
    copies = [count + 1 for count in articles.column("duplicate_count").to_pylist() if count > 0]
    return {
        "articles_per_day": sorted([day.isoformat(), count] for day, count in Counter(days).items()),
        "undated_articles": articles.num_rows - len(days),
        "cluster_sizes": sorted([size, count] for size, count in Counter(copies).items()),
        "duplicate_kinds": {kind: count for kind, count in _counted(duplicates.column("kind").to_pylist())},
        "boilerplate_by_source": _boilerplate_by_source(articles),
        "date_sources": _counted(articles.column("date_source").to_pylist()),
        "top_entities": _top_entities(entities),
        "stage_seconds": stage_seconds(counters, steps),
        "samples": _fates(articles, duplicates, read_samples(run)),
    }
