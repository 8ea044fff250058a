"""Training data: a folder of MIDI/ABC files -> 2-bar windows (tokens, chroma), split by tune.

The split is a seeded hash of each tune's name, so a tune's windows never land
on both sides. Parsed windows are cached as .npz beside the run (parsing is slow).
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.io.corpus import is_validation, music_files, windows_of_file
from engine.music.constants import HOLD
from engine.music.errors import CadenzaInputError

log = logging.getLogger(__name__)


@dataclass
class WindowSet:
    """Windows of one split. tokens (N, T) int64, chroma (N, T, 12) float32, tune (N,) int."""

    tokens: np.ndarray
    chroma: np.ndarray
    tune: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)


def build_windows(
    folder: str | Path, cache: str | Path | None = None, workers: int = 2
) -> tuple[WindowSet, WindowSet, dict]:
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
        for results in pool.map(windows_of_file, files, chunksize=8):
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
        np.savez_compressed(
            cache,
            train_tokens=train.tokens,
            train_chroma=train.chroma,
            train_tune=train.tune,
            val_tokens=val.tokens,
            val_chroma=val.chroma,
            val_tune=val.tune,
        )
    stats = {
        "files": len(files),
        "train_tunes": tunes[False],
        "val_tunes": tunes[True],
        "train_windows": len(train),
        "val_windows": len(val),
    }
    return train, val, stats


def transpose_batch(
    tokens: torch.Tensor, chroma: torch.Tensor, shifts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
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
