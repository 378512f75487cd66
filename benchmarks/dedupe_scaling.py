"""How the dedupe stage's time grows with the dump: 10k and 100k generated pages (by default).

    .venv/bin/python benchmarks/dedupe_scaling.py [--docs 10000 100000] [--corpus ../shared/corpus]

For each size, a scale corpus is generated with ../shared/tools/make_scale_corpus.py (real wire sentences
in real page chrome, ~3 % copies), then two pipelines run on the local runner over the same files:
(a) read, clean each page, count; (b) the same plus the Deduplicate stage. The stage's time is
(b) - (a), so reading, cleaning and start-up cancel out. Dates and NER are left out: they cost the same
per page whatever the dump's size, while dedupe's shuffles and cluster resolution are what could grow
faster than linearly. Prints each size's time, and the ratio of the largest to the smallest beside the
ratio of their sizes. Exits 0 with a message when ../shared is absent.
"""
from __future__ import annotations

import argparse
import dataclasses
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.logs import mute_beam_noise

mute_beam_noise()  # before Beam is imported

import apache_beam as beam

from pipelines.options import runner_and_options
from transforms.clean import CleanDocuments
from transforms.dedupe import Deduplicate
from transforms.read import ReadDump

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
GENERATOR = ROOT.parent / "shared" / "tools" / "make_scale_corpus.py"


def drop_page(doc):
    return dataclasses.replace(doc, raw="")  # as the pipeline does before dedupe


def timed_run(dump: pathlib.Path, with_dedupe: bool) -> tuple[float, int]:
    """Seconds of one pipeline run over the dump, and how many articles it kept."""
    runner, options = runner_and_options([])
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        with beam.Pipeline(runner=runner, options=options) as pipeline:
            documents = (pipeline | "Read" >> ReadDump([f"{dump}/batch-*"])).documents
            documents = (documents | "Clean" >> CleanDocuments()).documents | "DropPage" >> beam.Map(drop_page)
            if with_dedupe:
                documents = (documents | "Dedupe" >> Deduplicate()).articles
            _ = (
                documents
                | "Count" >> beam.combiners.Count.Globally()
                | "Save" >> beam.io.WriteToText(f"{scratch}/count")
            )
        kept = int(next(pathlib.Path(scratch).glob("count*")).read_text())
    return time.monotonic() - started, kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if not GENERATOR.exists() or not (args.corpus / "dev").exists():
        print(f"dedupe scaling skipped: {GENERATOR} or {args.corpus}/dev not found (../shared is not here)")
        return 0
    stage_seconds = {}
    with tempfile.TemporaryDirectory() as work:
        for docs in sorted(args.docs):
            dump = pathlib.Path(work) / f"scale-{docs}"
            subprocess.run(
                [sys.executable, str(GENERATOR), str(args.corpus / "dev"), str(dump), "--docs", str(docs)],
                check=True, capture_output=True,
            )
            baseline, _ = timed_run(dump, with_dedupe=False)
            with_dedupe, kept = timed_run(dump, with_dedupe=True)
            stage_seconds[docs] = with_dedupe - baseline
            print(
                f"{docs:>8} pages: read only {baseline:7.1f} s, read + dedupe {with_dedupe:7.1f} s -> "
                f"dedupe stage {stage_seconds[docs]:7.1f} s ({kept} kept, {docs - kept} copies)"
            )
    if len(stage_seconds) > 1:
        small, large = min(stage_seconds), max(stage_seconds)
        print(
            f"dedupe time at {large} pages is {stage_seconds[large] / stage_seconds[small]:.1f}x its time at {small} "
            f"({large / small:.0f}x the pages)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
