"""Live progress from the workers: each worker process tallies newsflow's counters and, twice a
second, writes its tally to a folder the driver reads (pipelines/progress.py).

Beam's metrics reach the driver of a local run only when the run ends, so a terminal would show
nothing for an hour. The folder is named by an environment variable that the local runner's worker
processes inherit from the driver; workers on a cluster do not have it and tally nothing (their
runner has its own monitoring).
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections import Counter

from fsspec.implementations.local import LocalFileSystem

from storage.files import is_temporary, write_atomically

PROGRESS_FOLDER_VARIABLE = "NEWSFLOW_PROGRESS_FOLDER"
FLUSH_SECONDS = 0.5

_lock = threading.Lock()
_tally: Counter[str] = Counter()
_folder: str | None = None
_changes = 0
_writer: threading.Thread | None = None


def tally(name: str, value: int = 1) -> None:
    """Add to this process's tally, when the driver asked for live progress."""
    folder = os.environ.get(PROGRESS_FOLDER_VARIABLE)
    if not folder:
        return
    global _folder, _changes
    with _lock:
        if folder != _folder:  # a new run in this process (watch mode, an in-process runner)
            _folder = folder
            _tally.clear()
        _tally[name] += value
        _changes += 1
    _start_writer()


def _start_writer() -> None:
    global _writer
    if _writer is None:
        with _lock:
            if _writer is None:
                _writer = threading.Thread(target=_write_forever, name="newsflow-progress", daemon=True)
                _writer.start()


def _write_forever() -> None:
    written = 0
    name = f"{socket.gethostname()}-{os.getpid()}.json"
    while True:
        time.sleep(FLUSH_SECONDS)
        with _lock:
            if _changes == written or _folder is None:
                continue
            written, folder, snapshot = _changes, _folder, dict(_tally)
        _write_atomically(os.path.join(folder, name), snapshot)


def _write_atomically(path: str, tally_: dict[str, int]) -> None:
    try:
        write_atomically(LocalFileSystem(), path, json.dumps(tally_).encode(), make_folder=False)
    except OSError:  # the run ended and its folder is gone: nothing to report to
        pass


def read_tallies(folder: str) -> Counter[str]:
    """The sum of every worker's latest tally in `folder`."""
    total: Counter[str] = Counter()
    try:
        names = [name for name in os.listdir(folder) if name.endswith(".json") and not is_temporary(name)]
    except OSError:
        return total
    for name in names:
        try:
            with open(os.path.join(folder, name)) as stream:
                total.update(json.load(stream))
        except (OSError, ValueError):  # being replaced right now: the next look reads it
            continue
    return total
