"""Figures of melodies as token rows (engine.music.constants: onset pitch, HOLD, REST per sixteenth), each defined
once, each a pure function with a known-answer test (tests/engine/eval/metrics/test_melody.py).

* :func:`sounding_pitch`: the pitch sounding at each step;
* :func:`chord_tone_steps` / :func:`chord_tone_share`: steps a note sounds on a tone of the chord sounding then;
* :func:`onset_f1`: produced onsets against requested ones;
* :func:`intervals`, :func:`interval_histogram`, :func:`histogram_overlap`, :func:`melody_stats`: how a line moves;
* :func:`edit_distance`, :func:`contour_correlation`: how far apart two melodies are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.music.constants import HOLD
from engine.music.harmony import sounding_pitches

INTERVAL_CLIP = 12  # intervals beyond an octave share the histogram's end bins


def sounding_pitch(tokens: np.ndarray) -> np.ndarray:
    """The pitch sounding at each step of melody tokens (T,), as floats, NaN where none (a rest, or a HOLD with no
    onset before it)."""
    pitches: np.ndarray = sounding_pitches(np.asarray(tokens)[None])[0].astype(np.float64)
    pitches[pitches < 0] = np.nan
    return pitches


def chord_tone_steps(tokens: np.ndarray, chroma: np.ndarray) -> tuple[int, int]:
    """(steps a note sounds on a tone of the chord sounding then, steps a note sounds under a chord): tokens (T,),
    chroma (T, 12) per step (nonzero where a pitch class is in the chord). Steps without a chord are not counted."""
    pitch = sounding_pitch(tokens)
    chroma = np.asarray(chroma)
    counted = ~np.isnan(pitch) & (chroma.sum(axis=1) > 0)
    steps = np.flatnonzero(counted)
    on = int((chroma[steps, pitch[steps].astype(np.int64) % 12] > 0).sum())
    return on, int(len(steps))


def chord_tone_share(tokens: np.ndarray, chroma: np.ndarray) -> float | None:
    """Share of the steps a note sounds under a chord that are on a tone of that chord (None when no note sounds under
    a chord): :func:`chord_tone_steps` as a share."""
    on, total = chord_tone_steps(tokens, chroma)
    return on / total if total else None


def onset_f1(requested: np.ndarray, produced: np.ndarray) -> float:
    """F1 of produced onset steps against requested ones (bool arrays of equal shape); 1.0 when neither has any."""
    requested, produced = np.asarray(requested, bool), np.asarray(produced, bool)
    hits = np.sum(requested & produced)
    if requested.sum() == 0 and produced.sum() == 0:
        return 1.0
    precision = hits / max(produced.sum(), 1)
    recall = hits / max(requested.sum(), 1)
    return 0.0 if hits == 0 else float(2 * precision * recall / (precision + recall))


def edit_distance(a: np.ndarray | Sequence[int], b: np.ndarray | Sequence[int]) -> int:
    """Levenshtein distance between two token sequences."""
    first, second = np.asarray(a).tolist(), np.asarray(b).tolist()
    previous = list(range(len(second) + 1))
    for i, x in enumerate(first, start=1):
        current = [i]
        for j, y in enumerate(second, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return int(previous[-1])


def contour_correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation of two step-wise pitch sequences over the steps where both sound (None if undefined)."""
    both = ~np.isnan(x) & ~np.isnan(y)
    if both.sum() < 3 or np.std(x[both]) == 0 or np.std(y[both]) == 0:
        return None
    return float(np.corrcoef(x[both], y[both])[0, 1])


def onset_pitches(tokens: np.ndarray) -> np.ndarray:
    """The pitches of a melody's onsets, in order."""
    tokens = np.asarray(tokens)
    return tokens[tokens < HOLD]


def intervals(tokens: np.ndarray) -> np.ndarray:
    """Signed semitone steps between consecutive note onsets (rests in between do not break the line)."""
    return np.diff(onset_pitches(tokens).astype(np.int64))


def interval_histogram(values: np.ndarray) -> np.ndarray:
    """Normalised histogram (25 bins, -12..+12) of signed intervals, larger ones clipped into the end bins."""
    clipped = np.clip(np.asarray(values, dtype=np.int64), -INTERVAL_CLIP, INTERVAL_CLIP) + INTERVAL_CLIP
    counts = np.bincount(clipped, minlength=2 * INTERVAL_CLIP + 1).astype(np.float64)
    histogram: np.ndarray = counts / max(counts.sum(), 1.0)
    return histogram


def histogram_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of bin-wise minima of two normalised histograms (1.0 = identical, 0.0 = disjoint)."""
    return float(np.minimum(a, b).sum())


def melody_stats(token_sets: Sequence[np.ndarray], chroma_sets: Sequence[np.ndarray]) -> dict:
    """Over many melodies (tokens (T,), chroma (T, 12) each): the share of note-to-note intervals that repeat the pitch,
    move by step (1-2 semitones) or leap (5 or more), the share of note time on chord tones, and the interval
    histogram."""
    steps = np.concatenate([intervals(t) for t in token_sets]) if token_sets else np.zeros(0)
    magnitude = np.abs(steps)
    on = total = 0
    for tokens, chroma in zip(token_sets, chroma_sets):
        a, b = chord_tone_steps(tokens, chroma)
        on, total = on + a, total + b
    n = max(len(steps), 1)
    return {
        "intervals": int(len(steps)),
        "repeat_share": round(float(np.sum(magnitude == 0)) / n, 4),
        "step_share": round(float(np.sum((magnitude >= 1) & (magnitude <= 2))) / n, 4),
        "leap_share": round(float(np.sum(magnitude >= 5)) / n, 4),
        "chord_tone_share": round(on / max(total, 1), 4),
        "histogram": interval_histogram(steps),
    }
