"""The style judge's model card."""

from __future__ import annotations

import json
from pathlib import Path

from engine.eval.cards.common import log_table, style_counts_table, table


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
        "Which of Cadenza's styles a four-track 2-bar window is in. Trained on real windows only; it judges the "
        "style generators (MusAE, the style GAN).",
        "",
        "## Model",
        f"- Token embedding ({cfg['embed']}) plus a track embedding per step, the four tracks side by side; three "
        f"dilated 1-D convolutions ({cfg['channels']} channels, dilation 1, 2, 4); mean and max pooling; one logit "
        f"per style. Weights: {weights_mb:.2f} MB.",
        "",
        "## Data (engine/data/style.py)",
        "",
        style_counts_table(training),
        "",
        f"- Split by piece (seeded hash): {training.get('train_windows')} training windows, "
        f"{training.get('val_windows')} held out.",
        "- Batches draw every style equally often; each window moves by a random interval in "
        f"[{training.get('transpose_low')}, {training.get('transpose_high')}] semitones. AdamW lr "
        f"{training.get('lr')}, batch {training.get('batch_size')}, {training.get('steps_per_epoch')} steps per "
        f"epoch; best epoch {training.get('epoch')} ({training.get('step')} steps).",
        "",
        "## Held-out accuracy (untransposed windows of held-out pieces)",
        "",
        f"- Overall {validation.get('overall')}; balanced (mean over styles) {validation.get('balanced')}.",
        "",
        table(per_style, ["style", "held-out windows", "accuracy"]),
    ]
    if log_rows:
        parts += [
            "",
            "### Training log",
            "",
            *log_table(log_rows, ["epoch", "step", "train_loss", "val_accuracy", "val_balanced"]),
        ]
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        "python -m engine.data style --nottingham DIR --out data_cache/style_windows.npz",
        "python -m engine.train style-judge --data data_cache/style_windows.npz --out checkpoints/style_judge",
        "python -m engine.evaluate card checkpoints/style_judge",
        "```",
        "",
    ]
    return "\n".join(parts)
