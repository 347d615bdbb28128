"""A piper voice's ONNX graph, optimised once and kept in the cache folder.

onnxruntime rewrites a model's graph every time it loads one (constant folding, node
fusions): for the bundled voice that is about 0.3 s of the 0.44 s a load takes, in
every build that speaks a line and in every speech worker. ``session`` saves the
rewritten graph (``ORT_ENABLE_EXTENDED``, the portable levels: no layout changes
tied to this CPU) the first time, under a name made from the model file (path, size,
modification time) and the onnxruntime version, and later loads that file with
optimisation off: about 0.16 s. The graph is the same either way, so the audio is the
same sample for sample (``tests/speech/test_prepared.py``).

A cache folder that cannot be written only means the next load optimises again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from routinecast.store import TMP_SUFFIX, cache_root, remove_quietly

FOLDER = "voices"
SUFFIX = ".onnx"
VERSION = "prepared-v1"


def prepared_path(model: Path, runtime_version: str) -> Path:
    """Where the optimised graph of ``model`` is kept."""
    stat = model.stat()
    named = f"{VERSION}|{model.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{runtime_version}"
    return cache_root() / FOLDER / f"{hashlib.sha256(named.encode()).hexdigest()[:32]}{SUFFIX}"


def session(model: Path, options: Any, providers: list[str]) -> Any:
    """An onnxruntime session for ``model``, from its optimised graph when one is kept."""
    import onnxruntime

    levels = onnxruntime.GraphOptimizationLevel
    kept = prepared_path(model, onnxruntime.__version__)
    if kept.is_file():
        options.graph_optimization_level = levels.ORT_DISABLE_ALL
        try:
            return onnxruntime.InferenceSession(str(kept), options, providers=providers)
        except Exception:  # damaged or from another build of onnxruntime: optimise again
            remove_quietly(kept)
    options.graph_optimization_level = levels.ORT_ENABLE_EXTENDED
    temporary = _temporary(kept)
    if temporary is not None:
        options.optimized_model_filepath = str(temporary)
    try:
        made = onnxruntime.InferenceSession(str(model), options, providers=providers)
    except BaseException:
        if temporary is not None:
            remove_quietly(temporary)
        raise
    if temporary is not None:
        _keep(temporary, kept)
    return made


def _temporary(kept: Path) -> Path | None:
    """A fresh temporary name beside ``kept``, or None if the folder cannot be made."""
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return kept.with_name(f".{kept.stem[:12]}-{os.getpid()}-{threading.get_ident()}{TMP_SUFFIX}")


def _keep(temporary: Path, kept: Path) -> None:
    try:
        os.replace(temporary, kept)
    except OSError:
        remove_quietly(temporary)
