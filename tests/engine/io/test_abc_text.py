"""ABC text: splitting collections, cleaning, key fields and transposition (checked through music21)."""

import warnings

import pytest

from engine.io.abc_text import clean_tune, parse_key_field, split_tunes, transpose_abc

COLLECTION = """% a comment before the first tune
X: 1
T: First
R: jig
M: 6/8
L: 1/8
K: G
"G"GAB "D7"c2d|!trill!e2d {g}cBA|(GA)B ~c2d|
w: la la la
e2d cBA:|
K:D
f2f Fdd|A3 d3|]

X: 2
T: Second
M: 4/4
L: 1/8
K: Ador
EA^GA B2c2|\\
=c2B2 A4|]
"""


def pitches(abc: str) -> list[int]:
    from music21 import converter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [p.midi for n in converter.parse(abc, format="abc").flatten().notes for p in n.pitches]


def test_split_and_clean():
    tunes = split_tunes(COLLECTION)
    assert [t.title for t in tunes] == ["First", "Second"]
    first = clean_tune(tunes[0])
    assert first.fields == {"M": "6/8", "L": "1/8", "K": "G"}
    assert first.body == [
        "GAB c2d|e2d cBA|GAB c2d|",
        "e2d cBA:|",
        "K:D",
        "f2f Fdd|A3 d3|]",
    ]  # chords, trills, graces, slurs, lyrics gone
    second = clean_tune(tunes[1])
    assert second.key == "Ador" and second.body == ["EA^GA B2c2| =c2B2 A4|]"]  # a continued line joined
    assert len(pitches(first.text())) > 20 and len(pitches(second.text())) == 9  # music21 reads the cleaned tunes


@pytest.mark.parametrize("semitones", [-5, -2, 1, 3, 6])
def test_transposition_moves_every_pitch_and_respells_the_key(semitones):
    for tune in split_tunes(COLLECTION):
        text = clean_tune(tune).text()
        moved = transpose_abc(text, semitones)
        assert pitches(moved) == [p + semitones for p in pitches(text)]
        assert transpose_abc(moved, -semitones).count("K:") == text.count("K:")


def test_keys_are_spelled_with_the_fewest_accidentals():
    assert "K:Db" in transpose_abc("K:A\nA|", 4)  # C# major would need 7 sharps
    assert "K:F#m" in transpose_abc("K:Em\nE|", 2)
    assert "K:Bdor" in transpose_abc("K:Ador\nA|", 2)
    assert parse_key_field("Ador")[:2] == ("A", 1) and parse_key_field("Bb")[:2] == ("Bb", -2)
    assert parse_key_field("none") is None


def test_the_measures_in_the_order_they_are_played():
    from engine.io.abc_text import played_measures

    head = "X:1\nM:4/4\nL:1/8\nK:G\n"
    assert played_measures(head + "|:G8|A8:|B8|]\n") == [0, 1, 0, 1, 2]
    assert played_measures(head + "D2|:G8|A8:|\nB8|]\n") == [0, 1, 2, 1, 2, 3]  # the pickup is played once
    assert played_measures(head + "G8|A8:|B8|c8::d8|e8:|\n") == [0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5]
    assert played_measures(head + "|:G8|[1A8:|[2B8|]\n") is None  # numbered endings: not followed
