"""One run over every hostile input newsflow's tests know (tests/hostile_corpus.py: broken encodings,
bombs, poison containers, pathological lines, pipes, links out of the dump, aliasing names), with its wall
time and peak memory (the whole process tree, sampled as in throughput.py), and the check that every input
document is in exactly one table.

    python benchmarks/hostile.py [--max-document-bytes N]

Issue 23's bar: under 2 minutes on 2 cores, under 2 GB for all processes together.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "benchmarks")]

from hostile_corpus import write_corpus
from throughput import PeakRSS

from schemas.tables import ARTICLES, DUPLICATES, REJECTS
from storage.visible import open_table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-document-bytes", type=int, default=4 * 1024 * 1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsflow-hostile-") as root:
        dump, out = Path(root) / "dump", Path(root) / "out"
        expected = write_corpus(dump, args.max_document_bytes)
        command = [sys.executable, "-m", "pipelines.cli", "ingest", str(dump), "--output", str(out), "--quiet",
                   f"--max-document-bytes={args.max_document_bytes}"]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO)
        with PeakRSS(process.pid) as rss:
            code = process.wait()
        wall = time.perf_counter() - started
        seen: dict[str, int] = {}
        for table in (ARTICLES, DUPLICATES, REJECTS):
            for uri in open_table(str(out), table).to_table(columns=["source_uri"]).column("source_uri").to_pylist():
                name = uri.split(f"{dump}/", 1)[1]
                seen[name] = seen.get(name, 0) + 1
        named = {name.split("#")[0] if name.startswith("image-only.warc.gz#") else name for name in seen}
        wanted = {name.split("#")[0] if name.startswith("image-only.warc.gz#") else name for name in expected}
    print(f"hostile corpus: {len(expected)} documents expected, {sum(seen.values())} rows, exit code {code}")
    print(f"wall {wall:.1f} s, peak RSS {rss.total / 1e9:.2f} GB (all processes), largest process {rss.largest / 1e9:.2f} GB")
    twice = sorted(name for name, n in seen.items() if n > 1)
    missing, unexpected = sorted(wanted - named), sorted(named - wanted)
    print(f"in more than one table: {twice or 'none'}; missing: {missing or 'none'}; unexpected: {unexpected or 'none'}")
    return 0 if code == 0 and not twice and not missing and not unexpected else 1


if __name__ == "__main__":
    sys.exit(main())
