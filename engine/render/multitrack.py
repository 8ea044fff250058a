"""Four-track pieces (the style models' tokens) to and from multitrack MIDI, with instruments that fit each style."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi

from engine.music.multitrack import voice_tokens
from engine.music.representation import REST, tokens_to_notes

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
    tokens: np.ndarray,
    tempo_bpm: float = 96.0,
    programs: tuple[int, ...] = (0, 0, 0, 0),
    velocity: int = 80,
    time_signature: tuple[int, int] | None = None,
) -> pretty_midi.PrettyMIDI:
    """A MIDI file with one instrument (GM ``programs``) per track (all four, silent ones too) from tokens
    (4, steps); ``time_signature`` written at the start when given (else none: readers take 4/4)."""
    seconds = 60.0 / float(tempo_bpm) / 4
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo_bpm))
    if time_signature is not None:
        pm.time_signature_changes = [pretty_midi.TimeSignature(int(time_signature[0]), int(time_signature[1]), 0.0)]
    for track, (row, program) in enumerate(zip(tokens, programs)):
        instrument = pretty_midi.Instrument(program=int(program), name=TRACK_NAMES[track])
        for note in tokens_to_notes(row, velocity=velocity):
            instrument.notes.append(pretty_midi.Note(velocity, note.pitch, note.start * seconds, note.end * seconds))
        pm.instruments.append(instrument)
    return pm


def midi_to_piece(source: str | bytes, num_steps: int | None = None) -> tuple[np.ndarray, float]:
    """The inverse of :func:`piece_to_midi`: (tokens (4, steps), tempo) of a four-track file the studio wrote, each
    track found by its name (a silent track stays silent). ``num_steps``: the piece's length, else its last note's
    end rounded up to whole 2-bar windows. Raises ValueError for a file without the studio's track names."""
    from engine.io.midi import load_pretty_midi

    pm = load_pretty_midi(source)
    tempi = pm.get_tempo_changes()[1]
    tempo = float(tempi[0]) if len(tempi) else 120.0
    step = 60.0 / tempo / 4
    tracks = {inst.name: inst for inst in pm.instruments if inst.name in TRACK_NAMES}
    if not tracks:
        raise ValueError("not a four-track piece written by the studio (no track is named after a voice)")
    if num_steps is None:
        last = max((n.end for inst in tracks.values() for n in inst.notes), default=0.0)
        num_steps = max(32, int(np.ceil(round(last / step, 6) / 32)) * 32)
    rows = []
    for name in TRACK_NAMES:
        inst = tracks.get(name)
        if inst is None:
            rows.append(np.full(num_steps, REST, dtype=np.int64))
            continue
        notes = [(int(round(n.start / step)), int(round(n.end / step)), n.pitch) for n in inst.notes]
        rows.append(voice_tokens(notes, num_steps))
    return np.stack(rows), tempo


def style_instruments(style: str) -> tuple[str, str, str, str]:
    """The default instrument names of a style's four tracks."""
    return STYLE_INSTRUMENTS.get(style, DEFAULT_INSTRUMENTS)


def style_programs(style: str) -> tuple[int, ...]:
    """The default GM programs of a style's four tracks."""
    from engine.render.instruments import program_for

    return tuple(program_for(name) for name in style_instruments(style))


def piece_to_musicxml(
    tokens: np.ndarray,
    names: tuple[str, ...] = TRACK_NAMES,
    tempo_bpm: float = 96.0,
    title: str = "Cadenza",
    time_signature: tuple[int, int] = (4, 4),
) -> bytes:
    """Four staves of MusicXML (music21) from tokens (4, steps) in ``time_signature`` from step 0 (a pickup is written
    after rests in a whole first bar, so every bar line stays where the audio has it): one part per track, named
    ``names``, a bass clef for the low ones. Raises ValueError when music21 cannot write it."""
    import warnings

    from music21 import clef, instrument, metadata, meter, note, stream, tempo
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    score = stream.Score()
    score.metadata = metadata.Metadata(title=title, composer="Cadenza")
    for index, (row, name) in enumerate(zip(tokens, names)):
        part = stream.Part()
        part.partName = name
        voice = instrument.Instrument()  # every part names its instrument (MuseScore wants one per part)
        voice.instrumentName, voice.partName = name, name
        part.append(voice)
        part.append(meter.TimeSignature(f"{int(time_signature[0])}/{int(time_signature[1])}"))
        if index == 0:
            part.append(tempo.MetronomeMark(number=round(float(tempo_bpm))))
        notes = tokens_to_notes(row)
        low = np.mean([n.pitch for n in notes]) < 60 if notes else index >= 2
        part.append(clef.BassClef() if low else clef.TrebleClef())
        position = 0
        for n in notes:
            if n.start > position:
                part.append(note.Rest(quarterLength=(n.start - position) / 4))
            part.append(note.Note(n.pitch, quarterLength=(n.end - n.start) / 4))
            position = n.end
        if position < row.shape[0]:
            part.append(note.Rest(quarterLength=(row.shape[0] - position) / 4))
        score.insert(0, part)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return GeneralObjectExporter(score.makeNotation()).parse()
    except Exception as err:  # music21 raises many kinds
        raise ValueError(f"the piece could not be written as MusicXML ({type(err).__name__}: {err})") from None


def write_musicxml(
    path: str | Path,
    tokens: np.ndarray,
    names: tuple[str, ...] = TRACK_NAMES,
    tempo_bpm: float = 96.0,
    title: str = "Cadenza",
    time_signature: tuple[int, int] = (4, 4),
) -> Path:
    """:func:`piece_to_musicxml` written to ``path`` (returned): a module-level job an engraving process can run."""
    path = Path(path)
    path.write_bytes(piece_to_musicxml(tokens, names, tempo_bpm, title, time_signature))
    return path
