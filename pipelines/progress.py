"""What a running ingest shows: a live status line on a terminal, a log line now and then for a
scheduler's log (plain or JSON, pipelines/logs.py), nothing with --quiet.

The workers' tallies arrive through a folder (transforms/progress.py). On a cluster runner none
arrive, and the line shows only the elapsed time.
"""
from __future__ import annotations

import glob
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from typing import TextIO

from pipelines import logs
from pipelines.lock import pid_alive
from transforms import metrics
from transforms.progress import PROGRESS_FOLDER_VARIABLE, read_tallies

LIVE_SECONDS = 0.5  # redraw interval of the terminal line
LOG_SECONDS = 60.0  # interval of the plain lines written when the output is not a terminal
# Share of a run's time before NER (read, clean, templates, dates) and in NER, as measured on the
# Reuters dump (benchmarks/stage_walls.py); what the remaining-time estimate weighs the stages by.
READ_SHARE, NER_SHARE = 0.3, 0.7


def clock(seconds: float) -> str:
    """1:02:03, 4:05"""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _rejected(tally: Mapping[str, int]) -> int:
    return sum(value for name, value in tally.items() if name.endswith("rejected"))


def _copies(tally: Mapping[str, int]) -> int:
    return sum(tally.get(name, 0) for name in metrics.DUPLICATES_OF_KIND.values())


def fraction_done(tally: Mapping[str, int], files_to_read: int) -> float | None:
    """How much of the run is done, 0..1, from the workers' counters; None before anything is known."""
    if files_to_read <= 0 or not tally:
        return None
    read = min(1.0, tally.get(metrics.READ_FILES, 0) / files_to_read)
    documents = tally.get(metrics.READ_DOCUMENTS, 0)
    copies = _copies(tally)
    deduped = copies + tally.get(metrics.DEDUPE_UNIQUE, 0) + tally.get(metrics.DEDUPE_KEPT_WITH_COPIES, 0)
    # Until every file is read, the number of articles NER will see is an estimate that firms up.
    articles_expected = max(1.0, (documents - _rejected(tally)) * (1 - copies / deduped if deduped else 1.0))
    ner = min(1.0, tally.get(metrics.ENTITIES_DOCUMENTS, 0) / articles_expected) if read >= 1.0 else 0.0
    return READ_SHARE * read + NER_SHARE * ner


def status_line(tally: Mapping[str, int], files_to_read: int, elapsed: float) -> str:
    """One line: files and documents read, their rate, the stages' counts, elapsed and remaining time."""
    documents = tally.get(metrics.READ_DOCUMENTS, 0)
    parts = [f"{clock(elapsed)} elapsed"]
    if tally:
        parts.append(f"files {tally.get(metrics.READ_FILES, 0):,}/{files_to_read:,}")
        rate = f" ({documents / elapsed:,.1f}/s)" if elapsed > 0 else ""
        parts.append(f"documents {documents:,}{rate}")
        parts.append(f"cleaned {tally.get(metrics.stage_ok(metrics.CLEAN), 0):,}")
        parts.append(f"dated {tally.get(metrics.stage_ok(metrics.DATES), 0):,}")
        parts.append(f"copies {_copies(tally):,}")
        parts.append(f"entities {tally.get(metrics.ENTITIES_DOCUMENTS, 0):,}")
        parts.append(f"rejects {_rejected(tally):,}")
    done = fraction_done(tally, files_to_read)
    if done is not None and done >= 0.02:
        parts.append(f"{done:.0%}, ~{clock(elapsed * (1 - done) / done)} left")
    return " · ".join(parts)


class Progress:
    """`with Progress(...).watching(files_to_read):` around a pipeline run shows its progress.

    mode: "live" (redrawn line on a terminal), "log" (a log line every LOG_SECONDS), "off".
    """

    def __init__(self, mode: str, stream: TextIO = sys.stderr, log_seconds: float = LOG_SECONDS):
        self.mode = mode
        self.stream = stream
        self.log_seconds = log_seconds

    @classmethod
    def for_terminal(cls, quiet: bool, stream: TextIO | None = None, log_format: str = "plain") -> Progress:
        """Off with --quiet; live on a terminal; log lines elsewhere, and always in JSON logs."""
        stream = stream or sys.stderr
        if quiet:
            return cls("off", stream)
        return cls("live" if stream.isatty() and log_format == "plain" else "log", stream)

    def watching(self, files_to_read: int) -> _Watch:
        return _Watch(self, files_to_read)

    def say(self, message: str, stage: str | None = None, counts: dict | None = None) -> None:
        """A log line (not in --quiet mode): what a scheduler's log keeps."""
        if self.mode != "off":
            logs.event(message, stage, counts)


FOLDER_PREFIX = "newsflow-progress-"  # + the pid of the run that owns it


def remove_orphan_folders() -> None:
    """Remove the progress folders of runs that were killed (their owner's pid is gone): a kill -9
    leaves its folder in the temporary directory, and a scheduler would pile them up night after night."""
    for path in glob.glob(os.path.join(tempfile.gettempdir(), FOLDER_PREFIX + "*")):
        owner = os.path.basename(path)[len(FOLDER_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not pid_alive(int(owner)):
            shutil.rmtree(path, ignore_errors=True)


class _Watch:
    def __init__(self, progress: Progress, files_to_read: int):
        self._progress = progress
        self._files = files_to_read
        self._stop = threading.Event()
        self._folder: str | None = None
        self._previous_variable: str | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self):
        if self._progress.mode == "off":
            return self
        remove_orphan_folders()
        self._folder = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
        self._previous_variable = os.environ.get(PROGRESS_FOLDER_VARIABLE)
        os.environ[PROGRESS_FOLDER_VARIABLE] = self._folder
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._show, name="newsflow-progress-display", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        if self._previous_variable is None:
            os.environ.pop(PROGRESS_FOLDER_VARIABLE, None)
        else:
            os.environ[PROGRESS_FOLDER_VARIABLE] = self._previous_variable
        shutil.rmtree(self._folder, ignore_errors=True)

    def _show(self) -> None:
        live = self._progress.mode == "live"
        stream = self._progress.stream
        interval = LIVE_SECONDS if live else self._progress.log_seconds
        while not self._stop.wait(interval):
            tally = read_tallies(self._folder)
            line = status_line(tally, self._files, time.monotonic() - self._started)
            if live:
                width = shutil.get_terminal_size((120, 24)).columns - 1
                stream.write(f"\r\x1b[2K{line[:width]}")
                stream.flush()
            else:
                logs.event(f"progress: {line}", "pipeline", dict(tally))
        if live:
            stream.write("\r\x1b[2K")  # the summary table takes the line's place
            stream.flush()
