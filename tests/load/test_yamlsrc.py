"""YAML reading: lines of keys and items, and every failure as an ``InputError`` with a line."""

from __future__ import annotations

from pathlib import Path

import pytest

from routinecast.errors import InputError, LimitError
from routinecast.load.yamlsrc import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    YList,
    YMap,
    load_yaml,
    located_tree,
    parse_yaml,
)
from routinecast.locations import Loc, Val


def parse(text: str) -> object:
    return parse_yaml(text, "r.yaml")


def refused(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse(text)
    assert info.value.file == "r.yaml"
    return info.value


def test_mappings_and_lists_remember_lines() -> None:
    doc = parse("title: X\nsteps:\n  - exercise: dead-bug\n    hold: 60s\n\n  - rest: 10s\n")
    assert isinstance(doc, YMap)
    assert (doc.line, doc.line_of("title"), doc.line_of("steps")) == (1, 1, 2)
    assert doc.line_of("missing") == 1
    steps = doc["steps"]
    assert isinstance(steps, YList)
    assert steps.item_lines == [3, 6]
    assert steps.line_of(1) == 6
    assert steps.line_of(7) == steps.line
    assert steps[0].line_of("hold") == 4


def test_every_mapping_and_list_knows_its_file_and_line() -> None:
    """A typed ``Loc`` on each node, and ``val()`` for a value with its place."""
    doc = parse("title: X\nsteps:\n  - exercise: dead-bug\n    hold: 60s\n")
    assert isinstance(doc, YMap)
    assert doc.loc == Loc("r.yaml", 1)
    assert doc.val("steps").loc == Loc("r.yaml", 2)
    steps = doc["steps"]
    assert steps.loc == Loc("r.yaml", 3)
    assert steps.val(0) == Val(steps[0], "r.yaml", 3)
    assert steps[0].val("hold") == Val("60s", "r.yaml", 4)
    assert steps[0].loc == Loc("r.yaml", 3)


def test_a_plain_tree_gets_one_place() -> None:
    """A ``--set`` value parsed elsewhere: every node at the option's place."""
    tree = located_tree({"id": "x", "cues": [{"at": 3, "say": "Go."}]}, Loc("--set", 0))
    assert isinstance(tree, YMap) and tree.loc == Loc("--set", 0)
    assert isinstance(tree["cues"], YList) and tree["cues"].loc == Loc("--set", 0)
    assert tree["cues"][0].val("say") == Val("Go.", "--set", 0)
    assert located_tree("45s", Loc("--set", 0)) == "45s"


def test_plain_values_and_merge_keys() -> None:
    doc = parse("base: &b {hold: 5s, reps: 3}\nstep:\n  <<: *b\n  reps: 4\n1: one\n")
    assert isinstance(doc, YMap)
    assert doc["step"] == {"hold": "5s", "reps": 4}
    assert doc["1"] == "one"


def test_duplicate_key() -> None:
    err = refused("title: X\nsteps:\n  - hold: 1\n    reps: 2\n    hold: 3\n")
    assert str(err) == (
        'r.yaml:5: "hold" appears twice in one mapping (first on line 3); '
        "a field may be given only once"
    )


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ("title: X\nsummary: a: b\n", 2, 'put text that contains ": " in quotes'),
        ("title: X\n\tsteps: 1\n", 2, "indent with spaces, not tabs"),
        ("title: X\nsteps:\n  - hold: [60s\n  - x: 1\n", 3, "never closed"),
        ("title: 'X\nsteps: 1\n", 1, "never closed"),
        ("title: X\n---\ntitle: Y\n", 2, "remove the extra ---"),
        ("title: *nope\n", 1, "define the &anchor"),
        ("title: !!python/object:os.system x\n", 1, "are not allowed"),
        ("title: X\nsteps:\n  - a\n b: 1\n", 4, "YAML syntax error"),
    ],
)
def test_syntax_errors_have_line_and_hint(text: str, line: int, phrase: str) -> None:
    err = refused(text)
    assert err.line == line
    assert "YAML syntax error" in str(err)
    assert phrase in str(err)


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ("title: X\nhold: 1" + "0" * 5000 + "\n", 2, "a number with too many digits"),
        ("title: X\nhold: 2024-13-45\n", 2, "month must be in 1..12"),
    ],
)
def test_values_python_refuses(text: str, line: int, phrase: str) -> None:
    err = refused(text)
    assert err.line == line
    assert phrase in str(err)
    assert "put it in quotes" in str(err)


def test_deep_nesting_is_refused() -> None:
    err = refused("steps: " + "[" * 3000 + "]" * 3000 + "\n")
    assert isinstance(err, LimitError)
    err = refused("steps: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    assert isinstance(err, LimitError)
    assert f"more than {MAX_DEPTH} levels" in str(err)


def test_alias_bombs_and_loops_are_refused() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for name, prev in zip("bcdefg", "abcdef", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    err = refused("\n".join(lines) + "\n")
    assert isinstance(err, LimitError)
    assert "counting every copy an alias makes" in str(err)
    err = refused("steps: &s [1, *s]\n")
    assert isinstance(err, LimitError)


def test_empty_document_is_none() -> None:
    assert parse("---\n") is None


def files(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "r.yaml"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "line", "phrase"),
    [
        (b"", None, "is empty"),
        (b"\n   \n", None, "is empty"),
        (b"# only\n  # comments\n", None, "is empty"),
        (b"\xef\xbb\xbf", None, "is empty"),
        (b"title: ok\nsummary: fine\nintro: caf\xe9\n", 3, "is not UTF-8 text (byte 0xe9)"),
    ],
)
def test_unreadable_text(tmp_path: Path, data: bytes, line: int | None, phrase: str) -> None:
    path = files(tmp_path, data)
    with pytest.raises(InputError) as info:
        load_yaml(path, "r.yaml")
    assert info.value.line == line
    assert phrase in str(info.value)
    assert str(info.value).startswith("r.yaml")


def test_bom_is_skipped(tmp_path: Path) -> None:
    doc = load_yaml(files(tmp_path, b"\xef\xbb\xbftitle: X\n"))
    assert doc == {"title": "X"}


def test_missing_folder_and_huge_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_yaml(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="is a folder"):
        load_yaml(tmp_path)
    big = files(tmp_path, b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    with pytest.raises(LimitError, match="may be at most 1,000,000 bytes"):
        load_yaml(big)


def _placed(node: object) -> object:
    """A tree with every mapping's and list's place and lines spelled out."""
    if isinstance(node, YMap):
        return [node.loc, node.key_lines, {k: _placed(v) for k, v in node.items()}]
    if isinstance(node, YList):
        return [node.loc, node.item_lines, [_placed(v) for v in node]]
    return node


ROOT = Path(__file__).resolve().parents[2]
SHIPPED_YAML = sorted(
    [*(ROOT / "routines").glob("*.yaml"), *(ROOT / "src" / "routinecast").rglob("*.yaml")]
)


@pytest.mark.parametrize("path", SHIPPED_YAML, ids=lambda p: p.name)
def test_libyaml_and_the_python_parser_build_the_same_tree(path: Path) -> None:
    from routinecast.load import yamlsrc

    if yamlsrc._FastLoader is None:
        pytest.skip("this PyYAML was built without libyaml")
    text = path.read_text(encoding="utf-8")
    fast = yamlsrc._parse(yamlsrc._FastLoader, text, str(path))
    slow = yamlsrc._parse(yamlsrc._Loader, text, str(path))
    assert _placed(fast) == _placed(slow)
    assert _placed(parse_yaml(text, str(path))) == _placed(slow)


def test_a_document_libyaml_refuses_gets_the_python_parsers_message() -> None:
    error = refused("title: a: b\n")
    assert error.line == 1
    assert 'put text that contains ": " in quotes' in str(error)
