import io
import wave

import numpy as np
import pretty_midi
import pytest

from engine.music import Chord, ChordProgression, LeadSheet, Melody, Note
from engine.render.export import (
    CHORDS_TRACK_NAME,
    MELODY_TRACK_NAME,
    chord_voicing,
    leadsheet_to_pretty_midi,
    midi_bytes,
    save_midi,
    write_wav,
)


def make_sheet(tempo=100.0, chords=True, pickup=0):
    notes = [Note(60, 0, 4), Note(62, 4, 6, 70), Note(64, 6, 8), Note(67, 8, 16, 100), Note(72, 17, 31)]
    progression = ChordProgression(
        [
            Chord("C", 0, 16, (0, 4, 7), 0),
            Chord("Am7", 16, 24, (0, 4, 7, 9), 9),
            Chord("G/B", 24, 32, (2, 7, 11), 11),
        ]
        if chords
        else []
    )
    melody = Melody(notes, 32, tempo, (4, 4), pickup, "C major")
    return LeadSheet(melody, progression, "t")


def test_notes_start_exactly_on_steps():
    sheet = make_sheet(tempo=100.0)
    pm = leadsheet_to_pretty_midi(sheet, program=73)
    sps = sheet.melody.seconds_per_step
    melody = pm.instruments[0]
    assert melody.name == MELODY_TRACK_NAME and melody.program == 73
    for written, note in zip(melody.notes, sheet.melody.notes):
        assert written.start == note.start * sps
        assert written.end == note.end * sps
        assert written.pitch == note.pitch and written.velocity == note.velocity


def test_midi_bytes_round_trip():
    sheet = make_sheet(tempo=100.0)
    data = midi_bytes(leadsheet_to_pretty_midi(sheet, program=40, accompaniment_program=48))
    assert data[:4] == b"MThd"
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    names = [inst.name for inst in pm.instruments]
    assert names == [MELODY_TRACK_NAME, CHORDS_TRACK_NAME]
    assert [inst.program for inst in pm.instruments] == [40, 48]
    sps = sheet.melody.seconds_per_step
    melody = sorted(pm.instruments[0].notes, key=lambda n: n.start)
    assert [n.pitch for n in melody] == [n.pitch for n in sheet.melody.notes]
    np.testing.assert_allclose([n.start for n in melody], [n.start * sps for n in sheet.melody.notes], atol=1e-6)
    np.testing.assert_allclose([n.end for n in melody], [n.end * sps for n in sheet.melody.notes], atol=1e-6)
    _, tempi = pm.get_tempo_changes()
    assert tempi[0] == pytest.approx(100.0, abs=1e-3)
    ts = pm.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (4, 4)
    # Block chords: one onset per chord, spanning the chord.
    onsets = sorted({round(n.start / sps) for n in pm.instruments[1].notes})
    assert onsets == [0, 16, 24]


def test_chords_track_absent():
    assert len(leadsheet_to_pretty_midi(make_sheet(), accompaniment_program=None).instruments) == 1
    assert len(leadsheet_to_pretty_midi(make_sheet(chords=False), accompaniment_program=0).instruments) == 1
    nc_only = make_sheet(chords=False)
    nc_only.chords = ChordProgression([Chord("N.C.", 0, 32)])
    assert len(leadsheet_to_pretty_midi(nc_only).instruments) == 1


def test_chord_voicing():
    c = chord_voicing(Chord("C", 0, 16, (0, 4, 7), 0))
    assert c[0] == 36 and sorted(p % 12 for p in c[1:]) == [0, 4, 7]
    slash = chord_voicing(Chord("G/B", 0, 16, (2, 7, 11), 11))
    assert slash[0] % 12 == 11 and 36 <= slash[0] < 48
    no_bass = chord_voicing(Chord("Bb", 0, 16, (2, 5, 10)))
    assert no_bass[0] % 12 == 10  # root from the symbol
    for pitches in (c, slash, no_bass):
        assert all(48 <= p < 66 for p in pitches[1:])
        assert max(pitches[1:]) - min(pitches[1:]) < 12  # close position
    assert chord_voicing(Chord("N.C.", 0, 16)) == []


def test_pickup_becomes_short_first_bar():
    sheet = make_sheet(tempo=120.0, pickup=4)
    pm = leadsheet_to_pretty_midi(sheet)
    sigs = [(t.numerator, t.denominator, t.time) for t in pm.time_signature_changes]
    assert sigs == [(1, 4, 0.0), (4, 4, pytest.approx(0.5))]


def test_save_midi(tmp_path):
    path = save_midi(leadsheet_to_pretty_midi(make_sheet()), tmp_path / "sub" / "x.mid")
    assert path.is_file() and len(pretty_midi.PrettyMIDI(str(path)).instruments) == 2


@pytest.mark.parametrize("channels", [1, 2])
def test_write_wav(tmp_path, channels):
    sr = 22050
    t = np.arange(sr // 2) / sr
    tone = 0.5 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    audio = tone if channels == 1 else np.stack([tone, -tone], axis=1)
    path = write_wav(tmp_path / "a.wav", audio, sr)
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == channels
        assert wav.getframerate() == sr
        assert wav.getsampwidth() == 2
        assert wav.getnframes() == sr // 2
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert abs(int(data.max()) - 16384) < 10


def test_write_wav_rejects_bad_shape(tmp_path):
    with pytest.raises(ValueError):
        write_wav(tmp_path / "a.wav", np.zeros((2, 3, 4), dtype=np.float32), 8000)
