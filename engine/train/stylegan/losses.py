"""The style GAN generator's losses beside the critic's score: what the critic alone did not teach it.

Per generator step the loss is minus the critic's score of its straight-through Gumbel-softmax samples, plus
``ac_weight`` x the style head's cross-entropy for the style it was asked for, plus:

* ``chord_weight`` x :func:`chord_share_loss`: each track's expected share of onsets on chord tones against the real
  window's track's, on the windows given chords (left to the critic alone, the chords were ignored, 25% of onsets on
  chord tones after 1,650 steps, chance for a triad);
* ``scale_weight`` x :func:`scale_share_loss`: the share of its onsets in the diatonic scale that holds most of them
  against the real window's;
* ``step_weight`` x :func:`stepwise_loss`: each track's shares of repeated pitches and of steps of 1-2 semitones
  between consecutive onsets against the real window's;
* ``rest_weight`` x :func:`rest_rate_loss` (with the rest gate): each style's and track's share of bars resting whole
  against the real windows'.

Each function's docstring gives the measurements that called for it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.music.constants import HOLD, NUM_PITCH_TOKENS, REST


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
    26-53% of the top voice's onsets by style repeated the one before, against 10-28% in training windows, and its
    voices used too few pitch classes a bar (Palestrina's top voice 1.75, real 2.35); so repeats and steps are asked
    for apart."""
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
