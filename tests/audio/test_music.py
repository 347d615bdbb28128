"""Tests for routinecast.audio.music: the looped, levelled, ducked music bed."""

from __future__ import annotations

import itertools
import json
import wave
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from routinecast import pipeline
from routinecast.audio import music
from routinecast.audio.decode import decode_audio
from routinecast.audio.encode import Mp3Settings
from routinecast.audio.mix import sample_at
from routinecast.audio.music import BED_LUFS, DUCK_DB, DuckEnvelope, MusicBed
from routinecast.audio.splice import plan
from routinecast.audio.verify import audio_problems, timeline_problems
from routinecast.dsp.level import integrated_lufs, max_step, true_peak_dbtp
from routinecast.errors import InputError
from routinecast.speech.engines.fake import SilentEngine
from routinecast.timeline import Event, Timeline

SR = 22050
LOOP_S = 3
Samples = npt.NDArray[np.float32]

ROUTINE = """\
title: Bed test
intro: A short test of the music bed.
outro: That is all.
steps:
  - exercise: dead-bug
    hold: 100s
  - exercise: glute-bridge
    reps: 6
    tempo: 3s
"""


def _chord(seconds: float, rate: int) -> npt.NDArray[np.float64]:
    """An A major chord with a slow swell and a little noise (not loop-seamless)."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) / 3
    x = 0.5 * x * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t))
    noise = 0.02 * np.random.default_rng(1).standard_normal(t.size)
    return np.asarray(x + noise, dtype=np.float64)


def _write_wav(path: Path, x: npt.NDArray[np.float64], rate: int, channels: int = 1) -> Path:
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.repeat(pcm, channels).tobytes())
    return path


@pytest.fixture
def loop_wav(tmp_path: Path) -> Path:
    """A 3 s stereo 44.1 kHz chord loop."""
    return _write_wav(tmp_path / "loop.wav", _chord(LOOP_S, 44100), 44100, channels=2)


def _timeline(duration_ms: int, speech: tuple[tuple[int, int], ...] = ()) -> Timeline:
    events = tuple(Event("speech", a, b, cue="cue", text=f"line {a}") for a, b in speech)
    return Timeline("t", "t.yaml", SR, duration_ms, {}, events, (), ())


def _render(bed: MusicBed, total: int, chunk: int) -> Samples:
    return np.concatenate([bed(a, min(chunk, total - a)) for a in range(0, total, chunk)])


def _db(x: npt.NDArray[Any]) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def _span(x: Samples, start_ms: int, end_ms: int) -> Samples:
    return x[start_ms * SR // 1000 : end_ms * SR // 1000]


def test_bed_is_levelled_to_target_between_cues(loop_wav: Path) -> None:
    bed = MusicBed(loop_wav, _timeline(20_000))
    x = _render(bed, 20_000 * SR // 1000, 10_000)
    assert abs(integrated_lufs(_span(x, 3000, 16_000), SR) - BED_LUFS) < 0.7


def test_loops_past_the_end_of_the_file_without_clicks(loop_wav: Path) -> None:
    x = _render(MusicBed(loop_wav, _timeline(20_000)), 20_000 * SR // 1000, 4321)
    seconds = [_db(_span(x, 1000 * s, 1000 * s + 1000)) for s in range(3, 16)]
    assert max(seconds) - min(seconds) < 3.0
    smooth = max_step(_span(x, 3000, 4000))
    assert max_step(_span(x, 2500, 17_000)) < 1.5 * smooth


def test_loop_is_periodic_after_the_first_pass(loop_wav: Path) -> None:
    bed = MusicBed(loop_wav, _timeline(30_000))
    x = _render(bed, 30_000 * SR // 1000, 10_000)
    period = LOOP_S * SR - music._ms(music.SEAM_MS, SR)
    a, b = 4 * SR, 4 * SR + SR
    np.testing.assert_allclose(x[a:b], x[a + period : b + period], atol=1e-6)
    np.testing.assert_allclose(x[a:b], x[a + 3 * period : b + 3 * period], atol=1e-6)


def test_streaming_a_long_file_sounds_the_same_as_holding_it(
    loop_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 20_000 * SR // 1000
    held_bed = MusicBed(loop_wav, _timeline(20_000, ((5000, 6000),)))
    held = _render(held_bed, total, 10_000) / 10 ** (held_bed.gain_db / 20)
    monkeypatch.setattr(music, "HOLD_MAX_S", 1)
    bed = MusicBed(loop_wav, _timeline(20_000, ((5000, 6000),)))
    assert bed._held is None  # measured on its first 3 s chunk only, so gained a hair apart
    streamed = _render(bed, total, 7777) / 10 ** (bed.gain_db / 20)
    np.testing.assert_allclose(streamed, held, atol=1e-5)


def test_chunking_and_seeking_do_not_change_the_bed(loop_wav: Path) -> None:
    total = 12_000 * SR // 1000
    timeline = _timeline(12_000, ((4000, 5000),))
    whole = _render(MusicBed(loop_wav, timeline), total, total)
    bed = MusicBed(loop_wav, timeline)
    np.testing.assert_allclose(_render(bed, total, 1000), whole, atol=1e-6)
    np.testing.assert_allclose(bed(5 * SR, 100), whole[5 * SR : 5 * SR + 100], atol=1e-6)
    np.testing.assert_allclose(bed(9 * SR, 100), whole[9 * SR : 9 * SR + 100], atol=1e-6)


def test_forked_beds_render_pieces_of_the_same_bed(loop_wav: Path) -> None:
    """Pieces encoded side by side each read a fork of the bed (``audio.splice``)."""
    total = 12_000 * SR // 1000
    timeline = _timeline(12_000, ((4000, 5000),))
    bed = MusicBed(loop_wav, timeline)
    whole = _render(bed.fork(), total, total)
    cut = 7 * SR + 123
    later, earlier = bed.fork(), bed.fork()
    np.testing.assert_allclose(later(cut, total - cut), whole[cut:], atol=1e-6)
    np.testing.assert_allclose(earlier(0, cut), whole[:cut], atol=1e-6)


def test_fades_in_over_2_s_and_out_over_3_s(loop_wav: Path) -> None:
    bed = MusicBed(loop_wav, _timeline(20_000))
    x = _render(bed, 20 * SR, 10_000)
    unfaded = _render(MusicBed(loop_wav, _timeline(60_000)), 20 * SR, 10_000)
    t = np.arange(20 * SR)
    fade_out = 0.5 - 0.5 * np.cos(np.pi * np.clip((20 * SR - t) / (3 * SR), 0, 1))
    np.testing.assert_allclose(x, unfaded * fade_out, atol=1e-6)
    np.testing.assert_array_equal(x[2 * SR : 17 * SR], unfaded[2 * SR : 17 * SR])
    source = decode_audio(loop_wav, SR)[: 2 * SR] * 10 ** (bed.gain_db / 20)
    fade_in = 0.5 - 0.5 * np.cos(np.pi * t[: 2 * SR] / (2 * SR))
    np.testing.assert_allclose(x[: 2 * SR], source * fade_in, atol=1e-6)
    assert x[0] == 0.0 and abs(float(x[-1])) < 1e-6


def test_ducks_under_speech_with_smooth_ramps() -> None:
    spans = ((5000, 6000), (6900, 7000), (8500, 8600), (12_000, 12_500))
    duck = DuckEnvelope(_timeline(20_000, spans))
    a = duck.amount(0, 20 * SR)
    at = {ms: float(a[ms * SR // 1000]) for ms in (4700, 4955, 6450, 7100, 7200, 8000, 11_900)}
    assert at[4700] == 0.0 and at[8000] == 0.0  # 1.5 s gaps let the bed come back up
    assert at[4955] == 1.0 and at[6450] == 1.0 and at[7100] == 1.0  # 0.9 s gap: bridged
    assert 0.0 < at[7200] < 1.0 and 0.0 < at[11_900] < 1.0
    ramp = a[int(4.79 * SR) : int(4.96 * SR)]
    assert np.all(np.diff(ramp) >= 0) and np.max(np.diff(a)) < 0.002
    np.testing.assert_array_equal(duck.amount(5 * SR - 777, 999), a[5 * SR - 777 : 5 * SR + 222])


def test_bed_is_duck_db_lower_during_speech(loop_wav: Path) -> None:
    x = _render(MusicBed(loop_wav, _timeline(20_000, ((8000, 10_000),))), 20 * SR, 10_000)
    drop = _db(_span(x, 4000, 7000)) - _db(_span(x, 8000, 10_000))
    assert abs(drop - DUCK_DB) < 1.5


def test_a_spiky_file_is_held_under_the_peak_cap(tmp_path: Path) -> None:
    clicks = np.zeros(2 * SR)
    clicks[:: SR // 4] = 0.99
    path = _write_wav(tmp_path / "clicks.wav", clicks + 0.001 * _chord(2, SR), SR)
    x = _render(MusicBed(path, _timeline(10_000)), 10 * SR, 10_000)
    assert true_peak_dbtp(x, SR) <= music.BED_PEAK_DBTP + 0.1


def test_bad_files_raise_input_error_naming_them(tmp_path: Path) -> None:
    bad = tmp_path / "song.mp3"
    bad.write_text("not audio", encoding="utf-8")
    with pytest.raises(InputError, match=r"song\.mp3"):
        MusicBed(bad, _timeline(5000))
    with pytest.raises(InputError, match=r"missing\.ogg"):
        MusicBed(tmp_path / "missing.ogg", _timeline(5000))
    tiny = _write_wav(tmp_path / "tiny.wav", _chord(0.02, SR), SR)
    with pytest.raises(InputError, match=r"tiny\.wav.*too short"):
        MusicBed(tiny, _timeline(5000))


class ZeroEngine(SilentEngine):
    """Speech of the fake engine's lengths, but silent: the bed alone is heard."""

    def identity(self) -> dict[str, str]:
        """Not the hum's cache key."""
        return {**super().identity(), "voice": "zero"}

    def synthesize(self, text: str) -> npt.NDArray[np.float32]:
        """Zeros of the hum's length."""
        return np.zeros_like(super().synthesize(text))


def _build(tmp_path: Path, wav: Path, engine: SilentEngine) -> tuple[Samples, dict[str, Any]]:
    routine = tmp_path / "bed-test.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    options = pipeline.BuildOptions(output_dir=tmp_path / "out", music=wav, workers=1)
    result = pipeline.build(routine, options, engine=engine)
    doc = json.loads(result.timeline_path.read_text(encoding="utf-8"))
    assert timeline_problems(doc) == []
    assert audio_problems(result.mp3, doc) == []
    return decode_audio(result.mp3, SR), doc


def _speech_and_between(x: Samples, doc: dict[str, Any]) -> tuple[Samples, Samples]:
    events = doc["events"]
    speech = [_span(x, e["start_ms"], e["end_ms"]) for e in events if e["kind"] == "speech"]
    between = [
        _span(x, a["end_ms"] + 400, b["start_ms"] - 400)
        for a, b in itertools.pairwise(events)
        if b["start_ms"] - a["end_ms"] >= 1200
    ]
    assert len(between) >= 5
    return np.concatenate(speech), np.concatenate(between)


def test_built_mp3_ducks_the_bed_under_speech(tmp_path: Path, loop_wav: Path) -> None:
    x, doc = _build(tmp_path, loop_wav, ZeroEngine())
    assert doc["duration_ms"] > 10 * LOOP_S * 1000
    # long enough to be encoded in pieces side by side, each with a fork of the bed
    assert len(plan(sample_at(doc["duration_ms"], SR), Mp3Settings())) >= 2
    during, between = _speech_and_between(x, doc)
    assert _db(between) - _db(during) >= 10.0
    assert abs(integrated_lufs(between, SR) - BED_LUFS) < 1.5
    assert _db(_span(x, doc["duration_ms"] - 200, doc["duration_ms"])) < _db(between) - 20


def test_built_mp3_with_speech_keeps_its_level_and_peaks(tmp_path: Path, loop_wav: Path) -> None:
    x, _ = _build(tmp_path, loop_wav, SilentEngine())
    assert true_peak_dbtp(x, SR) <= -1.0
    assert abs(integrated_lufs(x, SR) - pipeline.DEFAULT_LOUDNESS) < 1.0
