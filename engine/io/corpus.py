"""A folder of tunes: which files, reading them, the train/validation split and 2-bar windows.

Shared by training (``engine.train``) and evaluation (``engine.evaluate``) so that both
cut tunes the same way and agree on which tunes are held out.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from engine.io.abc import read_abc_file
from engine.io.midi import read_midi
from engine.music import LeadSheet
from engine.music.errors import CadenzaInputError
from engine.music.representation import leadsheet_windows

log = logging.getLogger(__name__)
MUSIC_SUFFIXES = {".mid", ".midi", ".abc"}


def is_validation(name: str, fraction: float = 0.1, seed: int = 0) -> bool:
    """Whether the tune ``name`` ("file.mid#0") is held out: a seeded hash, stable across runs."""
    digest = hashlib.sha1(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


def music_files(folder: str | Path) -> list[Path]:
    """Every .mid/.midi/.abc file under ``folder`` (recursive, sorted); raises CadenzaInputError if none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CadenzaInputError(f"Data folder not found: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MUSIC_SUFFIXES)
    if not files:
        raise CadenzaInputError(f"No .mid, .midi or .abc files under {folder}")
    return files


def read_tunes(path: Path) -> list[tuple[str, LeadSheet]]:
    """(tune name "file#index", LeadSheet) for every tune in one file; [] for a file that cannot be read."""
    try:
        sheets = read_abc_file(path) if path.suffix.lower() == ".abc" else [read_midi(path)]
    except Exception as err:  # one bad file must not stop a training or evaluation run
        log.warning("skipping %s: %s", path.name, err)
        return []
    return [(f"{path.name}#{index}", sheet) for index, sheet in enumerate(sheets)]


def windows_of_file(path: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(tune name, tokens (N, 32), chroma (N, 32, 12)) for every tune in one file.

    Windows start at every downbeat after the pickup (hop of one bar) and need two onsets.
    """
    out = []
    for name, sheet in read_tunes(path):
        windows = leadsheet_windows(sheet, hop=sheet.melody.steps_per_bar, min_notes=2)
        if not windows:
            continue
        tokens = np.stack([w[1] for w in windows])
        chroma = np.stack([w[2] for w in windows])
        out.append((name, tokens, chroma))
    return out
