"""The run summary: Beam counters and table row counts, as JSON (the commit record) and as a table."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from apache_beam.metrics.metric import MetricsFilter

from pipelines.options import IngestConfig
from schemas.records import RunInfo
from schemas.tables import ARTICLES, DUPLICATES, REJECTS
from transforms import metrics
from transforms.read import VANISHED_REASONS, absolute_uri
from transforms.redact import public_uri


def counters_of(result) -> dict[str, int]:
    """newsflow's Beam counters summed over steps; {} on runners that report no metrics."""
    try:
        results = result.metrics().query(MetricsFilter().with_namespace(metrics.NAMESPACE))
    except Exception:  # noqa: BLE001 - some runners (Dask) have no metrics
        return {}
    totals: Counter[str] = Counter()
    for metric in results["counters"]:
        value = metric.committed if metric.committed is not None else metric.attempted
        totals[metric.key.metric.name] += value or 0
    return dict(sorted(totals.items()))


def step_seconds(result) -> dict[str, float]:
    """{step label: seconds} that each step of the pipeline worked, summed over workers, as the runner
    measured it (Beam's execution-time metrics); {} on runners that report none to the driver."""
    from apache_beam.metrics import monitoring_infos

    try:
        infos = list(result.monitoring_infos())
    except Exception:  # noqa: BLE001 - only the local runner (FnApiRunner) has them
        return {}
    seconds: Counter[str] = Counter()
    for info in infos:
        if info.urn == monitoring_infos.TOTAL_MSECS_URN:
            step = info.labels.get(monitoring_infos.PTRANSFORM_LABEL, "")
            seconds[step] += monitoring_infos.extract_counter_value(info) / 1000
    return dict(seconds)


def documents_in(counters: dict[str, int]) -> int | None:
    """How many input documents the run saw: files read plus inputs that could not be listed.
    None when the runner reports no metrics (then only the uniqueness half of the invariant is checked)."""
    if not counters:
        return None
    return counters.get(metrics.READ_DOCUMENTS, 0) + counters.get(metrics.READ_INPUTS_UNLISTED, 0)


def already_ingested(counters: dict[str, int]) -> int:
    """Input documents an earlier run into the same output already wrote (not written again)."""
    return counters.get(metrics.ALREADY_INGESTED, 0)


def documents_to_write(counters: dict[str, int]) -> int | None:
    """How many rows the run's tables must hold: one per input document not ingested before."""
    seen = documents_in(counters)
    return None if seen is None else seen - already_ingested(counters)


def build_summary(
    config: IngestConfig,
    run: RunInfo,
    counters: dict[str, int],
    rows: dict[str, int],
    reject_reasons: dict[str, int],
    wall_seconds: float,
) -> dict:
    return {
        "run_id": run.run_id,
        "pipeline_version": run.pipeline_version,
        "started_at": run.ingested_at.isoformat(),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "wall_seconds": round(wall_seconds, 2),
        **locations(config),
        "documents": documents_in(counters),
        "already_ingested": already_ingested(counters),
        "articles": rows.get(ARTICLES, 0),
        "duplicates": rows.get(DUPLICATES, 0),
        "rejects": rows.get(REJECTS, 0),
        "rejects_by_reason": dict(sorted(reject_reasons.items(), key=lambda kv: -kv[1])),
        "counters": counters,
    }


def locations(config: IngestConfig) -> dict:
    """The run's inputs and output as absolute URIs: a run record names them wherever it is read."""
    return {"inputs": [public_uri(absolute_uri(uri)) for uri in config.inputs], "output": absolute_uri(config.output)}


def nothing_new_summary(config: IngestConfig, plan, wall_seconds: float) -> dict:
    """The summary of a run that found every input file in the manifest, unchanged: it wrote nothing."""
    return {"run_id": None, "nothing_new": True, **locations(config),
            "inputs_unchanged": plan.unchanged, "wall_seconds": round(wall_seconds, 2)}


def read_nothing(summary: dict) -> bool:
    """Whether a run's every document was an input that is not there (a vanished file or folder)."""
    vanished = sum(summary.get("rejects_by_reason", {}).get(reason, 0) for reason in VANISHED_REASONS)
    return bool(vanished) and vanished == summary.get("rejects") and not summary.get("articles") \
        and not summary.get("duplicates")


TOP_ENTITIES_IN_SUMMARY = 10
# An entity is worth a line of the summary when more than one article names it: on a small run every
# entity is named once, and a list of ties in alphabetical order says nothing.
MIN_ARTICLES_OF_TOP_ENTITY = 2


def add_stats(summary: dict, stats: dict, phase_seconds: dict[str, float]) -> None:
    """Put the quality figures a person reads first into the summary (the commit record)."""
    summary.update(
        duplicates_by_kind=stats["duplicate_kinds"],
        date_sources=stats["date_sources"],
        top_entities=[entity for entity in stats["top_entities"][:TOP_ENTITIES_IN_SUMMARY]
                      if entity[2] >= MIN_ARTICLES_OF_TOP_ENTITY],
        stage_seconds=stats["stage_seconds"],
        phase_seconds={name: round(seconds, 2) for name, seconds in phase_seconds.items()},
    )


SUMMED = ("documents", "already_ingested", "articles", "duplicates", "rejects", "reprocessed_files", "rows_replaced")


def _summed_pairs(lists: list[list], top: int | None = None) -> list[list]:
    """[[name, count], ...] of several batches summed by name, largest first."""
    totals: Counter = Counter()
    for pairs in lists:
        for *name, count in pairs:
            totals[tuple(name)] += count
    return [[*name, round(count, 3)] for name, count in totals.most_common(top)]


def whole_run_summary(batches: list[dict], wall_seconds: float) -> dict:
    """The summary of a run made of batches (pipelines/batches.py): its counts summed over the batches,
    its run ids listed, the last batch's report."""
    first, last = batches[0], batches[-1]
    summary = {**last, "run_id": first["run_id"], "runs": [batch["run_id"] for batch in batches],
               "started_at": first["started_at"], "wall_seconds": round(wall_seconds, 2),
               "inputs_unchanged": first.get("inputs_unchanged", 0)}
    for name in SUMMED:
        values = [batch.get(name) for batch in batches]
        summary[name] = None if None in values else sum(values)
    for name in ("rejects_by_reason", "counters", "duplicates_by_kind", "rows_replaced_by_table"):
        summary[name] = dict(sum((Counter(batch.get(name) or {}) for batch in batches), Counter()))
    summary["rejects_by_reason"] = dict(Counter(summary["rejects_by_reason"]).most_common())
    summary["date_sources"] = _summed_pairs([batch.get("date_sources") or [] for batch in batches])
    summary["top_entities"] = _summed_pairs([batch.get("top_entities") or [] for batch in batches],
                                            TOP_ENTITIES_IN_SUMMARY)
    summary["stage_seconds"] = _summed_pairs([batch.get("stage_seconds") or [] for batch in batches])
    summary["phase_seconds"] = dict(sum((Counter(batch.get("phase_seconds") or {}) for batch in batches), Counter()))
    return summary


def summary_counts(summary: dict) -> dict:
    """The numbers of a summary a log line carries (`--log-format json`)."""
    names = ("documents", "inputs_unchanged", "reprocessed_files", "already_ingested", "articles", "duplicates",
             "rejects", "rows_replaced", "wall_seconds")
    return {name: summary[name] for name in names if summary.get(name) is not None}


def report_data(summary: dict, stats: dict) -> dict:
    """The HTML report's data (pipelines/report.py): the run's summary and its quality figures."""
    run_keys = ("run_id", "pipeline_version", "started_at", "finished_at", "wall_seconds", "output", "inputs",
                "documents", "articles", "duplicates", "rejects", "already_ingested")
    return {
        "run": {key: summary.get(key) for key in run_keys},
        **stats,
        "rejects_by_reason": [[reason, count] for reason, count in summary["rejects_by_reason"].items()],
    }


def _count_lines(pairs, label=lambda value: value) -> list[str]:
    return [f"    {count:>8,}  {label(value)}" for value, count in pairs]


def format_summary(summary: dict) -> str:
    """The run summary as a table a person reads at a glance."""
    if summary.get("nothing_new"):
        return (f"newsflow: nothing new to ingest: the {summary['inputs_unchanged']:,} input files are in the "
                f"manifest of {summary['output']}, unchanged ({summary['wall_seconds']:.1f} s). Nothing was "
                f"written. Use --reprocess to ingest them again.")
    seconds = summary["wall_seconds"]
    documents = summary["documents"]
    rate = f"{documents / seconds:,.1f} documents/s" if documents and seconds else "-"
    kinds = summary.get("duplicates_by_kind") or {}
    lines = [
        f"newsflow run {summary['run_id']}: {seconds:,.1f} s, {rate}"
        + (f" ({len(summary['runs'])} batches, runs {summary['runs'][0]} .. {summary['runs'][-1]})"
           if len(summary.get("runs") or []) > 1 else ""),
        f"  {'documents in':<22}{documents if documents is not None else '?':>10}",
        f"  {'files unchanged':<22}{summary.get('inputs_unchanged', 0):>10,}",
        f"  {'files read again':<22}{summary.get('reprocessed_files', 0):>10,}",
        f"  {'already ingested':<22}{summary.get('already_ingested', 0):>10,}",
        f"  {'articles':<22}{summary['articles']:>10,}",
        f"  {'duplicates':<22}{summary['duplicates']:>10,}"
        + (f"   ({', '.join(f'{n:,} {kind}' for kind, n in sorted(kinds.items()))})" if kinds else ""),
        f"  {'rejects':<22}{summary['rejects']:>10,}",
        *_count_lines(summary["rejects_by_reason"].items()),
    ]
    if summary.get("date_sources"):
        lines += ["  publication dates, by where they were found:",
                  *_count_lines(summary["date_sources"], lambda source: source or "(no date found)")]
    if summary.get("top_entities"):
        lines += ["  top entities (articles naming them):",
                  *(f"    {count:>8,}  {name} ({label})" for name, label, count in summary["top_entities"])]
    busy = summary.get("stage_seconds") or []
    total = sum(seconds for _, seconds in busy)
    if total:
        lines.append("  time per stage (busy seconds, all workers):")
        lines += [f"    {seconds:>8,.1f}  {stage} ({seconds / total:.0%})" for stage, seconds in busy]
    if summary.get("phase_seconds"):
        lines.append("  wall time: " + ", ".join(f"{name} {s:,.1f} s" for name, s in summary["phase_seconds"].items()))
    lines.append(f"  output: {summary['output']}")
    if summary.get("report"):
        lines.append(f"  report: {summary['report']}")
    return "\n".join(lines)
