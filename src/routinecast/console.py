"""The console script's entry point, kept apart from the command line's modules.

Speech workers are spawned processes, and a spawned process first runs the script that
started its parent (as ``__mp_main__``, without its ``if __name__ == "__main__"`` part).
The ``routinecast`` script imports only this module, so a worker does not import typer
and every command (about 0.1 s of a core) before it loads its voice.
"""

from __future__ import annotations


def main() -> None:
    """Run the command line (``routinecast.cli.main``)."""
    from routinecast.cli import main as run

    run()
