"""General MIDI instruments offered in the studio (display name -> GM program, 0-based)."""

from __future__ import annotations

# Melody instruments, in the order the UI lists them.
MELODY_INSTRUMENTS: dict[str, int] = {
    "Acoustic Grand Piano": 0,
    "Bright Piano": 1,
    "Electric Piano": 4,
    "Harpsichord": 6,
    "Celesta": 8,
    "Glockenspiel": 9,
    "Music Box": 10,
    "Vibraphone": 11,
    "Marimba": 12,
    "Accordion": 21,
    "Harmonica": 22,
    "Nylon Guitar": 24,
    "Acoustic Bass": 32,
    "Steel Guitar": 25,
    "Jazz Guitar": 26,
    "Violin": 40,
    "Viola": 41,
    "Cello": 42,
    "Strings": 48,
    "Choir Aahs": 52,
    "Trumpet": 56,
    "Trombone": 57,
    "French Horn": 60,
    "Soprano Sax": 64,
    "Alto Sax": 65,
    "Tenor Sax": 66,
    "Oboe": 68,
    "Clarinet": 71,
    "Piccolo": 72,
    "Flute": 73,
    "Recorder": 74,
    "Pan Flute": 75,
    "Ocarina": 79,
    "Square Lead": 80,
    "Sawtooth Lead": 81,
    "Sitar": 104,
    "Fiddle": 110,
    "Banjo": 105,
    "Kalimba": 108,
    "Bagpipe": 109,
    "Shanai": 111,
}

# Accompaniment (block chords) choices; ``None`` means melody only.
NO_ACCOMPANIMENT = "None (melody only)"
ACCOMPANIMENT_INSTRUMENTS: dict[str, int | None] = {
    "Acoustic Grand Piano": 0,
    "Electric Piano": 4,
    "Drawbar Organ": 16,
    "Church Organ": 19,
    "Accordion": 21,
    "Nylon Guitar": 24,
    "Steel Guitar": 25,
    "Jazz Guitar": 26,
    "Strings": 48,
    "Slow Strings": 49,
    "Choir Aahs": 52,
    "Brass Section": 61,
    "Warm Pad": 89,
    "Choir Pad": 91,
    NO_ACCOMPANIMENT: None,
}

DEFAULT_MELODY_INSTRUMENT = "Acoustic Grand Piano"
DEFAULT_ACCOMPANIMENT_INSTRUMENT = "Acoustic Grand Piano"

# Every program we know a name for (melody and accompaniment lists together).
INSTRUMENTS: dict[str, int] = {
    **MELODY_INSTRUMENTS,
    **{k: v for k, v in ACCOMPANIMENT_INSTRUMENTS.items() if v is not None},
}

_BY_LOWER = {name.lower(): program for name, program in INSTRUMENTS.items()}
_ACC_BY_LOWER = {name.lower(): program for name, program in ACCOMPANIMENT_INSTRUMENTS.items()}
_NONE_SPELLINGS = {"", "none", "no accompaniment", "off", NO_ACCOMPANIMENT.lower()}


def program_for(name: str) -> int:
    """The GM program number (0-127) of an instrument name (case-insensitive).

    Raises ``ValueError`` naming the unknown instrument and listing the choices.
    """
    key = str(name).strip().lower()
    if key in _BY_LOWER:
        return _BY_LOWER[key]
    raise ValueError(f"Unknown instrument '{name}'. Choose one of: {', '.join(INSTRUMENTS)}")


def accompaniment_program_for(name: str | None) -> int | None:
    """The GM program for the chord accompaniment, or ``None`` for melody only.

    Accepts the accompaniment names, any melody instrument name, and ``None`` /
    "None" / "None (melody only)". Raises ``ValueError`` for an unknown name.
    """
    if name is None:
        return None
    key = str(name).strip().lower()
    if key in _NONE_SPELLINGS:
        return None
    if key in _ACC_BY_LOWER:
        return _ACC_BY_LOWER[key]
    if key in _BY_LOWER:
        return _BY_LOWER[key]
    raise ValueError(
        f"Unknown accompaniment instrument '{name}'. Choose one of: {', '.join(ACCOMPANIMENT_INSTRUMENTS)}"
    )
