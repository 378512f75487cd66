"""The run summary: Beam counters and table row counts, as JSON (the commit record) and as a table."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from apache_beam.metrics.metric import MetricsFilter

from pipelines.options import IngestConfig
from schemas.rows import RunInfo
from schemas.tables import ARTICLES, DUPLICATES, REJECTS
from transforms.routing import METRICS_NAMESPACE


def counters_of(result) -> dict[str, int]:
    """newsflow's Beam counters summed over steps; {} on runners that report no metrics."""
    try:
        results = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))
    except Exception:  # noqa: BLE001 - some runners (Dask) have no metrics
        return {}
    totals: Counter[str] = Counter()
    for metric in results["counters"]:
        value = metric.committed if metric.committed is not None else metric.attempted
        totals[metric.key.metric.name] += value or 0
    return dict(sorted(totals.items()))


def documents_in(counters: dict[str, int]) -> int | None:
    """How many input documents the run saw: files read plus inputs that could not be listed.
    None when the runner reports no metrics (then only the uniqueness half of the invariant is checked)."""
    if not counters:
        return None
    return counters.get("read.documents", 0) + counters.get("read.inputs_unlisted", 0)


def already_ingested(counters: dict[str, int]) -> int:
    """Input documents an earlier run into the same output already wrote (not written again)."""
    return counters.get("index.already_ingested", 0)


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
        "inputs": list(config.inputs),
        "output": config.output,
        "documents": documents_in(counters),
        "already_ingested": already_ingested(counters),
        "articles": rows.get(ARTICLES, 0),
        "duplicates": rows.get(DUPLICATES, 0),
        "rejects": rows.get(REJECTS, 0),
        "rejects_by_reason": dict(sorted(reject_reasons.items(), key=lambda kv: -kv[1])),
        "counters": counters,
    }


def nothing_new_summary(config: IngestConfig, plan, wall_seconds: float) -> dict:
    """The summary of a run that found every input file in the manifest, unchanged: it wrote nothing."""
    return {"run_id": None, "nothing_new": True, "inputs": list(config.inputs), "output": config.output,
            "inputs_unchanged": plan.unchanged, "wall_seconds": round(wall_seconds, 2)}


def format_summary(summary: dict) -> str:
    """A short human-readable table of a run summary."""
    if summary.get("nothing_new"):
        return (f"newsflow: nothing new to ingest: the {summary['inputs_unchanged']} input files are in the manifest "
                f"of {summary['output']}, unchanged ({summary['wall_seconds']:.1f} s). Nothing was written. "
                f"Use --reprocess to ingest them again.")
    seconds = summary["wall_seconds"]
    documents = summary["documents"]
    rate = f"{documents / seconds:,.1f} docs/s" if documents and seconds else "-"
    lines = [
        f"newsflow run {summary['run_id']}  ({seconds:.1f} s, {rate})",
        f"  {'documents in':<24}{documents if documents is not None else '?':>10}",
        f"  {'files unchanged':<24}{summary.get('inputs_unchanged', 0):>10}",
        f"  {'files read again':<24}{summary.get('reprocessed_files', 0):>10}",
        f"  {'already ingested':<24}{summary.get('already_ingested', 0):>10}",
        f"  {'articles':<24}{summary['articles']:>10}",
        f"  {'duplicates':<24}{summary['duplicates']:>10}",
        f"  {'rejects':<24}{summary['rejects']:>10}",
    ]
    for reason, count in summary["rejects_by_reason"].items():
        lines.append(f"    {count:>6}  {reason}")
    stage_counters = {
        k: v for k, v in summary["counters"].items() if not k.startswith("write.") and not k.endswith(".busy_us")
    }
    if stage_counters:
        lines.append("  stage counters:")
        lines.extend(f"    {name:<34}{value:>10}" for name, value in stage_counters.items())
    lines.append(f"  output: {summary['output']}")
    return "\n".join(lines)
