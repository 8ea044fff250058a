"""Training CLI: ``python -m engine.train ec2vae --data DIR --out checkpoints/ec2vae``."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from engine.train.ec2vae import TrainConfig, train


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
    p.add_argument("--tf-start", type=float, default=TrainConfig.tf_start, help="teacher-forcing probability at the start")
    p.add_argument("--tf-end", type=float, default=TrainConfig.tf_end, help="teacher-forcing probability at the end")
    p.add_argument("--transpose", type=int, nargs=2, default=[TrainConfig.transpose_low, TrainConfig.transpose_high],
                   metavar=("LOW", "HIGH"), help="random transposition range in semitones (augmentation); 0 0 turns it off")
    p.add_argument("--hidden", type=int, default=TrainConfig.hidden)
    p.add_argument("--z-dims", type=int, default=TrainConfig.z_dims, help="size of each of z_pitch and z_rhythm")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument("--debug", action="store_true", help="tiny model (for tests)")
    p.add_argument("--max-train-windows", type=int, default=None, help="use only the first N windows (quick runs)")
    p.add_argument("--cache", default=None, help="cache parsed windows in this .npz file")
    p.add_argument("--workers", type=int, default=2, help="processes for parsing files")
    p.add_argument("--procs", type=int, default=1, help="data-parallel training processes on the CPU (torch.distributed, gloo); "
                   "e.g. 2 on a 2-core machine, each with one thread")
    p.add_argument("--threads", type=int, default=None, help="torch threads per process (default: torch's choice; 1 with --procs > 1)")
    p.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)}
    values["transpose_low"], values["transpose_high"] = args.transpose
    result = train(TrainConfig(**values))
    print(f"best validation pitch accuracy: {result['best_val_pitch_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
