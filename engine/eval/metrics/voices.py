"""Four-part writing measured: how arrangements (and real four-part music) treat their voices and their chords.

Pieces are tokens (4, steps), voice 0 on top (engine.music.representation: a pitch at an onset, HOLD, REST).

* **melody kept**: whether voice 0 holds exactly the given notes (pitch, onset, end).
* **chord-tone share** of the lower voices: their onsets whose pitch class belongs to the chord sounding then.
* **parallel fifths and octaves per 100 moves**: for every pair of voices, each time both voices move (a new pitch in
  each) from one common onset to the next, and the interval between them (mod 12) is a perfect fifth or an octave
  (unison) before and after, counts one; divided by all such moves of all pairs, times 100.
* **voice crossing**: the share of steps, of those where two or more voices sound, at which a lower voice sounds above
  a higher one.
* **beat chord match**: the share of beats whose chord (the four voices' pitch classes at the beat, recognised as a
  symbol, bass weighted) is the real harmonisation's chord at that beat (key-free: root and quality).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from engine.music.chords import recognize_chord
from engine.music.harmony import sounding_pitches
from engine.music.notes import ChordProgression, Note
from engine.music.representation import HOLD, tokens_to_notes

PERFECT = (0, 7)


def melody_kept(tokens: np.ndarray, melody: list[Note], offset: int = 0) -> bool:
    """Whether voice 0 holds exactly ``melody``'s notes, ``offset`` steps later."""
    top = [(n.pitch, n.start, n.end) for n in tokens_to_notes(tokens[0])]
    return top == [(n.pitch, n.start + offset, n.end + offset) for n in sorted(melody, key=lambda n: n.start)]


def lower_chord_tone_share(tokens: np.ndarray, progression: ChordProgression, offset: int = 0) -> float | None:
    """The share of the lower voices' onsets that are tones of the chord sounding then (chords ``offset`` steps
    earlier than the tokens); None without such onsets."""
    chroma = progression.chroma(tokens.shape[1] - offset)  # (steps, 12) from the chords' own start
    hits = total = 0
    for track in tokens[1:]:
        for note in tokens_to_notes(track):
            step = note.start - offset
            if 0 <= step < len(chroma) and chroma[step].any():
                total += 1
                hits += bool(chroma[step][note.pitch % 12])
    return hits / total if total else None


def parallels_per_100_moves(tokens: np.ndarray) -> float | None:
    """Parallel fifths and octaves per 100 moves of a voice pair (see the module docstring); None without moves."""
    pitches = [sounding_pitches(track) for track in tokens]
    onsets = [track < HOLD for track in tokens]
    parallels = moves = 0
    for a, b in combinations(range(len(tokens)), 2):
        common = [t for t in range(tokens.shape[1]) if pitches[a][t] >= 0 and pitches[b][t] >= 0]
        struck = [t for t in common if onsets[a][t] or onsets[b][t]]
        for first, second in zip(struck, struck[1:]):
            if pitches[a][first] == pitches[a][second] or pitches[b][first] == pitches[b][second]:
                continue  # one voice holds or repeats: not a parallel motion
            moves += 1
            before = (pitches[a][first] - pitches[b][first]) % 12
            after = (pitches[a][second] - pitches[b][second]) % 12
            parallels += before == after and before in PERFECT
    return 100 * parallels / moves if moves else None


def voice_crossing_share(tokens: np.ndarray) -> float | None:
    """The share of steps with two or more voices sounding at which a lower voice is above a higher one."""
    pitches = np.stack([sounding_pitches(track) for track in tokens])  # (4, steps)
    crossed = counted = 0
    for step in range(pitches.shape[1]):
        column = [int(p) for p in pitches[:, step] if p >= 0]
        if len(column) < 2:
            continue
        counted += 1
        crossed += any(low > high for high, low in zip(column, column[1:]))
    return crossed / counted if counted else None


def beat_chords(tokens: np.ndarray, steps_per_beat: int = 4) -> list[str]:
    """The chord symbol the voices sound at each beat (the bass weighted, as the chorale data reads them)."""
    pitches = np.stack([sounding_pitches(track) for track in tokens])
    out = []
    for start in range(0, pitches.shape[1], steps_per_beat):
        weights = np.zeros(12)
        for voice, track in enumerate(pitches):
            for pitch in track[start : start + 2]:  # the beat's first eighth: passing notes come after it
                if pitch >= 0:
                    weights[pitch % 12] += 1.0 + (0.5 if voice == len(pitches) - 1 else 0.0)
        out.append(recognize_chord(weights))
    return out


def beat_chord_match(tokens: np.ndarray, real: np.ndarray) -> float | None:
    """The share of beats whose chord is the real piece's (both sounding something)."""
    pairs = [(a, b) for a, b in zip(beat_chords(tokens), beat_chords(real)) if a != "N.C." and b != "N.C."]
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else None
