"""Keys, key estimation and chord functions (engine.music.tonality)."""

import numpy as np
import pytest

from engine.music import LeadSheet, Melody, Note
from engine.music.chords import make_chord, parse_progression
from engine.music.errors import CadenzaInputError
from engine.music.tonality import (
    DOMINANT,
    FUNCTION_LETTERS,
    NO_FUNCTION,
    OTHER,
    SUBDOMINANT,
    TONIC,
    chord_function,
    estimate_key,
    functions_from_chroma,
    functions_per_step,
    parse_functions,
    parse_key,
    scale_pitch_classes,
)


@pytest.mark.parametrize(
    "key, expected",
    [
        ("C", (0, False)),
        ("F#m", (6, True)),
        ("Bb", (10, False)),
        ("Ebm", (3, True)),
        ("D minor", (2, True)),
        ("B-", (10, False)),
    ],
)
def test_parse_key(key, expected):
    assert parse_key(key) == expected


@pytest.mark.parametrize("key", ["", "H", "Cx", "major"])
def test_unknown_keys_are_named(key):
    with pytest.raises(CadenzaInputError, match="key|note name"):
        parse_key(key)


@pytest.mark.parametrize(
    "symbol, key, expected",
    [
        ("C", "C", TONIC),
        ("Am", "C", TONIC),
        ("Em", "C", TONIC),
        ("F", "C", SUBDOMINANT),
        ("Dm7", "C", SUBDOMINANT),
        ("G7", "C", DOMINANT),
        ("Bdim", "C", DOMINANT),
        ("Bb", "C", OTHER),
        ("E7", "Am", DOMINANT),
        ("G", "Am", DOMINANT),
        ("Dm", "Am", SUBDOMINANT),
        ("F", "Am", TONIC),
        ("D", "G", DOMINANT),
        ("F#m", "A", TONIC),
        ("Bb/D", "F", SUBDOMINANT),
    ],
)
def test_chord_functions_follow_the_roots_in_the_key(symbol, key, expected):
    assert FUNCTION_LETTERS[chord_function(make_chord(symbol, 0, 16), key)] == FUNCTION_LETTERS[expected]


def test_no_chord_has_no_function():
    assert chord_function(None, "C") == NO_FUNCTION
    assert chord_function(make_chord("N.C.", 0, 16), "C") == NO_FUNCTION


def test_functions_per_step_read_each_beat():
    progression = parse_progression("C | F G7", 2)
    assert (
        functions_per_step(progression, "C", 32, every=4).tolist() == [TONIC] * 4 + [SUBDOMINANT] * 2 + [DOMINANT] * 2
    )


def test_functions_from_chroma_recognise_chords_without_symbols():
    chroma = parse_progression("C F G C", 4).chroma(64).reshape(2, 32, 12)
    out = functions_from_chroma(chroma, key="C")
    assert out.shape == (2, 8)
    assert out[0, :4].tolist() == [TONIC] * 4 and out[0, 4:].tolist() == [SUBDOMINANT] * 4 and out[1, 0] == DOMINANT


def test_estimate_key_prefers_the_sheets_own_then_the_notes():
    notes = [Note(p, i * 4, i * 4 + 4) for i, p in enumerate([57, 60, 64, 69, 67, 64, 62, 60, 59, 57, 64, 57])]
    sheet = LeadSheet(Melody(notes, 48), parse_progression("Am Dm E Am", 3, 16))
    assert estimate_key(sheet) == "Am"
    sheet.melody.key = "Eb"
    assert estimate_key(sheet) == "Eb"


def test_scale_and_function_text():
    assert scale_pitch_classes("G") == (0, 2, 4, 6, 7, 9, 11)
    assert parse_functions("T S | D", 4) == [TONIC, SUBDOMINANT, DOMINANT, TONIC]
    with pytest.raises(CadenzaInputError, match="'X'"):
        parse_functions("T X", 2)
    with pytest.raises(CadenzaInputError, match="empty"):
        parse_functions("  ", 2)
    assert np.all(np.array(parse_functions("-", 3)) == NO_FUNCTION)
