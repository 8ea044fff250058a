"""MIDI -> audio with a warm, in-process FluidSynth.

:class:`Synthesizer` loads the SoundFont once and then renders any number of
``pretty_midi.PrettyMIDI`` objects by feeding note/controller events to
libfluidsynth and pulling the samples between events. Compared with
``midi2audio`` (which starts the ``fluidsynth`` program and reloads a 148 MB
SoundFont on every call) this saves the font load and the process start.

libfluidsynth is imported lazily: importing :mod:`engine.render` works without
it, and only rendering raises :class:`AudioBackendError` naming what to install.
"""

from __future__ import annotations

import functools
import math
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from engine.music import LeadSheet
from engine.render.segments import Segment, plan_segments, stitch
from engine.render.soundfont import default_soundfont
from engine.render.synth_engine import (
    BLOCK_FRAMES,
    DRUM_CHANNEL,
    EVENT_BEND,
    EVENT_CC,
    EVENT_OFF,
    EVENT_ON,
    AudioBackendError,
    SynthEngine,
    default_engine_count,
    import_fluidsynth,
)

# Defaults chosen by measurement (bench/render_compare.py; 16 s melody + block
# chords, FluidR3_GM, 2-core laptop-class CPU; median ms per render):
#                 reverb+chorus  reverb only  chorus only  dry
#   44100 Hz          109           103           81        77
#   32000 Hz           82            73           58        54
#   22050 Hz           55            52           41        37
#   synth.cpu-cores=2: no gain (114 ms at 44.1 kHz with both effects).
# 32 kHz keeps everything a GM font holds that matters for a melody (16 kHz
# bandwidth) at ~30% less cost than 44.1 kHz; reverb is kept (a dry GM piano
# sounds boxy), chorus is off (little audible effect on these presets).
# FluidSynth's own threads (synth.cpu-cores) only add hand-off overhead for the few
# voices of a lead sheet; instead a second engine renders the second half of a long
# piece at the same time (engine/render/segments.py): 8 bars at 120 BPM with
# chords took 79 ms on one engine and 61 ms on two (2-core CPU).
# midi2audio (a fluidsynth process per call, reloading the font) takes ~420 ms for
# the same file here; `make bench` prints the comparison.
DEFAULT_SAMPLE_RATE = 32000


DEFAULT_GAIN = 1.0  # peaks around 0.4-0.55 for melody + chords with FluidR3_GM


DEFAULT_SETTINGS: dict[str, Any] = {
    "synth.reverb.active": 1,
    "synth.chorus.active": 0,
    "synth.cpu-cores": 1,
    "synth.polyphony": 128,
}


PEAK_LIMIT = 0.98  # output is scaled down (never up) so it never clips


T = TypeVar("T")


@dataclass(frozen=True)
class _Piece:
    """A MIDI piece turned into what the engines play: length, presets, events, note spans (frames)."""

    total: int
    programs: list[tuple[int, int, int]]
    events: list[tuple[int, int, int, int, int]]
    spans: list[tuple[int, int]]

    def play(self, engine: SynthEngine, segment: Segment) -> np.ndarray:
        engine.prepare(self.programs)
        return engine.play(self.events, segment.play_from, segment.render_to)


def _limit_peak(audio: np.ndarray) -> np.ndarray:
    """Scale down (never up, in place) so that no sample exceeds PEAK_LIMIT."""
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak > PEAK_LIMIT:
        audio *= PEAK_LIMIT / peak
    return audio


class Synthesizer:
    """A warm FluidSynth: the SoundFont is loaded once, :meth:`render` is thread-safe.

    ``settings`` are extra FluidSynth settings (e.g. ``{"synth.chorus.active": 1}``)
    applied over :data:`DEFAULT_SETTINGS`. ``engines`` FluidSynth instances (default:
    :func:`default_engine_count`) each hold the SoundFont; a long piece is cut into
    time segments that they render at once on separate cores (FluidSynth runs
    without Python's lock), see :mod:`engine.render.segments`.
    """

    def __init__(
        self,
        soundfont: str | Path | None = None,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        gain: float = DEFAULT_GAIN,
        settings: dict[str, Any] | None = None,
        engines: int | None = None,
    ):
        fluidsynth = import_fluidsynth()
        self.soundfont = Path(soundfont) if soundfont is not None else default_soundfont()
        if not self.soundfont.is_file():
            raise AudioBackendError(f"SoundFont not found: {self.soundfont}")
        self.sample_rate = int(sample_rate)
        self.gain = float(gain)
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        count = default_engine_count() if engines is None else max(1, int(engines))
        self._lock = threading.Lock()
        self._engines: list[SynthEngine] = []
        try:
            for _ in range(count):
                self._engines.append(
                    SynthEngine(fluidsynth, self.soundfont, self.sample_rate, self.gain, self.settings)
                )
        except Exception:
            for engine in self._engines:
                engine.delete()
            raise
        self._pool = ThreadPoolExecutor(count - 1, thread_name_prefix="cadenza-synth") if count > 1 else None
        self.renders = 0
        self._closed = False

    @property
    def engines(self) -> int:
        """How many FluidSynth instances render in parallel."""
        return len(self._engines)

    # -- events -----------------------------------------------------------------

    def _channels(self, pm) -> list[int]:
        """One MIDI channel per instrument; channel 9 (and 25, 41, ...) only for drums."""
        channels, melodic, drums = [], 0, DRUM_CHANNEL
        for inst in pm.instruments:
            if inst.is_drum:
                channels.append(drums)
                drums += 16
            else:
                if melodic % 16 == DRUM_CHANNEL:
                    melodic += 1
                channels.append(melodic)
                melodic += 1
        return channels

    def _events(self, pm, channels: list[int]) -> tuple[list[tuple[int, int, int, int, int]], list[tuple[int, int]]]:
        """(sorted events (frame, kind, channel, a, b), note spans (on, off) in frames)."""
        sr = self.sample_rate
        events: list[tuple[int, int, int, int, int]] = []
        spans: list[tuple[int, int]] = []
        for inst, chan in zip(pm.instruments, channels):
            for note in inst.notes:
                on, off = round(note.start * sr), round(note.end * sr)
                if off <= on:
                    continue
                events.append((on, EVENT_ON, chan, note.pitch, note.velocity))
                events.append((off, EVENT_OFF, chan, note.pitch, 0))
                spans.append((on, off))
            for cc in inst.control_changes:
                events.append((round(cc.time * sr), EVENT_CC, chan, cc.number, cc.value))
            for bend in inst.pitch_bends:
                events.append((round(bend.time * sr), EVENT_BEND, chan, bend.pitch, 0))
        events.sort()
        return events, spans

    # -- public -------------------------------------------------------------------

    def render(self, pm, tail_seconds: float = 1.0) -> np.ndarray:
        """Audio for ``pm``: float32, shape (num_samples, 2), values in [-1, 1].

        ``num_samples = round((pm.get_end_time() + tail_seconds) * sample_rate)``;
        the tail lets the last notes and the reverb ring out. Each instrument
        gets its own MIDI channel (drums on 9); note-offs precede note-ons at
        the same instant; control changes and pitch bends are played too.
        Timing resolution is FluidSynth's 64-frame block (2 ms at 32 kHz).
        """
        piece = self._piece(pm, tail_seconds)
        segments = plan_segments(piece.spans, piece.total, len(self._engines), self.sample_rate, BLOCK_FRAMES)
        parts = self._on_engines([functools.partial(piece.play, segment=seg) for seg in segments], renders=1)
        out = parts[0] if len(parts) == 1 else stitch(parts, segments, np.empty((piece.total, 2), dtype=np.float32))
        return _limit_peak(out)

    def render_many(self, pms: Sequence, tail_seconds: float | Sequence[float] = 1.0) -> list[np.ndarray]:
        """Audio for several pieces (as :meth:`render`), the engines rendering different pieces at once.

        Each piece is rendered whole by one engine (for several pieces, such as the
        variations of a compose or the cells of a map, this shares the work better
        than cutting each one); a single piece is cut as :meth:`render` does.
        ``tail_seconds`` is one value for all or one per piece.
        """
        tails = [tail_seconds] * len(pms) if isinstance(tail_seconds, (int, float)) else list(tail_seconds)
        if len(tails) != len(pms):
            raise ValueError(f"render_many got {len(pms)} pieces but {len(tails)} tail lengths")
        if len(pms) == 1:
            return [self.render(pms[0], tail_seconds=tails[0])]
        pieces = [self._piece(pm, tail) for pm, tail in zip(pms, tails)]
        results: list[np.ndarray | None] = [None] * len(pieces)
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(pieces)):
            todo.put(index)

        def drain(engine: SynthEngine) -> None:  # each engine takes the next piece until none are left
            while True:
                try:
                    index = todo.get_nowait()
                except queue.Empty:
                    return
                piece = pieces[index]
                results[index] = _limit_peak(piece.play(engine, Segment(0, 0, piece.total, piece.total)))

        self._on_engines([drain] * min(len(self._engines), max(1, len(pieces))), renders=len(pieces))
        return [r for r in results if r is not None]

    def _on_engines(self, tasks: list[Callable[[SynthEngine], T]], renders: int) -> list[T]:
        """Run ``tasks[k](engine k)`` at once, task 0 on the calling thread, the rest on the pool.

        At most one task per engine; the lock is held until every task is done.
        ``renders`` is added to the render count.
        """
        with self._lock:
            if self._closed:
                raise AudioBackendError("This Synthesizer was closed; use get_synthesizer() for a live one")
            pool = self._pool  # None with one engine, when there is nothing to submit
            pairs = zip(tasks[1:], self._engines[1:])
            futures = [pool.submit(task, engine) for task, engine in pairs] if pool is not None else []
            try:
                first = tasks[0](self._engines[0])
            finally:  # never leave the lock while a pool thread still uses an engine
                wait(futures)
            results = [first] + [f.result() for f in futures]
            self.renders += renders
            return results

    def _piece(self, pm, tail_seconds: float) -> _Piece:
        end = max(float(pm.get_end_time()), 0.0) + max(float(tail_seconds), 0.0)
        channels = self._channels(pm)
        programs = [
            (chan, 128 if inst.is_drum else 0, int(inst.program)) for inst, chan in zip(pm.instruments, channels)
        ]
        events, spans = self._events(pm, channels)
        return _Piece(int(round(end * self.sample_rate)), programs, events, spans)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                for engine in self._engines:
                    engine.delete()
                if self._pool is not None:
                    self._pool.shutdown(wait=False)

    def __repr__(self) -> str:
        return (
            f"Synthesizer(soundfont='{self.soundfont}', sample_rate={self.sample_rate}, "
            f"engines={len(self._engines)}, settings={self.settings})"
        )


@functools.lru_cache(maxsize=4)
def _cached_synthesizer(soundfont: str, sample_rate: int) -> Synthesizer:
    return Synthesizer(soundfont, sample_rate=sample_rate)


def get_synthesizer(soundfont: str | Path | None = None, sample_rate: int = DEFAULT_SAMPLE_RATE) -> Synthesizer:
    """The process-wide warm :class:`Synthesizer` for this SoundFont and sample rate.

    ``soundfont=None`` means :func:`engine.render.soundfont.default_soundfont`.
    """
    path = Path(soundfont) if soundfont is not None else default_soundfont()
    return _cached_synthesizer(str(path.resolve()), int(sample_rate))


def to_int16(audio: np.ndarray) -> np.ndarray:
    """float audio in [-1, 1] -> int16 (clipped, rounded); ``audio`` is left unchanged."""
    scaled: np.ndarray = np.multiply(audio, 32767.0, dtype=np.float32)  # one temporary, reused in place below
    np.clip(scaled, -32767.0, 32767.0, out=scaled)
    np.rint(scaled, out=scaled)
    return scaled.astype(np.int16)


def _leadsheet_midi(sheet: LeadSheet, program: int, accompaniment_program: int | None, tail_seconds: float):
    """(PrettyMIDI, tail) such that the audio covers the whole melody (trailing rests too) plus ``tail_seconds``."""
    from engine.render.export import leadsheet_to_pretty_midi

    pm = leadsheet_to_pretty_midi(sheet, program=program, accompaniment_program=accompaniment_program)
    return pm, max(tail_seconds, sheet.melody.duration_seconds + tail_seconds - pm.get_end_time())


def render_leadsheet(
    sheet: LeadSheet,
    program: int = 0,
    accompaniment_program: int | None = 0,
    tail_seconds: float = 1.0,
    synthesizer: Synthesizer | None = None,
    as_int16: bool = True,
) -> tuple[int, np.ndarray]:
    """``(sample_rate, audio)`` ready for ``gr.Audio(type="numpy")``.

    ``audio`` has shape (num_samples, 2); it is int16 by default (Gradio would
    otherwise peak-normalise float audio and warn), float32 with ``as_int16=False``.
    The length covers the whole melody (``melody.num_steps``, trailing rests too)
    plus ``tail_seconds``.
    """
    synth = synthesizer or get_synthesizer()
    pm, tail = _leadsheet_midi(sheet, program, accompaniment_program, tail_seconds)
    audio = synth.render(pm, tail_seconds=tail)
    return synth.sample_rate, (to_int16(audio) if as_int16 else audio)


def render_leadsheets(
    sheets: Sequence[LeadSheet],
    program: int = 0,
    accompaniment_program: int | None = 0,
    tail_seconds: float = 1.0,
    synthesizer: Synthesizer | None = None,
    as_int16: bool = True,
) -> tuple[int, list[np.ndarray]]:
    """``(sample_rate, [audio, ...])``: :func:`render_leadsheet` for many sheets, engines working at once."""
    synth = synthesizer or get_synthesizer()
    midis = [_leadsheet_midi(sheet, program, accompaniment_program, tail_seconds) for sheet in sheets]
    audios = synth.render_many([pm for pm, _ in midis], [tail for _, tail in midis])
    return synth.sample_rate, [to_int16(a) if as_int16 else a for a in audios]


def audio_duration_seconds(audio: np.ndarray, sample_rate: int) -> float:
    return len(audio) / float(sample_rate) if sample_rate else math.nan
