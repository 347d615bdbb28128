"""The folders are the architecture: each stage imports only itself and the contracts.

Contracts (the floor every stage stands on): ``errors``, ``durations``, ``locations``,
``model``, ``timeline``, ``cues``, ``dsp``, ``store`` (the cache folder, its atomic
writer and the store of built files: the speech cache, the master gains and the
pipeline all write there) and ``reads`` (what a build read, for its receipt). Stages:
``load``, ``timing``, ``speech``, ``audio``, and ``outputs``. Only the edges may import
several stages: ``pipeline``, ``cli``, ``console`` (the console script's door to
``cli``), ``web``, ``request`` (what a build is asked and answers) and ``receipts`` (an
unchanged build answered without the stages). The
package's ``__init__`` is the public door: it imports its names lazily (on first
use), so its runtime imports are none and every stage may read ``SAMPLE_RATE`` from
it. No import cycles between modules.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "routinecast"
CONTRACTS = {
    "__init__",
    "errors",
    "durations",
    "locations",
    "model",
    "timeline",
    "cues",
    "dsp",
    "store",
    "reads",
}
EDGES = {"pipeline", "cli", "console", "web", "request", "receipts"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:`` (imports for the type checker only)."""
    skip = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    return [node for node in ast.walk(tree) if id(node) not in skip]


def _imports(path: Path) -> set[str]:
    """Every routinecast module ``path`` imports at run time (absolute imports only)."""
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("routinecast"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("routinecast")}
    return found


def _floor(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_no_relative_imports_hide_an_edge() -> None:
    relative = [
        str(p.relative_to(PACKAGE))
        for p in SOURCES
        for n in ast.walk(ast.parse(p.read_text("utf-8")))
        if isinstance(n, ast.ImportFrom) and n.level > 0
    ]
    assert relative == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_stage_imports_itself_and_the_contracts_only(path: Path) -> None:
    stage = _floor(_module(path))
    if stage in EDGES:
        return
    outside = {
        m
        for m in _imports(path)
        if _floor(m) != stage and _floor(m) not in CONTRACTS and m != "routinecast"
    }
    if stage in CONTRACTS:
        # A contract stands on other contracts only.
        outside |= {m for m in _imports(path) if _floor(m) not in CONTRACTS}
    assert outside == set(), f"{path.relative_to(PACKAGE)} reaches into {sorted(outside)}"


def test_no_import_cycles() -> None:
    graph = {_module(p): {m for m in _imports(p) if m != _module(p)} for p in SOURCES}
    known = set(graph)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in known:
                continue
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_loading_and_timing_import_no_numpy() -> None:
    code = (
        "import sys\n"
        "import routinecast.load, routinecast.load.routine, routinecast.load.overrides\n"
        "import routinecast.timing.script, routinecast.timing.compiler, routinecast.timing.fit\n"
        "heavy = sorted(m for m in ('numpy', 'scipy', 'onnxruntime') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


TEST_ONLY = ("scipy", "pyloudnorm")
"""Reference implementations the tests compare against; not installed with the package."""


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_imports_a_test_only_library(path: Path) -> None:
    names = {
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {n for n in names if n.split(".")[0] in TEST_ONLY}


def test_the_public_api_is_pinned() -> None:
    import routinecast

    assert routinecast.__all__ == [
        "SAMPLE_RATE",
        "BuildOptions",
        "BuildResult",
        "InputError",
        "RoutinecastError",
        "__version__",
        "build",
        "load_routine",
        "plan",
    ]
    for name in routinecast.__all__:
        assert getattr(routinecast, name) is not None
    assert issubclass(routinecast.InputError, routinecast.RoutinecastError)


def test_importing_the_package_is_cheap() -> None:
    code = (
        "import sys, routinecast\n"
        "print(sorted(m for m in sys.modules if m.startswith('routinecast')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['routinecast']"
