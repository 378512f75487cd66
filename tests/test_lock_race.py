"""The lock's takeover of a dead run's lock, raced: runs started at the same instant (processes released
by a barrier) after a `kill -9` left a stale lock. Exactly one must hold the lock; none may crash.

`python tests/test_lock_race.py [TRIALS] [RACERS]` prints the holders of each trial (a measure: run it
against an older pipelines/lock.py with PYTHONPATH to compare).
"""
from __future__ import annotations

import json
import multiprocessing
import pathlib
import subprocess
import sys
import tempfile
from collections import Counter

from pipelines.lock import OutputLocked, RunLock, owner_record
from storage.layout import LOCK_FILE

RACERS = 6
TRIALS = 30


def dead_pid() -> int:
    """The pid of a process that has ended."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return int(ended.stdout)


def _racer(out: str, run_id: str, start, attempted, results) -> None:
    start.wait(timeout=30)
    lock = None
    try:
        lock = RunLock(out, run_id, seconds=60)
        outcome = "held"
    except OutputLocked:
        outcome = "locked"
    except Exception as error:  # noqa: BLE001 - what the harness counts
        outcome = f"crashed: {type(error).__name__}: {error}"
    results.put(outcome)
    attempted.wait(timeout=30)  # a holder keeps the lock until every racer has tried
    if lock is not None:
        lock.release()


def race(out: pathlib.Path, racers: int = RACERS) -> Counter:
    """One trial: a stale lock of a dead run in `out`, then `racers` runs starting at once."""
    out.mkdir(parents=True, exist_ok=True)
    (out / LOCK_FILE).write_text(json.dumps({**owner_record("20240101T000000Z-dead00", 600), "pid": dead_pid()}))
    context = multiprocessing.get_context("fork")
    start, attempted, results = context.Barrier(racers), context.Barrier(racers), context.Queue()
    processes = [context.Process(target=_racer, args=(str(out), f"20240101T000000Z-{n:06x}", start, attempted, results))
                 for n in range(racers)]
    for process in processes:
        process.start()
    outcomes = Counter(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    return outcomes


def test_runs_racing_for_a_dead_runs_lock_end_with_exactly_one_holder(tmp_path):
    for trial in range(TRIALS):
        outcomes = race(tmp_path / f"out{trial}")
        assert outcomes["held"] == 1 and outcomes["locked"] == RACERS - 1, (trial, outcomes)
        assert not (tmp_path / f"out{trial}" / LOCK_FILE).exists()  # the holder released it
        leftovers = [p.name for p in (tmp_path / f"out{trial}").iterdir()]
        assert leftovers == [], leftovers  # no takeover record, no temporary file left behind


if __name__ == "__main__":
    trials, racers = (int(sys.argv[1]) if len(sys.argv) > 1 else TRIALS), (int(sys.argv[2]) if len(sys.argv) > 2 else RACERS)
    totals = Counter()
    with tempfile.TemporaryDirectory() as folder:
        for trial in range(trials):
            outcomes = race(pathlib.Path(folder) / f"out{trial}", racers)
            holders = outcomes["held"]
            crashed = sum(n for outcome, n in outcomes.items() if outcome.startswith("crashed"))
            totals[f"trials with {holders} holders"] += 1
            totals["trials with a crash"] += bool(crashed)
            print(f"trial {trial}: {dict(outcomes)}")
    print(dict(totals))
