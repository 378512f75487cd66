"""`newsflow ingest --watch`: poll the inputs and ingest each batch of new files as an incremental run.

Every poll is an ordinary run: it takes the lock, reads only what the manifest has not seen, and
publishes atomically, so stopping between two polls, or in the middle of one, loses nothing. Ctrl-C
stops cleanly: a run in progress publishes nothing (or, if it had started publishing, the next run
completes it), the lock is released, and the exit status is 0.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 30.0


def watch(config, beam_args: list[str], poll_seconds: float = DEFAULT_POLL_SECONDS,
          say: Callable[[str], None] | None = print, polls: int | None = None, progress=None) -> int:
    """Run incremental ingests every `poll_seconds` until Ctrl-C (or `polls` times, for tests);
    `progress` (pipelines/progress.py) shows each run's progress."""
    from pipelines.ingest import run_ingest  # imports Beam and the stages
    from pipelines.lock import OutputLocked
    from pipelines.summary import format_summary

    say = say or (lambda _: None)
    say(f"newsflow: watching {', '.join(config.inputs)} every {poll_seconds:g} s (Ctrl-C to stop)")
    done = 0
    try:
        while polls is None or done < polls:
            try:
                summary = run_ingest(config, beam_args, progress)
                if not summary.get("nothing_new"):
                    say(format_summary(summary))
            except OutputLocked as error:
                log.warning("skipped this poll: %s", error)
            except Exception as error:  # noqa: BLE001 - one failed batch must not end the watch
                log.error("this batch failed and published nothing (retried at the next poll): %s", error)
            done += 1
            if polls is None or done < polls:
                time.sleep(poll_seconds)
    except KeyboardInterrupt:
        say("newsflow: stopped watching; every batch that finished is published")
    return 0
