"""`newsflow ingest --watch`: poll the inputs and ingest each batch of new files as an incremental run.

Every poll is an ordinary run: it takes the lock, reads only what the manifest has not seen, and
publishes atomically, so stopping between two polls, or in the middle of one, loses nothing. SIGTERM or
SIGINT (Ctrl-C) stops it cleanly (pipelines/signals.py): a run in progress publishes nothing (or, if it
had started publishing, finishes first), the lock is released, and the exit status is 143 or 130.
"""
from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable

from pipelines import logs

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 30.0


def watch(config, beam_args: list[str], poll_seconds: float = DEFAULT_POLL_SECONDS,
          show: Callable[[dict], None] | None = None, polls: int | None = None, progress=None) -> int:
    """Run incremental ingests every `poll_seconds` until stopped (or `polls` times, for tests); `show`
    receives the summary of each batch that published something; `progress` (pipelines/progress.py)
    shows each run's progress. Returns the exit status."""
    from pipelines import exits
    from pipelines.check import refusal
    from pipelines.ingest import run_ingest  # imports Beam and the stages
    from pipelines.lock import OutputLocked
    from pipelines.plan import NoInput
    from pipelines.signals import Stopped
    from storage.publication import DamagedOutput

    logs.event(f"watching {', '.join(config.inputs)} every {poll_seconds:g} s (stop with Ctrl-C or SIGTERM)")
    done = 0
    try:
        while polls is None or done < polls:
            try:
                summary = run_ingest(config, beam_args, progress)
                if not summary.get("nothing_new") and show:
                    show(summary)
            except NoInput as error:  # an empty delivery folder: wait for files; a vanished one is worth a word
                (log.warning if error.vanished else log.debug)("nothing to read at this poll: %s", error)
            except OutputLocked as error:
                log.warning("skipped this poll: %s", error)
            except DamagedOutput as error:  # no later poll can get past it: stop, as a single run does
                log.error("%s", refusal(error, config.output))
                return exits.DAMAGED_OUTPUT
            except Exception as error:  # noqa: BLE001 - one failed batch must not end the watch
                log.error("this batch failed and published nothing (retried at the next poll): %s", error)
            done += 1
            if polls is None or done < polls:
                time.sleep(poll_seconds)
    except (Stopped, KeyboardInterrupt) as interrupted:
        stop = interrupted if isinstance(interrupted, Stopped) else Stopped(signal.SIGINT)
        logs.event(f"stopped watching ({stop.signal_name}): every batch that finished is published")
        return stop.exit_code
    return 0
