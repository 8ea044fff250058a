"""Four-part figures on small pieces worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from engine.eval.metrics.voices import (
    beat_chord_match,
    beat_chords,
    lower_chord_tone_share,
    melody_kept,
    parallels_per_100_moves,
    voice_crossing_share,
)
from engine.music.chords import make_chord
from engine.music.notes import ChordProgression, Note
from engine.music.representation import HOLD, REST


def _voice(pitches: list[int], length: int = 4) -> np.ndarray:
    """Notes of ``length`` steps each."""
    row = np.full(len(pitches) * length, REST, dtype=np.int64)
    for i, pitch in enumerate(pitches):
        row[i * length] = pitch
        row[i * length + 1 : (i + 1) * length] = HOLD
    return row


def test_parallel_fifths_and_octaves_are_counted_per_move() -> None:
    top = _voice([67, 69, 71, 72])
    fifths = _voice([60, 62, 64, 65])  # a fifth below all the way: three parallel fifths in three moves
    contrary = _voice([60, 59, 57, 55])
    held = _voice([48, 48, 48, 48])
    piece = np.stack([top, fifths, contrary, held])
    # pairs: top-fifths 3 moves 3 parallels; top-contrary 3 moves (fifth, sixth ..) 0; fifths-contrary 3 moves 0;
    # every pair with the held bass: no moves
    assert parallels_per_100_moves(piece) == pytest.approx(100 * 3 / 9)
    assert parallels_per_100_moves(np.stack([top, held, held, held])) is None


def test_voice_crossing_and_melody_kept() -> None:
    top, alto = _voice([67, 67]), _voice([64, 69])  # the alto rises over the soprano in the second note
    piece = np.stack([top, alto, _voice([60, 60]), _voice([48, 48])])
    assert voice_crossing_share(piece) == pytest.approx(0.5)
    assert melody_kept(piece, [Note(67, 0, 4), Note(67, 4, 8)])
    assert melody_kept(np.pad(piece, ((0, 0), (4, 0)), constant_values=REST), [Note(67, 0, 4), Note(67, 4, 8)], 4)
    assert not melody_kept(piece, [Note(67, 0, 8)])


def test_chord_tones_and_beat_chords() -> None:
    piece = np.stack([_voice([72, 74]), _voice([64, 65]), _voice([60, 62]), _voice([48, 43])])
    progression = ChordProgression([make_chord("C", 0, 4), make_chord("G", 4, 8)])
    # lower onsets: E C C (all in C) then F D G (D and G in G major, F not): 5 of 6
    assert lower_chord_tone_share(piece, progression) == pytest.approx(5 / 6)
    assert beat_chords(piece)[0] == "C"
    assert beat_chord_match(piece, piece) == 1.0
