"""Example tunes that ship with the repo (assets/examples), as sources for exploration.

They were exported once from the music21 corpus by ``scripts/export_examples.py``;
at run time only the shipped MIDI files and their index (examples.json) are read.

    from engine.io.examples import list_examples, load_example
    sheet = load_example(list_examples()[0])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache

from engine.io.midi import read_midi
from engine.music import LeadSheet
from engine.music.errors import CadenzaInputError
from engine.paths import EXAMPLES_DIR

INDEX_FILE = "examples.json"


@dataclass(frozen=True)
class ExampleInfo:
    """One entry of assets/examples/examples.json."""

    title: str
    file: str
    source: str
    description: str
    bars: int
    chords: bool


@lru_cache(maxsize=1)
def _index() -> tuple[ExampleInfo, ...]:
    path = EXAMPLES_DIR / INDEX_FILE
    if not path.exists():
        raise FileNotFoundError(f"The example index {path} is missing (run scripts/export_examples.py)")
    entries = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        ExampleInfo(e["title"], e["file"], e["source"], e["description"], int(e["bars"]), bool(e["chords"]))
        for e in entries
    )


def example_infos() -> list[ExampleInfo]:
    """Title, file, source and description of every example, in display order."""
    return list(_index())


def list_examples() -> list[str]:
    """Titles of the example tunes, in display order."""
    return [info.title for info in _index()]


@lru_cache(maxsize=16)
def _read(file: str) -> LeadSheet:
    return read_midi(EXAMPLES_DIR / file, melody_track=0)


def load_example(title: str) -> LeadSheet:
    """The example called ``title`` (case and surrounding spaces ignored) as a LeadSheet.

    Raises CadenzaInputError naming the available titles when there is no such example.
    """
    if not isinstance(title, str):
        raise CadenzaInputError(f"Example title must be text (got {title!r})")
    wanted = title.strip().casefold()
    for info in _index():
        if info.title.casefold() == wanted:
            sheet = _read(info.file)
            # A fresh copy each time: LeadSheet and Melody are mutable.
            melody = replace(sheet.melody, notes=list(sheet.melody.notes))
            return LeadSheet(melody, replace(sheet.chords, chords=list(sheet.chords.chords)), info.title)
    raise CadenzaInputError(f"No example called '{title}': choose one of {', '.join(repr(t) for t in list_examples())}")
