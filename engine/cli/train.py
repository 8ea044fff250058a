"""Training CLI: one subcommand per trainer, its options built from the trainer's config (engine.train.common).

    python -m engine.train ec2vae --data DIR --out checkpoints/ec2vae
    python -m engine.train latent --vae checkpoints/ec2vae --data DIR --out checkpoints/latent
    python -m engine.train abc --data DIR [DIR ...] --out checkpoints/abc_emotion
    python -m engine.train style-judge --data data_cache/style_windows.npz --out checkpoints/style_judge
    python -m engine.train musae [--baseline vae] --data data_cache/style_windows.npz --out checkpoints/musae
    python -m engine.train stylegan --data data_cache/style_windows.npz --out checkpoints/stylegan
    python -m engine.train harmonizer --data data_cache/harmony.npz --out checkpoints/harmonizer
    python -m engine.train voice-infill --data data_cache/style_windows.npz --out checkpoints/voice_infill

Every option is a field of the trainer's config (``--help`` lists them with their defaults); the model's sizes are
the fields of its model config under their own names (e.g. ``--encoder-hidden``), and ``--debug`` trains the model
config's tiny debug preset. ec2vae, latent and abc run data-parallel under torchrun
(``torchrun --nnodes N --nproc_per_node M -m engine.train ...``, across machines) or, on one machine, with
``--procs P`` (CPU processes spawned here).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.train import abc, ec2vae, harmonizer, latent, musae, style_judge, voice_infill
from engine.train.common import add_config_options, config_from_args
from engine.train.stylegan import StyleGANTrainConfig, train_stylegan


@dataclass(frozen=True)
class Trainer:
    """A subcommand: its config class, its help, and what trains a config and says how it went."""

    config: type
    help: str
    run: Callable[[Any], str]


def _ec2vae(cfg: ec2vae.EC2VAETrainConfig) -> str:
    return f"best validation pitch accuracy: {ec2vae.train(cfg)['best_val_pitch_accuracy']:.4f}"


def _latent(cfg: latent.LatentTrainConfig) -> str:
    return f"best validation loss: {latent.train(cfg)['best_val_loss']:.4f} nats per dimension"


def _abc(cfg: abc.AbcTrainConfig) -> str:
    return f"best validation loss: {abc.train(cfg)['best_val_loss']:.4f} nats per token"


def _style_judge(cfg: style_judge.StyleJudgeTrainConfig) -> str:
    best = style_judge.train_style_judge(cfg)
    return f"best held-out accuracy (balanced over styles): {best['val']['balanced']:.4f} at epoch {best['epoch']}"


def _harmonizer(cfg: harmonizer.HarmonizerTrainConfig) -> str:
    best = harmonizer.train_harmonizer(cfg)
    return (
        f"best held-out slot accuracy: {best['val']['all_exact']:.4f} exact, {best['val']['all_root']:.4f} root "
        f"(epoch {best['epoch']})"
    )


def _voice_infill(cfg: voice_infill.VoiceInfillTrainConfig) -> str:
    best = voice_infill.train_voice_infill(cfg)
    return (
        f"best held-out loss on the lower voices: {best['val']['loss']:.4f} (accuracy {best['val']['accuracy']:.4f}, "
        f"epoch {best['epoch']})"
    )


def _musae(cfg: musae.MusAETrainConfig) -> str:
    best = musae.train_musae(cfg)
    return f"best held-out greedy reconstruction: {best['val']['greedy']['mean']:.4f} at epoch {best['epoch']}"


def _stylegan(cfg: StyleGANTrainConfig) -> str:
    best = train_stylegan(cfg)
    return (
        f"best epoch {best.get('epoch')}: score {best['score']:.4f} (judge balanced accuracy "
        f"{best.get('judge_balanced')}, metric gap {best.get('metric_gap')})"
    )


TRAINERS: dict[str, Trainer] = {
    "ec2vae": Trainer(ec2vae.EC2VAETrainConfig, "EC2-VAE on a folder of MIDI or ABC files", _ec2vae),
    "latent": Trainer(
        latent.LatentTrainConfig,
        "the latent sequence model (continuation, infill, songs) over a trained EC2-VAE's latents",
        _latent,
    ),
    "abc": Trainer(
        abc.AbcTrainConfig,
        "the ABC emotion model (a language model over ABC text prompted with a Russell quadrant)",
        _abc,
    ),
    "style-judge": Trainer(
        style_judge.StyleJudgeTrainConfig,
        "the style judge: a classifier of four-track windows trained on real ones only",
        _style_judge,
    ),
    "harmonizer": Trainer(
        harmonizer.HarmonizerTrainConfig,
        "the chord suggester (Arrange): a melody's chord slots -> a chord per slot",
        _harmonizer,
    ),
    "voice-infill": Trainer(
        voice_infill.VoiceInfillTrainConfig,
        "the voice infiller (Arrange): masked voices of a four-voice window, Coconet-style",
        _voice_infill,
    ),
    "musae": Trainer(
        musae.MusAETrainConfig,
        "MusAE (adversarial autoencoder, style-mixture prior) or, with --baseline vae, its VAE twin",
        _musae,
    ),
    "stylegan": Trainer(
        StyleGANTrainConfig,
        "the style GAN: a style-, chord- and previous-window-conditioned generator (WGAN-GP, AC-GAN critic)",
        _stylegan,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """``python -m engine.train``'s parser: a subcommand per trainer with its config's options."""
    parser = argparse.ArgumentParser(prog="python -m engine.train", description="Train Cadenza's models.")
    sub = parser.add_subparsers(dest="model", required=True)
    for name, trainer in TRAINERS.items():
        options = sub.add_parser(
            name, help=trainer.help, description=trainer.help, formatter_class=argparse.ArgumentDefaultsHelpFormatter
        )
        add_config_options(options, trainer.config)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Train the model the subcommand names and print how the best epoch did."""
    args = build_parser().parse_args(argv)
    trainer = TRAINERS[args.model]
    print(trainer.run(config_from_args(trainer.config, args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
