"""Logging for the command line: the run's own lines, as plain text or one JSON object per line.

newsflow's own lines (a run starts, its progress every minute, it publishes, its summary) are INFO
records of the `newsflow` logger, with the run id and, where they have them, the stage and its counts as
record attributes. `--log-format plain` prints them as `newsflow: ...` and other records as
`time LEVEL logger: message`; `--log-format json` prints every record as one JSON object per line
(time, level, logger, message, run_id, stage, counts), what a log collector parses. `--log-level` sets
how much of newsflow's own logging is shown; libraries (Beam, fsspec) only ever show warnings and errors,
except at `debug`. Beam's start-up noise is filtered out either way.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import sys

EVENTS = logging.getLogger("newsflow")  # the lines a scheduler's log keeps
OWN_LOGGERS = ("newsflow", "pipelines", "transforms", "schemas")
LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("plain", "json")
RECORD_FIELDS = ("run_id", "stage", "counts")  # what newsflow's records may carry beyond the message

# Messages Beam logs on every local run that say nothing about the run (an optional BigQuery client
# is missing; local workers have no staging folder). Matched by their start.
_NOISE = (
    "apitools not found",
    "Worker: severity: WARN",  # worker warnings relayed by the local job service; errors still pass
)

_run_id: str | None = None  # the run in progress: every record logged meanwhile names it


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_NOISE)


class _NameTheRun(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "run_id", None) is None:
            record.run_id = _run_id
        return True


class PlainFormatter(logging.Formatter):
    """`newsflow: message` for newsflow's own lines, `time LEVEL logger: message` for the rest."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if record.name == EVENTS.name:
            return f"newsflow: {record.getMessage()}"
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update((name, getattr(record, name)) for name in RECORD_FIELDS if getattr(record, name, None) is not None)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def mute_beam_noise() -> None:
    """Install the filters; call before Beam is imported (its import logs the first message)."""
    logging.getLogger().addFilter(_DropNoise())
    logging.getLogger("apache_beam.runners.portability.local_job_service").addFilter(_DropNoise())


def configure(level: str = "info", fmt: str = "plain", stream=None) -> None:
    """Send all logging to stderr (or `stream`) in the given format; see the module docstring."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else PlainFormatter())
    handler.addFilter(_DropNoise())
    handler.addFilter(_NameTheRun())
    number = logging.getLevelName(level.upper())
    root = logging.getLogger()
    root.handlers = [handler]  # Beam's import may already have installed a default handler
    root.setLevel(number if number == logging.DEBUG else max(number, logging.WARNING))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(number)


def set_run(run_id: str | None) -> None:
    """Name the run every record logged from now on belongs to (None: no run)."""
    global _run_id
    _run_id = run_id


def event(message: str, stage: str | None = None, counts: dict | None = None, run_id: str | None = None) -> None:
    """One of newsflow's own lines (INFO): a run's start, progress, publication, summary."""
    EVENTS.info(message, extra={"stage": stage, "counts": counts, "run_id": run_id})
