"""Reading ABC as it is played: repeats, first and second endings, a pickup, chords and tempo."""

from __future__ import annotations

import pytest

from engine.eval.metrics.abc_form import abc2midi_available
from engine.io.abc import read_abc_text

HEADER = "X:1\nT:Repeats\nQ:1/4=100\nM:4/4\nL:1/8\nK:G\n"
A_PART = '"G"G2B2 d2B2|"C"c2A2 F2A2|"G"G2B2 d2B2|"D"A4 A4'
B_PART = '"G"g2f2 e2d2|"C"c2e2 d2B2|"D"A2B2 c2d2|"G"G8'


def _pitches(text: str) -> list[int]:
    return [n.pitch for n in read_abc_text(text).melody.notes]


def test_a_repeated_part_sounds_twice():
    once = _pitches(HEADER + A_PART + "|" + B_PART + "|]\n")
    a, b = once[:14], once[14:]
    played = read_abc_text(HEADER + "|:" + A_PART + ":|" + B_PART + "|]\n")
    assert [n.pitch for n in played.melody.notes] == a + a + b
    assert played.melody.num_steps == 12 * 16  # 12 bars as played, not 8 as written
    assert [c.symbol for c in played.chords.chords] == ["G", "C", "G", "D"] * 2 + ["G", "C", "D", "G"]
    assert played.melody.tempo_bpm == 100.0


def test_first_and_second_endings_and_a_pickup():
    text = HEADER + 'D|:"G"G2B2 d2B2|"C"c2A2 F2A2|[1"D"A8:|[2"G"G8|]\n'
    sheet = read_abc_text(text)
    melody = sheet.melody
    assert melody.pickup_steps == 2
    first = [67, 71, 74, 71, 72, 69, 66, 69]
    assert [n.pitch for n in melody.notes] == [62, *first, 69, *first, 67]
    assert melody.num_steps == 2 + 6 * 16  # the pickup, then 2 + 1 bars twice (the first ending, then the second)


def test_repeats_music21_cannot_measure_are_written_out():
    # Fewer than two plain bar lines: music21 makes no measures, so the repeats are written out in the text first.
    assert _pitches(HEADER + "|:G2B2 d2B2 :|\n") == [67, 71, 74, 71] * 2
    assert _pitches(HEADER + "|:G2B2 d2B2 ::c2A2 F2A2:|\n") == [67, 71, 74, 71] * 2 + [72, 69, 66, 69] * 2
    assert _pitches(HEADER + "G2B2 d2B2 :|\n") == [67, 71, 74, 71] * 2  # :| alone repeats from the start
    # Two plain bar lines (one before the first ending): music21 measures it and plays the endings in turn.
    assert _pitches(HEADER + "|:G2B2 d2B2 |[1 c8:|[2 d8|]\n") == [67, 71, 74, 71, 72, 67, 71, 74, 71, 74]


def test_the_midi_that_is_played_holds_the_repeated_part_twice():
    from engine.render.export import leadsheet_to_pretty_midi

    sheet = read_abc_text(HEADER + "|:" + A_PART + ":|" + B_PART + "|]\n")
    midi = leadsheet_to_pretty_midi(sheet, 0, None)
    played = [n.pitch for n in sorted(midi.instruments[0].notes, key=lambda n: n.start)]
    a = [67, 71, 74, 71, 72, 69, 66, 69, 67, 71, 74, 71, 69, 69]
    assert played[:28] == a + a and len(played) == 28 + 13
    assert midi.get_end_time() == pytest.approx(12 * 4 * 60 / 100, abs=0.01)  # 12 bars of 4/4 at 100 BPM


CARRIED = "X:1\nM:4/4\nL:1/4\nK:G\n^C C c _B | B f =f F |]\n"


def test_an_accidental_holds_to_the_end_of_its_bar_as_abc21_says():
    """`^C C c` is C# C# c# (ABC 2.1, as abc2midi and abcjs read it; music21 alone would read C# C c); a bar line
    ends it, the key signature's F# holds until the =f."""
    assert _pitches(CARRIED) == [61, 61, 73, 70, 71, 78, 77, 65]


@pytest.mark.skipif(not abc2midi_available(), reason="abc2midi (Debian abcmidi) is not installed")
def test_abc2midi_hears_the_same_pitches(tmp_path):
    import subprocess

    import pretty_midi

    (tmp_path / "t.abc").write_text(CARRIED)
    subprocess.run(
        ["abc2midi", str(tmp_path / "t.abc"), "-o", str(tmp_path / "t.mid")], check=True, capture_output=True
    )
    notes = sorted(
        (n.start, n.pitch) for i in pretty_midi.PrettyMIDI(str(tmp_path / "t.mid")).instruments for n in i.notes
    )
    assert [p for _, p in notes] == _pitches(CARRIED)
