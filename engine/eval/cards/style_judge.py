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

from engine.eval.cards.common import _style_counts_table, _table


def render_style_judge_card(checkpoint: Path, log_rows: list[dict]) -> str:
    """The style judge's model card (every figure read from its files)."""
    meta = json.loads((checkpoint / "config.json").read_text())
    cfg, training, validation = meta["config"], meta.get("training", {}), meta.get("validation", {})
    weights_mb = (checkpoint / "model.safetensors").stat().st_size / 1e6
    per_style = [
        {"style": name, "held-out windows": validation.get("counts", {}).get(name), "accuracy": acc}
        for name, acc in validation.get("per_style", {}).items()
    ]
    parts = [
        "# Style judge (Cadenza)",
        "",
        "Which of Cadenza's styles a four-track 2-bar window is in. Trained on real windows only; it judges the style "
        "generators (MusAE, the style GAN).",
        "",
        "## Model",
        f"- Token embedding ({cfg['embed']}) plus a track embedding per step, the four tracks side by side; three dilated "
        f"1-D convolutions ({cfg['channels']} channels, dilation 1, 2, 4); mean and max pooling; one logit per style. "
        f"Weights: {weights_mb:.2f} MB.",
        "",
        "## Data (engine/train/style_data.py)",
        "",
        _style_counts_table(training),
        "",
        f"- Split by piece (seeded hash): {training.get('train_windows')} training windows, {training.get('val_windows')} held out.",
        f"- Batches draw every style equally often; each window moves by a random interval in "
        f"[{training.get('transpose_low')}, {training.get('transpose_high')}] semitones. AdamW lr {training.get('lr')}, batch "
        f"{training.get('batch_size')}, {training.get('steps_per_epoch')} steps per epoch; best epoch {training.get('epoch')} "
        f"({training.get('step')} steps).",
        "",
        "## Held-out accuracy (untransposed windows of held-out pieces)",
        "",
        f"- Overall {validation.get('overall')}; balanced (mean over styles) {validation.get('balanced')}.",
        "",
        _table(per_style, ["style", "held-out windows", "accuracy"]),
    ]
    if log_rows:
        parts += [
            "",
            "### Training log",
            "",
            _table(log_rows, ["epoch", "step", "train_loss", "val_accuracy", "val_balanced"]),
        ]
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        "python -m engine.data.style --nottingham DIR --out data_cache/style_windows.npz",
        "python -m engine.train style-judge --data data_cache/style_windows.npz --out checkpoints/style_judge",
        "python -m engine.train.model_card checkpoints/style_judge",
        "```",
        "",
    ]
    return "\n".join(parts)
