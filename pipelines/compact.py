"""`newsflow compact OUT [--dry-run]`: merge the dataset's small files into files of a sensible size,
atomically and without changing a row (what is merged, into what, and in which order: storage/compaction.py).

A compaction is published as a run is: it holds the output's lock, first completes what a killed run (or
compaction) left, refuses a damaged output, writes the merged files into its staging folder
(`_staging/<id>/`), checks them (every document still in exactly one table, as a run's check; every
merged file holds as many rows as the files it replaces), then publishes them with a journal that moves
them in and deletes the files they replace, and a commit record `_runs/<id>.json` (storage/publication.py).
Killed before its journal, it changed nothing (the next command removes its staging folder); killed
after, the next command (a run, a compaction, `check --repair`) replays the journal.

The commit record is the compaction's summary: it is listed by the `runs` view as a run that added no
row (`documents`, `articles`, ... are 0), with `command: compact`.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter

from pipelines import exits, logs, signals
from pipelines.check import refusal, verify_output
from pipelines.invariant import InvariantViolation, check_invariant
from pipelines.lock import DEFAULT_LOCK_SECONDS, OutputLocked, RunLock
from schemas.tables import TABLES
from storage.compaction import Merge, plan_compaction, staged_rows, write_merge
from storage.layout import Layout, new_run_id
from storage.publication import DamagedOutput, discard, pending_journals, publish, publishing_started, recover
from transforms.read import absolute_uri

log = logs.EVENTS
logger = logging.getLogger(__name__)


def check_merges(run: Layout, merges: list[Merge], written: list[str]) -> None:
    """Raise InvariantViolation unless the staged files hold the rows they replace: per file as many rows,
    and in the tables every document once, as many as before (pipelines/invariant.py, as a run)."""
    for merge, relative in zip(merges, written):
        if staged_rows(run, relative) != merge.rows:
            raise InvariantViolation(f"{relative} holds {staged_rows(run, relative):,} rows, the files it replaces "
                                     f"{merge.rows:,}")
    files = {table: [relative for merge, relative in zip(merges, written) if merge.table == table] for table in TABLES}
    check_invariant(run, files, sum(merge.rows for merge in merges if merge.table in TABLES))


def summary_of(run: Layout, merges: list[Merge], written: list[str], started: dt.datetime, seconds: float) -> dict:
    """The compaction's commit record: counts for the `runs` view (no row added), and what was merged."""
    by_table = Counter(merge.table for merge in merges)
    return {
        "run_id": run.run_id,
        "command": "compact",
        "started_at": started.isoformat(),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "wall_seconds": round(seconds, 2),
        "output": absolute_uri(run.output),
        "documents": 0, **{table: 0 for table in TABLES},
        "files_merged": sum(len(merge.files) for merge in merges),
        "files_written": len(written),
        "bytes_merged": sum(merge.size for merge in merges),
        "folders_compacted": {table: by_table[table] for table in sorted(by_table)},
    }


def compact(output: str, lock_seconds: float = DEFAULT_LOCK_SECONDS) -> dict | None:
    """Compact OUT (see the module docstring); its summary, or None when there was nothing to merge.
    Raises OutputLocked, DamagedOutput, InvariantViolation, signals.Stopped, or whatever the store raised."""
    started = dt.datetime.now(dt.timezone.utc)
    clock = time.monotonic()
    run = Layout(output, new_run_id(started))
    with RunLock(output, run.run_id, lock_seconds):
        recover(Layout(output))
        verify_output(output)
        merges = plan_compaction(run)
        if not merges:
            return None
        try:
            written = [write_merge(run, merge) for merge in merges]
            check_merges(run, merges, written)
            files: dict[str, list[str]] = {}
            for merge, relative in zip(merges, written):
                files.setdefault(merge.table, []).append(relative)
            replaced = tuple(file.path for merge in merges for file in merge.files)
            summary = summary_of(run, merges, written, started, time.monotonic() - clock)
            with signals.deferred():  # a stop signal waits until the compaction is published
                publish(run, files, summary, deleted=replaced)
        except BaseException:
            if publishing_started(run):
                logger.error("compaction %s stopped while publishing: the next command into %s completes it",
                             run.run_id, output)
            else:
                discard(run)
            raise
    return summary


def dry_run_lines(output: str) -> list[str]:
    merges = plan_compaction(Layout(output))
    files = sum(len(merge.files) for merge in merges)
    folders = len({merge.folder for merge in merges})
    headline = (f"newsflow: dry run of compact {output}: {files:,} files would become {len(merges):,} in "
                f"{folders:,} folders. Nothing was written.")
    return [headline, *(f"  {merge.folder}: {len(merge.files):,} files, {merge.rows:,} rows, {merge.size:,} bytes -> 1"
                        for merge in merges)]


def compact_command(output: str, dry_run: bool = False, lock_seconds: float = DEFAULT_LOCK_SECONDS,
                    quiet: bool = False) -> int:
    """`newsflow compact`: its exit status (pipelines/exits.py)."""
    logs.configure("error" if quiet else "info", "plain")
    layout = Layout(output)
    if not layout.fs.isdir(layout.root):
        log.error("error: %s: no such folder. Nothing was started.", output)
        return exits.USAGE
    if dry_run:
        print("\n".join(dry_run_lines(output)), flush=True)
        return exits.OK
    signals.stop_on_signals()
    try:
        summary = compact(output, lock_seconds)
    except OutputLocked as error:
        log.error("not started: %s.", error)
        return exits.LOCKED
    except DamagedOutput as error:
        log.error("%s", refusal(error, output))
        return exits.DAMAGED_OUTPUT
    except signals.Stopped as stop:
        log.error("stopped by %s: %s", stop.signal_name, aftermath(output))
        return stop.exit_code
    except Exception as error:  # noqa: BLE001 - one clear line; the log above has the details
        log.error("the compaction failed: %s: %s. %s", type(error).__name__, error, aftermath(output))
        return exits.FAILED
    if summary is None:
        log.info("nothing to compact in %s: no folder holds more than one small file", output)
    else:
        log.info("compacted %s: %s files merged into %s (%s folders); committed as %s", output,
                 f"{summary['files_merged']:,}", f"{summary['files_written']:,}",
                 f"{sum(summary['folders_compacted'].values()):,}", summary["run_id"])
    return exits.OK


def aftermath(output: str) -> str:
    """What a failed or stopped compaction left: nothing, or a journal the next command replays."""
    if pending_journals(Layout(output)):
        return (f"It had started publishing: its journal is written, so the next command into {output} "
                "completes it (readers see the dataset before or after, never half).")
    return f"Nothing was changed: the dataset in {output} is as it was before."
