"""A MIDI file with 2 to 4 voices -> four-track 2-bar windows (the style models' tokens)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.music.errors import CadenzaInputError
from engine.music.multitrack import choose_voices, piece_windows, voice_tokens

MIN_VOICES, MAX_VOICES = 2, 4


def midi_windows(source: str | Path | bytes) -> tuple[np.ndarray, float]:
    """(windows (N, 4, 32), tempo) of a MIDI file with 2..4 voices (instruments with notes, drums left out), each read
    top note first; raises CadenzaInputError naming the count otherwise."""
    from engine.io.midi import load_pretty_midi

    pm = load_pretty_midi(source)
    voices = [inst for inst in pm.instruments if inst.notes and not inst.is_drum]
    if not MIN_VOICES <= len(voices) <= MAX_VOICES:
        raise CadenzaInputError(
            f"Style transfer needs a MIDI file with {MIN_VOICES} to {MAX_VOICES} voices (tracks with notes); "
            f"this one has {len(voices)}"
        )
    tempo = float(pm.get_tempo_changes()[1][0]) if len(pm.get_tempo_changes()[1]) else 120.0
    step = 60.0 / tempo / 4
    total = int(np.ceil(pm.get_end_time() / step)) + 1
    tracks = [
        voice_tokens([(int(round(n.start / step)), int(round(n.end / step)), n.pitch) for n in inst.notes], total)
        for inst in voices
    ]
    windows = piece_windows(choose_voices(tracks), list(range(0, total, 32)), min_onsets=1)
    if not len(windows):
        raise CadenzaInputError("The MIDI file has no 2-bar stretch with notes in its top voice")
    return windows, tempo
