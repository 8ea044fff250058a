"""Train the style GAN (``python -m engine.train stylegan``): WGAN-GP with an AC-GAN style head.

Data: the style cache (engine.train.style_data), split by piece like the style judge's. Batches
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

Per generator step: ``critic_steps`` critic updates on fresh real batches against generated
windows under the same conditions (Wasserstein loss, gradient penalty ``gp_weight`` = 10, plus
``ac_weight`` x the style head's cross-entropy on the real windows), then one generator update
(minus the critic's score of its straight-through Gumbel-softmax samples, plus ``ac_weight`` x the
style head's cross-entropy for the style it was asked for, plus ``chord_weight`` x
:func:`chord_share_loss`: each track's expected share of onsets on chord tones against the real
window's track's, on the windows given chords (left to the critic alone, the chords were ignored,
25% of onsets on chord tones after 1,650 steps, chance for a triad), plus ``scale_weight`` x
:func:`scale_share_loss`: the share of its onsets in the diatonic scale that holds most of them
against the real window's, plus ``step_weight`` x :func:`stepwise_loss`: each track's shares of
repeated pitches and of steps of 1-2 semitones between consecutive onsets against the real window's). Adam
(lr 1e-4, betas 0.5/0.9) for both.

Every epoch, on fixed noise and held-out conditions (engine.style_metrics): per style, the
style judge's accuracy on ``eval_samples`` windows generated without conditions (when
``judge`` names a checkpoint), MuseGAN's metrics and diversity of those windows, and the share of
onsets on chord tones with and without the held-out windows' chords. The first log row of a
run holds the same metrics of the held-out real windows. The best epoch (judge balanced
accuracy, or 0 without a judge, minus ``metric_gap``: the mean absolute difference of empty-bar
rate, qualified-note rate, used pitch classes / 12 and tonal distance / 4 from the real windows,
over styles and tracks) is saved to ``out``, the last to ``out/last``; ``--resume`` continues.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from engine.device import resolve_device
from engine.models.style_gan import (
    SAMPLE_TEMPERATURE,
    SAMPLE_TOP_P,
    StyleCritic,
    StyleGANConfig,
    StyleGenerator,
    gradient_penalty,
)
from engine.models.style_gan_checkpoint import save_stylegan
from engine.representation import HOLD, NUM_PITCH_TOKENS, REST, WINDOW_STEPS
from engine.style_metrics import (
    UNKNOWN,
    chord_tone_share,
    diversity,
    sounding_pitches,
    window_metrics,
    window_triad_chroma,
)
from engine.train.style_data import pitch_ranges, transpose_windows
from engine.train.style_judge import StyleSplit

# Bar lengths in sixteenths, most common first (the hop between a piece's consecutive windows): 4/4, 3/4 and 6/8,
# 2/4, 6/4 and 12/8, 9/8, 3/8, 5/4, 2/8, 5/8, 7/8, 9/16.
BAR_HOPS = (16, 12, 8, 24, 18, 6, 20, 4, 10, 14, 9)


@dataclass
class StyleGANTrainConfig:
    data: str = "data_cache/style_windows.npz"
    out: str = "checkpoints/stylegan"
    judge: str = "checkpoints/style_judge"  # style judge checkpoint for the sample metrics (skipped if absent)
    epochs: int = 20
    steps_per_epoch: int = 300  # generator updates
    batch_size: int = 64
    lr: float = 1e-4
    critic_lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.9
    critic_steps: int = 5
    gp_weight: float = 10.0
    ac_weight: float = 1.0
    chord_weight: float = 10.0  # weight of the chord-share loss (0: the critic alone enforces the chords)
    chord_share_per_track: bool = True  # the chord-share loss asks each track for its real share (False: all tracks')
    scale_weight: float = 10.0  # weight of the scale-share loss (0: the critic alone keeps the voices in one key)
    step_weight: float = 10.0  # weight of the stepwise-motion loss (0: the critic alone shapes the melodic intervals)
    bar_gate: bool = False  # give the generator a rest gate per track and bar (StyleGANConfig.bar_gate)
    # Weight of the rest-rate loss (with the rest gate; 0: the critic alone). At 1.0 (2 epochs from epoch 86) the
    # critic won: the gate rested 23% of a string quartet second violin's bars, real 4%.
    rest_weight: float = 30.0
    # Adam moves a parameter by about lr a step: at 1e-4 the gate's bias would take some 30,000 steps to open from -5
    # (0.7% of bars resting whole) to -2 (12%).
    gate_lr: float = 5e-3
    # The chord skip's gains are 4 scalars; Adam moves a parameter by about lr per step, so at lr 1e-4 they moved
    # 1.0 -> 1.045 in 450 steps while the onsets' chord-tone share stayed at 0.46 (real 0.95, over the every-pitch-class
    # chroma of that run).
    chord_skip_lr: float = 1e-2
    tau: float = 1.0  # Gumbel-softmax temperature of the relaxation's gradient
    chord_drop: float = 0.5
    previous_drop: float = 0.3
    transpose_low: int = -5
    transpose_high: int = 6
    eval_samples: int = 64  # generated (and held-out real) windows per style for the epoch's metrics
    device: str = "auto"
    resume: bool = False
    restart_best: bool = False  # on resume, forget the best epoch so far (after a change of recipe)
    debug: bool = False
    seed: int = 0
    model_overrides: dict = field(default_factory=dict)  # StyleGANConfig fields to change


# ---------------------------------------------------------------- conditions from the cache


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
    pitch = sounding[k, t, q]
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
    per_step = np.repeat(np.asarray(chords) > 0, WINDOW_STEPS // chords.shape[1], axis=1)  # (N, 32, 12)
    onsets = (windows < HOLD) & per_step.any(axis=2)[:, None, :]
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


# ---------------------------------------------------------------- the epoch's sample metrics


def _tensor(batch: dict[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    """A batch's arrays as tensors on ``device``."""
    return {
        key: torch.as_tensor(batch[key], device=device)
        for key in ("windows", "previous", "chords", "styles", "chord_share")
    }


# The figures of the metric gap and their scales (see metric_gap).
GAP_FIGURES = (
    ("empty_bar_rate", 1.0),
    ("qualified_note_rate", 1.0),
    ("used_pitch_classes", 12.0),
    ("tonal_distance", 4.0),
)


def metric_gap(generated: dict, real: dict) -> float:
    """Mean absolute difference of empty-bar rate, qualified-note rate, used pitch classes / 12 and tonal distance
    between tracks / 4 between generated and real windows ({style: window_metrics}), over styles and tracks (pairs)
    where both are defined. The scales bring each to about 0..0.5 (pitch classes per bar lie in 0..~6, tonal
    distances in 0..~2), so no one figure outweighs the others."""
    gaps = []
    for style, figures in generated.items():
        if style not in real:
            continue
        for metric, scale in GAP_FIGURES:
            ours, theirs = figures[metric], real[style][metric]
            pairs = [(ours[k], theirs[k]) for k in ours] if isinstance(ours, dict) else zip(ours, theirs)
            for a, b in pairs:
                if a is not None and b is not None:
                    gaps.append(abs(a - b) / scale)
    return round(float(np.mean(gaps)), 4) if gaps else 1.0


@torch.no_grad()
def sample_report(
    generator: StyleGenerator,
    held_out: dict[int, dict[str, np.ndarray]],
    names: list[str],
    device: torch.device,
    seed: int,
    judge=None,
    judge_styles: list[str] | None = None,
    temperature: float = SAMPLE_TEMPERATURE,
) -> dict:
    """Per style: the judge's accuracy (when given) on windows generated with no conditions, their metrics and
    diversity, and chord-tone shares (generated with and without the held-out windows' chords, and real).
    Windows are sampled at ``temperature``, as the studio samples them (engine.pipelines.style_gan)."""
    report: dict = {"judge_accuracy": {}, "metrics": {}, "diversity": {}, "chord_tone_share": {}}
    with_chords, without_chords, real_share = [], [], []
    for index, batch in held_out.items():
        name, n = names[index], len(batch["windows"])
        if n == 0:
            continue
        t = _tensor(batch, device)
        draw = torch.Generator().manual_seed(seed + index)  # the same noise (and Gumbel draws) every epoch
        noise = generator.sample_noise(n, draw)
        free = generator.generate(t["styles"], noise=noise, temperature=temperature, generator=draw).cpu().numpy()
        report["metrics"][name] = window_metrics(free)
        report["diversity"][name] = diversity(free)
        if judge is not None and judge_styles is not None and name in judge_styles:
            predicted = judge(torch.as_tensor(free, device=device)).argmax(1).cpu().numpy()
            report["judge_accuracy"][name] = round(float((predicted == judge_styles.index(name)).mean()), 4)
        chorded = batch["chords"].sum(axis=(1, 2)) > 0
        if chorded.any():
            conditioned = (
                generator.generate(
                    t["styles"], t["chords"], t["previous"], noise=noise, temperature=temperature, generator=draw
                )
                .cpu()
                .numpy()
            )
            share = lambda w: chord_tone_share(w[chorded], batch["chords"][chorded])  # noqa: E731
            report["chord_tone_share"][name] = {
                "with_chords": share(conditioned)["all"],
                "without_chords": share(free)["all"],
                "real": share(batch["windows"])["all"],
            }
            for out, key in ((with_chords, "with_chords"), (without_chords, "without_chords"), (real_share, "real")):
                if report["chord_tone_share"][name][key] is not None:
                    out.append(report["chord_tone_share"][name][key])
    accuracies = list(report["judge_accuracy"].values())
    report["judge_balanced"] = round(float(np.mean(accuracies)), 4) if accuracies else None
    shares = {"with_chords": with_chords, "without_chords": without_chords, "real": real_share}
    report["chord_tone_share_mean"] = {key: round(float(np.mean(v)), 4) if v else None for key, v in shares.items()}
    return report


def load_judge(path: str, device: torch.device) -> tuple[object | None, list[str] | None]:
    """(style judge, its style names), or (None, None) when there is no checkpoint at ``path``."""
    if not path or not (Path(path) / "config.json").exists():
        return None, None
    from engine.models.checkpoint import load_style_judge

    judge, meta = load_style_judge(path, device)
    return judge, [str(s) for s in meta.get("styles", [])]


# ---------------------------------------------------------------- training


def chord_share_loss(logits: torch.Tensor, chords: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared difference between the generator's expected share of onsets on chord tones and the real window's,
    over the windows that have chords and real onsets on them; logits (B, 4, 32, 130), chords per beat (B, 8, 12),
    ``target`` from :func:`window_chord_shares`: (B,) the window's share over all tracks, or (B, tracks) each
    track's (then each track is asked for its own share, where the real track has such onsets).

    It asks for the real music's share, not for as many chord tones as possible: a loss that only cost onsets outside
    the chord drove the chord skip's gains up without end (5.8 after 1,000 steps, 99% chord tones). Per track, because
    over all tracks together epoch 36 met the window's share with the upper voices above their real share (held-out,
    harmonised: 0.76-0.91 against 0.61-0.86) and the bass below its own in 4 of the 6 styles that have one (English
    folk 0.72 against 0.92), and the bass's tonal distance to the top voice was 1.64-1.74 against the real 1.23-1.38.
    """
    has = chords.flatten(1).sum(1) > 0
    if not bool(has.any()):
        return logits.new_zeros(())
    logits, chords, target = logits[has], chords[has], target[has]
    per_step = chords.repeat_interleave(logits.shape[2] // chords.shape[1], dim=1)  # (B, 32, 12)
    tones = per_step[..., torch.arange(HOLD, device=logits.device) % 12]  # (B, 32, 128)
    probs = logits.softmax(-1)[..., :HOLD] * (per_step.sum(-1) > 0)[:, None, :, None]  # onsets at steps with a chord
    axes = (2, 3) if target.dim() == 2 else (1, 2, 3)
    onsets = probs.sum(dim=axes)
    on_chord = (probs * tones[:, None]).sum(dim=axes)
    share = on_chord / onsets.clamp_min(1e-6)
    known = torch.isfinite(target)
    if not bool(known.any()):
        return logits.new_zeros(())
    return ((share[known] - target[known]) ** 2).mean()


# The twelve diatonic scales (rows: the major scale on C, C#, ... B; each also a natural minor and a church mode) over
# the 12 pitch classes, and the pitch class of every pitch token.
DIATONIC = torch.tensor([[float((pc - root) % 12 in (0, 2, 4, 5, 7, 9, 11)) for pc in range(12)] for root in range(12)])
PITCH_CLASS = torch.nn.functional.one_hot(torch.arange(HOLD) % 12, 12).float()  # (128, 12)


def scale_shares(pitch_class_counts: torch.Tensor) -> torch.Tensor:
    """(B, 12) onset counts (or expected counts) per pitch class -> (B,) the share in the diatonic scale that holds
    the most of them (NaN where there are none)."""
    in_scale = pitch_class_counts @ DIATONIC.to(pitch_class_counts).T  # (B, 12 scales)
    return in_scale.amax(-1) / pitch_class_counts.sum(-1)


def scale_share_loss(logits: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
    """Squared difference between the share of the generator's expected onsets (all tracks) that fall in the diatonic
    scale holding most of them and the same share of the real window's onsets: logits (B, tracks, 32, 130), windows
    (B, tracks, 32) tokens. The scale is each window's own, so no key is imposed, only staying in one.

    Why: each step draws its pitch on its own, and what one voice strikes is not heard by the others at that step;
    at epoch 52, 79-84% of the onsets of a held-out sample fell in its best diatonic scale, against 93-99% in real
    windows of every style (MusAE 89-96%; 200 a style, the best of the 12 scales per window): the GAN's voices
    wandered chromatically (an English folk sample's tune struck E5, B4 and C#5 over a B flat chord)."""
    # Each step's pitch given that it strikes, weighted by its (fixed) chance of striking: the loss moves pitches into
    # the scale and leaves whether to strike to the critic. Through the plain expected onsets, fewer notes is also a
    # way to fewer out-of-scale ones (see docs/training/stylegan_history.md).
    probs = logits.softmax(-1)[..., :HOLD]
    strike = probs.sum(-1, keepdim=True)
    pitch = probs / strike.clamp_min(1e-6) * strike.detach()
    expected = pitch.sum(dim=(1, 2)) @ PITCH_CLASS.to(logits)  # (B, 12)
    real = F.one_hot(windows.clamp(max=HOLD)[..., None], HOLD + 1)[..., :HOLD].flatten(1, 3).float()  # (B, *, 128)
    real = real.sum(1) @ PITCH_CLASS.to(logits)  # (B, 12)
    known = (real.sum(-1) > 0) & (expected.sum(-1) > 1e-6)
    if not bool(known.any()):
        return logits.new_zeros(())
    return ((scale_shares(expected[known]) - scale_shares(real[known])) ** 2).mean()


STEP_GAPS = 8  # consecutive onsets at most this many steps apart count as a melodic interval (half a bar)
# What the stepwise-motion loss compares, as logs and checkpoints record it (runs before epoch 79 of the shipped
# generator's asked for one share: intervals of 2 semitones or less, repeats included).
STEP_LOSS_FORM = "repeats and steps apart"


def stepwise_shares(logits: torch.Tensor) -> torch.Tensor:
    """Per window and track, the expected shares of two kinds of melodic interval between consecutive onsets (at most
    STEP_GAPS steps apart): a repeated pitch (0 semitones) and a step (1 or 2). logits (B, tracks, 32, 130) (or a
    one-hot window's log) -> (B, tracks, 2) [repeat, step], NaN where a track has no such pair. Each pair of steps is
    weighted by the chance that both strike and none between does (held fixed, so a gradient moves pitches only), and
    scored by the chance their pitches are equal, or 1-2 semitones apart."""
    probs = logits.softmax(-1)
    strike = probs[..., :HOLD].sum(-1)  # (B, T, S)
    pitch = probs[..., :HOLD] / strike[..., None].clamp_min(1e-6)  # given a strike
    near = F.conv1d(pitch.reshape(-1, 1, HOLD), torch.ones(1, 1, 5, device=logits.device), padding=2).reshape(
        pitch.shape
    )
    strike = strike.detach()
    steps = strike.shape[-1]
    total = torch.zeros_like(strike[..., 0])
    shares = torch.zeros(*strike.shape[:-1], 2, dtype=strike.dtype, device=strike.device)
    silent_between = torch.ones_like(strike[..., :-1])  # (B, T, S - gap): no strike strictly between t and t + gap
    for gap in range(1, STEP_GAPS + 1):
        if gap > 1:
            silent_between = silent_between[..., :-1] * (1 - strike[..., gap - 1 : steps - 1])
        weight = strike[..., : steps - gap] * strike[..., gap:] * silent_between  # (B, T, S - gap)
        same = (pitch[..., : steps - gap, :] * pitch[..., gap:, :]).sum(-1)
        within = (pitch[..., : steps - gap, :] * near[..., gap:, :]).sum(-1)  # 0, 1 or 2 semitones apart
        total = total + weight.sum(-1)
        shares = shares + torch.stack([(weight * same).sum(-1), (weight * (within - same)).sum(-1)], -1)
    return torch.where(
        total[..., None] > 1e-6, shares / total[..., None].clamp_min(1e-6), torch.full_like(shares, float("nan"))
    )


def stepwise_loss(logits: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
    """Squared differences between each track's expected shares of repeated pitches and of steps
    (:func:`stepwise_shares`) and the real window's, summed over the two: logits (B, tracks, 32, 130), windows
    (B, tracks, 32) tokens.

    Why: each step draws its pitch on its own, so a melody moves by step only where its per-step distributions happen
    to line up. At epoch 62, 18-38% of the top voice's intervals between consecutive onsets were of 2 semitones or less,
    against 62-86% in training windows (300 a style; MusAE 74-77% in Bach and Palestrina), and the GAN's tunes leapt
    about in arpeggios. Asked for that share alone (epochs 67-78), it answered largely with repeated notes: at epoch 74,
    26-53% of the top voice's onsets by style repeated the one before, against 10-28% in training windows, and its voices used too few pitch classes a
    bar (Palestrina's top voice 1.75, real 2.35); so repeats and steps are asked for apart."""
    with torch.no_grad():
        real = stepwise_shares(torch.log(F.one_hot(windows, NUM_PITCH_TOKENS).float().clamp_min(1e-9)))
    ours = stepwise_shares(logits)
    known = torch.isfinite(real[..., 0]) & torch.isfinite(ours[..., 0])
    if not bool(known.any()):
        return logits.new_zeros(())
    return ((ours[known] - real[known]) ** 2).sum(-1).mean()


def rest_rate_loss(
    logits: torch.Tensor, gate: torch.Tensor, windows: torch.Tensor, styles: torch.Tensor
) -> torch.Tensor:
    """Per style in the batch and track, the Bernoulli KL divergence from the real windows' share of bars resting whole
    to the generator's expected share, averaged: logits (B, tracks, 32, 130), gate (B, tracks, bars) the rest gate's
    logits, windows (B, tracks, 32) tokens, styles (B,).

    A bar rests whole if the gate says so, or else if every step draws REST; that second chance is held fixed, so the
    loss moves the gate only. Why: a loss on the steps' REST probabilities alone (tried at epochs 53-57) pulled far
    harder toward fewer rests than toward more (its gradient vanishes where the product of 16 chances is small), and
    left to the critic the GAN's bar rests were off by more than 25% in 12 of the 28 figures of training windows
    (English folk's accompaniment never rested, 1.7% of real bars; string quartets' bass 11.7% against 4.0%). The KL
    compares batch shares, not each window's, so the gate may rest some windows' bars and not others'."""
    b, tracks, steps = windows.shape
    bars = gate.shape[-1]
    with torch.no_grad():
        steps_rest = logits.softmax(-1)[..., REST].reshape(b, tracks, bars, -1).prod(-1)
        real = (windows == REST).reshape(b, tracks, bars, -1).all(-1).float()
    chance = torch.sigmoid(gate)
    expected = chance + (1 - chance) * steps_rest  # (B, T, bars)
    losses = []
    for style in styles.unique():
        pick = styles == style
        # Squeezed into [1e-4, 1 - 1e-4] rather than clamped, so a gate shut tight still gets a gradient.
        m = 1e-4 + (1 - 2e-4) * expected[pick].mean(dim=(0, 2))  # (T,)
        r = real[pick].mean(dim=(0, 2))
        kl = torch.xlogy(r, r) - r * torch.log(m) + torch.xlogy(1 - r, 1 - r) - (1 - r) * torch.log1p(-m)
        losses.append(kl.mean())
    return torch.stack(losses).mean()


def _parameter_groups(generator: StyleGenerator) -> tuple[list, list, list]:
    """The generator's parameters as (body, chord skip, rest gate), each in registration order."""
    named = list(generator.named_parameters())
    return (
        [p for n, p in named if not n.startswith(("chord_skip.", "bar_gate."))],
        [p for n, p in named if n.startswith("chord_skip.")],
        [p for n, p in named if n.startswith("bar_gate.")],
    )


def generator_optimizer(
    generator: StyleGenerator, cfg: StyleGANTrainConfig, with_gate: bool = True
) -> torch.optim.Adam:
    """Adam over the generator: the body at ``lr``, the chord skip's gains at ``chord_skip_lr`` and, when there is
    one (and ``with_gate``), the rest gate in a third group at ``gate_lr``: a generator trained before the gate had two
    groups, so its optimizer state still loads (see :func:`resume_generator`)."""
    body, skip, gate = _parameter_groups(generator)
    opt = torch.optim.Adam(
        [{"params": body}, {"params": skip, "lr": cfg.chord_skip_lr}], lr=cfg.lr, betas=(cfg.beta1, cfg.beta2)
    )
    if gate and with_gate:
        opt.add_param_group({"params": gate, "lr": cfg.gate_lr})
    return opt


def resume_generator(generator: StyleGenerator, cfg: StyleGANTrainConfig, state: dict) -> torch.optim.Adam:
    """Load a training state's generator and its optimizer; returns the optimizer. A state saved before the rest gate
    existed may be resumed with one: the gate starts fresh (nearly shut), everything else as saved."""
    result = generator.load_state_dict(state["generator"], strict=False)
    unknown = [k for k in result.missing_keys if not k.startswith("bar_gate.")] + list(result.unexpected_keys)
    if unknown:
        raise ValueError(f"the training state does not fit this generator: {unknown}")
    gate_is_new = bool(result.missing_keys)
    opt = generator_optimizer(generator, cfg, with_gate=not gate_is_new)
    opt.load_state_dict(state["generator_optimizer"])
    if gate_is_new:
        opt.add_param_group({"params": _parameter_groups(generator)[2], "lr": cfg.gate_lr})
    return opt


def train_stylegan(cfg: StyleGANTrainConfig) -> dict:
    """Train, report sample metrics each epoch, save the best and the last; returns the best epoch's figures."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = resolve_device(cfg.device)
    data = StyleGANData(cfg.data)
    names = data.names
    model_cfg = StyleGANConfig.debug(len(names)) if cfg.debug else StyleGANConfig(num_styles=len(names))
    ranges = pitch_ranges(
        data.split.windows[data.split.train_mask],
        data.split.styles[data.split.train_mask],
        len(names),
        cfg.transpose_low,
        cfg.transpose_high,
    )
    model_cfg = StyleGANConfig.from_dict(
        {**model_cfg.to_dict(), "pitch_ranges": ranges, "bar_gate": cfg.bar_gate, **cfg.model_overrides}
    )
    generator, critic = StyleGenerator(model_cfg).to(device), StyleCritic(model_cfg).to(device)
    g_opt = generator_optimizer(generator, cfg)
    d_opt = torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr, betas=(cfg.beta1, cfg.beta2))
    judge, judge_styles = load_judge(cfg.judge, device)
    held_out = data.held_out(cfg.eval_samples, cfg.seed)
    real_metrics = {names[i]: window_metrics(b["windows"]) for i, b in held_out.items() if len(b["windows"])}
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    state_path, log_path = out / "train_state.pt", out / "train_log.jsonl"
    start_epoch, best, best_since = 0, {"score": -math.inf}, 1
    if cfg.resume and state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=True)
        g_opt = resume_generator(generator, cfg, state)
        critic.load_state_dict(state["critic"])
        d_opt.load_state_dict(state["critic_optimizer"])
        start_epoch, best = int(state["epoch"]), json.loads(state["best"])
        best_since = int(state.get("best_since", 1))
        if cfg.restart_best:  # the epochs before were trained (and scored) under another recipe
            best, best_since = {"score": -math.inf}, start_epoch + 1
        rng = np.random.default_rng(cfg.seed + start_epoch)
        torch.manual_seed(cfg.seed + start_epoch)
    with log_path.open("a") as log:  # each (re)start's settings and the real windows' figures to compare with
        log.write(
            json.dumps(
                {
                    "run_start": start_epoch + 1,
                    "epochs": cfg.epochs,
                    "critic_steps": cfg.critic_steps,
                    "lr": cfg.lr,
                    "critic_lr": cfg.critic_lr,
                    "ac_weight": cfg.ac_weight,
                    "chord_weight": cfg.chord_weight,
                    "chord_skip_lr": cfg.chord_skip_lr,
                    "sample_temperature": SAMPLE_TEMPERATURE,
                    "sample_top_p": SAMPLE_TOP_P,
                    "chord_loss": "share per track" if cfg.chord_share_per_track else "share",
                    "restart_best": cfg.restart_best,
                    "scale_weight": cfg.scale_weight,
                    "step_weight": cfg.step_weight,
                    "step_loss": STEP_LOSS_FORM,
                    "bar_gate": model_cfg.bar_gate,
                    "rest_weight": cfg.rest_weight if model_cfg.bar_gate else 0.0,
                    "gate_lr": cfg.gate_lr if model_cfg.bar_gate else None,
                    "chord_condition": "triads per half bar",
                    "judge": judge is not None,
                    "previous_share": round(float(data.has_previous.mean()), 4),
                    "real_metrics": real_metrics,
                }
            )
            + "\n"
        )
    training = {
        "data_counts": data.split.counts,
        "train_windows": int(data.split.train_mask.sum()),
        "val_windows": int(data.split.val_mask.sum()),
    }
    started = time.time()
    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        generator.train()
        critic.train()
        sums: dict[str, list[float]] = {
            k: []
            for k in (
                "critic_loss",
                "wasserstein",
                "gp",
                "ac_real",
                "ac_real_accuracy",
                "generator_loss",
                "ac_fake",
                "chord_share_loss",
                "scale_loss",
                "step_loss",
                "rest_loss",
                "confidence",
            )
        }
        bar = tqdm(range(cfg.steps_per_epoch), desc=f"epoch {epoch}/{cfg.epochs}", unit="step")
        for _ in bar:
            critic.requires_grad_(True)
            for _ in range(cfg.critic_steps):
                b = _tensor(data.batch(rng, cfg.batch_size, cfg), device)
                with torch.no_grad():
                    logits, gate = generator.forward_with_gate(
                        generator.sample_noise(cfg.batch_size), b["styles"], b["chords"], b["previous"]
                    )
                    fake = generator.relaxed(logits, cfg.tau, gate)
                real = F.one_hot(b["windows"], NUM_PITCH_TOKENS).float()
                real_score, real_style = critic(real, b["chords"], b["previous"])
                fake_score, _ = critic(fake, b["chords"], b["previous"])
                gp = gradient_penalty(critic, real, fake, b["chords"], b["previous"])
                ac_real = F.cross_entropy(real_style, b["styles"])
                wasserstein = real_score.mean() - fake_score.mean()
                loss = -wasserstein + cfg.gp_weight * gp + cfg.ac_weight * ac_real
                d_opt.zero_grad()
                loss.backward()
                d_opt.step()
            sums["critic_loss"].append(loss.item())
            sums["wasserstein"].append(wasserstein.item())
            sums["gp"].append(gp.item())
            sums["ac_real"].append(ac_real.item())
            sums["ac_real_accuracy"].append((real_style.argmax(1) == b["styles"]).float().mean().item())
            critic.requires_grad_(False)  # the generator's update needs gradients through the critic, not for it
            b = _tensor(data.batch(rng, cfg.batch_size, cfg), device)
            logits, gate = generator.forward_with_gate(
                generator.sample_noise(cfg.batch_size), b["styles"], b["chords"], b["previous"]
            )
            fake_score, fake_style = critic(generator.relaxed(logits, cfg.tau, gate), b["chords"], b["previous"])
            ac_fake = F.cross_entropy(fake_style, b["styles"])
            chord_loss = chord_share_loss(logits, b["chords"], b["chord_share"])
            scale_loss = scale_share_loss(logits, b["windows"])
            step_loss = stepwise_loss(logits, b["windows"]) if cfg.step_weight else logits.new_zeros(())
            rest_loss = (
                rest_rate_loss(logits, gate, b["windows"], b["styles"]) if gate is not None else logits.new_zeros(())
            )
            g_loss = (
                -fake_score.mean()
                + cfg.ac_weight * ac_fake
                + cfg.chord_weight * chord_loss
                + cfg.scale_weight * scale_loss
                + cfg.step_weight * step_loss
                + cfg.rest_weight * rest_loss
            )
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            sums["generator_loss"].append(g_loss.item())
            sums["ac_fake"].append(ac_fake.item())
            sums["chord_share_loss"].append(chord_loss.item())
            sums["scale_loss"].append(scale_loss.item())
            sums["step_loss"].append(step_loss.item())
            sums["rest_loss"].append(rest_loss.item())
            sums["confidence"].append(logits.detach().softmax(-1).amax(-1).mean().item())  # near 1: argmax ~ sampling
            bar.set_postfix(w=f"{np.mean(sums['wasserstein'][-20:]):.3f}", ac=f"{np.mean(sums['ac_fake'][-20:]):.3f}")
        critic.requires_grad_(True)
        losses = {k: round(float(np.mean(v)), 4) for k, v in sums.items()}
        if not all(math.isfinite(v) for v in losses.values()):
            raise RuntimeError(f"training diverged at epoch {epoch}: {losses}")
        report = sample_report(generator, held_out, names, device, cfg.seed, judge, judge_styles, SAMPLE_TEMPERATURE)
        gap = metric_gap(report["metrics"], real_metrics)
        score = round((report["judge_balanced"] or 0.0) - gap, 4)
        row = {
            "epoch": epoch,
            "step": epoch * cfg.steps_per_epoch,
            "elapsed_s": round(time.time() - started, 1),
            **losses,
            "judge_balanced": report["judge_balanced"],
            "metric_gap": gap,
            "score": score,
            "chord_tone_share": report["chord_tone_share_mean"],
            "judge_accuracy": report["judge_accuracy"],
            "diversity": report["diversity"],
            "metrics": report["metrics"],
        }
        print(json.dumps({k: v for k, v in row.items() if k not in ("metrics", "diversity")}), flush=True)
        with log_path.open("a") as log:
            log.write(json.dumps(row) + "\n")
        metadata = {
            "styles": names,
            "evaluation": {**report, "metric_gap": gap, "score": score, "real_metrics": real_metrics},
            "training": {
                **asdict(cfg),
                "epoch": epoch,
                "step": row["step"],
                "best_since": best_since,
                "step_loss": STEP_LOSS_FORM,
                "metric_gap_figures": [name if scale == 1 else f"{name} / {scale:g}" for name, scale in GAP_FIGURES],
                **training,
            },
        }
        save_stylegan(generator, out / "last", metadata)
        if score > best["score"]:
            best = {
                "epoch": epoch,
                "step": row["step"],
                "score": score,
                "judge_balanced": report["judge_balanced"],
                "metric_gap": gap,
            }
            save_stylegan(generator, out, metadata)
        torch.save(
            {
                "generator": generator.state_dict(),
                "critic": critic.state_dict(),
                "generator_optimizer": g_opt.state_dict(),
                "critic_optimizer": d_opt.state_dict(),
                "epoch": epoch,
                "best": json.dumps(best),
                "best_since": best_since,
            },
            state_path,
        )
    return best
