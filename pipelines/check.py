"""`newsflow check OUT [--repair]`: verify a dataset's tables, index, manifest and journals against each
other; with --repair, move what cannot be read aside and rebuild the index and the manifest from the tables.

What is verified:
- every pending journal (`_runs/<run_id>.pending.json`) parses and names only paths inside the dataset
  (storage/publication.py `check_journal`); every run record (`_runs/<run_id>.json`) parses;
- every file of the tables, the index and the state is Parquet with its table's columns, and was written
  by a run (named part-<run_id>-...): a file dropped in by hand is damage;
- every data file's run committed (or is being published: its journal is pending);
- the index holds exactly the documents of the tables, the kept articles and near copies of the tables;
  the manifest names every input file the tables hold rows of.

Runs do the cheap half of this before they start (`verify_output`: the journals, every Parquet footer,
and the index's row count against the tables'), and stop with DamagedOutput naming the first problem.

--repair never deletes a row: what it cannot read, or what no committed run wrote, is moved to
OUT/_quarantine/<timestamp>/ (same relative paths) with a report.txt saying what and why; a garbled run
record is replaced by a minimal one (the run's files stay committed). Valid pending journals are replayed,
as the next run would. Then the index and the manifest are rebuilt from the committed tables
(`rebuild_index`, `rebuild_manifest`) and the files they replace are moved to the quarantine too.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import posixpath
from collections import Counter, defaultdict

import pyarrow.parquet as pq

from pipelines.lock import RunLock
from schemas.tables import (
    ARTICLES,
    DUPLICATES,
    ENTITIES,
    INDEX_ARTICLES,
    INDEX_DOCUMENTS,
    INDEX_KEYS,
    INDEX_TABLES,
    MANIFEST,
    REJECTS,
    SCHEMAS,
    TABLES,
    TEMPLATES,
    partition_path,
)
from storage.files import read_parquet, write_atomically, write_json
from storage.layout import JOURNAL_SUFFIX, QUARANTINE_REPORT, RUNS_FOLDER, STAGING_FOLDER, Layout, run_of_file
from storage.publication import DamagedOutput, pending_journals, read_journal, recover
from storage.visible import commit_state, folder_files, visible_files
from transforms.write import write_part_file

log = logging.getLogger(__name__)

# Every folder of Parquet files, with the schema its files must have.
DATA_FOLDERS = (*TABLES, ENTITIES, *INDEX_TABLES, MANIFEST, TEMPLATES)


@dataclasses.dataclass(frozen=True)
class Problem:
    path: str  # relative to OUT: the file, or the folder of an index or manifest that disagrees with the tables
    why: str


def repair_hint(output: str) -> str:
    return f"run `newsflow check {output} --repair`"


def refusal(damage: DamagedOutput, output: str) -> str:
    """What a run (or a dry run) that met a damaged output says: the file, why, and what to do."""
    return (f"not started: the output is damaged: {damage}. Nothing was done: {repair_hint(output)}, which moves "
            "what cannot be used aside (OUT/_quarantine/) and rebuilds the index and the manifest from the tables.")


# --- reading without trusting --------------------------------------------------------------------------


def parquet_problem(fs, path: str, schema_name: str) -> tuple[str | None, int]:
    """(why a data file cannot be used: not Parquet, truncated, other columns; or None, its rows), from
    its footer alone."""
    try:
        with fs.open(path, "rb") as stream:
            footer = pq.read_metadata(stream)
    except Exception as error:  # noqa: BLE001 - whatever pyarrow says, the file cannot be read
        return f"not a readable Parquet file ({type(error).__name__}: {' '.join(str(error).split())[:200]})", 0
    columns = set(footer.schema.to_arrow_schema().names)
    missing = [name for name in SCHEMAS[schema_name].names if name not in columns]
    if missing:
        return f"a Parquet file without the columns of {schema_name} ({', '.join(missing[:5])} missing)", 0
    return None, footer.num_rows


def unreadable(layout: Layout, rows: Counter | None = None) -> list[Problem]:
    """Journals, run records and data files that cannot be used as they are. `rows`: the readable
    files' rows are added up in it, by folder."""
    fs, out_root = layout.fs, layout.root
    problems = []
    for path in pending_journals(layout):
        try:
            read_journal(fs, path)
        except DamagedOutput as damage:
            problems.append(Problem(posixpath.relpath(path, out_root), damage.why))
    runs = posixpath.join(out_root, RUNS_FOLDER)
    for path in sorted(fs.glob(posixpath.join(runs, "*.json"))) if fs.isdir(runs) else []:
        if not path.endswith(JOURNAL_SUFFIX) and not _is_json_object(fs, path):
            problems.append(Problem(posixpath.relpath(path, out_root), "a run record that is not a JSON object"))
    for folder in DATA_FOLDERS:
        for path in folder_files(layout, folder):
            why, count = ("not a file of a newsflow run (its name is not part-<run_id>-...parquet)", 0) \
                if run_of_file(path) is None else parquet_problem(fs, path, folder)
            if why:
                problems.append(Problem(posixpath.relpath(path, out_root), why))
            elif rows is not None:
                rows[folder] += count
    return problems


def _is_json_object(fs, path: str) -> bool:
    try:
        with fs.open(path, "r") as stream:
            return isinstance(json.load(stream), dict)
    except (ValueError, UnicodeDecodeError):
        return False


def verify_output(output: str) -> None:
    """What a run checks before it reads anything of OUT: DamagedOutput naming the first problem found
    (a damaged journal, an unreadable data file, an index that does not match the tables)."""
    layout = Layout(output)
    fs, out_root = layout.fs, layout.root
    if not fs.isdir(out_root):
        return
    rows = Counter()
    problems = unreadable(layout, rows)
    if problems:
        raise DamagedOutput(posixpath.join(output.rstrip("/"), problems[0].path), problems[0].why)
    # One index row per row of the tables (transforms/index.py `written_documents`): without it, the
    # next run would take every published document for a new one.
    documents, indexed = sum(rows[table] for table in TABLES), rows[INDEX_DOCUMENTS]
    if documents != indexed:
        raise DamagedOutput(posixpath.join(output.rstrip("/"), INDEX_DOCUMENTS),
                            f"the index lists {indexed:,} documents, the tables hold {documents:,}")


# --- the tables as the index and the manifest should see them ------------------------------------------


def read_visible(layout: Layout, table: str, columns: list[str], state) -> list[dict]:
    fs = layout.fs
    rows = []
    for path in visible_files(layout, table, state):
        rows.extend(read_parquet(fs, path, columns).to_pylist())
    return rows


def read_folder(layout: Layout, folder: str, committed: set[str]) -> list[dict]:
    """The rows of a state folder's committed files (unreadable ones are checked for before)."""
    fs = layout.fs
    rows = []
    for path in folder_files(layout, folder):
        if run_of_file(path) in committed:
            rows.extend(dict(row, _run_id=run_of_file(path)) for row in read_parquet(fs, path).to_pylist())
    return rows


@dataclasses.dataclass
class Tables:
    """The committed rows of the three tables, as much of them as the index and manifest are made of."""

    articles: list[dict]
    duplicates: list[dict]
    rejects: list[dict]

    @classmethod
    def read(cls, layout: Layout, state) -> Tables:
        return cls(
            read_visible(layout, ARTICLES, ["doc_id", "source_uri", "url", "title", "text", "published_date",
                                                  "encoding", "ingested_at", "run_id", "pipeline_version"], state),
            read_visible(layout, DUPLICATES, ["doc_id", "source_uri", "kind", "duplicate_of", "ingested_at",
                                                    "run_id", "pipeline_version"], state),
            read_visible(layout, REJECTS, ["doc_id", "source_uri", "stage", "reason", "ingested_at", "run_id",
                                                 "pipeline_version"], state),
        )

    def all_rows(self) -> list[dict]:
        return [*self.articles, *self.duplicates, *self.rejects]


def expected_documents(tables: Tables) -> list[dict]:
    """The `documents` index rows of the tables: exactly what the runs wrote (one per row)."""
    from transforms.index import documents_index_row

    return [documents_index_row(row["source_uri"], row["doc_id"], row["run_id"]) for row in tables.all_rows()]


def near_copies(tables: Tables) -> dict[str, str]:
    """{doc_id of a near copy: the run that wrote it}."""
    return {row["doc_id"]: row["run_id"] for row in tables.duplicates if row["kind"] == "near"}


# --- rebuilding ------------------------------------------------------------------------------------------


def rebuild_index(tables: Tables, salvaged_articles: list[dict], salvaged_keys: list[dict]) -> dict[str, list]:
    """{index table: [(run_id, row)]} rebuilt from the committed tables.

    `documents` and, for kept articles, `keys` and `articles` are rebuilt exactly: they are functions of
    an article's text, doc_id and date (transforms/dedupe.py `index_rows`), all in `articles`. A near
    copy's own index rows (a later copy may be closer to it than to its article) cannot be rebuilt: the
    `duplicates` table does not keep its text. They are kept from the old index where it could be read
    (`salvaged_*`, rows of committed runs); where not, a later copy of that copy is still compared with
    the kept article, and is at worst kept as an article of its own. Every published document stays in
    `documents`, so no run ingests it again.
    """
    from schemas.records import Document
    from transforms.dedupe import index_rows

    rebuilt: dict[str, list] = {INDEX_DOCUMENTS: [], INDEX_KEYS: [], INDEX_ARTICLES: []}
    rebuilt[INDEX_DOCUMENTS] = [(row["run_id"], row) for row in expected_documents(tables)]
    for row in tables.articles:
        doc = Document(doc_id=row["doc_id"], source_uri=row["source_uri"], content_type="text",
                       encoding=row["encoding"], url=row["url"], title=row["title"], text=row["text"],
                       published_date=row["published_date"])
        for table, rows in index_rows(doc).items():
            rebuilt[table].extend((row["run_id"], index_row) for index_row in rows)
    copies = near_copies(tables)
    for table, salvaged in ((INDEX_ARTICLES, salvaged_articles), (INDEX_KEYS, salvaged_keys)):
        seen = set()
        for row in salvaged:
            row.pop("_run_id")
            key = tuple(sorted((name, repr(value)) for name, value in row.items()))
            if row["doc_id"] in copies and key not in seen:
                seen.add(key)
                rebuilt[table].append((copies[row["doc_id"]], row))
    return rebuilt


def rebuild_manifest(tables: Tables, salvaged: list[dict]) -> list[tuple[str, dict]]:
    """[(run_id, manifest row)]: the rows of the old manifest that could be read (`salvaged`, committed
    runs), and for each input file of the tables that has none, a row rebuilt from the tables.

    A rebuilt row cannot say the file's size and version (the tables do not keep them): they are NULL,
    so the next run reads the file again, finds every document in the index and adds nothing; its own
    manifest row then has them. Its `content_hash` is the one document's id (as `manifest_row` has it),
    else a hash of its documents' ids in sorted order (not reading order); `documents` counts the file's
    rows in the tables; the run columns are those of the last run that wrote a row of it.
    """
    from transforms.index import source_file
    from transforms.read import INPUT_NOT_FOUND, INPUT_NOT_LISTED, InputFile, manifest_row

    kept = [(row.pop("_run_id"), row) for row in salvaged]
    known = {row["uri"] for _, row in kept}
    by_file: dict[str, list[dict]] = defaultdict(list)
    for row in tables.all_rows():
        if row.get("stage") == "read" and row.get("reason") in (INPUT_NOT_FOUND, INPUT_NOT_LISTED):
            continue  # an input pattern that listed nothing: no file was read
        by_file[source_file(row["source_uri"])].append(row)
    for uri, rows in sorted(by_file.items()):
        if uri in known:
            continue
        ids = sorted(f"doc:{row['doc_id']}" if row.get("doc_id") else f"reject:{row['source_uri']}:{row['reason']}"
                     for row in rows)
        last = max(rows, key=lambda row: row["ingested_at"])
        columns = {name: last[name] for name in ("ingested_at", "run_id", "pipeline_version")}
        kept.append((last["run_id"], {**manifest_row(InputFile(uri), ids), **columns}))
    return kept


def write_rebuilt(layout: Layout, table: str, rows: list[tuple[str, dict]]) -> set[str]:
    """Write rebuilt rows as files of the runs that wrote them (so that they stay committed), per
    partition; the paths written. Named after their content, like every run's files: a rebuild that
    equals the old file rewrites the same file."""
    out_root = layout.root
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for run_id, row in rows:
        groups[run_id, partition_path(table, row)].append(row)
    return {posixpath.join(out_root, write_part_file(layout.fs, layout.root, run_id, table, partition, group))
            for (run_id, partition), group in sorted(groups.items())}


# --- the verdict and the repair ---------------------------------------------------------------------------


@dataclasses.dataclass
class Report:
    output: str
    problems: list[Problem] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)  # what is fine but worth saying
    moved: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (path, why) into the quarantine
    done: list[str] = dataclasses.field(default_factory=list)  # what --repair did
    quarantine: str | None = None

    def text(self) -> str:
        lines = [f"newsflow check {self.output}"]
        if self.problems:
            lines += [f"  {len(self.problems)} problem(s):", *(f"    {p.path or '(dataset)'}: {p.why}" for p in self.problems)]
        lines += [f"  {note}" for note in self.notes]
        if self.moved:
            lines += [f"  moved to {self.quarantine}:", *(f"    {path}: {why}" for path, why in self.moved)]
        lines += [f"  {line}" for line in self.done]
        if not self.problems and not self.moved:
            lines.append("  the tables, the index, the manifest and the journals agree")
        return "\n".join(lines)


def uncommitted(layout: Layout, committed: set[str], pending: set[str]) -> list[Problem]:
    """Data files whose run has no record and no journal: a run whose publication cannot be completed."""
    out_root = layout.root
    problems = []
    for folder in DATA_FOLDERS:
        for path in folder_files(layout, folder):
            run_id = run_of_file(path)
            if run_id and run_id not in committed and run_id not in pending:
                problems.append(Problem(posixpath.relpath(path, out_root),
                                        f"its run {run_id} never committed (no {RUNS_FOLDER}/{run_id}.json, no journal)"))
    return problems


def inconsistencies(layout: Layout, state) -> list[Problem]:
    """How the index and the manifest differ from the committed tables (all files readable)."""
    committed = state[0]
    tables = Tables.read(layout, state)
    problems = []
    want = {(row["source_uri"], row["doc_id"]) for row in expected_documents(tables)}
    have = {(row["source_uri"], row["doc_id"]) for row in read_folder(layout, INDEX_DOCUMENTS, committed)}
    if want != have:
        problems.append(Problem(INDEX_DOCUMENTS, f"the index lacks {len(want - have):,} documents of the tables and "
                                                 f"lists {len(have - want):,} that are in no table"))
    kept = {row["doc_id"] for row in tables.articles}
    indexed = {row["doc_id"] for row in read_folder(layout, INDEX_ARTICLES, committed)}
    stray = indexed - kept - set(near_copies(tables))
    if kept - indexed or stray:
        problems.append(Problem(INDEX_ARTICLES, f"the index lacks {len(kept - indexed):,} articles of the tables and "
                                                f"lists {len(stray):,} that are in no table"))
    listed = {row["uri"] for row in read_folder(layout, MANIFEST, committed)}
    files = {row["uri"] for _, row in rebuild_manifest(tables, [])}
    if not files <= listed:
        problems.append(Problem(MANIFEST, f"the manifest lacks {len(files - listed):,} input files of the tables"))
    return problems


def check_output(output: str) -> Report:
    """Verify OUT (read only): its problems, for `newsflow check` without --repair."""
    layout = Layout(output)
    report = Report(output, problems=unreadable(layout))
    journals = [posixpath.basename(path)[: -len(JOURNAL_SUFFIX)] for path in pending_journals(layout)]
    if journals:
        report.notes.append(f"{len(journals)} run(s) stopped while publishing ({', '.join(journals)}): the next run, "
                            "or check --repair, completes them")
    if report.problems or journals:
        return report  # the index can be compared with the tables once every file is readable and committed
    state = commit_state(layout)
    report.problems += uncommitted(layout, state[0], set())
    if not report.problems:
        report.problems += inconsistencies(layout, state)
    return report


def repair_output(output: str, run_id: str) -> Report:
    """`newsflow check OUT --repair` (see the module docstring), holding the output's lock as `run_id`."""
    layout = Layout(output)
    fs = layout.fs
    quarantine = layout.quarantine(run_id)
    report = Report(output, quarantine=layout.quarantine_uri(run_id))
    with RunLock(output, run_id):
        found = unreadable(layout)
        for problem in found:
            move_aside(layout, quarantine, problem.path, problem.why, report)
            if problem.path.startswith(RUNS_FOLDER + "/"):
                replace_run_file(layout, quarantine, problem.path, report)
        report.done += [f"completed: {line}" for line in recover(layout)]
        state = commit_state(layout)
        for problem in uncommitted(layout, state[0], set()):
            move_aside(layout, quarantine, problem.path, problem.why, report)
        problems = inconsistencies(layout, state)
        if found or report.moved or problems:
            report.problems = problems
            # A committed run's table file that cannot be read: its documents are out of the dataset.
            lost_rows = any(p.path.split("/")[0] in TABLES and run_of_file(p.path) in state[0] for p in found)
            rebuild(layout, quarantine, state, report, lost_rows)
            report.problems = inconsistencies(layout, commit_state(layout))
        if report.moved:
            write_quarantine_report(fs, quarantine, report)
    return report


def move_aside(layout: Layout, quarantine: str, relative: str, why: str, report: Report) -> None:
    """Move a file (by its path relative to OUT) into the quarantine, keeping its relative path."""
    fs, out_root = layout.fs, layout.root
    source, target = posixpath.join(out_root, relative), posixpath.join(quarantine, relative)
    if not fs.exists(source):
        return
    fs.makedirs(posixpath.dirname(target), exist_ok=True)
    fs.mv(source, target)
    report.moved.append((relative, why))


def replace_run_file(layout: Layout, quarantine: str, relative: str, report: Report) -> None:
    """After a damaged run file was moved aside: a garbled record becomes a minimal one (its run's files
    stay committed); a damaged journal's staged files go to the quarantine too (never replayed)."""
    fs, out_root = layout.fs, layout.root
    name = posixpath.basename(relative)
    if name.endswith(JOURNAL_SUFFIX):
        run_id = name[: -len(JOURNAL_SUFFIX)]
        staging = posixpath.join(STAGING_FOLDER, run_id)
        if "/" not in run_id and run_id not in (".", "..") and fs.exists(posixpath.join(out_root, staging)):
            move_aside(layout, quarantine, staging, "the staged files of that journal's run", report)
        return
    run_id = name[: -len(".json")]
    write_json(fs, posixpath.join(out_root, relative),
                {"run_id": run_id, "note": f"record rebuilt by newsflow check: the original was unreadable "
                                           f"(moved to {posixpath.join(quarantine, relative)})"})
    report.done.append(f"wrote a minimal record for run {run_id}")


def rebuild(layout: Layout, quarantine: str, state, report: Report, lost_rows: bool) -> None:
    """Rebuild the index and the manifest from the committed tables; the old files go to the quarantine.
    `lost_rows`: table files were moved aside, so the manifest cannot be trusted to say which files'
    documents are all in the tables: no old manifest row is kept (every file is read again once)."""
    out_root = layout.root
    committed = state[0]
    tables = Tables.read(layout, state)
    salvage = {folder: read_folder(layout, folder, committed) for folder in (INDEX_ARTICLES, INDEX_KEYS, MANIFEST)}
    rebuilt = rebuild_index(tables, salvage[INDEX_ARTICLES], salvage[INDEX_KEYS])
    rebuilt[MANIFEST] = rebuild_manifest(tables, [] if lost_rows else salvage[MANIFEST])
    for folder, rows in rebuilt.items():
        old = set(folder_files(layout, folder))
        written = write_rebuilt(layout, folder, rows)
        for path in sorted(old - written):
            move_aside(layout, quarantine, posixpath.relpath(path, out_root), "replaced by the rebuilt "
                       f"{'manifest' if folder == MANIFEST else 'index'}", report)
        report.done.append(f"rebuilt {folder} from the tables: {len(rows):,} rows")


def write_quarantine_report(fs, quarantine: str, report: Report) -> None:
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    heading = (f"newsflow check --repair, {now}: what was moved here, and why (paths relative to the dataset; "
               "nothing was deleted)")
    text = "\n".join([heading, "", *(f"{path}\t{why}" for path, why in report.moved), "", *report.done, ""])
    write_atomically(fs, posixpath.join(quarantine, QUARANTINE_REPORT), text.encode())
