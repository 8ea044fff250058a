"""The chord suggester's model card (every figure read from config.json, the training log and the evaluation)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.eval.cards.common import blank_none, log_table, table
from engine.eval.suites.arrange import ARRANGE_FIGURES
from engine.eval.suites.harmony import HARMONY_FIGURES

SYSTEM_NAMES = {
    "model": "chord suggester (this model)",
    "hmm": "HMM baseline",
    "inference": "engine's chord inference",
    "real": "real chords",
}


def _rows(figures: dict) -> list[dict]:
    return [
        {"system": SYSTEM_NAMES.get(name, name), **{f: values.get(f) for f in HARMONY_FIGURES}}
        for name, values in figures.items()
    ]


def arrangement_section(accompaniment: dict) -> list[str]:
    """Arrange's figures (engine/eval/suites/arrange.py): arranged beside real, per set, and the judge per style."""
    writers = accompaniment.get("writers")
    by = (
        "; lower voices by " + ", ".join(f"{style}: {writer}" for style, writer in writers.items())
        if writers
        else ", the style GAN's voices under the melody"
    )
    lines = [
        f"## Arrangements (engine/pipelines/arrange.py{by})",
        "",
        f"First {accompaniment.get('bars')} bars of each held-out melody, seed {accompaniment.get('seed')}. Judge: "
        "share of 2-bar windows the style judge hears in the asked style; chord tones: lower voices' onsets on the "
        "chord they were written over; parallels: fifths and octaves per 100 moves of a voice pair; crossing: share "
        "of steps with a lower voice above a higher one; beat chords: beats whose chord is Bach's.",
    ]
    for name, label in (("chorales", "Bach chorales (soprano given, suggested chords)"), ("folk", "English folk")):
        section = accompaniment.get(name)
        if not section:
            continue
        rows = [
            {"": kind, **{f: section.get(kind, {}).get(f) for f in ARRANGE_FIGURES}} for kind in ("arranged", "real")
        ]
        lines += [
            "",
            f"### {label}: {section.get('pieces')} pieces",
            "",
            table(blank_none(rows), ["", *ARRANGE_FIGURES]),
        ]
    styles = accompaniment.get("styles")
    if styles:
        per_style = [{"style": k, "judge_in_style": v} for k, v in styles.get("judge_in_style", {}).items()]
        lines += [
            "",
            f"### Every style ({styles.get('tunes')} folk melodies each, suggested chords)",
            "",
            table(per_style, ["style", "judge_in_style"]),
        ]
    return lines


def render_harmonizer_card(checkpoint: Path, log_rows: list[dict], evaluation: dict | None) -> str:
    """The chord suggester's model card."""
    meta = json.loads((checkpoint / "config.json").read_text())
    cfg, training, validation = meta["config"], meta.get("training", {}), meta.get("validation", {})
    weights_mb = (checkpoint / "model.safetensors").stat().st_size / 1e6
    parts = [
        "# Chord suggester (Cadenza)",
        "",
        "Chords for a melody, one or two per bar (two in 4/4 and 6/8, one in 2/4 and 3/4, one for a pickup), from a "
        "vocabulary of 10 qualities on 12 roots (major, minor, diminished, augmented, dominant 7, major 7, minor 7, "
        "suspended 4, half-diminished, diminished 7) and no chord. It serves Arrange and "
        "`python -m engine.generate harmonize`: the most likely progression, seeded alternatives and the alternatives "
        "of every chord slot.",
        "",
        "## Model",
        f"- Each chord slot is described in the melody's key (tonic moved to C): the duration-weighted pitch classes "
        f"heard in it, the pitch class sounding at its start, the mode, its place in the bar and in a 4-bar phrase, "
        f"first and last ({cfg['num_features']} features; engine/music/chord_vocab.py). A linear layer and a "
        f"{cfg['layers']}-layer bidirectional GRU ({cfg['hidden']} units each way) read the whole melody; one "
        f"softmax over {cfg['num_classes']} chord classes per slot. Weights: {weights_mb:.2f} MB.",
        "- The key: the melody's own when its file names one, else Krumhansl-Kessler on its notes (never its chords).",
        "",
        "## Data (engine/data/harmony.py)",
        "",
        table([{"source": k, "tunes": v} for k, v in training.get("tunes", {}).items()], ["source", "tunes"]),
        "",
        "- Nottingham: the tunes' own chord tracks. Bach chorales (music21 corpus): the soprano, and per slot the "
        "chord the four voices sound as it starts. The O'Neill and Ryan's collections of the music21 corpus were "
        "read too, but music21's copies carry no chord symbols, so no tune comes from them.",
        f"- Split by tune name (seeded hash): {training.get('train_tunes')} training tunes "
        f"({training.get('train_slots')} slots), {training.get('val_tunes')} held out ({training.get('val_slots')} "
        f"slots). AdamW lr {training.get('lr')} (one-cycle), batch {training.get('batch_size')} tunes, label "
        f"smoothing {training.get('label_smoothing')}; best epoch {training.get('epoch')} of {training.get('epochs')} "
        f"({training.get('step')} steps).",
        "",
        "## Held-out slot accuracy at the best epoch",
        "",
        table(
            [
                {"tunes": "all", "exact": validation.get("all_exact"), "root": validation.get("all_root")},
                {
                    "tunes": "Nottingham",
                    "exact": validation.get("nottingham_exact"),
                    "root": validation.get("nottingham_root"),
                },
                {"tunes": "Bach chorales", "exact": validation.get("bach_exact"), "root": validation.get("bach_root")},
            ],
            ["tunes", "exact", "root"],
        ),
    ]
    harmony = (evaluation or {}).get("harmony")
    if harmony:
        parts += [
            "",
            "## Against the real chords and two baselines (`python -m engine.evaluate arrange`)",
            "",
            f"{harmony['tunes']} held-out tunes ({harmony['slots']} slots); every figure is a mean over tunes (the "
            "accuracy above is over slots). Exact and root: per slot against the real chords. CTnCTR (chord-tone to "
            "non-chord-tone ratio, 1 best), PCS (pitch consistency, higher better), MCTD "
            "(melody-chord tonal distance, lower better) and chords per bar as in Yeh et al. (2020). The HMM is fitted "
            f"on the same training tunes (emission sharpness {harmony.get('hmm_sharpness')}).",
            "",
            table(_rows(harmony["overall"]), ["system", *HARMONY_FIGURES]),
        ]
        for source, figures in harmony.get("per_source", {}).items():
            rest = {k: v for k, v in figures.items() if k != "tunes"}
            parts += [
                "",
                f"### {source} ({figures.get('tunes')} tunes)",
                "",
                table(_rows(rest), ["system", *HARMONY_FIGURES]),
            ]
    accompaniment = (evaluation or {}).get("accompaniment")
    if accompaniment:
        parts += ["", *arrangement_section(accompaniment)]
    if log_rows:
        parts += [
            "",
            "### Training log",
            "",
            *log_table(log_rows, ["epoch", "step", "train_loss", "val_all_exact", "val_all_root", "val_bach_exact"]),
        ]
    parts += [
        "",
        "## Reproduce",
        "",
        "```",
        "python -m engine.data harmony --nottingham DIR --out data_cache/harmony.npz",
        "python -m engine.train harmonizer --data data_cache/harmony.npz --out checkpoints/harmonizer",
        "python -m engine.evaluate arrange --data DIR --json > arrange.json",
        "python -m engine.evaluate card checkpoints/harmonizer --eval arrange.json",
        "```",
        "",
    ]
    return "\n".join(parts)
