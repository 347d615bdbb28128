"""Send to phone: the studio's output folder shared on the LAN by ``routinecast share``'s server.

Nothing listens on the LAN until the first "Send to phone": then ``open_share`` binds
this machine's LAN address (a free port, a fresh secret path) and serves the share's
app, with its page, feed and files, from a thread. It is a separate listening socket
with its own app (made by the same factory) that has no studio routes at all, so a
phone or anything else on the Wi-Fi can read the builds and never write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import segno
from markupsafe import Markup

from routinecast.web.server import Sharing, open_share, serve


class Phone:
    """The share of one folder, started on first use and stopped with the studio."""

    def __init__(
        self, folder: Path, host: str | None = None, announce: Callable[[str], None] | None = None
    ) -> None:
        """``host``: the address to bind (default: the LAN address); ``announce(url)``."""
        self.folder = folder
        self.host = host
        self.announce = announce
        self._lock = threading.Lock()
        self._sharing: Sharing | None = None
        self._thread: threading.Thread | None = None

    def url(self) -> str:
        """The share's page URL, starting the share if it is not running (``OSError``)."""
        with self._lock:
            if self._sharing is None:
                sharing = open_share(self.folder, self.host, 0)
                self._thread = threading.Thread(
                    target=serve, args=(sharing,), name="phone-share", daemon=True
                )
                self._thread.start()
                self._sharing = sharing
                if self.announce is not None:
                    self.announce(sharing.url)
            return self._sharing.url

    @property
    def local_only(self) -> bool:
        """True when the share could only bind a loopback address (no network found)."""
        return self._sharing is not None and self._sharing.local_only

    def close(self) -> None:
        """Stop the share, if it runs."""
        with self._lock:
            sharing, thread = self._sharing, self._thread
            self._sharing = self._thread = None
        if sharing is not None:
            sharing.server.shutdown()
        if thread is not None:
            thread.join(10)


def qr_svg(url: str) -> Markup:
    """The QR code of ``url`` as inline SVG (segno escapes the text it embeds)."""
    return Markup(
        segno.make(url, error="m").svg_inline(border=4, omitsize=True, title="Scan to play")
    )
