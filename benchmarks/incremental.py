"""Incremental runs and kill -9: what a scheduler relies on.

    .venv/bin/python benchmarks/incremental.py [--dump DIR] [--trials 20] [--trial-dump DIR] [--seed 1]

1. Re-run cost: a full run of DUMP (default ../shared/corpus/dev/reuters, else samples/dump), then the
   same command again on the unchanged dump. Prints both wall times (whole command, start-up included),
   their ratio (target <= 5 %) and the rows the re-run added (target 0).
2. Kill trials: TRIALS times, a run of TRIAL_DUMP (default samples/dump) into a fresh output is killed
   with SIGKILL (the whole process group: driver and workers) at a moment drawn uniformly over an
   uninterrupted run's wall time; then the same command is run again. The dataset must be identical to
   the uninterrupted run's (all tables, without run_id and ingested_at), with no staging, journal or lock
   left. Prints how many of the trials ended identical (target: all), and where the kills landed.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from cli_runs import dataset_content

from schemas.tables import ARTICLES, DUPLICATES, REJECTS
from storage.layout import LOCK_FILE
from storage.visible import open_table

REUTERS = ROOT.parent / "shared" / "corpus" / "dev" / "reuters"


def command(dump: pathlib.Path, out: pathlib.Path) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "ingest", str(dump), "--output", str(out), "--quiet"]


def timed_run(dump: pathlib.Path, out: pathlib.Path) -> float:
    started = time.monotonic()
    subprocess.run(command(dump, out), cwd=ROOT, check=True)
    return time.monotonic() - started


def rows(out: pathlib.Path) -> int:
    return sum(open_table(str(out), table).count_rows() for table in (ARTICLES, DUPLICATES, REJECTS))


def rerun_cost(dump: pathlib.Path, work: pathlib.Path) -> None:
    out = work / "rerun"
    full = timed_run(dump, out)
    before = rows(out)
    again = timed_run(dump, out)
    added = rows(out) - before
    print(f"re-run on an unchanged dump ({dump}):")
    print(f"  full run {full:.1f} s ({before} rows), unchanged re-run {again:.2f} s, "
          f"ratio {again / full:.1%} (target <= 5 %), rows added {added} (target 0)")


def leftovers(out: pathlib.Path) -> list[str]:
    """What a completed run must not leave: staging, a journal, a lock."""
    left = [str(p) for p in (out / "_staging", out / LOCK_FILE) if p.exists()]
    return left + [str(p) for p in (out / "_runs").glob("*.pending.json")]


def kill_trials(dump: pathlib.Path, work: pathlib.Path, trials: int, seed: int) -> None:
    reference = work / "reference"
    duration = timed_run(dump, reference)
    expected = dataset_content(reference)
    chooser = random.Random(seed)
    identical = 0
    print(f"kill trials on {dump} (an uninterrupted run takes {duration:.1f} s):")
    for trial in range(1, trials + 1):
        out = work / f"trial-{trial}"
        moment = chooser.uniform(0, duration)
        process = subprocess.Popen(command(dump, out), cwd=ROOT, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            process.wait(timeout=moment)
            phase = "after it ended"
        except subprocess.TimeoutExpired:
            journal = list((out / "_runs").glob("*.pending.json")) if (out / "_runs").exists() else []
            phase = "while publishing" if journal else ("while writing" if (out / "_staging").exists() else "early")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        subprocess.run(command(dump, out), cwd=ROOT, check=True)
        same = dataset_content(out) == expected and not leftovers(out)
        identical += same
        print(f"  trial {trial:2d}: killed at {moment:5.1f} s ({phase}): {'identical' if same else 'DIFFERENT'}")
        shutil.rmtree(out)
    print(f"  {identical} of {trials} trials ended with the uninterrupted run's dataset (target: all)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", type=pathlib.Path, default=REUTERS if REUTERS.exists() else ROOT / "samples" / "dump")
    parser.add_argument("--trial-dump", type=pathlib.Path, default=ROOT / "samples" / "dump")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-rerun", action="store_true")
    args = parser.parse_args()
    if not REUTERS.exists():
        print(f"note: {REUTERS} is absent (the shared corpus): the re-run cost is measured on {args.dump}")
    with tempfile.TemporaryDirectory(prefix="newsflow-incremental-") as work:
        if not args.skip_rerun:
            rerun_cost(args.dump, pathlib.Path(work))
        if args.trials:
            kill_trials(args.trial_dump, pathlib.Path(work), args.trials, args.seed)


if __name__ == "__main__":
    main()
