"""A run in batches under a memory budget (pipelines/batches.py): peak memory and speed as the dump grows,
and the dataset against one run over the same files.

    .venv/bin/python benchmarks/batching.py --docs 20000 60000 [--budget 3G] [--same-as-one-run 5000]
        [--work /tmp/nf-batching] [--corpus ../shared/corpus]

For each size: a generated dump (../shared/tools/make_scale_corpus.py, seed 1) goes through
`newsflow ingest --no-entities --memory-budget BUDGET --quiet` as a subprocess, and the peak resident
memory of its whole process tree is sampled (benchmarks/throughput.py's PeakRSS). Prints wall seconds,
documents per second, peak RSS and batches per size, and the largest size's ratios to the smallest.

`--same-as-one-run N`: a dump of N pages goes through one run (no budget) and through a run cut into
about five batches; the articles, duplicates (with their `duplicate_of` links) and rejects are compared
row for row, run ids, ingestion times and `duplicate_count` (a count within one run, and a batch is a
run) aside. Exits 0 with a message when ../shared is absent.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from throughput import PeakRSS

from pipelines.batches import BASE_BYTES, BYTES_PER_INPUT_BYTE, parse_size
from schemas.tables import ARTICLES, DUPLICATES, REJECTS
from storage.layout import RUNS_FOLDER
from storage.visible import open_table

SHARED = REPO.parent / "shared"
VOLATILE = {"run_id", "ingested_at", "pipeline_version", "duplicate_count"}


def generated_dump(corpus: pathlib.Path, work: pathlib.Path, docs: int) -> pathlib.Path:
    dump = work / f"dump-{docs}"
    if not (dump / "MANIFEST.json").exists():
        shutil.rmtree(dump, ignore_errors=True)
        subprocess.run([sys.executable, str(SHARED / "tools" / "make_scale_corpus.py"), str(corpus / "dev"),
                        str(dump), "--docs", str(docs), "--seed", "1"], check=True, capture_output=True)
    return dump


def dump_bytes(dump: pathlib.Path) -> int:
    return sum(path.stat().st_size for path in dump.rglob("*") if path.is_file())


def ingest(dump: pathlib.Path, out: pathlib.Path, budget: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "pipelines.cli", "ingest", str(dump), "--output", str(out), "--no-entities",
               "--memory-budget", str(budget), "--quiet"]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO)
    with PeakRSS(process.pid) as rss:
        code = process.wait()
    if code:
        raise SystemExit(f"the run over {dump} failed with status {code}")
    records = [json.loads(path.read_text()) for path in (out / RUNS_FOLDER).glob("*.json")
               if not path.name.endswith(".pending.json")]
    return {"seconds": time.monotonic() - started, "peak_rss": rss.total, "largest": rss.largest,
            "batches": len(records), "documents": sum(record["documents"] for record in records)}


def scaling(corpus: pathlib.Path, work: pathlib.Path, sizes: list[int], budget: int) -> None:
    print(f"budget {budget / 1024**3:.2f} GiB: batches of up to {(budget - BASE_BYTES) / BYTES_PER_INPUT_BYTE / 1e6:,.0f}"
          f" MB of input")
    print(f"{'pages':>10}{'input MB':>10}{'batches':>9}{'seconds':>10}{'docs/s':>9}{'peak RSS':>10}{'largest':>9}")
    results = {}
    for docs in sizes:
        dump = generated_dump(corpus, work, docs)
        result = ingest(dump, work / f"out-{docs}", budget)
        results[docs] = result
        rate = result["documents"] / result["seconds"]
        print(f"{docs:>10,}{dump_bytes(dump) / 1e6:>10,.0f}{result['batches']:>9}{result['seconds']:>10,.0f}"
              f"{rate:>9,.1f}{result['peak_rss'] / 1024**3:>9.2f}G{result['largest'] / 1024**3:>8.2f}G", flush=True)
    if len(sizes) > 1:
        small, large = results[min(sizes)], results[max(sizes)]
        print(f"largest / smallest: peak RSS {large['peak_rss'] / small['peak_rss']:.3f}, documents per second "
              f"{(large['documents'] / large['seconds']) / (small['documents'] / small['seconds']):.3f}")


def content(out: pathlib.Path, dump: pathlib.Path) -> dict[str, list]:
    tables = {}
    for table in (ARTICLES, DUPLICATES, REJECTS):
        rows = open_table(str(out), table).to_table().to_pylist() if (out / table).exists() else []
        tables[table] = sorted(repr(sorted((k, str(v).replace(str(dump), "DUMP")) for k, v in row.items()
                                           if k not in VOLATILE)) for row in rows)
    return tables


def same_as_one_run(corpus: pathlib.Path, work: pathlib.Path, docs: int) -> bool:
    dump = generated_dump(corpus, work, docs)
    one = ingest(dump, work / "one-run", parse_size("1000G"))
    # About five batches: a budget whose batches hold a fifth of the input, rounded up to whole folders.
    batched_budget = int(BASE_BYTES + BYTES_PER_INPUT_BYTE * dump_bytes(dump) / 5 * 1.2)
    batched = ingest(dump, work / "batched", batched_budget)
    print(f"{docs:,} pages: one run {one['seconds']:,.0f} s, {one['peak_rss'] / 1024**3:.2f} GB; "
          f"{batched['batches']} batches {batched['seconds']:,.0f} s, {batched['peak_rss'] / 1024**3:.2f} GB")
    expected, found = content(work / "one-run", dump), content(work / "batched", dump)
    same = True
    for table in expected:
        missing = set(expected[table]) - set(found[table])
        extra = set(found[table]) - set(expected[table])
        print(f"  {table}: {len(expected[table]):,} rows in one run, {len(found[table]):,} in batches; "
              f"{len(missing):,} only in one run, {len(extra):,} only in batches")
        same &= not missing and not extra
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, nargs="*", default=[20_000, 60_000])
    parser.add_argument("--budget", type=parse_size, default=parse_size("3G"))
    parser.add_argument("--same-as-one-run", type=int, default=0, metavar="N")
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path("/tmp/nf-batching"))
    parser.add_argument("--corpus", type=pathlib.Path, default=SHARED / "corpus")
    args = parser.parse_args()
    if not (args.corpus / "dev").is_dir():
        print(f"{args.corpus} is absent: nothing to measure")
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    if args.docs:
        scaling(args.corpus, args.work, args.docs, args.budget)
    if args.same_as_one_run:
        return 0 if same_as_one_run(args.corpus, args.work, args.same_as_one_run) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
