"""Train the style GAN (``python -m engine.train stylegan``): WGAN-GP with an AC-GAN style head.

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

Every epoch, on fixed noise and held-out conditions (engine.eval.metrics.musegan): per style, the
style judge's accuracy on ``eval_samples`` windows generated without conditions (when
``judge`` names a checkpoint), MuseGAN's metrics and diversity of those windows, and the share of
onsets on chord tones with and without the held-out windows' chords. The first log row of a
run holds the same metrics of the held-out real windows. The best epoch (judge balanced
accuracy, or 0 without a judge, minus ``metric_gap``: the mean absolute difference of empty-bar
rate, qualified-note rate, used pitch classes / 12 and tonal distance / 4 from the real windows,
over styles and tracks) is saved to ``out``, the last to ``out/last``; ``--resume`` continues.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
