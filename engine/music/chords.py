"""Chord symbols <-> pitch classes.

Parsing uses music21's ``harmony.ChordSymbol`` (which spells flats as ``-``);
we only normalise the common lead-sheet spellings (``Bb``, ``Bb/D``, ``N.C.``)
before handing the symbol over, and turn its errors into messages that name
the symbol. Recognition (pitch classes -> symbol) is template matching, used
when reading the chord track of a MIDI file.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from engine.music.constants import NOTE_NAMES
from engine.music.errors import ChordSymbolError
from engine.music.notes import Chord, ChordProgression

NO_CHORD_SPELLINGS = {"N.C.", "NC", "N.C", "N", "-"}

_SYMBOL_RE = re.compile(r"^([A-Ga-g])([#b]?)([^/]*)(?:/([A-Ga-g])([#b]?))?$")

# Suffix -> intervals above the root; the order decides ties in recognition
# (simpler chords first).
CHORD_TEMPLATES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "m7": (0, 3, 7, 10),
    "maj7": (0, 4, 7, 11),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus4": (0, 5, 7),
    "sus2": (0, 2, 7),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "dim7": (0, 3, 6, 9),
    "m7b5": (0, 3, 6, 10),
}


def is_no_chord(symbol: str) -> bool:
    return symbol.strip().upper() in NO_CHORD_SPELLINGS


@lru_cache(maxsize=4096)
def parse_chord_symbol(symbol: str) -> tuple[tuple[int, ...], int | None]:
    """Pitch classes (sorted) and bass pitch class of a chord symbol.

    "N.C." gives ``((), None)``. Raises :class:`ChordSymbolError` naming the
    symbol when it is not a chord.
    """
    text = symbol.strip()
    if not text:
        raise ChordSymbolError("Empty chord symbol")
    if is_no_chord(text):
        return (), None
    match = _SYMBOL_RE.match(text)
    if match is None and "/" in text and _SYMBOL_RE.match(text.split("/")[0]):
        raise ChordSymbolError(
            f"Unknown chord symbol '{symbol}': the bass note after '/' must be a note A-G (e.g. C/E, Bb/D)"
        )
    if match is None:
        raise ChordSymbolError(
            f"Unknown chord symbol '{symbol}': it must start with a root A-G (e.g. C, Am, G7, F#dim, Bb/D, N.C.)"
        )
    root, root_acc, quality, bass, bass_acc = match.groups()
    m21_text = root.upper() + root_acc.replace("b", "-") + quality
    if bass:
        m21_text += "/" + bass.upper() + bass_acc.replace("b", "-")
    from music21 import harmony  # imported lazily: music21 is slow to import

    try:
        cs = harmony.ChordSymbol(m21_text)
        pitch_classes = tuple(sorted({p.pitchClass for p in cs.pitches}))
        bass_pc = cs.bass().pitchClass if cs.bass() is not None else None
    except Exception:  # music21 raises ValueError and its own exceptions, worded for programmers
        raise ChordSymbolError(
            f"Unknown chord symbol '{symbol}': '{quality}' is not a chord type I know "
            "(try e.g. m, 7, maj7, m7, dim, aug, sus4, 6, m7b5, or a bass note like C/E)"
        ) from None
    if not pitch_classes:
        raise ChordSymbolError(f"Unknown chord symbol '{symbol}'")
    return pitch_classes, bass_pc


def make_chord(symbol: str, start: int, end: int) -> Chord:
    """A :class:`Chord` with its pitch classes resolved."""
    pcs, bass = parse_chord_symbol(symbol)
    return Chord(symbol.strip(), start, end, pcs, bass)


def split_progression_text(text: str) -> list[list[str]]:
    """Bars of chord symbols from text.

    "C Am F G" is one chord per bar; "C Am | F G" puts C and Am in bar 1 and
    F and G in bar 2 (as soon as a "|" appears, bars are split by "|").
    Commas count as spaces.
    """
    text = text.replace(",", " ").strip()
    if "|" in text:
        bars = [bar.split() for bar in text.split("|")]
        bars = [bar for bar in bars if bar]
    else:
        bars = [[sym] for sym in text.split()]
    if not bars:  # nothing typed, or only bar lines ("| |")
        raise ChordSymbolError("The chord progression is empty: type chords such as 'C Am F G'")
    return bars


def parse_progression(text: str, num_bars: int, steps_per_bar: int = 16) -> ChordProgression:
    """Chord progression over ``num_bars`` bars from text (see :func:`split_progression_text`).

    A progression shorter than ``num_bars`` repeats; chords within a bar share it equally.
    Raises :class:`ChordSymbolError` naming the first unknown symbol.
    """
    bars = split_progression_text(text)
    for bar in bars:
        for sym in bar:
            parse_chord_symbol(sym)  # validate everything before building
    chords: list[Chord] = []
    for bar_index in range(num_bars):
        bar = bars[bar_index % len(bars)]
        starts = [bar_index * steps_per_bar + (i * steps_per_bar) // len(bar) for i in range(len(bar) + 1)]
        for sym, lo, hi in zip(bar, starts[:-1], starts[1:]):
            if chords and chords[-1].symbol == sym and chords[-1].end == lo:
                chords[-1] = Chord(sym, chords[-1].start, hi, chords[-1].pitch_classes, chords[-1].bass)
            else:
                chords.append(make_chord(sym, lo, hi))
    return ChordProgression(chords)


TRIADS = ("", "m")


@lru_cache(maxsize=64)
def _chord_table(suffixes: tuple[str, ...] | None) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    """Every (root, template) of :data:`CHORD_TEMPLATES` in the order root-major: (symbols, masks (n, 12) float,
    template sizes (n,), roots (n,))."""
    templates = [(k, v) for k, v in CHORD_TEMPLATES.items() if suffixes is None or k in suffixes]
    symbols, masks, sizes, roots = [], [], [], []
    for root in range(12):
        for suffix, intervals in templates:
            mask = np.zeros(12)
            mask[[(root + i) % 12 for i in intervals]] = 1.0
            symbols.append(NOTE_NAMES[root] + suffix)
            masks.append(mask)
            sizes.append(len(intervals))
            roots.append(root)
    return tuple(symbols), np.array(masks), np.array(sizes, dtype=np.float64), np.array(roots)


def recognize_chord(
    weights: np.ndarray, min_weight: float = 1e-6, suffixes: tuple[str, ...] | None = None, root_bonus: float = 0.0
) -> str:
    """Best-matching chord symbol for a 12-d pitch-class weight vector (``"N.C."`` if silent).

    Score = weight inside the template - weight outside it - a small penalty for
    template notes that are missing, so a plain triad wins over its 7th chord
    unless the 7th is actually present. Ties go to the lower root, then to the earlier template.
    """
    weights = np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    if total < min_weight:
        return "N.C."
    weights = weights / total
    symbols, masks, sizes, roots = _chord_table(suffixes)
    # All templates at once (one matrix product, not a loop of 12 x templates: reading a MIDI file's chord track
    # called this per beat and took 0.4 s for 8 bars).
    inside = masks @ weights
    outside = (1.0 - masks) @ weights
    missing = masks @ (weights < 0.02).astype(np.float64)
    scores = inside - outside - 0.15 * missing - 0.01 * sizes + root_bonus * weights[roots]
    # Rounded so that templates that fit equally well tie exactly and the first wins (as the loop this replaced meant).
    return symbols[int(np.argmax(np.round(scores, 9)))]


def infer_chords(melody, steps_per_chord: int | None = None) -> ChordProgression:
    """One major or minor triad per bar (or per ``steps_per_chord``) that best fits the melody's
    duration-weighted pitch classes there: harmony for tunes written without chord symbols
    (e.g. the O'Neill collection), so the models see chords as they do in the Nottingham tunes."""
    span = steps_per_chord or melody.steps_per_bar or 16
    offset = melody.pickup_steps % span  # bars start at the pickup's end
    chords: list[Chord] = []
    for lo in range(offset - span if offset else 0, melody.num_steps, span):
        a, b = max(lo, 0), min(lo + span, melody.num_steps)
        weights = np.zeros(12)
        for note in melody.notes:
            overlap = min(note.end, b) - max(note.start, a)
            if overlap > 0:
                weights[note.pitch % 12] += overlap
        # A melody's few notes fit several triads equally: prefer the one built on the most-heard note.
        symbol = recognize_chord(weights, suffixes=TRIADS, root_bonus=0.02)
        if symbol == "N.C.":
            continue
        if chords and chords[-1].symbol == symbol and chords[-1].end == a:
            chords[-1] = Chord(symbol, chords[-1].start, b, chords[-1].pitch_classes, chords[-1].bass)
        else:
            chords.append(make_chord(symbol, a, b))
    return ChordProgression(chords)


def chroma_to_progression(chroma: np.ndarray) -> ChordProgression:
    """Chord symbols for a per-step chroma (T, 12): one chord per run of equal rows (recognised by template)."""
    chroma = np.asarray(chroma, dtype=np.float32).reshape(-1, 12)
    chords: list[Chord] = []
    start = 0
    for step in range(1, len(chroma) + 1):
        if step < len(chroma) and np.array_equal(chroma[step], chroma[start]):
            continue
        row = chroma[start]
        if row.sum() > 0:
            symbol = recognize_chord(row)
            pcs = tuple(int(pc) for pc in np.flatnonzero(row > 0))
            chords.append(Chord(symbol, start, step, pcs, make_chord(symbol, start, step).bass))
        start = step
    return ChordProgression(chords)
