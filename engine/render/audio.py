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

import ctypes
import functools
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from engine.music import LeadSheet
from engine.render.soundfont import default_soundfont

# Defaults chosen by measurement (bench/render_compare.py; 16 s melody + block
# chords, FluidR3_GM, 2-core laptop-class CPU; median ms per render):
#                 reverb+chorus  reverb only  chorus only  dry
#   44100 Hz          109           103           81        77
#   32000 Hz           82            73           58        54
#   22050 Hz           55            52           41        37
#   synth.cpu-cores=2: no gain (114 ms at 44.1 kHz with both effects).
# 32 kHz keeps everything a GM font holds that matters for a melody (16 kHz
# bandwidth) at ~30% less cost than 44.1 kHz; reverb is kept (a dry GM piano
# sounds boxy), chorus is off (little audible effect on these presets); one core
# (more threads only add hand-off overhead for the few voices of a lead sheet).
# midi2audio takes ~320 ms for the same file, so this is ~4x faster.
DEFAULT_SAMPLE_RATE = 32000
DEFAULT_GAIN = 1.0  # peaks around 0.4-0.55 for melody + chords with FluidR3_GM
DEFAULT_SETTINGS: dict[str, Any] = {
    "synth.reverb.active": 1,
    "synth.chorus.active": 0,
    "synth.cpu-cores": 1,
    "synth.polyphony": 128,
}
DRUM_CHANNEL = 9
_BLOCK = 64  # FluidSynth renders (and applies events) in blocks of 64 frames
PEAK_LIMIT = 0.98  # output is scaled down (never up) so it never clips

SYSTEM_PACKAGES_HINT = (
    "FluidSynth is not available: install the system library "
    "(Debian/Ubuntu: `sudo apt-get install fluidsynth libfluidsynth3`; "
    "macOS: `brew install fluid-synth`) and the Python binding `pyfluidsynth`. "
    "scripts/install_system_deps.sh does this on Debian/Ubuntu."
)


class AudioBackendError(RuntimeError):
    """libfluidsynth (or the pyfluidsynth binding) is missing, or the SoundFont did not load."""


def _import_fluidsynth():
    try:
        import fluidsynth  # pyfluidsynth; raises ImportError when libfluidsynth is missing
    except (ImportError, OSError) as err:
        raise AudioBackendError(f"{SYSTEM_PACKAGES_HINT} ({type(err).__name__}: {err})") from None
    if not hasattr(fluidsynth, "Synth"):
        raise AudioBackendError(
            f"The imported module 'fluidsynth' ({getattr(fluidsynth, '__file__', '?')}) is not pyfluidsynth. "
            + SYSTEM_PACKAGES_HINT
        )
    return fluidsynth


def _float_writer(fluidsynth_module):
    """ctypes ``fluid_synth_write_float`` (renders float32 straight into our buffer), or None."""
    lib = getattr(fluidsynth_module, "_fl", None)
    func = getattr(lib, "fluid_synth_write_float", None) if lib is not None else None
    if func is None:
        return None
    func.restype = ctypes.c_int
    func.argtypes = [
        ctypes.c_void_p, ctypes.c_int,
        ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
        ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
    ]  # fmt: skip
    return func


# Event kinds, in the order they apply when they fall on the same sample:
# note-offs before controllers before note-ons (so a repeated pitch re-strikes).
_OFF, _CC, _BEND, _ON = 0, 1, 2, 3


class Synthesizer:
    """A warm FluidSynth: the SoundFont is loaded once, :meth:`render` is thread-safe.

    ``settings`` are extra FluidSynth settings (e.g. ``{"synth.chorus.active": 1}``)
    applied over :data:`DEFAULT_SETTINGS`.
    """

    def __init__(
        self,
        soundfont: str | Path | None = None,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        gain: float = DEFAULT_GAIN,
        settings: dict[str, Any] | None = None,
    ):
        fluidsynth = _import_fluidsynth()
        self.soundfont = Path(soundfont) if soundfont is not None else default_soundfont()
        if not self.soundfont.is_file():
            raise AudioBackendError(f"SoundFont not found: {self.soundfont}")
        self.sample_rate = int(sample_rate)
        self.gain = float(gain)
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self._lock = threading.Lock()
        self._synth = fluidsynth.Synth(gain=self.gain, samplerate=self.sample_rate, **self.settings)
        self._write_float = _float_writer(fluidsynth)
        self._scratch = np.zeros((_BLOCK, 2), dtype=np.float32)
        self._frames_written = 0
        self.sfid = self._synth.sfload(str(self.soundfont))
        if self.sfid is None or self.sfid < 0:
            self._synth.delete()
            raise AudioBackendError(f"FluidSynth could not load the SoundFont {self.soundfont}")
        self.renders = 0

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

    def _events(self, pm, channels: list[int]) -> list[tuple[int, int, int, int, int]]:
        sr = self.sample_rate
        events: list[tuple[int, int, int, int, int]] = []
        for inst, chan in zip(pm.instruments, channels):
            for note in inst.notes:
                on, off = round(note.start * sr), round(note.end * sr)
                if off <= on:
                    continue
                events.append((on, _ON, chan, note.pitch, note.velocity))
                events.append((off, _OFF, chan, note.pitch, 0))
            for cc in inst.control_changes:
                events.append((round(cc.time * sr), _CC, chan, cc.number, cc.value))
            for bend in inst.pitch_bends:
                events.append((round(bend.time * sr), _BEND, chan, bend.pitch, 0))
        events.sort()
        return events

    def _silence(self) -> None:
        """Kill every voice, clear the effects, and realign FluidSynth's 64-frame block.

        ``system_reset`` alone leaves voices ringing in their release phase, so
        all voices are killed first and the kill is let through by rendering a
        few scratch frames; ``system_reset`` then resets controllers and effects
        (twice: once is not always enough to empty the reverb). FluidSynth
        applies events at 64-frame block boundaries, so the block position is
        realigned: events then land on the same frames in every render (renders
        of the same MIDI are identical from the second render of a synth on).
        """
        synth = self._synth
        if synth.all_sounds_off(-1) != 0:  # -1: every channel (FluidSynth >= 2)
            for chan in range(256):
                synth.all_sounds_off(chan)
        self._write(self._scratch, 0, _BLOCK)
        synth.system_reset()
        self._write(self._scratch, 0, _BLOCK)
        synth.system_reset()
        self._write(self._scratch, 0, (-self._frames_written) % _BLOCK)

    def _reset(self, pm, channels: list[int]) -> None:
        synth = self._synth
        self._silence()
        for inst, chan in zip(pm.instruments, channels):
            bank = 128 if inst.is_drum else 0
            if synth.program_select(chan, self.sfid, bank, int(inst.program)) < 0:
                # The font lacks this preset: fall back to its first in the bank.
                synth.program_select(chan, self.sfid, bank, 0)

    def _write(self, out: np.ndarray, pos: int, frames: int) -> None:
        if frames <= 0:
            return
        self._frames_written += frames
        if self._write_float is not None:
            # out is C-contiguous float32 (frames, 2): left at 2*i, right at 2*i+1.
            base = out.ctypes.data
            self._write_float(self._synth.synth, frames, base, 2 * pos, 2, base, 2 * pos + 1, 2)
        else:
            chunk = self._synth.get_samples(frames)  # interleaved int16 stereo
            out[pos : pos + frames] = chunk.reshape(-1, 2) / 32768.0

    # -- public -------------------------------------------------------------------

    def render(self, pm, tail_seconds: float = 1.0) -> np.ndarray:
        """Audio for ``pm``: float32, shape (num_samples, 2), values in [-1, 1].

        ``num_samples = round((pm.get_end_time() + tail_seconds) * sample_rate)``;
        the tail lets the last notes and the reverb ring out. Each instrument
        gets its own MIDI channel (drums on 9); note-offs precede note-ons at
        the same instant; control changes and pitch bends are played too.
        Timing resolution is FluidSynth's 64-frame block (2 ms at 32 kHz).
        """
        end = max(float(pm.get_end_time()), 0.0) + max(float(tail_seconds), 0.0)
        total = int(round(end * self.sample_rate))
        out = np.zeros((total, 2), dtype=np.float32)
        with self._lock:
            synth = self._synth
            if synth is None:
                raise AudioBackendError("This Synthesizer was closed; use get_synthesizer() for a live one")
            channels = self._channels(pm)
            self._reset(pm, channels)
            events = self._events(pm, channels)
            pos = 0
            for sample, kind, chan, a, b in events:
                sample = min(sample, total)
                if sample > pos:
                    self._write(out, pos, sample - pos)
                    pos = sample
                if kind == _ON:
                    synth.noteon(chan, a, b)
                elif kind == _OFF:
                    synth.noteoff(chan, a)
                elif kind == _CC:
                    synth.cc(chan, a, b)
                else:
                    synth.pitch_bend(chan, a)
            self._write(out, pos, total - pos)
            self.renders += 1
        peak = float(np.max(np.abs(out))) if total else 0.0
        if peak > PEAK_LIMIT:
            out *= PEAK_LIMIT / peak
        return out

    def close(self) -> None:
        with self._lock:
            if self._synth is not None:
                self._synth.delete()
                self._synth = None

    def __repr__(self) -> str:
        return f"Synthesizer(soundfont='{self.soundfont}', sample_rate={self.sample_rate}, settings={self.settings})"


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
    return (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype(np.int16)


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
    from engine.render.export import leadsheet_to_pretty_midi

    synth = synthesizer or get_synthesizer()
    pm = leadsheet_to_pretty_midi(sheet, program=program, accompaniment_program=accompaniment_program)
    # Trailing rests count: render up to the melody's end, then the tail.
    tail = max(tail_seconds, sheet.melody.duration_seconds + tail_seconds - pm.get_end_time())
    audio = synth.render(pm, tail_seconds=tail)
    return synth.sample_rate, (to_int16(audio) if as_int16 else audio)


def audio_duration_seconds(audio: np.ndarray, sample_rate: int) -> float:
    return len(audio) / float(sample_rate) if sample_rate else math.nan
