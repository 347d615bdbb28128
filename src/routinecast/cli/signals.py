"""SIGTERM and SIGHUP get Ctrl-C's clean-up, then the process ends by that signal.

A stopped service (SIGTERM) or a closed terminal (SIGHUP) must leave what Ctrl-C
leaves: nothing half-written, no temporary file, no worker process. So while a
command runs, both raise ``Stopped``, a ``KeyboardInterrupt``: every path that cleans
up after Ctrl-C (temporary outputs and cache files removed, ffmpeg killed, the speech
workers stopped) runs unchanged. A second stop signal during that clean-up is noted,
not raised, so the clean-up finishes. Afterwards the process kills itself with the
signal it got, as a shell or a service manager expects of a program stopped by one
(``$?`` is 143 for SIGTERM, 129 for SIGHUP). A signal the caller set to be ignored
(``nohup`` ignores SIGHUP) stays ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from types import FrameType

STOPS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """A stop signal other than Ctrl-C, raised where Ctrl-C would be."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number

    @property
    def name(self) -> str:
        """SIGTERM, SIGHUP."""
        return signal.Signals(self.number).name


def interrupted_message(exc: KeyboardInterrupt) -> str:
    """What the user reads when a build was stopped."""
    how = f"stopped by {exc.name}" if isinstance(exc, Stopped) else "interrupted"
    return f"{how}: nothing was written; older outputs are unchanged"


@contextlib.contextmanager
def stop_like_ctrl_c() -> Iterator[None]:
    """Run the body with SIGTERM and SIGHUP raising ``Stopped``; then die by the signal."""
    received: list[int] = []

    def stop(number: int, _frame: FrameType | None) -> None:
        received.append(number)
        if len(received) == 1:
            raise Stopped(number)

    old = {}
    for number in STOPS:
        if signal.getsignal(number) not in (signal.SIG_IGN, None):
            old[number] = signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in old.items():
            signal.signal(number, handler)
        if received:
            _die_by(received[0])


def _die_by(number: int) -> None:
    """End this process by ``number``, its default action, once the clean-up is done."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)
