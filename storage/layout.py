"""Every name in the output folder, defined once, and `Layout`, which turns them into paths.

    OUT/
      articles/ duplicates/ rejects/ entities/   the tables (schemas/tables.py names them)
      _index/{documents,keys,articles}/          the cross-run index
      _state/{manifest,templates}/               what the next runs need: files read, template statistics
      _runs/<run_id>.json                        a run's commit record (its summary)
      _runs/<run_id>.pending.json                a run's journal while it is being published
      _runs/<run_id>.html                        a run's report
      _staging/<run_id>/                         where a run writes before it is published
      _quarantine/<timestamp>/                   what `newsflow check --repair` moved aside
      _lock.json                                 who is writing into OUT

Names that start with "_" or "." are not part of any table: pyarrow, Spark and DuckDB skip them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import posixpath
import re
import secrets

from fsspec.core import url_to_fs

RUNS_FOLDER = "_runs"
STAGING_FOLDER = "_staging"
QUARANTINE_FOLDER = "_quarantine"
LOCK_FILE = "_lock.json"
JOURNAL_SUFFIX = ".pending.json"
RECORD_SUFFIX = ".json"
REPORT_SUFFIX = ".html"
# In a run's staging folder, never published as they are:
FILE_LIST = "_files.json"  # the files the run's successful bundles wrote: the ones to publish
REPLACED_FOLDER = "_replaced"  # rewritten copies of published files (--reprocess)
STAGED_REPORT = "_report/report.html"  # published as _runs/<run_id>.html
STAGED_SAMPLES = "_report/samples.json"  # the report's sample pages
QUARANTINE_REPORT = "report.txt"  # in a quarantine folder: what was moved aside and why


# A run id: its start time (so ids sort by time) and a random suffix, "20261207T142407Z-6a1eec". Every
# data file carries its run's id in its name, part-<run_id>-<tag>.parquet: that is how readers tell
# committed files from the rest.
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
_PART_FILE = re.compile(rf"part-({RUN_ID.pattern})-[^/]*\.parquet")


def new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def is_run_id(value) -> bool:
    return isinstance(value, str) and RUN_ID.fullmatch(value) is not None


def part_file_name(run_id: str, tag: object) -> str:
    """A data file's name: the run, then what tells it apart (its content's hash)."""
    return f"part-{run_id}-{tag}.parquet"


def run_of_file(path: str) -> str | None:
    """The run id in a data file's name (part-<run_id>-<tag>.parquet), or None."""
    match = _PART_FILE.fullmatch(posixpath.basename(path))
    return match.group(1) if match else None


def published_report(run_id: str) -> str:
    """Where a run's report is published, relative to OUT."""
    return posixpath.join(RUNS_FOLDER, run_id + REPORT_SUFFIX)


def filesystem(uri: str):
    """(fsspec filesystem, path in it) of a local path or any fsspec URL: the one place that resolves one."""
    return url_to_fs(uri)


@dataclasses.dataclass(frozen=True)
class Layout:
    """The paths of one output folder (and of one run's files in it, when `run_id` is given).

    Paths are in the folder's filesystem (`fs`): `path(...)` under OUT, `staged(...)` under the run's
    staging folder. It pickles as the two strings, so DoFns can carry it to workers.
    """

    output: str
    run_id: str | None = None

    @functools.cached_property
    def _resolved(self):
        return filesystem(self.output)

    def __getstate__(self):
        return {"output": self.output, "run_id": self.run_id}

    def __setstate__(self, state):
        object.__setattr__(self, "output", state["output"])
        object.__setattr__(self, "run_id", state["run_id"])

    @property
    def fs(self):
        return self._resolved[0]

    @property
    def root(self) -> str:
        """OUT as a path in `fs`."""
        return self._resolved[1].rstrip("/") or "/"

    @property
    def uri(self) -> str:
        """OUT as the user wrote it (a path or a URL), without a trailing slash."""
        return self.output.rstrip("/")

    def path(self, *relative: str) -> str:
        return posixpath.join(self.root, *relative)

    def relative(self, path: str) -> str:
        return posixpath.relpath(path, self.root)

    def for_run(self, run_id: str) -> Layout:
        return Layout(self.output, run_id)

    # --- a run's staging folder ---------------------------------------------------------------------
    @property
    def staging_uri(self) -> str:
        """Where the run writes before it is published (a URI, for the workers)."""
        return posixpath.join(self.uri, STAGING_FOLDER, self._run())

    @property
    def staging_root(self) -> str:
        return self.path(STAGING_FOLDER, self._run())

    def staged(self, *relative: str) -> str:
        return posixpath.join(self.staging_root, *relative)

    @property
    def staging_folders(self) -> str:
        """The folder that holds every run's staging folder."""
        return self.path(STAGING_FOLDER)

    # --- runs: journals, commit records, reports ----------------------------------------------------
    @property
    def runs_folder(self) -> str:
        return self.path(RUNS_FOLDER)

    def journal(self, run_id: str | None = None) -> str:
        return self.path(RUNS_FOLDER, self._run(run_id) + JOURNAL_SUFFIX)

    def record(self, run_id: str | None = None) -> str:
        return self.path(RUNS_FOLDER, self._run(run_id) + RECORD_SUFFIX)

    def report(self, run_id: str | None = None) -> str:
        """Where a run's report is published, relative to OUT."""
        return published_report(self._run(run_id))

    def report_uri(self, run_id: str | None = None) -> str:
        return posixpath.join(self.uri, self.report(run_id))

    # --- the rest of OUT ------------------------------------------------------------------------------
    @property
    def lock(self) -> str:
        return self.path(LOCK_FILE)

    def quarantine(self, name: str) -> str:
        return self.path(QUARANTINE_FOLDER, name)

    def quarantine_uri(self, name: str) -> str:
        return posixpath.join(self.uri, QUARANTINE_FOLDER, name)

    def _run(self, run_id: str | None = None) -> str:
        run_id = run_id or self.run_id
        if not run_id:
            raise ValueError("this layout names no run")
        return run_id
