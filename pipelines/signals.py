"""Stopping on SIGTERM and SIGINT: what systemd, Kubernetes, Airflow and Ctrl-C send.

A stop signal raises `Stopped` in the main thread, wherever it is: a run's own error handling then
discards its staged files (nothing is published) and releases the output's lock, and the command exits
with 128 + the signal's number (143 for SIGTERM, 130 for SIGINT), as a shell reports a killed process.
Publishing is the exception: once a run has started to move its files into the tables, a signal waits
until they are all moved (`deferred`), so a stop never leaves a half-published run (a `kill -9` can; the
next run then completes it from the journal).
"""
from __future__ import annotations

import contextlib
import signal
import threading

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(BaseException):
    """A stop signal arrived. A BaseException, like KeyboardInterrupt: no `except Exception` swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + signum


_deferring = 0  # depth of `deferred()` blocks in progress
_pending: int | None = None  # a signal that arrived during one


def _stop(signum: int, _frame) -> None:
    global _pending
    if _deferring:
        _pending = signum
        return
    raise Stopped(signum)


def stop_on_signals() -> None:
    """Make SIGTERM and SIGINT raise `Stopped` (call from the main thread, before a run starts)."""
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            signal.signal(signum, _stop)


@contextlib.contextmanager
def deferred():
    """A block a stop signal does not interrupt: the signal takes effect when the block ends."""
    global _deferring, _pending
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending is not None:
            signum, _pending = _pending, None
            raise Stopped(signum)
