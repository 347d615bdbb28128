"""The build: routine file -> MP3 + timeline JSON + WebVTT, every stage timed.

load -> script texts -> synth (cache, engine) -> compile (pure) -> master gain ->
mix (streamed) -> encode (ffmpeg, to a temp file) -> tags -> commit (rename all).
``plan`` stops after compile, with lengths from the cache or estimates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import SAMPLE_RATE
from .audio.encode import Mp3Settings, encode_mp3
from .audio.mix import master_gain_db, render
from .audio.tags import Tags, write_tags
from .cache import ClipCache
from .compiler import compile_timeline
from .durations import format_duration
from .lexicon import Lexicon
from .loader import load_routine
from .overrides import Overrides, adjust
from .model import Routine
from .outputs import OutputSet, timeline_json, timeline_vtt
from .script import build_script, spoken_texts
from .synth import EngineSpec, Progress, Synthesizer, clip_ms
from .timeline import Timeline
from .tts.base import SpeechEngine
from .tts.registry import resolve_name

DEFAULT_LOUDNESS = -16.0
TRUE_PEAK_CEILING = -1.6
"""Mastering ceiling in dBTP before encoding; MP3 adds ~0.2 dB, the file stays <= -1 dBTP."""
CODEC_LOUDNESS_LOSS_LU = 0.45
"""Measured: LAME at 22.05 kHz mono (64 and 96 kbps) lowers integrated loudness by
0.42-0.46 LU on band-limited speech; the master gain makes up for it."""


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build can be told from outside the routine file."""

    output_dir: Path = Path("output")
    engine: str | None = None
    voice: str | None = None
    rate: float | None = None
    loudness: float = DEFAULT_LOUDNESS
    bitrate_kbps: int = 64
    overrides: Overrides = field(default_factory=Overrides)
    cache_dir: Path | None = None
    workers: int | None = None
    music: Path | None = None


@dataclass
class BuildResult:
    """What a build wrote and how long each stage took (seconds)."""

    mp3: Path
    timeline_path: Path
    vtt: Path
    timeline: Timeline
    stages: dict[str, float] = field(default_factory=dict)
    clips_made: int = 0
    clips_cached: int = 0


class _Clock:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start


def load(path: Path, options: BuildOptions) -> Routine:
    """The routine with every override applied (``--fit`` is solved later)."""
    routine = load_routine(path, options.overrides.patches)
    return adjust(routine, options.overrides)


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
    return Synthesizer(
        engine_spec(routine, options), Lexicon(routine.lexicon), ClipCache(options.cache_dir),
        engine=engine, workers=options.workers,
    )


def voice_info(spec: EngineSpec, engine: SpeechEngine) -> dict[str, object]:
    """The timeline's ``voice`` object."""
    return {"engine": spec.name, "voice": engine.identity()["voice"], "rate": spec.rate}


def plan(path: Path, options: BuildOptions = BuildOptions()) -> Timeline:
    """The timeline without synthesising: lengths from the cache, else estimated."""
    routine = load(path, options)
    synth = synthesizer(routine, options)
    lengths, estimated = synth.lengths_ms(spoken_texts(build_script(routine)))
    timeline = compile_timeline(routine, lengths, voice_info(synth.spec, synth.engine))
    return _with_estimated(timeline, estimated)


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
    """Build the routine at ``path``; nothing is written unless everything succeeds."""
    clock = _Clock()
    with clock.stage("load"):
        routine = load(path, options)
        texts = spoken_texts(build_script(routine))
        synth = synthesizer(routine, options, engine)
    _say(on_stage, "speech")
    with clock.stage("synth"):
        clips = synth.clips(texts, progress)
    with clock.stage("layout"):
        lengths = {text: clip_ms(clip) for text, clip in clips.items()}
        timeline = compile_timeline(routine, lengths, voice_info(synth.spec, synth.engine),
                                    SAMPLE_RATE)
    with clock.stage("master"):
        gain = master_gain_db(timeline, clips, options.loudness + CODEC_LOUDNESS_LOSS_LU,
                              TRUE_PEAK_CEILING)
    _say(on_stage, "encode")
    outputs = OutputSet(options.output_dir, path.stem if path.suffix else path.name)
    with outputs:
        with clock.stage("mix+encode"):
            bed = _music_bed(options, timeline)
            encode_mp3(render(timeline, clips, gain, bed=bed), outputs.temp[".mp3"],
                       Mp3Settings(SAMPLE_RATE, options.bitrate_kbps))
        with clock.stage("tags"):
            write_tags(outputs.temp[".mp3"], _tags(routine, timeline), timeline.chapters)
            outputs.write_text(".timeline.json", timeline_json(timeline))
            outputs.write_text(".vtt", timeline_vtt(timeline))
            outputs.commit()
    return BuildResult(
        outputs.final[".mp3"], outputs.final[".timeline.json"], outputs.final[".vtt"],
        timeline, clock.stages, synth.stats.made, synth.stats.cached,
    )


def _music_bed(options: BuildOptions, timeline: Timeline) -> Callable[[int, int], object] | None:
    if options.music is None:
        return None
    from .audio.music import MusicBed

    return MusicBed(options.music, timeline)


def _say(on_stage: Callable[[str], None] | None, name: str) -> None:
    if on_stage:
        on_stage(name)


def _tags(routine: Routine, timeline: Timeline) -> Tags:
    title = routine.title
    comment = routine.summary
    if routine.overrides:
        note = ", ".join(routine.overrides)
        title = f"{title} ({note})"
        comment = f"{comment} Built with {note}.".strip()
    return Tags(
        title=title,
        artist="routinecast",
        album="routinecast routines",
        genre="Fitness",
        comment=comment or f"{format_duration(timeline.duration_ms)} guided routine",
        length_ms=timeline.duration_ms,
    )
