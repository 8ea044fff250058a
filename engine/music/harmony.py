"""Pitch classes of four-track token windows: what sounds when, diatonic scales, and the triads that fit.

Windows are (N, tracks, steps) arrays of melody tokens (engine.music.constants), one sixteenth per step.
A HOLD with no onset before it in the window (a note tied in from before) sounds, but its pitch is UNKNOWN.
"""

from __future__ import annotations

import numpy as np

from engine.music.constants import HOLD, STEPS_PER_BEAT, WINDOW_STEPS

SILENT = -1  # no note sounds


UNKNOWN = -2  # a note sounds (held from before the window) whose pitch the window does not tell


def sounding_pitches(windows: np.ndarray) -> np.ndarray:
    """The MIDI pitch sounding at every step, same shape as ``windows`` (..., steps): SILENT (-1) at rests,
    UNKNOWN (-2) under a HOLD with no onset before it in the window."""
    tokens = np.asarray(windows)
    steps = np.arange(tokens.shape[-1])
    # The last step at or before each step that is not a HOLD (an onset or a rest): -1 where there is none.
    last = np.maximum.accumulate(np.where(tokens != HOLD, steps, -1), axis=-1)
    value = np.take_along_axis(tokens, np.maximum(last, 0), axis=-1).astype(np.int64)
    out: np.ndarray = np.where(last < 0, UNKNOWN, np.where(value < HOLD, value, SILENT))
    return out


def beat_pitch_class_counts(windows: np.ndarray) -> np.ndarray:
    """Steps each pitch class sounds in each beat, per track: (N, tracks, steps // 4, 12) float32."""
    pitches = sounding_pitches(windows)
    n, tracks, steps = pitches.shape
    onehot = np.zeros((n, tracks, steps, 12), dtype=np.float32)
    known = pitches >= 0
    idx = np.nonzero(known)
    onehot[idx + (pitches[known] % 12,)] = 1.0
    counts: np.ndarray = onehot.reshape(n, tracks, steps // STEPS_PER_BEAT, STEPS_PER_BEAT, 12).sum(axis=3)
    return counts


# Major and minor triads (rows: C, C#, ... B major, then C minor ... B minor), as typed chords are mostly triads.
_TRIADS = np.array(
    [[(pc - root) % 12 in shape for pc in range(12)] for shape in ((0, 4, 7), (0, 3, 7)) for root in range(12)],
    dtype=np.float32,
)


# The twelve diatonic scales (the major scale on C, C#, ... B; each also a natural minor and a church mode).
DIATONIC_SCALES = np.array(
    [[(pc - root) % 12 in (0, 2, 4, 5, 7, 9, 11) for pc in range(12)] for root in range(12)], dtype=np.float32
)


def window_triad_chroma(windows: np.ndarray, beats_per_chord: int = 2, in_key: bool = False) -> np.ndarray:
    """The chord condition of real windows (N, tracks, 32) as a user types it: one major or minor triad per half bar
    (``beats_per_chord`` beats), the one that best fits the four tracks' duration-weighted pitch classes there (as
    engine.music.chords.recognize_chord scores triads: weight inside minus outside, a penalty per missing tone, a small
    bonus for the root). Silent half bars get no chord. (N, 8, 12) float32, 1.0 / 0.0 per beat.

    Why triads rather than every pitch class heard: with those, 95% of real onsets were "chord tones" by
    construction, the generator learnt to play nothing else, and over typed triads its melodies were arpeggios
    (99% chord tones; real Nottingham melodies over their chord symbols: 78%).

    ``in_key``: only the triads of the window's key, the diatonic scale that holds most of its duration-weighted pitch
    classes (its major and minor triads: I, ii, iii, IV, V, vi), as a person types chords in one key.
    """
    counts = beat_pitch_class_counts(windows).sum(axis=1)  # (N, beats, 12)
    n, beats, _ = counts.shape
    spans = counts.reshape(n, beats // beats_per_chord, beats_per_chord, 12).sum(axis=2)  # (N, spans, 12)
    total = spans.sum(axis=2, keepdims=True)
    weights = spans / np.maximum(total, 1e-9)
    inside = weights @ _TRIADS.T  # (N, spans, 24)
    missing = (weights < 0.02).astype(np.float32) @ _TRIADS.T
    roots = np.tile(np.arange(12), 2)
    score = 2 * inside - 1 - 0.15 * missing + 0.02 * weights[..., roots]
    if in_key:
        scale = DIATONIC_SCALES[(counts.sum(axis=1) @ DIATONIC_SCALES.T).argmax(axis=1)]  # (N, 12)
        allowed = (_TRIADS[None] <= scale[:, None, :]).all(axis=2)  # (N, 24)
        score = np.where(allowed[:, None, :], score, -np.inf)
    chroma = _TRIADS[score.argmax(axis=2)] * (total > 0)  # (N, spans, 12)
    return np.repeat(chroma, beats_per_chord, axis=1).astype(np.float32)


def chroma_per_step(chroma: np.ndarray, steps: int) -> np.ndarray:
    """Chroma (N, beats or steps, 12) as one row per step (N, steps, 12): a per-beat chroma is repeated over its
    beat's steps."""
    chroma = np.asarray(chroma)
    if chroma.shape[1] == steps:
        return chroma
    if chroma.shape[1] * STEPS_PER_BEAT == steps:
        return np.repeat(chroma, STEPS_PER_BEAT, axis=1)
    raise ValueError(f"chroma has {chroma.shape[1]} rows: expected {steps} steps or {steps // STEPS_PER_BEAT} beats")


def beat_chroma_from_steps(step_chroma: np.ndarray) -> np.ndarray:
    """Chroma per step (..., steps, 12) -> per beat (..., steps // 4, 12): the pitch classes of any chord heard in
    the beat (1.0 / 0.0)."""
    step_chroma = np.asarray(step_chroma)
    shape = step_chroma.shape
    beats = step_chroma.reshape(*shape[:-2], shape[-2] // 4, 4, 12)
    heard = (beats > 0).any(axis=-2)
    assert isinstance(heard, np.ndarray)  # (..., beats, 12), never a scalar
    return heard.astype(np.float32)


def progression_beat_chroma(progression, num_windows: int, offset: int = 0) -> np.ndarray:
    """The chord condition of ``num_windows`` consecutive windows from a ChordProgression (engine.music), e.g.
    ``parse_progression("C Am F G", num_bars=8)``: (num_windows, 8, 12)."""
    steps = progression.chroma(num_windows * WINDOW_STEPS, offset)  # (steps, 12)
    return beat_chroma_from_steps(steps.reshape(num_windows, WINDOW_STEPS, 12))
