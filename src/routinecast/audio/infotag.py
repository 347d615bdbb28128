"""The Info frame at the head of a constant-bitrate MP3, written for a new run of frames.

The frame is a silent MPEG frame carrying the Xing header (frame count, byte count and
a 100-point seek table) and the LAME tag (encoder delay and padding, so players trim
the encoder's silence and the file is gapless; the music length; two CRC-16s). ffmpeg
fills it in when it finishes a file. When ``audio.splice`` joins frames from several
encodes, the counts, seek table, padding and CRCs must describe the joined stream, so
``rewrite`` recomputes them the way ffmpeg's muxer does: the result for an unjoined
encode is byte-for-byte what ffmpeg wrote (a test checks it).

Field offsets are from the "Info" tag, which follows the frame header and the
(empty) side information.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_FRAMES = 8
_BYTES = 12
_TOC = 16
_TOC_SIZE = 100
_DELAY_PADDING = 141
_MUSIC_LENGTH = 148
_MUSIC_CRC = 152
_TAG_CRC = 154
_TAG_CRC_SPAN = 190
"""The tag CRC covers the frame's first 190 bytes."""
_BAGS = 400
"""Seek-table samples kept while counting frames (LAME's VbrTag scheme)."""
_ROW = 256
"""Bytes per row of ``crc16``'s side-by-side CRCs."""


class InfoTagError(ValueError):
    """The frame is not an Info frame this module can rewrite."""


def tag_offset(frame: bytes) -> int:
    """Where "Info" (or "Xing") starts: after the 4-byte header and the side information."""
    header = int.from_bytes(frame[:4], "big")
    mpeg1 = (header >> 19) & 0b11 == 0b11
    mono = (header >> 6) & 0b11 == 0b11
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    offset = 4 + side
    if frame[offset : offset + 4] not in (b"Info", b"Xing"):
        raise InfoTagError("the first frame carries no Info or Xing header")
    return offset


def delay_of(frame: bytes) -> int:
    """The encoder delay recorded in the LAME tag, in samples."""
    at = tag_offset(frame) + _DELAY_PADDING
    return int.from_bytes(frame[at : at + 3], "big") >> 12


def padding_of(frame: bytes) -> int:
    """The trailing padding recorded in the LAME tag, in samples."""
    at = tag_offset(frame) + _DELAY_PADDING
    return int.from_bytes(frame[at : at + 3], "big") & 0xFFF


def rewrite(
    info: bytes, sizes: Sequence[int], music_crc: int, samples: int, frame_samples: int
) -> bytes:
    """``info`` made true of audio frames of lengths ``sizes`` whose ``crc16`` is ``music_crc``.

    ``samples`` is how many PCM samples were encoded: the padding is whatever the
    frames hold beyond them and the encoder delay.
    """
    out = bytearray(info)
    at = tag_offset(info)
    total = len(info) + sum(sizes)
    delay = delay_of(info)
    padding = len(sizes) * frame_samples - samples - delay
    if not 0 <= padding < 1 << 12:
        raise InfoTagError(f"{len(sizes)} frames cannot hold {samples} samples after {delay}")
    out[at + _FRAMES : at + _FRAMES + 4] = len(sizes).to_bytes(4, "big")
    out[at + _BYTES : at + _BYTES + 4] = total.to_bytes(4, "big")
    out[at + _TOC : at + _TOC + _TOC_SIZE] = seek_table(len(info), sizes)
    out[at + _DELAY_PADDING : at + _DELAY_PADDING + 3] = ((delay << 12) | padding).to_bytes(
        3, "big"
    )
    out[at + _MUSIC_LENGTH : at + _MUSIC_LENGTH + 4] = total.to_bytes(4, "big")
    out[at + _MUSIC_CRC : at + _MUSIC_CRC + 2] = music_crc.to_bytes(2, "big")
    out[at + _TAG_CRC : at + _TAG_CRC + 2] = b"\0\0"
    out[at + _TAG_CRC : at + _TAG_CRC + 2] = crc16(out[:_TAG_CRC_SPAN]).to_bytes(2, "big")
    return bytes(out)


def seek_table(first: int, sizes: Sequence[int]) -> bytes:
    """The Xing table: for each percent of the frames, its byte position in 256ths.

    Positions are sampled into at most 400 "bags" as the frames are counted, each bag
    twice as wide whenever the bags fill, as LAME and ffmpeg do.
    """
    bags: list[int] = []
    want, seen, size = 1, 0, first
    for frame in sizes:
        size += frame
        seen += 1
        if seen == want:
            bags.append(size)
            seen = 0
            if len(bags) == _BAGS:
                bags = bags[1::2]
                want *= 2
    table = [0]
    for i in range(1, _TOC_SIZE):
        position = bags[i * len(bags) // _TOC_SIZE] if bags else 0
        table.append(min(256 * position // size, 255))
    return bytes(table)


@functools.cache
def _crc_table(bits: int) -> npt.NDArray[np.uint16]:
    """CRC-16/ARC (polynomial 0x8005, reflected: 0xA001): the register after ``bits``
    one-bit steps, for every value of the low ``bits`` bits (8: a byte, 16: a word)."""
    table = np.arange(1 << bits, dtype=np.uint32)
    for _ in range(bits):
        table = np.where(table & 1, (table >> 1) ^ 0xA001, table >> 1).astype(np.uint32)
    return table.astype(np.uint16)


def _crc_bytes(data: bytes, crc: int) -> int:
    table = _crc_table(8)
    for byte in data:
        crc = int(table[(crc ^ byte) & 0xFF]) ^ (crc >> 8)
    return crc


def crc16(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/ARC of ``data`` (no final xor), as ffmpeg's LAME tag uses, continuing from
    ``crc`` (the CRC of the bytes before; 0 to start), so a stream can be fed in blocks.

    The bytes are cut into rows of ``_ROW`` bytes whose CRCs advance together, a
    little-endian 16-bit word per numpy step through a 65536-entry table. The CRC is
    linear, so rows then join in pairs: the first one's CRC carried past the second's
    bytes (``_carry``) xor the second's. A zero row in front changes nothing.
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    whole = raw.size // _ROW * _ROW
    columns = np.ascontiguousarray(raw[:whole].view("<u2").reshape(-1, _ROW // 2).T)
    crcs = np.zeros(whole // _ROW, dtype=np.uint16)
    table = _crc_table(16)
    for column in columns:
        crcs = table[crcs ^ column]
    own = _crc_bytes(raw[whole:].tobytes(), _joined(crcs))
    carried = _carry(_basis(raw.size), np.array([crc], dtype=np.uint16))
    return int(carried[0]) ^ own


def crc16_after(first: int, second: int, length: int) -> int:
    """The CRC-16 of two blocks end to end, from ``first`` (the first block's CRC),
    ``second`` (the second's, from 0) and the second's ``length`` in bytes: ``crc16(a + b)
    == crc16_after(crc16(a), crc16(b), len(b))``, the CRC being linear."""
    carried = _carry(_basis(length), np.array([first], dtype=np.uint16))
    return int(carried[0]) ^ second


def _basis(count: int) -> npt.NDArray[np.uint16]:
    """Where each register bit goes over ``count`` zero bytes (the step is linear)."""
    basis = _BITS
    for power, step in enumerate(_steps()):
        if count >> power & 1:
            basis = _carry(step, basis)
    return basis


_BITS = np.array([1 << bit for bit in range(16)], dtype=np.uint16)
_BITS.flags.writeable = False


@functools.cache
def _steps() -> tuple[npt.NDArray[np.uint16], ...]:
    """Where each register bit goes over 1, 2, 4 ... 2**47 zero bytes."""
    step = _crc_table(8)[_BITS & 0xFF] ^ (_BITS >> 8)
    steps = [step]
    for _ in range(47):
        step = _carry(step, step)
        steps.append(step)
    return tuple(steps)


def _joined(crcs: npt.NDArray[np.uint16]) -> int:
    """The CRC of the rows end to end, from each row's own CRC."""
    basis = _basis(_ROW)
    while crcs.size > 1:
        if crcs.size % 2:
            crcs = np.concatenate([np.zeros(1, dtype=np.uint16), crcs])
        crcs = _carry(basis, crcs[0::2]) ^ crcs[1::2]
        basis = _carry(basis, basis)
    return int(crcs[0]) if crcs.size else 0


def _carry(basis: npt.NDArray[np.uint16], values: npt.NDArray[np.uint16]) -> npt.NDArray[np.uint16]:
    """Registers ``values`` carried past as many zero bytes as ``basis`` describes: each
    set bit of a value brings in its column of ``basis``, all xored together."""
    set_bits = (values[:, np.newaxis] >> np.arange(16, dtype=np.uint16)) & 1 == 1
    out: npt.NDArray[np.uint16] = np.bitwise_xor.reduce(
        np.where(set_bits, basis, np.uint16(0)), axis=1
    )
    return out
