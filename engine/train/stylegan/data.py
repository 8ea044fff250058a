"""The style GAN's real windows with their conditions, drawn for training and held out for the epoch's metrics.

Data: the style cache (engine.data.style), split by piece like the style judge's. Batches
draw every style equally often and move each window, with its previous window, by one random
interval in -5..+6 semitones. Each real window comes with its conditions:

* **previous window**: the exact 32 steps before it in its piece (:func:`piece_context`). The
  cache keeps windows in order, one per bar, but bars are 16 steps only in 4/4 and 2/2: in 3/4
  and 6/8 windows start 12 steps apart, in 2/4 8, and a window with too few notes is left out,
  so the window two before is the preceding 2 bars for only about half of the cache. The
  preceding steps are therefore rebuilt from the overlapping windows of the same piece (their
  overlaps tell the hop); a window whose 32 steps before are not all covered has none. The
  condition is also dropped (all REST: "none") with probability ``previous_drop``, so the
  generator learns to open a piece too.
* **chords**: the major or minor triads that best fit the window, one per half bar
  (:func:`window_triad_chroma`), as chroma per beat, zeroed with probability ``chord_drop`` so the
  generator also works without chords.
* A note held into a window from before (a HOLD at step 0) is re-struck at step 0 (its pitch is
  known from the windows before) or, where it is not known, the held steps become rests: the
  generator never opens a window with HOLD, and a critic shown real windows that do would tell
  them apart by that alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.data.style import StyleSplit
from engine.music.constants import HOLD, REST, WINDOW_STEPS
from engine.music.harmony import UNKNOWN, sounding_pitches, window_triad_chroma
from engine.music.multitrack import transpose_windows
from engine.train.stylegan.config import StyleGANTrainConfig

# Bar lengths in sixteenths, most common first (the hop between a piece's consecutive windows): 4/4, 3/4 and 6/8,
# 2/4, 6/4 and 12/8, 9/8, 3/8, 5/4, 2/8, 5/8, 7/8, 9/16.
BAR_HOPS = (16, 12, 8, 24, 18, 6, 20, 4, 10, 14, 9)


def link_windows(windows: np.ndarray, piece: np.ndarray, hops: tuple[int, ...] = BAR_HOPS) -> np.ndarray:
    """(N,) hop in steps from window i-1 to window i, found from their overlap (window i-1's last 32 - h steps equal
    window i's first), or 0 where i-1 is another piece or no bar length fits (a window was left out between)."""
    hop = np.zeros(len(windows), dtype=np.int64)
    same = piece[1:] == piece[:-1]
    for h in hops:
        fits = same & (hop[1:] == 0) & (windows[:-1, :, h:] == windows[1:, :, : WINDOW_STEPS - h]).all(axis=(1, 2))
        hop[1:][fits] = h
    return hop


def _resolve_pitch(
    sounding: np.ndarray, hop: np.ndarray, k: np.ndarray, t: np.ndarray, q: np.ndarray, max_back: int = 32
) -> np.ndarray:
    """The pitch sounding at position q of track t of window k, looked up in the windows before while the window
    holds a note it does not contain; UNKNOWN where the chain of overlapping windows ends first."""
    k, q = k.copy(), q.copy()
    pitch: np.ndarray = sounding[k, t, q]
    for _ in range(max_back):
        open_ = (pitch == UNKNOWN) & (hop[k] > 0)
        if not open_.any():
            break
        # The same held note in the window before; past its end, its last step (still inside the held stretch).
        q[open_] = np.minimum(q[open_] + hop[k[open_]], WINDOW_STEPS - 1)
        k[open_] -= 1
        pitch[open_] = sounding[k[open_], t[open_], q[open_]]
    return pitch


def _open_held_notes(windows: np.ndarray, start_pitch: np.ndarray) -> np.ndarray:
    """Windows whose step-0 HOLD is re-struck as ``start_pitch`` (N, tracks) where that is known (>= 0), else the
    held steps at the start become rests."""
    out = windows.copy()
    held = out[:, :, 0] == HOLD
    known = held & (start_pitch >= 0)
    out[:, :, 0][known] = start_pitch[known]
    leading = np.cumprod(out == HOLD, axis=2).astype(bool)  # the HOLDs before anything else
    out[leading] = REST
    return out


def piece_context(windows: np.ndarray, piece: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(windows with held-in notes re-struck, previous windows (N, tracks, 32) (all REST where none), has previous
    (N,) bool): the previous window is the 32 steps just before each window, rebuilt from the overlapping windows
    of its piece."""
    windows = np.asarray(windows)
    n, tracks, steps = windows.shape
    hop = link_windows(windows, piece)
    sounding = sounding_pitches(windows)
    # Position of every window within its chain of linked windows, and the chain's id.
    chain = np.cumsum(hop == 0) - 1
    pos = np.cumsum(hop)
    pos -= pos[np.flatnonzero(hop == 0)][chain]
    # Re-strike (or rest) the held notes that open each window.
    k_all, t_all = np.repeat(np.arange(n), tracks), np.tile(np.arange(tracks), n)
    start = _resolve_pitch(sounding, hop, k_all, t_all, np.zeros(n * tracks, dtype=np.int64)).reshape(n, tracks)
    current = _open_held_notes(windows, start)
    # The 32 steps before: for every step, the last window of the chain that starts at or before it.
    has = pos >= steps
    targets = np.flatnonzero(has)
    previous = np.full_like(windows, REST)
    if len(targets):
        key = chain.astype(np.int64) * (1 << 32) + pos  # sorted, as windows are stored in order
        wanted = chain[targets, None] * (1 << 32) + pos[targets, None] - steps + np.arange(steps)[None, :]
        source = np.searchsorted(key, wanted, side="right") - 1  # (M, 32) window holding each step
        offset = (wanted - key[source]).astype(np.int64)  # its position there (< its hop, so inside it)
        gathered = windows[source[:, None, :], np.arange(tracks)[None, :, None], offset[:, None, :]]  # (M, T, 32)
        first = _resolve_pitch(
            sounding,
            hop,
            np.repeat(source[:, 0], tracks),
            np.tile(np.arange(tracks), len(targets)),
            np.repeat(offset[:, 0], tracks),
        ).reshape(len(targets), tracks)
        previous[targets] = _open_held_notes(gathered, first)
    return current, previous, has


def window_chord_shares(windows: np.ndarray, chords: np.ndarray, per_track: bool = False) -> np.ndarray:
    """Per window, the share of its onsets (at steps with a chord) on the chord's pitch classes: over all tracks (N,),
    or ``per_track`` (N, tracks); float32, NaN where there is no such onset. windows (N, tracks, 32); chords
    (N, 8, 12) per beat."""
    per_step: np.ndarray = np.repeat(np.asarray(chords) > 0, WINDOW_STEPS // chords.shape[1], axis=1)  # (N, 32, 12)
    onsets = (windows < HOLD) & np.asarray(per_step.any(axis=2))[:, None, :]
    pcs = np.where(windows < HOLD, windows % 12, 0)
    on_chord = np.take_along_axis(per_step[:, None], pcs[..., None], axis=3)[..., 0] & onsets  # (N, tracks, 32)
    axes = 2 if per_track else (1, 2)
    count = onsets.sum(axis=axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, on_chord.sum(axis=axes) / count, np.nan).astype(np.float32)


class StyleGANData:
    """The style split with each window's previous window, for conditioned, transposed, style-balanced batches."""

    def __init__(self, path: str | Path):
        self.split = StyleSplit.load(path)
        with np.load(path, allow_pickle=False) as cache:
            piece = cache["piece"]
        current, previous, has = piece_context(self.split.windows, piece)
        self.current, self.previous, self.has_previous = current.astype(np.int16), previous.astype(np.int16), has
        self.names = self.split.names

    def draw(
        self,
        rng: np.random.Generator,
        picks: np.ndarray,
        labels: np.ndarray,
        low: int,
        high: int,
        chord_drop: float,
        previous_drop: float,
        per_track: bool = True,
    ) -> dict[str, np.ndarray]:
        """Windows ``picks`` with their conditions: {"windows", "previous", "chords", "styles"} (conditions dropped
        with the given probabilities), each window moved with its previous one by a random interval in low..high."""
        size = len(picks)
        both = np.concatenate([self.previous[picks], self.current[picks]], axis=1).astype(np.int64)
        both = transpose_windows(both, rng.integers(low, high + 1, size=size))
        tracks = self.current.shape[1]
        previous, windows = both[:, :tracks], both[:, tracks:]
        drop = ~self.has_previous[picks] | (rng.random(size) < previous_drop)
        previous[drop] = REST
        chords = window_triad_chroma(windows)
        chords[rng.random(size) < chord_drop] = 0.0
        return {
            "windows": windows,
            "previous": previous,
            "chords": chords,
            "styles": labels,
            "chord_share": window_chord_shares(windows, chords, per_track),
        }

    def batch(self, rng: np.random.Generator, size: int, cfg: StyleGANTrainConfig) -> dict[str, np.ndarray]:
        """A training batch: every style equally often (as StyleSplit.batch draws them)."""
        labels = rng.choice(self.split.present, size=size)
        picks = np.array([rng.choice(self.split.by_style[label]) for label in labels])
        return self.draw(
            rng,
            picks,
            labels,
            cfg.transpose_low,
            cfg.transpose_high,
            cfg.chord_drop,
            cfg.previous_drop,
            cfg.chord_share_per_track,
        )

    def held_out(self, per_style: int, seed: int) -> dict[int, dict[str, np.ndarray]]:
        """Up to ``per_style`` held-out windows per style (training ones for a style with none held out), untransposed,
        with all their conditions: {style index: batch}."""
        rng = np.random.default_rng(seed)
        out = {}
        for index in self.split.present:
            pool = np.flatnonzero(self.split.val_mask & (self.split.styles == index))
            pool = pool if len(pool) else self.split.by_style[index]
            picks = np.sort(rng.permutation(pool)[:per_style])
            out[index] = self.draw(rng, picks, np.full(len(picks), index), 0, 0, 0.0, 0.0)
        return out


def to_tensors(batch: dict[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    """A batch's arrays as tensors on ``device``."""
    return {
        key: torch.as_tensor(batch[key], device=device)
        for key in ("windows", "previous", "chords", "styles", "chord_share")
    }
