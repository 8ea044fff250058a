"""Rendering: LeadSheet -> MIDI, audio (warm FluidSynth) and piano-roll figures.

Names are imported lazily, so ``import engine.render`` is cheap and works
without libfluidsynth (only rendering audio raises, naming what to install).

    from engine.render import leadsheet_to_pretty_midi, get_synthesizer, piano_roll_figure
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    # soundfont.py
    "default_soundfont": "soundfont",
    "soundfont_candidates": "soundfont",
    # instruments.py
    "MELODY_INSTRUMENTS": "instruments",
    "ACCOMPANIMENT_INSTRUMENTS": "instruments",
    "INSTRUMENTS": "instruments",
    "NO_ACCOMPANIMENT": "instruments",
    "DEFAULT_MELODY_INSTRUMENT": "instruments",
    "DEFAULT_ACCOMPANIMENT_INSTRUMENT": "instruments",
    "program_for": "instruments",
    "accompaniment_program_for": "instruments",
    # export.py
    "leadsheet_to_pretty_midi": "export",
    "chord_voicing": "export",
    "midi_bytes": "export",
    "save_midi": "export",
    "write_wav": "export",
    # audio.py
    "Synthesizer": "audio",
    "AudioBackendError": "audio",
    "get_synthesizer": "audio",
    "render_leadsheet": "audio",
    "render_leadsheets": "audio",
    "DEFAULT_SAMPLE_RATE": "audio",
    # pianoroll.py
    "piano_roll_figure": "pianoroll",
    "mini_piano_roll_figure": "pianoroll",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.render' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"engine.render.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
