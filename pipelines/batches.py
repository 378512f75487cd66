"""A run larger than the memory budget goes through its plan in batches, each one an incremental run.

The local runner keeps every stage's output in memory until the next stage reads it, so its peak grows
with the input: about BYTES_PER_INPUT_BYTE times the bytes read, over the processes' fixed
BASE_BYTES (the spaCy model and Beam in the driver and each worker). A plan whose estimate exceeds the
budget is cut into batches whose estimate fits; each batch is planned, run, checked and published as a
run of its own, so the templates and the index carry over from one batch to the next exactly as they do
from one night to the next, and a kill loses at most the batch that was running (a re-run's plan skips
the files the published batches read).

A batch holds whole folders where it can: a source's pages together learn its templates as one run
does. Files are taken in the plan's order (sorted by URI). Cluster runners (Dataflow, Flink, Spark)
shuffle on disk: there a run is one batch unless a budget is given.
"""
from __future__ import annotations

import dataclasses
import os
import posixpath
import re

from pipelines.plan import Plan
from transforms.read import InputFile

# Measured with benchmarks/batching.py on generated pages (make_scale_corpus.py): the process tree's
# peak over its fixed cost, per byte of input read, and that fixed cost (driver and two workers with the
# model loaded). See benchmarks/README.md.
BYTES_PER_INPUT_BYTE = 4.0
BASE_BYTES = 1024**3
# Compressed inputs hold more than their size: a gzip'd page or WARC is about 4x smaller than its text.
COMPRESSED_EXPANSION = 4.0
_COMPRESSED = re.compile(r"\.(?:gz|bz2|xz|zst|zip|tgz|warc\.gz)$", re.IGNORECASE)
# The default budget: a quarter of the machine's memory, at most 3 GiB (room for the user's other work
# and for the page cache the run reads through).
DEFAULT_RAM_SHARE = 0.25
DEFAULT_BUDGET_CAP = 3 * 1024**3
MIN_BATCH_INPUT_BYTES = 16 * 1024  # a batch reads at least this much (and at least one file), whatever the budget
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(value: str) -> int:
    """'3G', '500MB', '2.5GiB', '1000000' -> bytes."""
    match = _SIZE.match(value)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{value!r}: write a size such as 3G, 500M or 2.5GB")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def machine_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        return None


def default_budget() -> int:
    memory = machine_memory()
    return min(DEFAULT_BUDGET_CAP, int(memory * DEFAULT_RAM_SHARE)) if memory else DEFAULT_BUDGET_CAP


def input_bytes(file: InputFile) -> float:
    """What a file weighs in memory once read: its size, times the expansion of a compressed file."""
    size = file.size or 0
    return size * COMPRESSED_EXPANSION if _COMPRESSED.search(file.uri) else float(size)


def estimated_peak(files: list[InputFile] | tuple[InputFile, ...]) -> float:
    return BASE_BYTES + BYTES_PER_INPUT_BYTE * sum(input_bytes(file) for file in files)


def batch_input_limit(budget: int) -> float:
    """The input bytes one batch may read for its estimated peak to stay within `budget`."""
    return max(MIN_BATCH_INPUT_BYTES, (budget - BASE_BYTES) / BYTES_PER_INPUT_BYTE)


def _folders(files: tuple[InputFile, ...]) -> list[list[InputFile]]:
    """The files grouped by folder, in order (the plan's files are sorted by URI: a folder is contiguous)."""
    groups: list[list[InputFile]] = []
    for file in files:
        folder = posixpath.dirname(file.uri)
        if groups and posixpath.dirname(groups[-1][0].uri) == folder:
            groups[-1].append(file)
        else:
            groups.append([file])
    return groups


def batch_files(files: tuple[InputFile, ...], limit: float) -> list[list[InputFile]]:
    """The files cut into batches of at most `limit` input bytes, whole folders together where a folder
    fits; a folder larger than `limit` is split on its own."""
    batches: list[list[InputFile]] = []
    current: list[InputFile] = []
    weight = 0.0
    for folder in _folders(files):
        folder_weight = sum(input_bytes(file) for file in folder)
        if current and weight + folder_weight > limit:
            batches.append(current)
            current, weight = [], 0.0
        for file in folder:
            size = input_bytes(file)
            if current and weight + size > limit:
                batches.append(current)
                current, weight = [], 0.0
            current.append(file)
            weight += size
    if current:
        batches.append(current)
    return batches


def split_plan(plan: Plan, budget: int | None) -> list[Plan]:
    """The plan as batches whose estimated peak fits `budget` (None: no budget, one batch). The first
    batch also carries the inputs that could not be listed and the count of unchanged files."""
    if budget is None or estimated_peak(plan.files) <= budget:
        return [plan]
    batches = batch_files(plan.files, batch_input_limit(budget))
    plans = []
    for number, files in enumerate(batches):
        uris = {file.uri for file in files}
        plans.append(dataclasses.replace(
            plan,
            files=tuple(files),
            unlisted=plan.unlisted if number == 0 else (),
            unchanged=plan.unchanged if number == 0 else 0,
            reprocessed=tuple(uri for uri in plan.reprocessed if uri in uris),
            changed=tuple(uri for uri in plan.changed if uri in uris),
        ))
    return plans
