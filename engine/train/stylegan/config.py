"""The style GAN trainer's settings (``python -m engine.train stylegan``): the run's, and the generator's config.

The comments keep the measurements behind the defaults; engine.train.stylegan says how they are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.models.style_gan import StyleGANConfig
from engine.paths import STYLE_CACHE, default_checkpoint
from engine.train.common import STYLE_CACHE_HELP, TrainConfig, model_field


@dataclass(kw_only=True)
class StyleGANTrainConfig(TrainConfig[StyleGANConfig]):
    """The style GAN's training settings; ``model`` is the generator's (and its critic's) config."""

    data: str = field(default=str(STYLE_CACHE), metadata={"help": STYLE_CACHE_HELP})
    out: str = field(
        default=str(default_checkpoint("stylegan")),
        metadata={"help": "checkpoint folder (the best epoch; the last one in OUT/last)"},
    )
    epochs: int = 20
    batch_size: int = 64
    lr: float = field(default=1e-4, metadata={"help": "generator learning rate"})
    restart_best: bool = field(
        default=False,
        metadata={"help": "with --resume: choose the best epoch among the new ones only (after a change of recipe)"},
    )
    judge: str = field(
        default=str(default_checkpoint("style_judge")),
        metadata={"help": "style judge checkpoint for the epoch's sample metrics (skipped if absent)"},
    )
    steps_per_epoch: int = field(default=300, metadata={"help": "generator updates per epoch"})
    critic_lr: float = field(default=1e-4, metadata={"help": "the critic's learning rate"})
    beta1: float = field(default=0.5, metadata={"help": "Adam's beta1 (generator and critic)"})
    beta2: float = field(default=0.9, metadata={"help": "Adam's beta2 (generator and critic)"})
    critic_steps: int = field(default=5, metadata={"help": "critic updates per generator update"})
    gp_weight: float = field(default=10.0, metadata={"help": "WGAN-GP gradient penalty weight"})
    ac_weight: float = field(default=1.0, metadata={"help": "weight of the style head's cross-entropy (AC-GAN)"})
    # 0: the critic alone enforces the chords.
    chord_weight: float = field(default=10.0, metadata={"help": "weight of the chord-share loss (0: none)"})
    # The chord-share loss asks each track for its real share (False: all tracks').
    chord_share_per_track: bool = field(
        default=True,
        metadata={
            "flag": "chord-share",
            "choices": {"track": True, "window": False},
            "help": "the chord-share loss asks each track for its real share (track) or all tracks together (window)",
        },
    )
    # 0: the critic alone keeps the voices in one key.
    scale_weight: float = field(default=10.0, metadata={"help": "weight of the scale-share loss (0: none)"})
    # 0: the critic alone shapes the melodic intervals.
    step_weight: float = field(default=10.0, metadata={"help": "weight of the stepwise-motion loss (0: none)"})
    # With the rest gate; 0: the critic alone. At 1.0 (2 epochs from epoch 86) the critic won: the gate rested 23% of a
    # string quartet second violin's bars, real 4%.
    rest_weight: float = field(default=30.0, metadata={"help": "weight of the rest-rate loss (with the rest gate)"})
    # Adam moves a parameter by about lr a step: at 1e-4 the gate's bias would take some 30,000 steps to open from -5
    # (0.7% of bars resting whole) to -2 (12%).
    gate_lr: float = field(default=5e-3, metadata={"help": "learning rate of the rest gate"})
    # The chord skip's gains are 4 scalars; Adam moves a parameter by about lr per step, so at lr 1e-4 they moved
    # 1.0 -> 1.045 in 450 steps while the onsets' chord-tone share stayed at 0.46 (real 0.95, over the every-pitch-class
    # chroma of that run).
    chord_skip_lr: float = field(default=1e-2, metadata={"help": "learning rate of the chord skip's gains"})
    tau: float = field(default=1.0, metadata={"help": "Gumbel-softmax temperature of the relaxation's gradient"})
    chord_drop: float = field(default=0.5, metadata={"help": "probability of training a window without its chords"})
    previous_drop: float = field(
        default=0.3, metadata={"help": "probability of training a window without its previous window"}
    )
    eval_samples: int = field(
        default=64, metadata={"help": "windows per style generated (and held-out real ones) for the epoch's metrics"}
    )
    model: StyleGANConfig = model_field(
        StyleGANConfig,
        help="the generator's and the critic's config",
        fixed=("num_styles", "tracks", "pitch_ranges"),
        noise_dims={"help": "noise shared by the tracks"},
        track_noise_dims={"help": "each track's own noise"},
        style_dims={"help": "style embedding size"},
        gen_widths={"help": "generator channels at time resolution 4, 8, 16, 32"},
        private_width={"help": "per-track channels of the generator's last layers"},
        cond_embed={"help": "token embedding of the previous-window conditioner"},
        cond_channels={"help": "conditioner channels at every resolution"},
        critic_embed={"help": "the critic's token embedding"},
        critic_widths={"help": "critic channels at time resolution 32, 16, 8"},
        critic_joint={"help": "channels of the critic's score head"},
        bar_gate={"help": "give the generator a rest gate per track and bar (a run resumed from one without adds it)"},
    )

    def record(self) -> dict[str, Any]:
        """The settings as config.json records them, with the model's "bar_gate" and "model_overrides" (the other
        fields of the generator's config changed)."""
        overrides = {k: v for k, v in self.model_changes().items() if k != "bar_gate"}
        return {**super().record(), "bar_gate": self.model.bar_gate, "model_overrides": overrides}
