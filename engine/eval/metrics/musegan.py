"""MuseGAN's objective metrics (Dong et al., AAAI 2018) on four-track token windows.

Windows are (N, tracks, steps) arrays of EC2-VAE tokens (engine.music.representation: 0..127 onset of
that pitch, 128 HOLD, 129 REST), one sixteenth per step, 16 steps to a bar and 4 to a beat.
Every function returns plain floats, lists and dicts (JSON-ready), ``None`` where a figure is
undefined (say the used pitch classes of a track that never plays).

* :func:`empty_bar_rate`: share of bars (16 steps) in which the track sounds no note.
* :func:`used_pitch_classes`: mean number of pitch classes sounding per bar, over non-empty bars.
* :func:`qualified_note_rate`: share of notes lasting at least ``min_steps`` = 2 steps (an eighth
  note); MuseGAN's threshold was three 96th-note time steps, far below any note of this grid,
  so an eighth is used to tell sixteenth-note chatter from held notes.
* :func:`tonal_distance`: Harte, Sandler and Gasser's (2006) 6-D tonal centroid of each track's
  chroma per beat, Euclidean distance between two tracks averaged over the beats where both sound
  (as MuseGAN compares track pairs).
* :func:`onset_chord_tone_share`: share of onsets whose pitch class is in the chord at that step.
* :func:`in_scale_share`: share of a window's onsets in the diatonic scale that holds most of them.
* :func:`stepwise_share`: share of the top voice's intervals of 1 or 2 semitones (steps).
* :func:`repeat_share`: share of the top voice's intervals of 0 semitones (a pitch struck again).

A HOLD with no onset before it in the window (a note tied in from before the window) counts as
sounding for :func:`empty_bar_rate` but its pitch is unknown, so the pitch-based metrics skip it.
"""

from __future__ import annotations

import numpy as np

from engine.music.constants import HOLD, STEPS_PER_BAR_44
from engine.music.harmony import DIATONIC_SCALES, SILENT, beat_pitch_class_counts, chroma_per_step, sounding_pitches

TRACK_PAIRS = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))


def _round(value: float | np.floating | None, digits: int = 4) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def empty_bar_rate(windows: np.ndarray) -> list[float | None]:
    """Per track, the share of bars (16 steps) in which no note sounds (1.0 for a silent track)."""
    pitches = sounding_pitches(windows)
    n, tracks, steps = pitches.shape
    if n == 0:
        return [None] * tracks
    bars = pitches.reshape(n, tracks, steps // STEPS_PER_BAR_44, STEPS_PER_BAR_44)
    empty = (bars == SILENT).all(axis=3)  # (N, tracks, bars)
    return [_round(empty[:, t].mean()) for t in range(tracks)]


def used_pitch_classes(windows: np.ndarray) -> list[float | None]:
    """Per track, the mean number of distinct pitch classes sounding in a bar, over the bars where it sounds."""
    pitches = sounding_pitches(windows)
    n, tracks, steps = pitches.shape
    bars = pitches.reshape(n, tracks, steps // STEPS_PER_BAR_44, STEPS_PER_BAR_44)
    used = np.zeros((n, tracks, bars.shape[2], 12), dtype=bool)
    known = bars >= 0
    idx = np.nonzero(known)
    used[idx[:3] + (bars[known] % 12,)] = True
    counts = used.sum(axis=3)  # (N, tracks, bars)
    played = known.any(axis=3)
    assert isinstance(played, np.ndarray)  # (N, tracks, bars), never a scalar
    return [_round(counts[:, t][played[:, t]].mean()) if played[:, t].any() else None for t in range(tracks)]


def note_lengths(track_tokens: np.ndarray) -> np.ndarray:
    """Lengths in steps of the notes in token rows (..., steps): an onset and the HOLDs after it (cut at the
    window's end). A HOLD with no onset before it starts no note."""
    tokens = np.asarray(track_tokens)
    tokens = tokens.reshape(-1, tokens.shape[-1])
    # held_after[:, s]: how many HOLDs follow step s without a break; filled backwards, vectorised over rows.
    held_after = np.zeros(tokens.shape, dtype=np.int64)
    for step in range(tokens.shape[1] - 2, -1, -1):
        held_after[:, step] = np.where(tokens[:, step + 1] == HOLD, held_after[:, step + 1] + 1, 0)
    onsets = tokens < HOLD
    return held_after[onsets] + 1


def qualified_note_rate(windows: np.ndarray, min_steps: int = 2) -> list[float | None]:
    """Per track, the share of notes lasting at least ``min_steps`` steps (2: an eighth note); a note cut by the
    window's end counts with its length inside the window. None for a track without notes."""
    windows = np.asarray(windows)
    out = []
    for t in range(windows.shape[1]):
        lengths = note_lengths(windows[:, t])
        out.append(_round((lengths >= min_steps).mean()) if len(lengths) else None)
    return out


def tonal_centroid_matrix(r1: float = 1.0, r2: float = 1.0, r3: float = 0.5) -> np.ndarray:
    """Harte et al.'s (6, 12) projection of chroma onto three circles: fifths (radius r1), minor thirds (r2) and
    major thirds (r3)."""
    pc = np.arange(12)
    angles = ((7 * np.pi / 6, r1), (3 * np.pi / 2, r2), (2 * np.pi / 3, r3))
    rows = []
    for step, radius in angles:
        rows += [radius * np.sin(pc * step), radius * np.cos(pc * step)]
    return np.array(rows)


_TONAL = tonal_centroid_matrix()


def tonal_centroids(chroma: np.ndarray) -> np.ndarray:
    """6-D tonal centroids of chroma vectors (..., 12), each chroma L1-normalised first (zeros stay zero)."""
    chroma = np.asarray(chroma, dtype=np.float64)
    total = chroma.sum(axis=-1, keepdims=True)
    centroids: np.ndarray = (chroma / np.where(total > 0, total, 1.0)) @ _TONAL.T
    return centroids


def tonal_distance(windows: np.ndarray, pairs: tuple[tuple[int, int], ...] = TRACK_PAIRS) -> dict[str, float | None]:
    """{"i-j": mean distance} between the tonal centroids of tracks i and j, per beat (duration-weighted chroma),
    over the beats where both tracks sound a known pitch; None where they never do together."""
    counts = beat_pitch_class_counts(windows)  # (N, tracks, beats, 12)
    centroids = tonal_centroids(counts)
    sounding = counts.sum(axis=-1) > 0
    out = {}
    for i, j in pairs:
        if max(i, j) >= counts.shape[1]:
            continue
        both = sounding[:, i] & sounding[:, j]
        dist = np.linalg.norm(centroids[:, i] - centroids[:, j], axis=-1)
        out[f"{i}-{j}"] = _round(dist[both].mean()) if both.any() else None
    return out


def onset_chord_tone_share(windows: np.ndarray, chroma: np.ndarray) -> dict:
    """Share of onsets whose pitch class is in the chord at their step, per track and over all tracks.

    windows (N, tracks, steps); chroma (N, steps, 12) per step or (N, steps // 4, 12) per beat, nonzero where a
    pitch class belongs to the chord. Onsets at steps without a chord (all-zero chroma) are not counted.
    Returns {"per_track": [share or None], "all": share or None, "onsets": number counted}.
    """
    windows = np.asarray(windows)
    n, tracks, steps = windows.shape
    per_step = chroma_per_step(chroma, steps) > 0  # (N, steps, 12)
    has_chord = per_step.any(axis=2)  # (N, steps)
    assert isinstance(has_chord, np.ndarray)
    onsets = (windows < HOLD) & has_chord[:, None, :]
    idx = np.nonzero(onsets)  # (window, track, step)
    in_chord = per_step[idx[0], idx[2], windows[onsets] % 12]
    tracks_of = idx[1]
    per_track = [_round(in_chord[tracks_of == t].mean()) if (tracks_of == t).any() else None for t in range(tracks)]
    return {
        "per_track": per_track,
        "all": _round(in_chord.mean()) if len(in_chord) else None,
        "onsets": int(len(in_chord)),
    }


def bass_downbeat_chord_share(windows: np.ndarray, chroma: np.ndarray, steps_per_bar: int = STEPS_PER_BAR_44) -> dict:
    """Share of bars whose lowest voice (the last track), at the bar's first sounding step, sounds a tone of the chord
    at the bar's first step: the harmony changing on the bar line, as a listener hears it in the bass.

    windows (N, tracks, steps); chroma as in :func:`onset_chord_tone_share`. A note held into the bar counts at the
    bar's first step with its own pitch. Bars without a chord at their first step, or whose bass is silent, are not
    counted. Returns {"share": share or None, "bars": number counted}."""
    windows = np.asarray(windows)
    n, _, steps = windows.shape
    per_step = chroma_per_step(chroma, steps) > 0  # (N, steps, 12)
    bass = sounding_pitches(windows[:, -1])  # (N, steps): the pitch sounding, < 0 where none (or unknown)
    hits = counted = 0
    for start in range(0, steps, steps_per_bar):
        bar = bass[:, start : start + steps_per_bar]
        sounds = bar >= 0
        first = np.where(sounds.any(axis=1), bar[np.arange(n), sounds.argmax(axis=1)], -1)  # (N,)
        use = (first >= 0) & per_step[:, start].any(axis=1)
        counted += int(use.sum())
        hits += int(per_step[np.arange(n), start, first % 12][use].sum())
    return {"share": _round(hits / counted) if counted else None, "bars": counted}


def in_scale_share(windows: np.ndarray, min_onsets: int = 4) -> float | None:
    """Mean over windows (with at least ``min_onsets`` onsets, all tracks) of the share of a window's onsets that fall
    in the diatonic scale holding most of them: how well its voices keep to one key, whichever it is. Not one of
    MuseGAN's metrics (its ``in-scale ratio`` fixed C major): a pitch-class statistic this data needs, as every piece
    is transposed."""
    windows = np.asarray(windows)
    shares = []
    for window in windows:
        pcs = window[window < HOLD] % 12
        if len(pcs) >= min_onsets:
            counts = np.bincount(pcs, minlength=12)
            shares.append((DIATONIC_SCALES @ counts).max() / counts.sum())
    return _round(np.mean(shares)) if shares else None


def _top_voice_intervals(windows: np.ndarray, track: int) -> np.ndarray:
    """Absolute melodic intervals (semitones) between consecutive onsets of one track, within each window."""
    intervals = []
    for window in np.asarray(windows):
        pitches = window[track][window[track] < HOLD]
        intervals.extend(np.abs(np.diff(pitches)).tolist())
    return np.array(intervals)


def stepwise_share(windows: np.ndarray, track: int = 0, max_step: int = 2) -> float | None:
    """Share of the melodic intervals between consecutive onsets of one track (the top voice by default), within each
    window, of 1 to ``max_step`` semitones: how often the line moves by step rather than by leap or not at all (a
    repeated pitch is not a step; see :func:`repeat_share`)."""
    intervals = _top_voice_intervals(windows, track)
    return _round(np.mean((intervals >= 1) & (intervals <= max_step))) if len(intervals) else None


def repeat_share(windows: np.ndarray, track: int = 0) -> float | None:
    """Share of the melodic intervals between consecutive onsets of one track (the top voice by default), within each
    window, that repeat the pitch before."""
    intervals = _top_voice_intervals(windows, track)
    return _round(np.mean(intervals == 0)) if len(intervals) else None


def window_metrics(windows: np.ndarray) -> dict:
    """The chord-free metrics of a set of windows, JSON-ready: {"windows", "empty_bar_rate", "used_pitch_classes",
    "qualified_note_rate" (lists per track), "tonal_distance" ({"i-j": value})}."""
    windows = np.asarray(windows)
    return {
        "windows": int(len(windows)),
        "empty_bar_rate": empty_bar_rate(windows),
        "used_pitch_classes": used_pitch_classes(windows),
        "qualified_note_rate": qualified_note_rate(windows),
        "tonal_distance": tonal_distance(windows),
    }


def diversity(windows: np.ndarray) -> dict:
    """Mode-collapse check: {"unique_share": distinct windows / windows, "mean_hamming": mean share of (track,
    step) cells that differ between windows (all pairs, up to 256 windows)}."""
    windows = np.asarray(windows)
    n = len(windows)
    if n < 2:
        return {"unique_share": 1.0 if n else None, "mean_hamming": None}
    flat = windows.reshape(n, -1)[:256]
    unique = len({row.tobytes() for row in windows.reshape(n, -1)})
    diff = (flat[:, None, :] != flat[None, :, :]).mean(axis=2)
    m = len(flat)
    return {"unique_share": _round(unique / n), "mean_hamming": _round(diff.sum() / (m * (m - 1)))}


METRICS = ("empty_bar_rate", "used_pitch_classes", "qualified_note_rate", "tonal_distance")


def metrics_table(real: dict[str, np.ndarray], generated_by_model: dict[str, dict[str, np.ndarray]]) -> list[dict]:
    """Rows comparing real and generated windows per style, metric and track (or track pair).

    real: {style: windows (N, 4, 32)}; generated_by_model: {model name: {style: windows}}. Each row is
    {"style", "metric", "track" (int, or "i-j" for tonal distance), "real": value, <model name>: value, ...}, with
    None where a model has no windows of that style or the figure is undefined.
    """
    styles = list(real) + [s for gen in generated_by_model.values() for s in gen if s not in real]
    styles = list(dict.fromkeys(styles))
    sources = {"real": real, **generated_by_model}
    figures = {
        name: {style: window_metrics(w) for style, w in by_style.items() if len(w)}
        for name, by_style in sources.items()
    }
    rows = []
    for style in styles:
        for metric in METRICS:
            keys: list = []
            for by_style in figures.values():
                if style in by_style:
                    value = by_style[style][metric]
                    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
                    break
            for key in keys:
                row = {"style": style, "metric": metric, "track": key}
                for name, by_style in figures.items():
                    row[name] = by_style[style][metric][key] if style in by_style else None
                rows.append(row)
    return rows
