"""The share's artwork: a square PNG drawn in memory (a ring and a play mark), no image library.

Podcast apps want a square image of at least 1400 px for the show; phones show the same
image on the lock screen (Media Session). It is drawn with numpy (anti-aliased through
signed distances), encoded with ``zlib`` and cached for the life of the process.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

import numpy as np
import numpy.typing as npt

SIZE = 1400
BACKGROUND = (15, 76, 92)
RING = (244, 211, 94)
MARK = (250, 250, 245)

_Plane = npt.NDArray[np.float32]


@cache
def artwork_png(size: int = SIZE) -> bytes:
    """The artwork as PNG bytes, ``size`` x ``size`` pixels, RGB."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    x -= size / 2
    y -= size / 2
    image = np.empty((size, size, 3), dtype=np.float32)
    image[:] = BACKGROUND
    radius = np.hypot(x, y)
    ring = np.abs(radius - 0.36 * size) - 0.035 * size
    _paint(image, ring, RING)
    _paint(image, _triangle(x, y, 0.16 * size), MARK)
    return _png(np.clip(np.rint(image), 0, 255).astype(np.uint8))


def _paint(image: _Plane, distance: _Plane, colour: tuple[int, int, int]) -> None:
    """Blend ``colour`` where ``distance`` (pixels, negative inside) covers each pixel."""
    cover = np.clip(0.5 - distance, 0.0, 1.0)[..., None]
    image *= 1.0 - cover
    image += cover * np.asarray(colour, dtype=np.float32)


def _triangle(x: _Plane, y: _Plane, half: float) -> _Plane:
    """Signed distance (approximately) to a play mark pointing right, centred."""
    left = -(x + 0.8 * half)
    slope = np.hypot(1.0, 0.5)
    upper = (0.5 * (x - 1.2 * half) + y) / slope
    lower = (0.5 * (x - 1.2 * half) - y) / slope
    distance: _Plane = np.maximum(left, np.maximum(upper, lower))
    return distance


def _png(pixels: npt.NDArray[np.uint8]) -> bytes:
    height, width, _ = pixels.shape
    rows = np.zeros((height, 1 + width * 3), dtype=np.uint8)  # filter byte 0: none
    rows[:, 1:] = pixels.reshape(height, width * 3)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)),
            _chunk(b"IEND", b""),
        ]
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
