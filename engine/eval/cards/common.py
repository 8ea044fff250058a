"""What every model card shares: tables, the training log in a few rows, the evaluation JSON beside the card.

A card (checkpoints/<family>/README.md) is a page or two a person reads: what the model is, its data, how it was
trained, its headline figures beside their targets and the real music's, and how to make it again. The full evaluation
JSON it was written from lies beside it (``evaluation.json``); every number in a card is read from config.json, the
training log or that JSON: nothing is typed in.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.eval.metrics.musegan import METRICS

EVALUATION_FILE = "evaluation.json"
LOG_ROWS = 16  # a training log longer than this shows as this many rows: the first, the last and evenly between


def write_card(checkpoint: Path, card: str, evaluation: dict | None = None) -> Path:
    """Write ``README.md`` (and, when given, the whole evaluation JSON as ``evaluation.json``) into a checkpoint."""
    if evaluation is not None:
        (checkpoint / EVALUATION_FILE).write_text(json.dumps(evaluation, indent=2) + "\n")
    path = checkpoint / "README.md"
    path.write_text(card)
    return path


def evaluation_note(command: str) -> str:
    """The line that sends a reader to the whole evaluation JSON beside the card."""
    return f"Every figure of the evaluation is in [`{EVALUATION_FILE}`]({EVALUATION_FILE}) (`{command}`)."


def log_rows_shown(rows: list[dict], limit: int = LOG_ROWS) -> tuple[list[dict], str]:
    """At most ``limit`` rows of a training log (the first, the last and evenly spaced between) and a line saying
    which were left out ("" when every row shows)."""
    if len(rows) <= limit:
        return rows, ""
    picks = sorted({round(i * (len(rows) - 1) / (limit - 1)) for i in range(limit)})
    return [rows[i] for i in picks], (
        f"{len(picks)} of the {len(rows)} logged epochs (the first, the last and evenly between; the run's "
        "train_log.jsonl has every one)."
    )


def log_table(rows: list[dict], keys: list[str], limit: int = LOG_ROWS) -> list[str]:
    """The training log as a table of at most ``limit`` rows, with a line naming the rows left out."""
    shown, note = log_rows_shown(rows, limit)
    return ([note, ""] if note else []) + [table(shown, keys)]


def table(rows: list[dict], keys: list[str]) -> str:
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(k, "")) for k in keys) + " |")
    return "\n".join(lines)


def stats_table(stats: dict) -> str:
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
    return table(
        rows, ["", "repeat_share", "step_share", "leap_share", "chord_tone_share", "interval_histogram_overlap"]
    )


def style_counts_table(training: dict) -> str:
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
    return table(rows, ["style", "pieces", "windows (before transposition)", "with transposition -5..+6"])


def two_stage_training(training: dict, encoder: Path | None, log_rows: list[dict], is_vae: bool = False) -> list[str]:
    """How a MusAE (or VAE) whose decoder was trained on a frozen encoder (``--decoder-from``) came to be: the
    encoder's run (its checkpoint's epoch and its log's phases, from the ``encoder`` folder), then the decoder's
    (``log_rows``)."""
    first = (
        "1. **Encoder and prior**: a whole VAE (encoder, per-track decoders) trained with its KL term; "
        if is_vae
        else "1. **Encoder, prior and critic**: a whole MusAE (encoder, per-track decoders, critic) trained "
        "adversarially; "
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
        lines += ["   " + line for line in musae_phases(rows, is_vae)[1:-1]]
    starts = [r for r in log_rows if "run_start" in r]
    rates = "; ".join(f"from epoch {r['run_start']} (of {r.get('epochs')}) lr {r.get('lr')}" for r in starts)
    lines += [
        "2. **Decoder**: trained from scratch on the frozen encoder's codes of the same batches (reconstruction "
        f"only: the codes do not move, so no {'KL term' if is_vae else 'critic'}), Adam, batch "
        f"{training.get('batch_size')}, {training.get('steps_per_epoch')} steps per epoch "
        f"({rates or 'lr ' + str(training.get('lr'))}); checkpoint: epoch {training.get('epoch')} "
        f"({training.get('step')} steps, best greedy held-out reconstruction).",
        "",
    ]
    return lines


def style_headline(evaluation: dict) -> list[str]:
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
            "the same after the studio's draw and check (best of "
            f"{get('sample_style_accuracy_musae_checked', 'candidates')}, by the same judge)",
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


def musae_phases(log_rows: list[dict], is_vae: bool) -> list[str]:
    """The settings of each (re)start of the run, from the log's ``run_start`` rows: a resumed run can change them."""
    starts = [r for r in log_rows if "run_start" in r]
    if not starts:
        return []
    lines = ["## Training phases (the log's run starts)"]
    for r in starts:
        what = (
            f"KL weight {r.get('reg_weight')}, free bits {r.get('free_bits')} nats per dimension"
            if is_vae
            else f"critic weight {r.get('reg_weight')}, critic updates per step: {r.get('critic_steps')} at lr "
            f"{r.get('critic_lr')}"
        )
        note = f"; critic: {r['critic']}" if r.get("critic") else ""
        lines.append(
            f"- From epoch {r['run_start']} (of {r.get('epochs')}): {what}, autoencoder lr {r.get('lr')}{note}."
        )
    return lines + [""]


def weights_summary(path: Path) -> tuple[int | None, str]:
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


def mean(values) -> float | None:
    """Mean of the defined values of a list (per track) or dict (per track pair), rounded; None when none is."""
    if isinstance(values, dict):
        values = list(values.values())
    defined = [v for v in (values or []) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return round(float(np.mean(defined)), 4) if defined else None


def metric_rows(sources: dict[str, dict], track_means: bool = False) -> list[dict]:
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
                    row[name] = mean((by_style or {}).get(style, {}).get(metric))
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


def metric_means_table(sources: dict[str, dict]) -> str:
    """MuseGAN's metrics ({source: {style: window_metrics}}) as one row per style, a column per metric holding each
    source's track mean ("real / musae / gan"; tonal distance: the mean over track pairs)."""
    rows: dict[str, dict] = {}
    for row in metric_rows(sources, track_means=True):
        cells = [str(row.get(name, "")) for name in sources]
        values = " / ".join(cells) if any(cells) else ""
        rows.setdefault(row["style"], {"style": row["style"]})[row["metric"].replace("_", " ")] = values
    columns = ["style", *[m.replace("_", " ") for m in METRICS]]
    return f"Each cell: {' / '.join(sources)}.\n\n" + table(list(rows.values()), columns)


def accuracy_rows(evaluation: dict, labels: dict[str, str]) -> list[dict]:
    """One row per style (and the mean) of the evaluation's sample accuracies named in ``labels``."""
    present = {key: evaluation[key] for key in labels if isinstance(evaluation.get(key), dict)}
    styles = list(dict.fromkeys(s for v in present.values() for s in v.get("per_style", {})))
    rows = [{"style": s, **{labels[k]: v.get("per_style", {}).get(s, "") for k, v in present.items()}} for s in styles]
    if present:
        rows.append(
            {"style": "**mean**", **{labels[k]: v.get("mean", v.get("balanced", "")) for k, v in present.items()}}
        )
    return [{k: ("" if v is None else v) for k, v in row.items()} for row in rows]


def blank_none(rows: list[dict]) -> list[dict]:
    """Rows with None shown as an empty cell."""
    return [{k: ("" if v is None else v) for k, v in row.items()} for row in rows]


def chord_gains(weights: Path) -> list[float] | None:
    """The style GAN's chord-skip gains per track, or None (no weights, or a generator without the skip)."""
    if not weights.exists():
        return None
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        return f.get_tensor("chord_skip.gain").tolist() if "chord_skip.gain" in f.keys() else None
