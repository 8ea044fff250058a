"""LeadSheet -> MIDI (pretty_midi), MIDI bytes/files, and WAV files.

Time: a note at step ``s`` starts at exactly ``s * melody.seconds_per_step``
seconds (the MIDI tempo is the melody's tempo, so bars line up in a DAW).
"""

from __future__ import annotations

import io
import math
import re
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pretty_midi

from engine.music import Chord, LeadSheet, Melody
from engine.music.constants import STEPS_PER_BEAT

MIDI_RESOLUTION = 480  # ticks per quarter note: a sixteenth is 120 ticks
MELODY_TRACK_NAME = "Melody"
CHORDS_TRACK_NAME = "Chords"

# Chord voicing: bass in C2..B2, the chord tones in close position in E3..D#4.
BASS_LOW = 36
VOICING_LOW = 52

_ROOT_RE = re.compile(r"^\s*([A-Ga-g])([#b]?)")
_PC_OF_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def _chord_root_pc(chord: Chord) -> int | None:
    match = _ROOT_RE.match(chord.symbol)
    if match is None:
        return None
    pc = _PC_OF_LETTER[match.group(1).upper()]
    pc += {"#": 1, "b": -1}.get(match.group(2), 0)
    return pc % 12


def chord_voicing(chord: Chord) -> list[int]:
    """MIDI pitches for a block chord: one bass note plus the chord tones in close position.

    The bass is ``chord.bass`` (slash chords), else the root from the symbol,
    else the lowest pitch class. "N.C." (no pitch classes) gives ``[]``.
    """
    pcs = sorted(set(int(pc) % 12 for pc in chord.pitch_classes))
    if not pcs:
        return []
    bass_pc = chord.bass if chord.bass is not None else _chord_root_pc(chord)
    if bass_pc is None:
        bass_pc = pcs[0]
    bass = BASS_LOW + (int(bass_pc) - BASS_LOW) % 12
    upper = sorted(VOICING_LOW + (pc - VOICING_LOW) % 12 for pc in pcs)
    return [bass, *upper]


def _step_clock(pm: pretty_midi.PrettyMIDI, melody: Melody) -> Callable[[float], float]:
    """Seconds of a step: the steady grid at ``melody.tempo_bpm``, or, with a tempo map (``tempo_changes``), the map
    written into ``pm`` (its tempo events) and read back through it, so notes sit on the same ticks either way."""
    if not melody.tempo_changes:
        sps = melody.seconds_per_step
        return lambda step: step * sps
    ticks_per_step = MIDI_RESOLUTION // STEPS_PER_BEAT
    tempi = [(0, float(melody.tempo_bpm))] + [(int(s) * ticks_per_step, float(b)) for s, b in melody.tempo_changes]
    # pretty_midi writes its tempo events from _tick_scales (tick, seconds per tick); no public setter exists.
    pm._tick_scales = [(tick, 60.0 / (bpm * MIDI_RESOLUTION)) for tick, bpm in tempi]
    last_tick = (melody.num_steps + 1) * ticks_per_step
    pm._update_tick_to_time(last_tick)
    return lambda step: float(pm.tick_to_time(int(round(step * ticks_per_step))))


def _time_signatures(num: int, den: int, pickup_steps: int, seconds_per_step: float, steps_per_bar: int):
    # seconds_per_step: of the first step (the pickup is at the first tempo)
    """Time signature changes; a pickup becomes a short first bar (e.g. 1/4) so bar lines align."""
    if 0 < pickup_steps < steps_per_bar:
        g = math.gcd(pickup_steps, 16)
        return [
            pretty_midi.TimeSignature(pickup_steps // g, 16 // g, 0.0),
            pretty_midi.TimeSignature(num, den, pickup_steps * seconds_per_step),
        ]
    return [pretty_midi.TimeSignature(num, den, 0.0)]


def _key_signature(key: str | None) -> pretty_midi.KeySignature | None:
    if not key:
        return None
    text = key.strip().replace("-", "b")
    parts = text.split()
    if len(parts) == 1:  # "C", "Am", "F#m"
        name = parts[0]
        mode = "minor" if name.endswith("m") and len(name) > 1 else "major"
        tonic = name[:-1] if mode == "minor" else name
        parts = [tonic, mode]
    if len(parts) != 2:
        return None
    tonic = parts[0][:1].upper() + parts[0][1:]
    try:
        number = pretty_midi.key_name_to_key_number(f"{tonic} {parts[1].capitalize()}")
    except Exception:  # pretty_midi raises ValueError for unknown names
        return None
    return pretty_midi.KeySignature(number, 0.0)


def leadsheet_to_pretty_midi(
    sheet: LeadSheet,
    program: int = 0,
    accompaniment_program: int | None = 0,
    accompaniment_velocity: int = 60,
) -> pretty_midi.PrettyMIDI:
    """A two-track MIDI: "Melody" (``program``) and, when there are chords and
    ``accompaniment_program`` is not None, "Chords" (block chords held for each chord span). A sheet that keeps its
    file's own accompaniment (``sheet.parts``) gets those tracks as they were instead, and block chords only after
    them (over bars added to the tune).
    """
    melody = sheet.melody
    pm = pretty_midi.PrettyMIDI(resolution=MIDI_RESOLUTION, initial_tempo=float(melody.tempo_bpm))
    at = _step_clock(pm, melody)
    num, den = melody.time_signature
    pm.time_signature_changes = _time_signatures(num, den, melody.pickup_steps, at(1), melody.steps_per_bar)
    key_sig = _key_signature(melody.key)
    if key_sig is not None:
        pm.key_signature_changes = [key_sig]

    lead = pretty_midi.Instrument(program=int(program), name=MELODY_TRACK_NAME)
    for note in sorted(melody.notes, key=lambda n: (n.start, n.pitch)):
        if note.end <= note.start:
            continue
        lead.notes.append(
            pretty_midi.Note(
                velocity=int(np.clip(note.velocity, 1, 127)),
                pitch=int(note.pitch),
                start=at(note.start),
                end=at(note.end),
            )
        )
    pm.instruments.append(lead)

    kept_until = min((part.until for part in sheet.parts), default=0)
    for part in sheet.parts:
        track = pretty_midi.Instrument(program=int(part.program), is_drum=part.is_drum, name=part.name)
        track.notes = [
            pretty_midi.Note(
                velocity=int(np.clip(n.velocity, 1, 127)), pitch=int(n.pitch), start=at(n.start), end=at(n.end)
            )
            for n in part.notes
            if n.end > n.start
        ]
        if track.notes:
            pm.instruments.append(track)
    if accompaniment_program is not None:
        chords_track = pretty_midi.Instrument(program=int(accompaniment_program), name=CHORDS_TRACK_NAME)
        velocity = int(np.clip(accompaniment_velocity, 1, 127))
        for chord in sorted(sheet.chords.chords, key=lambda c: c.start):
            if chord.end <= chord.start or chord.start < kept_until:  # the file's own accompaniment plays there
                continue
            for pitch in chord_voicing(chord):
                chords_track.notes.append(
                    pretty_midi.Note(velocity=velocity, pitch=pitch, start=at(chord.start), end=at(chord.end))
                )
        if chords_track.notes:
            pm.instruments.append(chords_track)
    return pm


def midi_bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    """The standard MIDI file (type 1) as bytes."""
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def save_midi(pm: pretty_midi.PrettyMIDI, path: str | Path) -> Path:
    """Write ``pm`` to ``path`` (parent folders are created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(midi_bytes(pm))
    return path


def audio_to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] (or int16 as-is) -> int16, shape (frames,) or (frames, channels)."""
    audio = np.asarray(audio)
    if audio.dtype == np.int16:
        return audio
    if np.issubdtype(audio.dtype, np.integer):
        raise ValueError(f"Audio must be float in [-1, 1] or int16, not {audio.dtype}")
    samples: np.ndarray = (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype(np.int16)
    return samples


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Write 16-bit PCM WAV. ``audio``: float in [-1, 1] or int16, shape (frames,) mono or (frames, channels)."""
    data = audio_to_int16(audio)
    if data.ndim == 1:
        channels = 1
    elif data.ndim == 2:
        channels = data.shape[1]
    else:
        raise ValueError(f"Audio must have shape (frames,) or (frames, channels), not {data.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(np.ascontiguousarray(data, dtype="<i2").tobytes())
    return path


def read_wav(path: str | Path) -> tuple[int, np.ndarray]:
    """``(sample_rate, int16 (frames,) or (frames, channels))`` of a 16-bit PCM WAV (as :func:`write_wav` writes)."""
    with wave.open(str(path), "rb") as src:
        if src.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit WAV is read, not {8 * src.getsampwidth()}-bit")
        channels, rate = src.getnchannels(), src.getframerate()
        data = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2").astype(np.int16)
    return rate, (data if channels == 1 else data.reshape(-1, channels))
