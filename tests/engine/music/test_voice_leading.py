"""Voice leading of token pieces: a voice kept under the melody, parallel fifths and octaves, the notes to redraw."""

import numpy as np

from engine.music.representation import HOLD, REST
from engine.music.voice_leading import parallel_notes, parallels_with, under_the_melody, voice_leading_faults


def test_under_the_melody_and_parallels() -> None:
    melody = np.array([67, HOLD, HOLD, HOLD, 69, HOLD, HOLD, HOLD])
    voice = np.array([72, HOLD, HOLD, HOLD, 62, HOLD, REST, REST])
    assert under_the_melody(voice, melody).tolist() == [60, HOLD, HOLD, HOLD, 62, HOLD, REST, REST]
    fifths = np.array([60, HOLD, HOLD, HOLD, 62, HOLD, HOLD, HOLD])  # G/C then A/D: parallel fifths
    assert parallels_with(melody, fifths) == 1


def test_the_notes_that_make_parallels_are_the_ones_to_redraw() -> None:
    melody = np.array([67, HOLD, HOLD, HOLD, 69, HOLD, HOLD, HOLD])
    fifths = np.array([60, HOLD, HOLD, HOLD, 62, HOLD, HOLD, HOLD])
    piece = np.stack([melody, np.full(8, REST), np.full(8, REST), fifths])
    hidden = parallel_notes(piece, (1, 2, 3))
    assert hidden[3].tolist() == [False] * 4 + [True] * 4 and not hidden[:3].any()  # the D arriving at the fifth
    assert not parallel_notes(piece, (1, 2)).any()  # the bass may not change, the melody never does
    assert voice_leading_faults(piece) == 1
