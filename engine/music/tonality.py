"""Keys, scales, key estimation and chord functions (tonic / subdominant / dominant) in a key.

Key names are lead-sheet style: "C", "F#", "Bb" (major) and "Am", "C#m", "Ebm" (minor).
Chord functions follow AmMGM's classes, which its public code leaves undefined; we use
the textbook ones: tonic I / iii / vi, subdominant ii / IV, dominant V / vii. In minor:
tonic i / III / VI, subdominant ii / iv, dominant V / v / vii / VII (the subtonic VII
leads home in modal folk tunes). Any other root is "other"; no chord is "none".
"""

from __future__ import annotations

import numpy as np

from engine.music.chords import recognize_chord
from engine.music.constants import NOTE_NAMES
from engine.music.errors import CadenzaInputError
from engine.music.notes import Chord, ChordProgression, LeadSheet

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor; the leading tone is left to the chords
KEYS = list(NOTE_NAMES) + [name + "m" for name in NOTE_NAMES]

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# Function classes, in the order of the one-hot features the latent model reads.
TONIC, SUBDOMINANT, DOMINANT, OTHER, NO_FUNCTION = range(5)
NUM_FUNCTIONS = 5
FUNCTION_LETTERS = "TSDO-"  # display: T, S, D, O (other), - (no chord)
FUNCTION_NAMES = ("tonic", "subdominant", "dominant", "other", "no chord")
_MAJOR_FUNCTIONS = {0: TONIC, 4: TONIC, 9: TONIC, 2: SUBDOMINANT, 5: SUBDOMINANT, 7: DOMINANT, 11: DOMINANT}
_MINOR_FUNCTIONS = {
    0: TONIC,
    3: TONIC,
    8: TONIC,
    2: SUBDOMINANT,
    5: SUBDOMINANT,
    7: DOMINANT,
    10: DOMINANT,
    11: DOMINANT,
}

# Krumhansl-Kessler key profiles (major, minor), from C.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def pitch_class_of(name: str) -> int:
    """Pitch class of a note name: "C", "F#", "Bb", "B-" (music21's flat), "e" ... Raises CadenzaInputError."""
    text = name.strip()
    if not text or text[0].upper() not in _LETTERS:
        raise CadenzaInputError(f"'{name}' is not a note name (A-G with an optional # or b)")
    pc = _LETTERS[text[0].upper()]
    for accidental in text[1:]:
        if accidental == "#":
            pc += 1
        elif accidental in "b-":
            pc -= 1
        else:
            raise CadenzaInputError(f"'{name}' is not a note name (A-G with an optional # or b)")
    return pc % 12


def parse_key(key: str) -> tuple[int, bool]:
    """(tonic pitch class, is_minor) of a key such as "G", "F#m", "Bb", "Ebm", "D minor". Raises CadenzaInputError."""
    if not isinstance(key, str) or not key.strip():
        raise CadenzaInputError("The key is empty: choose one such as C, G, Am or F#m")
    text = key.strip().replace(" major", "").replace(" Major", "")
    minor = False
    for suffix in (" minor", " Minor", "min", "m"):
        if text.endswith(suffix):
            text, minor = text[: -len(suffix)].strip(), True
            break
    try:
        return pitch_class_of(text), minor
    except CadenzaInputError:
        raise CadenzaInputError(f"Unknown key '{key}': choose one of {', '.join(KEYS)}") from None


def key_name(tonic: int, minor: bool) -> str:
    """The canonical name (one of KEYS) of a key."""
    return NOTE_NAMES[tonic % 12] + ("m" if minor else "")


def scale_pitch_classes(key: str) -> tuple[int, ...]:
    """Pitch classes of a key's scale (natural minor for minor keys), sorted."""
    tonic, minor = parse_key(key)
    return tuple(sorted((tonic + i) % 12 for i in (MINOR_SCALE if minor else MAJOR_SCALE)))


def transpose_key(key: str, semitones: int) -> str:
    tonic, minor = parse_key(key)
    return key_name(tonic + semitones, minor)


def estimate_key(sheet: LeadSheet) -> str:
    """The key of a lead sheet: its own when set, else the Krumhansl-Kessler best match of the
    melody's duration-weighted pitch classes plus the chords' pitch classes."""
    if sheet.melody.key:
        try:
            return key_name(*parse_key(sheet.melody.key))
        except CadenzaInputError:
            pass
    weights = np.zeros(12)
    for note in sheet.melody.notes:
        weights[note.pitch % 12] += note.duration
    for chord in sheet.chords.chords:
        for pc in chord.pitch_classes:
            weights[pc] += 0.5 * (chord.end - chord.start)
    if weights.sum() == 0:
        return "C"
    best, best_score = "C", -np.inf
    for tonic in range(12):
        for minor, profile in ((False, _KK_MAJOR), (True, _KK_MINOR)):
            score = np.corrcoef(weights, np.roll(profile, tonic))[0, 1]
            if score > best_score:
                best, best_score = key_name(tonic, minor), score
    return best


def chord_root(chord: Chord) -> int | None:
    """Root pitch class of a chord from its symbol ("F#m7", "Bb/D", "B-7"); None for no chord."""
    if not chord.pitch_classes:
        return None
    symbol = chord.symbol.strip()
    if not symbol or symbol[0].upper() not in _LETTERS:
        return chord.pitch_classes[0]
    root = symbol[:2] if len(symbol) > 1 and symbol[1] in "#b-" else symbol[0]  # "-" is music21's flat
    try:
        return pitch_class_of(root)
    except CadenzaInputError:
        return chord.pitch_classes[0]


def function_of_root(root: int | None, key: str) -> int:
    """The function class (TONIC ... NO_FUNCTION) of a chord root in ``key``."""
    if root is None:
        return NO_FUNCTION
    tonic, minor = parse_key(key)
    table = _MINOR_FUNCTIONS if minor else _MAJOR_FUNCTIONS
    return table.get((root - tonic) % 12, OTHER)


def chord_function(chord: Chord | None, key: str) -> int:
    """The function class of a chord in ``key`` (NO_FUNCTION for None or N.C.)."""
    return function_of_root(None if chord is None else chord_root(chord), key)


def functions_per_step(
    progression: ChordProgression, key: str, num_steps: int, offset: int = 0, every: int = 1
) -> np.ndarray:
    """Function class of the chord sounding at steps offset, offset+every, ... (num_steps // every,) int64."""
    return np.array(
        [chord_function(progression.at(offset + s), key) for s in range(0, num_steps, every)], dtype=np.int64
    )


def parse_functions(text: str, num_bars: int) -> list[int]:
    """Per-bar function classes from text such as "T S D T" (T, S, D, O; "-" for none); repeats to fill.

    Raises CadenzaInputError naming an unknown letter.
    """
    items = (text or "").replace(",", " ").replace("|", " ").split()
    if not items:
        raise CadenzaInputError("The chord functions are empty: type one letter per bar, e.g. 'T S D T'")
    out = []
    for item in items:
        letter = item.strip().upper()
        if letter not in ("T", "S", "D", "O", "-"):
            raise CadenzaInputError(
                f"Unknown chord function '{item}': "
                "use T (tonic), S (subdominant), D (dominant), O (other) or - (no chord)"
            )
        out.append(FUNCTION_LETTERS.index(letter))
    return [out[i % len(out)] for i in range(num_bars)]


def key_of_chroma(chroma: np.ndarray) -> str:
    """The Krumhansl-Kessler key that best matches the summed chroma (T, 12) of a chord track ("C" if silent)."""
    weights = np.asarray(chroma, dtype=np.float64).reshape(-1, 12).sum(0)
    if weights.sum() == 0:
        return "C"
    scores = [
        (np.corrcoef(weights, np.roll(profile, tonic))[0, 1], key_name(tonic, minor))
        for tonic in range(12)
        for minor, profile in ((False, _KK_MAJOR), (True, _KK_MINOR))
    ]
    return max(scores)[1]


def functions_from_chroma(chroma: np.ndarray, key: str | None = None, steps_per_beat: int = 4) -> np.ndarray:
    """Chord-function classes per beat from per-step chroma (W, T, 12) -> (W, T // steps_per_beat), for
    callers that have no chord symbols: each beat's chord is recognised from its first step's chroma,
    and the key is ``key`` or estimated from the chroma (:func:`key_of_chroma`)."""
    chroma = np.asarray(chroma)
    key = key or key_of_chroma(chroma)
    beats = chroma[:, ::steps_per_beat]  # (W, beats, 12)
    out = np.full(beats.shape[:2], NO_FUNCTION, dtype=np.int64)
    for index in np.ndindex(*beats.shape[:2]):
        symbol = recognize_chord(beats[index])
        if symbol != "N.C.":
            out[index] = function_of_root(
                pitch_class_of(symbol[:2] if len(symbol) > 1 and symbol[1] in "#b" else symbol[0]), key
            )
    return out
