"""Publish a checked run into the dataset, all or nothing (driver side).

A run writes only into OUT/_staging/<run_id>/, which no reader of the tables looks at. Once the
pipeline has finished, the driver takes the files its write steps listed (transforms/write.py: not
every file in the folder, some may be a failed bundle's), checks them (pipelines/invariant.py), then
publishes in three steps:

1. the journal OUT/_runs/<run_id>.pending.json lists every file to move (written atomically);
2. the staged files are renamed into the tables (and superseded state files removed);
3. the run summary OUT/_runs/<run_id>.json is written last: it is the commit record.

A run killed before step 1 published nothing: the next run removes its staging folder. A run killed
after step 1 is completed by the next run (`recover`), which replays the journal: every step can be
replayed, so a crash during recovery is recovered the same way. A failed run publishes nothing.

A journal is read back from OUT, where anyone with write access could have changed it: before anything
is done with it, its run id must be a run id and every path in it must stay inside the dataset's own
folders (`check_journal`). A journal that fails (or cannot be parsed) is damage (`DamagedOutput`): runs
refuse the output and `newsflow check OUT --repair` moves it aside; it is never replayed.

What readers see of this is in storage/visible.py.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath

from schemas.tables import (
    DATE_PARTITIONED,
    ENTITIES,
    INDEX_FOLDER,
    INDEX_TABLES,
    MANIFEST,
    NULL_PARTITION,
    STATE_FOLDER,
    TABLES,
    TEMPLATES,
)
from storage.files import is_temporary, read_json, write_json, write_rows
from storage.layout import (
    FILE_LIST,
    JOURNAL_SUFFIX,
    REPLACED_FOLDER,
    Layout,
    is_run_id,
    part_file_name,
    published_report,
)

log = logging.getLogger(__name__)

# Tests stop a publication at a chosen step, as `kill -9` would: "journal", "move:N", "record"; or make
# it fail there, as a full disk would: "fail:move:N".
CRASH_POINT_VARIABLE = "NEWSFLOW_TEST_CRASH_AT"

# Where a journal may move files to (its run's report aside), remove files from (what --reprocess
# replaces), and replace every file of (the state a run rewrites whole). Nothing else in OUT (the lock,
# the run records), nothing outside it.
MOVE_FOLDERS = (*TABLES, ENTITIES, INDEX_FOLDER, STATE_FOLDER)
REPLACEABLE_FOLDERS = (*TABLES, ENTITIES, INDEX_FOLDER, MANIFEST)
WHOLE_STATE_FOLDERS = (TEMPLATES,)
# What a run's write steps may list: the tables, the index, and the state.
STAGED_TABLES = (*TABLES, ENTITIES, *INDEX_TABLES, MANIFEST, TEMPLATES)


class DamagedOutput(RuntimeError):
    """A file of the output that a run cannot use as it is (unreadable, or naming paths outside OUT):
    runs refuse the output until `newsflow check OUT --repair` has moved it aside."""

    def __init__(self, path: str, why: str):
        super().__init__(f"{path}: {why}")
        self.path, self.why = path, why


def is_inside(relative, folders: tuple[str, ...] | None) -> bool:
    """Whether a path read from state is a plain relative path (into one of `folders`, unless None): no
    '..', no '.', no absolute path, no URL, nothing that normalises to anything else."""
    if not isinstance(relative, str) or not relative or "\\" in relative or "\0" in relative:
        return False
    if relative.startswith(("/", "../")) or relative == ".." or "://" in relative:
        return False
    if posixpath.normpath(relative) != relative:  # "a/../b", "./a", "a//b"
        return False
    return folders is None or any(relative == folder or relative.startswith(folder + "/") for folder in folders)


# --- what a run staged ---------------------------------------------------------------------------------


def write_file_list(layout: Layout, paths: list[str]) -> None:
    """Record the files a run wrote (paths relative to its staging folder): the ones to publish."""
    write_json(layout.fs, layout.staged(FILE_LIST), sorted(paths), indent=0)


def read_file_list(layout: Layout) -> list[str]:
    """The files a run's successful bundles wrote; none when the list was not written."""
    return read_json(layout.fs, layout.staged(FILE_LIST), [])


def staged_files(layout: Layout) -> dict[str, list[str]]:
    """The run's Parquet files by table (state included), as paths relative to the staging folder: those
    in the list its successful write steps recorded (transforms/write.py). Other files there (of a
    failed bundle) are not the run's output."""
    files: dict[str, list[str]] = {table: [] for table in STAGED_TABLES}
    for relative in sorted(read_file_list(layout)):
        for table, paths in files.items():
            if relative.startswith(table + "/"):
                paths.append(relative)
    return files


# --- publishing ----------------------------------------------------------------------------------------


def publish(
    layout: Layout, files: dict[str, list[str]], summary: dict,
    replaced: tuple[str, ...] = (), deleted: tuple[str, ...] = (), report: str | None = None,
) -> None:
    """Publish a checked run (`layout` names it): write its journal, then replay it (see the module
    docstring).

    `report`: the staged HTML report (a path relative to the staging folder), published as
    _runs/<run_id>.html with the tables.

    `replaced` published files have a staged copy under _replaced/ that takes their place, under a name
    of this run (so that readers see it only once the run is committed); they and the `deleted` ones are
    removed after the commit record (--reprocess, pipelines/retract.py).

    State files (`files[TEMPLATES]`) replace the other files of their folder: each run writes the whole
    merged state. They move after the commit record; a crash in between leaves old and new state side
    by side until the replay, which the readers of the state merge idempotently anyway.
    """
    run_id = layout.run_id
    fs = layout.fs
    for table, paths in files.items():
        if not paths and table in (*TABLES, ENTITIES) and not fs.exists(layout.path(table)):
            # An empty file keeps every table readable (and its schema visible) after any run.
            partition = f"year={NULL_PARTITION}/month={NULL_PARTITION}" if table in DATE_PARTITIONED else ""
            relative = posixpath.join(table, partition, part_file_name(run_id, "empty"))
            write_rows(fs, layout.staged(relative), table, [])
            paths.append(relative)
    journal = {
        "run_id": run_id,
        "moves": [[relative, relative] for table, paths in files.items() if table != TEMPLATES for relative in paths]
        + [[posixpath.join(REPLACED_FOLDER, relative), replacement_path(relative, run_id)] for relative in replaced]
        + ([[report, layout.report()]] if report else []),
        "deletes": [*replaced, *deleted],
        "state": list(files.get(TEMPLATES, ())),
        "summary": summary,
    }
    write_json(fs, layout.journal(), journal)
    _crash_point("journal")
    replay(layout, journal)


def replacement_path(relative: str, run_id: str) -> str:
    """Where the copy of a published file that a run rewrote goes: beside it, named after the run."""
    tag = "r" + hashlib.blake2b(relative.encode(), digest_size=8).hexdigest()
    return posixpath.join(posixpath.dirname(relative), part_file_name(run_id, tag))


def check_journal(journal, path: str) -> dict:
    """The journal read from `path`, once it is known to be safe to replay; else DamagedOutput."""
    if not isinstance(journal, dict):
        raise DamagedOutput(path, "the journal is not a JSON object")
    run_id = journal.get("run_id")
    if not is_run_id(run_id) or posixpath.basename(path) != run_id + JOURNAL_SUFFIX:
        raise DamagedOutput(path, f"the journal's run id {run_id!r} is not the run id of its name")
    moves, deletes, state = journal.get("moves"), journal.setdefault("deletes", []), journal.get("state")
    if not isinstance(journal.get("summary"), dict):
        raise DamagedOutput(path, "the journal has no run summary")
    if not isinstance(moves, list) or not all(isinstance(move, list) and len(move) == 2 for move in moves):
        raise DamagedOutput(path, "the journal's moves are not pairs of paths")
    if not isinstance(deletes, list) or not isinstance(state, list):
        raise DamagedOutput(path, "the journal's deletes or state are not lists")
    allowed = [(target, MOVE_FOLDERS) for _, target in moves if target != published_report(run_id)]
    allowed += [(relative, REPLACEABLE_FOLDERS) for relative in deletes]
    allowed += [(relative, WHOLE_STATE_FOLDERS) for relative in state]
    for relative, folders in allowed:
        if not is_inside(relative, folders):
            raise DamagedOutput(path, f"the journal names {relative!r}, which is not inside the dataset's folders "
                                      f"it may change ({', '.join(folders)})")
    for staged, _ in moves:  # relative to the run's staging folder
        if not is_inside(staged, folders=None):
            raise DamagedOutput(path, f"the journal moves {staged!r}, which is not inside its staging folder")
    return journal


def read_journal(fs, path: str) -> dict:
    """A pending journal, checked (`check_journal`); DamagedOutput when it is empty, garbled or unsafe."""
    try:
        with fs.open(path, "r") as stream:
            journal = json.load(stream)
    except (ValueError, UnicodeDecodeError) as error:
        raise DamagedOutput(path, f"the journal cannot be read ({type(error).__name__}: {error})") from None
    return check_journal(journal, path)


def pending_journals(layout: Layout) -> list[str]:
    fs, runs = layout.fs, layout.runs_folder
    return sorted(fs.glob(posixpath.join(runs, "*" + JOURNAL_SUFFIX))) if fs.exists(runs) else []


def publishing_started(layout: Layout) -> bool:
    """Whether a run's journal is written: from then on its publication must be completed, not undone."""
    return layout.fs.exists(layout.journal())


def _crash_point(step: str) -> None:
    chosen = os.environ.get(CRASH_POINT_VARIABLE)
    if chosen == step:
        os._exit(137)  # as if killed: no cleanup, no exception handler
    if chosen == f"fail:{step}":
        raise OSError(f"publishing failed at step {step} (test)")


def replay(layout: Layout, journal: dict) -> None:
    """Carry out a journal (checked: `read_journal`): move what is still staged, write the commit record,
    remove what the run replaced, replace the state. Each step is skipped when an earlier, interrupted
    replay already did it."""
    run = layout.for_run(journal["run_id"])
    fs = run.fs
    for number, (staged, relative) in enumerate(journal["moves"], 1):
        source, target = run.staged(staged), run.path(relative)
        if fs.exists(source):
            fs.makedirs(posixpath.dirname(target), exist_ok=True)
            fs.mv(source, target)
        _crash_point(f"move:{number}")
    if not fs.exists(run.record()):
        write_json(fs, run.record(), journal["summary"])
    _crash_point("record")
    # After the record: until then, readers see the replaced files, not the run's copies of them.
    for relative in journal.get("deletes", ()):
        if fs.exists(run.path(relative)):
            fs.rm(run.path(relative))
    targets = {run.path(relative) for relative in journal["state"]}
    for relative in journal["state"]:
        source, target = run.staged(relative), run.path(relative)
        if fs.exists(source):
            fs.makedirs(posixpath.dirname(target), exist_ok=True)
            fs.mv(source, target)
    for folder in sorted({posixpath.dirname(target) for target in targets}):
        for path in fs.glob(posixpath.join(folder, "*")):
            if path not in targets:
                fs.rm(path)
    fs.rm(run.journal())
    discard(run)


def recover(layout: Layout) -> list[str]:
    """Finish what killed runs left (call it holding the lock): replay every pending journal, remove the
    staging folders of runs that died before publishing. Returns what was done, for the log. A damaged
    journal raises DamagedOutput before anything is done."""
    fs = layout.fs
    done = []
    journals = [read_journal(fs, path) for path in pending_journals(layout)]  # all checked first
    for journal in journals:
        replay(layout, journal)
        done.append(f"completed the publication of run {journal['run_id']}, which was interrupted")
    runs = layout.runs_folder
    for path in fs.ls(runs, detail=False) if fs.exists(runs) else []:
        if is_temporary(path):
            fs.rm(path)  # a journal or record whose writing was interrupted: its run published nothing
    for path in sorted(fs.ls(layout.staging_folders, detail=False)) if fs.exists(layout.staging_folders) else []:
        run_id = posixpath.basename(path.rstrip("/"))
        discard(layout.for_run(run_id))
        done.append(f"removed the staged files of run {run_id}, which stopped before publishing")
    for line in done:
        log.warning("%s", line)
    return done


def discard(layout: Layout) -> None:
    """Remove a run's staging folder, and the _staging folder itself once no run is using it."""
    fs, root = layout.fs, layout.staging_root
    if fs.exists(root):
        fs.rm(root, recursive=True)
    parent = layout.staging_folders
    if fs.exists(parent) and not fs.ls(parent):
        fs.rmdir(parent)
