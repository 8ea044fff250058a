import numpy as np
import pytest

from engine.music import LeadSheet, Melody, Note
from engine.music.chords import parse_progression
from engine.music.constants import HOLD, REST
from engine.music.errors import RhythmPatternError
from engine.music.representation import (
    format_rhythm_pattern,
    leadsheet_windows,
    melody_to_tokens,
    onsets_to_rhythm,
    parse_rhythm_pattern,
    tokens_to_notes,
    tokens_to_rhythm,
)


def test_melody_tokens_round_trip():
    notes = [Note(60, 0, 4), Note(62, 4, 6), Note(64, 8, 16), Note(67, 20, 32)]
    tokens = melody_to_tokens(Melody(notes, 32))
    assert tokens.shape == (32,)
    assert tokens[0] == 60 and tokens[1] == HOLD and tokens[6] == REST
    assert [(n.pitch, n.start, n.end) for n in tokens_to_notes(tokens)] == [(n.pitch, n.start, n.end) for n in notes]


def test_note_started_before_window_is_hold():
    tokens = melody_to_tokens(Melody([Note(60, 0, 40)], 64), start=32)
    assert tokens[0] == HOLD and tokens[8] == REST


def test_rhythm_classes():
    tokens = np.array([60, HOLD, REST, 62])
    assert tokens_to_rhythm(tokens).tolist() == [0, 1, 2, 0]


def test_pattern_round_trip():
    pattern = "x...x...x.x.x...|x.......x......."
    onsets = parse_rhythm_pattern(pattern)
    assert onsets.sum() == 7 and len(onsets) == 32
    assert format_rhythm_pattern(onsets) == pattern


@pytest.mark.parametrize(
    "pattern, message", [("", "empty"), ("." * 16, "no onsets"), ("x" * 15, "15 steps"), ("x...o...........", "'o'")]
)
def test_bad_patterns(pattern, message):
    with pytest.raises(RhythmPatternError, match=message):
        parse_rhythm_pattern(pattern)


def test_onsets_to_rhythm_is_legato():
    rhythm = onsets_to_rhythm(np.array([0, 1, 0, 0, 1, 0], bool))
    assert rhythm.tolist() == [2, 0, 1, 1, 0, 1]


def test_windows_carry_chroma():
    melody = Melody([Note(60 + i, i * 4, i * 4 + 4) for i in range(16)], 64)
    sheet = LeadSheet(melody, parse_progression("C F", num_bars=4))
    windows = leadsheet_windows(sheet)
    assert [w[0] for w in windows] == [0, 16, 32]
    start, tokens, chroma = windows[1]
    assert tokens[0] == 64 and chroma.shape == (32, 12)
    assert chroma[0, 5] == 1.0 and chroma[16, 0] == 1.0  # bar 2 is F, bar 3 is C
