"""Regenerate ``docs/routinecast.schema.json`` and the field tables of the routine guide.

    python scripts/write_schema.py

Both come from the field tables of ``routinecast.load.spec``: the schema from
``routinecast.load.schema.json_schema()``, the tables between the ``<!-- fields: ... -->``
markers of ``docs/routine-format.md`` from ``routinecast.load.reference``. The shipped
routines point editors at the schema on their first line
(``# yaml-language-server: $schema=../docs/routinecast.schema.json``), and the tests fail
when either file differs from what this script writes, so run it after changing the
field tables, the templates or ``schema.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from routinecast.load.reference import update_guide
from routinecast.load.schema import json_schema

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "routinecast.schema.json"
GUIDE = ROOT / "docs" / "routine-format.md"


def schema_text() -> str:
    """The exact text the schema file must hold."""
    return json.dumps(json_schema(), indent=1) + "\n"


def _write(path: Path, text: str) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old == text:
        print(f"{path.relative_to(ROOT)} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> int:
    """Write both files; say whether each changed."""
    _write(TARGET, schema_text())
    _write(GUIDE, update_guide(GUIDE.read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
