"""The console script's entry point, kept apart from the command line's modules.

Speech workers are spawned processes, and a spawned process first runs the script that
started its parent (as ``__mp_main__``, without its ``if __name__ == "__main__"`` part).
The ``routinecast`` script imports only this module, so a worker does not import typer
and every command (about 0.1 s of a core) before it loads its voice.

A command that has finished ends the process at once (``leave``): its output flushed
and the exit handlers run, but not the interpreter's teardown, which frees every object
and module one by one. After a build that spoke a line (numpy, onnxruntime and the voice
loaded) that teardown took 65-85 ms of the 1.25 s the user waits; after an up-to-date
build, 20-25 ms of 0.16 s. Where the teardown still has work to do (a thread that is
not a daemon, such as a speech pool's manager waiting for its workers), or the command
was interrupted, the process ends the usual way.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def main() -> None:
    """Run the command line (``routinecast.cli.main``), then ``leave`` with its exit code."""
    from routinecast.cli import main as run

    try:
        run()
    except SystemExit as done:
        leave(exit_code(done))
    leave(0)


def exit_code(done: SystemExit) -> int:
    """The status ``sys.exit`` would give: None is 0, a message is printed and is 1."""
    if done.code is None or isinstance(done.code, int):
        return done.code or 0
    print(done.code, file=sys.stderr)
    return 1


def leave(code: int) -> NoReturn:
    """End the process with ``code`` now: flush, run the exit handlers, skip the teardown."""
    if any(t.is_alive() and not t.daemon for t in _others()):
        sys.exit(code)  # the interpreter joins them first
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


def _others() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t is not threading.main_thread()]
