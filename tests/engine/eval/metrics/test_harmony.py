"""Yeh et al.'s harmonisation figures on melodies whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from engine.eval.metrics.harmony import (
    chords_per_bar,
    ctnctr,
    harmony_figures,
    melody_chord_tonal_distance,
    pitch_consistency,
    tonal_centroid,
)
from engine.music.chords import make_chord
from engine.music.notes import ChordProgression, Melody, Note

C_MAJOR = ChordProgression([make_chord("C", 0, 16)])


def test_ctnctr_counts_chord_tones_and_passing_tones() -> None:
    # C (chord tone), D (non-chord, steps to E: proper), E (chord tone), B (non-chord, leaps to G: not proper), G
    melody = Melody([Note(60, 0, 2), Note(62, 2, 4), Note(64, 4, 6), Note(71, 6, 8), Note(67, 8, 16)], 16)
    assert ctnctr(melody, C_MAJOR) == pytest.approx((3 + 1) / (3 + 2))
    assert ctnctr(Melody([Note(60, 0, 4)], 16), ChordProgression([])) is None  # no chord: nothing to count


def test_pitch_consistency_scores_each_sixteenth() -> None:
    # E over C major: E-C major third (+1), E-E unison (+1), E-G minor third (+1): 1 for each of its 4 steps
    assert pitch_consistency(Melody([Note(64, 0, 4)], 16), C_MAJOR) == pytest.approx(1.0)
    # F over C major: F-C fourth (0), F-E minor second (-1), F-G major second (-1) -> -2/3
    assert pitch_consistency(Melody([Note(65, 0, 4)], 16), C_MAJOR) == pytest.approx(-2 / 3)
    both = Melody([Note(64, 0, 4), Note(65, 4, 12)], 16)  # 4 steps at 1, 8 steps at -2/3
    assert pitch_consistency(both, C_MAJOR) == pytest.approx((4 * 1 - 8 * 2 / 3) / 12)


def test_tonal_distance_is_zero_for_a_chord_of_one_note_and_grows_with_dissonance() -> None:
    assert np.allclose(tonal_centroid([0]), [0, 1, 0, 1, 0, 0.5])
    root = melody_chord_tonal_distance(Melody([Note(60, 0, 4)], 16), C_MAJOR)
    tritone = melody_chord_tonal_distance(Melody([Note(66, 0, 4)], 16), C_MAJOR)
    assert root is not None and tritone is not None and root < tritone


def test_chords_per_bar_counts_changes_not_repeats() -> None:
    melody = Melody([Note(60, 0, 64)], 64)  # 4 bars
    held = ChordProgression([make_chord("C", 0, 16), make_chord("C", 16, 32), make_chord("G", 32, 64)])
    assert chords_per_bar(melody, held) == pytest.approx(2 / 4)
    busy = ChordProgression([make_chord(s, 8 * i, 8 * i + 8) for i, s in enumerate("C G C G C G C G".split())])
    assert chords_per_bar(melody, busy) == pytest.approx(2.0)
    assert set(harmony_figures(melody, held)) == {"ctnctr", "pcs", "mctd", "chords_per_bar"}
