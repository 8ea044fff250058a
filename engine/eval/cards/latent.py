"""The latent sequence model's model card."""

from __future__ import annotations

import json
from pathlib import Path

from engine.eval.cards.common import log_table, stats_table, table
from engine.pipelines.decoding import LatentGenerationConfig


def render_latent_card(checkpoint: Path, log_rows: list[dict], evaluation: dict | None, cross: dict | None) -> str:
    """The model card of the latent sequence model (every figure read from its files)."""
    meta = json.loads((checkpoint / "config.json").read_text())
    generation = LatentGenerationConfig.load(checkpoint)
    cfg, training, validation, vae = (
        meta["config"],
        meta.get("training", {}),
        meta.get("validation", {}),
        meta.get("vae", {}),
    )
    stats = training.get("data_stats", {})
    weights_mb = (checkpoint / "model.safetensors").stat().st_size / 1e6
    parts = [
        "# Latent sequence model (Cadenza)",
        "",
        "A transformer over sequences of EC2-VAE latents (one per 2-bar block, up to 16 blocks = 32 bars), trained "
        "AmMGM-style (Chen, Xia, Dubnov, ICSC 2020) to predict masked blocks from the others, steered by chords "
        "(chroma per beat), chord functions (tonic / subdominant / dominant / other per beat, from each chord's root "
        "in the tune's key) and the rhythm. Cadenza's Song tab (new songs, Continue, Infill) and Compose draw their "
        "latents from it.",
        "",
        "## Model",
        f"- Input per block: z_pitch ({cfg['z_pitch']}-d) and z_rhythm ({cfg['z_rhythm']}-d) where known, else a "
        'learned "unknown" flag; the rhythm pattern (onset/hold/rest per step) where known; chroma and function per '
        "beat; position from the start and from the end.",
        f"- Transformer encoder: {cfg['layers']} layers, width {cfg['d_model']}, {cfg['heads']} heads, feed-forward "
        f"{cfg['ff']}, dropout {cfg['dropout']}.",
        f"- Heads: a mixture of {cfg['mixtures']} diagonal Gaussians over z_pitch and another over z_rhythm for every "
        "block. AmMGM regresses the masked latents with MSE, which returns the average of every plausible answer and "
        "one answer per context; the mixture is trained by negative log-likelihood and *sampled*: a component by its "
        "weight, then its spread, so different seeds give different tunes. Generation fills blocks one at a time "
        "(rhythm before pitch), feeding each sample back, so a sample's blocks agree with each other.",
        f"- Weights: `model.safetensors`, {weights_mb:.1f} MB (float32).",
        f"- Belongs to the EC2-VAE `{vae.get('path', '?')}` (weights fingerprint `{vae.get('fingerprint', '?')}`); "
        "loading it beside other EC2-VAE weights is refused.",
        "",
        "## Training",
        f"- Data: `{training.get('data', '?')}`, {stats.get('tunes', '?')} tunes cut into consecutive 2-bar blocks "
        f"from their first downbeat ({stats.get('windows_per_transposition', '?')} blocks); split by a seeded hash of "
        f"the tune name: {stats.get('train_tunes', '?')} training tunes, {stats.get('val_tunes', '?')} held out. "
        + (
            "Tunes without chord symbols get one triad per bar fitted to the melody."
            if stats.get("prep_version", 1) >= 2
            else "This checkpoint's data was prepared before chords were fitted to tunes without chord symbols: "
            "those few tunes were encoded with no chords (later preparations fit one triad per bar)."
        ),
        f"- Every tune encoded by the EC2-VAE at each of {stats.get('transpositions', '?')} transpositions "
        f"{training.get('transpose', '?')} (posterior means).",
        "- Masks per sequence: one or two random spans (30%), the future after a random point (25%), everything "
        "(25%), scattered blocks (20%); rhythm given as latents (40%), as a pattern only (35%) or not at all (25%) "
        "on the masked blocks.",
        f"- AdamW lr {training.get('lr', '?')} (weight decay {training.get('weight_decay', '?')}), warm-up then "
        f"cosine decay, batch {training.get('batch_size', '?')} sequences of up to {cfg['max_windows']} blocks, "
        f"{training.get('processes', '?')} data-parallel process(es).",
        f"- Checkpoint: epoch {training.get('epoch', '?')}, {training.get('step', '?')} optimiser steps (lowest "
        "validation loss).",
        "",
        "## Validation (held-out tunes, untransposed; NLL in nats per latent dimension, lower is better)",
        "",
        table(
            [
                {
                    "task": task,
                    "pitch NLL": validation.get(f"{task}_pitch_nll", ""),
                    "rhythm NLL": validation.get(f"{task}_rhythm_nll", ""),
                }
                for task in ("infill", "continuation", "free")
            ],
            ["task", "pitch NLL", "rhythm NLL"],
        ),
        "",
        "infill: one span of 1-2 blocks hidden, rhythm latents given; continuation: the second half hidden, rhythm "
        "latents given; free: every block hidden, the rhythm given only as patterns (what Compose asks).",
    ]
    if evaluation:
        m = evaluation.get("melody_stats", {})
        parts += [
            "",
            f"## Evaluation on {evaluation.get('tunes', '?')} held-out tunes (`python -m engine.evaluate song`)",
            "",
            table(
                [
                    {
                        "": "infill, one interior block",
                        "latent model": evaluation.get("infill_token_accuracy"),
                        "slerp of neighbours": evaluation.get("infill_token_accuracy_slerp"),
                        "prior sample": evaluation.get("infill_token_accuracy_prior"),
                    },
                    {
                        "": "infill, onset steps only",
                        "latent model": evaluation.get("infill_onset_accuracy"),
                        "slerp of neighbours": evaluation.get("infill_onset_accuracy_slerp"),
                        "prior sample": evaluation.get("infill_onset_accuracy_prior"),
                    },
                    {"": "continuation (second half)", "latent model": evaluation.get("continuation_token_accuracy")},
                ],
                ["", "latent model", "slerp of neighbours", "prior sample"],
            ),
            "",
            "Token accuracy per step against the real tune (most likely latents, greedy decoding, rhythm given).",
            "",
            f"Compose on each tune's own rhythm and chords, first {m.get('bars', '?')} bars, temperature "
            f"{m.get('temperature', '?')}, beside the real tunes (onset F1 {m.get('onset_f1', '?')}):",
            "",
            stats_table(m),
            "",
            f"Decoding (engine.pipelines.song): latent temperature {generation.temperature}, greedy decoding, a logit "
            f"bonus of {generation.chord_tone_bias} for chord tones at onsets and a penalty of "
            f"{generation.repeat_penalty} on repeating the previous pitch. These three settings were chosen on the "
            "held-out tunes themselves (a small grid, checked on both halves of them apart), so the Compose line is "
            "not an unseen-data figure for them; the model was never trained on these tunes. The prior line is "
            "Compose before this model (each window's pitch latent from N(0, I), decoder temperature 0.5, chord-tone "
            "bonus 3.0).",
        ]
    if evaluation and "song_stats" in evaluation:
        song = evaluation["song_stats"]
        keys = ["repeat_share", "step_share", "leap_share", "chord_tone_share"]
        parts += [
            "",
            "Whole new songs (New song in the Song tab: the model's own rhythm, up to 32 bars) over each held-out "
            "tune's chords (one per bar) and key, beside the whole real tunes:",
            "",
            table(
                [
                    {"": "real tunes", **{k: song["real"].get(k) for k in keys}, "interval_histogram_overlap": 1.0},
                    {
                        "": "new songs",
                        **{k: song["song"].get(k) for k in keys},
                        "interval_histogram_overlap": song["song"].get("interval_histogram_overlap"),
                    },
                ],
                ["", *keys, "interval_histogram_overlap"],
            ),
        ]
    if cross:
        corpora = list(cross.get("corpora", {}))
        rows = [
            {"model trained on": name, **{c: cross["loss"][name].get(c, "") for c in corpora}}
            for name in cross.get("loss", {})
        ]
        parts += [
            "",
            "## Across corpora (`python -m engine.evaluate cross-corpus`)",
            "",
            "Validation loss (mean NLL per latent dimension over the three tasks) of each model on each corpus's "
            "held-out tunes:",
            "",
            table(rows, ["model trained on", *corpora]),
            "",
            "Corpora: "
            + "; ".join(
                f"{c}: `{v['data']}` ({v['train_tunes']} training and {v['val_tunes']} held-out tunes)"
                for c, v in cross.get("corpora", {}).items()
            )
            + ".",
            "",
            "Models: "
            + "; ".join(
                f"{n}: `{m.get('path')}`, trained on `{m.get('data')}` for {m.get('epoch')} epochs ({m.get('step')} "
                "steps)"
                for n, m in cross.get("models", {}).items()
                if isinstance(m, dict)
            )
            + " (only this folder's model ships; the others are "
            "reproduced with the training command below and their `--data`).",
            "",
            "Both use the same EC2-VAE and training settings but for the number of epochs; the O'Neill tunes have no "
            "chord symbols, so theirs are fitted to the melody (one triad per bar), a harmony the Nottingham model "
            "never saw in training.",
        ]
    if log_rows:
        keys = [
            "epoch",
            "step",
            "train_loss",
            "val_infill_pitch_nll",
            "val_continuation_pitch_nll",
            "val_free_pitch_nll",
            "val_free_rhythm_nll",
            "val_loss",
        ]
        parts += ["", "### Training log", "", *log_table(log_rows, keys)]
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        f"python -m engine.train latent --vae {vae.get('path', 'checkpoints/ec2vae')} --data "
        f"{training.get('data', 'DIR')} --out checkpoints/latent --epochs N --procs 2",
        "python -m engine.evaluate song --data DIR --json > song.json",
        "python -m engine.evaluate card checkpoints/latent --eval song.json [--cross-corpus cross.json]",
        "```",
        "",
    ]
    return "\n".join(parts)
