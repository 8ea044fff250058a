"""The EC2-VAE's model card."""

from __future__ import annotations

import json
from pathlib import Path

from engine.eval.cards.common import evaluation_note, log_table, table


def render_card(checkpoint: Path, log_rows: list[dict], evaluation: dict | None) -> str:
    meta = json.loads((checkpoint / "config.json").read_text())
    cfg, training, validation = meta["config"], meta.get("training", {}), meta.get("validation", {})
    stats = training.get("data_stats", {})
    weights_mb = (checkpoint / "model.safetensors").stat().st_size / 1e6
    parts = [
        "# EC2-VAE (Cadenza)",
        "",
        "Melody VAE with disentangled pitch and rhythm latents and a chord-conditioned decoder (Yang et al., ISMIR "
        "2019), as used by Cadenza's Compose and Explore tabs.",
        "",
        "## Model",
        "- 2-bar windows of 32 sixteenth steps; 130 melody tokens per step (128 onsets, hold, rest); 12-d chord "
        "chroma per step.",
        f"- Encoder: bidirectional GRU, hidden {cfg['encoder_hidden']}; z_pitch {cfg['z_pitch']}-d, z_rhythm "
        f"{cfg['z_rhythm']}-d.",
        f"- Rhythm decoder: GRU hidden {cfg['decoder_hidden']} -> onset/hold/rest. Pitch decoder: 2-layer GRU hidden "
        f"{cfg['decoder_hidden']}, fed the previous token, the rhythm, both latents and the chord.",
        f"- Weights: `model.safetensors`, {weights_mb:.1f} MB (float32). The paper used hidden 2048; a smaller model "
        "trains on two CPU cores.",
        "",
        "## Training",
        f"- Data: `{training.get('data', '?')}` — the Nottingham Music Database (cleaned Jukedeck copy, GPL-3.0), "
        f"{stats.get('files', '?')} MIDI files. Split by a seeded hash of the tune name: "
        f"{stats.get('train_tunes', '?')} training tunes ({stats.get('train_windows', '?')} windows, one per bar), "
        f"{stats.get('val_tunes', '?')} held-out tunes ({stats.get('val_windows', '?')} windows).",
        f"- Augmentation: random transposition {training.get('transpose', '?')} semitones per window.",
        f"- Loss: pitch CE + rhythm CE + {training.get('kl_weight', '?')} x (KL_pitch + KL_rhythm), KL averaged over "
        f"latent dimensions as in the reference code. Adam, lr {training.get('lr', '?')} decayed 0.95 per epoch, "
        f"batch {training.get('batch_size', '?')}; teacher forcing annealed per batch.",
        f"- Checkpoint: epoch {training.get('epoch', '?')}, {training.get('step', '?')} optimiser steps (best "
        "held-out pitch accuracy).",
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
        parts += ["", "### Training log", "", *log_table(log_rows, keys)]
    if evaluation:
        parts += [
            "",
            "## Evaluation (`python -m engine.evaluate ec2vae`)",
            "",
            *_evaluation_table(evaluation),
            "",
            evaluation_note("python -m engine.evaluate ec2vae --data DIR --split val --json"),
        ]
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        f"python -m engine.train ec2vae --data {training.get('data', 'DIR')} --out checkpoints/ec2vae "
        f"--encoder-hidden {cfg['encoder_hidden']} --decoder-hidden {cfg['decoder_hidden']} --epochs N",
        "```",
        "",
    ]
    return "\n".join(parts)


def _evaluation_table(evaluation: dict) -> list[str]:
    """The held-out figures beside the real tunes' (what the evaluation JSON holds)."""
    recon, control = evaluation.get("reconstruction", {}), evaluation.get("control", {})
    rows = [
        {
            "figure": "pitch tokens right (posterior mean, greedy, no teacher forcing)",
            "model": recon.get("pitch_accuracy"),
        },
        {"figure": "rhythm classes right", "model": recon.get("rhythm_accuracy")},
        {"figure": "onsets with their exact pitch", "model": recon.get("onset_pitch_accuracy")},
        {"figure": "Compose: onset F1 against the requested rhythm", "model": control.get("onset_f1"), "real": 1.0},
        {
            "figure": "Compose: share of note time on chord tones",
            "model": control.get("chord_tone_share_composed"),
            "real": control.get("chord_tone_share_real"),
        },
    ]
    where = (
        f"{evaluation.get('windows', '?')} windows of {evaluation.get('tunes', '?')} tunes (split "
        f"{evaluation.get('split', '?')}); Compose on {control.get('composed_windows', '?')} of them."
    )
    return [where, "", table(rows, ["figure", "model", "real"])]
