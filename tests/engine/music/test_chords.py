import numpy as np
import pytest

from engine.music.chords import parse_chord_symbol, parse_progression, recognize_chord
from engine.music.errors import ChordSymbolError


@pytest.mark.parametrize(
    "symbol, pitch_classes, bass",
    [
        ("C", {0, 4, 7}, 0),
        ("Am", {9, 0, 4}, 9),
        ("G7", {7, 11, 2, 5}, 7),
        ("F#dim", {6, 9, 0}, 6),
        ("Bb/D", {10, 2, 5}, 2),
        ("Cmaj7", {0, 4, 7, 11}, 0),
        ("Esus4", {4, 9, 11}, 4),
        ("Ebm7", {3, 6, 10, 1}, 3),
    ],
)
def test_chord_symbols_parse_to_pitch_classes(symbol, pitch_classes, bass):
    pcs, parsed_bass = parse_chord_symbol(symbol)
    assert set(pcs) == pitch_classes
    assert parsed_bass == bass


def test_no_chord_has_no_pitch_classes():
    assert parse_chord_symbol("N.C.") == ((), None)


@pytest.mark.parametrize("symbol", ["Xq7", "H", "Cfoo", "C/X", ""])
def test_unknown_symbol_is_an_error_naming_it(symbol):
    with pytest.raises(ChordSymbolError) as err:
        parse_chord_symbol(symbol)
    if symbol:
        assert symbol in str(err.value)


def test_progression_one_chord_per_bar_and_repeats():
    prog = parse_progression("C Am F G", num_bars=8)
    assert prog.symbols_per_bar(16, 8) == ["C", "Am", "F", "G"] * 2
    chroma = prog.chroma(128)
    assert chroma.shape == (128, 12)
    assert set(np.flatnonzero(chroma[16])) == {9, 0, 4}


def test_progression_with_bar_lines_splits_bars():
    prog = parse_progression("C G | Am", num_bars=2)
    assert [(c.symbol, c.start, c.end) for c in prog.chords] == [("C", 0, 8), ("G", 8, 16), ("Am", 16, 32)]


def test_progression_error_names_bad_symbol():
    with pytest.raises(ChordSymbolError, match="Zz"):
        parse_progression("C Zz F", num_bars=4)


@pytest.mark.parametrize(
    "pcs, expected", [((0, 4, 7), "C"), ((9, 0, 4), "Am"), ((7, 11, 2, 5), "G7"), ((2, 5, 8), "Ddim")]
)
def test_recognize_chord(pcs, expected):
    weights = np.zeros(12)
    weights[list(pcs)] = 1.0
    assert recognize_chord(weights) == expected
    assert recognize_chord(np.zeros(12)) == "N.C."


def test_bad_bass_note_is_named():
    with pytest.raises(ChordSymbolError, match="bass note"):
        parse_chord_symbol("C/X")
    with pytest.raises(ChordSymbolError, match="'x7' is not a chord type"):
        parse_chord_symbol("Fx7")


@pytest.mark.parametrize("text", ["", "   ", "|", "| |", ", |"])
def test_a_progression_of_only_bar_lines_is_empty_not_a_crash(text):
    with pytest.raises(ChordSymbolError, match="empty"):
        parse_progression(text, 4)


def test_every_template_on_every_root_is_recognised_as_itself():
    from engine.music.chords import CHORD_TEMPLATES, NOTE_NAMES

    for root in range(12):
        for suffix, intervals in CHORD_TEMPLATES.items():
            weights = np.zeros(12)
            weights[[(root + i) % 12 for i in intervals]] = 1.0
            symbol = recognize_chord(weights)
            # A few templates are the same notes (C6 = Am7, dim7 on any of its notes): the same pitch classes suffice.
            assert parse_chord_symbol(symbol)[0] == parse_chord_symbol(NOTE_NAMES[root] + suffix)[0]


def test_a_tie_goes_to_the_lower_root():
    weights = np.zeros(12)
    weights[[0, 4]] = 1.0  # C and E: C major and A minor fit equally (each misses one note)
    assert recognize_chord(weights) == "C"
    assert recognize_chord(weights, suffixes=("", "m")) == "C"
