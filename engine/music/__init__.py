"""Plain music objects and theory, the floor every other layer stands on (no torch here).

The objects that cross the engine/app boundary are re-exported: ``from engine.music import LeadSheet``.
"""

from engine.music.notes import Chord, ChordProgression, LeadSheet, Melody, Note, Part

__all__ = ["Chord", "ChordProgression", "LeadSheet", "Melody", "Note", "Part"]
