"""The command line: ``main.py``-style assembly of one file per command (typer)."""

from __future__ import annotations

import typer

from routinecast.cli import (
    build,
    cache_cmd,
    doctor,
    list_cmd,
    new,
    plan,
    schema,
    share,
    studio,
    validate,
    voices,
)
from routinecast.cli.signals import stop_like_ctrl_c

app = typer.Typer(
    name="routinecast",
    help="Compile an exercise routine into one voice-guided MP3.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for module in (build, plan, validate, list_cmd, voices, new, schema, doctor, share, studio):
    module.register(app)
app.add_typer(cache_cmd.app, name="cache")


def main() -> None:
    """Console-script entry point (SIGTERM and SIGHUP clean up as Ctrl-C does)."""
    with stop_like_ctrl_c():
        app()
