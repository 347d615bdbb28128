"""The build: routine file -> MP3 + timeline JSON + WebVTT, every stage timed.

load -> script texts -> synth (cache, engine) -> compile (pure) -> master gain ->
mix (streamed) -> encode (ffmpeg, to a temp file) -> tags -> commit (rename all).
``plan`` stops after compile, with lengths from the cache or estimates.

Up to date is instant, twice over. First, a request that nothing has changed since
its last build is answered from its receipt (``receipts``) before anything is loaded.
Second, when the receipt does not answer (another request that comes to the same
build, a receipt evicted) but every line is in the speech cache, the timeline is laid
out from the clips' headers alone and the build's inputs are hashed (``_inputs``:
the timeline document, which holds the routine as resolved with its overrides, the
engine and voice; the digest of every clip; the tags; loudness, ceiling and encoder
settings; ffmpeg; the music bed's bytes; the code, by ``store.inputs_key``). If the
store of built files (``store.FileStore``) has that MP3, it is linked or copied into
place and the timeline and captions written beside it, committed like any build,
without mixing or encoding; numpy is not even imported. A build that does encode
leaves its MP3 in the store, so setting a hold back to a value built before is as
fast as no change.

Cheap refusals come before slow work: a routine whose length, with every clip
counted as silent, is already over ``MAX_ROUTINE_MS`` and an output folder that
cannot be written are refused before any speech is made; the exact length is
checked again right after compile, before any encoding.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from routinecast import SAMPLE_RATE, receipts
from routinecast.audio.encode import Mp3Settings
from routinecast.audio.ffmpeg import ffmpeg_identity
from routinecast.durations import format_duration
from routinecast.errors import InputError, LimitError
from routinecast.load.overrides import adjust
from routinecast.load.routine import load_library, load_routine, read_document, show_path
from routinecast.model import Routine
from routinecast.outputs import OutputSet
from routinecast.reads import Reads, recording
from routinecast.request import DEFAULT_LOUDNESS as DEFAULT_LOUDNESS  # re-exported for the API
from routinecast.request import BuildOptions as BuildOptions
from routinecast.request import BuildResult as BuildResult
from routinecast.speech.cache import ClipCache
from routinecast.speech.clip import ceil_ms, clip_ms
from routinecast.speech.engines.base import SpeechEngine, own_files
from routinecast.speech.engines.registry import resolve_name
from routinecast.speech.lexicon import Lexicon
from routinecast.speech.synth import EngineSpec, Progress, Synthesizer, preload_levelling
from routinecast.store import FileStore, file_digest, inputs_key
from routinecast.timeline import Sound, Timeline
from routinecast.timing.compiler import compile_timeline
from routinecast.timing.fit import fit_routine
from routinecast.timing.schedule import TONE_GUARD_MS
from routinecast.timing.script import build_script, spoken_texts

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from routinecast.audio.music import MusicBed
    from routinecast.audio.reuse import KeptPieces
    from routinecast.audio.tags import Tags
    from routinecast.dsp.samples import Samples

MAX_ROUTINE_MS = 6 * 3600 * 1000
"""The longest routine built or planned (documented in the README): six hours."""
TRUE_PEAK_CEILING = -1.8
"""Mastering ceiling in dBTP before encoding; MP3 adds up to ~0.8 dB, the file stays <= -1 dBTP."""
CODEC_LOUDNESS_LOSS_LU = 0.45
"""Measured: LAME at 22.05 kHz mono (64 and 96 kbps) lowers integrated loudness by
0.42-0.46 LU on band-limited speech; the master gain makes up for it."""


class _Clock:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start


def load(path: Path, options: BuildOptions) -> Routine:
    """The routine with every override applied but ``--fit`` (which needs clip lengths)."""
    return adjust(load_routine(path, options.overrides.patches), options.overrides)


FIT_ROUNDS = 3
"""--fit re-solves with measured lengths at most this often (new words, new lengths)."""


def overridden(
    base: Routine,
    options: BuildOptions,
    synth: Synthesizer,
    known: Mapping[str, int] | None = None,
    sounds: Mapping[str, Sound] | None = None,
) -> Routine:
    """``base`` (as loaded, ``--set`` applied) with the other overrides, ``--fit`` included.

    ``--fit`` uses the ``known`` clip lengths, else the cache's, else estimates, and
    the user's ``sounds`` in place of tones.
    """
    if options.overrides.fit_ms is None:
        return adjust(base, options.overrides)
    overrides, target = options.overrides, options.overrides.fit_ms
    memo: dict[str, int] = dict(known or {})

    def lengths_of(texts: list[str]) -> dict[str, int]:
        missing = [t for t in texts if t not in memo]
        if missing:
            memo.update(synth.lengths_ms(missing)[0])
        return {t: memo[t] for t in texts}

    return fit_routine(lambda scale: adjust(base, overrides, scale), target, lengths_of, sounds)


def _off_target(options: BuildOptions, timeline: Timeline) -> bool:
    fit = options.overrides.fit_ms
    return fit is not None and abs(timeline.duration_ms - fit) > 1000


def engine_spec(routine: Routine, options: BuildOptions) -> EngineSpec:
    """Command-line choices win over the routine's ``voice:``."""
    name = resolve_name(options.engine or routine.voice.engine)
    voice = options.voice if options.voice is not None else routine.voice.voice
    rate = options.rate if options.rate is not None else routine.voice.rate
    return EngineSpec(name, voice, rate)


def synthesizer(
    routine: Routine, options: BuildOptions, engine: SpeechEngine | None = None
) -> Synthesizer:
    """The synthesizer for this routine and these options."""
    spec = engine_spec(routine, options)
    return Synthesizer(
        spec,
        Lexicon(routine.lexicon, getattr(engine, "name", spec.name)),  # the engine that speaks
        ClipCache(options.cache_dir),
        engine=engine,
        workers=options.workers,
    )


def voice_info(spec: EngineSpec, engine: SpeechEngine) -> dict[str, object]:
    """The timeline's ``voice`` object."""
    return {"engine": spec.name, "voice": engine.identity()["voice"], "rate": spec.rate}


def plan(path: Path, options: BuildOptions = BuildOptions()) -> Timeline:
    """The timeline without synthesising: lengths from the cache, else estimated."""
    return tailor(path, options)[1]


def tailor(path: Path, options: BuildOptions = BuildOptions()) -> tuple[Routine, Timeline]:
    """``plan``, with the routine it laid out: every override applied, ``--fit`` solved."""
    base = load_routine(path, options.overrides.patches)
    synth = synthesizer(base, options)
    sounds = user_sounds(base, options, synth)
    routine = overridden(base, options, synth, sounds=sounds.specs)
    check_start_sound(routine, sounds)
    lengths, estimated = synth.lengths_ms(spoken_texts(build_script(routine)))
    timeline = compile_timeline(
        routine, lengths, voice_info(synth.spec, synth.engine), sounds=sounds.specs
    )
    check_length(path, timeline.duration_ms)
    return routine, _with_estimated(timeline, estimated)


@dataclass(frozen=True)
class Validation:
    """What ``validate`` found in a file that passed every check."""

    kind: Literal["routine", "library"]
    exercises: int = 0
    steps: int = 0
    lines: int = 0
    """Distinct spoken lines (routines only)."""


def validate(path: Path) -> Validation:
    """Check a routine or library file without any audio work; raises on the first problem.

    A routine is loaded, scripted and laid out with every clip counted as one second (the
    same estimate ``validate`` has always used), so its templates render and its length
    is checked against the limit.
    """
    doc, _ = read_document(path)
    if isinstance(doc, list):
        return Validation("library", exercises=len(load_library(path)))
    routine = load_routine(path)
    texts = spoken_texts(build_script(routine))
    timeline = compile_timeline(routine, dict.fromkeys(texts, 1000))
    check_length(path, timeline.duration_ms, at_least=True)
    return Validation("routine", steps=len(routine.steps), lines=len(texts))


@dataclass(frozen=True)
class UserSounds:
    """The user's sounds by tone name: what the compiler lays out and what the mixer plays."""

    specs: Mapping[str, Sound] = field(default_factory=dict)
    samples: Mapping[str, Samples] = field(default_factory=dict)
    files: Mapping[str, Path] = field(default_factory=dict)

    @functools.cached_property
    def digests(self) -> dict[str, str]:
        """The SHA-256 of each file, by tone name (read once: the store's key and every
        piece's use it)."""
        return {name: _digest_or_missing(file) for name, file in self.files.items()}


def user_sounds(routine: Routine, options: BuildOptions, synth: Synthesizer) -> UserSounds:
    """The routine's ``sounds:`` with ``--sound`` on top, read, trimmed and levelled."""
    files = {name: Path(file) for name, file in routine.sounds}
    files.update(dict(options.sounds))
    if not files:
        return UserSounds()
    from routinecast.audio.sounds import load_sound, sound_ms

    samples = {
        name: load_sound(file, name, SAMPLE_RATE, synth.peak_bound_dbtp, synth.cache.root)
        for name, file in files.items()
    }
    specs = {
        name: Sound(sound_ms(samples[name], SAMPLE_RATE), None, file.name)
        for name, file in files.items()
    }
    return UserSounds(specs, samples, files)


def check_start_sound(routine: Routine, sounds: UserSounds) -> None:
    """A start sound must end before the shortest work interval's stop tone."""
    if "start" not in sounds.specs or not routine.exercise_steps:
        return
    step = min(routine.exercise_steps, key=lambda s: s.work_ms)
    length = sounds.specs["start"].length_ms
    if length + TONE_GUARD_MS > step.work_ms:
        raise InputError(
            f"lasts {format_duration(length)} after trimming, too long for the "
            f"{format_duration(step.work_ms)} work interval of {step.label}: a start sound "
            "must end before the stop tone; shorten the sound or lengthen the work",
            file=str(sounds.files["start"]),
            field="sound",
        )


def check_length(path: Path, duration_ms: int, *, at_least: bool = False) -> None:
    """``LimitError`` (exit 2) for a routine longer than ``MAX_ROUTINE_MS``."""
    if duration_ms <= MAX_ROUTINE_MS:
        return
    more = " or more" if at_least else ""
    raise LimitError(
        f"is {_hms(duration_ms)}{more} long; a routine may be at most {_hms(MAX_ROUTINE_MS)} "
        "(shorten holds, sets or rests, or split it into several routines)",
        file=show_path(path),
    )


def _hms(ms: int) -> str:
    hours, rest = divmod(round(ms / 1000), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s"


def _shortest(routine: Routine, texts: Sequence[str], sounds: UserSounds) -> int:
    """The routine's length if every clip were silent: a lower bound, known before speech."""
    return compile_timeline(routine, dict.fromkeys(texts, 0), sounds=sounds.specs).duration_ms


def _with_estimated(timeline: Timeline, estimated: Sequence[str]) -> Timeline:
    from dataclasses import replace

    return replace(timeline, estimated=tuple(estimated))


def build(
    path: Path,
    options: BuildOptions = BuildOptions(),
    *,
    engine: SpeechEngine | None = None,
    progress: Progress | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build the routine at ``path``; nothing is written unless everything succeeds.

    Without an ``engine`` object, a request that nothing has changed since its last
    build is answered from its receipt (``receipts``), before anything is loaded.
    """
    if engine is None and (replayed := receipts.replay(path, options)) is not None:
        return replayed
    clock = _Clock()
    with clock.stage("load"), recording() as read:
        base = load_routine(path, options.overrides.patches)
        synth = synthesizer(base, options, engine)
        sounds = user_sounds(base, options, synth)
        routine = overridden(base, options, synth, sounds=sounds.specs)
        check_start_sound(routine, sounds)
        texts = spoken_texts(build_script(routine))
        check_length(path, _shortest(routine, texts, sounds), at_least=True)
        outputs = OutputSet(options.output_dir, options.output_name(path))
        outputs.precheck()
        store = FileStore(synth.cache.root)
    with clock.stage("up-to-date"):
        done = _from_store(path, options, base, synth, (routine, texts), outputs, store, sounds)
    if done is not None:
        if engine is None:
            _remember(path, options, read, synth, sounds, done)
        final = outputs.final
        return BuildResult(
            final[".mp3"],
            final[".timeline.json"],
            final[".vtt"],
            done.timeline,
            clock.stages,
            0,
            done.lines,
            up_to_date=True,
        )
    preload_levelling()  # mastering (and levelling) need them; they import meanwhile
    _preload_encoding()
    _say(on_stage, "speech")
    clips: dict[str, Samples] = {}

    def lengths_of(wanted: Sequence[str]) -> dict[str, int]:
        with clock.stage("synth"):
            clips.update(synth.clips(wanted, progress))
        return {text: clip_ms(clip) for text, clip in clips.items()}

    with clock.stage("layout"):
        routine, texts, timeline = _settle(
            base, options, synth, (routine, texts), lengths_of, sounds.specs
        )
    clock.stages["layout"] -= clock.stages["synth"]  # the speech made meanwhile is its own stage
    check_length(path, timeline.duration_ms)
    digests = _clip_digests(clips, texts)  # once: the master gain's key and the MP3's
    with clock.stage("master"):
        from routinecast.audio.mastering import cached_master_gain

        gain = cached_master_gain(
            synth.cache.root,
            timeline,
            clips,
            digests,
            options.loudness + CODEC_LOUDNESS_LOSS_LU,
            TRUE_PEAK_CEILING,
            synth.peak_bound_dbtp,
            sounds.samples,
        )
    _say(on_stage, "encode")
    written = receipts.texts_of(timeline)
    key = _inputs(options, routine, timeline, written, synth, digests, sounds)
    _write(
        outputs,
        _Render(
            routine,
            timeline,
            clips,
            gain,
            sounds.samples,
            written,
            digests,
            sounds.digests,
        ),
        options,
        clock,
        (store, key),
    )
    if engine is None:
        _remember(path, options, read, synth, sounds, _Made(key, timeline, written, len(texts)))
    return BuildResult(
        outputs.final[".mp3"],
        outputs.final[".timeline.json"],
        outputs.final[".vtt"],
        timeline,
        clock.stages,
        synth.stats.made,
        synth.stats.cached,
    )


Settled = tuple[Routine, list[str], Timeline]


def _settle(
    base: Routine,
    options: BuildOptions,
    synth: Synthesizer,
    start: tuple[Routine, list[str]],
    lengths_of: Callable[[Sequence[str]], Mapping[str, int]],
    sounds: Mapping[str, Sound],
) -> Settled:
    """Lay out ``start``; with ``--fit`` off target, re-solve with the measured lengths."""
    routine, texts = start
    for round_no in range(FIT_ROUNDS + 1):
        lengths = dict(lengths_of(texts))
        timeline = compile_timeline(
            routine, lengths, voice_info(synth.spec, synth.engine), SAMPLE_RATE, sounds=sounds
        )
        if round_no == FIT_ROUNDS or not _off_target(options, timeline):
            break
        routine = overridden(base, options, synth, lengths, sounds)  # measured lengths
        texts = spoken_texts(build_script(routine))
    return routine, texts, timeline


def _remember(
    path: Path,
    options: BuildOptions,
    read: Reads,
    synth: Synthesizer,
    sounds: UserSounds,
    made: _Made,
) -> None:
    """Leave the receipt of this build: what it read besides YAML, and what it made."""
    extra = [*sounds.files.values(), *([options.music] if options.music else [])]
    for file in [*extra, *own_files(synth.engine)]:
        read.add_file(file)
    stamp, ffmpeg = receipts.environment_stamp(), ffmpeg_identity()
    receipt = receipts.Receipt(read, made.key, made.written, made.lines, stamp, ffmpeg)
    receipts.remember(path, options, receipt)


@dataclass(frozen=True)
class _Made:
    """A build's outputs: the MP3's key in the store, the timeline, the texts written
    beside the MP3 (``receipts.texts_of``) and how many distinct lines it speaks."""

    key: str
    timeline: Timeline
    written: dict[str, str]
    lines: int


class _NotCached(Exception):
    """A line the up-to-date check needs is not in the speech cache."""


def _from_store(
    path: Path,
    options: BuildOptions,
    base: Routine,
    synth: Synthesizer,
    start: tuple[Routine, list[str]],
    outputs: OutputSet,
    store: FileStore,
    sounds: UserSounds,
) -> _Made | None:
    """Write the outputs from the store when this exact build was made before, else None."""
    if store.limit_bytes <= 0:
        return None
    headers: dict[str, str] = {}
    known: dict[str, int] = {}

    def lengths_of(wanted: Sequence[str]) -> dict[str, int]:
        for text, header in synth.headers([t for t in wanted if t not in known]).items():
            if header is None:
                raise _NotCached(text)
            headers[text], known[text] = header.digest, ceil_ms(header.samples)
        return known

    try:
        routine, texts, timeline = _settle(base, options, synth, start, lengths_of, sounds.specs)
    except _NotCached:
        return None
    check_length(path, timeline.duration_ms)
    written = receipts.texts_of(timeline)
    digests = {t: headers[t] for t in texts}
    key = _inputs(options, routine, timeline, written, synth, digests, sounds)
    blob = store.get(key)
    if blob is None:
        return None
    receipts.write_stored(outputs, blob, written)
    return _Made(key, timeline, written, len(texts))


def _preload_encoding() -> None:
    """Import what encoding and tagging need in a thread while the speech is made: 25-30 ms
    that came after mastering, before the first ffmpeg started."""
    threading.Thread(target=_import_encoding, name="preload-encoding", daemon=True).start()


def _import_encoding() -> None:
    from routinecast.audio import reuse, splice, tags  # noqa: F401
    from routinecast.audio.ffmpeg import ffmpeg_exe

    with contextlib.suppress(Exception):  # a missing ffmpeg is reported where it is used
        ffmpeg_exe()


def _clip_digests(clips: Mapping[str, Samples], texts: Sequence[str]) -> dict[str, str]:
    """SHA-256 of each clip's samples, as the speech cache's headers record them."""
    import hashlib

    import numpy as np

    return {
        text: hashlib.sha256(np.ascontiguousarray(clips[text], dtype="<f4").tobytes()).hexdigest()
        for text in texts
    }


def _inputs(
    options: BuildOptions,
    routine: Routine,
    timeline: Timeline,
    written: Mapping[str, str],
    synth: Synthesizer,
    digests: Mapping[str, str],
    sounds: UserSounds,
) -> str:
    """The key of everything that decides the MP3's bytes (see the module notes).

    ``written`` are the texts beside the MP3, whose timeline document holds the routine
    as resolved with its overrides, the engine and voice.
    """
    settings = _mp3_settings(options)
    music = options.music
    return inputs_key(
        {
            "timeline": written[".timeline.json"],
            "clips": sorted(digests.items()),
            "engine": synth.engine.identity(),
            "tags": _tag_fields(routine, timeline),
            "master": [
                options.loudness + CODEC_LOUDNESS_LOSS_LU,
                TRUE_PEAK_CEILING,
                synth.peak_bound_dbtp,
            ],
            "mp3": repr(settings),
            "ffmpeg": ffmpeg_identity(),
            "music": None if music is None else [str(music), _digest_or_missing(music)],
            "sounds": sorted(sounds.digests.items()),
        }
    )


def _digest_or_missing(path: Path) -> str:
    try:
        return file_digest(path)
    except OSError:
        return "missing"


def _mp3_settings(options: BuildOptions) -> Mp3Settings:
    return Mp3Settings(SAMPLE_RATE, options.bitrate_kbps)


@dataclass(frozen=True)
class _Render:
    """What the writing stages need."""

    routine: Routine
    timeline: Timeline
    clips: Mapping[str, Samples]
    gain: float
    sounds: Mapping[str, Samples]
    written: Mapping[str, str]
    """The timeline document and captions (``receipts.texts_of``)."""
    digests: Mapping[str, str]
    """The SHA-256 of each spoken line's clip."""
    sound_digests: Mapping[str, str]
    """The SHA-256 of each of the user's sound files, by tone name."""


def _write(
    outputs: OutputSet,
    job: _Render,
    options: BuildOptions,
    clock: _Clock,
    keep: tuple[FileStore, str],
) -> None:
    """Encode, tag and write the captions to temporaries, keep the MP3, commit all three."""
    from routinecast.audio.mix import render, sounding, total_samples
    from routinecast.audio.splice import encode_split
    from routinecast.audio.tags import write_tags

    timeline = job.timeline
    with outputs, receipts.final_names(outputs):
        with clock.stage("mix+encode"):
            bed = _music_bed(options, timeline)

            def piece(start: int, stop: int) -> Iterator[npt.NDArray[np.int16]]:
                own = bed.fork() if bed is not None else None
                return render(
                    timeline,
                    job.clips,
                    job.gain,
                    bed=own,
                    sounds=job.sounds,
                    start=start,
                    stop=stop,
                )

            encode_split(
                piece,
                total_samples(timeline),
                outputs.temp[".mp3"],
                _mp3_settings(options),
                reuse=_reuse(keep[0], job, options),
                sounding=None if bed is not None else sounding(timeline, job.clips, job.sounds),
            )
        with clock.stage("tags"):
            write_tags(outputs.temp[".mp3"], _tags(job.routine, timeline), timeline.chapters)
            for suffix, text in job.written.items():
                outputs.write_text(suffix, text)
        with clock.stage("store"):
            store, key = keep
            store.put(key, outputs.temp[".mp3"])
        with clock.stage("commit"):
            outputs.commit()


def _reuse(store: FileStore, job: _Render, options: BuildOptions) -> KeptPieces | None:
    """The pieces of earlier builds this one may reuse (none with a music bed)."""
    if options.music is not None or store.limit_bytes <= 0:
        return None
    from routinecast.audio.reuse import KeptPieces

    common = {"gain": job.gain, "mp3": repr(_mp3_settings(options)), "ffmpeg": ffmpeg_identity()}
    return KeptPieces(store, job.timeline, job.digests, job.sound_digests, common)


def _music_bed(options: BuildOptions, timeline: Timeline) -> MusicBed | None:
    if options.music is None:
        return None
    from routinecast.audio.music import MusicBed

    return MusicBed(options.music, timeline)


def _say(on_stage: Callable[[str], None] | None, name: str) -> None:
    if on_stage:
        on_stage(name)


def _tag_fields(routine: Routine, timeline: Timeline) -> dict[str, str | int]:
    """The MP3's text tags (the title says the overrides)."""
    title = routine.title
    comment = routine.summary
    if routine.overrides:
        note = ", ".join(routine.overrides)
        title = f"{title} ({note})"
        comment = f"{comment} Built with {note}.".strip()
    return {
        "title": title,
        "artist": "routinecast",
        "album": "routinecast routines",
        "genre": "Fitness",
        "comment": comment or f"{format_duration(timeline.duration_ms)} guided routine",
        "length_ms": timeline.duration_ms,
    }


def _tags(routine: Routine, timeline: Timeline) -> Tags:
    from routinecast.audio.tags import Tags

    fields = _tag_fields(routine, timeline)
    return Tags(
        title=str(fields["title"]),
        artist=str(fields["artist"]),
        album=str(fields["album"]),
        genre=str(fields["genre"]),
        comment=str(fields["comment"]),
        length_ms=int(fields["length_ms"]),
    )
