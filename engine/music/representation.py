"""Matched to/from functions between music objects and model tensors.

Melody tokens (one per sixteenth step), as in EC2-VAE:
    0..127  onset of that MIDI pitch
    128     HOLD (the previous note continues)
    129     REST
Rhythm classes (derived from melody tokens): 0 onset, 1 hold, 2 rest.
Chords: 12-d chroma per step (see ChordProgression.chroma).
A model window is WINDOW_STEPS = 32 steps (two bars of 4/4).
"""

from __future__ import annotations

import numpy as np

from engine.music.constants import HOLD, ONSET, REST, SILENCE, STEPS_PER_BAR_44, SUSTAIN, WINDOW_STEPS
from engine.music.errors import RhythmPatternError
from engine.music.notes import LeadSheet, Melody, Note


def melody_to_tokens(melody: Melody, start: int = 0, num_steps: int = WINDOW_STEPS) -> np.ndarray:
    """Tokens for steps start..start+num_steps, shape (num_steps,), int64.

    A note that began before ``start`` appears as HOLD (its onset is outside the window).
    """
    tokens = np.full(num_steps, REST, dtype=np.int64)
    for note in melody.notes:
        lo, hi = note.start - start, note.end - start
        if hi <= 0 or lo >= num_steps:
            continue
        if lo >= 0:
            tokens[lo] = note.pitch
        tokens[max(lo + 1, 0) : min(hi, num_steps)] = HOLD
    return tokens


def tokens_to_notes(tokens: np.ndarray, offset: int = 0, velocity: int = 90) -> list[Note]:
    """Notes from a token sequence; HOLD after a REST (or at step 0) is treated as REST."""
    notes: list[Note] = []
    current: list[int] | None = None  # [pitch, start]
    for step, token in enumerate(np.asarray(tokens).tolist()):
        if token < HOLD:
            if current is not None:
                notes.append(Note(current[0], current[1] + offset, step + offset, velocity))
            current = [int(token), step]
        elif token == REST and current is not None:
            notes.append(Note(current[0], current[1] + offset, step + offset, velocity))
            current = None
    if current is not None:
        notes.append(Note(current[0], current[1] + offset, len(tokens) + offset, velocity))
    return notes


def tokens_to_melody(tokens: np.ndarray, tempo_bpm: float = 120.0, key: str | None = None) -> Melody:
    return Melody(tokens_to_notes(tokens), num_steps=len(tokens), tempo_bpm=tempo_bpm, key=key)


def tokens_to_rhythm(tokens: np.ndarray) -> np.ndarray:
    """Rhythm classes (ONSET/SUSTAIN/SILENCE) for melody tokens; same shape."""
    tokens = np.asarray(tokens)
    rhythm = np.full(tokens.shape, SILENCE, dtype=np.int64)
    rhythm[tokens < HOLD] = ONSET
    rhythm[tokens == HOLD] = SUSTAIN
    return rhythm


def one_hot(indices: np.ndarray, num_classes: int) -> np.ndarray:
    """(..., ) int -> (..., num_classes) float32."""
    encoded: np.ndarray = np.eye(num_classes, dtype=np.float32)[np.asarray(indices)]
    return encoded


def leadsheet_windows(
    sheet: LeadSheet, hop: int = STEPS_PER_BAR_44, window: int = WINDOW_STEPS, min_notes: int = 1
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(start, tokens (window,), chroma (window, 12)) for windows starting at each downbeat.

    Windows start at ``pickup_steps`` and every ``hop`` steps after; the last one
    must fit inside the piece. Windows with fewer than ``min_notes`` onsets are skipped.
    """
    melody = sheet.melody
    out = []
    for start in range(melody.pickup_steps, melody.num_steps - window + 1, hop):
        tokens = melody_to_tokens(melody, start, window)
        if int(np.sum(tokens < HOLD)) < min_notes:
            continue
        out.append((start, tokens, sheet.chords.chroma(window, start)))
    return out


def parse_rhythm_pattern(pattern: str, steps_per_bar: int = STEPS_PER_BAR_44) -> np.ndarray:
    """Onset mask from a pattern: one char per sixteenth step, 'x' onset, '.' none, bars split by '|'.

    Returns bool array (num_bars * steps_per_bar,). Raises RhythmPatternError on a bad
    character, a bar of the wrong length, or no onsets at all.
    """
    text = pattern.strip().replace(" ", "")
    if not text:
        raise RhythmPatternError("The rhythm is empty: draw at least one note onset on the grid")
    bars = text.split("|")
    mask: list[bool] = []
    for index, bar in enumerate(bars, start=1):
        bad = sorted(set(bar) - set("xX.-"))
        if bad:
            raise RhythmPatternError(
                f"Rhythm bar {index} has unknown character(s) {', '.join(repr(c) for c in bad)}: "
                "use 'x' for an onset and '.' for none"
            )
        if len(bar) != steps_per_bar:
            raise RhythmPatternError(
                f"Rhythm bar {index} has {len(bar)} steps; each bar needs {steps_per_bar} (sixteenth notes)"
            )
        mask.extend(c in "xX" for c in bar)
    onsets = np.array(mask, dtype=bool)
    if not onsets.any():
        raise RhythmPatternError("The rhythm has no onsets: click at least one cell of the grid")
    return onsets


def format_rhythm_pattern(onsets: np.ndarray, steps_per_bar: int = STEPS_PER_BAR_44) -> str:
    """Inverse of :func:`parse_rhythm_pattern`."""
    chars = "".join("x" if o else "." for o in np.asarray(onsets, dtype=bool))
    return "|".join(chars[i : i + steps_per_bar] for i in range(0, len(chars), steps_per_bar))


def onsets_to_rhythm(onsets: np.ndarray, legato: bool = True) -> np.ndarray:
    """Rhythm classes for an onset mask: steps before the first onset are SILENCE,
    others SUSTAIN (``legato``) until the next onset."""
    onsets = np.asarray(onsets, dtype=bool)
    rhythm = np.full(onsets.shape, SILENCE, dtype=np.int64)
    started = False
    for i, is_onset in enumerate(onsets):
        if is_onset:
            rhythm[i] = ONSET
            started = True
        elif started and legato:
            rhythm[i] = SUSTAIN
    return rhythm
