"""How well the emotion pipeline carries a feeling (``python -m engine.evaluate emotion``).

``samples`` melodies, a quarter per quadrant, seeds fixed (seed + i), through EmotionPipeline:
* ``parse_success``: share of final tunes music21 parses into a score with notes (a tune the
  pipeline could not make in MAX_ATTEMPTS tries counts as a failure); ``first_try_share``: share
  made at the first draw; ``parse_success_unconstrained``: the same model sampled without the
  token grammar (for comparison);
* ``mode_accuracy_raw``: on the model's own tune, before the template rewrites the key: music21's
  key analysis says major for Q1/Q4 and minor for Q2/Q3 (the pipeline draws again when it does
  not, so ``mode_accuracy_first_draw`` gives the same figure for the first readable draw, without
  that check: the model alone; ``draws_per_tune_mean`` what the check costs);
* ``arousal_separation``: share of Q1/Q2 tunes (raw) whose pitch standard deviation exceeds the
  median of the Q3/Q4 tunes';
* ``template_adherence``: share of tunes whose tempo lies in the template's range, whose notes are
  the mode-rewritten raw tune moved by the template's register shift, whose velocities are the
  template's loudness and whose K: fields are in the template's mode;
* ``quadrant_accuracy``: share of final tunes the feature judge (trained with the model on the
  labelled real tunes, stored in its config) assigns to the quadrant asked for, beside the judge's
  own accuracy on held-out real tunes (``judge_accuracy_real``); ``quadrant_accuracy_first_draw``:
  the same for the first readable draw (no draw and check);
* ``abc2midi_clean``: share of final tunes abc2midi (Debian ``abcmidi``, the reference reader) reads
  with no error and no warning (None without abc2midi), with what it said about the others;
* ``form``: per quadrant, for the model's tunes and (``real``: ABC folders, labelled as the training
  data is) real tunes of the same quadrant label: ``bar_repeat_share`` (neighbouring bars that are the
  same bar again), ``distinct_bar_share``, ``phrase_form_share`` (tunes built of phrases that come
  back), ``pitch_class_entropy`` (bits) and, for the model, ``interval_overlap`` with the real tunes'
  interval histogram (engine.eval.metrics.abc_form);
* ``sweep`` (``variants``: sampling settings to compare, e.g. ``guidance=3 keep_mode_third=true``): for each, the
  first-draw figures (mode, quadrant, per quadrant, pitch spread, bar repetition, seconds per tune) on the same seeds,
  the shipped settings first (:func:`first_draw_sweep`).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.eval.metrics import abc_form
from engine.eval.metrics.melody import INTERVAL_CLIP, histogram_overlap
from engine.models.feature_judge import FeatureJudge, tune_features
from engine.pipelines.base import seeded_generator

DATA = "none: the tunes are drawn from the model; the feature judge that hears them is stored in its checkpoint"


def _pitches(abc: str) -> list[int]:
    from music21 import converter

    from engine.io.abc import as_abc21

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [p.midi for n in converter.parse(as_abc21(abc), format="abc").flatten().notes for p in n.pitches]


def _adheres(tune) -> bool:
    """The template as set: tempo in range, register shift, loudness and mode (see the module docstring)."""
    from engine.io.abc import read_abc_text
    from engine.io.abc_text import transpose_abc
    from engine.pipelines.emotion_template import set_mode

    t = tune.template
    lo, hi = t.tempo_range
    if not (lo - 0.5 <= tune.tempo_bpm <= hi + 0.5 and abs(tune.sheet.melody.tempo_bpm - tune.tempo_bpm) < 1e-6):
        return False
    expected = set_mode(tune.abc_raw, t.mode) if t.mode else tune.abc_raw
    if t.register_shift:
        expected = transpose_abc(expected, t.register_shift)
    if [n.pitch for n in read_abc_text(expected).melody.notes] != [n.pitch for n in tune.sheet.melody.notes]:
        return False
    if any(n.velocity != t.velocity for n in tune.sheet.melody.notes):
        return False
    if t.mode:
        keys = [line[2:] for line in tune.abc.splitlines() if line.startswith("K:")]
        minor = [k.strip().endswith("m") for k in keys]
        if not keys or any(m != (t.mode == "minor") for m in minor):
            return False
    return True


@torch.no_grad()
def evaluate_emotion(
    checkpoint: str | None = None,
    samples: int = 100,
    bars: int = 16,
    seed: int = 0,
    device: str = "auto",
    unconstrained: int = 20,
    real: list[str] | None = None,
    real_cache: str | None = None,
    real_per_quadrant: int = 200,
    variants: list[str] | None = None,
    sweep_samples: int = 100,
) -> dict:
    """All the figures of the module docstring, as one JSON-ready dict (``real``: ABC folders of labelled real tunes
    for the form figures, read through ``real_cache``, at most ``real_per_quadrant`` a quadrant; ``variants``: sampling
    settings for the sweep, ``sweep_samples`` tunes each)."""
    from engine.models.feature_judge import tune_mode
    from engine.models.registry import CheckpointConfig, read_config
    from engine.music.constants import QUADRANTS
    from engine.paths import default_checkpoint
    from engine.pipelines.emotion import EmotionInputError, EmotionPipeline, EmotionTune

    path = checkpoint or default_checkpoint("abc_emotion")
    pipe = EmotionPipeline.from_pretrained(path, device)
    for text in variants or []:  # a mistyped setting is named before the long run, not after it
        parse_variant(text, pipe.generation)
    meta: CheckpointConfig | dict[str, Any] = read_config(path, "abc_emotion") if str(path) != "debug" else {}
    judge = FeatureJudge.from_dict(meta["judge"]) if "judge" in meta else None
    per_quadrant = max(1, samples // len(QUADRANTS))
    made: dict[str, list[EmotionTune]] = {q: [] for q in QUADRANTS}
    failures, seconds = 0, []
    for q in QUADRANTS:
        for i in range(per_quadrant):
            started = time.perf_counter()
            try:
                made[q].append(pipe(quadrant=q, num_bars=bars, seed=seed + i).samples[0])
            except EmotionInputError:
                failures += 1
            seconds.append(time.perf_counter() - started)
    tunes = [(q, t) for q in QUADRANTS for t in made[q]]
    total = per_quadrant * len(QUADRANTS)
    parsed = sum(1 for _, t in tunes if tune_features(t.abc) is not None)
    modes = [(q, tune_mode(t.abc_raw)) for q, t in tunes]
    mode_hits = [m == ("major" if q in ("Q1", "Q4") else "minor") for q, m in modes]
    sd = {q: [float(np.std(_pitches(t.abc_raw))) for t in made[q]] for q in QUADRANTS}
    calm_median = float(np.median(sd["Q3"] + sd["Q4"])) if sd["Q3"] + sd["Q4"] else 0.0
    excited = sd["Q1"] + sd["Q2"]
    result = {
        "task": "emotion",
        "checkpoint": str(path),
        "samples": total,
        "bars": bars,
        "parse_success": round(parsed / total, 4),
        "first_try_share": round(sum(t.attempts == 1 for _, t in tunes) / total, 4),
        "draws_per_tune_mean": round(float(np.mean([t.attempts for _, t in tunes])), 3) if tunes else 0.0,
        "mode_accuracy_raw": round(float(np.mean(mode_hits)), 4) if mode_hits else 0.0,
        "mode_accuracy_raw_per_quadrant": {
            q: round(float(np.mean([h for (qq, _), h in zip(modes, mode_hits) if qq == q])), 4)
            for q in QUADRANTS
            if made[q]
        },
        "arousal_separation": round(float(np.mean([s > calm_median for s in excited])), 4) if excited else 0.0,
        "pitch_sd_per_quadrant": {q: round(float(np.mean(v)), 3) for q, v in sd.items() if v},
        "template_adherence": round(sum(_adheres(t) for _, t in tunes) / total, 4),
        "seconds_per_tune_p50": round(float(np.median(seconds)), 3),
    }
    first = EmotionPipeline.from_pretrained(path, device, select=False)
    first_tunes = [
        (q, first(quadrant=q, num_bars=bars, seed=seed + i).samples[0]) for q in QUADRANTS for i in range(per_quadrant)
    ]
    first_hits = [tune_mode(t.abc_raw) == ("major" if q in ("Q1", "Q4") else "minor") for q, t in first_tunes]
    result["mode_accuracy_first_draw"] = round(float(np.mean(first_hits)), 4)
    if judge is not None:
        result["quadrant_accuracy"] = _judged(judge, tunes)
        result["quadrant_accuracy_first_draw"] = _judged(judge, first_tunes)
        result["judge_accuracy_real"] = meta.get("training", {}).get("data_stats", {}).get("judge_accuracy_val")
    result.update(_reference_reader(tunes))
    own = {q: [t.abc_raw for t in made[q]] for q in QUADRANTS}
    result["form"] = form_figures(own, real, real_cache, real_per_quadrant)
    result["generation"] = pipe.generation.to_dict()
    if variants:
        sweep_per_quadrant = max(1, sweep_samples // len(QUADRANTS))
        result["sweep"] = first_draw_sweep(first, judge, variants, sweep_per_quadrant, bars, seed)
    if unconstrained:
        result["parse_success_unconstrained"] = _unconstrained_parse_rate(pipe, unconstrained, bars, seed)
    return result


def _unconstrained_parse_rate(pipe, count: int, bars: int, seed: int) -> float:
    """Share of tunes music21 reads when the model samples freely (no token grammar), prompted like the pipeline."""
    from engine.music.constants import QUADRANTS

    ok = 0
    for i in range(count):
        q = QUADRANTS[i % len(QUADRANTS)]
        generator = seeded_generator(seed + i, pipe.model.device)
        prompt = pipe.tokenizer.encode(f"A:{q}\nB:{bars}\n")
        tokens = pipe.model.generate(
            [prompt],
            [1.0],
            pipe.model.config.context - len(prompt) - 1,
            generator,
            temperature=pipe.generation.temperature,
            top_k=pipe.generation.top_k,
            top_p=pipe.generation.top_p,
        )
        if tune_features("X:1\n" + pipe.tokenizer.decode(tokens) + "\n") is not None:
            ok += 1
    return round(ok / count, 4)


def _judged(judge: FeatureJudge, tunes: list) -> float:
    """Share of (quadrant, tune) pairs whose final tune the feature judge assigns to the quadrant."""
    read = [(q, tune_features(t.abc)) for q, t in tunes]
    features = [(q, f) for q, f in read if f is not None]
    if not features:
        return 0.0
    predicted = judge.predict([f for _, f in features])
    return round(float(np.mean([p == q for (q, _), p in zip(features, predicted)])), 4)


def _reference_reader(tunes: list) -> dict[str, Any]:
    """abc2midi's verdict on the final tunes: the clean share and up to five of its complaints."""
    if not abc_form.abc2midi_available():
        return {"abc2midi_clean": None, "abc2midi_note": "abc2midi is not installed (Debian package abcmidi)"}
    verdicts = [abc_form.abc2midi_clean(t.abc) for _, t in tunes]
    said = [text for ok, text in verdicts if not ok][:5]
    return {"abc2midi_clean": round(float(np.mean([ok for ok, _ in verdicts])), 4), "abc2midi_said": said}


def _form_of(texts: list[str]) -> dict[str, float | None]:
    def mean(values: list[float | None]) -> float | None:
        kept = [v for v in values if v is not None]
        return round(float(np.mean(kept)), 4) if kept else None

    pitches = [_pitches(t) for t in texts]
    return {
        "tunes": len(texts),
        "bar_repeat_share": mean([abc_form.bar_repeat_share(t) for t in texts]),
        "distinct_bar_share": mean([abc_form.distinct_bar_share(t) for t in texts]),
        "phrase_form_share": mean([float(abc_form.has_phrase_form(t)) for t in texts]),
        "pitch_class_entropy": mean([abc_form.pitch_class_entropy(p) for p in pitches]),
    }


def _intervals(texts: list[str]) -> np.ndarray:
    histograms = [abc_form.interval_histogram_of(_pitches(t)) for t in texts]
    return np.mean(histograms, axis=0) if histograms else np.zeros(2 * INTERVAL_CLIP + 1)


def form_figures(
    model: dict[str, list[str]], real: list[str] | None, cache: str | None, per_quadrant: int = 200
) -> dict[str, dict]:
    """Per quadrant: the form figures of the model's tunes (``model``: quadrant -> ABC texts) and, with ``real``
    ABC folders, of real tunes of the same quadrant label (EMusicGen's rough labels, engine.data.abc), with the
    overlap of the two interval histograms."""
    out: dict[str, dict] = {"model": {q: _form_of(texts) for q, texts in model.items()}}
    if not real:
        return out
    from engine.data.abc import label_corpus

    folders: list[str | Path] = list(real)
    labelled = label_corpus(folders, cache or "data_cache/abc_labelled_eval.jsonl")
    by_quadrant = {q: [t.text for t in labelled if t.quadrant == q][:per_quadrant] for q in model}
    out["real"] = {q: _form_of(texts) for q, texts in by_quadrant.items()}
    out["interval_overlap"] = {
        q: round(histogram_overlap(_intervals(model[q]), _intervals(by_quadrant[q])), 4)
        for q in model
        if model[q] and by_quadrant[q]
    }
    return out


def parse_variant(text: str, base):
    """Sampling settings from ``"name=value name=value"`` over ``base`` (an EmotionGenerationConfig): numbers and
    true/false as their types; an unknown name or a value of the wrong type raises CadenzaInputError naming it."""
    import dataclasses

    from engine.music.errors import CadenzaInputError

    fields = {f.name: f for f in dataclasses.fields(base)}
    changes: dict[str, Any] = {}
    for item in text.split():
        name, _, value = item.partition("=")
        if name not in fields:
            raise CadenzaInputError(f"unknown sampling setting '{name}' (known: {', '.join(fields)})")
        current = getattr(base, name)
        try:
            if isinstance(current, bool):
                changes[name] = {"true": True, "1": True, "false": False, "0": False}[value.lower()]
            else:
                changes[name] = type(current)(value)
        except (KeyError, ValueError):
            raise CadenzaInputError(f"'{item}': {name} takes a {type(current).__name__}") from None
    return dataclasses.replace(base, **changes)


def first_draw_sweep(pipe, judge: FeatureJudge | None, variants: list[str], per_quadrant: int, bars: int, seed: int):
    """For each variant of the sampling settings (see :func:`parse_variant`; the pipeline's own first), the model's
    first readable draw on the same seeds: mode and quadrant accuracy overall and per quadrant, mean pitch spread,
    neighbouring bars repeated, distinct bars and seconds per tune."""
    from engine.models.feature_judge import tune_mode
    from engine.music.constants import QUADRANTS

    out: dict[str, dict] = {}
    for text in ["shipped", *variants]:
        settings = pipe.generation if text == "shipped" else parse_variant(text, pipe.generation)
        rows: dict[str, list[tuple[bool, bool, float, float, float]]] = {q: [] for q in QUADRANTS}
        seconds = []
        for q in QUADRANTS:
            for i in range(per_quadrant):
                started = time.perf_counter()
                tune = pipe(quadrant=q, num_bars=bars, seed=seed + i, generation=settings).samples[0]
                seconds.append(time.perf_counter() - started)
                features = tune_features(tune.abc)
                judged = judge is not None and features is not None and judge.predict([features])[0] == q
                rows[q].append(
                    (
                        tune_mode(tune.abc_raw) == ("major" if q in ("Q1", "Q4") else "minor"),
                        judged,
                        features["pitch_sd"] if features else 0.0,
                        abc_form.bar_repeat_share(tune.abc_raw) or 0.0,
                        abc_form.distinct_bar_share(tune.abc_raw) or 0.0,
                    )
                )

        def mean(values) -> float:
            return round(float(np.mean(list(values))), 4)

        every = [row for q in QUADRANTS for row in rows[q]]
        out[text] = {
            "settings": {k: v for k, v in settings.to_dict().items() if v != getattr(pipe.generation, k)}
            if text != "shipped"
            else settings.to_dict(),
            "tunes": len(every),
            "mode_accuracy_first_draw": mean(r[0] for r in every),
            "quadrant_accuracy_first_draw": mean(r[1] for r in every),
            "per_quadrant": {
                q: {
                    "mode": mean(r[0] for r in rows[q]),
                    "quadrant": mean(r[1] for r in rows[q]),
                    "pitch_sd": round(float(np.mean([r[2] for r in rows[q]])), 3),
                    "bar_repeat_share": mean(r[3] for r in rows[q]),
                    "distinct_bar_share": mean(r[4] for r in rows[q]),
                }
                for q in QUADRANTS
            },
            "seconds_per_tune_p50": round(float(np.median(seconds)), 3),
        }
    return out
