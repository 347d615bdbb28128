"""Cascades of second-order IIR sections, as ``scipy.signal.sosfilt`` runs them.

* ``sosfilt(sos, x, zi)``: ``scipy.signal.sosfilt(sos, x, zi=zi)``, returning
  ``(y, zf)`` even when ``zi`` is None.  The cascade of second-order sections
  (transposed direct form II, scipy's state convention) is one linear system
  ``s' = A s + B x``, ``y = C s + D x`` whose state is the sections' states stacked.
  The signal is cut into blocks of ``BLOCK`` samples.  A block's output is its
  zero-state response (its samples times a Toeplitz matrix of the impulse response:
  exact, and one matrix product for all blocks) plus the zero-input response
  ``C A^k s_b`` of its start state ``s_b``; its share ``e_b`` of the next start state
  is its samples times the rows ``A^(BLOCK-1-k) B``.  The start states follow from
  ``s_(b+1) = A^BLOCK s_b + e_b`` the same way one level up, ``GROUP`` blocks to a
  group (block-Toeplitz matrices of powers of ``A^BLOCK``), and the groups' start
  states by a log-depth prefix scan.  The powers of ``A`` are built one product at a
  time, which rounds like scipy's recursion.  No per-sample Python loop: small
  matrix products (one BLAS thread) do the work, within about 1.5x of scipy's time.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from routinecast.dsp.filters.common import FloatArray, as_signal, sos_array

BLOCK = 64
"""sosfilt block (samples): its zero-state response is one Toeplitz matrix product."""
GROUP = 32
"""sosfilt blocks per group: block start states within a group are one matrix product."""
CHUNK = 4
"""sosfilt groups per matrix product: small enough (128 x 64 x 64) that OpenBLAS keeps
to one thread (its threads stall the work when other work holds the cores), and
cache-sized. Measured on a 3 s clip: the 8th-order zero-phase low-pass 2.3 ms at 4,
2.8 ms at 2, 2.5 ms at 8, 3.9 ms at 32 (whole-signal products). Levelling 40 lines on
two threads took 0.44 to 0.47 s at 4 and 0.72 to 0.81 s at 8 or 16: OpenBLAS's own
threads."""


class _System(NamedTuple):
    """``s' = a s + b x``, ``y = c s + d x``."""

    a: FloatArray
    b: FloatArray
    c: FloatArray
    d: float


class _Model(NamedTuple):
    """A cascade's operators on blocks and groups; row vectors, ``s`` is a state."""

    powers: FloatArray
    """``A^k`` for k <= BLOCK * GROUP, each one product more than the last (repeated
    squaring rounds about 100 times worse for the 38 Hz high pass's double pole)."""
    forced: FloatArray
    """Row k: ``A^k B``, how an input k samples back shows in the state."""
    toeplitz: FloatArray
    """``block @ toeplitz``: the block's zero-state response (impulse response h[k - j])."""
    free: FloatArray
    """``s @ free``: the zero-input response of a block starting in state ``s``."""
    gains: FloatArray
    """``block @ gains``: the block's share of its end state (rows ``A^(BLOCK-1-j) B``)."""
    within: FloatArray
    """``shares @ within``: the group's block start states from its blocks' shares."""
    across: FloatArray
    """``shares @ across``: the blocks' shares of the group's end state."""
    spread: FloatArray
    """``s @ spread``: the group's block start states from its start state ``s``."""


def _state_space(sos: FloatArray) -> _System:
    """The cascade as one system; its state is each section's (z0, z1) in turn."""
    a, b, c, d = np.zeros((0, 0)), np.zeros(0), np.zeros(0), 1.0
    for b0, b1, b2, _, a1, a2 in sos:
        n = a.shape[0]
        a_sec = np.array([[-a1, 1.0], [-a2, 0.0]])
        b_sec = np.array([b1 - a1 * b0, b2 - a2 * b0])
        grown = np.zeros((n + 2, n + 2))
        grown[:n, :n], grown[n:, :n], grown[n:, n:] = a, np.outer(b_sec, c), a_sec
        a, b = grown, np.concatenate([b, b_sec * d])
        c, d = np.concatenate([b0 * c, [1.0, 0.0]]), float(b0 * d)
    return _System(a, b, c, d)


def _block_powers(powers: FloatArray, rows: int, cols: int, offset: int) -> FloatArray:
    """Block matrix whose (j, i) block is ``(A^(BLOCK * (i - j + offset)))^T``, 0 if negative."""
    n = powers.shape[1]
    lag = np.arange(cols)[np.newaxis, :] - np.arange(rows)[:, np.newaxis] + offset
    blocks = np.where(lag[..., None, None] >= 0, powers[BLOCK * np.maximum(lag, 0)], 0.0)
    return np.asarray(blocks.transpose(0, 3, 1, 2).reshape(rows * n, cols * n), np.float64)


@functools.lru_cache(maxsize=16)
def _model(key: bytes) -> _Model:
    """The operators of the cascade whose SOS rows are ``key`` (float64 bytes); ~3 ms."""
    system = _state_space(np.frombuffer(key, dtype=np.float64).reshape(-1, 6))
    powers = np.empty((BLOCK * GROUP + 1, *system.a.shape))
    powers[0] = np.eye(system.a.shape[0])
    for k in range(BLOCK * GROUP):
        powers[k + 1] = powers[k] @ system.a
    free = np.einsum("j,kjl->lk", system.c, powers[:BLOCK])
    forced = powers[:BLOCK] @ system.b
    impulse = np.concatenate([[system.d], system.b @ free[:, : BLOCK - 1]])
    lag = np.arange(BLOCK)[np.newaxis, :] - np.arange(BLOCK)[:, np.newaxis]
    toeplitz = np.where(lag >= 0, impulse[np.maximum(lag, 0)], 0.0)
    model = _Model(
        powers,
        forced,
        toeplitz,
        free,
        forced[::-1].copy(),
        _block_powers(powers, GROUP, GROUP, -1),
        _block_powers(powers, GROUP, 1, GROUP - 1),
        _block_powers(powers, 1, GROUP, 0),
    )
    for array in model:
        array.flags.writeable = False
    return model


def _start_states(ends: FloatArray, step: FloatArray, first: FloatArray) -> FloatArray:
    """``s_0 = first``, ``s_(g+1) = step @ s_g + ends[g]``: every group's start state."""
    states = np.vstack([first, ends[:-1]])
    power, shift = step.T, 1
    while shift < states.shape[0]:  # einsum: no BLAS threads for this skinny product
        states[shift:] = states[shift:] + np.einsum("gi,ij->gj", states[:-shift], power)
        power, shift = power @ power, 2 * shift
    return states


def _groups(signal: FloatArray, lo: int, hi: int) -> FloatArray:
    """Groups ``lo .. hi - 1`` of the signal as rows, the last padded with zeros."""
    span = BLOCK * GROUP
    piece = signal[lo * span : hi * span]
    if piece.size < (hi - lo) * span:
        piece = np.concatenate([piece, np.zeros((hi - lo) * span - piece.size)])
    return piece.reshape(hi - lo, span)


def _group_shares(signal: FloatArray, count: int, model: _Model) -> tuple[FloatArray, FloatArray]:
    """Per group: its blocks' start states if it started at rest, and its end state."""
    n = model.gains.shape[1]
    within, ends = np.empty((count, GROUP * n)), np.empty((count, n))
    for lo in range(0, count, CHUNK):
        rows = _groups(signal, lo, min(lo + CHUNK, count))
        shares = (rows.reshape(-1, BLOCK) @ model.gains).reshape(-1, GROUP * n)
        within[lo : lo + CHUNK] = shares @ model.within
        ends[lo : lo + CHUNK] = shares @ model.across
    return within, ends


def _filter_groups(
    signal: FloatArray, first: FloatArray, model: _Model
) -> tuple[FloatArray, FloatArray]:
    """The output, and every block's start state, a few groups at a time."""
    n, span = model.gains.shape[1], BLOCK * GROUP
    count = -(-signal.size // span)
    states, ends = _group_shares(signal, count, model)
    starts = _start_states(ends, model.powers[-1], first)
    out = np.empty(count * span)
    for lo in range(0, count, CHUNK):
        rows = _groups(signal, lo, min(lo + CHUNK, count))
        states[lo : lo + CHUNK] += starts[lo : lo + CHUNK] @ model.spread
        zero_state = rows.reshape(-1, BLOCK) @ model.toeplitz
        zero_input = states[lo : lo + CHUNK].reshape(-1, n) @ model.free
        out[lo * span : lo * span + rows.size] = (zero_state + zero_input).reshape(-1)
    return out[: signal.size], states.reshape(-1, n)


def _initial_state(zi: npt.ArrayLike | None, sections: int) -> FloatArray:
    if zi is None:
        return np.zeros(2 * sections)
    state = np.asarray(zi, dtype=np.float64)
    if state.shape != (sections, 2):
        raise ValueError(f"zi must have shape ({sections}, 2)")
    return state.reshape(-1).copy()


def sosfilt(
    sos: npt.ArrayLike, x: npt.ArrayLike, zi: npt.ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]:
    """``scipy.signal.sosfilt(sos, x, zi=zi)`` as ``(y, zf)``; ``zf`` has shape (n_sections, 2).

    Feeding a signal in pieces, each with the previous piece's ``zf``, gives the
    same output as one call; the states are scipy's, so the two can be mixed.
    """
    coeffs, signal = sos_array(sos), as_signal(x)
    state = _initial_state(zi, coeffs.shape[0])
    n = signal.size
    if n == 0:
        return np.zeros(0), state.reshape(-1, 2)
    model = _model(coeffs.tobytes())
    y, states = _filter_groups(signal, state, model)
    last, tail = (n - 1) // BLOCK, signal[(n - 1) // BLOCK * BLOCK :]
    end = model.powers[tail.size] @ states[last] + tail @ model.forced[tail.size - 1 :: -1]
    return y, end.reshape(-1, 2)
