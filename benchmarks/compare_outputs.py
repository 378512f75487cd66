"""Whether two newsflow outputs hold the same rows, run ids and timestamps aside: the check that a
refactoring changed no behaviour (run the same dump with the old and the new code, then compare).

    python benchmarks/compare_outputs.py OUT_BEFORE OUT_AFTER

Compares every table, the index and the manifest row for row (as sorted multisets), and the learned
template statistics. Exits 1 and names the first differences when they differ.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import pyarrow.parquet as pq

IGNORED = {"run_id", "ingested_at", "pipeline_version"}


def _rows(folder: pathlib.Path) -> list[tuple]:
    rows = []
    for path in sorted(folder.rglob("*.parquet")):
        if any(part.startswith((".", "_")) for part in path.relative_to(folder).parts):
            continue
        table = pq.read_table(path)
        names = [name for name in table.column_names if name not in IGNORED]
        partition = str(path.parent.relative_to(folder))
        for row in table.select(names).to_pylist():
            rows.append((partition, repr(sorted(row.items()))))
    return sorted(rows)


def _folders(output: pathlib.Path) -> list[str]:
    """Every folder that holds Parquet files directly under a table's name (tables, index, state)."""
    names = set()
    for path in output.rglob("*.parquet"):
        parts = path.relative_to(output).parts
        if parts[0] in ("_staging", "_quarantine"):
            continue
        depth = 2 if parts[0] in ("_index", "_state") else 1
        names.add("/".join(parts[:depth]))
    return sorted(names)


def compare(before: pathlib.Path, after: pathlib.Path) -> list[str]:
    problems = []
    folders = sorted(set(_folders(before)) | set(_folders(after)))
    for name in folders:
        old, new = _rows(before / name), _rows(after / name)
        if old != new:
            gone, added = sorted(set(old) - set(new)), sorted(set(new) - set(old))
            problems.append(f"{name}: {len(old)} rows before, {len(new)} after; "
                            f"e.g. only before {gone[:1]}, only after {added[:1]}")
        else:
            print(f"{name}: {len(new)} rows, the same")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=pathlib.Path)
    parser.add_argument("after", type=pathlib.Path)
    args = parser.parse_args()
    problems = compare(args.before, args.after)
    for problem in problems:
        print("DIFFERENT", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
