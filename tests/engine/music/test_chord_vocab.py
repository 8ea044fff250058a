"""The chord suggester's vocabulary: slots, key-relative classes and slot features."""

from __future__ import annotations

import numpy as np
import pytest

from engine.music.chord_vocab import (
    NO_CHORD,
    NUM_FEATURES,
    QUALITIES,
    chord_class,
    chord_slots,
    class_root,
    class_to_symbol,
    classes_to_progression,
    slot_features,
    slot_labels,
    slots_per_bar,
)
from engine.music.chords import make_chord
from engine.music.notes import ChordProgression, LeadSheet, Melody, Note


@pytest.mark.parametrize(
    "meter, slots", [((4, 4), 2), ((2, 4), 1), ((3, 4), 1), ((6, 8), 2), ((9, 8), 3), ((12, 8), 4), ((3, 8), 1)]
)
def test_slots_per_bar(meter, slots) -> None:
    assert slots_per_bar(meter) == slots


def test_slots_cover_the_tune_with_the_pickup_as_its_own_slot() -> None:
    melody = Melody([Note(67, 0, 4), Note(72, 4, 36)], 36, time_signature=(4, 4), pickup_steps=4)
    slots = chord_slots(melody)
    assert [(s.start, s.end, s.bar, s.index) for s in slots] == [
        (0, 4, -1, 0),
        (4, 12, 0, 0),
        (12, 20, 0, 1),
        (20, 28, 1, 0),
        (28, 36, 1, 1),
    ]
    waltz = Melody([Note(60, 0, 24)], 24, time_signature=(3, 4))
    assert [(s.start, s.end) for s in chord_slots(waltz)] == [(0, 12), (12, 24)]


@pytest.mark.parametrize(
    "symbol, key, spelled",
    [
        ("G7", "C", "G7"),
        ("Am7", "C", "Am7"),  # not C6 (the same four notes): the symbol's root decides
        ("C6", "C", "C"),  # a sixth chord is read as its triad
        ("Dsus2", "G", "Asus4"),  # the same three notes as the sus4 a fifth below
        ("Bm7b5", "C", "Bm7b5"),
        ("D/F#", "G", "D"),
        ("Ebmaj7", "Bb", "Ebmaj7"),
        ("C9", "F", "C7"),
        ("N.C.", "C", "N.C."),
    ],
)
def test_a_chord_class_spells_back_in_its_key(symbol, key, spelled) -> None:
    tonic = {"C": 0, "G": 7, "Bb": 10, "F": 5}[key]
    index = chord_class(make_chord(symbol, 0, 8), tonic)
    assert class_to_symbol(index, key) == spelled


def test_classes_are_key_relative() -> None:
    in_c = chord_class(make_chord("G7", 0, 8), 0)
    in_d = chord_class(make_chord("A7", 0, 8), 2)
    assert in_c == in_d and class_root(in_c) == 7 and QUALITIES[in_c % len(QUALITIES)] == "7"
    assert class_root(NO_CHORD) is None


def test_features_and_labels_of_a_tune() -> None:
    melody = Melody([Note(62, 0, 8), Note(66, 8, 16), Note(69, 16, 32)], 32)  # D, F#, A in D major
    sheet = LeadSheet(melody, ChordProgression([make_chord("D", 0, 16), make_chord("A7", 16, 32)]))
    features = slot_features(melody, "D")
    assert features.shape == (4, NUM_FEATURES)
    assert features[0, 0] == 1.0 and features[1, 4] == 1.0 and features[2, 7] == 1.0  # the tonic moved to C
    assert features[0, 12] == 1.0 and features[:, 24].sum() == 0  # sounding at the start; major
    assert features[0, 29 + 0] == 1.0 and features[2, 29 + 1] == 1.0  # bar 1, bar 2 of the phrase
    labels = slot_labels(sheet, "D")
    assert [class_to_symbol(c, "D") for c in labels] == ["D", "D", "A7", "A7"]
    back = classes_to_progression(labels, chord_slots(melody), "D")
    assert [(c.symbol, c.start, c.end) for c in back.chords] == [("D", 0, 16), ("A7", 16, 32)]
    assert np.all(slot_labels(LeadSheet(melody, ChordProgression([])), "D") == NO_CHORD)
