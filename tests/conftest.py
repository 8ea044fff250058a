"""Shared fixtures: small MIDI files made on the fly (tests never read the training corpus)."""

from __future__ import annotations

import io
import os

import pretty_midi
import pytest

from engine.music import ChordProgression, LeadSheet, Melody, Note
from engine.music.chords import parse_progression

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# (pitch, start step, end step) of a 4-bar 4/4 tune, and its chords per bar.
TUNE_NOTES = [
    (67, 0, 4),
    (69, 4, 8),
    (71, 8, 12),
    (72, 12, 16),
    (74, 16, 24),
    (72, 24, 28),
    (71, 28, 32),
    (69, 32, 36),
    (67, 36, 40),
    (66, 40, 44),
    (67, 44, 48),
    (69, 48, 56),
    (67, 56, 64),
]
TUNE_CHORDS = [("G", (43, 47, 50)), ("C", (48, 52, 55)), ("D", (50, 54, 57)), ("G", (43, 47, 50))]


def make_nottingham_midi(
    notes=TUNE_NOTES, chords=TUNE_CHORDS, numerator=4, denominator=4, tempo=120.0, offset_steps=0, steps_per_chord=16
) -> bytes:
    """A MIDI file laid out like the Nottingham set: track 0 melody, track 1 block chords."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, 0.0))
    step = 60.0 / tempo / 4
    melody = pretty_midi.Instrument(0, name="melody")
    for pitch, start, end in notes:
        melody.notes.append(pretty_midi.Note(90, pitch, (start + offset_steps) * step, (end + offset_steps) * step))
    harmony = pretty_midi.Instrument(0, name="chords")
    for index, (_, pitches) in enumerate(chords):
        lo = (index * steps_per_chord + offset_steps) * step
        for pitch in pitches:
            harmony.notes.append(pretty_midi.Note(60, pitch, lo, lo + steps_per_chord * step))
    pm.instruments.extend([melody, harmony])
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def nottingham_midi() -> bytes:
    return make_nottingham_midi()


@pytest.fixture
def midi_folder(tmp_path):
    """A folder of 12 small tunes (transposed copies), enough for a train/validation split."""
    folder = tmp_path / "tunes"
    folder.mkdir()
    for shift in range(12):
        notes = [(p + shift - 5, s, e) for p, s, e in TUNE_NOTES] * 1
        notes = notes + [(p, s + 64, e + 64) for p, s, e in notes]
        chords = [(name, tuple(x + shift - 5 for x in pitches)) for name, pitches in TUNE_CHORDS] * 2
        (folder / f"tune{shift}.mid").write_bytes(make_nottingham_midi(notes, chords))
    return folder


def skip_without_audio(studio) -> None:
    """Skip the calling test, saying why, when the studio runs without a synthesizer (its results then have no
    audio): FluidSynth or a SoundFont is missing on this machine."""
    if not studio.has_audio:
        pytest.skip(
            "no audio to check: libfluidsynth (Debian libfluidsynth3) or a SoundFont is missing; "
            "make test installs them"
        )


def make_lead_sheet(
    bars: int,
    step: int = 4,
    pickup: int = 0,
    time_signature=(4, 4),
    chords: str | None = "C F G C",
    base: int = 60,
    title: str = "tune",
    tempo: float = 120.0,
) -> LeadSheet:
    """A lead sheet: a melody with an onset every ``step`` steps over a pickup + ``bars`` bars."""
    steps_per_bar = time_signature[0] * 16 // time_signature[1]
    num_steps = pickup + bars * steps_per_bar
    notes = [Note(base + (i * 5) % 12, s, min(s + step, num_steps)) for i, s in enumerate(range(0, num_steps, step))]
    progression = parse_progression(chords, bars, steps_per_bar).shifted(pickup) if chords else ChordProgression()
    return LeadSheet(Melody(notes, num_steps, tempo, time_signature, pickup), progression, title)
