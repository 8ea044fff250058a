"""A real MIDI file from another program, read as it is: a two-staff piano piece with a 2/4 pickup bar, 4/4, then
3/4, and a tempo map (tests.midi_factory.piano_piece, written event by event the way notation programs export)."""

from __future__ import annotations

import io

import mido
import pretty_midi
import pytest

from engine.io.midi import read_midi
from engine.io.sources import cut_note, prepare_source, read_piece
from engine.render.export import leadsheet_to_pretty_midi
from tests.midi_factory import PIANO_TEMPI, piano_piece


@pytest.fixture(scope="module")
def piece():
    return read_piece(piano_piece())


def test_the_meter_is_the_one_after_the_pickup_and_the_pickup_is_a_pickup(piece):
    melody = piece.melody
    assert melody.time_signature == (4, 4) and melody.steps_per_bar == 16
    assert melody.pickup_steps == 8  # two quarter notes before bar 1
    assert [(n.pitch, n.start) for n in melody.notes[:3]] == [(67, 0), (69, 4), (72, 8)]  # G A | C on the downbeat


def test_a_pickup_that_starts_after_a_rest_is_still_a_pickup():
    """The pickup bar's first beat is a rest: the tune starts on its second beat, still before bar 1 in 4/4."""
    midi = mido.MidiFile(file=io.BytesIO(piano_piece()))
    right = midi.tracks[1]
    first_on = next(i for i, m in enumerate(right) if m.type == "note_on")
    right[first_on] = right[first_on].copy(time=right[first_on].time + 480)  # G4 starts a beat later
    following = next(i for i in range(first_on + 1, len(right)) if right[i].time > 0)
    right[following] = right[following].copy(time=max(0, right[following].time - 480))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    sheet = read_piece(buffer.getvalue())
    assert sheet.melody.time_signature == (4, 4) and sheet.melody.pickup_steps == 4


def test_the_loaded_part_stops_where_the_meter_changes_and_says_so(piece):
    # bars 1-4 of 4/4 after the pickup; bar 5 is in 3/4
    assert piece.melody.num_steps == 8 + 4 * 16
    assert any("stopped at bar 5" in note and "to 3/4" in note for note in piece.reading_notes), piece.reading_notes
    whole = read_midi(piano_piece())  # the corpus reading keeps every bar (on one grid)
    assert whole.melody.num_steps > piece.melody.num_steps and not any("stopped" in n for n in whole.reading_notes)


def test_chords_come_from_the_left_hand_bar_by_bar(piece):
    bars = [(c.symbol, c.start, c.end) for c in piece.chords.chords]
    assert bars == [("C", 8, 24), ("F", 24, 40), ("G", 40, 56), ("C", 56, 72)]
    # most of the tune's note time is on chord tones (the file read 28%)
    on = total = 0
    for note in piece.melody.notes:
        chord = piece.chords.at(note.start)
        total += note.end - note.start
        on += (note.end - note.start) * bool(chord and note.pitch % 12 in chord.pitch_classes)
    assert on / total >= 0.8


def test_the_tempo_map_is_kept_in_the_midi_written(piece):
    melody = piece.melody
    assert melody.tempo_bpm == 96.0 and melody.tempo_changes == ((24, 74.0), (56, 135.0))
    assert any("74" in n and "135" in n and "keeps them" in n for n in piece.reading_notes)
    pm = leadsheet_to_pretty_midi(piece)
    times, tempi = pm.get_tempo_changes()
    assert list(tempi) == [96.0, 74.0, 135.0] == [PIANO_TEMPI[k] for k in sorted(PIANO_TEMPI)]
    written = pretty_midi.PrettyMIDI(io.BytesIO(_bytes(pm)))
    assert [round(t, 3) for t in written.get_tempo_changes()[1]] == [96.0, 74.0, 135.0]
    # the notes sit on the original's beats: the F bar's first note where the file has it
    original = pretty_midi.PrettyMIDI(io.BytesIO(piano_piece()))
    f_bar = next(n.start for n in original.instruments[0].notes if n.pitch == 77)
    assert abs(next(n.start for n in written.instruments[0].notes if n.pitch == 77) - f_bar) < 0.01
    # a part cut from the middle starts at the tempo in effect there
    later = piece.cropped(40, 32).melody
    assert later.tempo_bpm == 74.0 and later.tempo_changes == ((16, 135.0),)


def test_the_part_used_is_named(piece):
    used = prepare_source(piece, 0, 2, max_bars=16)
    note = cut_note(piece, used, 0)
    assert note is not None and "used bars 1-2 of the 4 bars" in note and "pickup" in note


def _bytes(pm) -> bytes:
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()
