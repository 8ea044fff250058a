"""Accidentals spelled the way the key signature leans: ``^G`` rather than ``_A`` in C# minor.

The emotion model, trained on tunes transposed into every key, sometimes writes a flat in a sharp key or a sharp in a
flat key (``K:C#m`` with ``_E,`` and ``_A,``): the right pitches, but a player reading the score stumbles. A bar that
holds such a note is written again with every note spelled from the key: the key's own letter where the pitch is in
the key, otherwise the nearest letter with an accidental in the key's direction (sharps in sharp keys, flats in flat
keys). Other bars are left exactly as written, and no pitch ever changes (``tests/engine/io/test_abc_spelling.py``
reads both with music21).

Reading follows ABC 2.1 as abc2midi and music21 (given ``%abc-2.1``) do: an accidental holds for the rest of the bar
for notes of the same letter in every octave. Written bars mark every note that differs from the key signature, and a
note that returns to the signature after an accidental on its letter in the bar gets its mark too.
"""

from __future__ import annotations

import re

from engine.io.abc_text import parse_key_field, signature_accidentals

_LETTERS = "CDEFGAB"
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_VALUES = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
_NAMES = {2: "^^", 1: "^", 0: "=", -1: "_", -2: "__"}
_NOTE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)")
_BAR_LINE = re.compile(r"(:*\|+[\]:]*|::)")
_FIELD_LINE = re.compile(r"^[A-Za-z]:")
# Text that is not notes: chord symbols, decorations, inline fields (a line with an inline field is left as written).
_NOT_NOTES = re.compile(r'"[^"]*"|![^!\n]*!|\+[^+\n]*\+|\[[A-Za-z]:[^\]]*\]')


def respell_against_key(abc: str) -> str:
    """The tune with each bar that holds an accidental against the key's direction spelled from the key (see the
    module docstring); everything else as written."""
    out, signature, count = [], signature_accidentals(0), 0
    for line in abc.split("\n"):
        if _FIELD_LINE.match(line):
            if line.startswith("K:"):
                parsed = parse_key_field(line[2:])
                count = parsed[1] if parsed is not None else 0
                signature = signature_accidentals(count)
            out.append(line)
            continue
        if count == 0 or re.search(r"\[[A-Za-z]:", line) or _NOT_NOTES.search(line):
            out.append(line)  # no direction to lean to, or text this reader does not follow: as written
            continue
        parts = _BAR_LINE.split(line)  # bars and the bar lines between them
        out.append(
            "".join(part if index % 2 else _respell_bar(part, signature, count) for index, part in enumerate(parts))
        )
    return "\n".join(out)


def _respell_bar(bar: str, signature: dict[str, int], count: int) -> str:
    """One bar's text, written again when it holds an accidental against the key (``count`` sharps, or flats when
    negative)."""
    against = ("_", "__") if count > 0 else ("^", "^^")
    notes = list(_NOTE.finditer(bar))
    if not any(note.group(1) in against for note in notes):
        return bar
    carried: dict[str, int] = {}
    pitches = []
    for note in notes:  # what each note sounds, as ABC 2.1 reads it
        accidental, letter, marks = note.groups()
        octave = (5 if letter.islower() else 4) + marks.count("'") - marks.count(",")
        name = letter.upper()
        if accidental is not None:
            carried[name] = _VALUES[accidental]
        pitches.append(12 * octave + _LETTER_PC[name] + carried.get(name, signature[name]))
    marked: dict[str, int] = {}  # letter -> the alteration last written on it in this bar
    pieces, last = [], 0
    for note, pitch in zip(notes, pitches):
        letter, alteration = _spelling(pitch % 12, signature, count)
        octave = (pitch - alteration - _LETTER_PC[letter]) // 12
        needs_mark = alteration != signature[letter] or (letter in marked and marked[letter] != alteration)
        accidental = _NAMES[alteration] if needs_mark else ""
        if needs_mark:
            marked[letter] = alteration
        pieces.append(bar[last : note.start()] + accidental + _letter_text(letter, octave))
        last = note.end()
    pieces.append(bar[last:])
    return "".join(pieces)


def _spelling(pc: int, signature: dict[str, int], count: int) -> tuple[str, int]:
    """(letter, alteration) for pitch class ``pc``: the key's own letter when the pitch is in the key, else a natural,
    else one step in the key's direction."""
    direction = 1 if count > 0 else -1
    options = []
    for letter in _LETTERS:
        alteration = (pc - _LETTER_PC[letter] + 6) % 12 - 6  # -6..5
        if -2 <= alteration <= 2:
            rank = (
                0 if alteration == signature[letter] else 1 if alteration == 0 else 2 if alteration == direction else 3
            )
            options.append((rank, abs(alteration), letter, alteration))
    _, _, letter, alteration = min(options)
    return letter, alteration


def _letter_text(letter: str, octave: int) -> str:
    """ABC text of a letter in an octave (4: the octave from middle C, written in capitals)."""
    if octave >= 5:
        return letter.lower() + "'" * (octave - 5)
    return letter + "," * (4 - octave)
