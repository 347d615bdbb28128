"""Regenerate ``docs/routinecast.schema.json`` from ``routinecast.load.schema.json_schema()``.

    python scripts/write_schema.py

The shipped routines point editors at that file on their first line
(``# yaml-language-server: $schema=../docs/routinecast.schema.json``), and
``tests/test_schema.py`` fails when it differs from what this script writes, so run
it after changing the loader's field lists, the templates or ``schema.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from routinecast.load.schema import json_schema

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "routinecast.schema.json"


def schema_text() -> str:
    """The exact text the schema file must hold."""
    return json.dumps(json_schema(), indent=1) + "\n"


def main() -> int:
    """Write the file; say whether it changed."""
    text = schema_text()
    old = TARGET.read_text(encoding="utf-8") if TARGET.exists() else None
    if old == text:
        print(f"{TARGET.relative_to(ROOT)} is up to date")
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
