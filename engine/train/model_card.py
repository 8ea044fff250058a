"""Write a checkpoint's README.md model card from the figures the training run logged.

    python -m engine.train.model_card checkpoints/ec2vae [--eval eval.json] [--log runs/ec2vae/train_log.jsonl]
    python -m engine.train.model_card checkpoints/latent [--eval song.json] [--cross-corpus cross.json] [--log ...]
    python -m engine.train.model_card checkpoints/stylegan [--eval style.json] [--log ...]

Every number in the card is read from config.json, the training log or an
evaluation JSON written by ``python -m engine.evaluate``; nothing is typed in.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

# The style GAN's repeat penalty under its own name: the song pipeline's REPEAT_PENALTY (2.0) is a different setting.
from engine.models.style_gan import KEY_PENALTY, LEAP_CAP, LEAP_PENALTY, SAMPLE_TEMPERATURE, SAMPLE_TOP_P
from engine.models.style_gan import REPEAT_PENALTY as GAN_REPEAT_PENALTY
from engine.pipelines.song import CHORD_TONE_BIAS, DEFAULT_TEMPERATURE, REPEAT_PENALTY
from engine.style_metrics import METRICS


def _table(rows: list[dict], keys: list[str]) -> str:
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(k, "")) for k in keys) + " |")
    return "\n".join(lines)


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


def _stats_table(stats: dict) -> str:
    rows = []
    labels = {
        "real": "real tunes",
        "composed": "Compose (latent model)",
        "composed_no_bias": "Compose (latent model, no bonus or penalty)",
        "composed_prior": "Compose (prior N(0, I), before)",
    }
    for name, label in labels.items():
        if name in stats:
            rows.append(
                {
                    "": label,
                    **{
                        k: stats[name].get(k, "")
                        for k in (
                            "repeat_share",
                            "step_share",
                            "leap_share",
                            "chord_tone_share",
                            "interval_histogram_overlap",
                        )
                    },
                }
            )
    return _table(
        rows, ["", "repeat_share", "step_share", "leap_share", "chord_tone_share", "interval_histogram_overlap"]
    )


def render_latent_card(checkpoint: Path, log_rows: list[dict], evaluation: dict | None, cross: dict | None) -> str:
    """The model card of the latent sequence model (every figure read from its files)."""
    meta = json.loads((checkpoint / "config.json").read_text())
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
        f"- Input per block: z_pitch ({cfg['z_pitch']}-d) and z_rhythm ({cfg['z_rhythm']}-d) where known, else a learned "
        '"unknown" flag; the rhythm pattern (onset/hold/rest per step) where known; chroma and function per beat; '
        "position from the start and from the end.",
        f"- Transformer encoder: {cfg['layers']} layers, width {cfg['d_model']}, {cfg['heads']} heads, feed-forward {cfg['ff']}, "
        f"dropout {cfg['dropout']}.",
        f"- Heads: a mixture of {cfg['mixtures']} diagonal Gaussians over z_pitch and another over z_rhythm for every block. "
        "AmMGM regresses the masked latents with MSE, which returns the average of every plausible answer and one answer "
        "per context; the mixture is trained by negative log-likelihood and *sampled*: a component by its weight, then its "
        "spread, so different seeds give different tunes. Generation fills blocks one at a time (rhythm before pitch), "
        "feeding each sample back, so a sample's blocks agree with each other.",
        f"- Weights: `model.safetensors`, {weights_mb:.1f} MB (float32).",
        f"- Belongs to the EC2-VAE `{vae.get('path', '?')}` (weights fingerprint `{vae.get('fingerprint', '?')}`); "
        "loading it beside other EC2-VAE weights is refused.",
        "",
        "## Training",
        f"- Data: `{training.get('data', '?')}`, {stats.get('tunes', '?')} tunes cut into consecutive 2-bar blocks from "
        f"their first downbeat ({stats.get('windows_per_transposition', '?')} blocks); split by a seeded hash of the tune name: "
        f"{stats.get('train_tunes', '?')} training tunes, {stats.get('val_tunes', '?')} held out. "
        + (
            "Tunes without chord symbols get one triad per bar fitted to the melody."
            if stats.get("prep_version", 1) >= 2
            else "This checkpoint's data was prepared before chords were fitted to tunes without chord symbols: "
            "those few tunes were encoded with no chords (later preparations fit one triad per bar)."
        ),
        f"- Every tune encoded by the EC2-VAE at each of {stats.get('transpositions', '?')} transpositions "
        f"{training.get('transpose', '?')} (posterior means).",
        "- Masks per sequence: one or two random spans (30%), the future after a random point (25%), everything (25%), "
        "scattered blocks (20%); rhythm given as latents (40%), as a pattern only (35%) or not at all (25%) on the masked blocks.",
        f"- AdamW lr {training.get('lr', '?')} (weight decay {training.get('weight_decay', '?')}), warm-up then cosine decay, "
        f"batch {training.get('batch_size', '?')} sequences of up to {cfg['max_windows']} blocks, "
        f"{training.get('processes', '?')} data-parallel process(es).",
        f"- Checkpoint: epoch {training.get('epoch', '?')}, {training.get('step', '?')} optimiser steps (lowest validation loss).",
        "",
        "## Validation (held-out tunes, untransposed; NLL in nats per latent dimension, lower is better)",
        "",
        _table(
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
        "infill: one span of 1-2 blocks hidden, rhythm latents given; continuation: the second half hidden, rhythm latents "
        "given; free: every block hidden, the rhythm given only as patterns (what Compose asks).",
    ]
    if evaluation:
        m = evaluation.get("melody_stats", {})
        parts += [
            "",
            f"## Evaluation on {evaluation.get('tunes', '?')} held-out tunes (`python -m engine.evaluate song`)",
            "",
            _table(
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
            f"Compose on each tune's own rhythm and chords, first {m.get('bars', '?')} bars, temperature {m.get('temperature', '?')}, "
            f"beside the real tunes (onset F1 {m.get('onset_f1', '?')}):",
            "",
            _stats_table(m),
            "",
            f"Decoding (engine.pipelines.song): latent temperature {DEFAULT_TEMPERATURE}, greedy decoding, a logit bonus of "
            f"{CHORD_TONE_BIAS} for chord tones at onsets and a penalty of {REPEAT_PENALTY} on repeating the previous pitch. "
            "These three settings were chosen on the held-out tunes themselves (a small grid, checked on both halves of "
            "them apart), so the Compose line is not an unseen-data figure for them; the model was never trained on these tunes. "
            "The prior line is Compose before this model (each window's pitch latent from N(0, I), decoder temperature "
            "0.5, chord-tone bonus 3.0).",
        ]
    if evaluation and "song_stats" in evaluation:
        song = evaluation["song_stats"]
        keys = ["repeat_share", "step_share", "leap_share", "chord_tone_share"]
        parts += [
            "",
            "Whole new songs (New song in the Song tab: the model's own rhythm, up to 32 bars) over each held-out "
            "tune's chords (one per bar) and key, beside the whole real tunes:",
            "",
            _table(
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
            "Validation loss (mean NLL per latent dimension over the three tasks) of each model on each corpus's held-out tunes:",
            "",
            _table(rows, ["model trained on", *corpora]),
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
                f"{n}: `{m.get('path')}`, trained on `{m.get('data')}` for {m.get('epoch')} epochs "
                f"({m.get('step')} steps)"
                for n, m in cross.get("models", {}).items()
                if isinstance(m, dict)
            )
            + " (only this folder's model ships; the others are "
            "reproduced with the training command below and their `--data`).",
            "",
            "Both use the same EC2-VAE and training settings but for the number of epochs; the O'Neill tunes have no chord symbols, so theirs are fitted "
            "to the melody (one triad per bar), a harmony the Nottingham model never saw in training.",
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
        parts += ["", "### Training log", "", _table(log_rows, keys)]
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        f"python -m engine.train latent --vae {vae.get('path', 'checkpoints/ec2vae')} --data {training.get('data', 'DIR')} "
        f"--out checkpoints/latent --epochs N --procs 2",
        "python -m engine.evaluate song --data DIR --json > song.json",
        "python -m engine.train.model_card checkpoints/latent --eval song.json [--cross-corpus cross.json]",
        "```",
        "",
    ]
    return "\n".join(parts)


def render_abc_card(checkpoint: Path, log_rows: list[dict], evaluation: dict | None) -> str:
    """The model card of the ABC emotion model (every figure read from its files)."""
    meta = json.loads((checkpoint / "config.json").read_text())
    cfg, training, validation = meta["config"], meta.get("training", {}), meta.get("validation", {})
    stats = training.get("data_stats", {})
    weights_mb = (checkpoint / "model.safetensors").stat().st_size / 1e6
    labels = [{"split": split, **stats.get(f"labels_{split}", {})} for split in ("train", "val")]
    parts = [
        "# ABC emotion model (Cadenza)",
        "",
        "A transformer language model over ABC text prompted with a Russell quadrant (Q1 happy, Q2 tense, Q3 sad, "
        "Q4 calm), after EMusicGen (arXiv 2309.13259); Cadenza's Emotion tab and `python -m engine.generate emotion` "
        "sample it inside a token grammar and apply EMusicGen's feature template (tempo, mode, register, loudness).",
        "",
        "## Model",
        f"- Tokens: ABC's own units (a header line, a note or rest with its duration, tie and following space, a bar "
        f"line, a tuplet sign, a line break; single characters otherwise): {cfg['vocab_size']} in the vocabulary; "
        f"{validation.get('tokens_per_char', '?')} tokens per character of held-out ABC.",
        f"- Decoder-only transformer: {cfg['layers']} layers, width {cfg['d_model']}, {cfg['heads']} heads, context "
        f"{cfg['context']} tokens, dropout {cfg['dropout']}, output tied to the input embedding.",
        f"- Weights: `model.safetensors`, {weights_mb:.1f} MB (float32).",
        "- A text is `A:<quadrant>`, `B:<bars>`, then the tune's `M:`, `L:`, `K:` and body. EMusicGen's TunesFormer "
        "uses bar patches and a character decoder; this model is one flat transformer over ABC tokens, smaller, to "
        "train on two CPU cores; no comparison of the two was run.",
        "",
        "## Data and labels",
        f"- Collections: {', '.join(f'{name} {count}' for name, count in stats.get('sources', {}).items())} tunes "
        f"(`{'`, `'.join(training.get('data', []))}`), cleaned to melody only (no chord symbols, decorations, grace "
        f"notes, lyrics) and kept when music21 reads at least 8 notes: {stats.get('tunes', '?')} tunes; "
        f"{stats.get('train_tunes', '?')} for training, {stats.get('val_tunes', '?')} held out (a seeded hash of the tune's source).",
        "- Labels as EMusicGen makes them (rough): valence from the mode of music21's key analysis of the notes, "
        f"arousal from the standard deviation of the MIDI pitches split at the corpus median ({stats.get('pitch_sd_median', 0):.3f} semitones).",
        "",
        "Label distribution:",
        "",
        _table(labels, ["split", "Q1", "Q2", "Q3", "Q4"]),
        "",
        f"- Augmentation: every epoch each tune moves by a random interval in {training.get('transpose', '?')} semitones, "
        "respelled in the new key (engine.abc_text.transpose_abc).",
        f"- AdamW lr {training.get('lr', '?')} (weight decay {training.get('weight_decay', '?')}), warm-up then cosine decay, batch "
        f"{training.get('batch_size', '?')}, {training.get('processes', '?')} data-parallel process(es); checkpoint: epoch "
        f"{training.get('epoch', '?')}, {training.get('step', '?')} steps (lowest held-out loss).",
        "",
        "## Validation (held-out tunes, untransposed)",
        f"- {validation.get('nll_per_token', '?')} nats per token, {validation.get('bits_per_char', '?')} bits per character of ABC.",
        f"- The feature judge (mode of the notes, pitch spread, mean pitch, notes per bar -> quadrant; softmax regression, "
        f"stored in config.json) on held-out real tunes: accuracy {stats.get('judge_accuracy_val', '?')}.",
    ]
    if evaluation:
        parts += [
            "",
            "## Evaluation (`python -m engine.evaluate emotion`)",
            "",
            f"{evaluation.get('samples', '?')} tunes of {evaluation.get('bars', '?')} bars, a quarter per quadrant, fixed seeds. "
            "The pipeline draws a tune again when music21 cannot read it, when its notes do not sound in the asked mode "
            "or when one bar repeats more than three times in a row: `mode_accuracy_raw` is measured after that check, "
            f"`mode_accuracy_first_draw` ({evaluation.get('mode_accuracy_first_draw', '?')}) on the first readable draw, the "
            f"model alone; the check costs {evaluation.get('draws_per_tune_mean', '?')} draws per tune on average.",
            "",
            "```json",
            json.dumps(evaluation, indent=2),
            "```",
        ]
    if log_rows:
        keys = ["epoch", "step", "train_nll_per_token", "val_nll_per_token", "val_bits_per_char"]
        parts += ["", "### Training log", "", _table(log_rows, keys)]
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        "python -m engine.train abc --data "
        + " ".join(training.get("data", ["DIR"]))
        + " --out checkpoints/abc_emotion --procs 2",
        "python -m engine.evaluate emotion --samples 100 --json > emotion.json",
        "python -m engine.train.model_card checkpoints/abc_emotion --eval emotion.json",
        "```",
        "",
    ]
    return "\n".join(parts)


def _style_counts_table(training: dict) -> str:
    counts = training.get("data_counts", {})
    rows = [
        {
            "style": name,
            "pieces": c.get("pieces"),
            "windows (before transposition)": c.get("windows"),
            "with transposition -5..+6": 12 * int(c.get("windows") or 0),
        }
        for name, c in counts.items()
    ]
    return _table(rows, ["style", "pieces", "windows (before transposition)", "with transposition -5..+6"])


def render_musae_card(
    checkpoint: Path, log_rows: list[dict], evaluation: dict | None, encoder: Path | None = None
) -> str:
    """The model card of MusAE or its VAE baseline (every figure read from its files). ``encoder``: the checkpoint
    folder (config.json, train_log.jsonl) whose frozen encoder a decoder-only run (``--decoder-from``) trained on,
    shown as its first stage."""
    meta = json.loads((checkpoint / "config.json").read_text())
    cfg, training, validation = meta["config"], meta.get("training", {}), meta.get("validation", {})
    weights_mb = (checkpoint / "model.safetensors").stat().st_size / 1e6
    is_vae = cfg.get("kind") == "vae"
    greedy, forced = validation.get("greedy", {}), validation.get("teacher_forced", {})
    two_stage = bool(training.get("decoder_from"))
    if cfg.get("joint"):
        decoder = (
            f"- Decoder: one GRU ({cfg['joint_hidden']}) for all four tracks, autoregressive over 32 steps, fed z, the "
            "style code and the previous step's four tokens; at each step the tracks are drawn in order, each "
            f"track's head (a {cfg['hidden']}-unit layer) reading the GRU's state and the tokens the tracks above it "
            "have just drawn; 130 tokens per step (EC2-VAE's)."
        )
    else:
        decoder = (
            f"- Decoder: one GRU ({cfg['hidden']}) per track, autoregressive over 32 steps, fed z, the style code and "
            "the previous token; 130 tokens per step (EC2-VAE's)."
        )
    parts = [
        f"# {'VAE baseline of MusAE' if is_vae else 'MusAE'} (Cadenza)",
        "",
        (
            "The same encoder and decoder as Cadenza's MusAE, trained as a VAE (KL to N(0, I)): the baseline MusAE is "
            "measured against."
            if is_vae
            else "An adversarial autoencoder over four-track 2-bar windows whose latent prior is a Gaussian mixture with one "
            "component per style (after Valenti, Carta and Bacciu, ECAI 2020), smaller, to train on two CPU cores."
        ),
        "",
        "## Model (engine/models/musae.py)",
        f"- Encoder: token and track embeddings ({cfg['embed']}), a 2-layer bidirectional GRU ({cfg['hidden']}) -> z "
        f"({cfg['z_dims']} dimensions{', mean and log-variance' if is_vae else ''}).",
        decoder,
        (
            "- Prior: N(0, I); the KL per dimension is held at least at the free bits below (Kingma et al. 2016), so the "
            "autoregressive decoder cannot learn to ignore the code."
            if is_vae
            else f"- Prior: one unit-variance Gaussian per style, means on a circle of radius {cfg['prior_radius']} in the first two "
            "dimensions; a WGAN-GP critic on z with one head per style pulls each style's codes into its component."
        ),
        *(
            [
                (
                    "- Decoding keeps each track inside the pitches its voice strikes in the style's training windows, widened by "
                    "the transposition interval (config.json `pitch_ranges`; a track that never plays in a style stays silent)"
                    + (
                        ", recorded after training by `python -m engine.train.pitch_ranges`."
                        if training.get("pitch_ranges_added")
                        else "."
                    )
                )
            ]
            if cfg.get("pitch_ranges")
            else []
        ),
        f"- Weights: {weights_mb:.1f} MB.",
        "",
        "## Data (engine/train/style_data.py)",
        "",
        _style_counts_table(training),
        "",
        f"- Split by piece: {training.get('train_windows')} training windows, {training.get('val_windows')} held out. Batches draw "
        f"every style equally often, transposed in [{training.get('transpose_low')}, {training.get('transpose_high')}].",
        *(
            _two_stage_training(training, encoder, log_rows, is_vae)
            if two_stage
            else [
                f"- Adam lr {training.get('lr')}, batch {training.get('batch_size')}, {training.get('steps_per_epoch')} steps per epoch; "
                f"{'KL' if is_vae else 'critic'} weight annealed 0 -> {training.get('reg_weight')} over the first "
                f"{training.get('anneal')} of the steps (of the last run start's plan: see the phases below); checkpoint: epoch "
                f"{training.get('epoch')} ({training.get('step')} steps, best greedy held-out reconstruction).",
                "",
                *_musae_phases(log_rows, is_vae),
            ]
        ),
        "## Held-out reconstruction (at the checkpoint)",
        f"- Greedy (decoded from the code alone, {greedy.get('windows')} windows): per track {greedy.get('per_track')}, mean "
        f"{greedy.get('mean')}.",
        f"- Teacher-forced (every held-out window): per track {forced.get('per_track')}, mean {forced.get('mean')}.",
    ]
    latent = validation.get("latent")
    if latent:
        parts.append(
            f"- Held-out codes against the prior: mean squared distance to their {'prior mean' if is_vae else 'style component mean'} "
            f"per dimension {latent['prior_fit']} (1.0 for the prior's own samples); nearest to their own style's "
            f"component: {latent['component_accuracy']}{' (one component: meaningless for the VAE)' if is_vae else ''}."
        )
    if evaluation:
        parts += [
            "",
            "## Evaluation (`python -m engine.evaluate style`)",
            "",
            *_style_headline(evaluation),
            "",
            "<details><summary>The whole evaluation JSON</summary>",
            "",
            "```json",
            json.dumps(evaluation, indent=2),
            "```",
            "",
            "</details>",
        ]
    if log_rows:
        keys = [
            "epoch",
            "step",
            "recon_loss",
            "reg",
            "critic_loss",
            "reg_weight",
            "val_teacher_forced",
            "val_greedy",
            "val_prior_fit",
            "val_component_accuracy",
        ]
        if two_stage:  # the decoder's run has no regulariser: its codes are the frozen encoder's
            keys = [k for k in keys if k not in ("reg", "critic_loss", "reg_weight")]
        parts += [
            "",
            f"### Training log{' (the decoder stage)' if two_stage else ''}",
            "",
            *([] if two_stage else ["`reg`: minus the critic's score of the codes (MusAE), the KL in nats (VAE).", ""]),
            _table([r for r in log_rows if "epoch" in r], keys),
        ]
    flag = " --baseline vae" if is_vae else ""
    if two_stage:  # the decoder's run as it was started and resumed (its log's run starts)
        starts = [r for r in log_rows if "run_start" in r] or [
            {"epochs": training.get("epochs"), "lr": training.get("lr")}
        ]
        base = "runs/vae_encoder" if is_vae else "runs/musae_encoder"
        decoder_runs = [
            f"python -m engine.train musae{flag} --decoder-from {base}{' --joint' if cfg.get('joint') else ''} "
            f"--epochs {r.get('epochs')} --lr {r.get('lr')} --out {checkpoint}{' --resume' if i else ''}"
            for i, r in enumerate(starts)
        ]
        train = [
            f"python -m engine.train musae{flag} --data data_cache/style_windows.npz --out {base}  # then the phases above",
            *decoder_runs,
            *([f"python -m engine.train.pitch_ranges {checkpoint}"] if training.get("pitch_ranges_added") else []),
            f"python -m engine.train.model_card {checkpoint} --encoder {base} [--eval style.json]",
        ]
    else:
        train = [
            f"python -m engine.train musae{flag} --data data_cache/style_windows.npz --out {checkpoint}",
            *([f"python -m engine.train.pitch_ranges {checkpoint}"] if training.get("pitch_ranges_added") else []),
            f"python -m engine.train.model_card {checkpoint} [--eval style.json]",
        ]
    parts += ["", "## Reproduce", "", "```", *train, "```", ""]
    return "\n".join(parts)


def _two_stage_training(training: dict, encoder: Path | None, log_rows: list[dict], is_vae: bool = False) -> list[str]:
    """How a MusAE (or VAE) whose decoder was trained on a frozen encoder (``--decoder-from``) came to be: the
    encoder's run (its checkpoint's epoch and its log's phases, from the ``encoder`` folder), then the decoder's
    (``log_rows``)."""
    first = (
        "1. **Encoder and prior**: a whole VAE (encoder, per-track decoders) trained with its KL term; "
        if is_vae
        else "1. **Encoder, prior and critic**: a whole MusAE (encoder, per-track decoders, critic) trained adversarially; "
    )
    lines = [
        "",
        "Two stages:",
        "",
        first + "its encoder and token table were then frozen, so the codes and their fit to the prior are that run's.",
    ]
    if encoder is not None:
        base = json.loads((encoder / "config.json").read_text()).get("training", {})
        log = encoder / "train_log.jsonl"
        rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        last = [r for r in rows if "epoch" in r][-1:] or [{}]
        lines.append(
            f"   Its checkpoint: epoch {base.get('epoch')} ({base.get('step')} steps, the best greedy held-out "
            f"reconstruction) of a run logged to epoch {last[0].get('epoch')}, Adam lr {base.get('lr')}, batch "
            f"{base.get('batch_size')}; its phases:"
        )
        lines += ["   " + line for line in _musae_phases(rows, is_vae)[1:-1]]
    starts = [r for r in log_rows if "run_start" in r]
    rates = "; ".join(f"from epoch {r['run_start']} (of {r.get('epochs')}) lr {r.get('lr')}" for r in starts)
    lines += [
        f"2. **Decoder**: trained from scratch on the frozen encoder's codes of the same batches (reconstruction only: "
        f"the codes do not move, so no {'KL term' if is_vae else 'critic'}), Adam, batch {training.get('batch_size')}, "
        f"{training.get('steps_per_epoch')} steps per epoch ({rates or 'lr ' + str(training.get('lr'))}); "
        f"checkpoint: epoch {training.get('epoch')} ({training.get('step')} steps, best greedy held-out "
        "reconstruction).",
        "",
    ]
    return lines


def _style_headline(evaluation: dict) -> list[str]:
    """The style evaluation's figures that have targets, one table row each (what the JSON holds, nothing else)."""

    def get(key: str, field: str = "mean"):
        value = evaluation.get(key)
        return value.get(field) if isinstance(value, dict) else value

    rows = [
        (
            "the style judge on real held-out windows (balanced over styles)",
            get("judge_accuracy_real", "balanced"),
            ">= 0.9",
        ),
        (
            "MusAE, greedy reconstruction of held-out windows (mean of tracks)",
            get("recon_accuracy_musae"),
            ">= the VAE's",
        ),
        ("VAE baseline, the same", get("recon_accuracy_vae"), ""),
        (
            "the same for the real onsets only (exact pitch): MusAE / VAE",
            f"{get('recon_accuracy_musae', 'onset_accuracy')} / {get('recon_accuracy_vae', 'onset_accuracy')}",
            "",
        ),
        (
            f"MusAE samples judged as the asked style, first draw (temperature {evaluation.get('sample_temperature')}"
            + (
                f", prior narrowed to {evaluation['sample_prior_scale']} of its spread: the studio's sampling)"
                if "sample_prior_scale" in evaluation
                else ")"
            ),
            get("sample_style_accuracy_musae"),
            ">= 0.85",
        ),
        ("the same from the whole prior component (scale 1.0)", get("sample_style_accuracy_musae_full_prior"), ""),
        (
            f"the same after the studio's draw and check (best of {get('sample_style_accuracy_musae_checked', 'candidates')}, "
            "by the same judge)",
            get("sample_style_accuracy_musae_checked"),
            "",
        ),
        ("VAE samples judged as the asked style, first draw", get("sample_style_accuracy_vae"), ""),
        ("transferred held-out windows judged as the target style", get("transfer_style_accuracy"), ""),
        (
            "k-NN style purity of held-out codes: MusAE / VAE",
            f"{get('latent_style_purity_musae')} / {get('latent_style_purity_vae')}",
            "",
        ),
    ]
    lines = ["| figure | measured | target |", "|---|---|---|"]
    lines += [f"| {what} | {value} | {target} |" for what, value, target in rows if value not in (None, "None / None")]
    sweep = evaluation.get("sample_style_accuracy_musae_by_temperature")
    if sweep:
        lines += [
            "",
            "First-draw samples judged as the asked style by decoding temperature (another seed): "
            + ", ".join(f"{t}: {v}" for t, v in sweep.items())
            + ". The pipeline decodes at the best of these.",
        ]
    scales = evaluation.get("sample_style_accuracy_musae_by_prior_scale")
    if scales:
        lines += [
            "",
            "The same by the prior's scale (yet another seed; the studio's temperature): "
            + ", ".join(f"{k}: {v}" for k, v in scales.items())
            + ". Narrower codes stay where the encoder put real "
            "windows of the style, at the cost of variety.",
        ]
    per_style = (
        evaluation.get("sample_style_accuracy_musae", {}).get("per_style")
        if isinstance(evaluation.get("sample_style_accuracy_musae"), dict)
        else None
    )
    if per_style:
        lines += ["", "MusAE first draw per style: " + ", ".join(f"{k} {v}" for k, v in per_style.items()) + "."]
    return lines


def _musae_phases(log_rows: list[dict], is_vae: bool) -> list[str]:
    """The settings of each (re)start of the run, from the log's ``run_start`` rows: a resumed run can change them."""
    starts = [r for r in log_rows if "run_start" in r]
    if not starts:
        return []
    lines = ["## Training phases (the log's run starts)"]
    for r in starts:
        what = (
            f"KL weight {r.get('reg_weight')}, free bits {r.get('free_bits')} nats per dimension"
            if is_vae
            else f"critic weight {r.get('reg_weight')}, critic updates per step: {r.get('critic_steps')} at lr {r.get('critic_lr')}"
        )
        note = f"; critic: {r['critic']}" if r.get("critic") else ""
        lines.append(
            f"- From epoch {r['run_start']} (of {r.get('epochs')}): {what}, autoencoder lr {r.get('lr')}{note}."
        )
    return lines + [""]


def _weights_summary(path: Path) -> tuple[int | None, str]:
    """(parameter count, dtypes) of a safetensors file, read from its header (nothing loaded)."""
    try:
        from safetensors import safe_open

        count, dtypes = 0, set()
        with safe_open(str(path), framework="pt") as f:
            for key in f.keys():
                part = f.get_slice(key)
                count += int(np.prod(part.get_shape()))
                dtypes.add(str(part.get_dtype()))
        return count, "/".join(sorted(dtypes))
    except Exception:  # a card must render even when the weights cannot be read
        return None, "?"


def _mean(values) -> float | None:
    """Mean of the defined values of a list (per track) or dict (per track pair), rounded; None when none is."""
    if isinstance(values, dict):
        values = list(values.values())
    defined = [v for v in (values or []) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return round(float(np.mean(defined)), 4) if defined else None


def _metric_rows(sources: dict[str, dict], track_means: bool = False) -> list[dict]:
    """Rows lining up MuseGAN's metrics ({source: {style: window_metrics}}) per style, metric and track (or track
    pair), or per style and metric with the tracks' mean when ``track_means``; None (missing) shows as an empty cell."""
    styles = list(dict.fromkeys(s for by_style in sources.values() for s in (by_style or {})))
    rows = []
    for style in styles:
        for metric in METRICS:
            present = [
                by_style[style][metric]
                for by_style in sources.values()
                if style in (by_style or {}) and isinstance(by_style[style], dict) and metric in by_style[style]
            ]
            if not present:
                continue
            if track_means:
                row = {"style": style, "metric": metric}
                for name, by_style in sources.items():
                    row[name] = _mean((by_style or {}).get(style, {}).get(metric))
                rows.append(row)
                continue
            keys = list(present[0]) if isinstance(present[0], dict) else list(range(len(present[0])))
            for key in keys:
                row = {"style": style, "metric": metric, "track": key}
                for name, by_style in sources.items():
                    value = (by_style or {}).get(style, {}).get(metric)
                    if isinstance(value, dict):
                        row[name] = value.get(key)
                    elif isinstance(value, list) and key < len(value):
                        row[name] = value[key]
                    else:
                        row[name] = None
                rows.append(row)
    return [{k: ("" if v is None else v) for k, v in row.items()} for row in rows]


def _accuracy_rows(evaluation: dict, labels: dict[str, str]) -> list[dict]:
    """One row per style (and the mean) of the evaluation's sample accuracies named in ``labels``."""
    present = {key: evaluation[key] for key in labels if isinstance(evaluation.get(key), dict)}
    styles = list(dict.fromkeys(s for v in present.values() for s in v.get("per_style", {})))
    rows = [{"style": s, **{labels[k]: v.get("per_style", {}).get(s, "") for k, v in present.items()}} for s in styles]
    if present:
        rows.append(
            {"style": "**mean**", **{labels[k]: v.get("mean", v.get("balanced", "")) for k, v in present.items()}}
        )
    return [{k: ("" if v is None else v) for k, v in row.items()} for row in rows]


def _blank_none(rows: list[dict]) -> list[dict]:
    """Rows with None shown as an empty cell."""
    return [{k: ("" if v is None else v) for k, v in row.items()} for row in rows]


def _chord_gains(weights: Path) -> list[float] | None:
    """The style GAN's chord-skip gains per track, or None (no weights, or a generator without the skip)."""
    if not weights.exists():
        return None
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        return f.get_tensor("chord_skip.gain").tolist() if "chord_skip.gain" in f.keys() else None


def render_stylegan_card(checkpoint: Path, log_rows: list[dict], evaluation: dict | None) -> str:
    """The style GAN's model card (every figure read from its files; a debug run's card renders too)."""
    meta = json.loads((checkpoint / "config.json").read_text())
    cfg, training, ev = meta.get("config", {}), meta.get("training", {}), meta.get("evaluation", {})
    weights = checkpoint / "model.safetensors"
    weights_mb = weights.stat().st_size / 1e6 if weights.exists() else None
    params, dtypes = _weights_summary(weights) if weights.exists() else (None, "?")
    tracks, noise, track_noise = cfg.get("tracks"), cfg.get("noise_dims"), cfg.get("track_noise_dims")
    noise_size = noise + tracks * track_noise if all(isinstance(v, int) for v in (noise, tracks, track_noise)) else "?"
    starts = [r for r in log_rows if "run_start" in r]
    epochs = [r for r in log_rows if "epoch" in r and "run_start" not in r]
    steps = training.get("steps_per_epoch")
    total_epochs = (
        starts[-1].get("epochs") if starts and starts[-1].get("epochs") is not None else training.get("epochs")
    )
    judge_balanced = ev.get("judge_balanced")
    # The epoch the trainer's score would pick among those logged since the best was last chosen afresh.
    since = [r for r in epochs if r.get("score") is not None and r["epoch"] >= (training.get("best_since") or 1)]
    best_logged = max(since, key=lambda r: r["score"]) if since else None
    parts = [
        "# Style GAN (Cadenza)",
        "",
        "A convolutional generator of four-track 2-bar windows (32 sixteenth steps, one monophonic voice per track) "
        "conditioned on a style, the chords (chroma per beat) and the previous window, trained against a WGAN-GP critic "
        "with an AC-GAN style head (a classifier of the window's style beside the Wasserstein score); MidiNet / "
        "MuseGAN-like (shared and per-track noise, MidiNet's previous-bar conditioner). "
        "Cadenza's style pipeline chains its windows into pieces and checks them with the style judge.",
        "",
        "## Model (engine/models/style_gan.py)",
        f"- Styles: {', '.join(str(s) for s in meta.get('styles', [])) or '?'} ({cfg.get('num_styles', '?')}), "
        f"embedded in {cfg.get('style_dims', '?')} dimensions.",
        f"- Noise: {noise if noise is not None else '?'} shared dimensions plus {track_noise if track_noise is not None else '?'} "
        f"per track for {tracks if tracks is not None else '?'} tracks ({noise_size} in all).",
        f"- Generator: a linear layer to a map at time resolution 4, then transposed convolutions to 32 steps, widths "
        f"{cfg.get('gen_widths', '?')} at resolutions 4, 8, 16, 32; per-track (private) layers of {cfg.get('private_width', '?')} "
        f"channels give one categorical over 130 tokens per track and step. Chords and the previous window's "
        f"conditioner (token embedding {cfg.get('cond_embed', '?')}, {cfg.get('cond_channels', '?')} channels) enter at "
        "every resolution, and a chord skip adds a learned gain per track to the logits of the beat's chord tones"
        + (
            f" (gains at the checkpoint: {', '.join(f'{g:.2f}' for g in gains)})."
            if (gains := _chord_gains(weights))
            else "."
        )
        + (
            " A rest gate reads each track's private features over each bar and gives the chance that the bar rests "
            "whole (the steps' own draws almost never rest 16 times in a row): drawn once per bar in training, and in sampling "
            "a bar rests where that chance is over even odds."
            if cfg.get("bar_gate")
            else ""
        )
        + f" Windows are sampled from these categoricals at temperature {SAMPLE_TEMPERATURE}, as the critic saw them, "
        f"from each step's nucleus (top-p {SAMPLE_TOP_P}), step by step with each track's logit for the pitch it last struck "
        f"lowered by {GAN_REPEAT_PENALTY} (the repeat penalty), the top voice's for each pitch by {LEAP_PENALTY} per semitone "
        f"beyond a whole tone from it (the leap penalty, up to {LEAP_CAP} semitones beyond), and, in the final draw, "
        f"every pitch outside the window's key and the chord at that step by {KEY_PENALTY} (the key penalty)"
        + (
            ", inside each track's pitch range in the style (the training windows' lowest and highest notes, widened by the "
            "transposition interval; tracks that never play in a style stay silent)"
            if cfg.get("pitch_ranges")
            else ""
        )
        + ". A window asked for without chords is drawn twice: a sketch, then again from the same noise over the triads "
        "that fit the sketch, so its voices share a harmony.",
        f"- Critic (training only, not shipped): token embedding {cfg.get('critic_embed', '?')}, widths "
        f"{cfg.get('critic_widths', '?')} at resolutions 32, 16, 8, score head {cfg.get('critic_joint', '?')} channels; its "
        "style head reads the window alone, the score head the window with its conditions. Straight-through "
        "Gumbel-softmax samples of the generator feed it.",
        f"- Weights (generator only): `model.safetensors`, "
        f"{f'{params:,}' if params is not None else '?'} parameters, "
        f"{f'{weights_mb:.2f}' if weights_mb is not None else '?'} MB ({dtypes}).",
        "",
        "## Data (engine/train/style_data.py)",
        "",
        _style_counts_table(training),
        "",
        f"- Split by piece (as the style judge's): {training.get('train_windows', '?')} training windows, "
        f"{training.get('val_windows', '?')} held out. Batches draw every style equally often; each window moves with its "
        f"previous window by one random interval in [{training.get('transpose_low', '?')}, {training.get('transpose_high', '?')}] "
        "semitones.",
        f"- Conditions: the major or minor triads that best fit each half bar of the window, as chroma per beat, dropped (all "
        f"zeros) with probability {training.get('chord_drop', '?')}; "
        f"the 32 steps before it, rebuilt from the piece's overlapping windows, dropped (all rests) with probability "
        f"{training.get('previous_drop', '?')}"
        + (
            f" (share of windows that have one at all: {starts[-1]['previous_share']})."
            if starts and starts[-1].get("previous_share") is not None
            else "."
        ),
        "",
        "## Training (engine/train/stylegan.py)",
        f"- {total_epochs if total_epochs is not None else '?'} epochs of {steps if steps is not None else '?'} generator "
        f"updates, batch {training.get('batch_size', '?')}; critic updates per generator update: "
        f"{training.get('critic_steps', '?')}. Adam (betas {training.get('beta1', '?')}/{training.get('beta2', '?')}), generator lr {training.get('lr', '?')}, "
        f"critic lr {training.get('critic_lr', '?')}.",
        f"- Critic loss: -(Wasserstein estimate) + {training.get('gp_weight', '?')} x gradient penalty + "
        f"{training.get('ac_weight', '?')} x the style head's cross-entropy on real windows. Generator loss: -(critic score) + "
        f"{training.get('ac_weight', '?')} x the style head's cross-entropy for the style asked for + "
        f"{training.get('chord_weight', 0)} x the chord-share loss (the squared difference between the generator's expected "
        "share of onsets on chord tones and the real window's, "
        + ("each track's against the real track's" if training.get("chord_share_per_track") else "over all tracks")
        + ", on windows given chords)"
        + (
            f" + {training['scale_weight']} x the scale-share loss (the share of its expected onsets in the diatonic scale "
            "that holds most of them against the real window's)"
            if training.get("scale_weight")
            else ""
        )
        + (
            f" + {training['step_weight']} x the stepwise-motion loss (each track's expected "
            + (
                "shares of repeated pitches and of steps of 1-2 semitones"
                if training.get("step_loss") == "repeats and steps apart"
                else "share of intervals of 2 semitones or less"
            )
            + " between consecutive onsets against the real window's)"
            if training.get("step_weight")
            else ""
        )
        + (
            f" + {training.get('rest_weight', '?')} x the rest-rate loss (per style in the batch and track, the Bernoulli KL "
            "divergence from the real windows' share of bars resting whole to the generator's expected share; it moves the "
            "rest gate only)"
            if cfg.get("bar_gate") and training.get("rest_weight")
            else ""
        )
        + f"; Gumbel-softmax temperature tau {training.get('tau', '?')}.",
        f"- Checkpoint: epoch {training.get('epoch', '?')} ({training.get('step', '?')} generator updates), "
        + (
            "the best by score"
            if best_logged is None or best_logged.get("epoch") == training.get("epoch")
            else f"chosen on training windows by a rule set before they were scored (see the history), not the trainer's "
            f"best by score (epoch {best_logged.get('epoch')}, score {best_logged.get('score')}); its score"
        )
        + " = the style judge's balanced accuracy on the epoch's samples (0 without a judge) minus the metric gap (the mean "
        "absolute difference of "
        + (
            ", ".join(f.replace("_", " ") for f in training["metric_gap_figures"])
            if training.get("metric_gap_figures")
            else "empty bar rate, qualified note rate, used pitch classes / 12"
        )
        + " from the held-out real "
        f"windows, over styles and tracks): score {ev.get('score', '?')} = "
        f"{judge_balanced if judge_balanced is not None else '0 (no judge)'} - {ev.get('metric_gap', '?')}"
        + (
            f", among the epochs from {training['best_since']} on (the best was chosen afresh when the recipe changed)"
            if (training.get("best_since") or 1) > 1
            else ""
        )
        + "."
        + (" The last epoch is in `last/`." if (checkpoint / "last").exists() else ""),
    ]
    if starts and len(starts) > 1:
        parts.append(
            "- Run (re)starts: "
            + "; ".join(
                f"from epoch {r.get('run_start')} of {r.get('epochs')}: lr {r.get('lr')}, critic lr {r.get('critic_lr')}, "
                f"{r.get('critic_steps')} critic steps, ac weight {r.get('ac_weight')}, chord weight {r.get('chord_weight', 'not logged')}, "
                f"chord-skip lr {r.get('chord_skip_lr', 'not logged')}, epoch samples at temperature "
                f"{r.get('sample_temperature', 'not logged')}"
                + (f", chord-share loss {r['chord_loss']}" if r.get("chord_loss") else "")
                + (f", scale weight {r['scale_weight']}" if r.get("scale_weight") else "")
                + (
                    f", step weight {r['step_weight']}" + (f" ({r['step_loss']})" if r.get("step_loss") else "")
                    if r.get("step_weight")
                    else ""
                )
                + (f", rest gate (rest weight {r.get('rest_weight')})" if r.get("bar_gate") else "")
                + (", the best epoch chosen afresh" if r.get("restart_best") else "")
                for r in starts
            )
            + "."
        )
    # ---- samples at the checkpoint
    share = ev.get("chord_tone_share", {}) or {}
    judged = ev.get("judge_accuracy", {}) or {}
    styles = list(dict.fromkeys([*judged, *share, *(ev.get("metrics", {}) or {})]))
    per_style = [
        {
            "style": s,
            "judge accuracy": judged.get(s, ""),
            "chord tones, with chords": (share.get(s) or {}).get("with_chords", ""),
            "chord tones, without chords": (share.get(s) or {}).get("without_chords", ""),
            "chord tones, real": (share.get(s) or {}).get("real", ""),
            "unique share": ((ev.get("diversity", {}) or {}).get(s) or {}).get("unique_share", ""),
        }
        for s in styles
    ]
    mean_share = ev.get("chord_tone_share_mean", {}) or {}
    per_style.append(
        {
            "style": "**mean**",
            "judge accuracy": ev.get("judge_balanced", ""),
            "chord tones, with chords": mean_share.get("with_chords", ""),
            "chord tones, without chords": mean_share.get("without_chords", ""),
            "chord tones, real": mean_share.get("real", ""),
        }
    )
    parts += [
        "",
        "## Samples at the checkpoint (the training run's epoch report)",
        "",
        f"Per style, {training.get('eval_samples', '?')} windows from fixed noise. Judge accuracy: the style judge on windows "
        "generated with no conditions (blank without a judge). Chord tones: share of onsets on the chord's pitch classes, over "
        "the triads fitted to the held-out windows, for windows generated over them and from the same noise without them, "
        "and for the real windows. Unique share: distinct windows / windows (mode collapse check).",
        "",
        _table(
            _blank_none(per_style),
            [
                "style",
                "judge accuracy",
                "chord tones, with chords",
                "chord tones, without chords",
                "chord tones, real",
                "unique share",
            ],
        ),
    ]
    metric_rows = _metric_rows({"real": ev.get("real_metrics", {}), "gan": ev.get("metrics", {})})
    if metric_rows:
        parts += [
            "",
            "MuseGAN's metrics (engine.style_metrics) of held-out real windows and of the GAN's (no conditions), "
            "per style and track (0 = top voice ... bass; tonal distance per track pair):",
            "",
            _table(metric_rows, ["style", "metric", "track", "real", "gan"]),
        ]
    # ---- the evaluation JSON
    if evaluation:
        parts += ["", "## Evaluation (`python -m engine.evaluate style`)"]
        acc = _accuracy_rows(
            evaluation,
            {
                "judge_accuracy_real": "judge on real",
                "sample_style_accuracy_musae": "MusAE",
                "sample_style_accuracy_musae_checked": "MusAE checked",
                "sample_style_accuracy_gan": "GAN",
                "sample_style_accuracy_gan_checked": "GAN checked",
            },
        )
        if acc:
            parts += [
                "",
                "Style judge accuracy per style: on real held-out windows, and on samples drawn with no conditions "
                f'(GAN temperature {evaluation.get("gan_temperature", "?")}, top-p {evaluation.get("gan_top_p", 1.0)}); "checked": through the pipeline\'s draw and '
                "check (best of "
                f"{(evaluation.get('sample_style_accuracy_gan_checked') or evaluation.get('sample_style_accuracy_musae_checked') or {}).get('candidates', '?')}"
                " by the same judge, so partly the judge agreeing with itself).",
                "",
                _table(
                    acc,
                    [
                        "style",
                        *[
                            c
                            for c in ("judge on real", "MusAE", "MusAE checked", "GAN", "GAN checked")
                            if any(c in r for r in acc)
                        ],
                    ],
                ),
            ]
        mg = evaluation.get("musegan_metrics") or {}
        by_style = mg.get("per_style") or {}
        if by_style:
            sources = {
                name: {s: e.get(name) for s, e in by_style.items() if isinstance(e.get(name), dict)}
                for name in ("real", "musae", "gan")
            }
            sources = {k: v for k, v in sources.items() if v}
            counts = mg.get("windows_per_style", {})
            parts += [
                "",
                "MuseGAN's metrics, track means (tonal distance: mean over track pairs), real held-out windows "
                f"({', '.join(f'{s} {n}' for s, n in counts.items()) or '?'} per style) against each model's samples:",
                "",
                _table(_metric_rows(sources, track_means=True), ["style", "metric", *sources]),
            ]
            within = mg.get("within_25_percent_share") or {}
            if within:
                parts += [
                    "",
                    "Share of figures (per style, metric and track) within 25% of the real one: "
                    + ", ".join(f"{name} {value}" for name, value in within.items() if not name.startswith("real_"))
                    + (
                        f"; other held-out real windows of the same styles, scored the same way: {within['real_again']} "
                        "(the ceiling at this sample size)"
                        if within.get("real_again") is not None
                        else ""
                    )
                    + (
                        f"; training windows, scored the same way: {within['real_training']} (the held-out pieces "
                        "are other pieces: a model that wrote exactly its training data would score this)"
                        if within.get("real_training") is not None
                        else ""
                    )
                    + ".",
                ]
            loose = mg.get("within_25_percent_of_interval_share") or {}
            if loose:
                parts += [
                    "",
                    "The real figures depend on which pieces were held out as much as on how many windows: drawn "
                    "again by piece (200 times), each real figure spans an interval (95%). Share of figures within 25% "
                    "of some value in that interval: "
                    + ", ".join(f"{name} {value}" for name, value in loose.items() if not name.startswith("real_"))
                    + "".join(
                        f"; {label} {loose[key]}"
                        for key, label in (
                            ("real_again", "other held-out windows"),
                            ("real_training", "training windows"),
                        )
                        if loose.get(key) is not None
                    )
                    + ".",
                ]
            chord_rows = [
                {
                    "style": s,
                    **{
                        k: (e.get("chord_tone_share") or {}).get(k, "")
                        for k in ("windows", "real", "gan_with_chords", "gan_without_chords")
                    },
                }
                for s, e in by_style.items()
                if isinstance(e.get("chord_tone_share"), dict)
            ]
            if chord_rows:
                m = mg.get("chord_tone_share_mean") or {}
                chord_rows.append(
                    {
                        "style": "**mean**",
                        **{k: m.get(k, "") for k in ("real", "gan_with_chords", "gan_without_chords")},
                    }
                )
                parts += [
                    "",
                    "Chord-tone share of onsets over the triads fitted to the real windows (half bars):",
                    "",
                    _table(
                        _blank_none(chord_rows), ["style", "windows", "real", "gan_with_chords", "gan_without_chords"]
                    ),
                ]
        parts += [
            "",
            "<details><summary>The evaluation JSON</summary>",
            "",
            "```json",
            json.dumps(evaluation, indent=2),
            "```",
            "",
            "</details>",
        ]
    if epochs:
        keys = [
            "epoch",
            "step",
            "critic_loss",
            "wasserstein",
            "gp",
            "ac_real_accuracy",
            "generator_loss",
            "ac_fake",
            "judge_balanced",
            "metric_gap",
            "score",
        ]
        parts += ["", "### Training log", "", _table(_blank_none(epochs), keys)]
    out = str(checkpoint)
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        f"python -m engine.train stylegan --data data_cache/style_windows.npz --out {out}",
        f"python -m engine.evaluate style --gan {out} --json > style.json",
        f"python -m engine.train.model_card {out} --eval style.json",
        "```",
        "",
    ]
    return "\n".join(parts)


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
        "python -m engine.train.style_data --nottingham DIR --out data_cache/style_windows.npz",
        "python -m engine.train style-judge --data data_cache/style_windows.npz --out checkpoints/style_judge",
        "python -m engine.train.model_card checkpoints/style_judge",
        "```",
        "",
    ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.train.model_card")
    parser.add_argument("checkpoint")
    parser.add_argument("--log", default=None, help="train_log.jsonl (default: CHECKPOINT/train_log.jsonl)")
    parser.add_argument("--eval", default=None, help="JSON written by python -m engine.evaluate")
    parser.add_argument(
        "--cross-corpus", default=None, help="JSON written by python -m engine.evaluate cross-corpus (latent models)"
    )
    parser.add_argument(
        "--encoder",
        default=None,
        help="MusAE trained with --decoder-from: the encoder's checkpoint folder (config.json, train_log.jsonl)",
    )
    parser.add_argument(
        "--history", default=None, help="a Markdown file of the trainer's notes on the run's phases, appended as is"
    )
    args = parser.parse_args(argv)
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
    elif kind == "latent":
        cross = json.loads(Path(args.cross_corpus).read_text()) if args.cross_corpus else None
        card = render_latent_card(checkpoint, rows, evaluation, cross)
    else:
        card = render_card(checkpoint, rows, evaluation)
    if args.history:  # what the log cannot say (a loss that changed meaning between restarts), in the trainer's words
        card = (
            card.rstrip("\n")
            + "\n\n## Training history (the trainer's notes)\n\n"
            + Path(args.history).read_text().strip()
            + "\n"
        )
    (checkpoint / "README.md").write_text(card)
    print(checkpoint / "README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
