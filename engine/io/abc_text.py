"""ABC notation as text: split collections into tunes, read header fields, clean bodies, write tunes.

The emotion model reads and writes a small, regular subset of ABC: the header fields
M: (meter), L: (unit note length) and K: (key), then the body with notes, rests,
bar lines, repeats, ties, tuplets and broken rhythms. Everything else a collection
carries (titles, sources, lyrics, chord symbols, decorations, grace notes, comments)
is dropped by :func:`clean_body`, so the model spends its capacity on the melody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KEPT_FIELDS = ("M", "L", "K")
_FIELD = re.compile(r"^([A-Za-z]):\s*(.*?)\s*$")
_INLINE_FIELD = re.compile(r"\[([A-Za-z]):[^\]]*\]")
_CHORD_SYMBOL = re.compile(r'"[^"]*"')
_DECORATION = re.compile(r"![^!\n]*!|\+[^+\n]*\+")
_GRACE = re.compile(r"\{[^}]*\}")
_SLUR_OPEN = re.compile(r"\((?![0-9])")
_SINGLE_DECORATIONS = str.maketrans("", "", "~.uvHLMOPST")
_SPACES = re.compile(r"[ \t]+")
_BODY_FIELD = re.compile(r"^[KLM]:")


@dataclass
class AbcTune:
    """One tune: its header fields (name -> value, first occurrence) and its body lines."""

    fields: dict[str, str] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    title: str = ""

    @property
    def meter(self) -> str:
        return self.fields.get("M", "4/4").replace("C|", "2/2").replace("C", "4/4")

    @property
    def unit(self) -> str:
        return self.fields.get("L", "1/8")

    @property
    def key(self) -> str:
        return self.fields.get("K", "C")

    def text(self, extra_fields: dict[str, str] | None = None) -> str:
        """The tune as ABC: X, optional extra fields (e.g. T, Q), then M, L, K and the body."""
        lines = ["X:1"]
        for name, value in (extra_fields or {}).items():
            lines.append(f"{name}:{value}")
        lines += [f"M:{self.meter}", f"L:{self.unit}", f"K:{self.key}"]
        return "\n".join(lines + self.body) + "\n"


def split_tunes(text: str) -> list[AbcTune]:
    """Every tune of an ABC file (a tune starts at an X: line); header fields up to K:, then the body."""
    tunes: list[AbcTune] = []
    current: AbcTune | None = None
    in_body = False
    continued = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.startswith("X:"):
            current, in_body = AbcTune(), False
            tunes.append(current)
            continue
        if current is None:
            continue
        if not line.strip():
            if in_body:
                current = None  # a blank line ends the tune
            continue
        if line.lstrip().startswith("%"):
            continue
        match = _FIELD.match(line)
        if match and not (in_body and match.group(1) not in "KMLPQ"):
            name, value = match.groups()
            value = value.split("%")[0].strip()
            if not in_body:
                if name == "T" and not current.title:
                    current.title = value
                current.fields.setdefault(name, value)
                if name == "K":
                    in_body = True
            elif name in ("K", "M", "L"):
                current.body.append(f"{name}:{value}")  # a change inside the tune (music21 ignores inline [K:] fields)
            continue
        if not in_body:
            continue
        if len(line) > 1 and line[1] == ":" and line[0].isalpha():
            continue  # lyrics (w:) and other body fields
        line = line.split("%")[0]
        if line.endswith("\\"):
            continued += line[:-1] + " "
            continue
        current.body.append(continued + line)
        continued = ""
    return [t for t in tunes if "K" in t.fields and t.body]


def _clean_segment(text: str) -> str:
    text = _CHORD_SYMBOL.sub("", text)
    text = _DECORATION.sub("", text)
    text = _GRACE.sub("", text)
    text = _SLUR_OPEN.sub("", text).replace(")", "")
    return text.translate(_SINGLE_DECORATIONS)


def clean_body(lines: list[str]) -> list[str]:
    """Body lines without chord symbols, decorations, grace notes, slurs and extra spaces (empty lines dropped).
    Inline fields such as ``[K:G]`` are kept as they are."""
    out = []
    for line in lines:
        if _BODY_FIELD.match(line):
            out.append(line.strip())
            continue
        pieces, last = [], 0
        for match in _INLINE_FIELD.finditer(line):
            pieces += [_clean_segment(line[last : match.start()]), match.group(0)]
            last = match.end()
        pieces.append(_clean_segment(line[last:]))
        text = _SPACES.sub(" ", "".join(pieces)).strip()
        if text:
            out.append(text)
    return out


def clean_tune(tune: AbcTune) -> AbcTune:
    """The tune reduced to M, L, K and a cleaned body (see the module docstring)."""
    fields = {name: tune.fields[name] for name in KEPT_FIELDS if name in tune.fields}
    body = clean_body(tune.body)
    while body and _BODY_FIELD.match(body[0]):
        fields[body[0][0]] = body[0][2:].strip()  # a change before the first note is the tune's own field
        body = body[1:]
    return AbcTune(fields, body, tune.title)


MAJOR_MODES = ("maj", "ion", "mix", "lyd")
MINOR_MODES = ("m", "aeo", "dor", "phr", "loc")  # "m" covers m, min, minor


def key_field_mode(key: str) -> str:
    """ "major" or "minor" for an ABC K: value ("Am", "Ador", "D mix", "G", "Bbmin", "HP" ...)."""
    text = key.strip().split(" ", 1)
    tonic, rest = text[0], (text[1] if len(text) > 1 else "")
    body = (tonic[1:].lstrip("#b") + rest).strip().lower()
    if any(body.startswith(mode) for mode in MAJOR_MODES):
        return "major"
    return "minor" if any(body.startswith(mode) for mode in MINOR_MODES) else "major"


# ------------------------------------------------------------------ keys and transposition
_LETTERS = "CDEFGAB"
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SHARP_ORDER = "FCGDAEB"
# Sharps (+) or flats (-) of the major key on each tonic spelling, and the shift each mode makes.
_MAJOR_SIGNATURE = {
    "C": 0,
    "G": 1,
    "D": 2,
    "A": 3,
    "E": 4,
    "B": 5,
    "F#": 6,
    "C#": 7,
    "F": -1,
    "Bb": -2,
    "Eb": -3,
    "Ab": -4,
    "Db": -5,
    "Gb": -6,
    "Cb": -7,
    "G#": 8,
    "D#": 9,
    "A#": 10,
    "E#": 11,
    "B#": 12,
    "Fb": -8,
}
_MODE_SHIFT = {"maj": 0, "ion": 0, "mix": -1, "dor": -2, "m": -3, "aeo": -3, "min": -3, "phr": -4, "loc": -5, "lyd": 1}
_KEY = re.compile(r"^\s*([A-Ga-g])([#b]?)\s*([A-Za-z]*)(.*)$")
_NOTE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)")


def parse_key_field(value: str) -> tuple[str, int, str, str] | None:
    """(tonic spelling "F#", sharps (+) / flats (-) of the signature, mode text as written, the rest) of a K: value,
    or None for keys without a tonic (K:none, K:HP)."""
    match = _KEY.match(value)
    if not match or value.strip().lower().startswith(("none", "hp")):
        return None
    letter, accidental, mode, rest = match.groups()
    tonic = letter.upper() + accidental
    shift = 0
    lowered = mode.lower()
    for name, value_shift in sorted(_MODE_SHIFT.items(), key=lambda kv: -len(kv[0])):
        if lowered.startswith(name):
            shift = value_shift
            break
    if tonic not in _MAJOR_SIGNATURE:
        return None
    return tonic, _MAJOR_SIGNATURE[tonic] + shift, mode, rest


def signature_accidentals(count: int) -> dict[str, int]:
    """Letter -> +1 / -1 / 0 in a key signature of ``count`` sharps (negative: flats)."""
    out = {letter: 0 for letter in _LETTERS}
    if count > 0:
        for letter in _SHARP_ORDER[:count]:
            out[letter] = 1
    elif count < 0:
        for letter in _SHARP_ORDER[::-1][:-count]:
            out[letter] = -1
    return out


def _spell_tonic(pc: int, mode_shift: int) -> tuple[str, int]:
    """The spelling of tonic ``pc`` whose key (with ``mode_shift``) has the fewest accidentals (sharps on ties)."""
    options = [
        (name, count + mode_shift)
        for name, count in _MAJOR_SIGNATURE.items()
        if (_LETTER_PC[name[0]] + (1 if name.endswith("#") else -1 if name.endswith("b") else 0)) % 12 == pc
    ]
    return min(options, key=lambda item: (abs(item[1]), item[1] < 0))


def _note_text(step: int, accidental: str) -> str:
    """ABC spelling of a diatonic step (7 per octave; step 28 = middle C = "C")."""
    octave, index = divmod(step, 7)
    letter = _LETTERS[index]
    if octave >= 5:
        return accidental + letter.lower() + "'" * (octave - 5)
    return accidental + letter + "," * (4 - octave)


@dataclass
class _Respelling:
    """:func:`transpose_abc`'s state: the signatures (letter -> accidental) before and after, letters moved."""

    old: dict[str, int] | None = None
    new: dict[str, int] | None = None
    letters: int = 0


def transpose_abc(text: str, semitones: int) -> str:
    """An ABC tune (or body) moved by ``semitones``, respelled in the new key with the fewest accidentals.

    Every note moves by the same number of letters; explicit accidentals keep their distance from the
    key signature (so they stay right under the new one, and the bar's later unmarked notes follow them);
    K: fields (header and inline) name the new key in the same mode. Keys without a tonic (K:none) move
    chromatically with explicit accidentals only where the signature is empty. Raises ValueError for a K:
    value it cannot read.
    """
    if semitones == 0:
        return text
    lines = text.split("\n")
    state = _Respelling()

    def set_key(value: str) -> str:
        parsed = parse_key_field(value)
        if parsed is None:
            state.old, state.new = signature_accidentals(0), signature_accidentals(0)
            state.letters = round(semitones * 7 / 12)
            return value
        tonic, count, mode, rest = parsed
        shift = count - _MAJOR_SIGNATURE[tonic]
        tonic_pc = (_LETTER_PC[tonic[0]] + (1 if tonic.endswith("#") else -1 if tonic.endswith("b") else 0)) % 12
        new_tonic, new_count = _spell_tonic((tonic_pc + semitones) % 12, shift)
        letters = (_LETTERS.index(new_tonic[0]) - _LETTERS.index(tonic[0])) % 7
        if abs(letters - semitones * 7 / 12) > abs(letters - 7 - semitones * 7 / 12):
            letters -= 7
        state.old, state.new, state.letters = signature_accidentals(count), signature_accidentals(new_count), letters
        return f"{new_tonic}{mode}{rest}"

    values = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
    names = {2: "^^", 1: "^", 0: "=", -1: "_", -2: "__"}

    def move(match: re.Match) -> str:
        accidental, letter, marks = match.groups()
        octave = (5 if letter.islower() else 4) + marks.count("'") - marks.count(",")
        step = 7 * octave + _LETTERS.index(letter.upper()) + state.letters
        new_letter = _LETTERS[step % 7]
        if accidental is None:
            return _note_text(step, "")
        assert state.old is not None and state.new is not None  # set_key runs before the first note
        relative = values[accidental] - state.old[letter.upper()]
        value = state.new[new_letter] + relative
        if abs(value) > 2:
            raise ValueError(f"cannot respell {match.group(0)} by {semitones} semitones")
        return _note_text(step, names[value])

    out = []
    for line in lines:
        field = _FIELD.match(line) if len(line) > 1 and line[1] == ":" and line[0].isalpha() else None
        if field:
            if field.group(1) == "K":
                line = f"K:{set_key(field.group(2))}"
            out.append(line)
            continue
        if state.old is None:  # a body without a header: C major
            set_key("C")
        pieces, last = [], 0
        for inline in _INLINE_FIELD.finditer(line):
            pieces.append(_NOTE.sub(move, line[last : inline.start()]))
            field_text = inline.group(0)
            if field_text.startswith("[K:"):
                field_text = f"[K:{set_key(field_text[3:-1])}]"
            pieces.append(field_text)
            last = inline.end()
        pieces.append(_NOTE.sub(move, line[last:]))
        out.append("".join(pieces))
    return "\n".join(out)


_REPEAT_SIGN = re.compile(r"(\|:|:\||::)")
_FIELD_LINE = re.compile(r"^[A-Za-z]:")


def write_out_repeats(text: str) -> str | None:
    """ABC text with its plain repeats (``|:`` ``:|`` ``::``; a ``:|`` with no ``|:`` repeats from the start)
    written out as played; None when it has numbered endings (``[1``, ``|2``...), which this does not handle. For
    the tunes whose repeats music21 cannot expand (it makes measures only when a tune has two plain bar lines)."""
    lines = text.split("\n")
    first_body = next((i for i, line in enumerate(lines) if line.startswith("K:")), -1) + 1
    header, body = lines[:first_body], "\n".join(lines[first_body:])
    if re.search(r"\[\d|\|\d", body):
        return None
    done, section = "", ""
    for piece in _REPEAT_SIGN.split(body):
        if piece == "|:":
            done, section = done + section + "|", ""
        elif piece in (":|", "::"):
            done, section = done + section + "|" + section + "|", ""
        else:
            section += piece
    return "\n".join([*header, done + section])


def tonic_pitch_class(key: str) -> int | None:
    """The pitch class of a K: value's tonic ("Am" -> 9, "F#dor" -> 6; None for K:none, K:HP)."""
    parsed = parse_key_field(key)
    if parsed is None:
        return None
    tonic = parsed[0]
    return (_LETTER_PC[tonic[0]] + (1 if tonic.endswith("#") else -1 if tonic.endswith("b") else 0)) % 12


def note_pitch_class(token: str, signature: dict[str, int]) -> int | None:
    """The pitch class a note token sounds in a key of ``signature`` (see :func:`signature_accidentals`); its own
    accidental wins (within a bar an earlier accidental would too: not tracked here). None for a rest."""
    match = _NOTE.match(token.strip())
    if match is None:
        return None
    accidental, letter, _ = match.groups()
    shift = {"^^": 2, "^": 1, "__": -2, "_": -1, "=": 0}[accidental] if accidental else signature[letter.upper()]
    return (_LETTER_PC[letter.upper()] + shift) % 12


_BAR_SIGN = re.compile(r"(\|:|:\||::|\|\]|\|\||\[\||\|)")


def played_measures(text: str) -> list[int] | None:
    """The written measures of an ABC tune's body (0: the first, a pickup included) in the order they are played:
    ``|:A B:|C`` -> [0, 1, 0, 1, 2]; a ``:|`` with no ``|:`` goes back to the start or to the last ``:|``. None
    when the tune has numbered endings (``[1``), which this does not follow."""
    lines = text.split("\n")
    first_body = next((i for i, line in enumerate(lines) if line.startswith("K:")), -1) + 1
    body = " ".join(line for line in lines[first_body:] if line.strip() and not re.match(r"^[A-Za-z]:", line))
    if re.search(r"\[\d|\|\d", body):
        return None
    order: list[int] = []
    written, start = -1, 0
    for piece in _BAR_SIGN.split(body):
        if piece in (":|", "::"):
            order.extend(range(start, written + 1))
        if piece in ("|:", ":|", "::"):  # the next repeat goes back to here at most
            start = written + 1
        elif not _BAR_SIGN.fullmatch(piece) and piece.strip():
            written += 1
            order.append(written)
    return order
