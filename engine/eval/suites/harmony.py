"""Chord suggestion measured against real harmonisations, beside two baselines and the real chords themselves.

On the held-out tunes (the same seeded split as training: Nottingham tunes from ``--data``, the O'Neill and Ryan's
tunes with chords and the Bach chorales of the music21 corpus), four harmonisations of every melody:

* ``model``: the chord suggester's most likely progression (engine.pipelines.harmonize);
* ``hmm``: a hidden Markov model over chords with the slots' melody notes as observations (engine.models.chord_hmm),
  fitted on the training tunes of the harmony cache;
* ``inference``: the engine's own chord inference from notes (engine.music.chords.infer_chords: a triad per bar);
* ``real``: the chords the tune came with.

For each: exact chord and root accuracy per slot against the real chords (key-relative classes), and the figures of
Yeh et al. (2020) (engine.eval.metrics.harmony): CTnCTR, PCS, MCTD and chords per bar, averaged over tunes, overall
and per source.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.harmony import HarmonyTune, corpus_jobs, load_harmony_cache, read_harmony_tunes
from engine.eval.metrics.harmony import harmony_figures
from engine.models.chord_hmm import ChordHMM
from engine.music import LeadSheet
from engine.music.chord_vocab import QUALITIES, chord_slots, classes_to_progression, slot_labels
from engine.music.chords import infer_chords
from engine.music.notes import ChordProgression
from engine.pipelines.harmonize import HarmonizePipeline

DATA = (
    "a folder of MIDI tunes with a chord track (the Nottingham folder) for --data; the harmony cache "
    "(python -m engine.data harmony) for the HMM's training tunes; the music21 corpus comes with the package"
)
SYSTEMS = ("model", "hmm", "inference", "real")
HARMONY_FIGURES = ("exact", "root", "ctnctr", "pcs", "mctd", "chords_per_bar")


def _classes(tune: HarmonyTune, progression: ChordProgression) -> np.ndarray:
    assert tune.sheet is not None
    return slot_labels(LeadSheet(tune.sheet.melody, progression), tune.key)


def harmonisations(tune: HarmonyTune, pipeline: HarmonizePipeline, hmm: ChordHMM) -> dict[str, ChordProgression]:
    """The four progressions of one held-out tune (see the module docstring)."""
    assert tune.sheet is not None
    melody = tune.sheet.melody
    slots = chord_slots(melody)
    # the whole tune at once (the pipeline's call takes 32 bars at most: a person's request, not the model's limit)
    model = pipeline.probabilities(melody, tune.key, slots).argmax(-1).tolist()
    return {
        "model": classes_to_progression(model, slots, tune.key),
        "hmm": classes_to_progression(hmm.decode(tune.features), slots, tune.key),
        "inference": infer_chords(melody),
        "real": tune.sheet.chords,
    }


def tune_figures(tune: HarmonyTune, progressions: dict[str, ChordProgression]) -> dict[str, dict[str, float | None]]:
    """Every figure of every system for one tune."""
    assert tune.sheet is not None
    out = {}
    for name, progression in progressions.items():
        classes = tune.labels if name == "real" else _classes(tune, progression)
        figures: dict[str, float | None] = {
            "exact": float(np.mean(classes == tune.labels)),
            "root": float(np.mean(classes // len(QUALITIES) == tune.labels // len(QUALITIES))),
        }
        figures.update(harmony_figures(tune.sheet.melody, progression))
        out[name] = figures
    return out


def _means(rows: list[dict[str, dict[str, float | None]]]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for system in SYSTEMS:
        out[system] = {}
        for figure in HARMONY_FIGURES:
            values = [v for r in rows if (v := r[system][figure]) is not None]
            out[system][figure] = round(float(np.mean(values)), 4) if values else None
    return out


def evaluate_harmony(
    data: str | Path | None,
    cache: str | Path,
    checkpoint: str | Path | None = None,
    max_tunes: int | None = None,
    device: str = "cpu",
    workers: int = 2,
    music21: bool = True,
) -> dict[str, Any]:
    """The figures of the module docstring, overall and per source, with the run's counts (``music21``: with the
    music21 corpus's held-out tunes and chorales)."""
    from engine.data.style import corpus_root

    started = time.time()
    pipeline = HarmonizePipeline.from_pretrained(checkpoint, device=device)
    training = [t for t in load_harmony_cache(cache) if not t.held_out]
    hmm = ChordHMM.fit((t.features, t.labels) for t in training)
    tunes = read_harmony_tunes(corpus_jobs(data, corpus_root() if music21 else None, held_out=True), workers)
    tunes = sorted(tunes, key=lambda t: t.name)[: max_tunes or None]
    rows, sources = [], []
    for tune in tunes:
        rows.append(tune_figures(tune, harmonisations(tune, pipeline, hmm)))
        sources.append(tune.source)
    per_source = {
        source: {"tunes": sources.count(source), **_means([r for r, s in zip(rows, sources) if s == source])}
        for source in sorted(set(sources))
    }
    return {
        "checkpoint": str(checkpoint or "checkpoints/harmonizer"),
        "tunes": len(rows),
        "slots": int(sum(len(t.labels) for t in tunes)),
        "hmm_training_tunes": len(training),
        "hmm_sharpness": hmm.sharpness,
        "overall": _means(rows),
        "per_source": per_source,
        "seconds": round(time.time() - started, 1),
    }
