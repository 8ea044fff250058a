"""The chord suggester's vocabulary and its view of a melody: chord slots, key-relative chord classes, slot features.

A melody is cut into **chord slots**, one or two per bar (two in 4/4 and 6/8, three in 9/8, four in 12/8, else
one), plus one for a pickup. Each slot is described in its key (tonic moved to C), so a tune in D and the same tune
in F look alike: the duration-weighted pitch classes heard in the slot, the pitch class sounding at its start, the
mode and where the slot sits in the bar and the phrase. A **chord class** is a key-relative root (0..11) and one of
:data:`QUALITIES`, or :data:`NO_CHORD`; :func:`class_to_symbol` spells it in a key again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.music.chords import CHORD_TEMPLATES, make_chord
from engine.music.constants import NOTE_NAMES
from engine.music.errors import CadenzaInputError
from engine.music.notes import Chord, ChordProgression, LeadSheet, Melody
from engine.music.tonality import chord_root, estimate_key, key_name, parse_key

# The qualities the suggester writes: triads, sevenths and the suspended fourth (a sus2 is the sus4 a fifth below:
# the same three notes). Other symbols are read as the quality sharing most notes with them (6 -> major).
QUALITIES: tuple[str, ...] = ("", "m", "dim", "aug", "7", "maj7", "m7", "sus4", "m7b5", "dim7")
NUM_CLASSES = 12 * len(QUALITIES) + 1
NO_CHORD = NUM_CLASSES - 1
PHRASE_BARS = 4
NUM_FEATURES = 12 + 12 + 1 + 4 + PHRASE_BARS + 2


def slots_per_bar(time_signature: tuple[int, int]) -> int:
    """Chord slots in one bar: 2 in 4/4 and 6/8, 3 in 9/8, 4 in 12/8, else 1 (2/4, 3/4, 3/8, ...)."""
    num, den = time_signature
    if den == 8 and num % 3 == 0 and num > 3:
        return num // 3
    return 2 if num == 4 else 1


@dataclass(frozen=True)
class Slot:
    """One chord slot: steps ``start``..``end``, its bar (-1: the pickup) and its index in the bar."""

    start: int
    end: int
    bar: int
    index: int


def chord_slots(melody: Melody) -> list[Slot]:
    """The melody's chord slots in time order, covering 0..num_steps (the pickup, if any, is one slot)."""
    per_bar = slots_per_bar(melody.time_signature)
    length = max(1, melody.steps_per_bar // per_bar)
    slots = [Slot(0, melody.pickup_steps, -1, 0)] if melody.pickup_steps > 0 else []
    start, count = melody.pickup_steps, 0
    while start < melody.num_steps:
        slots.append(Slot(start, min(start + length, melody.num_steps), count // per_bar, count % per_bar))
        start, count = start + length, count + 1
    return slots


def _tonic_and_mode(key: str) -> tuple[int, bool]:
    tonic, minor = parse_key(key)
    return tonic, minor


def chord_class(chord: Chord, tonic: int) -> int:
    """The key-relative class of a chord: its root (from the symbol) and the quality whose notes above that root
    best match the chord's pitch classes; NO_CHORD for "N.C."."""
    if not chord.pitch_classes:
        return NO_CHORD
    root = chord_root(chord)
    if root is None:
        return NO_CHORD
    heard = {(pc - root) % 12 for pc in chord.pitch_classes}
    if heard == {0, 2, 7}:  # sus2: the sus4 a fifth below
        root, heard = (root + 7) % 12, {0, 5, 7}
    best, best_score = "", -1.0
    for suffix in QUALITIES:
        notes = set(CHORD_TEMPLATES[suffix])
        score = len(notes & heard) / len(notes | heard)  # Jaccard: an exact match scores 1
        if score > best_score:
            best, best_score = suffix, score
    return ((root - tonic) % 12) * len(QUALITIES) + QUALITIES.index(best)


def class_to_symbol(index: int, key: str) -> str:
    """A chord class spelled in ``key`` ("G7" for class (7, "7") in C); "N.C." for NO_CHORD."""
    if index == NO_CHORD:
        return "N.C."
    tonic, _ = _tonic_and_mode(key)
    root, quality = divmod(int(index), len(QUALITIES))
    return NOTE_NAMES[(root + tonic) % 12] + QUALITIES[quality]


def class_root(index: int) -> int | None:
    """The key-relative root of a class (None for NO_CHORD)."""
    return None if index == NO_CHORD else int(index) // len(QUALITIES)


def melody_key(tune: Melody, key: str | None = None) -> str:
    """The key to read a melody in: ``key`` when given (checked), else the melody's own, else estimated from its
    notes alone (never from chords: a user's melody comes without them)."""
    if key:
        try:
            return key_name(*parse_key(key))
        except CadenzaInputError:
            raise CadenzaInputError(f"Unknown key {key!r}: write it as C, F#, Bb, Am, C#m ...") from None
    return estimate_key(LeadSheet(tune, ChordProgression([])))


def slot_features(melody: Melody, key: str, slots: list[Slot] | None = None) -> np.ndarray:
    """(num_slots, NUM_FEATURES) float32 features of a melody's slots in ``key`` (see the module docstring)."""
    slots = chord_slots(melody) if slots is None else slots
    tonic, minor = _tonic_and_mode(key)
    out = np.zeros((len(slots), NUM_FEATURES), dtype=np.float32)
    notes = sorted(melody.notes, key=lambda n: n.start)
    for row, slot in enumerate(slots):
        length = max(1, slot.end - slot.start)
        for note in notes:
            overlap = min(note.end, slot.end) - max(note.start, slot.start)
            if overlap > 0:
                out[row, (note.pitch - tonic) % 12] += overlap / length
            if note.start <= slot.start < note.end:
                out[row, 12 + (note.pitch - tonic) % 12] = 1.0
        out[row, 24] = float(minor)
        position = 28 if slot.bar < 0 else 25 + min(slot.index, 2)  # first, second, later slot of the bar; pickup
        out[row, position] = 1.0
        if slot.bar >= 0:
            out[row, 29 + slot.bar % PHRASE_BARS] = 1.0
        out[row, 29 + PHRASE_BARS] = float(row == 0)
        out[row, 30 + PHRASE_BARS] = float(row == len(slots) - 1)
    return out


def slot_labels(sheet: LeadSheet, key: str, slots: list[Slot] | None = None) -> np.ndarray:
    """(num_slots,) int64: the class of the chord sounding longest in each slot (NO_CHORD where none sounds)."""
    slots = chord_slots(sheet.melody) if slots is None else slots
    tonic, _ = _tonic_and_mode(key)
    labels = np.full(len(slots), NO_CHORD, dtype=np.int64)
    for row, slot in enumerate(slots):
        best, longest = None, 0
        for chord in sheet.chords.chords:
            overlap = min(chord.end, slot.end) - max(chord.start, slot.start)
            if overlap > longest:
                best, longest = chord, overlap
        if best is not None:
            labels[row] = chord_class(best, tonic)
    return labels


def classes_to_progression(classes: list[int] | np.ndarray, slots: list[Slot], key: str) -> ChordProgression:
    """Chords over the slots (a class held across slots is one chord; NO_CHORD leaves its slot empty)."""
    chords: list[Chord] = []
    for index, slot in zip((int(c) for c in classes), slots):
        if index == NO_CHORD:
            continue
        symbol = class_to_symbol(index, key)
        if chords and chords[-1].symbol == symbol and chords[-1].end == slot.start:
            last = chords[-1]
            chords[-1] = Chord(symbol, last.start, slot.end, last.pitch_classes, last.bass)
        else:
            chords.append(make_chord(symbol, slot.start, slot.end))
    return ChordProgression(chords)
