"""The field tables of docs/routine-format.md, made from the tables of ``spec``.

The guide marks each generated table with ``<!-- fields: GROUP -->`` before it and
``<!-- end fields -->`` after it; ``update_guide(text)`` rewrites what lies between.
``scripts/write_schema.py`` writes the result, and a test fails when the guide differs.
"""

from __future__ import annotations

import re

from routinecast.load.spec import GROUPS, FieldSpec

_MARKED = re.compile(
    r"(<!-- fields: (?P<group>\w+) -->\n)(?P<table>.*?)(<!-- end fields -->)", re.DOTALL
)


def field_table(group: tuple[FieldSpec, ...]) -> str:
    """A Markdown table of ``group``: field, value, default and kinds where any has one."""
    columns: list[tuple[str, list[str]]] = [
        ("field", [f"`{s.name}`" for s in group]),
        ("value", [s.allowed for s in group]),
    ]
    if any(s.default for s in group):
        columns.append(("default", [s.default for s in group]))
    if any(s.used_by != "all" for s in group):
        columns.append(("used by", [s.used_by for s in group]))
    columns.append(("meaning", [s.help for s in group]))
    widths = [max(len(head), *(len(cell) for cell in cells)) for head, cells in columns]
    rows = [[head for head, _ in columns], ["-" * w for w in widths]]
    rows += [[cells[i] for _, cells in columns] for i in range(len(group))]
    return "".join(
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |\n"
        for row in rows
    )


def update_guide(text: str) -> str:
    """``text`` with every marked table regenerated; an unknown group is a ``KeyError``."""
    return _MARKED.sub(
        lambda m: m.group(1) + field_table(GROUPS[m.group("group")]) + m.group(4), text
    )


def marked_groups(text: str) -> list[str]:
    """The groups whose tables ``text`` marks, in order."""
    return [m.group("group") for m in _MARKED.finditer(text)]
