"""The control report beside each result, as HTML: what was asked, what came out (engine.eval.report's figures).

A small table, one row per control: the control, what was asked, what was measured, and a
mark: ✓ where the result does what was asked, ✗ where it does not, nothing where the figure
only describes (range, chord tones). Plain dicts in, a string out: no engine import here.
"""

from __future__ import annotations

from html import escape
from typing import Any

QUADRANT_WORDS = {"Q1": "happy", "Q2": "tense", "Q3": "sad", "Q4": "calm"}

REPORT_CSS = """
.cz-report { font-size: 0.85em; margin-top: 4px; }
.cz-report table { border-collapse: collapse; width: 100%; }
.cz-report td, .cz-report th { padding: 1px 6px; border-bottom: 1px solid var(--border-color-primary); \
text-align: left; }
.cz-report th { color: var(--body-text-color-subdued); font-weight: 600; }
.cz-report .cz-yes { color: var(--color-green-600, #16a34a); }
.cz-report .cz-no { color: var(--color-red-600, #dc2626); font-weight: 600; }
"""


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def _mark(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "<span class='cz-yes'>✓</span>" if ok else "<span class='cz-no'>✗</span>"


def report_rows(report: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(control, asked, measured, ok) rows of a report from engine.eval.report."""
    rows: list[tuple[str, str, str, bool | None]] = []
    onsets = report.get("onsets")
    if onsets:
        ok = onsets["placed"] == onsets["drawn"] and onsets["extra"] == 0
        rows.append(
            (
                "Rhythm",
                f"{onsets['drawn']} onsets drawn",
                f"{onsets['placed']} placed on them, {onsets['extra']} elsewhere",
                ok,
            )
        )
    if report.get("chord_tones") is not None:
        rows.append(("Chords", "the progression", f"{_pct(report['chord_tones'])} of note time on chord tones", None))
    in_key = report.get("in_key")
    if in_key and in_key.get("share") is not None:
        rows.append(("Key", str(in_key["key"]), f"{_pct(in_key['share'])} of note time in its scale", None))
    rng = report.get("range")
    if rng:
        rows.append(("Range", "", f"{rng['low']}–{rng['high']} ({rng['semitones']} semitones)", None))
    tempo = report.get("tempo")
    if tempo:
        asked = tempo.get("asked")
        rows.append(
            (
                "Tempo",
                "" if asked is None else f"{asked:g} BPM",
                f"{tempo['file']:g} BPM in the file",
                None if asked is None else abs(asked - tempo["file"]) < 0.5,
            )
        )
    emotion = report.get("emotion")
    if emotion:
        asked_q = emotion.get("asked")
        asked_words = f"{QUADRANT_WORDS.get(asked_q, asked_q)} ({asked_q})" if asked_q else ""
        judged = emotion.get("judged")
        if judged:
            rows.append(
                (
                    "Feeling",
                    asked_words,
                    f"the feature judge hears {QUADRANT_WORDS.get(judged, judged)} ({judged})",
                    judged == asked_q,
                )
            )
        mode = emotion.get("mode_heard")
        if mode and asked_q:
            wanted = "major" if asked_q in ("Q1", "Q4") else "minor"
            rows.append(("Mode", wanted, f"music21 hears {mode}", mode == wanted))
        span = emotion.get("tempo_range")
        if span and tempo:
            rows.append(
                (
                    "Tempo range",
                    f"{span[0]:g}–{span[1]:g} BPM",
                    f"{tempo['file']:g} BPM",
                    span[0] <= tempo["file"] <= span[1],
                )
            )
        if emotion.get("mean_pitch") is not None:
            rows.append(
                (
                    "Register",
                    "",
                    f"mean pitch {emotion['mean_pitch']:.1f}, spread {emotion['pitch_sd']:.2f} semitones",
                    None,
                )
            )
        if emotion.get("velocity") is not None:
            rows.append(("Loudness", "", f"velocity {emotion['velocity']:g}", None))
    return rows


def report_html(report: dict[str, Any] | None) -> str:
    """The report as a small HTML table ("" for None)."""
    if not report:
        return ""
    body = "".join(
        f"<tr><td>{escape(c)}</td><td>{escape(a)}</td><td>{escape(m)} {_mark(ok)}</td></tr>"
        for c, a, m, ok in report_rows(report)
    )
    return f"<div class='cz-report'><table><tr><th>Control</th><th>Asked</th><th>Measured</th></tr>{body}</table></div>"
