"""A piper voice's ONNX graph, optimised once and kept in the cache folder.

onnxruntime rewrites a model's graph every time it loads one (constant folding, node
fusions): for the bundled voice that is about 0.3 s of the 0.44 s a load takes, in
every build that speaks a line and in every speech worker. ``session`` saves the
rewritten graph (``ORT_ENABLE_EXTENDED``, the portable levels: no layout changes
tied to this CPU) the first time, under a name made from the model file (path, size,
modification time) and the onnxruntime version, and later loads it with optimisation
off. The graph is the same either way, so the audio is the same sample for sample
(``tests/speech/test_prepared.py``).

The graph is kept as two files in a folder of its own (``<name>.voice/``): the graph
(``GRAPH``, 0.7 MB) and its weights beside it (``WEIGHTS``, 62 MB, onnxruntime's
external initializers). Kept in one file, loading it meant parsing 63 MB of protobuf
and copying every weight: 0.16-0.18 s; from the two, 0.07 s. The folder is written
under a temporary name and renamed into place whole, so a reader never sees a graph
without its weights; when two processes keep the same graph at once, the first rename
wins and the other's folder is removed. A kept graph that does not load (damaged, or
from another build of onnxruntime) is removed and made again. A cache folder that
cannot be written only means the next load optimises again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from routinecast.store import TMP_SUFFIX, cache_root, remove_quietly

FOLDER = "voices"
SUFFIX = ".voice"
GRAPH = "graph.onnx"
WEIGHTS = "graph.weights"
VERSION = "prepared-v1"
"""The optimisation (part of the voice's identity, so of every clip's key)."""
LAYOUT = "kept-v2"
"""How the optimised graph is kept (part of its folder's name only: the samples are the same)."""
WEIGHTS_MIN_BYTES = 1024
"""Initializers from this size on go to ``WEIGHTS``."""


def prepared_path(model: Path, runtime_version: str) -> Path:
    """Where the optimised graph of ``model`` is kept (its weights beside it)."""
    stat = model.stat()
    named = (
        f"{VERSION}|{LAYOUT}|{model.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{runtime_version}"
    )
    name = hashlib.sha256(named.encode()).hexdigest()[:32]
    return cache_root() / FOLDER / f"{name}{SUFFIX}" / GRAPH


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
            remove_quietly(kept.parent)
    options.graph_optimization_level = levels.ORT_ENABLE_EXTENDED
    temporary = _temporary(kept.parent)
    if temporary is not None:
        options.optimized_model_filepath = str(temporary / GRAPH)
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_file_name", WEIGHTS
        )
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_min_size_in_bytes",
            str(WEIGHTS_MIN_BYTES),
        )
    try:
        made = onnxruntime.InferenceSession(str(model), options, providers=providers)
    except BaseException:
        if temporary is not None:
            remove_quietly(temporary)
        raise
    if temporary is not None:
        _keep(temporary, kept.parent)
    return made


def _temporary(folder: Path) -> Path | None:
    """A fresh temporary folder beside ``folder``, or None if none can be made."""
    name = f".{folder.stem[:12]}-{os.getpid()}-{threading.get_ident()}{TMP_SUFFIX}"
    temporary = folder.with_name(name)
    try:
        temporary.mkdir(parents=True)
    except OSError:
        return None
    return temporary


def _keep(temporary: Path, folder: Path) -> None:
    """Rename ``temporary`` to ``folder`` whole; if another process kept it first (or the
    rename fails), drop ours. Graphs kept the old way (one ``.onnx`` file) go too."""
    try:
        temporary.rename(folder)
    except OSError:
        remove_quietly(temporary)
        return
    for old in folder.parent.glob("*.onnx"):
        remove_quietly(old)
