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
