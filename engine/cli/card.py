"""Write a checkpoint's model card (README.md, and evaluation.json beside it) from its files
(``python -m engine.evaluate card``).

    python -m engine.evaluate card checkpoints/ec2vae [--eval ec2vae.json] [--log runs/ec2vae/train_log.jsonl]
    python -m engine.evaluate card checkpoints/latent [--eval song.json] [--cross-corpus cross.json]
    python -m engine.evaluate card checkpoints/musae --encoder runs/musae_encoder [--eval style.json]
    python -m engine.evaluate card checkpoints/stylegan [--eval style.json]
    python -m engine.evaluate card checkpoints/harmonizer [--eval arrange.json]
    python -m engine.evaluate card checkpoints/voice_infill [--eval arrange_both.json]
        [--history docs/training/stylegan_history.md]

Every number in the card is read from config.json, the training log or an evaluation JSON written by
``python -m engine.evaluate``; nothing is typed in.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from engine.eval.cards.abc import render_abc_card
from engine.eval.cards.common import write_card
from engine.eval.cards.ec2vae import render_card
from engine.eval.cards.harmonizer import render_harmonizer_card
from engine.eval.cards.latent import render_latent_card
from engine.eval.cards.musae import render_musae_card
from engine.eval.cards.style_judge import render_style_judge_card
from engine.eval.cards.stylegan import render_stylegan_card
from engine.eval.cards.voice_infill import render_voice_infill_card


def add_card_arguments(parser: argparse.ArgumentParser) -> None:
    """The card command's arguments."""
    parser.add_argument("checkpoint")
    parser.add_argument("--log", default=None, help="train_log.jsonl (default: CHECKPOINT/train_log.jsonl)")
    parser.add_argument("--eval", default=None, help="JSON written by python -m engine.evaluate (kept beside the card)")
    parser.add_argument(
        "--cross-corpus", default=None, help="JSON written by python -m engine.evaluate cross-corpus (latent models)"
    )
    parser.add_argument(
        "--encoder",
        default=None,
        help="MusAE trained with --decoder-from: the encoder's checkpoint folder (config.json, train_log.jsonl)",
    )
    parser.add_argument(
        "--history",
        default=None,
        help="a Markdown file of the trainer's notes on the run's phases (linked from the card)",
    )


def write_model_card(args: argparse.Namespace) -> Path:
    """Render the card of ``args.checkpoint``'s family and write it (with the evaluation JSON beside it)."""
    checkpoint = Path(args.checkpoint)
    log_path = Path(args.log) if args.log else checkpoint / "train_log.jsonl"
    rows = [json.loads(line) for line in log_path.read_text().splitlines()] if log_path.exists() else []
    evaluation = json.loads(Path(args.eval).read_text()) if args.eval else None
    kind = json.loads((checkpoint / "config.json").read_text()).get("model")
    if kind == "abc_emotion":
        card = render_abc_card(checkpoint, rows, evaluation)
    elif kind == "style_judge":
        card = render_style_judge_card(checkpoint, rows)
    elif kind == "musae":
        card = render_musae_card(checkpoint, rows, evaluation, Path(args.encoder) if args.encoder else None)
    elif kind == "stylegan":
        card = render_stylegan_card(checkpoint, rows, evaluation)
    elif kind == "harmonizer":
        card = render_harmonizer_card(checkpoint, rows, evaluation)
    elif kind == "voice_infill":
        card = render_voice_infill_card(checkpoint, rows, evaluation)
    elif kind == "latent":
        cross = json.loads(Path(args.cross_corpus).read_text()) if args.cross_corpus else None
        card = render_latent_card(checkpoint, rows, evaluation, cross)
    else:
        card = render_card(checkpoint, rows, evaluation)
    if args.history:  # what the log cannot say (a loss that changed meaning between restarts), in the trainer's words
        link = Path(os.path.relpath(Path(args.history).resolve(), checkpoint.resolve())).as_posix()
        first = Path(args.history).read_text().strip().split("\n\n")[0]
        card = (
            card.rstrip("\n")
            + "\n\n## Training history (the trainer's notes)\n\n"
            + (first if not first.startswith("#") else "")
            + f"\n\nThe whole history, phase by phase: [{Path(args.history).name}]({link}).\n"
        )
    return write_card(checkpoint, card, evaluation)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.evaluate card", description=__doc__)
    add_card_arguments(parser)
    print(write_model_card(parser.parse_args(argv)))
    return 0
