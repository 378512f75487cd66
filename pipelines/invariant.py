"""Check a finished run's staged output before it is published: every input document is in exactly one
of articles, duplicates and rejects, and no more of them were rejected than the user allows."""
from __future__ import annotations

from collections import Counter

from schemas.tables import REJECTS, TABLES
from storage.files import read_parquet
from storage.layout import Layout


class InvariantViolation(RuntimeError):
    """The run's output does not account for every input document exactly once."""


class TooManyRejects(RuntimeError):
    """A run's rejects exceed the share of its documents the user allows (--max-reject-share)."""


def check_invariant(
    layout: Layout, files: dict[str, list[str]], documents_in: int | None
) -> tuple[dict[str, int], dict[str, int]]:
    """(rows per table, rejects per reason) of the run `layout` names; raises InvariantViolation unless
    each input document appears exactly once in its staged output."""
    seen: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    rows = {}
    for table in TABLES:
        rows[table] = 0
        columns = ["source_uri", "reason"] if table == REJECTS else ["source_uri"]
        for relative in files[table]:
            staged = read_parquet(layout.fs, layout.staged(relative), columns)
            rows[table] += staged.num_rows
            seen.update(staged.column("source_uri").to_pylist())
            if table == REJECTS:
                reasons.update(staged.column("reason").to_pylist())
    repeated = [uri for uri, n in seen.items() if n > 1]
    if repeated:
        raise InvariantViolation(
            f"{len(repeated)} input documents appear more than once in the output, e.g. {repeated[:3]}"
        )
    total = sum(rows.values())
    if documents_in is not None and total != documents_in:
        raise InvariantViolation(
            f"{documents_in} input documents were read but the output accounts for {total} "
            f"({', '.join(f'{t}: {n}' for t, n in rows.items())}): documents were lost or invented"
        )
    return rows, dict(reasons)


def check_reject_share(rows: dict[str, int], reasons: dict[str, int], limit: float | None) -> None:
    """Raise TooManyRejects when more than `limit` (0-1) of the run's new rows are rejects."""
    written = sum(rows.values())
    if limit is None or not written or rows[REJECTS] / written <= limit:
        return
    top = ", ".join(f"{count:,} {reason}" for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
    raise TooManyRejects(f"{rows[REJECTS]:,} of its {written:,} documents were rejected "
                         f"({rows[REJECTS] / written:.0%}, more than --max-reject-share {limit:g}): {top}")
