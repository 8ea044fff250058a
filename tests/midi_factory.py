"""MIDI files for tests, good and bad, built in memory (tests never read the training corpus)."""

from __future__ import annotations

import io
import struct

import pretty_midi

from engine.io.midi import MAX_MIDI_BYTES
from tests.conftest import make_nottingham_midi


def pm_bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    """A PrettyMIDI object written to bytes."""
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def vlq(value: int) -> bytes:
    """MIDI variable-length quantity encoding of a non-negative int."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _chunk(tag: bytes, data: bytes) -> bytes:
    return tag + struct.pack(">I", len(data)) + data


def _track(events: bytes) -> bytes:
    return _chunk(b"MTrk", events + b"\x00\xff\x2f\x00")  # + end of track


def no_notes() -> bytes:
    pm = pretty_midi.PrettyMIDI()
    pm.instruments.append(pretty_midi.Instrument(0, name="empty"))
    return pm_bytes(pm)


def drums_only() -> bytes:
    pm = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(0, is_drum=True, name="kit")
    for i in range(16):
        drums.notes.append(pretty_midi.Note(100, 36 + i % 3, i * 0.25, i * 0.25 + 0.1))
    pm.instruments.append(drums)
    return pm_bytes(pm)


def many_tracks(count: int = 300) -> bytes:
    """A type-1 file with ``count`` tracks of one note each (written by hand: fast)."""
    data = _chunk(b"MThd", struct.pack(">HHH", 1, count, 480))
    for i in range(count):
        channel, pitch = i % 16, 48 + i % 24
        data += _track(bytes([0, 0x90 | channel, pitch, 90]) + vlq(480) + bytes([0x80 | channel, pitch, 0]))
    return data


def many_notes(count: int = 100_000, voices: int = 4) -> bytes:
    """One track of ``count`` notes as 4-note chords on every sixteenth, like a long piano piece
    (written by hand: fast; 25,000 sixteenths keep it under pretty_midi's 10^7-tick sanity limit)."""
    events = bytearray()
    for i in range(count // voices):
        pitches = [48 + (i + 7 * v) % 36 for v in range(voices)]
        for pitch in pitches:
            events += bytes([0, 0x90, pitch, 90])
        for index, pitch in enumerate(pitches):
            events += vlq(120 if index == 0 else 0) + bytes([0x80, pitch, 0])
    return _chunk(b"MThd", struct.pack(">HHH", 0, 1, 480)) + _track(bytes(events))


def not_midi() -> bytes:
    return b"%PDF-1.4 this is a document, not a MIDI file\n" * 20


def truncated() -> bytes:
    data = make_nottingham_midi()
    return data[: len(data) // 2]


def oversized() -> bytes:
    return b"MThd" + b"\x00" * MAX_MIDI_BYTES  # one byte over the limit


# A two-staff piano piece as notation programs export it: a 2/4 pickup bar, four bars of 4/4, two of 3/4, two of 4/4;
# tempo 96, then 74 from bar 3 and 135 from bar 5; right hand the tune, left hand a bass note and a chord per bar.
PIANO_BARS = [  # (meter, right hand (pitch, beats)..., left-hand chord pitches)
    ((2, 4), [(67, 1), (69, 1)], None),  # the pickup: G4 A4
    ((4, 4), [(72, 1), (76, 1), (79, 1), (76, 1)], (48, 55, 60, 64)),  # C
    ((4, 4), [(77, 2), (81, 1), (77, 1)], (41, 53, 57, 60)),  # F
    ((4, 4), [(79, 1), (74, 1), (71, 1), (74, 1)], (43, 55, 59, 62)),  # G
    ((4, 4), [(72, 4)], (48, 55, 60, 64)),  # C
    ((3, 4), [(76, 1), (77, 1), (79, 1)], (48, 55, 60, 64)),
    ((3, 4), [(81, 2), (79, 1)], (41, 53, 57, 60)),
    ((4, 4), [(77, 1), (76, 1), (74, 1), (71, 1)], (43, 55, 59, 62)),
    ((4, 4), [(72, 4)], (48, 55, 60, 64)),
]
PIANO_TEMPI = {0: 96.0, 2: 74.0, 4: 135.0}  # bar index in PIANO_BARS (0: the pickup) -> BPM


def piano_piece(ticks_per_beat: int = 480) -> bytes:
    """The piece above as a type-1 MIDI file written event by event (mido): a conductor track with the time
    signatures and tempi, then the right hand and the left hand, as two staves of one piano."""
    import mido

    conductor, right, left = [], [], []  # (absolute tick, message)
    tick = 0
    for index, (meter, tune, chord) in enumerate(PIANO_BARS):
        if index == 0 or meter != PIANO_BARS[index - 1][0]:
            conductor.append((tick, mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1])))
        if index in PIANO_TEMPI:
            conductor.append((tick, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(PIANO_TEMPI[index]))))
        at = tick
        for pitch, beats in tune:
            right.append((at, mido.Message("note_on", note=pitch, velocity=80)))
            right.append((at + beats * ticks_per_beat - 10, mido.Message("note_off", note=pitch, velocity=0)))
            at += beats * ticks_per_beat
        length = meter[0] * ticks_per_beat * 4 // meter[1]
        if chord is not None:
            bass, *upper = chord
            left.append((tick, mido.Message("note_on", note=bass, velocity=70)))
            left.append((tick + length - 10, mido.Message("note_off", note=bass, velocity=0)))
            for beat in range(0, meter[0], 2):  # the chord on beats 1 and 3 (1 in 3/4)
                for pitch in upper:
                    left.append((tick + beat * ticks_per_beat, mido.Message("note_on", note=pitch, velocity=60)))
                    off = tick + min(beat + 2, meter[0]) * ticks_per_beat - 10
                    left.append((off, mido.Message("note_off", note=pitch, velocity=0)))
        tick += length
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    for name, events in (("Conductor", conductor), ("Piano RH", right), ("Piano LH", left)):
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        now = 0
        for at, message in sorted(events, key=lambda e: (e[0], e[1].type == "note_on")):
            track.append(message.copy(time=at - now))
            now = at
        midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()
