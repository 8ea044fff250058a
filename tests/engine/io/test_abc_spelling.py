"""Accidentals spelled in the key's direction: the same pitches, read by music21, in fewer surprises for a player."""

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.io.abc import read_abc_text
from engine.io.abc_spelling import respell_against_key


def _pitches(abc: str) -> list[int]:
    return [n.pitch for n in read_abc_text(abc, as_played=False).melody.notes]


def test_flats_in_a_sharp_key_become_sharps_and_other_bars_stay():
    # Q3 sad, seed 0 of the model card: C# minor with E flat and A flat
    tune = "X:1\nM:4/2\nL:1/4\nK:C#m\nE,2E,2E,2 | F,2F,2G,2_A,2 | G,4z2F,2 | _E,4z2z2|]\n"
    out = respell_against_key(tune)
    assert out == "X:1\nM:4/2\nL:1/4\nK:C#m\nE,2E,2E,2 | F,2F,2G,2G,2 | G,4z2F,2 | D,4z2z2|]\n"
    assert _pitches(out) == _pitches(tune)


def test_sharps_in_a_flat_key_become_flats_and_the_bar_keeps_its_pitches():
    tune = "X:1\nM:4/4\nL:1/8\nK:F\n^A2 A2 ^c2 c2 | ^G A B c d4 |]\n"
    out = respell_against_key(tune)
    assert out.splitlines()[-1] == "B2 B2 _d2 _d2 | _A =A B c d4 |]"  # the carried sharps kept
    assert _pitches(out) == _pitches(tune)


def test_keys_without_accidentals_and_bars_without_contrary_accidentals_are_untouched():
    for tune in (
        "X:1\nM:4/4\nL:1/8\nK:C\n_B2 ^F2 _E2 ^G2|]\n",
        "X:1\nM:4/4\nL:1/8\nK:G\n^c2 =F2 ^G2 A2|]\n",
        'X:1\nM:4/4\nL:1/8\nK:D\n"D" _B2 A2 F2 D2|]\n',  # a chord symbol: a line this reader leaves alone
    ):
        assert respell_against_key(tune) == tune


KEYS = ["G", "D", "A", "E", "F", "Bb", "Eb", "Ab", "Em", "Bm", "F#m", "C#m", "Dm", "Gm", "Cm", "Fm"]
NOTES = st.tuples(st.sampled_from(["", "^", "_", "="]), st.sampled_from("CDEFGABcdefgab"), st.sampled_from(["", ","]))


@settings(max_examples=40, deadline=None)
@given(key=st.sampled_from(KEYS), bars=st.lists(st.lists(NOTES, min_size=1, max_size=6), min_size=1, max_size=3))
def test_no_pitch_ever_changes(key, bars):
    body = " | ".join(" ".join(f"{a}{letter}{mark}" for a, letter, mark in bar) for bar in bars) + " |]"
    tune = f"X:1\nM:4/4\nL:1/8\nK:{key}\n{body}\n"
    assert _pitches(respell_against_key(tune)) == _pitches(tune)
