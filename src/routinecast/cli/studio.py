"""``routinecast studio``: tailor a routine in the browser, hear it, save it, send it to the phone.

Serves the studio page for the routines in FOLDER (``routines/`` by default) on
127.0.0.1 (``--host`` says otherwise, with a warning), prints its URL on a line of its
own and opens it in the browser (``--no-browser``: not). Builds go to ``--output`` with
the engine, voice and rate given here. Ctrl-C stops it: a build in progress is abandoned
and nothing half-written is left.
"""

from __future__ import annotations

import signal
import threading
import webbrowser
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape

from routinecast.cli import options as opt
from routinecast.cli.common import err, fail, guarded, out
from routinecast.errors import InputError
from routinecast.request import BuildOptions

DEFAULT_PORT = 8764
"""The studio's port unless ``--port`` says otherwise (a free one if it is taken)."""


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("studio")(studio_command)


def studio_command(
    folder: Annotated[Path, typer.Argument(help="The routines folder.")] = Path("routines"),
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; anything but 127.0.0.1 is reachable by others."),
    ] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=65535,
            help=f"Port; 0 picks a free one [default: {DEFAULT_PORT}, or a free one if taken].",
            show_default=False,
        ),
    ] = None,
    browser: Annotated[
        bool, typer.Option("--browser/--no-browser", help="Open the studio in the browser.")
    ] = True,
    output: opt.Output = Path("output"),
    engine: opt.Engine = None,
    voice: opt.Voice = None,
    rate: opt.Rate = None,
) -> None:
    """Tailor, hear, save and send routines from a page in the browser."""
    from routinecast.web.server import is_loopback
    from routinecast.web.studio.app import open_studio
    from routinecast.web.studio.phone import Phone
    from routinecast.web.studio.service import Studio

    guarded(lambda: _check_folder(folder))
    options = BuildOptions(output_dir=output, engine=engine, voice=voice, rate=rate)
    studio = Studio(folder, options)
    phone = Phone(output, announce=_announce_phone)
    try:
        serving = open_studio(studio, host, DEFAULT_PORT if port is None else port, phone)
    except OSError as exc:
        if port is not None:
            raise fail(f"cannot listen on {host} port {port}: {exc.strerror or exc}", 1) from None
        serving = open_studio(studio, host, 0, phone)
    if not is_loopback(host):
        err.print(
            f"[yellow]warning:[/] listening on {escape(host)}: other machines that reach this "
            "address can use the studio; it still checks Host, Origin and its session token"
        )
    out.print(
        f"routinecast studio: routines in {escape(str(folder))}, builds into {escape(str(output))}"
    )
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        out.print(serving.url, markup=False)
        out.print("Press Ctrl-C to stop.")
        out.file.flush()
        if browser:
            threading.Thread(target=webbrowser.open, args=(serving.url,), daemon=True).start()
        serving.server.serve_forever()  # returns on Ctrl-C (Werkzeug catches it)
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) before the server loop took over
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        abandoned = studio.jobs.running is not None
        studio.close()
        phone.close()
        serving.server.server_close()
    out.print(
        "stopped; the build in progress was abandoned (nothing was written)"
        if abandoned
        else "stopped"
    )


def _check_folder(folder: Path) -> None:
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise InputError(
            f"{what}; give the folder of your routines (routinecast new NAME makes one)",
            file=str(folder),
        )


def _announce_phone(url: str) -> None:
    out.print(f"Sending to the phone: the builds are shared on the network at {url}", markup=False)
    out.file.flush()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops the studio as Ctrl-C does."""
    raise KeyboardInterrupt
