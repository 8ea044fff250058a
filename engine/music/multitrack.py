"""Four-part music as four monophonic token tracks: voices from notes, four tracks from any number of voices,
2-bar windows of a piece, transposition.

Every window is four tracks of 32 sixteenth steps in the melody tokens of engine.music.constants (pitch onset,
HOLD, REST), track 0 the highest voice and track 3 the lowest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from engine.music.constants import HOLD, REST, TRACKS, WINDOW_STEPS

STYLES = (
    "Bach chorale",
    "Palestrina mass",
    "Monteverdi madrigal",
    "Trecento",
    "String quartet",
    "English folk",
    "Irish folk",
)


def voice_tokens(notes: Iterable[tuple[int, int, int]], num_steps: int) -> np.ndarray:
    """Tokens (num_steps,) of one voice from (start step, end step, pitch) notes; where notes overlap the higher
    onset wins and a later onset cuts the note before it."""
    tokens = np.full(num_steps, REST, dtype=np.int64)
    onsets: dict[int, tuple[int, int]] = {}
    for start, end, pitch in notes:
        if 0 <= start < num_steps and 0 <= pitch < 128 and end > start:
            if start not in onsets or pitch > onsets[start][1]:
                onsets[start] = (end, pitch)
    starts = sorted(onsets)
    for index, start in enumerate(starts):
        end, pitch = onsets[start]
        stop = min(end, starts[index + 1] if index + 1 < len(starts) else num_steps, num_steps)
        tokens[start] = pitch
        tokens[start + 1 : stop] = HOLD
    return tokens


def choose_voices(voices: list[np.ndarray]) -> list[np.ndarray | None]:
    """Four tracks, highest first, from voices (token arrays) ranked by mean pitch; missing tracks are None.

    Five or more voices: the highest, the lowest and the two nearest the middle (of five: the middle one and the one
    above it). Three: top, middle (track
    1) and lowest (track 3). Two: top and lowest. One: track 0."""

    def mean_pitch(tokens: np.ndarray) -> float:
        pitches = tokens[tokens < HOLD]
        return float(pitches.mean()) if len(pitches) else -1.0

    ranked = sorted(voices, key=mean_pitch, reverse=True)
    n = len(ranked)
    if n >= 4:
        if n == 4:
            four: list[np.ndarray | None] = list(ranked)
            return four
        middle = (n - 1) / 2
        inner = sorted(range(1, n - 1), key=lambda i: abs(i - middle))[:2]
        return [ranked[0], *[ranked[i] for i in sorted(inner)], ranked[-1]]
    if n == 3:
        return [ranked[0], ranked[1], None, ranked[2]]
    if n == 2:
        return [ranked[0], None, None, ranked[1]]
    return [ranked[0] if ranked else None, None, None, None]


def piece_windows(tracks: Sequence[np.ndarray | None], bar_starts: list[int], min_onsets: int = 4) -> np.ndarray:
    """(N, 4, 32) windows starting at each bar start that fits; a silent track is all REST. Windows with fewer than
    ``min_onsets`` onsets in all tracks together, or none in track 0, are skipped."""
    length = max((len(t) for t in tracks if t is not None), default=0)
    full = np.stack([t if t is not None else np.full(length, REST, dtype=np.int64) for t in tracks])
    out = []
    for start in bar_starts:
        if start < 0 or start + WINDOW_STEPS > length:
            continue
        window = full[:, start : start + WINDOW_STEPS]
        onsets = window < HOLD
        if onsets.sum() >= min_onsets and onsets[0].any():
            out.append(window)
    return np.stack(out) if out else np.zeros((0, TRACKS, WINDOW_STEPS), dtype=np.int64)


def transpose_windows(windows: np.ndarray, semitones: np.ndarray) -> np.ndarray:
    """Windows (N, 4, 32) each moved by ``semitones[i]``; a window whose notes would leave 0..127 stays put."""
    out = windows.copy()
    pitched = out < HOLD
    moved = np.where(pitched, out + semitones[:, None, None], out)
    fits = (~pitched | ((moved >= 0) & (moved < 128))).all(axis=(1, 2))
    out[fits] = moved[fits]
    return out
