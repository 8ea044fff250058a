"""Figures of single melodies as token rows (engine.music.constants), each a pure function with a known answer."""

from __future__ import annotations

import numpy as np

from engine.music.constants import HOLD


def onset_f1(requested: np.ndarray, produced: np.ndarray) -> float:
    """F1 of produced onset steps against requested ones (bool arrays of equal shape)."""
    requested, produced = np.asarray(requested, bool), np.asarray(produced, bool)
    hits = np.sum(requested & produced)
    if requested.sum() == 0 and produced.sum() == 0:
        return 1.0
    precision = hits / max(produced.sum(), 1)
    recall = hits / max(requested.sum(), 1)
    return 0.0 if hits == 0 else float(2 * precision * recall / (precision + recall))


def chord_tone_share(tokens: np.ndarray, chroma: np.ndarray) -> tuple[int, int]:
    """(steps of sounding notes on a chord tone, steps of sounding notes under a chord).

    tokens (T,), chroma (T, 12); steps without a chord are not counted.
    """
    on, total, pitch = 0, 0, None
    for step, token in enumerate(np.asarray(tokens).tolist()):
        if token < HOLD:
            pitch = token
        elif token != HOLD:
            pitch = None
        if pitch is None or chroma[step].sum() == 0:
            continue
        total += 1
        on += int(chroma[step, pitch % 12] > 0)
    return on, total


def edit_distance(a: np.ndarray, b: np.ndarray) -> int:
    """Levenshtein distance between two token sequences."""
    a, b = np.asarray(a).tolist(), np.asarray(b).tolist()
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def sounding_pitch(tokens: np.ndarray) -> np.ndarray:
    """The pitch sounding at each step (NaN where none) for melody tokens (T,)."""
    out = np.full(len(tokens), np.nan)
    pitch = np.nan
    for step, token in enumerate(np.asarray(tokens).tolist()):
        if token < HOLD:
            pitch = float(token)
        elif token != HOLD:
            pitch = np.nan
        out[step] = pitch
    return out


def contour_correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation of two step-wise pitch sequences over the steps where both sound (None if undefined)."""
    both = ~np.isnan(x) & ~np.isnan(y)
    if both.sum() < 3 or np.std(x[both]) == 0 or np.std(y[both]) == 0:
        return None
    return float(np.corrcoef(x[both], y[both])[0, 1])


INTERVAL_CLIP = 12


# ------------------------------------------------------------------ melody statistics
def onset_pitches(tokens: np.ndarray) -> np.ndarray:
    tokens = np.asarray(tokens)
    return tokens[tokens < HOLD]


def intervals(tokens: np.ndarray) -> np.ndarray:
    """Signed semitone steps between consecutive note onsets (rests in between do not break the line)."""
    return np.diff(onset_pitches(tokens).astype(np.int64))


def interval_histogram(values: np.ndarray) -> np.ndarray:
    """Normalised histogram of signed intervals clipped to -12..+12 (25 bins)."""
    clipped = np.clip(np.asarray(values, dtype=np.int64), -INTERVAL_CLIP, INTERVAL_CLIP) + INTERVAL_CLIP
    counts = np.bincount(clipped, minlength=2 * INTERVAL_CLIP + 1).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def histogram_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of bin-wise minima of two normalised histograms (1.0 = identical)."""
    return float(np.minimum(a, b).sum())


def melody_stats(token_sets: list[np.ndarray], chroma_sets: list[np.ndarray]) -> dict:
    """Interval shares and chord-tone share over many melodies (tokens (T,), chroma (T, 12) each)."""
    from engine.eval.metrics.melody import chord_tone_share

    steps = np.concatenate([intervals(t) for t in token_sets]) if token_sets else np.zeros(0)
    magnitude = np.abs(steps)
    on = total = 0
    for tokens, chroma in zip(token_sets, chroma_sets):
        a, b = chord_tone_share(tokens, chroma)
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
