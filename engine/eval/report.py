"""What was asked and what came out, measured: the control report beside every result.

No peer studio shows one. For a melody (a :class:`LeadSheet`) and the controls a user set:

* ``onsets``: of the steps drawn on the rhythm grid, how many got a note starting there, and
  how many notes start elsewhere (only when a rhythm was drawn);
* ``chord_tones``: share of the melody's note time (in steps) spent on a tone of the chord
  sounding then (notes under no chord are left out);
* ``in_key``: share of note time on the key's scale (for a minor key the natural minor with
  the raised 6th and 7th: melodic and harmonic minor are at home in it);
* ``range``: lowest and highest note and the span in semitones;
* ``tempo``: asked and written in the file (BPM);
* for emotion tunes (:func:`emotion_report`): tempo, the mode music21 hears, mean pitch,
  pitch spread and loudness, and the feature judge's quadrant beside the one asked.

Every function returns plain JSON-ready dicts: the CLI prints them with ``--json`` and the
studio formats them (app/components/control_report.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.eval.metrics.melody import chord_tone_steps
from engine.models.feature_judge import FeatureJudge, TuneHearing, hear_tune
from engine.music import LeadSheet, Note
from engine.music.constants import note_name
from engine.music.representation import melody_to_tokens
from engine.music.tonality import MAJOR_SCALE, MINOR_SCALE, parse_key

MINOR_IN_KEY = tuple(sorted({*MINOR_SCALE, 9, 11}))  # natural minor + raised 6th and 7th


def in_key_pitch_classes(key: str) -> tuple[int, ...]:
    """Pitch classes counted as in ``key`` (see the module docstring)."""
    tonic, minor = parse_key(key)
    return tuple(sorted((tonic + step) % 12 for step in (MINOR_IN_KEY if minor else MAJOR_SCALE)))


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def onset_report(notes: list[Note], drawn: list[int]) -> dict[str, Any]:
    """Drawn onset steps against the notes' onsets."""
    starts = {n.start for n in notes}
    wanted = set(drawn)
    placed = len(wanted & starts)
    return {"drawn": len(wanted), "placed": placed, "extra": len(starts - wanted), "share": _share(placed, len(wanted))}


def sheet_chord_tone_share(sheet: LeadSheet) -> float | None:
    """Share of note time (steps) on tones of the chord sounding then (engine.eval.metrics.melody.chord_tone_share of
    the melody's tokens over its chords); None when no note sounds under a chord."""
    steps = max([sheet.melody.num_steps, *(n.end for n in sheet.melody.notes)])
    on, total = chord_tone_steps(melody_to_tokens(sheet.melody, 0, steps), sheet.chords.chroma(steps))
    return _share(on, total)


def in_key_share(notes: list[Note], key: str) -> float | None:
    """Share of note time on the scale of ``key``."""
    scale = set(in_key_pitch_classes(key))
    total = sum(n.duration for n in notes)
    return _share(sum(n.duration for n in notes if n.pitch % 12 in scale), total)


def melody_report(
    sheet: LeadSheet, *, drawn_onsets: list[int] | None = None, key: str | None = None, tempo_bpm: float | None = None
) -> dict[str, Any]:
    """The control report of a melody: see the module docstring. ``drawn_onsets`` are steps from the start of the
    melody; ``key`` the key asked (else the melody's own); ``tempo_bpm`` the tempo asked."""
    melody = sheet.melody
    notes = melody.notes
    report: dict[str, Any] = {"notes": len(notes), "bars": round(melody.num_steps / (melody.steps_per_bar or 16), 2)}
    if drawn_onsets is not None:
        report["onsets"] = onset_report(notes, drawn_onsets)
    report["chord_tones"] = sheet_chord_tone_share(sheet)
    key = key or melody.key
    if key:
        try:
            report["in_key"] = {"key": key, "share": in_key_share(notes, key)}
        except Exception:  # noqa: BLE001 - a key name the parser does not know: leave the figure out
            pass
    if notes:
        low, high = min(n.pitch for n in notes), max(n.pitch for n in notes)
        report["range"] = {"low": note_name(low), "high": note_name(high), "semitones": high - low}
    report["tempo"] = {
        "asked": None if tempo_bpm is None else round(float(tempo_bpm), 2),
        "file": round(float(melody.tempo_bpm), 2),
    }
    return report


def emotion_report(
    sheet: LeadSheet,
    abc: str,
    asked_quadrant: str,
    judge: FeatureJudge | None = None,
    tempo_range: tuple[float, float] | None = None,
    heard: TuneHearing | None = None,
) -> dict[str, Any]:
    """An emotion tune's report: :func:`melody_report` plus the features the feeling sets and the judge's quadrant
    (``judge``: an :class:`engine.models.feature_judge.FeatureJudge`, or None; ``heard``: the ABC's key analysis and
    features when the caller has them, else the ABC is read here)."""
    heard = heard if heard is not None else hear_tune(abc)
    report = melody_report(sheet)
    pitches = [n.pitch for n in sheet.melody.notes]
    report["emotion"] = {
        "asked": asked_quadrant,
        "tempo_range": list(tempo_range) if tempo_range else None,
        "mode_heard": heard.mode,
        "mean_pitch": round(float(np.mean(pitches)), 2) if pitches else None,
        "pitch_sd": round(float(np.std(pitches)), 3) if pitches else None,
        "velocity": round(float(np.mean([n.velocity for n in sheet.melody.notes])), 1) if pitches else None,
        "judged": None,
    }
    if judge is not None:
        if heard.features is not None:
            report["emotion"]["judged"] = str(judge.predict([heard.features])[0])
    return report
