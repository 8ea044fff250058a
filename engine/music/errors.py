"""Errors the engine raises for bad user input.

Every message names what was wrong, so the studio can show it as-is.
"""


class CadenzaInputError(ValueError):
    """Input from a user (file, text, number) that the engine cannot use."""


class ChordSymbolError(CadenzaInputError):
    """A chord symbol that does not parse."""


class MidiReadError(CadenzaInputError):
    """A MIDI file that cannot be read or holds nothing usable."""


class RhythmPatternError(CadenzaInputError):
    """A rhythm pattern that is malformed or empty."""
