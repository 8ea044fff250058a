"""Voice leading of four-track token pieces (4, steps): lower voices kept under a melody, parallel fifths and octaves,
voices crossing. Arrange's draw and check (engine.pipelines.arrange) reads and repairs its pieces with these."""

from __future__ import annotations

import numpy as np

from engine.music.constants import HOLD, STEPS_PER_BAR_44
from engine.music.harmony import sounding_pitches
from engine.music.representation import tokens_to_notes

LOWEST = 28  # E1: a voice moved under the melody never goes below the bass's lowest string
_WINDOW = 2 * STEPS_PER_BAR_44  # the 2-bar windows of the style models


def under_the_melody(voice: np.ndarray, melody: np.ndarray) -> np.ndarray:
    """A lower voice (steps,) with each note that sounds at or above the melody notes sounding with it moved down by
    octaves until it is under them (never below LOWEST)."""
    out = voice.copy()
    sounding = sounding_pitches(melody)
    for note in tokens_to_notes(voice):
        span = sounding[note.start : note.end]
        top = span[span >= 0]
        pitch = note.pitch
        while top.size and pitch >= top.min() and pitch - 12 >= LOWEST:
            pitch -= 12
        out[note.start] = pitch
    return out


def lower_voices_under(piece: np.ndarray, melody: np.ndarray) -> np.ndarray:
    """The three lower voices of a piece (4, steps) moved together, window by window, down by the octaves (0, 1 or 2)
    that leave the fewest steps with a lower voice at or above the melody: the voices keep their order (moving one
    voice alone would cross it under the next); a window's notes move with the window they start in."""
    out = piece.copy()
    top = sounding_pitches(melody)
    lows = sounding_pitches(piece[1:])  # (3, steps)
    for start in range(0, piece.shape[1], _WINDOW):
        end = min(start + _WINDOW, piece.shape[1])
        onsets = [(t, s) for t in range(1, 4) for s in range(start, end) if piece[t, s] < HOLD]
        lowest = min((int(piece[t, s]) for t, s in onsets), default=LOWEST + 24)
        shifts = [k for k in (0, 12, 24) if k == 0 or lowest - k >= LOWEST]
        shift = min(
            shifts, key=lambda k: (_clashes(lows[:, start:end] - k, lows[:, start:end] >= 0, top[start:end]), k)
        )
        for t, s in onsets:
            out[t, s] -= shift
    return out


def _clashes(lows: np.ndarray, sounding: np.ndarray, top: np.ndarray) -> int:
    """Steps at which a sounding lower voice (3, n) is at or above the melody (n,) sounding then."""
    return int(np.sum((sounding & (top[None, :] >= 0) & (lows >= top[None, :])).any(0)))


def parallel_steps(upper: np.ndarray, lower: np.ndarray) -> list[int]:
    """The steps at which two voices (steps,) arrive at a parallel fifth or octave (unisons included): consecutive
    onsets of either at which the interval (mod 12) is a fifth or an octave both times and both voices move."""
    top, low = sounding_pitches(upper), sounding_pitches(lower)
    both = np.flatnonzero((top >= 0) & (low >= 0) & ((upper < HOLD) | (lower < HOLD)))
    if len(both) < 2:
        return []
    interval = (top[both] - low[both]) % 12
    a, b = both[:-1], both[1:]
    found = (interval[:-1] == interval[1:]) & np.isin(interval[1:], (0, 7)) & (top[a] != top[b]) & (low[a] != low[b])
    return [int(step) for step in b[found]]


def parallels_with(melody: np.ndarray, voice: np.ndarray) -> int:
    """Parallel fifths and octaves (unisons included) between an upper voice (the melody) and a lower one
    (:func:`parallel_steps`)."""
    return len(parallel_steps(melody, voice))


def parallel_notes(tokens: np.ndarray, free: tuple[int, ...]) -> np.ndarray:
    """(4, steps) bool: the notes to draw again so that no parallel fifth or octave is left: for each, the note that
    arrives at it in the lower of its two voices that may change (``free``), onset to end."""
    hidden = np.zeros(tokens.shape, dtype=bool)
    for a in range(4):
        for b in range(a + 1, 4):
            which = b if b in free else (a if a in free else None)
            if which is None:
                continue
            row = tokens[which]
            for step in parallel_steps(tokens[a], tokens[b]):
                onsets = np.flatnonzero(row[: step + 1] < HOLD)
                if not len(onsets):
                    continue
                start = int(onsets[-1])
                after = np.flatnonzero(row[start + 1 :] != HOLD)
                end = start + 1 + int(after[0]) if len(after) else len(row)
                hidden[which, start:end] = True
    return hidden


def voice_leading_faults(tokens: np.ndarray) -> float:
    """What the draw and check avoids after the style: parallel fifths and octaves between any two voices, plus a
    quarter for every step at which a lower voice sounds above a higher one."""
    pitches = sounding_pitches(tokens)
    parallels = sum(parallels_with(tokens[a], tokens[b]) for a in range(4) for b in range(a + 1, 4))
    crossed = 0
    for upper in range(1, 3):
        for lower in range(upper + 1, 4):
            both = (pitches[upper] >= 0) & (pitches[lower] >= 0)
            crossed += int(np.sum(pitches[lower][both] > pitches[upper][both]))
    return parallels + crossed / 4
