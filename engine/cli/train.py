"""Training CLI.

    python -m engine.train ec2vae --data DIR --out checkpoints/ec2vae
    python -m engine.train latent --vae checkpoints/ec2vae --data DIR --out checkpoints/latent
    python -m engine.train abc --data DIR [DIR ...] --out checkpoints/abc_emotion
    python -m engine.train style-judge --data data_cache/style_windows.npz --out checkpoints/style_judge
    python -m engine.train musae [--baseline vae] --data data_cache/style_windows.npz --out checkpoints/musae
    python -m engine.train stylegan --data data_cache/style_windows.npz --out checkpoints/stylegan

Both run data-parallel under torchrun (``torchrun --nnodes N --nproc_per_node M -m engine.train ...``,
across machines) or, on one machine, with ``--procs P`` (CPU processes spawned here).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from engine.train.abc import AbcTrainConfig
from engine.train.ec2vae import TrainConfig, train
from engine.train.latent import LatentTrainConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine.train", description="Train Cadenza's models.")
    sub = parser.add_subparsers(dest="model", required=True)
    p = sub.add_parser("ec2vae", help="EC2-VAE on a folder of MIDI or ABC files")
    p.add_argument("--data", required=True, help="folder of .mid/.midi/.abc files (searched recursively)")
    p.add_argument("--out", default="checkpoints/ec2vae", help="checkpoint folder")
    p.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    p.add_argument("--lr", type=float, default=TrainConfig.lr)
    p.add_argument("--lr-decay", type=float, default=TrainConfig.lr_decay, help="learning-rate factor per epoch")
    p.add_argument("--kl-weight", type=float, default=TrainConfig.kl_weight)
    p.add_argument(
        "--tf-start", type=float, default=TrainConfig.tf_start, help="teacher-forcing probability at the start"
    )
    p.add_argument("--tf-end", type=float, default=TrainConfig.tf_end, help="teacher-forcing probability at the end")
    p.add_argument(
        "--transpose",
        type=int,
        nargs=2,
        default=[TrainConfig.transpose_low, TrainConfig.transpose_high],
        metavar=("LOW", "HIGH"),
        help="random transposition range in semitones (augmentation); 0 0 turns it off",
    )
    p.add_argument("--hidden", type=int, default=TrainConfig.hidden)
    p.add_argument("--z-dims", type=int, default=TrainConfig.z_dims, help="size of each of z_pitch and z_rhythm")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument("--debug", action="store_true", help="tiny model (for tests)")
    p.add_argument("--max-train-windows", type=int, default=None, help="use only the first N windows (quick runs)")
    p.add_argument("--cache", default=None, help="cache parsed windows in this .npz file")
    p.add_argument("--workers", type=int, default=2, help="processes for parsing files")
    p.add_argument(
        "--procs",
        type=int,
        default=1,
        help="data-parallel training processes on the CPU (torch.distributed, gloo); "
        "e.g. 2 on a 2-core machine, each with one thread",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads per process (default: torch's choice; 1 with --procs > 1)",
    )
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser(
        "latent", help="the latent sequence model (continuation, infill, songs) over a trained EC2-VAE's latents"
    )
    p.add_argument(
        "--vae",
        required=True,
        help="EC2-VAE checkpoint folder whose latents the model learns ('debug': the tiny untrained one)",
    )
    p.add_argument("--data", required=True, help="folder of .mid/.midi/.abc files (searched recursively)")
    p.add_argument("--out", default="checkpoints/latent", help="checkpoint folder")
    d = LatentTrainConfig
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="sequences per step (split across processes)")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--warmup-steps", type=int, default=d.warmup_steps)
    p.add_argument(
        "--transpose",
        type=int,
        nargs=2,
        default=[d.transpose_low, d.transpose_high],
        metavar=("LOW", "HIGH"),
        help="every tune is encoded at each transposition in LOW..HIGH semitones; 0 0 turns it off",
    )
    p.add_argument(
        "--max-windows", type=int, default=d.max_windows, help="longest sequence in 2-bar windows (16 = 32 bars)"
    )
    p.add_argument("--d-model", type=int, default=d.d_model)
    p.add_argument("--layers", type=int, default=d.layers)
    p.add_argument("--heads", type=int, default=d.heads)
    p.add_argument("--mixtures", type=int, default=d.mixtures, help="Gaussian components of the mixture density heads")
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument("--debug", action="store_true", help="tiny model (for tests)")
    p.add_argument("--max-tunes", type=int, default=None, help="use only the first N tunes (quick runs)")
    p.add_argument(
        "--cache", default=None, help="keep the encoded latents in this .npz file (reused for the same data and VAE)"
    )
    p.add_argument("--workers", type=int, default=2, help="processes for parsing files")
    p.add_argument("--procs", type=int, default=1, help="data-parallel training processes on this machine's CPU (gloo)")
    p.add_argument("--threads", type=int, default=None, help="torch threads per process")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser(
        "abc", help="the ABC emotion model (a language model over ABC text prompted with a Russell quadrant)"
    )
    p.add_argument(
        "--data", nargs="+", required=True, help="folders (or files) of .abc collections, searched recursively"
    )
    p.add_argument("--out", default="checkpoints/abc_emotion", help="checkpoint folder")
    a = AbcTrainConfig
    p.add_argument("--epochs", type=int, default=a.epochs)
    p.add_argument("--batch-size", type=int, default=a.batch_size)
    p.add_argument("--lr", type=float, default=a.lr)
    p.add_argument("--weight-decay", type=float, default=a.weight_decay)
    p.add_argument("--warmup-steps", type=int, default=a.warmup_steps)
    p.add_argument(
        "--transpose",
        type=int,
        nargs=2,
        default=[a.transpose_low, a.transpose_high],
        metavar=("LOW", "HIGH"),
        help="each epoch every tune moves by a random interval in LOW..HIGH semitones; 0 0 turns it off",
    )
    p.add_argument("--d-model", type=int, default=a.d_model)
    p.add_argument("--layers", type=int, default=a.layers)
    p.add_argument("--heads", type=int, default=a.heads)
    p.add_argument("--context", type=int, default=a.context, help="longest tune in tokens (longer ones are left out)")
    p.add_argument("--dropout", type=float, default=a.dropout)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument("--debug", action="store_true", help="tiny model (for tests)")
    p.add_argument(
        "--cache", default=a.cache, help="JSON-lines cache of the parsed, labelled tunes (music21 parsing is slow)"
    )
    p.add_argument("--max-tunes", type=int, default=None, help="use only the first N tunes (quick runs)")
    p.add_argument("--workers", type=int, default=2, help="processes for parsing tunes")
    p.add_argument("--procs", type=int, default=1, help="data-parallel training processes on this machine's CPU (gloo)")
    p.add_argument("--threads", type=int, default=None, help="torch threads per process")
    p.add_argument("--seed", type=int, default=0)

    from engine.train.style_judge import StyleJudgeTrainConfig as j

    p = sub.add_parser(
        "style-judge", help="the style judge: a classifier of four-track windows trained on real ones only"
    )
    p.add_argument("--data", default=j.data, help="the style cache (python -m engine.data.style)")
    p.add_argument("--out", default=j.out, help="checkpoint folder")
    p.add_argument("--epochs", type=int, default=j.epochs)
    p.add_argument("--steps-per-epoch", type=int, default=j.steps_per_epoch)
    p.add_argument("--batch-size", type=int, default=j.batch_size)
    p.add_argument("--lr", type=float, default=j.lr)
    p.add_argument(
        "--transpose", type=int, nargs=2, default=[j.transpose_low, j.transpose_high], metavar=("LOW", "HIGH")
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument("--debug", action="store_true", help="tiny model (for tests)")
    p.add_argument("--seed", type=int, default=0)

    from engine.train.musae import MusAETrainConfig as m

    p = sub.add_parser(
        "musae", help="MusAE (adversarial autoencoder, style-mixture prior) or, with --baseline vae, its VAE twin"
    )
    p.add_argument("--data", default=m.data, help="the style cache (python -m engine.data.style)")
    p.add_argument("--out", default=m.out, help="checkpoint folder")
    p.add_argument(
        "--baseline", default="musae", choices=["musae", "vae"], help="vae: the same encoder and decoder as a VAE"
    )
    p.add_argument("--epochs", type=int, default=m.epochs)
    p.add_argument("--steps-per-epoch", type=int, default=m.steps_per_epoch)
    p.add_argument("--batch-size", type=int, default=m.batch_size)
    p.add_argument("--lr", type=float, default=m.lr)
    p.add_argument(
        "--reg-weight", type=float, default=m.reg_weight, help="final weight of the critic (MusAE) or KL (VAE) term"
    )
    p.add_argument(
        "--critic-steps", type=int, default=m.critic_steps, help="critic updates per autoencoder update (MusAE)"
    )
    p.add_argument("--critic-lr", type=float, default=m.critic_lr)
    p.add_argument("--free-bits", type=float, default=m.free_bits, help="least KL per latent dimension, nats (VAE)")
    p.add_argument("--z-dims", type=int, default=m.z_dims, help="latent size (0: the model's default)")
    p.add_argument(
        "--decoder-from",
        default=m.decoder_from,
        help="train a new decoder on this MusAE checkpoint's frozen encoder (no critic: the codes stay as they are)",
    )
    p.add_argument("--joint", action="store_true", help="one joint decoder for all tracks (MusAEConfig.joint)")
    p.add_argument(
        "--transpose", type=int, nargs=2, default=[m.transpose_low, m.transpose_high], metavar=("LOW", "HIGH")
    )
    p.add_argument(
        "--greedy-sample", type=int, default=m.greedy_sample, help="held-out windows decoded greedily each epoch"
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument("--debug", action="store_true", help="tiny model (for tests)")
    p.add_argument("--seed", type=int, default=0)

    from engine.train.stylegan.config import StyleGANTrainConfig as g

    p = sub.add_parser(
        "stylegan",
        help="the style GAN: a style-, chord- and previous-window-conditioned generator (WGAN-GP, AC-GAN critic)",
    )
    p.add_argument("--data", default=g.data, help="the style cache (python -m engine.data.style)")
    p.add_argument("--out", default=g.out, help="checkpoint folder (the best epoch; the last one in OUT/last)")
    p.add_argument(
        "--judge", default=g.judge, help="style judge checkpoint for the epoch's sample metrics (skipped if absent)"
    )
    p.add_argument("--epochs", type=int, default=g.epochs)
    p.add_argument("--steps-per-epoch", type=int, default=g.steps_per_epoch, help="generator updates per epoch")
    p.add_argument("--batch-size", type=int, default=g.batch_size)
    p.add_argument("--lr", type=float, default=g.lr, help="generator learning rate")
    p.add_argument("--critic-lr", type=float, default=g.critic_lr)
    p.add_argument("--critic-steps", type=int, default=g.critic_steps, help="critic updates per generator update")
    p.add_argument("--gp-weight", type=float, default=g.gp_weight, help="WGAN-GP gradient penalty weight")
    p.add_argument(
        "--ac-weight", type=float, default=g.ac_weight, help="weight of the style head's cross-entropy (AC-GAN)"
    )
    p.add_argument(
        "--chord-weight", type=float, default=g.chord_weight, help="weight of the chord-share loss (0: none)"
    )
    p.add_argument(
        "--scale-weight", type=float, default=g.scale_weight, help="weight of the scale-share loss (0: none)"
    )
    p.add_argument(
        "--step-weight", type=float, default=g.step_weight, help="weight of the stepwise-motion loss (0: none)"
    )
    p.add_argument(
        "--bar-gate",
        action=argparse.BooleanOptionalAction,
        default=g.bar_gate,
        help="give the generator a rest gate per track and bar (a run resumed from one without adds it)",
    )
    p.add_argument(
        "--rest-weight", type=float, default=g.rest_weight, help="weight of the rest-rate loss (with the rest gate)"
    )
    p.add_argument("--gate-lr", type=float, default=g.gate_lr, help="learning rate of the rest gate")
    p.add_argument(
        "--chord-share",
        choices=("track", "window"),
        default="track",
        help="the chord-share loss asks each track for its real share (track) or all tracks together (window)",
    )
    p.add_argument(
        "--chord-skip-lr", type=float, default=g.chord_skip_lr, help="learning rate of the chord skip's gains"
    )
    p.add_argument("--tau", type=float, default=g.tau, help="Gumbel-softmax temperature of the relaxation")
    p.add_argument(
        "--chord-drop", type=float, default=g.chord_drop, help="probability of training a window without its chords"
    )
    p.add_argument(
        "--previous-drop",
        type=float,
        default=g.previous_drop,
        help="probability of training a window without its previous window",
    )
    p.add_argument(
        "--transpose", type=int, nargs=2, default=[g.transpose_low, g.transpose_high], metavar=("LOW", "HIGH")
    )
    p.add_argument(
        "--eval-samples", type=int, default=g.eval_samples, help="windows per style generated for the epoch's metrics"
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument(
        "--restart-best", action="store_true", help="with --resume: choose the best epoch among the new ones only"
    )
    p.add_argument("--debug", action="store_true", help="tiny model (for tests)")
    p.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.model == "stylegan":
        from engine.train.stylegan.config import StyleGANTrainConfig
        from engine.train.stylegan.loop import train_stylegan

        values = {
            f.name: getattr(args, f.name) for f in dataclasses.fields(StyleGANTrainConfig) if hasattr(args, f.name)
        }
        values["transpose_low"], values["transpose_high"] = args.transpose
        values["chord_share_per_track"] = args.chord_share == "track"
        best = train_stylegan(StyleGANTrainConfig(**values))
        print(
            f"best epoch {best.get('epoch')}: score {best['score']:.4f} (judge balanced accuracy {best.get('judge_balanced')}, "
            f"metric gap {best.get('metric_gap')})"
        )
        return 0
    from engine.train.musae import MusAETrainConfig
    from engine.train.style_judge import StyleJudgeTrainConfig

    config_class = {
        "latent": LatentTrainConfig,
        "abc": AbcTrainConfig,
        "style-judge": StyleJudgeTrainConfig,
        "musae": MusAETrainConfig,
    }.get(args.model, TrainConfig)
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_class) if hasattr(args, f.name)}
    values["transpose_low"], values["transpose_high"] = args.transpose
    if args.model == "abc":
        from engine.train.abc import train as train_abc

        result = train_abc(AbcTrainConfig(**values))
        print(f"best validation loss: {result['best_val_loss']:.4f} nats per token")
        return 0
    if args.model == "musae":
        from engine.train.musae import train_musae

        best = train_musae(MusAETrainConfig(**values))
        print(f"best held-out greedy reconstruction: {best['val']['greedy']['mean']:.4f} at epoch {best['epoch']}")
        return 0
    if args.model == "style-judge":
        from engine.train.style_judge import train_style_judge

        best = train_style_judge(StyleJudgeTrainConfig(**values))
        print(f"best held-out accuracy (balanced over styles): {best['val']['balanced']:.4f} at epoch {best['epoch']}")
        return 0
    if args.model == "latent":
        from engine.train.latent import train as train_latent

        result = train_latent(LatentTrainConfig(**values))
        print(f"best validation loss: {result['best_val_loss']:.4f} nats per dimension")
        return 0
    result = train(TrainConfig(**values))
    print(f"best validation pitch accuracy: {result['best_val_pitch_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
