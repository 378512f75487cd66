"""How the dedupe stage's time grows with the dump (10k and 100k generated pages by default), and how it
compares with another revision's dedupe in the same run.

    .venv/bin/python benchmarks/dedupe_scaling.py [--docs 10000 100000] [--corpus ../shared/corpus]
        [--baseline REV] [--rounds N]

For each size, a scale corpus is generated with ../shared/tools/make_scale_corpus.py (real wire sentences
in real page chrome, ~3 % copies), then pipelines run on the local runner over the same files: (a) read,
clean each page, count; (b) the same plus the Deduplicate stage. The stage's time is (b) - (a), so
reading, cleaning and start-up cancel out. Dates and NER are left out: they cost the same per page
whatever the dump's size, while dedupe's shuffles and cluster resolution are what could grow faster than
linearly. Prints each size's time, and the ratio of the largest to the smallest beside the ratio of their
sizes.

With --baseline REV, the same is timed for the revision REV of this repository (exported with `git
archive` into a temporary folder): every round runs (a), (b) with REV's dedupe and (b) with this tree's,
one after the other, so both see the same machine load; the medians over --rounds and their ratio are
printed, of wall seconds and of CPU seconds (the pipeline process and its workers: on a machine shared
with other work, the steadier of the two). Each pipeline runs in a process of its own. Exits 0 with a
message when ../shared is absent.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
GENERATOR = ROOT.parent / "shared" / "tools" / "make_scale_corpus.py"

# One timed pipeline, run in a fresh process with the source tree given on its command line first on the
# path. A revision whose Deduplicate does not drop the raw page itself had it dropped before, by ingest.
TIMED_RUN = """
import dataclasses, json, pathlib, sys, tempfile, time
tree, dump, with_dedupe = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
sys.path.insert(0, tree)
from pipelines.logs import mute_beam_noise
mute_beam_noise()
import apache_beam as beam
from pipelines.options import runner_and_options
from transforms import dedupe
from transforms.clean import CleanDocuments
from transforms.read import ReadDump

def drop_page(doc):
    return dataclasses.replace(doc, raw="")

runner, options = runner_and_options([])
started = time.monotonic()
with tempfile.TemporaryDirectory() as scratch:
    with beam.Pipeline(runner=runner, options=options) as pipeline:
        documents = (pipeline | "Read" >> ReadDump([f"{dump}/batch-*"])).documents
        documents = (documents | "Clean" >> CleanDocuments()).documents
        if not (with_dedupe and hasattr(dedupe, "forget_raw_page")):
            documents = documents | "DropPage" >> beam.Map(drop_page)
        if with_dedupe:
            documents = (documents | "Dedupe" >> dedupe.Deduplicate()).articles
        _ = (
            documents
            | "Count" >> beam.combiners.Count.Globally()
            | "Save" >> beam.io.WriteToText(f"{scratch}/count")
        )
    kept = int(next(pathlib.Path(scratch).glob("count*")).read_text())
print(json.dumps({"seconds": time.monotonic() - started, "kept": kept}))
"""


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(tree: pathlib.Path, dump: pathlib.Path, with_dedupe: bool) -> tuple[float, float, int]:
    """Wall and CPU seconds of one pipeline run over the dump with `tree`'s code, and the articles it kept."""
    cpu_before = children_cpu_seconds()
    result = subprocess.run(
        [sys.executable, "-c", TIMED_RUN, str(tree), str(dump), "1" if with_dedupe else "0"],
        check=True, capture_output=True, text=True, cwd=tree,
    )
    timing = json.loads(result.stdout.strip().splitlines()[-1])
    return timing["seconds"], children_cpu_seconds() - cpu_before, timing["kept"]


def export_revision(revision: str, folder: pathlib.Path) -> pathlib.Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True).stdout
    folder.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS)
    parser.add_argument("--baseline", help="a git revision whose dedupe is timed in the same run")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per size (medians are printed)")
    args = parser.parse_args()
    if not GENERATOR.exists() or not (args.corpus / "dev").exists():
        print(f"dedupe scaling skipped: {GENERATOR} or {args.corpus}/dev not found (../shared is not here)")
        return 0
    stage_seconds: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as work:
        trees = {"this tree": ROOT}
        if args.baseline:
            trees = {args.baseline: export_revision(args.baseline, pathlib.Path(work) / "baseline"), **trees}
        for docs in sorted(args.docs):
            dump = pathlib.Path(work) / f"scale-{docs}"
            subprocess.run(
                [sys.executable, str(GENERATOR), str(args.corpus / "dev"), str(dump), "--docs", str(docs)],
                check=True, capture_output=True,
            )
            seconds: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for _ in range(args.rounds):
                baseline, baseline_cpu, _ = timed_run(ROOT, dump, with_dedupe=False)
                for name, tree in trees.items():
                    with_dedupe, with_dedupe_cpu, kept = timed_run(tree, dump, with_dedupe=True)
                    seconds[name].append((with_dedupe - baseline, with_dedupe_cpu - baseline_cpu))
                    print(f"{docs:>8} pages, {name}: read only {baseline:7.1f} s (CPU {baseline_cpu:7.1f} s), "
                          f"read + dedupe {with_dedupe:7.1f} s (CPU {with_dedupe_cpu:7.1f} s) -> dedupe stage "
                          f"{with_dedupe - baseline:7.1f} s (CPU {with_dedupe_cpu - baseline_cpu:7.1f} s) "
                          f"({kept} kept, {docs - kept} copies)", flush=True)
            wall = {name: statistics.median(wall for wall, _ in values) for name, values in seconds.items()}
            cpu = {name: statistics.median(cpu for _, cpu in values) for name, values in seconds.items()}
            stage_seconds[docs] = wall["this tree"]
            if args.baseline:
                print(f"{docs:>8} pages: dedupe stage, median of {args.rounds}: {args.baseline} {wall[args.baseline]:.1f} s "
                      f"(CPU {cpu[args.baseline]:.1f} s), this tree {wall['this tree']:.1f} s (CPU {cpu['this tree']:.1f} s): "
                      f"ratio {wall['this tree'] / wall[args.baseline]:.2f} (CPU {cpu['this tree'] / cpu[args.baseline]:.2f})",
                      flush=True)
    if len(stage_seconds) > 1:
        small, large = min(stage_seconds), max(stage_seconds)
        print(
            f"dedupe time at {large} pages is {stage_seconds[large] / stage_seconds[small]:.1f}x its time at {small} "
            f"({large / small:.0f}x the pages)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
