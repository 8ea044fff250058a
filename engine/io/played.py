"""A melody played on a MIDI keyboard, as the studio's recorder (app.components.midi_keyboard) hands it over.

A take is JSON ``{"notes": [[pitch, on_ms, off_ms | null], ...], "stop": ms}``: each key's note-on and note-off times
(the Web MIDI events' own time stamps). :func:`played_melody` puts it on the sixteenth grid at the tempo the player
saw, from the first note played (the recording starts when you play), as one line: two notes struck on one sixteenth
keep the later one, and a note still sounding when the next begins ends there (legato playing leaves keys down a
moment). A key still down at Stop sounds to Stop.
"""

from __future__ import annotations

import json
import math
from typing import Any

from engine.music.constants import STEPS_PER_BAR_44
from engine.music.errors import CadenzaInputError
from engine.music.notes import Melody, Note

MAX_TAKE_CHARS = 200_000  # a take's JSON: thousands of notes; more is not a melody played by hand
MAX_PLAYED_NOTES = 2_000
MAX_TAKE_STEPS = 64 * STEPS_PER_BAR_44  # 64 bars are kept; Arrange reads up to 32 of them


class PlayedTakeError(CadenzaInputError):
    """A recorded take that cannot be a melody (the message says why)."""


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlayedTakeError(f"The recording is damaged: {what} is {value!r}, not a time in ms")
    return float(value)


def played_melody(take: Any, tempo: float) -> Melody:
    """The melody of a recorded take (the JSON text the widget writes) at ``tempo`` BPM on the sixteenth grid, in 4/4
    from the first note played. Raises PlayedTakeError naming what is wrong (nothing played, a damaged take)."""
    if not isinstance(take, str) or not take.strip():
        raise PlayedTakeError("Nothing recorded yet: press Record, play your melody on the keyboard, then Stop")
    if len(take) > MAX_TAKE_CHARS:
        raise PlayedTakeError(f"The recording is too long ({len(take):,} characters): record at most a few minutes")
    if not isinstance(tempo, int | float) or not 30 <= float(tempo) <= 300:
        raise PlayedTakeError(f"Tempo must be between 30 and 300 BPM, got {tempo!r}")
    try:
        data = json.loads(take)
    except json.JSONDecodeError:
        raise PlayedTakeError("The recording is damaged (not the keyboard's JSON): record it again") from None
    if not isinstance(data, dict) or not isinstance(data.get("notes"), list):
        raise PlayedTakeError("The recording is damaged (no list of notes): record it again")
    raw = data["notes"]
    if not raw:
        raise PlayedTakeError("No notes were played: play your melody on the keyboard between Record and Stop")
    if len(raw) > MAX_PLAYED_NOTES:
        raise PlayedTakeError(f"{len(raw):,} notes were played: Arrange takes a melody of at most {MAX_PLAYED_NOTES:,}")
    stop = data.get("stop")
    played: list[tuple[float, float | None, int]] = []
    for item in raw:
        if not isinstance(item, list) or len(item) != 3:
            raise PlayedTakeError(f"The recording is damaged: a note is {item!r}, not [pitch, on, off]")
        pitch, on, off = item
        if isinstance(pitch, bool) or not isinstance(pitch, int) or not 0 <= pitch <= 127:
            raise PlayedTakeError(f"The recording is damaged: pitch {pitch!r} is not a MIDI note (0-127)")
        played.append((_number(on, "a note-on"), None if off is None else _number(off, "a note-off"), pitch))
    played.sort(key=lambda p: p[0])
    start_ms = played[0][0]
    end_ms = _number(stop, "the stop") if stop is not None else max(p[1] or p[0] for p in played)
    step_ms = 60_000.0 / float(tempo) / 4

    def step(ms: float) -> int:
        return max(0, int(round((ms - start_ms) / step_ms)))

    notes: list[Note] = []
    for on, off, pitch in played:
        begin = step(on)
        end = max(begin + 1, step(off if off is not None else max(end_ms, on)))  # a key still down at Stop: to Stop
        if notes and notes[-1].start == begin:
            notes.pop()  # two notes on one sixteenth: the one played last is the melody's
        if notes and notes[-1].end > begin:
            last = notes.pop()
            notes.append(Note(last.pitch, last.start, begin, last.velocity))  # one line: ends where the next begins
        notes.append(Note(pitch, begin, end))
    notes = [n for n in notes if n.start < MAX_TAKE_STEPS]
    if notes and notes[-1].end > MAX_TAKE_STEPS:
        last = notes.pop()
        notes.append(Note(last.pitch, last.start, MAX_TAKE_STEPS, last.velocity))
    length = -(-max(n.end for n in notes) // STEPS_PER_BAR_44) * STEPS_PER_BAR_44
    return Melody(notes, length, tempo_bpm=float(tempo), time_signature=(4, 4))
