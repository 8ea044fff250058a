"""How an ABC tune is built and whether the reference tool reads it: bars that loop or develop, phrases that come back,
pitch-class entropy, interval histograms, and abc2midi's verdict.

Bars are compared as written, notes only: spaces, bar lines, repeat signs and ending numbers are left out, so
``G2GB G2F2`` and ``G2GBG2F2`` are the same bar. Used by ``python -m engine.evaluate emotion`` beside real tunes of
the same quadrant labels.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.eval.metrics.melody import interval_histogram

_FIELD = re.compile(r"^[A-Za-z]:")
_BAR_LINE = re.compile(r"\|\]|\[\||\|\||:\|\]?|\|:|::|\|")


def _body(abc: str) -> str:
    return " ".join(line for line in abc.split("\n") if line.strip() and not _FIELD.match(line) and "%" not in line[:1])


def written_bars(abc: str) -> list[str]:
    """The tune's bars as written, notes only (no spaces, bar lines, repeat signs or ending numbers); empty bars
    (between two bar lines) left out."""
    bars = []
    for chunk in _BAR_LINE.split(_body(abc)):
        notes = re.sub(r"^\[?\d+", "", chunk.strip()).replace(" ", "")
        notes = notes.strip(":[]")
        if notes:
            bars.append(notes)
    return bars


def bar_repeat_share(abc: str) -> float | None:
    """Share of neighbouring bars that are the same bar again (None: fewer than two bars)."""
    bars = written_bars(abc)
    if len(bars) < 2:
        return None
    return float(np.mean([a == b for a, b in zip(bars, bars[1:])]))


def distinct_bar_share(abc: str) -> float | None:
    """Distinct bars over bars (1: no bar comes twice; None: no bars)."""
    bars = written_bars(abc)
    return len(set(bars)) / len(bars) if bars else None


def has_phrase_form(abc: str) -> bool:
    """Whether the tune is built of phrases that come back: a repeated section of at least two bars (``|: ... :|``,
    ``::``), or two bars in a row that come again later (not overlapping). The same bar played four times in a row
    is not a phrase form."""
    body = _body(abc)
    sections = re.findall(r"(?:\|:|::)(.*?)(?=:\||::)", body)
    first_close, first_open = body.find(":|"), body.find("|:")
    if first_close >= 0 and (first_open < 0 or first_close < first_open):
        sections.append(body[:first_close])  # a :| with no |: before it repeats from the start
    if any(len(written_bars(section)) >= 2 for section in sections):
        return True
    bars = written_bars(abc)
    pairs = [(bars[i], bars[i + 1]) for i in range(len(bars) - 1) if bars[i] != bars[i + 1]]
    return any(pairs[i] in pairs[i + 2 :] for i in range(len(pairs)))


def pitch_class_entropy(pitches: Sequence[int]) -> float:
    """Shannon entropy (bits) of the pitch classes of ``pitches`` (0 for none)."""
    if not len(pitches):
        return 0.0
    counts = np.bincount(np.asarray(pitches) % 12, minlength=12).astype(float)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def interval_histogram_of(pitches: Sequence[int]) -> np.ndarray:
    """Share of each melodic interval between ``pitches`` -12..12 semitones (wider ones clipped), shape (25,)."""
    return interval_histogram(np.diff(np.asarray(pitches, dtype=int)))


def abc2midi_available() -> bool:
    return shutil.which("abc2midi") is not None


def abc2midi_clean(abc: str, timeout: float = 30.0) -> tuple[bool, str]:
    """(whether abc2midi reads the tune with no error and no warning, what it said). Raises FileNotFoundError
    when abc2midi (Debian ``abcmidi``) is not installed."""
    if not abc2midi_available():
        raise FileNotFoundError("abc2midi is not installed (Debian package abcmidi)")
    with tempfile.TemporaryDirectory(prefix="cadenza_abc2midi_") as folder:
        source = Path(folder) / "tune.abc"
        source.write_text(abc if abc.endswith("\n") else abc + "\n")
        run = subprocess.run(
            ["abc2midi", str(source), "-o", str(Path(folder) / "tune.mid")],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    said = (run.stdout + run.stderr).strip()
    problems = [line for line in said.splitlines() if re.search(r"warning|error", line, re.I)]
    return run.returncode == 0 and not problems, "\n".join(problems)
