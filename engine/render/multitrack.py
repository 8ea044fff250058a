"""Four-track pieces (the style models' tokens) to and from multitrack MIDI, with instruments that fit each style."""

from __future__ import annotations

import numpy as np
import pretty_midi

from engine.music.representation import tokens_to_notes

TRACK_NAMES = ("Voice 1 (top)", "Voice 2", "Voice 3", "Voice 4 (bass)")


# Instruments per track (names of engine.render.instruments), chosen to suit each style: choir for chorales and
# madrigals, recorders for the Renaissance mass and the Trecento (GM has no viols), a string quartet for quartets,
# fiddle, guitars and bass for folk.
STYLE_INSTRUMENTS: dict[str, tuple[str, str, str, str]] = {
    "Bach chorale": ("Choir Aahs",) * 4,
    "Palestrina mass": ("Recorder",) * 4,
    "Monteverdi madrigal": ("Choir Aahs",) * 4,
    "Trecento": ("Recorder", "Recorder", "Recorder", "Clarinet"),
    "String quartet": ("Violin", "Violin", "Viola", "Cello"),
    "English folk": ("Fiddle", "Nylon Guitar", "Nylon Guitar", "Acoustic Bass"),
    "Irish folk": ("Fiddle", "Nylon Guitar", "Nylon Guitar", "Acoustic Bass"),
}


DEFAULT_INSTRUMENTS = ("Acoustic Grand Piano",) * 4


def piece_to_midi(
    tokens: np.ndarray, tempo_bpm: float = 96.0, programs: tuple[int, ...] = (0, 0, 0, 0), velocity: int = 80
) -> pretty_midi.PrettyMIDI:
    """A MIDI file with one instrument (GM ``programs``) per track (all four, silent ones too) from tokens
    (4, steps)."""
    seconds = 60.0 / float(tempo_bpm) / 4
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo_bpm))
    for track, (row, program) in enumerate(zip(tokens, programs)):
        instrument = pretty_midi.Instrument(program=int(program), name=TRACK_NAMES[track])
        for note in tokens_to_notes(row, velocity=velocity):
            instrument.notes.append(pretty_midi.Note(velocity, note.pitch, note.start * seconds, note.end * seconds))
        pm.instruments.append(instrument)
    return pm


def style_instruments(style: str) -> tuple[str, str, str, str]:
    """The default instrument names of a style's four tracks."""
    return STYLE_INSTRUMENTS.get(style, DEFAULT_INSTRUMENTS)


def style_programs(style: str) -> tuple[int, ...]:
    """The default GM programs of a style's four tracks."""
    from engine.render.instruments import program_for

    return tuple(program_for(name) for name in style_instruments(style))
