"""The style GAN's model card."""

from __future__ import annotations

import json
from pathlib import Path

from engine.eval.cards.common import (
    accuracy_rows,
    blank_none,
    chord_gains,
    evaluation_note,
    log_table,
    metric_means_table,
    style_counts_table,
    table,
    weights_summary,
)
from engine.pipelines.style_gan import StyleGANGenerationConfig


def render_stylegan_card(checkpoint: Path, log_rows: list[dict], evaluation: dict | None) -> str:
    """The style GAN's model card (every figure read from its files; a debug run's card renders too)."""
    meta = json.loads((checkpoint / "config.json").read_text())
    generation = StyleGANGenerationConfig.load(checkpoint)
    cfg, training, ev = meta.get("config", {}), meta.get("training", {}), meta.get("evaluation", {})
    weights = checkpoint / "model.safetensors"
    weights_mb = weights.stat().st_size / 1e6 if weights.exists() else None
    params, dtypes = weights_summary(weights) if weights.exists() else (None, "?")
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
        "conditioned on a style, the chords (chroma per beat) and the previous window, trained against a WGAN-GP "
        "critic with an AC-GAN style head (a classifier of the window's style beside the Wasserstein score); MidiNet "
        "/ MuseGAN-like (shared and per-track noise, MidiNet's previous-bar conditioner). Cadenza's style pipeline "
        "chains its windows into pieces and checks them with the style judge.",
        "",
        "## Model (engine/models/style_gan.py)",
        f"- Styles: {', '.join(str(s) for s in meta.get('styles', [])) or '?'} ({cfg.get('num_styles', '?')}), "
        f"embedded in {cfg.get('style_dims', '?')} dimensions.",
        f"- Noise: {noise if noise is not None else '?'} shared dimensions plus "
        f"{track_noise if track_noise is not None else '?'} per track for {tracks if tracks is not None else '?'} "
        f"tracks ({noise_size} in all).",
        "- Generator: a linear layer to a map at time resolution 4, then transposed convolutions to 32 steps, widths "
        f"{cfg.get('gen_widths', '?')} at resolutions 4, 8, 16, 32; per-track (private) layers of "
        f"{cfg.get('private_width', '?')} channels give one categorical over 130 tokens per track and step. Chords and "
        f"the previous window's conditioner (token embedding {cfg.get('cond_embed', '?')}, "
        f"{cfg.get('cond_channels', '?')} channels) enter at every resolution, and a chord skip adds a learned gain "
        "per track to the logits of the beat's chord tones"
        + (
            f" (gains at the checkpoint: {', '.join(f'{g:.2f}' for g in gains)})."
            if (gains := chord_gains(weights))
            else "."
        )
        + (
            " A rest gate reads each track's private features over each bar and gives the chance that the bar rests "
            "whole (the steps' own draws almost never rest 16 times in a row): drawn once per bar in training, and in "
            "sampling a bar rests where that chance is over even odds."
            if cfg.get("bar_gate")
            else ""
        )
        + f" Windows are sampled from these categoricals at temperature {generation.temperature}, as the critic saw "
        f"them, from each step's nucleus (top-p {generation.top_p}), step by step with each track's logit for the "
        f"pitch it last struck lowered by {generation.repeat_penalty} (the repeat penalty), the top voice's for each "
        f"pitch by {generation.leap_penalty} per semitone beyond a whole tone from it (the leap penalty, up to "
        f"{generation.leap_cap} semitones beyond), and, in the final draw, every pitch outside the window's key and "
        f"the chord at that step by {generation.key_penalty} (the key penalty)"
        + (
            ", inside each track's pitch range in the style (the training windows' lowest and highest notes, widened "
            "by the transposition interval; tracks that never play in a style stay silent)"
            if cfg.get("pitch_ranges")
            else ""
        )
        + ". A window asked for without chords is drawn twice: a sketch, then again from the same noise over the "
        "triads that fit the sketch, so its voices share a harmony."
        + (
            " Over chords the user gives, the lowest voice strikes a tone of each bar's chord on the bar's first step "
            "(bass_on_chords)."
            if getattr(generation, "bass_on_chords", False)
            else ""
        ),
        f"- Critic (training only, not shipped): token embedding {cfg.get('critic_embed', '?')}, widths "
        f"{cfg.get('critic_widths', '?')} at resolutions 32, 16, 8, score head {cfg.get('critic_joint', '?')} "
        "channels; its style head reads the window alone, the score head the window with its conditions. "
        "Straight-through Gumbel-softmax samples of the generator feed it.",
        f"- Weights (generator only): `model.safetensors`, {f'{params:,}' if params is not None else '?'} parameters, "
        f"{f'{weights_mb:.2f}' if weights_mb is not None else '?'} MB ({dtypes}).",
        "",
        "## Data (engine/data/style.py)",
        "",
        style_counts_table(training),
        "",
        f"- Split by piece (as the style judge's): {training.get('train_windows', '?')} training windows, "
        f"{training.get('val_windows', '?')} held out. Batches draw every style equally often; each window moves with "
        f"its previous window by one random interval in [{training.get('transpose_low', '?')}, "
        f"{training.get('transpose_high', '?')}] semitones.",
        "- Conditions: the major or minor triads that best fit each half bar of the window, as chroma per beat, "
        f"dropped (all zeros) with probability {training.get('chord_drop', '?')}; the 32 steps before it, rebuilt from "
        f"the piece's overlapping windows, dropped (all rests) with probability {training.get('previous_drop', '?')}"
        + (
            f" (share of windows that have one at all: {starts[-1]['previous_share']})."
            if starts and starts[-1].get("previous_share") is not None
            else "."
        ),
        "",
        "## Training (engine/train/stylegan/)",
        f"- {total_epochs if total_epochs is not None else '?'} epochs of {steps if steps is not None else '?'} "
        f"generator updates, batch {training.get('batch_size', '?')}; critic updates per generator update: "
        f"{training.get('critic_steps', '?')}. Adam (betas "
        f"{training.get('beta1', '?')}/{training.get('beta2', '?')}), generator lr {training.get('lr', '?')}, critic "
        f"lr {training.get('critic_lr', '?')}.",
        f"- Critic loss: -(Wasserstein estimate) + {training.get('gp_weight', '?')} x gradient penalty + "
        f"{training.get('ac_weight', '?')} x the style head's cross-entropy on real windows. Generator loss: -(critic "
        f"score) + {training.get('ac_weight', '?')} x the style head's cross-entropy for the style asked for + "
        f"{training.get('chord_weight', 0)} x the chord-share loss (the squared difference between the generator's "
        "expected share of onsets on chord tones and the real window's, "
        + ("each track's against the real track's" if training.get("chord_share_per_track") else "over all tracks")
        + ", on windows given chords)"
        + (
            f" + {training['scale_weight']} x the scale-share loss (the share of its expected onsets in the diatonic "
            "scale that holds most of them against the real window's)"
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
            f" + {training.get('rest_weight', '?')} x the rest-rate loss (per style in the batch and track, the "
            "Bernoulli KL divergence from the real windows' share of bars resting whole to the generator's expected "
            "share; it moves the rest gate only)"
            if cfg.get("bar_gate") and training.get("rest_weight")
            else ""
        )
        + f"; Gumbel-softmax temperature tau {training.get('tau', '?')}.",
        f"- Checkpoint: epoch {training.get('epoch', '?')} ({training.get('step', '?')} generator updates), "
        + (
            "the best by score"
            if best_logged is None or best_logged.get("epoch") == training.get("epoch")
            else "chosen on training windows by a rule set before they were scored (see the history), not the "
            f"trainer's best by score (epoch {best_logged.get('epoch')}, score {best_logged.get('score')}); its score"
        )
        + " = the style judge's balanced accuracy on the epoch's samples (0 without a judge) minus the metric gap (the "
        "mean absolute difference of "
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
                f"from epoch {r.get('run_start')} of {r.get('epochs')}: lr {r.get('lr')}, critic lr "
                f"{r.get('critic_lr')}, {r.get('critic_steps')} critic steps, ac weight {r.get('ac_weight')}, chord "
                f"weight {r.get('chord_weight', 'not logged')}, chord-skip lr {r.get('chord_skip_lr', 'not logged')}, "
                f"epoch samples at temperature {r.get('sample_temperature', 'not logged')}"
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
        f"Per style, {training.get('eval_samples', '?')} windows from fixed noise. Judge accuracy: the style judge on "
        "windows generated with no conditions (blank without a judge). Chord tones: share of onsets on the chord's "
        "pitch classes, over the triads fitted to the held-out windows, for windows generated over them and from the "
        "same noise without them, and for the real windows. Unique share: distinct windows / windows (mode collapse "
        "check).",
        "",
        table(
            blank_none(per_style),
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
    epoch_sources = {"real": ev.get("real_metrics", {}), "gan": ev.get("metrics", {})}
    if any(epoch_sources.values()):
        parts += [
            "",
            "MuseGAN's metrics (engine.eval.metrics.musegan) of held-out real windows and of the GAN's (no "
            "conditions), track means (tonal distance: mean over track pairs; config.json `evaluation` has them per "
            "track).",
            "",
            metric_means_table(epoch_sources),
        ]
    # ---- the evaluation JSON
    if evaluation:
        parts += ["", "## Evaluation (`python -m engine.evaluate style`)"]
        acc = accuracy_rows(
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
            checked = (
                evaluation.get("sample_style_accuracy_gan_checked")
                or evaluation.get("sample_style_accuracy_musae_checked")
                or {}
            )
            parts += [
                "",
                "Style judge accuracy per style: on real held-out windows, and on samples drawn with no conditions "
                f"(GAN temperature {evaluation.get('gan_temperature', '?')}, top-p "
                f'{evaluation.get("gan_top_p", 1.0)}); "checked": through the pipeline\'s draw and check (best of '
                f"{checked.get('candidates', '?')} by the same judge, so partly the judge agreeing with itself).",
                "",
                table(
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
                metric_means_table(sources),
            ]
            within = mg.get("within_25_percent_share") or {}
            if within:
                parts += [
                    "",
                    "Share of figures (per style, metric and track) within 25% of the real one: "
                    + ", ".join(f"{name} {value}" for name, value in within.items() if not name.startswith("real_"))
                    + (
                        "; other held-out real windows of the same styles, scored the same way: "
                        f"{within['real_again']} (the ceiling at this sample size)"
                        if within.get("real_again") is not None
                        else ""
                    )
                    + (
                        f"; training windows, scored the same way: {within['real_training']} (the held-out pieces are "
                        "other pieces: a model that wrote exactly its training data would score this)"
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
                    "again by piece (200 times), each real figure spans an interval (95%). Share of figures within "
                    "25% of some value in that interval: "
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
                    table(
                        blank_none(chord_rows), ["style", "windows", "real", "gan_with_chords", "gan_without_chords"]
                    ),
                ]
        parts += ["", evaluation_note(f"python -m engine.evaluate style --gan {checkpoint} --json")]
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
        parts += ["", "### Training log", "", *log_table(blank_none(epochs), keys)]
    out = str(checkpoint)
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        f"python -m engine.train stylegan --data data_cache/style_windows.npz --out {out}",
        f"python -m engine.evaluate style --gan {out} --json > style.json",
        f"python -m engine.evaluate card {out} --eval style.json",
        "```",
        "",
    ]
    return "\n".join(parts)
