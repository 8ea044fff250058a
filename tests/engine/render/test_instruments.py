import pytest

from engine.render.instruments import (
    ACCOMPANIMENT_INSTRUMENTS,
    MELODY_INSTRUMENTS,
    NO_ACCOMPANIMENT,
    accompaniment_program_for,
    program_for,
)


def test_known_programs():
    assert program_for("Acoustic Grand Piano") == 0
    assert program_for("flute") == 73
    assert program_for("  Violin ") == 40
    assert program_for("Fiddle") == 110
    assert program_for("Warm Pad") == 89  # accompaniment names are known too


def test_all_programs_are_gm():
    for program in MELODY_INSTRUMENTS.values():
        assert 0 <= program <= 127
    for program in ACCOMPANIMENT_INSTRUMENTS.values():
        assert program is None or 0 <= program <= 127


def test_unknown_instrument_raises_naming_it():
    with pytest.raises(ValueError, match="Kazoo Deluxe"):
        program_for("Kazoo Deluxe")


def test_accompaniment_choices():
    assert accompaniment_program_for(NO_ACCOMPANIMENT) is None
    assert accompaniment_program_for(None) is None
    assert accompaniment_program_for("none") is None
    assert accompaniment_program_for("Strings") == 48
    assert accompaniment_program_for("Flute") == 73
    with pytest.raises(ValueError, match="Theremin"):
        accompaniment_program_for("Theremin")
