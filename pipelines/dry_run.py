"""`newsflow ingest --dry-run`: what a run would read, without reading or writing anything.

It plans as a run does (lists the inputs, compares them with the output's manifest) but takes no lock
and creates nothing: the plan can change before the real run starts.
"""
from __future__ import annotations

from pipelines import exits, logs
from pipelines.batches import default_budget, split_plan
from pipelines.check import refusal
from pipelines.ingest import pipeline_version
from pipelines.options import IngestConfig
from pipelines.plan import NoInput, Plan, check_input, plan_run
from storage.publication import DamagedOutput


def plan_lines(plan: Plan, output: str, batches: int = 1) -> list[str]:
    """A headline with the counts, then one line per file to read: new, changed, or read again."""
    lines = [f"newsflow: dry run into {output}: {len(plan.files):,} files to read ({len(plan.new):,} new, "
             f"{len(plan.changed):,} changed, {len(plan.reprocessed):,} read again), {plan.unchanged:,} unchanged"
             + (f", {len(plan.unlisted):,} inputs that could not be listed" if plan.unlisted else "")
             + (f", in {batches:,} batches (--memory-budget)" if batches > 1 else "")
             + ". Nothing was read or written."]
    status = {**{uri: "changed" for uri in plan.changed}, **{uri: "again" for uri in plan.reprocessed}}
    lines += [f"  {status.get(file.uri, 'new'):<8} {file.uri}" for file in plan.files]
    lines += [f"  {'unlisted':<8} {pattern}" for pattern in plan.unlisted]
    return lines


def dry_run(config: IngestConfig) -> int:
    try:
        plan = plan_run(config.inputs, config.output, pipeline_version(), config.reprocess)
    except DamagedOutput as error:
        logs.EVENTS.error("%s", refusal(error, config.output))
        return exits.DAMAGED_OUTPUT
    try:
        check_input(plan, config.inputs)
    except NoInput as error:
        logs.EVENTS.error("nothing to read: %s.", error)
        return exits.NO_INPUT
    batches = len(split_plan(plan, config.memory_budget or default_budget()))  # as on the local runner
    print("\n".join(plan_lines(plan, config.output, batches)), flush=True)
    return exits.OK
