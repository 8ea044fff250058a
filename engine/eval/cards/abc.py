"""The ABC emotion model's model card."""

from __future__ import annotations

import json
from pathlib import Path

from engine.eval.cards.common import evaluation_note, log_table, table


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
        "A transformer language model over ABC text prompted with a Russell quadrant (Q1 happy, Q2 tense, Q3 sad, Q4 "
        "calm), after EMusicGen (arXiv 2309.13259); Cadenza's Emotion tab and `python -m engine.generate emotion` "
        "sample it inside a token grammar and apply EMusicGen's feature template (tempo, mode, register, loudness).",
        "",
        "## Model",
        "- Tokens: ABC's own units (a header line, a note or rest with its duration, tie and following space, a bar "
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
        f"{stats.get('train_tunes', '?')} for training, {stats.get('val_tunes', '?')} held out (a seeded hash of the "
        "tune's source).",
        "- Labels as EMusicGen makes them (rough): valence from the mode of music21's key analysis of the notes, "
        "arousal from the standard deviation of the MIDI pitches split at the corpus median "
        f"({stats.get('pitch_sd_median', 0):.3f} semitones).",
        "",
        "Label distribution:",
        "",
        table(labels, ["split", "Q1", "Q2", "Q3", "Q4"]),
        "",
        f"- Augmentation: every epoch each tune moves by a random interval in {training.get('transpose', '?')} "
        "semitones, respelled in the new key (engine.io.abc_text.transpose_abc).",
        f"- AdamW lr {training.get('lr', '?')} (weight decay {training.get('weight_decay', '?')}), warm-up then "
        f"cosine decay, batch {training.get('batch_size', '?')}, {training.get('processes', '?')} data-parallel "
        f"process(es); checkpoint: epoch {training.get('epoch', '?')}, {training.get('step', '?')} steps (lowest "
        "held-out loss).",
        "",
        "## Validation (held-out tunes, untransposed)",
        f"- {validation.get('nll_per_token', '?')} nats per token, {validation.get('bits_per_char', '?')} bits per "
        "character of ABC.",
        "- The feature judge (mode of the notes, pitch spread, mean pitch, notes per bar -> quadrant; softmax "
        f"regression, stored in config.json) on held-out real tunes: accuracy {stats.get('judge_accuracy_val', '?')}.",
    ]
    if evaluation:
        parts += [
            "",
            "## Evaluation (`python -m engine.evaluate emotion`)",
            "",
            f"{evaluation.get('samples', '?')} tunes of {evaluation.get('bars', '?')} bars, a quarter per quadrant, "
            "fixed seeds. The pipeline draws a tune again when music21 cannot read it, when its notes do not sound "
            "in the asked mode or when one bar repeats more than three times in a row: `mode_accuracy_raw` and "
            "`quadrant_accuracy` are measured after that check, the `first_draw` figures on the first readable draw "
            "(no check); the check costs "
            f"{evaluation.get('draws_per_tune_mean', '?')} draws per tune on average.",
            *_sampling_section(evaluation.get("generation")),
            "",
            table(_figures(evaluation), ["figure", "measured", *FIGURE_COLUMNS.values(), "EMusicGen (published)"]),
            "",
            "`grammar, no steering`: the same command with the token grammar alone (repeats paired, no bar copied, "
            f"bars counted as played; {evaluation.get('grammar_only', {}).get('samples', 'not')} tunes). `before`: "
            "the grammar of the issue that set these targets (no repeat pairing, no bar-copy ban, bars counted as "
            f"written; {evaluation.get('before', {}).get('samples', 'not')} tunes). `read as ABC 1.3`: the shipped "
            "settings on the same seeds before music21 was told to read ABC 2.1 (it read an accidental as holding for "
            "one note; ABC 2.1, abc2midi and abcjs hold it to the end of the bar); the other columns and the sweep "
            "were measured with that reading too. EMusicGen's 0.91 is a listening "
            "test of its full template (people, not this feature judge): the nearest published figure, not the same "
            "measure.",
            *_sweep_section(evaluation.get("sweep", {})),
            *_form_section(evaluation.get("form", {})),
            "",
            evaluation_note(
                "python -m engine.evaluate emotion --samples 400 --real NOTTINGHAM_ABC --variant ... --json"
            ),
        ]
    if log_rows:
        keys = ["epoch", "step", "train_nll_per_token", "val_nll_per_token", "val_bits_per_char"]
        parts += ["", "### Training log", "", *log_table(log_rows, keys)]
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        "python -m engine.train abc --data "
        + " ".join(training.get("data", ["DIR"]))
        + " --out checkpoints/abc_emotion --procs 2",
        "python -m engine.evaluate emotion --samples 400 --real NOTTINGHAM_ABC --json \\",
        '  --variant "guidance=0 keep_mode_third=false home_emphasis=0" --variant home_emphasis=0 \\',
        "  --variant guidance_against=all > emotion.json",
        "python -m engine.evaluate card checkpoints/abc_emotion --eval emotion.json",
        "```",
        "",
    ]
    return "\n".join(parts)


CARD_FIGURES = (
    "parse_success",
    "parse_success_unconstrained",
    "abc2midi_clean",
    "mode_accuracy_raw",
    "mode_accuracy_first_draw",
    "arousal_separation",
    "template_adherence",
    "quadrant_accuracy",
    "quadrant_accuracy_first_draw",
    "judge_accuracy_real",
    "draws_per_tune_mean",
)
PUBLISHED = {"quadrant_accuracy": "0.91 (listeners)"}


# evaluation key -> column
FIGURE_COLUMNS = {"abc13_reading": "read as ABC 1.3", "grammar_only": "grammar, no steering", "before": "before"}


def _figures(evaluation: dict) -> list[dict]:
    return [
        {
            "figure": key.replace("_", " "),
            "measured": evaluation[key],
            **{column: evaluation.get(run, {}).get(key, "") for run, column in FIGURE_COLUMNS.items()},
            "EMusicGen (published)": PUBLISHED.get(key, ""),
        }
        for key in CARD_FIGURES
        if key in evaluation
    ]


def _sampling_section(generation: dict | None) -> list[str]:
    """The sampling settings the evaluation ran with (the checkpoint's generation.json)."""
    if not generation:
        return []
    settings = ", ".join(f"`{name}` {value}" for name, value in generation.items())
    return [
        "",
        f"Sampling (`generation.json`): {settings}. The steering (`guidance`, `guidance_against`, `keep_mode_third`, "
        "`home_emphasis`) is described in engine/pipelines/emotion.py; the model is not retrained for it.",
    ]


def _sweep_section(sweep: dict) -> list[str]:
    """First draws under each sampling variant on the same seeds (``--variant``), the shipped settings first."""
    if not sweep:
        return []
    rows = []
    for name, figures in sweep.items():
        per = figures.get("per_quadrant", {})
        rows.append(
            {
                "settings": "shipped" if name == "shipped" else f"`{name}`",
                "mode": figures.get("mode_accuracy_first_draw"),
                "quadrant (judge)": figures.get("quadrant_accuracy_first_draw"),
                **{f"{q} mode / judge": f"{v.get('mode')} / {v.get('quadrant')}" for q, v in sorted(per.items())},
                "pitch sd Q1..Q4": " ".join(str(v.get("pitch_sd")) for _, v in sorted(per.items())),
                "s / tune": figures.get("seconds_per_tune_p50"),
            }
        )
    columns = list(rows[0])
    tunes = next(iter(sweep.values())).get("tunes", "?")
    return [
        "",
        "### The first draw under each sampling variant (`--variant`)",
        "",
        f"{tunes} tunes each, the first seeds of the main run in every quadrant; they compare the variants with each "
        "other (the main run's first-draw figures, over all its seeds, are the ones to quote).",
        "",
        table(rows, columns),
    ]


def _form_section(form: dict) -> list[str]:
    """Per quadrant, the model's tunes beside real tunes of the same label (and the model before, when run)."""
    model, real = form.get("model", {}), form.get("real", {})
    if not model:
        return []
    before, grammar_only = form.get("before_model", {}), form.get("grammar_only_model", {})
    overlaps = {
        "model": form.get("interval_overlap", {}),
        "grammar only": form.get("grammar_only_interval_overlap", {}),
    }
    keys = ("bar_repeat_share", "distinct_bar_share", "phrase_form_share", "pitch_class_entropy")
    rows = []
    for quadrant in sorted(model):
        for label, figures in (
            ("model", model[quadrant]),
            ("grammar only", grammar_only.get(quadrant)),
            ("model before", before.get(quadrant)),
            ("real", real.get(quadrant)),
        ):
            if figures:
                row = {"quadrant": quadrant, "tunes": label, **{k: figures.get(k) for k in keys}}
                row["interval_overlap"] = overlaps.get(label, {}).get(quadrant, "")
                rows.append(row)
    return [
        "",
        "### How the tunes are built, per quadrant (engine/eval/metrics/abc_form.py)",
        "",
        "Bars compared as written, notes only. Real: the Nottingham tunes under the same quadrant labels (EMusicGen's "
        "rough labels, made as for training). Interval overlap: of the model's interval histogram with the real one.",
        "",
        table(rows, ["quadrant", "tunes", *keys, "interval_overlap"]),
    ]
