"""Training data for the latent sequence model: tunes -> sequences of EC2-VAE latents.

Each tune is cut into consecutive 2-bar windows from its first downbeat (whole windows
only; at least two). Every window is encoded with the shipped EC2-VAE at each
transposition in [low, high] (the encoder is not transposition-equivariant, so the
latents are computed per transposition, not shifted). Stored per window:
* z_pitch, z_rhythm: posterior means of the real window;
* the rhythm classes (onset / hold / rest per step), which do not move with transposition;
* chroma per beat (8 x 12) and chord-function classes per beat (8), in the tune's key.
Sequences index the windows: (start, length, tune, shift, is_validation).
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.data.windows import transpose_batch
from engine.io.corpus import is_validation, music_files, read_tunes
from engine.models.ec2vae import EC2VAE
from engine.models.latent import LatentBatch, beat_chroma
from engine.models.registry import weights_fingerprint
from engine.music import LeadSheet
from engine.music.chords import infer_chords
from engine.music.constants import BEATS_PER_WINDOW, SILENCE, STEPS_PER_BEAT, WINDOW_STEPS
from engine.music.errors import CadenzaInputError
from engine.music.representation import melody_to_tokens, tokens_to_rhythm
from engine.music.tonality import NO_FUNCTION, estimate_key, functions_per_step

log = logging.getLogger(__name__)
DATA_PREP_VERSION = 2  # bump when the windows, chords or features change: older caches are rebuilt


@dataclass
class TuneWindows:
    """One tune as whole consecutive windows: tokens (W, 32), chroma (W, 32, 12), functions (W, 8)."""

    name: str
    key: str
    tokens: np.ndarray
    chroma: np.ndarray
    functions: np.ndarray


def tune_windows(name: str, sheet, min_windows: int = 2) -> TuneWindows | None:
    """Consecutive 2-bar windows of a lead sheet from its first downbeat; None when shorter than ``min_windows``.

    A tune written without chord symbols gets one triad per bar fitted to its melody (engine.music.chords.infer_chords).
    """
    melody = sheet.melody
    if not sheet.chords.chords:
        sheet = LeadSheet(melody, infer_chords(melody), sheet.title)
    count = (melody.num_steps - melody.pickup_steps) // WINDOW_STEPS
    if count < min_windows:
        return None
    start = melody.pickup_steps
    steps = count * WINDOW_STEPS
    key = estimate_key(sheet)
    tokens = melody_to_tokens(melody, start, steps).reshape(count, WINDOW_STEPS)
    chroma = sheet.chords.chroma(steps, start).reshape(count, WINDOW_STEPS, 12)
    functions = functions_per_step(sheet.chords, key, steps, start, STEPS_PER_BEAT).reshape(count, BEATS_PER_WINDOW)
    return TuneWindows(name, key, tokens, chroma, functions)


def _tunes_of_file(path: Path) -> list[TuneWindows]:
    out = []
    for name, sheet in read_tunes(path):
        tune = tune_windows(name, sheet)
        if tune is not None:
            out.append(tune)
    return out


def read_tune_windows(folder: str | Path, workers: int = 2) -> list[TuneWindows]:
    """Every usable tune under ``folder`` (parsed in ``workers`` processes)."""
    files = music_files(folder)
    tunes: list[TuneWindows] = []
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for part in pool.map(_tunes_of_file, files, chunksize=8):
                tunes.extend(part)
    else:
        for path in files:
            tunes.extend(_tunes_of_file(path))
    if not tunes:
        raise CadenzaInputError(f"No tune under {folder} has two whole 2-bar windows")
    return tunes


@torch.no_grad()
def encode_windows(
    vae: EC2VAE, tokens: torch.Tensor, chroma: torch.Tensor, batch_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior means of windows: tokens (N, 32), chroma (N, 32, 12) -> z_pitch (N, Zp), z_rhythm (N, Zr)."""
    vae.eval()
    device = vae.device
    out_p, out_r = [], []
    for lo in range(0, len(tokens), batch_size):
        mu_p, _, mu_r, _ = vae.encode(tokens[lo : lo + batch_size].to(device), chroma[lo : lo + batch_size].to(device))
        out_p.append(mu_p.cpu())
        out_r.append(mu_r.cpu())
    return torch.cat(out_p), torch.cat(out_r)


@dataclass
class LatentDataset:
    """Windows of every tune at every transposition, and the sequences that index them."""

    z_pitch: np.ndarray  # (N, Zp) float16
    z_rhythm: np.ndarray  # (N, Zr) float16
    rhythm: np.ndarray  # (N, 32) int8: onset / hold / rest per step
    chroma: np.ndarray  # (N, 8, 12) float16, per beat
    functions: np.ndarray  # (N, 8) int8
    seq_start: np.ndarray  # (S,) int64
    seq_length: np.ndarray  # (S,) int64
    seq_shift: np.ndarray  # (S,) int64
    seq_validation: np.ndarray  # (S,) bool
    seq_tune: np.ndarray  # (S,) int64: index into tune_names
    tune_names: np.ndarray  # (tunes,) str

    def split(self, validation: bool, shift: int | None = None) -> np.ndarray:
        """Indices of the sequences of one side (optionally one transposition only)."""
        keep = self.seq_validation == validation
        if shift is not None:
            keep &= self.seq_shift == shift
        return np.flatnonzero(keep)

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **{k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def load(cls, path: str | Path) -> LatentDataset:
        data = np.load(path, allow_pickle=False)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    def batch(self, sequences: np.ndarray, max_windows: int, rng: np.random.Generator) -> LatentBatch:
        """Sequences (their indices) cropped at random to ``max_windows`` and padded: a LatentBatch with
        everything known (the caller masks)."""
        lengths = np.minimum(self.seq_length[sequences], max_windows)
        width = int(lengths.max())
        b = len(sequences)
        zp = np.zeros((b, width, self.z_pitch.shape[1]), np.float32)
        zr = np.zeros((b, width, self.z_rhythm.shape[1]), np.float32)
        ch = np.zeros((b, width, BEATS_PER_WINDOW, 12), np.float32)
        fn = np.full((b, width, BEATS_PER_WINDOW), NO_FUNCTION, np.int64)
        rh = np.full((b, width, WINDOW_STEPS), SILENCE, np.int64)
        valid = np.zeros((b, width), bool)
        for row, (seq, length) in enumerate(zip(sequences, lengths)):
            extra = int(self.seq_length[seq] - length)
            lo = int(self.seq_start[seq]) + (int(rng.integers(extra + 1)) if extra else 0)
            rows = slice(lo, lo + int(length))
            zp[row, :length] = self.z_pitch[rows]
            zr[row, :length] = self.z_rhythm[rows]
            rh[row, :length] = self.rhythm[rows]
            ch[row, :length] = self.chroma[rows]
            fn[row, :length] = self.functions[rows]
            valid[row, :length] = True
        t = torch.from_numpy
        return LatentBatch(
            t(zp), t(zr), t(ch), t(fn), t(rh), t(valid.copy()), t(valid.copy()), t(valid.copy()), t(valid)
        )


def build_latent_dataset(
    tunes: list[TuneWindows], vae: EC2VAE, transpose: tuple[int, int] = (-5, 6), validation_fraction: float = 0.1
) -> LatentDataset:
    """Encode every tune at every transposition in [low, high] (see the module docstring)."""
    low, high = transpose
    tokens = torch.from_numpy(np.concatenate([t.tokens for t in tunes]))
    chroma = torch.from_numpy(np.concatenate([t.chroma for t in tunes]))
    functions = np.concatenate([t.functions for t in tunes]).astype(np.int8)
    lengths = np.array([len(t.tokens) for t in tunes])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rhythm = tokens_to_rhythm(tokens.numpy()).astype(np.int8)
    validation = np.array([is_validation(t.name, validation_fraction) for t in tunes])
    parts: dict[str, list] = {
        k: [] for k in ("zp", "zr", "chroma", "functions", "start", "length", "shift", "val", "tune")
    }
    offset = 0
    for shift in range(low, high + 1):
        shifts = torch.full((len(tokens),), shift)
        moved_tokens, moved_chroma = transpose_batch(tokens, chroma, shifts)
        zp, zr = encode_windows(vae, moved_tokens, moved_chroma)
        parts["zp"].append(zp.half().numpy())
        parts["zr"].append(zr.half().numpy())
        parts["chroma"].append(beat_chroma(moved_chroma.numpy()).astype(np.float16))
        parts["functions"].append(functions)  # functions do not move: key and chords move together
        parts["start"].append(starts + offset)
        parts["length"].append(lengths)
        parts["shift"].append(np.full(len(tunes), shift))
        parts["val"].append(validation)
        parts["tune"].append(np.arange(len(tunes)))
        offset += len(tokens)
        log.info("encoded transposition %+d (%d windows)", shift, len(tokens))
    cat = np.concatenate
    return LatentDataset(
        cat(parts["zp"]),
        cat(parts["zr"]),
        np.tile(rhythm, (high - low + 1, 1)),
        cat(parts["chroma"]),
        cat(parts["functions"]),
        cat(parts["start"]).astype(np.int64),
        cat(parts["length"]).astype(np.int64),
        cat(parts["shift"]).astype(np.int64),
        cat(parts["val"]).astype(bool),
        cat(parts["tune"]).astype(np.int64),
        np.array([t.name for t in tunes]),
    )


def load_latent_dataset(
    data: str,
    vae: EC2VAE,
    vae_path: str,
    transpose: tuple[int, int],
    cache: str | None = None,
    max_tunes: int | None = None,
    workers: int = 2,
    announce: bool = True,
) -> tuple[LatentDataset, dict]:
    """Encode the tunes under ``data`` with ``vae`` (loaded from ``vae_path``, or "debug") at every transposition in
    ``transpose``, or read the ``cache`` .npz made for the same tunes, VAE weights and transpositions.
    Returns the dataset and its statistics (the training record's ``data_stats``)."""
    fingerprint = "debug" if vae_path == "debug" else weights_fingerprint(vae_path)
    meta = {
        "prep_version": DATA_PREP_VERSION,
        "data": str(data),
        "vae": str(vae_path),
        "vae_fingerprint": fingerprint,
        "transpose": list(transpose),
        "max_tunes": max_tunes,
    }
    cache_file = Path(cache) if cache else None
    if cache_file is not None and cache_file.exists() and cache_file.with_suffix(".json").exists():
        if json.loads(cache_file.with_suffix(".json").read_text()) == meta:
            dataset = LatentDataset.load(cache_file)
            return dataset, _data_stats(dataset, meta, cached=str(cache_file))
        if announce:
            print(f"cache {cache} was made for other data or another VAE: rebuilding it", flush=True)
    tunes = read_tune_windows(data, workers=workers)
    if max_tunes:
        tunes = tunes[:max_tunes]
    dataset = build_latent_dataset(tunes, vae, (transpose[0], transpose[1]))
    if cache_file is not None:
        dataset.save(cache_file)
        cache_file.with_suffix(".json").write_text(json.dumps(meta))
    return dataset, _data_stats(dataset, meta)


def _data_stats(dataset: LatentDataset, meta: dict, cached: str | None = None) -> dict:
    shift0 = dataset.seq_shift == dataset.seq_shift.min()
    stats = {
        **meta,
        "tunes": int(shift0.sum()),
        "train_tunes": int((shift0 & ~dataset.seq_validation).sum()),
        "val_tunes": int((shift0 & dataset.seq_validation).sum()),
        "windows_per_transposition": int(dataset.seq_length[shift0].sum()),
        "transpositions": int(len(np.unique(dataset.seq_shift))),
    }
    if cached:
        stats["cached"] = cached
    return stats
