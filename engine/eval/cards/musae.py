"""The model card of MusAE and of its VAE baseline."""

from __future__ import annotations

import json
from pathlib import Path

from engine.eval.cards.common import (
    evaluation_note,
    log_table,
    musae_phases,
    style_counts_table,
    style_headline,
    two_stage_training,
)


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
            "style code and the previous step's four tokens; at each step the tracks are drawn in order, each track's "
            f"head (a {cfg['hidden']}-unit layer) reading the GRU's state and the tokens the tracks above it have just "
            "drawn; 130 tokens per step (EC2-VAE's)."
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
            else "An adversarial autoencoder over four-track 2-bar windows whose latent prior is a Gaussian mixture "
            "with one component per style (after Valenti, Carta and Bacciu, ECAI 2020), smaller, to train on two CPU "
            "cores."
        ),
        "",
        "## Model (engine/models/musae.py)",
        f"- Encoder: token and track embeddings ({cfg['embed']}), a 2-layer bidirectional GRU ({cfg['hidden']}) -> z "
        f"({cfg['z_dims']} dimensions{', mean and log-variance' if is_vae else ''}).",
        decoder,
        (
            "- Prior: N(0, I); the KL per dimension is held at least at the free bits below (Kingma et al. 2016), so "
            "the autoregressive decoder cannot learn to ignore the code."
            if is_vae
            else f"- Prior: one unit-variance Gaussian per style, means on a circle of radius {cfg['prior_radius']} in "
            "the first two dimensions; a WGAN-GP critic on z with one head per style pulls each style's codes into "
            "its component."
        ),
        *(
            [
                (
                    "- Decoding keeps each track inside the pitches its voice strikes in the style's training "
                    "windows, widened by the transposition interval (config.json `pitch_ranges`; a track that never "
                    "plays in a style stays silent)"
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
        "## Data (engine/data/style.py)",
        "",
        style_counts_table(training),
        "",
        f"- Split by piece: {training.get('train_windows')} training windows, {training.get('val_windows')} held out. "
        f"Batches draw every style equally often, transposed in [{training.get('transpose_low')}, "
        f"{training.get('transpose_high')}].",
        *(
            two_stage_training(training, encoder, log_rows, is_vae)
            if two_stage
            else [
                f"- Adam lr {training.get('lr')}, batch {training.get('batch_size')}, "
                f"{training.get('steps_per_epoch')} steps per epoch; {'KL' if is_vae else 'critic'} weight annealed 0 "
                f"-> {training.get('reg_weight')} over the first {training.get('anneal')} of the steps (of the last "
                f"run start's plan: see the phases below); checkpoint: epoch {training.get('epoch')} "
                f"({training.get('step')} steps, best greedy held-out reconstruction).",
                "",
                *musae_phases(log_rows, is_vae),
            ]
        ),
        "## Held-out reconstruction (at the checkpoint)",
        f"- Greedy (decoded from the code alone, {greedy.get('windows')} windows): per track "
        f"{greedy.get('per_track')}, mean {greedy.get('mean')}.",
        f"- Teacher-forced (every held-out window): per track {forced.get('per_track')}, mean {forced.get('mean')}.",
    ]
    latent = validation.get("latent")
    if latent:
        parts.append(
            "- Held-out codes against the prior: mean squared distance to their "
            f"{'prior mean' if is_vae else 'style component mean'} per dimension {latent['prior_fit']} (1.0 for the "
            "prior's own samples); nearest to their own style's component: "
            f"{latent['component_accuracy']}{' (one component: meaningless for the VAE)' if is_vae else ''}."
        )
    if evaluation:
        parts += [
            "",
            "## Evaluation (`python -m engine.evaluate style`)",
            "",
            *style_headline(evaluation),
            "",
            evaluation_note("python -m engine.evaluate style --json"),
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
            *log_table([r for r in log_rows if "epoch" in r], keys),
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
            f"python -m engine.train musae{flag} --data data_cache/style_windows.npz --out {base}  # then the phases "
            "above",
            *decoder_runs,
            *([f"python -m engine.train.pitch_ranges {checkpoint}"] if training.get("pitch_ranges_added") else []),
            f"python -m engine.evaluate card {checkpoint} --encoder {base} [--eval style.json]",
        ]
    else:
        train = [
            f"python -m engine.train musae{flag} --data data_cache/style_windows.npz --out {checkpoint}",
            *([f"python -m engine.train.pitch_ranges {checkpoint}"] if training.get("pitch_ranges_added") else []),
            f"python -m engine.evaluate card {checkpoint} [--eval style.json]",
        ]
    parts += ["", "## Reproduce", "", "```", *train, "```", ""]
    return "\n".join(parts)
