"""The queried tables' columns and their meanings, as text (`newsflow schema`) and as the README's tables.

Everything comes from schemas/tables.py, where each column is defined with its meaning.
"""
from __future__ import annotations

import textwrap

from schemas.tables import DATE_PARTITIONED, TABLE_MEANINGS, described_columns

WIDTH = 110


def schema_text(tables: list[str]) -> str:
    """Each table's name and meaning, then one line per column: name, type, meaning (wrapped)."""
    blocks = []
    for table in tables:
        columns = described_columns(table)
        width = max(len(name) for name, _, _ in columns)
        partitioned = " (partitioned by year, month)" if table in DATE_PARTITIONED else ""
        lines = [f"{table}: {TABLE_MEANINGS[table]}{partitioned}"]
        for name, type_, meaning in columns:
            head = f"  {name:<{width}}  "
            lines.append(textwrap.fill(f"{type_}: {meaning}", WIDTH, initial_indent=head,
                                       subsequent_indent=" " * len(head), break_on_hyphens=False))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def schema_markdown(tables: list[str]) -> str:
    """Each table as a Markdown section with a column table (what the README shows)."""
    blocks = []
    for table in tables:
        rows = "\n".join(f"| `{name}` | {type_} | {meaning.replace('|', '/')} |"
                         for name, type_, meaning in described_columns(table))
        blocks.append(f"### `{table}` — {TABLE_MEANINGS[table]}\n\n| column | type | meaning |\n|---|---|---|\n{rows}")
    return "\n\n".join(blocks)
