"""Training data: a folder of MIDI/ABC files -> 2-bar windows (tokens, chroma), split by tune.

The split is a seeded hash of each tune's name, so a tune's windows never land
on both sides. Parsed windows are cached as .npz beside the run (parsing is slow).
"""

from __future__ import annotations

import hashlib
import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.errors import CadenzaInputError
from engine.midi_io import read_abc_file, read_midi
from engine.representation import HOLD, leadsheet_windows

log = logging.getLogger(__name__)
MUSIC_SUFFIXES = {".mid", ".midi", ".abc"}


@dataclass
class WindowSet:
    """Windows of one split. tokens (N, T) int64, chroma (N, T, 12) float32, tune (N,) int."""

    tokens: np.ndarray
    chroma: np.ndarray
    tune: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)


def is_validation(name: str, fraction: float = 0.1, seed: int = 0) -> bool:
    digest = hashlib.sha1(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


def music_files(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise CadenzaInputError(f"Data folder not found: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MUSIC_SUFFIXES)
    if not files:
        raise CadenzaInputError(f"No .mid, .midi or .abc files under {folder}")
    return files


def _windows_of_file(path: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(tune name, tokens (N, T), chroma (N, T, 12)) for every tune in one file."""
    try:
        sheets = read_abc_file(path) if path.suffix.lower() == ".abc" else [read_midi(path)]
    except Exception as err:  # one bad file must not stop a training run
        log.warning("skipping %s: %s", path.name, err)
        return []
    out = []
    for index, sheet in enumerate(sheets):
        windows = leadsheet_windows(sheet, hop=sheet.melody.steps_per_bar, min_notes=2)
        if not windows:
            continue
        tokens = np.stack([w[1] for w in windows])
        chroma = np.stack([w[2] for w in windows])
        out.append((f"{path.name}#{index}", tokens, chroma))
    return out


def build_windows(folder: str | Path, cache: str | Path | None = None, workers: int = 2) -> tuple[WindowSet, WindowSet, dict]:
    """Parse every tune under ``folder`` -> (train, validation, stats)."""
    files = music_files(folder)
    if cache is not None and Path(cache).exists():
        data = np.load(cache, allow_pickle=False)
        train = WindowSet(data["train_tokens"], data["train_chroma"], data["train_tune"])
        val = WindowSet(data["val_tokens"], data["val_chroma"], data["val_tune"])
        return train, val, {"files": len(files), "cached": str(cache)}
    parts: dict[bool, list] = {False: [], True: []}
    tunes = {False: 0, True: 0}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for results in pool.map(_windows_of_file, files, chunksize=8):
            for name, tokens, chroma in results:
                side = is_validation(name)
                parts[side].append((tokens, chroma, np.full(len(tokens), tunes[side])))
                tunes[side] += 1
    sets = []
    for side in (False, True):
        if not parts[side]:
            raise CadenzaInputError(f"No usable {'validation' if side else 'training'} tunes under {folder}")
        sets.append(WindowSet(*(np.concatenate([p[i] for p in parts[side]]) for i in range(3))))
    train, val = sets
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, train_tokens=train.tokens, train_chroma=train.chroma, train_tune=train.tune,
                            val_tokens=val.tokens, val_chroma=val.chroma, val_tune=val.tune)
    stats = {"files": len(files), "train_tunes": tunes[False], "val_tunes": tunes[True],
             "train_windows": len(train), "val_windows": len(val)}
    return train, val, stats


def transpose_batch(tokens: torch.Tensor, chroma: torch.Tensor, shifts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Transpose each window by shifts (B,) semitones; pitches leaving 0..127 are clamped by octaves.

    tokens (B, T) int, chroma (B, T, 12) -> same shapes.
    """
    is_pitch = tokens < HOLD
    moved = tokens + shifts[:, None]
    moved = torch.where(moved > 127, moved - 12, moved)
    moved = torch.where(moved < 0, moved + 12, moved)
    tokens = torch.where(is_pitch, moved, tokens)
    index = (torch.arange(12)[None, :] - shifts[:, None]) % 12  # (B, 12): new[pc] = old[pc - shift]
    chroma = torch.gather(chroma, 2, index[:, None, :].expand(-1, chroma.shape[1], -1))
    return tokens, chroma


def make_rhythm(tokens: torch.Tensor) -> torch.Tensor:
    """Rhythm classes (0 onset, 1 hold, 2 rest) of tokens (B, T), on the tokens' device."""
    return torch.where(tokens < HOLD, 0, torch.where(tokens == HOLD, 1, 2))
