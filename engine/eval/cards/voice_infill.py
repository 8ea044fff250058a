"""The voice infiller's model card (every figure read from config.json, the training log and the evaluation)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.eval.cards.common import blank_none, log_table, table
from engine.eval.cards.harmonizer import arrangement_section
from engine.eval.suites.arrange import ARRANGE_FIGURES


def _writers_side_by_side(shipped: dict, gan: dict) -> list[str]:
    """The same evaluation with Arrange as shipped (each style's writer) and with the GAN writing every style."""
    writers = shipped.get("writers", {})
    lines = [
        "## Arrange as shipped beside the style GAN writing every style (the first design) and the real pieces",
        "",
        "The same melodies, chords and seed; only the writer of the lower voices differs.",
    ]
    for name, label, style in (("chorales", "Bach chorales", "Bach chorale"), ("folk", "English folk", "English folk")):
        if name not in shipped or name not in gan:
            continue
        rows = [
            {"": f"as shipped ({writers.get(style, 'infill')})", **shipped[name]["arranged"]},
            {"": "style GAN", **gan[name]["arranged"]},
            {"": "real", **shipped[name]["real"]},
        ]
        lines += [
            "",
            f"### {label} ({shipped[name]['pieces']} pieces)",
            "",
            table(blank_none(rows), ["", *ARRANGE_FIGURES]),
        ]
    styles_infill = shipped.get("styles", {}).get("judge_in_style", {})
    styles_gan = gan.get("styles", {}).get("judge_in_style", {})
    if styles_infill and styles_gan:
        rows = [
            {"style": s, "as shipped": f"{v} ({writers.get(s, 'infill')})", "style GAN": styles_gan.get(s)}
            for s, v in styles_infill.items()
        ]
        lines += ["", "### The judge per style", "", table(blank_none(rows), ["style", "as shipped", "style GAN"])]
    return lines


def render_voice_infill_card(checkpoint: Path, log_rows: list[dict], evaluation: dict | None) -> str:
    """The voice infiller's model card; ``evaluation``: ``python -m engine.evaluate arrange`` with the infiller
    ("accompaniment") and, for the side-by-side table, the same with the GAN writing ("gan": its "accompaniment")."""
    meta = json.loads((checkpoint / "config.json").read_text())
    cfg, training, validation = meta["config"], meta.get("training", {}), meta.get("validation", {})
    styles = meta.get("styles", [])
    weights_mb = (checkpoint / "model.safetensors").stat().st_size / 1e6
    generation_path = checkpoint / "generation.json"
    generation = json.loads(generation_path.read_text()) if generation_path.exists() else {}
    parts = [
        "# Voice infiller (Cadenza)",
        "",
        "Four-voice windows with any cells masked -> a token for every cell, Coconet-style (Huang et al. 2017): "
        "Arrange writes the three voices under the user's melody with it, or one voice again, in any of the "
        "seven styles.",
        "",
        "## Model (engine/models/voice_infill.py)",
        f"- A window is 4 tracks x {cfg['steps']} sixteenth steps of the 130 melody tokens (pitch onsets, HOLD, "
        f"REST), plus a token for a masked cell. Each step is one position: its four cells' embeddings are joined; "
        f"the last {cfg['context']} steps before the window (all four voices) come first. A {cfg['layers']}-layer "
        f"bidirectional transformer (width {cfg['dim']}, {cfg['heads']} heads) reads them with the style and the "
        f"window's chords (chroma per beat) added; one softmax over 130 tokens per cell. Weights: "
        f"{weights_mb:.2f} MB.",
        f"- Sampling (engine/pipelines/voice_infill.py, generation.json {json.dumps(generation)}): a window at a "
        "time, masked cells drawn in rounds (MaskGIT's cosine schedule: the most confident kept, the rest masked "
        "again); under a known melody a lower voice never strikes at or above it. In Arrange the candidates are "
        "checked after every 2-bar window: all go on from the one the style judge hears in style with the fewest "
        "voice-leading faults. Arrange then draws again, the rest known, the notes that make parallel fifths or "
        "octaves, and keeps the candidate the judge hears most in style, then the one with the fewest faults.",
        "",
        "## Data and training (engine/train/voice_infill.py)",
        f"- The style cache's windows ({', '.join(styles)}), split by piece like the style models': "
        f"{training.get('windows')} training windows. The {training.get('left_out_for_arrange')} windows of the "
        "chorales and Nottingham tunes that the Arrange evaluation arranges (held out by the chord suggester's "
        "split) are left out too.",
        f"- Masks: {training.get('arrange_share')} of examples hide the three lower voices, "
        f"{training.get('voice_share')} one lower voice, the rest Coconet's (each cell hidden with a probability "
        f"drawn from U(0, 1)); chords left out with probability {training.get('chord_drop')}, the bar before with "
        f"{training.get('previous_drop')}; transposed by {training.get('transpose_low')}..."
        f"{training.get('transpose_high')} semitones.",
        f"- AdamW lr {training.get('lr')} (one-cycle), batch {training.get('batch_size')}, "
        f"{training.get('steps_per_epoch')} steps an epoch; best epoch {training.get('epoch')} of "
        f"{training.get('epochs')} ({training.get('step')} steps), on the CPU"
        + (
            " (the run was resumed from its saved state: the log's seconds restart there)."
            if training.get("resume")
            else "."
        ),
        "",
        "## Held-out windows at the best epoch: the three lower voices hidden, the melody known",
        "",
        "Cross-entropy per hidden cell (nats) and the share of hidden cells whose most likely token is the real one.",
        "",
        table(
            [
                {
                    "style": s,
                    "windows": training.get("val_windows", {}).get(s),
                    "loss": validation.get(f"{s}_loss"),
                    "accuracy": validation.get(f"{s}_accuracy"),
                }
                for s in styles
            ]
            + [
                {"style": "mean", "windows": "", "loss": validation.get("loss"), "accuracy": validation.get("accuracy")}
            ],
            ["style", "windows", "loss", "accuracy"],
        ),
    ]
    accompaniment = (evaluation or {}).get("accompaniment")
    if accompaniment:
        parts += ["", *arrangement_section(accompaniment)]
        gan_run = (evaluation or {}).get("gan", {})
        gan = gan_run.get("accompaniment")
        if gan:
            parts += ["", *_writers_side_by_side(accompaniment, gan)]
            if gan_run.get("note"):
                parts += ["", f"The style GAN's figures: {gan_run['note']}."]
    if log_rows:
        parts += [
            "",
            "### Training log",
            "",
            *log_table(log_rows, ["epoch", "step", "elapsed_s", "train_loss", "val_loss", "val_accuracy"]),
        ]
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        "python -m engine.data style --nottingham DIR --out data_cache/style_windows.npz",
        "python -m engine.train voice-infill --data data_cache/style_windows.npz --out checkpoints/voice_infill",
        "python -m engine.evaluate arrange --data DIR --no-harmony --json > infill.json",
        "python -m engine.evaluate arrange --data DIR --no-harmony --infiller '' --json > gan.json",
        "python -m engine.evaluate card checkpoints/voice_infill --eval arrange_both.json",
        "```",
        "",
        '(`arrange_both.json`: infill.json with gan.json under the key "gan".)',
        "",
    ]
    return "\n".join(parts)
