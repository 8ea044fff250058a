"""Write a checkpoint's README.md model card from the figures the training run logged.

    python -m engine.train.model_card checkpoints/ec2vae [--eval eval.json] [--log runs/ec2vae/train_log.jsonl]
    python -m engine.train.model_card checkpoints/latent [--eval song.json] [--cross-corpus cross.json] [--log ...]
    python -m engine.train.model_card checkpoints/stylegan [--eval style.json] [--log ...]

Every number in the card is read from config.json, the training log or an
evaluation JSON written by ``python -m engine.evaluate``; nothing is typed in.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.eval.cards.common import _table


def render_card(checkpoint: Path, log_rows: list[dict], evaluation: dict | None) -> str:
    meta = json.loads((checkpoint / "config.json").read_text())
    cfg, training, validation = meta["config"], meta.get("training", {}), meta.get("validation", {})
    stats = training.get("data_stats", {})
    weights_mb = (checkpoint / "model.safetensors").stat().st_size / 1e6
    parts = [
        "# EC2-VAE (Cadenza)",
        "",
        "Melody VAE with disentangled pitch and rhythm latents and a chord-conditioned decoder "
        "(Yang et al., ISMIR 2019), as used by Cadenza's Compose and Explore tabs.",
        "",
        "## Model",
        "- 2-bar windows of 32 sixteenth steps; 130 melody tokens per step (128 onsets, hold, rest); 12-d chord chroma per step.",
        f"- Encoder: bidirectional GRU, hidden {cfg['encoder_hidden']}; z_pitch {cfg['z_pitch']}-d, z_rhythm {cfg['z_rhythm']}-d.",
        f"- Rhythm decoder: GRU hidden {cfg['decoder_hidden']} -> onset/hold/rest. Pitch decoder: 2-layer GRU hidden {cfg['decoder_hidden']}, "
        "fed the previous token, the rhythm, both latents and the chord.",
        f"- Weights: `model.safetensors`, {weights_mb:.1f} MB (float32). The paper used hidden 2048; a smaller model trains on two CPU cores.",
        "",
        "## Training",
        f"- Data: `{training.get('data', '?')}` — the Nottingham Music Database (cleaned Jukedeck copy, GPL-3.0), "
        f"{stats.get('files', '?')} MIDI files. Split by a seeded hash of the tune name: "
        f"{stats.get('train_tunes', '?')} training tunes ({stats.get('train_windows', '?')} windows, one per bar), "
        f"{stats.get('val_tunes', '?')} held-out tunes ({stats.get('val_windows', '?')} windows).",
        f"- Augmentation: random transposition {training.get('transpose', '?')} semitones per window.",
        f"- Loss: pitch CE + rhythm CE + {training.get('kl_weight', '?')} x (KL_pitch + KL_rhythm), KL averaged over latent "
        "dimensions as in the reference code. Adam, lr "
        f"{training.get('lr', '?')} decayed 0.95 per epoch, batch {training.get('batch_size', '?')}; teacher forcing annealed per batch.",
        f"- Checkpoint: epoch {training.get('epoch', '?')}, {training.get('step', '?')} optimiser steps (best held-out pitch accuracy).",
        "",
        "## Validation (held-out tunes; posterior mean, greedy decoding, no teacher forcing)",
        f"- Pitch-token accuracy per step: **{validation.get('pitch_accuracy', '?')}**",
        f"- Rhythm accuracy per step: {validation.get('rhythm_accuracy', '?')}",
        f"- Pitch accuracy on onset steps only (stricter): {validation.get('onset_pitch_accuracy', '?')}",
    ]
    if log_rows:
        keys = [
            "epoch",
            "step",
            "tf_ratio",
            "train_loss",
            "val_pitch_accuracy",
            "val_rhythm_accuracy",
            "val_onset_pitch_accuracy",
        ]
        parts += ["", "### Training log", "", _table(log_rows, keys)]
    if evaluation:
        parts += [
            "",
            "## Evaluation (`python -m engine.evaluate`)",
            "",
            "```json",
            json.dumps(evaluation, indent=2),
            "```",
        ]
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        f"python -m engine.train ec2vae --data {training.get('data', 'DIR')} --out checkpoints/ec2vae "
        f"--hidden {cfg['decoder_hidden']} --epochs N",
        "```",
        "",
    ]
    return "\n".join(parts)
