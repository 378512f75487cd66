"""What a run has to read: the inputs' files minus those the manifest says are ingested and unchanged.

The driver lists the inputs (one listing call per input, like any file-based source) and compares each
file's size and version (ETag, generation or modification time) with the manifest OUT/_state/manifest,
written by earlier runs. Only new or changed files are handed to the pipeline; a re-run on an unchanged
dump reads nothing. `--reprocess` hands chosen files in again (see `reprocess_selection`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.check import verify_output
from schemas.tables import ARTICLES
from storage.layout import Layout
from storage.state import IndexReader, read_manifest
from storage.visible import open_table
from transforms.index import source_file
from transforms.read import InputFile, list_input

log = logging.getLogger(__name__)


class NoInput(RuntimeError):
    """The inputs hold no file at all (`vanished` False), or none of them could be listed (True): a run
    would read nothing."""

    def __init__(self, message: str, vanished: bool):
        super().__init__(message)
        self.vanished = vanished


@dataclasses.dataclass(frozen=True)
class Plan:
    files: tuple[InputFile, ...]  # to read in this run
    unlisted: tuple[str, ...]  # inputs that could not be listed: the pipeline rejects them with a reason
    unchanged: int  # files skipped: in the manifest with the same size and version
    reprocessed: tuple[str, ...] = ()  # URIs of files ingested before and read again on request
    indexed: bool = True  # the output has an index of earlier runs' documents (False: a first run)
    changed: tuple[str, ...] = ()  # URIs of files ingested before whose size or version changed since

    @property
    def nothing_to_do(self) -> bool:
        return not self.files and not self.unlisted

    @property
    def no_input(self) -> bool:
        """The inputs hold no file at all (an empty folder), or none could be listed (they vanished)."""
        return not self.files and not self.unchanged

    @property
    def new(self) -> tuple[str, ...]:
        """URIs of the files no earlier run read."""
        seen = {*self.changed, *self.reprocessed}
        return tuple(file.uri for file in self.files if file.uri not in seen)


def check_input(plan: Plan, inputs: tuple[str, ...]) -> None:
    """Raise NoInput when a run of `plan` would read nothing because there is nothing there."""
    if not plan.no_input:
        return
    if plan.unlisted:
        raise NoInput(f"no input could be listed ({', '.join(plan.unlisted)}): it vanished, or the store refused",
                      vanished=True)
    raise NoInput(f"the inputs hold no file ({', '.join(inputs)})", vanished=False)


def list_inputs(inputs: tuple[str, ...], exclude: str) -> tuple[list[InputFile], list[str]]:
    """(files of all inputs, each once; inputs that could not be listed)."""
    files: dict[str, InputFile] = {}
    unlisted = []
    for pattern in inputs:
        try:
            listed = list_input(pattern, exclude)
        except Exception as error:  # noqa: BLE001 - the pipeline lists it again and rejects it with the reason
            log.debug("input %s could not be listed: %s", pattern, error)
            unlisted.append(pattern)
            continue
        files.update((file.uri, file) for file in listed)
    return sorted(files.values(), key=lambda file: file.uri), unlisted


def latest_versions(manifest: pa.Table) -> dict[str, tuple]:
    """{uri: (size, version, pipeline_version)} of each file's latest manifest row."""
    if not manifest.num_rows:
        return {}
    columns = [manifest.column(name).to_pylist() for name in ("uri", "size", "version", "pipeline_version")]
    return {uri: (size, version, pipeline) for uri, size, version, pipeline in zip(*columns)}


@dataclasses.dataclass(frozen=True)
class Reprocess:
    """Which ingested files to read again: all, those of an older pipeline version, or those whose
    articles are dated within [start, end]."""

    everything: bool = False
    older_versions: bool = False
    start: dt.date | None = None
    end: dt.date | None = None


def parse_reprocess(value: str) -> Reprocess:
    """'all' | 'older' | 'YYYY-MM-DD..YYYY-MM-DD' (either end may be left out) -> Reprocess."""
    if value == "all":
        return Reprocess(everything=True)
    if value == "older":
        return Reprocess(older_versions=True)
    first, sep, last = value.partition("..")
    if sep:
        try:
            return Reprocess(start=dt.date.fromisoformat(first) if first else None,
                             end=dt.date.fromisoformat(last) if last else None)
        except ValueError:
            pass
    raise ValueError(f"{value!r}: write all, older, or a date range START..END (YYYY-MM-DD, either may be empty)")


def files_with_articles_between(output: str, start: dt.date | None, end: dt.date | None) -> set[str]:
    """Input files (container files for their entries) whose articles are dated within [start, end]."""
    layout = Layout(output)
    if not layout.fs.exists(layout.path(ARTICLES)):
        return set()
    dates = pc.field("published_date")
    condition = dates.is_valid()
    if start:
        condition &= dates >= pa.scalar(start)
    if end:
        condition &= dates <= pa.scalar(end)
    uris = open_table(output, ARTICLES).to_table(columns=["source_uri"], filter=condition).column("source_uri")
    return {source_file(uri) for uri in uris.to_pylist()}


def reprocess_selection(
    request: Reprocess, known: dict[str, tuple], output: str, version: str
) -> set[str]:
    """The URIs of ingested files that a --reprocess request reads again."""
    if request.everything:
        return set(known)
    if request.older_versions:
        return {uri for uri, (_, _, pipeline) in known.items() if pipeline != version}
    return files_with_articles_between(output, request.start, request.end) & set(known)


def plan_run(inputs: tuple[str, ...], output: str, version: str, reprocess: Reprocess | None = None) -> Plan:
    """The plan of a run into `output`; DamagedOutput (pipelines/check.py) when its state cannot be used."""
    verify_output(output)
    listed, unlisted = list_inputs(inputs, exclude=output)
    known = latest_versions(read_manifest(Layout(output)))
    again = reprocess_selection(reprocess, known, output, version) if reprocess else set()
    todo, unchanged, reprocessed, changed = [], 0, [], []
    for file in listed:
        seen = known.get(file.uri)
        if file.uri in again:
            reprocessed.append(file.uri)
            todo.append(file)
        elif seen is not None and seen[:2] == (file.size, file.version):
            unchanged += 1
        else:
            if seen is not None:
                changed.append(file.uri)
            todo.append(file)
    return Plan(tuple(todo), tuple(unlisted), unchanged, tuple(reprocessed), IndexReader(output).exists(), tuple(changed))
