import io

import pretty_midi
import pytest

from engine.io.midi import MAX_MIDI_BYTES, guess_melody_track, list_tracks, read_midi
from engine.music.errors import MidiReadError
from tests.conftest import TUNE_NOTES, make_nottingham_midi


def test_nottingham_layout_reads_melody_and_chords(nottingham_midi):
    sheet = read_midi(nottingham_midi)
    melody = sheet.melody
    assert [(n.pitch, n.start, n.end) for n in melody.notes] == TUNE_NOTES
    assert melody.time_signature == (4, 4) and melody.pickup_steps == 0
    assert melody.tempo_bpm == pytest.approx(120.0)
    assert sheet.chords.symbols_per_bar(16, 4) == ["G", "C", "D", "G"]


def test_tempo_is_read_and_steps_do_not_depend_on_it():
    sheet = read_midi(make_nottingham_midi(tempo=90.0))
    assert sheet.melody.tempo_bpm == pytest.approx(90.0)
    assert [(n.pitch, n.start) for n in sheet.melody.notes] == [(p, s) for p, s, _ in TUNE_NOTES]


def test_pickup_is_detected():
    # A one-beat pickup (4 steps) before bar 1: the file starts with a bar holding only the pickup.
    notes = [(62, 12, 16)] + [(p, s + 16, e + 16) for p, s, e in TUNE_NOTES]
    chords = [("N.C.", ())] + [
        c for c in [("G", (43, 47, 50)), ("C", (48, 52, 55)), ("D", (50, 54, 57)), ("G", (43, 47, 50))]
    ]
    sheet = read_midi(make_nottingham_midi(notes, chords))
    assert sheet.melody.pickup_steps == 4
    assert sheet.melody.notes[0].start == 0 and sheet.melody.notes[1].start == 4
    assert sheet.chords.at(4).symbol == "G"


@pytest.mark.parametrize("numerator, denominator, steps_per_bar", [(3, 4, 12), (6, 8, 12)])
def test_other_meters(numerator, denominator, steps_per_bar):
    sheet = read_midi(make_nottingham_midi(numerator=numerator, denominator=denominator, steps_per_chord=steps_per_bar))
    assert sheet.melody.time_signature == (numerator, denominator)
    assert sheet.melody.steps_per_bar == steps_per_bar
    assert sheet.chords.at(steps_per_bar).symbol == "C"


def test_polyphonic_track_is_reduced_to_top_voice_and_chords_recognised():
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    lead = pretty_midi.Instrument(73, name="flute")
    for i, pitch in enumerate([72, 74, 76, 77]):
        lead.notes.append(pretty_midi.Note(90, pitch, i * 0.5, i * 0.5 + 0.5))
        lead.notes.append(pretty_midi.Note(90, pitch - 12, i * 0.5, i * 0.5 + 0.5))  # doubled an octave below
    pad = pretty_midi.Instrument(48, name="strings")
    for pitch in (48, 52, 55):
        pad.notes.append(pretty_midi.Note(60, pitch, 0, 2.0))
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes.append(pretty_midi.Note(100, 36, 0, 0.1))
    pm.instruments.extend([drums, pad, lead])
    buffer = io.BytesIO()
    pm.write(buffer)
    tracks = list_tracks(buffer.getvalue())
    assert guess_melody_track(tracks) == 2
    sheet = read_midi(buffer.getvalue())
    assert [n.pitch for n in sheet.melody.notes] == [72, 74, 76, 77]
    assert sheet.chords.at(0).symbol == "C"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"hello, not midi", "not a MIDI"),
        (b"MThd\x00\x00\x00\x06\x00\x01", "damaged or truncated"),
        (b"MThd" + b"\x00" * (MAX_MIDI_BYTES + 1), "limit"),
    ],
)
def test_bad_bytes_give_clear_errors(data, message):
    with pytest.raises(MidiReadError, match=message):
        read_midi(data)


def test_truncated_file_is_rejected(nottingham_midi):
    with pytest.raises(MidiReadError):
        read_midi(nottingham_midi[: len(nottingham_midi) // 2])


def test_drums_only_and_bad_track_index(nottingham_midi):
    pm = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes.append(pretty_midi.Note(100, 36, 0, 0.1))
    pm.instruments.append(drums)
    buffer = io.BytesIO()
    pm.write(buffer)
    with pytest.raises(MidiReadError, match="no pitched notes"):
        read_midi(buffer.getvalue())
    with pytest.raises(MidiReadError, match="Track 7 does not exist"):
        read_midi(nottingham_midi, melody_track=7)


ABC = """X:1
T:Test Tune
M:4/4
L:1/8
K:G
"G"GABc d2B2|"C"c2e2 "D7"d2c2|"G"B2G2 "D"A2F2|"G"G8|

X:2
T:Second
M:6/8
L:1/8
K:D
A|"D"d2f a2f|"G"g2e "A7"c2e|"D"d3 d2|]
"""


def test_abc_tunes_read_with_chords_meter_and_pickup(tmp_path):
    from engine.io.abc import read_abc_file

    path = tmp_path / "tunes.abc"
    path.write_text(ABC)
    first, second = read_abc_file(path)
    assert first.title == "Test Tune" and first.melody.time_signature == (4, 4)
    assert [(n.pitch, n.start) for n in first.melody.notes[:4]] == [(67, 0), (69, 2), (71, 4), (72, 6)]
    assert [(c.symbol, c.start, c.end) for c in first.chords.chords[:3]] == [
        ("G", 0, 16),
        ("C", 16, 24),
        ("D7", 24, 32),
    ]
    assert second.melody.time_signature == (6, 8) and second.melody.pickup_steps == 2
    assert second.chords.at(2).symbol == "D"


def test_pickup_written_as_a_short_first_bar_round_trips():
    from engine.music import LeadSheet, Melody, Note
    from engine.music.chords import parse_progression
    from engine.render.export import leadsheet_to_pretty_midi, midi_bytes

    notes = [Note(62, 0, 4)] + [Note(67 + i % 3, 4 + 4 * i, 8 + 4 * i) for i in range(8)]
    sheet = LeadSheet(Melody(notes, 36, 100.0, (4, 4), pickup_steps=4), parse_progression("G C", 2).shifted(4))
    back = read_midi(midi_bytes(leadsheet_to_pretty_midi(sheet, 0, 0)))
    assert back.melody.pickup_steps == 4 and back.melody.time_signature == (4, 4)
    assert [(n.pitch, n.start) for n in back.melody.notes] == [(n.pitch, n.start) for n in notes]
    assert back.chords.at(4).symbol == "G"


def test_abc_slur_between_different_pitches_keeps_both_notes(tmp_path):
    from engine.io.abc import read_abc_file

    path = tmp_path / "slur.abc"
    path.write_text("X:1\nT:Slur\nM:4/4\nL:1/8\nK:D\nd2-e2 f2-f2|a8|\n")
    (sheet,) = read_abc_file(path)
    assert [(n.pitch, n.start, n.end) for n in sheet.melody.notes] == [
        (74, 0, 4),
        (76, 4, 8),
        (78, 8, 16),
        (81, 16, 32),
    ]


def test_too_many_tracks_is_refused(nottingham_midi):
    from engine.io.midi import MAX_TRACKS

    data = bytearray(nottingham_midi)
    data[10:12] = (MAX_TRACKS + 1).to_bytes(2, "big")
    with pytest.raises(MidiReadError, match=f"{MAX_TRACKS + 1} tracks"):
        read_midi(bytes(data))
