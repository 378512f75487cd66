"""One run at a time per dataset: a lock file OUT/_lock.json that expires when its owner died.

The lock records who holds it (run id, host, pid) and until when. A live run renews it every third of
its lifetime from a background thread; a run that was killed stops renewing, so its lock expires. On
the same host a dead owner is seen at once (its pid is gone), so a re-run after `kill -9` need not
wait.

On local disks the lock is created exclusively and whole (written under a temporary name, then linked
to `_lock.json`, which fails if it exists): no run ever reads a half-written lock. A stale lock is taken
over through a takeover record, `_lock.json.takeover-<hash of the stale lock>-<n>`, created exclusively:
of the runs that found the same stale lock, only the one that created the record removes it, and only
if the lock still is that stale one; it then creates its own lock exclusively like any run. A taker
killed in those milliseconds leaves its record behind: the next takers see its owner is gone and use
the next number. Object stores have no exclusive create, so there two runs starting within the same
instant could both win (documented in the README).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging
import os
import posixpath
import socket
import threading
import time

from fsspec.implementations.local import LocalFileSystem

from storage.files import temporary_path, write_atomically
from storage.layout import Layout

log = logging.getLogger(__name__)

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
    """Create the lock file, whole, unless it exists; whether this call created it."""
    data = json.dumps(owner).encode()
    if isinstance(fs, LocalFileSystem):
        temporary = temporary_path(path)
        with open(temporary, "wb") as stream:
            stream.write(data)
        try:
            os.link(temporary, path)  # atomic, and fails if the lock exists: never seen half-written
        except FileExistsError:
            return False
        finally:
            os.unlink(temporary)
        return True
    if fs.exists(path):
        return False
    fs.pipe_file(path, data)
    return True


def _read_bytes(fs, path: str) -> bytes | None:
    try:
        return fs.cat_file(path)
    except FileNotFoundError:
        return None


def _parse_holder(data: bytes) -> dict:
    try:
        holder = json.loads(data)
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def _read_holder(fs, path: str) -> dict | None:
    try:
        data = _read_bytes(fs, path)
    except OSError:
        return {}
    return None if data is None else _parse_holder(data)


class RunLock:
    """The held lock of one run; renews itself until released. Use as a context manager."""

    def __init__(self, output: str, run_id: str, seconds: float = DEFAULT_LOCK_SECONDS):
        layout = Layout(output)
        self._fs, root = layout.fs, layout.root
        self._path = layout.lock
        self._run_id, self._seconds = run_id, seconds
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, name="newsflow-lock", daemon=True)
        self._root = root
        self._created_output = not self._fs.exists(root)  # removed again if the run leaves it empty
        self._fs.makedirs(root, exist_ok=True)
        self._acquire(output)

    def _acquire(self, output: str) -> None:
        for _ in range(200):
            if _create_exclusive(self._fs, self._path, self._owner()):
                self._renewer.start()
                return
            current = _read_bytes(self._fs, self._path)
            if current is None:
                continue  # released in between
            holder = _parse_holder(current)
            if not is_stale(holder):
                raise OutputLocked(
                    f"another newsflow run ({holder.get('run_id')}, pid {holder.get('pid')} on {holder.get('host')}) "
                    f"has been writing to {output} since {holder.get('since')}. Wait until it ends; if it died, "
                    f"its lock ({posixpath.basename(self._path)}) expires at {holder.get('expires_at')}"
                )
            taken = self._take_over(current)
            if taken:
                log.warning("took over the lock of run %s, whose owner is gone", holder.get("run_id"))
                self._renewer.start()
                return
            if taken is None:
                time.sleep(0.01)  # another run is taking the stale lock over: see who won
        raise OutputLocked(f"could not take the lock of {output}: other runs keep taking it")

    def _owner(self) -> dict:
        return owner_record(self._run_id, self._seconds)

    def _take_over(self, stale: bytes) -> bool | None:
        """Replace the stale lock whose bytes are `stale` (see the module docstring). True: this run
        holds the lock now; False: another run took it over first; None: another run is doing so now."""
        base = f"{self._path}.takeover-{hashlib.blake2b(stale, digest_size=8).hexdigest()}"
        for number in itertools.count(1):
            record = f"{base}-{number}"
            if _create_exclusive(self._fs, record, self._owner()):
                break
            taker = _read_holder(self._fs, record)
            if taker is None:
                return False  # a taker finished and removed its record: the lock has changed
            if not is_stale(taker):
                return None
            # that taker died mid-takeover: its record stays; try the next number
        try:
            if _read_bytes(self._fs, self._path) != stale:
                return False
            self._fs.rm_file(self._path)
            return _create_exclusive(self._fs, self._path, self._owner())
        finally:
            self._fs.rm_file(record)

    def _renew(self) -> None:
        while not self._stop.wait(self._seconds / 3):
            try:
                data = json.dumps(owner_record(self._run_id, self._seconds)).encode()
                write_atomically(self._fs, self._path, data)
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
