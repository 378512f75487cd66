"""Throughput of the whole pipeline against its cost floor, the bare spaCy NER model, in one run.

    python benchmarks/throughput.py                     # ../shared/corpus/dev/reuters
    python benchmarks/throughput.py --docs 100000       # a generated dump (made once, then reused)
    python benchmarks/throughput.py INPUT --json result.json

(a) `newsflow ingest INPUT --quiet` as a subprocess: wall time, CPU time, and the peak RSS of its whole
    process tree (summed over the driver and its workers, sampled every 0.2 s; also the largest process).
(b) the same spaCy model with the same components (`transforms.entities.load_model`), `nlp.pipe` on all
    cores over the texts (a) wrote to `articles`, as the pipeline hands them to the model
    (`title + "\\n\\n" + text`). Only the processing is timed; the model load is reported apart.

    With `--model-every K`, (b) runs on every K-th text only and its times are scaled up by the words
    (NER time grows with the words); the output says so. For runs too long to time (b) on all texts.

The ratio (a)/(b) is (a)'s wall time over (b)'s processing time (targets: <= 1.25; peak RSS <= 4 GB on
100k documents); "with load" adds (b)'s model load. CPU seconds are given too: on a machine shared
with other work they vary less than wall time. Without ../shared (the corpus and the dump generator)
the benchmark says so and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEFAULT_INPUT = SHARED / "corpus" / "dev" / "reuters"
GENERATOR = SHARED / "tools" / "make_scale_corpus.py"
GENERATOR_SOURCE = SHARED / "corpus" / "dev"
SAMPLE_SECONDS = 0.2
BATCH_SIZE = 64  # as the pipeline's entities stage (transforms.entities.DEFAULT_BATCH_SIZE)
TARGET_RATIO = 1.25
sys.path.insert(0, str(REPO))
from transforms import metrics

# ------------------------------------------------------------------------------------- process tree


def _rss_by_pid() -> dict[int, tuple[int, int]]:
    """{pid: (parent pid, resident bytes)} of every process, from psutil if installed, else /proc."""
    try:
        import psutil
    except ImportError:
        psutil = None
    table = {}
    if psutil is not None:
        for proc in psutil.process_iter(["ppid", "memory_info"]):
            if proc.info["memory_info"] is not None:
                table[proc.pid] = (proc.info["ppid"], proc.info["memory_info"].rss)
        return table
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            statm = Path(entry.path, "statm").read_text()
        except OSError:  # ended meanwhile
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the command name may hold spaces and brackets
        table[int(entry.name)] = (ppid, int(statm.split()[1]) * page)
    return table


def _cpu_seconds_of(pid: int) -> float | None:
    """User + system CPU seconds a live process has used so far (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeakRSS:
    """Samples, in a thread, the resident memory of a process and all its descendants (and the CPU
    seconds of the process itself: for the pipeline, the driver's share, which Beam's runner spends
    moving data between the workers' stages)."""

    def __init__(self, root: int):
        self.root, self.total, self.largest, self.root_rss, self.root_cpu = root, 0, 0, 0, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            table = _rss_by_pid()
            tree, grew = {self.root}, True
            while grew:
                new = {pid for pid, (ppid, _) in table.items() if ppid in tree} - tree
                tree |= new
                grew = bool(new)
            sizes = [table[pid][1] for pid in tree if pid in table]
            self.total = max(self.total, sum(sizes))
            self.largest = max(self.largest, max(sizes, default=0))
            self.root_rss = max(self.root_rss, table.get(self.root, (0, 0))[1])
            self.root_cpu = _cpu_seconds_of(self.root) or self.root_cpu
            self._stop.wait(SAMPLE_SECONDS)


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------------------------- steps


def input_folder(args) -> Path:
    """The folder to ingest: the one given, or a generated dump of --docs documents (made once)."""
    if not args.docs:
        return Path(args.input)
    folder = Path(tempfile.gettempdir()) / f"newsflow-scale-{args.docs}"
    if not (folder / "MANIFEST.json").exists():
        print(f"generating {args.docs:,} documents into {folder} ...", flush=True)
        subprocess.run(
            [sys.executable, str(GENERATOR), str(GENERATOR_SOURCE), str(folder), "--docs", str(args.docs)],
            check=True, stdout=subprocess.DEVNULL,
        )
    return folder


def run_pipeline(source: Path, output: Path, model: str, beam_args: list[str]) -> dict:
    """(a): the whole pipeline as a subprocess; its wall and CPU time, peak RSS and run summary."""
    command = [sys.executable, "-m", "pipelines.cli", "ingest", str(source), "--output", str(output), "--quiet",
               "--spacy-model", model]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    cpu_before = _cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen([*command, *beam_args], cwd=REPO, env=env)
    with PeakRSS(process.pid) as rss:
        code = process.wait()
    wall = time.perf_counter() - started
    if code != 0:
        sys.exit(f"the pipeline failed (exit code {code}): {' '.join(command)}")
    summary = json.loads(max((output / "_runs").glob("*.json")).read_text())
    return {
        "seconds": wall,
        "cpu_seconds": _cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_before,  # workers are waited for: counted
        "peak_rss": rss.total,
        "largest_process_rss": rss.largest,
        "driver_rss": rss.root_rss,  # FnApiRunner keeps the data between stages in the driver
        "driver_cpu_seconds": rss.root_cpu,
        "summary": summary,
    }


def model_texts(output: Path) -> list[str]:
    """What the entities stage gave the model: the articles (a) wrote, title and text."""
    import pyarrow.dataset as ds

    from transforms.entities import TITLE_SEPARATOR

    table = ds.dataset(output / "articles", format="parquet", partitioning="hive").to_table(columns=["title", "text"])
    return [
        title + TITLE_SEPARATOR + text if title else text
        for title, text in zip(table.column("title").to_pylist(), table.column("text").to_pylist())
    ]


def words_in(texts: list[str]) -> int:
    return sum(len(text.split()) for text in texts)


def run_model(texts: list[str], model: str, processes: int, every: int = 1) -> dict:
    """(b): the bare model over `texts` (or every `every`-th of them, times scaled up by the words) on
    all cores; load and processing timed apart."""
    from transforms.entities import load_model

    sample = texts[::every]
    scale = words_in(texts) / max(words_in(sample), 1)

    cpu_before = _cpu_seconds(resource.RUSAGE_SELF) + _cpu_seconds(resource.RUSAGE_CHILDREN)
    with PeakRSS(os.getpid()) as rss:
        started = time.perf_counter()
        nlp = load_model(model)
        loaded = time.perf_counter()
        documents = sum(1 for _ in nlp.pipe(sample, batch_size=BATCH_SIZE, n_process=processes))
        done = time.perf_counter()
    cpu = _cpu_seconds(resource.RUSAGE_SELF) + _cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_before
    return {
        "seconds": (done - loaded) * scale,
        "load_seconds": loaded - started,
        "cpu_seconds": cpu * scale,
        "every": every,
        "measured_seconds": done - loaded,
        "peak_rss": rss.total,
        "largest_process_rss": rss.largest,
        "processes": processes,
        "documents": documents,
    }


# -------------------------------------------------------------------------------------------- report


def report(source: Path, a: dict, b: dict, texts: list[str]) -> dict:
    summary = a["summary"]
    words = words_in(texts)
    result = {
        "input": str(source),
        "documents_in": summary["documents"],
        "articles": len(texts),
        "words": words,
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],  # other work on the machine skews wall times
        "pipeline": {k: v for k, v in a.items() if k != "summary"} | {"run_id": summary["run_id"]},
        "model": b,
        "ratio": a["seconds"] / b["seconds"],
        "ratio_with_load": a["seconds"] / (b["seconds"] + b["load_seconds"]),
        "cpu_ratio": a["cpu_seconds"] / b["cpu_seconds"],
        "busy_seconds": {
            name.removesuffix(metrics.BUSY_SUFFIX): round(value / 1e6, 2)
            for name, value in summary["counters"].items() if name.endswith(metrics.BUSY_SUFFIX)
        },
    }
    gb = 1024**3
    print(f"input: {source}  ({summary['documents']:,} documents in, {len(texts):,} articles, {words:,} words; "
          f"{os.cpu_count()} cores, load average {result['load_average_1min']:.2f})")
    print(f"{'':28}{'seconds':>9}{'cpu s':>9}{'docs/s':>9}{'words/s':>10}{'peak RSS':>10}{'largest':>9}")
    for name, run in (("(a) full pipeline", a), (f"(b) model, {b['processes']} processes", b)):
        print(f"{name:<28}{run['seconds']:>9.1f}{run['cpu_seconds']:>9.1f}{len(texts) / run['seconds']:>9.1f}"
              f"{words / run['seconds']:>10,.0f}{run['peak_rss'] / gb:>8.2f}GB{run['largest_process_rss'] / gb:>7.2f}GB")
    print(f"    (a) input documents/s: {summary['documents'] / a['seconds']:.1f}; driver: CPU "
          f"{a['driver_cpu_seconds'] or 0:.1f} s, peak RSS {a['driver_rss'] / gb:.2f} GB; "
          f"(b) model load: {b['load_seconds']:.1f} s (not in (b)'s seconds)")
    if b["every"] > 1:
        print(f"    (b) measured on every {b['every']}th text ({b['documents']:,} texts, {b['measured_seconds']:.1f} s), "
              f"its seconds scaled up by the words")
    if result["busy_seconds"]:
        print("    (a) busy seconds by stage (summed over workers): "
              + ", ".join(f"{k} {v}" for k, v in result["busy_seconds"].items()))
    verdict = "meets" if result["ratio"] <= TARGET_RATIO else "misses"
    print(f"ratio (a)/(b): {result['ratio']:.2f} ({verdict} <= {TARGET_RATIO}); with (b)'s model load: "
          f"{result['ratio_with_load']:.2f}; CPU seconds: {result['cpu_ratio']:.2f}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", nargs="?", default=str(DEFAULT_INPUT), help="a folder to ingest (default: %(default)s)")
    parser.add_argument("--docs", type=int, help="ingest a generated dump of this many documents instead")
    parser.add_argument("--json", type=Path, help="also write the result as JSON here")
    parser.add_argument("--keep", type=Path, help="write the pipeline's output here (default: a temporary folder)")
    parser.add_argument("--model", default=None, help="spaCy model (default: the pipeline's)")
    parser.add_argument("--model-every", type=int, default=1, metavar="K",
                        help="(b) on every K-th text only, times scaled by the words (default: all texts)")
    parser.add_argument("--processes", type=int, default=os.cpu_count(), help="(b)'s processes (default: all cores)")
    args, beam_args = parser.parse_known_args(argv)  # unknown --options go to the pipeline (Beam)
    if not SHARED.is_dir() or not (Path(args.input).exists() if not args.docs else GENERATOR.exists()):
        print(f"throughput: skipped, {SHARED} (the dev corpus and the dump generator) is not here")
        return 0
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        sys.exit(f"throughput: {args.keep} is not empty (a run into it would skip what is already there)")
    from pipelines.options import DEFAULT_SPACY_MODEL

    model = args.model or DEFAULT_SPACY_MODEL
    source = input_folder(args)
    with tempfile.TemporaryDirectory(prefix="newsflow-throughput-") as scratch:
        output = args.keep or Path(scratch) / "out"
        a = run_pipeline(source, output, model, beam_args)
        texts = model_texts(output)
        b = run_model(texts, model, args.processes, args.model_every)
    result = report(source, a, b, texts)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
