"""One FluidSynth instance with the SoundFont loaded, fed events and pulled for samples (engine.render.audio's
Synthesizer drives one or two of them).

libfluidsynth is imported lazily: importing :mod:`engine.render` works without it, and only rendering raises
:class:`AudioBackendError` naming what to install.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

import numpy as np

DRUM_CHANNEL = 9


BLOCK_FRAMES = 64  # FluidSynth renders (and applies events) in blocks of 64 frames


SYSTEM_PACKAGES_HINT = (
    "FluidSynth is not available: install the system library "
    "(Debian/Ubuntu: `sudo apt-get install fluidsynth libfluidsynth3`; "
    "macOS: `brew install fluid-synth`) and the Python binding `pyfluidsynth`. "
    "scripts/install_system_deps.sh does this on Debian/Ubuntu."
)


class AudioBackendError(RuntimeError):
    """libfluidsynth (or the pyfluidsynth binding) is missing, or the SoundFont did not load."""


def import_fluidsynth():
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


def float_writer(fluidsynth_module):
    """ctypes ``fluid_synth_write_float`` (renders float32 straight into our buffer), or None."""
    lib = getattr(fluidsynth_module, "_fl", None)
    func = getattr(lib, "fluid_synth_write_float", None) if lib is not None else None
    if func is None:
        return None
    func.restype = ctypes.c_int
    func.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_int,
    ]
    return func


# Event kinds, in the order they apply when they fall on the same sample:
# note-offs before controllers before note-ons (so a repeated pitch re-strikes).
EVENT_OFF, EVENT_CC, EVENT_BEND, EVENT_ON = 0, 1, 2, 3


def default_engine_count() -> int:
    """Engines per synthesizer: one per CPU core, at most two (see :mod:`engine.render.segments`)."""
    return max(1, min(2, os.cpu_count() or 1))


class SynthEngine:
    """One FluidSynth instance with the SoundFont loaded. Not thread-safe: the Synthesizer serialises."""

    def __init__(self, fluidsynth, soundfont: Path, sample_rate: int, gain: float, settings: dict[str, Any]):
        self.synth = fluidsynth.Synth(gain=gain, samplerate=sample_rate, **settings)
        self._write_float = float_writer(fluidsynth)
        self._scratch = np.zeros((BLOCK_FRAMES, 2), dtype=np.float32)
        self._frames_written = 0
        self.sfid = self.synth.sfload(str(soundfont))
        if self.sfid is None or self.sfid < 0:
            self.synth.delete()
            raise AudioBackendError(f"FluidSynth could not load the SoundFont {soundfont}")

    def write(self, out: np.ndarray, pos: int, frames: int) -> None:
        """Render ``frames`` frames into ``out[pos : pos + frames]`` (float32, C-contiguous (N, 2))."""
        if frames <= 0:
            return
        self._frames_written += frames
        if self._write_float is not None:
            # out is C-contiguous float32 (frames, 2): left at 2*i, right at 2*i+1.
            base = out.ctypes.data
            self._write_float(self.synth.synth, frames, base, 2 * pos, 2, base, 2 * pos + 1, 2)
        else:
            chunk = self.synth.get_samples(frames)  # interleaved int16 stereo
            out[pos : pos + frames] = chunk.reshape(-1, 2) / 32768.0

    def silence(self) -> None:
        """Kill every voice, clear the effects, and realign FluidSynth's 64-frame block.

        ``system_reset`` alone leaves voices ringing in their release phase, so
        all voices are killed first and the kill is let through by rendering a
        few scratch frames; ``system_reset`` then resets controllers and effects
        (twice: once is not always enough to empty the reverb). FluidSynth
        applies events at 64-frame block boundaries, so the block position is
        realigned: events then land on the same frames in every render. Without
        reverb, renders of the same MIDI are identical from an engine's second
        render on; the reverb's delay-line modulation keeps running between
        renders, so with reverb on they differ very slightly (about -50 dB).
        """
        synth = self.synth
        if synth.all_sounds_off(-1) != 0:  # -1: every channel (FluidSynth >= 2)
            for chan in range(256):
                synth.all_sounds_off(chan)
        self.write(self._scratch, 0, BLOCK_FRAMES)
        synth.system_reset()
        self.write(self._scratch, 0, BLOCK_FRAMES)
        synth.system_reset()
        self.write(self._scratch, 0, (-self._frames_written) % BLOCK_FRAMES)

    def prepare(self, programs: list[tuple[int, int, int]]) -> None:
        """Silence, then select ``(channel, bank, program)`` presets."""
        self.silence()
        for chan, bank, program in programs:
            if self.synth.program_select(chan, self.sfid, bank, program) < 0:
                # The font lacks this preset: fall back to its first in the bank.
                self.synth.program_select(chan, self.sfid, bank, 0)

    def play(self, events: list[tuple[int, int, int, int, int]], start: int, stop: int) -> np.ndarray:
        """Frames ``[start, stop)`` of the piece: float32 (stop - start, 2).

        Events before ``start``: controllers and bends are applied at once (they
        are state); notes are skipped (the segment plan replays every note that
        is still heard). ``start`` must be block-aligned.
        """
        synth = self.synth
        out = np.zeros((stop - start, 2), dtype=np.float32)
        pos = start
        for sample, kind, chan, a, b in events:
            if sample < start:
                if kind == EVENT_CC:
                    synth.cc(chan, a, b)
                elif kind == EVENT_BEND:
                    synth.pitch_bend(chan, a)
                continue
            if sample >= stop:
                break
            if sample > pos:
                self.write(out, pos - start, sample - pos)
                pos = sample
            if kind == EVENT_ON:
                synth.noteon(chan, a, b)
            elif kind == EVENT_OFF:
                synth.noteoff(chan, a)
            elif kind == EVENT_CC:
                synth.cc(chan, a, b)
            else:
                synth.pitch_bend(chan, a)
        self.write(out, pos - start, stop - pos)
        return out

    def delete(self) -> None:
        self.synth.delete()
