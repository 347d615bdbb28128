"""docs/routine-format.md stays true: its examples load, and it names everything the code has.

Every ```yaml block of the guide is one of:

* a complete routine: its first line (after an optional ``# file: NAME.yaml``) is
  ``title: ...``; it must pass ``routinecast validate`` (``check_file``);
* a library: it begins with ``- id:``; it must load with ``load_library``;
* a fragment: its first line is ``# fragment``; it is only checked to be YAML.

A block whose first line is ``# file: NAME.yaml`` is written under that name, so later
blocks can ``extends:`` it or name it in ``library:``. Each block is checked in a fresh
folder holding every named block that comes before it in the guide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from routinecast.cli.validate import check_file
from routinecast.cues import builtin_templates
from routinecast.load.routine import (
    EXERCISE_FIELDS,
    PACING_FIELDS,
    ROUTINE_FIELDS,
    STEP_FIELDS,
    VOICE_FIELDS,
    load_library,
)
from routinecast.speech.lexicon import builtin_lexicon

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "routine-format.md"
FENCE = re.compile(r"^```yaml[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
FILE_LINE = re.compile(r"^#\s*file:\s*(\S+\.ya?ml)\s*$")


@dataclass(frozen=True)
class Block:
    """One ```yaml block of the guide."""

    index: int
    line: int
    text: str
    kind: str  # routine | library | fragment
    name: str | None  # from a "# file:" first line

    @property
    def label(self) -> str:
        return f"block {self.index} at docs/routine-format.md:{self.line}"


def classify(text: str) -> tuple[str, str | None]:
    """(kind, file name) of a block, by its first lines."""
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if first == "# fragment":
        return "fragment", None
    name = None
    match = FILE_LINE.match(first)
    if match:
        name = match.group(1)
        lines = lines[1:]
    head = next((ln for ln in lines if ln.strip()), "")
    if head.startswith("title:"):
        return "routine", name
    if head.startswith("- id:"):
        return "library", name
    return "unmarked", name


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def blocks() -> list[Block]:
    text = doc_text()
    out = []
    for index, match in enumerate(FENCE.finditer(text), start=1):
        line = text.count("\n", 0, match.start()) + 2
        kind, name = classify(match.group(1))
        out.append(Block(index, line, match.group(1), kind, name))
    return out


BLOCKS = blocks()
CHECKED = [b for b in BLOCKS if b.kind in ("routine", "library")]


def write_companions(block: Block, folder: Path) -> None:
    """Write every named block that comes before ``block``."""
    for earlier in BLOCKS:
        if earlier.index >= block.index:
            break
        if earlier.name:
            (folder / earlier.name).write_text(earlier.text, encoding="utf-8")


def test_the_guide_has_examples() -> None:
    kinds = {b.kind for b in BLOCKS}
    assert {"routine", "library", "fragment"} <= kinds, kinds
    assert any(b.name for b in BLOCKS), "no '# file:' example for extends/library"


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: f"block{b.index}-line{b.line}")
def test_every_block_is_marked_and_is_yaml(block: Block) -> None:
    assert block.kind != "unmarked", (
        f"{block.label}: a yaml block must start with title: (a routine), - id: (a library) "
        "or the comment '# fragment'"
    )
    yaml.safe_load(block.text)


def test_file_names_are_unique_and_defined_before_use() -> None:
    names = [b.name for b in BLOCKS if b.name]
    assert len(names) == len(set(names)), names
    defined: set[str] = set()
    for block in BLOCKS:
        if block.kind == "routine":
            doc = yaml.safe_load(block.text)
            libraries = doc.get("library") or []
            wanted = [doc["extends"]] if "extends" in doc else []
            wanted += [libraries] if isinstance(libraries, str) else list(libraries)
            missing = [w for w in wanted if w not in defined]
            assert not missing, f"{block.label} needs {missing} from an earlier '# file:' block"
        if block.name:
            defined.add(block.name)


@pytest.mark.parametrize("block", CHECKED, ids=lambda b: f"block{b.index}-line{b.line}")
def test_example_loads(block: Block, tmp_path: Path) -> None:
    write_companions(block, tmp_path)
    path = tmp_path / (block.name or f"example-{block.index}.yaml")
    path.write_text(block.text, encoding="utf-8")
    if block.kind == "library":
        assert load_library(path), f"{block.label}: an empty library"
    else:
        check_file(path)


FIELD_LISTS = {
    "routine": ROUTINE_FIELDS,
    "step": STEP_FIELDS,
    "exercise": EXERCISE_FIELDS,
    "pacing": PACING_FIELDS,
    "voice": VOICE_FIELDS,
}


@pytest.mark.parametrize("group", FIELD_LISTS)
def test_every_field_is_documented(group: str) -> None:
    text = doc_text()
    missing = [f for f in FIELD_LISTS[group] if f"`{f}`" not in text]
    assert not missing, f"{group} fields missing from docs/routine-format.md: {missing}"


def test_every_template_is_documented_with_its_text() -> None:
    text = doc_text()
    missing = [name for name in builtin_templates() if f"`{name}`" not in text]
    assert not missing, f"cue templates missing from docs/routine-format.md: {missing}"
    stale = [
        name for name, source in builtin_templates().items() if f'{name}: "{source}"' not in text
    ]
    assert not stale, f"built-in text of these templates differs in the guide: {stale}"


def test_builtin_lexicon_is_listed() -> None:
    text = doc_text()
    missing = [
        f"{word}: {said}" for word, said in builtin_lexicon() if f"{word}: {said}" not in text
    ]
    assert not missing, f"built-in lexicon entries missing from the guide: {missing}"


CITED = re.compile(r"\b((?:docs/)?[\w./-]+\.md)\b")


def test_every_document_a_docstring_cites_is_in_the_repo() -> None:
    """A docstring that names a ``.md`` file names one this repository holds."""
    missing = []
    for path in sorted((ROOT / "src" / "routinecast").rglob("*.py")):
        for name in CITED.findall(path.read_text("utf-8")):
            if not (ROOT / name).is_file():
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert missing == []


def test_the_timeline_format_is_documented_beside_the_routine_format() -> None:
    text = (ROOT / "docs" / "timeline.md").read_text("utf-8")
    for needed in ("## Timing rules", "## JSON shape", '"format": "routinecast.timeline/1"'):
        assert needed in text
