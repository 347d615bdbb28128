"""MPEG audio Layer III frames: find them in an MP3 stream, and say how long each is.

An MP3 written by ``audio.encode`` is an "Info" frame (the Xing header with the LAME
tag) followed by audio frames, each a 4-byte header and its data. A frame's length
follows from its header alone: ``samples / 8 * bitrate / sample rate`` bytes, plus one
if the padding bit is set. ``audio.splice`` joins frames of encodes made in parallel
at frame boundaries, so it needs nothing more than where each frame starts.
"""

from __future__ import annotations

import array

_SYNC = 0x7FF
_LAYER_III = 0b01
_RATES = {0b11: (44100, 48000, 32000), 0b10: (22050, 24000, 16000), 0b00: (11025, 12000, 8000)}
"""Sample rates by version bits (MPEG-1, MPEG-2, MPEG-2.5) and rate index."""
_KBPS_MPEG1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_KBPS_MPEG2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)


class FrameError(ValueError):
    """The bytes are not a run of Layer III frames."""


def samples_per_frame(sample_rate: int) -> int:
    """1152 for MPEG-1 rates (32-48 kHz), 576 for MPEG-2 and 2.5 (8-24 kHz)."""
    return 1152 if sample_rate >= 32000 else 576


def frame_size(header: int) -> int:
    """The length in bytes of the Layer III frame whose 32-bit header is ``header``."""
    version = (header >> 19) & 0b11
    rate_index = (header >> 10) & 0b11
    kbps_index = (header >> 12) & 0b1111
    if header >> 21 != _SYNC or (header >> 17) & 0b11 != _LAYER_III or version == 0b01:
        raise FrameError(f"no Layer III frame header: {header:08x}")
    if rate_index == 0b11 or kbps_index in (0, 0b1111):
        raise FrameError(f"free-format or reserved values in frame header {header:08x}")
    rate = _RATES[version][rate_index]
    kbps = (_KBPS_MPEG1 if version == 0b11 else _KBPS_MPEG2)[kbps_index]
    padding = (header >> 9) & 1
    return samples_per_frame(rate) // 8 * kbps * 1000 // rate + padding


def boundaries(data: bytes | memoryview, start: int = 0) -> array.array[int]:
    """Where every frame from ``start`` on begins, then where the last one ends: ``data``
    must hold whole frames. A stream has few distinct headers (the padding bit comes and
    goes), so each size is worked out once; a 16-minute file's 36 000 frames take 10 ms."""
    found = array.array("q", [start])
    sizes: dict[bytes, int] = {}
    offset, end = start, len(data)
    view = memoryview(data)
    while offset < end:
        if offset + 4 > end:
            raise FrameError(f"{end - offset} stray bytes at offset {offset}")
        header = bytes(view[offset : offset + 4])
        size = sizes.get(header)
        if size is None:
            size = sizes[header] = frame_size(int.from_bytes(header, "big"))
        offset += size
        if offset > end:
            raise FrameError(f"frame at offset {offset - size} is cut short")
        found.append(offset)
    return found
