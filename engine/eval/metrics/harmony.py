"""How well chords fit a melody: the harmonisation figures of Yeh et al. (2020, "Automatic melody harmonization with
triad chords: a comparative study") and accuracy against the real chords.

* **CTnCTR** (chord tone to non-chord tone ratio): (n_c + n_p) / (n_c + n_n) over the melody's notes, where n_c
  counts notes that are tones of the chord sounding at their onset, n_n the others, and n_p those others that move by
  at most two semitones to the next note (passing and neighbour tones). 1 is best.
* **PCS** (pitch consistency score): for every sixteenth where a melody note and a chord sound, the mean over the
  chord's notes of +1 for a consonant interval with the melody note (unison, thirds, fifth, sixths), 0 for a fourth,
  -1 otherwise; averaged over those sixteenths. Higher is better.
* **MCTD** (melody-chord tonal distance): the Euclidean distance between the tonal centroid (Harte et al., 2006) of
  each melody note and of the chord under it, weighted by the note's length. Lower is better.
* **Chords per bar**: chord changes per bar (a chord held over a bar line counts once).
"""

from __future__ import annotations

import numpy as np

from engine.music.notes import Chord, ChordProgression, Melody

CONSONANT = {0, 3, 4, 7, 8, 9}
PERFECT_FOURTH = 5
# Harte's tonal centroid: circles of fifths, minor thirds and major thirds (radii 1, 1, 0.5)
_RADII = (1.0, 1.0, 0.5)
_ANGLES = (7 * np.pi / 6, 3 * np.pi / 2, 2 * np.pi / 3)


def tonal_centroid(pitch_classes: list[int] | tuple[int, ...]) -> np.ndarray:
    """The 6-D tonal centroid of some pitch classes (the mean of each one's point on the three circles)."""
    points = []
    for pc in pitch_classes:
        point = []
        for radius, angle in zip(_RADII, _ANGLES):
            point += [radius * np.sin(pc * angle), radius * np.cos(pc * angle)]
        points.append(point)
    return np.mean(np.array(points), axis=0) if points else np.zeros(6)


def chord_at(progression: ChordProgression, step: int) -> Chord | None:
    """The chord sounding at ``step`` (None where none does)."""
    for chord in progression.chords:
        if chord.start <= step < chord.end and chord.pitch_classes:
            return chord
    return None


def ctnctr(melody: Melody, progression: ChordProgression) -> float | None:
    """Chord tone to non-chord tone ratio (see the module docstring); None when no note has a chord."""
    notes = sorted(melody.notes, key=lambda n: n.start)
    chord_tones = non_chord = proper = 0
    for index, note in enumerate(notes):
        chord = chord_at(progression, note.start)
        if chord is None:
            continue
        if note.pitch % 12 in chord.pitch_classes:
            chord_tones += 1
            continue
        non_chord += 1
        following = notes[index + 1] if index + 1 < len(notes) else None
        if following is not None and abs(following.pitch - note.pitch) <= 2:
            proper += 1
    if chord_tones + non_chord == 0:
        return None
    return (chord_tones + proper) / (chord_tones + non_chord)


def pitch_consistency(melody: Melody, progression: ChordProgression) -> float | None:
    """Pitch consistency score (see the module docstring); None when no sixteenth has both a note and a chord."""
    scores = []
    for note in melody.notes:
        for step in range(note.start, note.end):
            chord = chord_at(progression, step)
            if chord is None:
                continue
            per_tone = []
            for pc in chord.pitch_classes:
                interval = (note.pitch - pc) % 12
                per_tone.append(1.0 if interval in CONSONANT else 0.0 if interval == PERFECT_FOURTH else -1.0)
            scores.append(float(np.mean(per_tone)))
    return float(np.mean(scores)) if scores else None


def melody_chord_tonal_distance(melody: Melody, progression: ChordProgression) -> float | None:
    """Melody-chord tonal distance (see the module docstring); None when no note has a chord."""
    total = weight = 0.0
    for note in melody.notes:
        chord = chord_at(progression, note.start)
        if chord is None:
            continue
        distance = float(np.linalg.norm(tonal_centroid([note.pitch % 12]) - tonal_centroid(chord.pitch_classes)))
        total += distance * note.duration
        weight += note.duration
    return total / weight if weight else None


def chords_per_bar(melody: Melody, progression: ChordProgression) -> float | None:
    """Chord changes per bar over the melody's length (a repeated symbol held on is one chord)."""
    bars = melody.num_steps / max(1, melody.steps_per_bar)
    if bars <= 0:
        return None
    changes, previous = 0, None
    for chord in sorted(progression.chords, key=lambda c: c.start):
        if not chord.pitch_classes:
            previous = None
            continue
        if previous is None or chord.symbol != previous.symbol or chord.start != previous.end:
            changes += 1
        previous = chord
    return changes / bars


def harmony_figures(melody: Melody, progression: ChordProgression) -> dict[str, float | None]:
    """Every figure above for one melody under one progression."""
    return {
        "ctnctr": ctnctr(melody, progression),
        "pcs": pitch_consistency(melody, progression),
        "mctd": melody_chord_tonal_distance(melody, progression),
        "chords_per_bar": chords_per_bar(melody, progression),
    }
