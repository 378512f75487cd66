"""Logging for the command line: the run's own messages, without Beam's start-up noise."""
from __future__ import annotations

import logging

# Messages Beam logs on every local run that say nothing about the run (an optional BigQuery client
# is missing; local workers have no staging folder). Matched by their start.
_NOISE = (
    "apitools not found",
    "Worker: severity: WARN",  # worker warnings relayed by the local job service; errors still pass
)


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_NOISE)


def mute_beam_noise() -> None:
    """Install the filters; call before Beam is imported (its import logs the first message)."""
    logging.getLogger().addFilter(_DropNoise())
    logging.getLogger("apache_beam.runners.portability.local_job_service").addFilter(_DropNoise())


def configure(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.ERROR if quiet else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,  # Beam's import may already have installed a default handler
    )
