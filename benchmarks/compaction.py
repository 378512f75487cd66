"""Compaction after many nightly runs: files per partition and table, and DuckDB queries, before and after.

    .venv/bin/python benchmarks/compaction.py [--runs 100] [--docs-per-run 30] [--repeats 5] [--keep DIR]

1. A corpus of RUNS x DOCS_PER_RUN generated pages (../shared/tools/make_scale_corpus.py over
   ../shared/corpus/dev), one folder a night.
2. `nightly`: RUNS runs into one output, one folder each (run_ingest in this process, on one in-memory
   worker: the nights' cost is not what is measured). `one run`: the whole corpus in one run.
3. Files per folder (table partition, index shard, manifest) and per table, in `nightly` before and after
   `newsflow compact` (the command, timed), and in `one run`.
4. DuckDB queries over `articles` (a scan grouped by month, a lookup of one doc_id), each time from a new
   connection: through `newsflow inspect`'s views (pipelines/inspect.py: lists the committed files, reads
   the run records) and through a plain `read_parquet('OUT/articles/**/*.parquet')`; and an index lookup
   of 200 band keys in every shard (storage/state.py IndexReader, as a run's dedupe does). On four datasets:
   `nightly` before compaction (a copy) and after, `one run`, `one run` compacted; the datasets take turns
   REPEATS times. Prints the medians and the ratios, all measured in this one invocation.
"""
from __future__ import annotations

import argparse
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

import duckdb

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.cli import exit_now
from pipelines.ingest import run_ingest
from pipelines.inspect import open_dataset
from pipelines.options import IngestConfig
from schemas.tables import INDEX_KEYS, INDEX_SHARDS
from storage.compaction import COMPACTED, folders_of
from storage.layout import Layout
from storage.state import IndexReader

GENERATOR = ROOT.parent / "shared" / "tools" / "make_scale_corpus.py"
SOURCE = ROOT.parent / "shared" / "corpus" / "dev"
BEAM = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
QUERIES = {
    "scan": "SELECT year, month, count(*), avg(length(text)) FROM articles GROUP BY ALL ORDER BY ALL",
    "lookup": "SELECT title FROM articles WHERE doc_id = '{doc_id}'",
}


def ingest(inputs: list[pathlib.Path], out: pathlib.Path) -> None:
    run_ingest(IngestConfig(inputs=tuple(map(str, inputs)), output=str(out)), BEAM)


def compact(out: pathlib.Path) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pipelines.cli", "compact", str(out), "--quiet"], cwd=ROOT, check=True)
    return time.monotonic() - started


def file_counts(out: pathlib.Path) -> tuple[Counter, Counter]:
    """(files per table, most files in one folder of each table)."""
    layout = Layout(str(out))
    per_table, most = Counter(), Counter()
    for table in COMPACTED:
        for paths in folders_of(layout, table).values():
            per_table[table] += len(paths)
            most[table] = max(most[table], len(paths))
    return per_table, most


def seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measurements(out: pathlib.Path, doc_id: str) -> dict[str, object]:
    """{name: a function that runs one measured query on `out`}."""
    glob = f"read_parquet('{out}/articles/**/*.parquet', hive_partitioning = true, union_by_name = true)"
    actions = {}
    for name, sql in QUERIES.items():
        sql = sql.format(doc_id=doc_id)
        actions[f"inspect {name}"] = lambda sql=sql: open_dataset(str(out)).sql(sql).fetchall()
        plain = sql.replace("FROM articles", f"FROM {glob}")
        actions[f"plain {name}"] = lambda plain=plain: duckdb.connect().sql(plain).fetchall()
    keys = sample_keys(out)
    reader = IndexReader(str(out))
    actions["index lookup"] = lambda: [reader.lookup(INDEX_KEYS, shard, keys, ["key", "doc_id"])
                                       for shard in range(INDEX_SHARDS)]
    return actions


def median_times(outputs: dict[str, pathlib.Path], doc_id: str, repeats: int) -> dict[str, dict[str, float]]:
    """{dataset: {measurement: median seconds}}. The datasets take turns, repeat after repeat, so that a
    change in the machine's load (shared cores) touches them all alike."""
    actions = {label: measurements(out, doc_id) for label, out in outputs.items()}
    times: dict[str, dict[str, list]] = {label: {name: [] for name in named} for label, named in actions.items()}
    for _ in range(repeats):
        for label, named in actions.items():
            for name, action in named.items():
                times[label][name].append(seconds(action))
    return {label: {name: statistics.median(values) for name, values in named.items()} for label, named in times.items()}


def sample_keys(out: pathlib.Path, count: int = 200) -> list[bytes]:
    rows = duckdb.connect().sql(f"SELECT key FROM read_parquet('{out}/_index/keys/**/*.parquet') "
                                f"ORDER BY hash(key) LIMIT {count}").fetchall()
    return [bytes(row[0]) for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--docs-per-run", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=pathlib.Path, help="build the outputs here and leave them")
    args = parser.parse_args()
    work = args.keep or pathlib.Path(tempfile.mkdtemp(prefix="newsflow-compaction-"))
    corpus, nightly, one_run = work / "corpus", work / "nightly", work / "one-run"
    for folder in (corpus, nightly, one_run, work / "nightly-before"):
        shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([sys.executable, str(GENERATOR), str(SOURCE), str(corpus), "--docs",
                    str(args.runs * args.docs_per_run), "--per-folder", str(args.docs_per_run)],
                   check=True, stdout=subprocess.DEVNULL)
    nights = sorted(corpus.glob("batch-*"))
    started = time.monotonic()
    for night in nights:
        ingest([night], nightly)
    print(f"{len(nights)} nightly runs of {args.docs_per_run} pages: {time.monotonic() - started:.0f} s")
    ingest(nights, one_run)
    one_run_compacted = work / "one-run-compacted"
    shutil.rmtree(one_run_compacted, ignore_errors=True)
    shutil.copytree(one_run, one_run_compacted)

    doc_id = open_dataset(str(nightly)).sql("SELECT doc_id FROM articles ORDER BY doc_id LIMIT 1").fetchall()[0][0]
    before_files, before_most = file_counts(nightly)
    nightly_before = work / "nightly-before"  # a copy, to query side by side with the compacted one
    shutil.rmtree(nightly_before, ignore_errors=True)
    shutil.copytree(nightly, nightly_before)
    compact_seconds = compact(nightly)
    compact(one_run_compacted)
    after_files, after_most = file_counts(nightly)
    one_files, one_most = file_counts(one_run)
    columns = {"nightly": nightly_before, "compacted": nightly, "one run": one_run, "one run compacted": one_run_compacted}
    times = median_times(columns, doc_id, args.repeats)

    print(f"\nnewsflow compact on the nightly output: {compact_seconds:.1f} s (the whole command)")
    print(f"\n{'table':<18}{'files before':>14}{'after':>8}{'one run':>9}   most files in one folder: before, after, one run")
    for table in COMPACTED:
        print(f"{table:<18}{before_files[table]:>14,}{after_files[table]:>8,}{one_files[table]:>9,}   "
              f"{before_most[table]:>4} {after_most[table]:>4} {one_most[table]:>4}")
    total = (sum(before_files.values()), sum(after_files.values()), sum(one_files.values()))
    print(f"{'all':<18}{total[0]:>14,}{total[1]:>8,}{total[2]:>9,}")
    header = "".join(f"{label:>19}" for label in columns)
    print(f"\n{'median of ' + str(args.repeats) + ', ms':<16}{header}{'nightly/compacted':>19}"
          f"{'compacted/one run compacted':>29}")
    for name in times["nightly"]:
        cells = "".join(f"{times[label][name] * 1e3:>19.1f}" for label in columns)
        print(f"{name:<16}{cells}{times['nightly'][name] / times['compacted'][name]:>19.2f}"
              f"{times['compacted'][name] / times['one run compacted'][name]:>29.2f}")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
    exit_now(0)  # as `newsflow check` does: the native libraries' teardown sometimes aborts after DuckDB and Beam
