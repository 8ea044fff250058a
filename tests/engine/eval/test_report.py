"""The control report's figures on hand-made melodies whose answers are known."""

import pytest

from engine.eval.report import in_key_pitch_classes, in_key_share, melody_report, sheet_chord_tone_share
from engine.music import ChordProgression, LeadSheet, Melody, Note
from engine.music.chords import make_chord
from engine.music.constants import note_name


def _sheet() -> LeadSheet:
    # One bar of C then one of G7; notes: C4 (4 steps, C chord tone), D4 (4, not), E4 (8, tone) | B3 (8, G7 tone),
    # F#4 (8, not; out of C)
    notes = [Note(60, 0, 4), Note(62, 4, 8), Note(64, 8, 16), Note(59, 16, 24), Note(66, 24, 32)]
    chords = ChordProgression([make_chord("C", 0, 16), make_chord("G7", 16, 32)])
    return LeadSheet(Melody(notes, num_steps=32, tempo_bpm=96.0, key="C"), chords)


def test_chord_tones_and_key_are_shares_of_note_time():
    sheet = _sheet()
    assert sheet_chord_tone_share(sheet) == pytest.approx((4 + 8 + 8) / 32)
    assert in_key_share(sheet.melody.notes, "C") == pytest.approx(24 / 32)
    assert (
        11 in in_key_pitch_classes("Am") and 9 in in_key_pitch_classes("Am") and 8 in in_key_pitch_classes("Am")
    )  # G#, F# and F all belong to A minor


def test_the_report_counts_drawn_onsets_placed_and_extra():
    report = melody_report(_sheet(), drawn_onsets=[0, 4, 8, 12, 16], key="C", tempo_bpm=96)
    assert report["onsets"] == {"drawn": 5, "placed": 4, "extra": 1, "share": 0.8}  # 12 missed, 24 extra
    assert report["range"] == {"low": "B3", "high": "F#4", "semitones": 7}
    assert report["tempo"] == {"asked": 96.0, "file": 96.0}
    assert report["in_key"] == {"key": "C", "share": 0.75}
    assert report["notes"] == 5 and report["bars"] == 2


def test_an_empty_melody_reports_without_failing():
    report = melody_report(LeadSheet(Melody([], num_steps=16)), drawn_onsets=[0])
    assert report["onsets"]["placed"] == 0 and report["chord_tones"] is None and "range" not in report
    assert note_name(60) == "C4" and note_name(70) == "Bb4"
