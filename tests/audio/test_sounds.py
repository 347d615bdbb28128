"""Your own sounds: a user's file read with pydub, trimmed, levelled, played at its onset.

The files are made here (a short chirp with silence around it, in WAV and, through
ffmpeg, MP3/OGG/M4A); the end-to-end test builds with the real voice and finds the
chirp at every start onset of the decoded MP3.
"""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from typer.testing import CliRunner

from routinecast.audio.decode import decode_audio
from routinecast.audio.ffmpeg import ffmpeg_exe
from routinecast.audio.sounds import MAX_MS, TRIM_DB, load_sound, sound_ms
from routinecast.audio.tones import render_tone
from routinecast.audio.verify import audio_problems, timeline_problems, tone_onset_errors
from routinecast.cli import app
from routinecast.dsp.level import integrated_lufs, true_peak_dbtp
from routinecast.errors import InputError
from routinecast.pipeline import BuildOptions, build, plan

RATE = 22050
CEILING = -3.3
LEAD_S, TAIL_S = 0.1, 0.2


def chirp(seconds: float = 0.25, rate: int = 44100) -> npt.NDArray[np.float64]:
    """A 2-4 kHz rising chirp that decays, nothing like any built-in tone."""
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * (2000 * t + 4000 * t * t)) * np.exp(-t / 0.06)


def write_wav(path: Path, signal: npt.NDArray[np.float64], rate: int = 44100) -> Path:
    """``signal`` with 100 ms of silence before and 200 ms after, as 16-bit stereo."""
    x = np.concatenate([np.zeros(int(LEAD_S * rate)), signal, np.zeros(int(TAIL_S * rate))])
    frames = np.stack([x, 0.8 * x], axis=1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.rint(frames * 32767).astype("<i2").tobytes())
    return path


def convert(source: Path, target: Path) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(source), str(target)], check=True
    )
    return target


def test_a_wav_is_trimmed_to_its_onset_and_levelled_like_the_tone(tmp_path: Path) -> None:
    sound = load_sound(write_wav(tmp_path / "chirp.wav", chirp()), "start", RATE, CEILING)
    # leading silence gone: loud within the first 3 ms (inside the 5 ms edge fade), not
    # 100 ms later
    assert np.max(np.abs(sound[: 3 * RATE // 1000])) > 0.01
    assert 150 <= sound_ms(sound, RATE) <= 250
    tone = integrated_lufs(render_tone("start", RATE), RATE)
    assert integrated_lufs(sound, RATE) == pytest.approx(tone, abs=1.0)
    assert true_peak_dbtp(sound, RATE) <= CEILING + 0.05


@pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".m4a"])
def test_compressed_files_are_read_through_ffmpeg(tmp_path: Path, suffix: str) -> None:
    wav = write_wav(tmp_path / "chirp.wav", chirp())
    sound = load_sound(convert(wav, tmp_path / f"chirp{suffix}"), "stop", RATE, CEILING)
    assert 150 <= sound_ms(sound, RATE) <= 300
    assert integrated_lufs(sound, RATE) == pytest.approx(
        integrated_lufs(render_tone("stop", RATE), RATE), abs=1.0
    )


def test_a_long_sound_is_cut_and_faded(tmp_path: Path) -> None:
    t = np.arange(2 * 44100) / 44100
    hum = 0.3 * np.sin(2 * np.pi * 500 * t)
    sound = load_sound(write_wav(tmp_path / "hum.wav", hum), "tick", RATE, CEILING)
    assert sound_ms(sound, RATE) == MAX_MS["tick"]
    assert abs(float(sound[-1])) < 1e-3


def test_processed_sounds_are_cached_by_content(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = write_wav(tmp_path / "a.wav", chirp())
    first = load_sound(path, "start", RATE, CEILING, cache)
    stored = list((cache / "sounds").glob("*.sound"))
    assert len(stored) == 1
    again = load_sound(path, "start", RATE, CEILING, cache)
    np.testing.assert_array_equal(first, again)
    write_wav(path, chirp(0.15))  # same name, new content: read again
    load_sound(path, "start", RATE, CEILING, cache)
    assert len(list((cache / "sounds").glob("*.sound"))) == 2


def test_a_file_that_cannot_be_read_is_an_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bell.wav"
    bad.write_text("not audio", encoding="utf-8")
    with pytest.raises(InputError, match=r"bell\.wav: sound is not an audio file"):
        load_sound(bad, "start", RATE, CEILING)
    silent = write_wav(tmp_path / "silent.wav", np.zeros(4410))
    with pytest.raises(InputError, match=r"silent\.wav: sound is silent"):
        load_sound(silent, "start", RATE, CEILING)
    assert TRIM_DB < 0


ROUTINE = """\
title: Own Sounds
pacing: {transition: 8s, switch: 6s, rest: 8s}
steps:
  - exercise: half-kneeling-hip-flexor-stretch
    hold: 8s
    sides: each
    sets: 2
  - exercise: glute-bridge
    reps: 3
    tempo: 3s
"""


def test_the_cli_refuses_an_unknown_tone_or_a_missing_file(tmp_path: Path) -> None:
    routine = tmp_path / "own.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    runner = CliRunner()
    wrong = runner.invoke(app, ["plan", str(routine), "--sound", "strat=x.wav"])
    assert wrong.exit_code == 2 and 'did you mean "start"' in wrong.output
    missing = runner.invoke(app, ["plan", str(routine), "--sound", "start=nope.wav"])
    assert missing.exit_code == 2 and "nope.wav" in missing.output
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"\0" * 100)
    out = tmp_path / "out"
    unreadable = runner.invoke(
        app, ["build", str(routine), "--sound", f"start={bad}", "-o", str(out)]
    )
    assert unreadable.exit_code == 2 and "bad.mp3" in unreadable.output
    assert not out.exists() or not any(out.iterdir())


def test_a_sound_length_feeds_the_layout(tmp_path: Path) -> None:
    routine = tmp_path / "own.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    gong = 0.3 * np.sin(2 * np.pi * 300 * np.arange(4 * 44100) / 44100)
    long = write_wav(tmp_path / "gong.wav", gong)
    timeline = plan(routine, BuildOptions(sounds=(("stop", long),)))
    stops = [e for e in timeline.events if e.tone == "stop"]
    assert {e.sound for e in stops} == {"gong.wav"} and {e.freq_hz for e in stops} == {None}
    assert {e.end_ms - e.start_ms for e in stops} == {MAX_MS["stop"]}
    stop_at = {b.end_ms for b in timeline.blocks if b.kind == "work"}
    for event in timeline.speech:  # nothing is said over the long stop sound
        assert not any(s <= event.start_ms < s + MAX_MS["stop"] for s in stop_at), event


@pytest.mark.slow
def test_a_user_wav_plays_at_every_start_onset(tmp_path: Path) -> None:
    routine = tmp_path / "own.yaml"
    routine.write_text(ROUTINE + "sounds:\n  start: chirp.wav\n", encoding="utf-8")
    write_wav(tmp_path / "chirp.wav", chirp())
    result = build(routine, BuildOptions(output_dir=tmp_path / "out", engine="piper"))
    doc = json.loads(result.timeline_path.read_text("utf-8"))
    assert timeline_problems(doc) == []
    assert audio_problems(result.mp3, doc, tolerance_ms=5.0) == []
    samples = decode_audio(result.mp3)
    starts = [
        (event, error)
        for event, error in tone_onset_errors(samples, doc, RATE)
        if event["tone"] == "start"
    ]
    assert len(starts) == 5  # 2 sets x 2 sides, and the rep set
    for event, error in starts:
        assert event["sound"] == "chirp.wav" and abs(error) <= 5.0, (event, error)
        # what plays there is the chirp (2-4 kHz), not the 1320 Hz start tone
        at = event["start_ms"] * RATE // 1000
        window = samples[at : at + 100 * RATE // 1000]
        spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
        freqs = np.fft.rfftfreq(len(window), 1 / RATE)
        assert 1900 <= freqs[int(np.argmax(spectrum))] <= 4200
