"""One run at a time per dataset: a lock file OUT/_lock.json that expires when its owner died.

The lock records who holds it (run id, host, pid) and until when. A live run renews it every third of
its lifetime from a background thread; a run that was killed stops renewing, so its lock expires. On
the same host a dead owner is seen at once (its pid is gone), so a re-run after `kill -9` need not
wait. The file is created exclusively on local disks; object stores have no exclusive create, so there
two runs starting within the same instant could both win (documented in the README).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import posixpath
import socket
import threading

from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

log = logging.getLogger(__name__)

LOCK_FILE = "_lock.json"
DEFAULT_LOCK_SECONDS = 300  # how long a lock outlives its owner's last sign of life


class OutputLocked(RuntimeError):
    """Another live run is writing to the same output."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def owner_record(run_id: str, seconds: float) -> dict:
    now = _now()
    return {
        "run_id": run_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": now.isoformat(),
        "expires_at": (now + dt.timedelta(seconds=seconds)).isoformat(),
    }


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def is_stale(holder: dict, now: dt.datetime | None = None) -> bool:
    """Whether a lock's owner is gone: the lock expired, or its process on this host no longer exists."""
    try:
        if dt.datetime.fromisoformat(holder["expires_at"]) < (now or _now()):
            return True
        return holder["host"] == socket.gethostname() and not pid_alive(int(holder["pid"]))
    except (KeyError, TypeError, ValueError):
        return True  # an unreadable lock (a run killed while writing it) protects nothing


def _create_exclusive(fs, path: str, owner: dict) -> bool:
    """Create the lock file unless it exists; whether this call created it."""
    data = json.dumps(owner).encode()
    if isinstance(fs, LocalFileSystem):
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        return True
    if fs.exists(path):
        return False
    fs.pipe_file(path, data)
    return True


def _read_holder(fs, path: str) -> dict | None:
    try:
        return json.loads(fs.cat_file(path))
    except FileNotFoundError:
        return None
    except (ValueError, OSError):
        return {}


class RunLock:
    """The held lock of one run; renews itself until released. Use as a context manager."""

    def __init__(self, output: str, run_id: str, seconds: float = DEFAULT_LOCK_SECONDS):
        self._fs, root = url_to_fs(output)
        self._path = posixpath.join(root, LOCK_FILE)
        self._run_id, self._seconds = run_id, seconds
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, name="newsflow-lock", daemon=True)
        self._root = root
        self._created_output = not self._fs.exists(root)  # removed again if the run leaves it empty
        self._fs.makedirs(root, exist_ok=True)
        self._acquire(output)

    def _acquire(self, output: str) -> None:
        for _ in range(3):
            if _create_exclusive(self._fs, self._path, owner_record(self._run_id, self._seconds)):
                self._renewer.start()
                return
            holder = _read_holder(self._fs, self._path)
            if holder is None:
                continue  # released in between
            if not is_stale(holder):
                raise OutputLocked(
                    f"another newsflow run ({holder.get('run_id')}, pid {holder.get('pid')} on {holder.get('host')}) "
                    f"has been writing to {output} since {holder.get('since')}. Wait until it ends; if it died, "
                    f"its lock ({posixpath.basename(self._path)}) expires at {holder.get('expires_at')}"
                )
            log.warning("taking over the lock of run %s, whose owner is gone", holder.get("run_id"))
            self._fs.rm_file(self._path)
        raise OutputLocked(f"could not take the lock of {output}: other runs keep taking it")

    def _renew(self) -> None:
        while not self._stop.wait(self._seconds / 3):
            try:
                data = json.dumps(owner_record(self._run_id, self._seconds)).encode()
                temporary = f"{self._path}.{self._run_id}.tmp"
                self._fs.pipe_file(temporary, data)
                self._fs.mv(temporary, self._path)
            except Exception:
                log.warning("could not renew the lock %s", self._path, exc_info=True)

    def release(self) -> None:
        self._stop.set()
        if self._renewer.is_alive():
            self._renewer.join()
        holder = _read_holder(self._fs, self._path)
        if holder and holder.get("run_id") == self._run_id:
            self._fs.rm_file(self._path)
        if self._created_output and self._fs.exists(self._root) and not self._fs.ls(self._root):
            self._fs.rmdir(self._root)  # a run that wrote nothing (no input) leaves no empty dataset behind

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.release()
