"""The latent sequence model's held-out figures: NLL of masked latents on fixed validation masks, per task."""

from __future__ import annotations

import numpy as np
import torch

from engine.data.latent import LatentDataset
from engine.models.latent import LatentBatch, LatentSequenceModel

VALIDATION_TASKS = ("infill", "continuation", "free")


def validation_batches(
    dataset: LatentDataset, max_windows: int, batch_size: int = 128, seed: int = 1234
) -> dict[str, list[LatentBatch]]:
    """Fixed held-out batches (untransposed tunes, first ``max_windows`` windows) for each validation task:
    infill (one span of 1-2 windows, rhythm latents given), continuation (the second half, rhythm latents
    given), free (every pitch latent, rhythms given as patterns only)."""
    sequences = dataset.split(validation=True, shift=0)
    if len(sequences) == 0:
        sequences = dataset.split(validation=True)
    rng = np.random.default_rng(seed)
    out: dict[str, list[LatentBatch]] = {task: [] for task in VALIDATION_TASKS}
    for lo in range(0, len(sequences), batch_size):
        base = dataset.batch(sequences[lo : lo + batch_size], max_windows, np.random.default_rng(seed + lo))
        valid = base.valid.numpy()
        rows, width = valid.shape
        lengths = valid.sum(1)
        infill = np.ones((rows, width), bool)
        continuation = np.ones((rows, width), bool)
        for i, n in enumerate(lengths):
            length = min(int(rng.integers(1, 3)), n)
            start = int(rng.integers(0, n - length + 1))
            infill[i, start : start + length] = False
            continuation[i, max(1, n // 2) : n] = False
        t = torch.from_numpy
        out["infill"].append(base.replace(known_pitch=t(infill)))
        out["continuation"].append(base.replace(known_pitch=t(continuation)))
        none = t(~valid)
        out["free"].append(base.replace(known_pitch=none, known_rhythm=none.clone()))
    return out


@torch.no_grad()
def held_out_nll(
    model: LatentSequenceModel, batches: dict[str, list[LatentBatch]], device: torch.device
) -> dict[str, float]:
    """Mean NLL (nats per dimension) of the masked latents, per task, and their mean ("loss")."""
    model.eval()
    out: dict[str, float] = {}
    for task, items in batches.items():
        sums = {"pitch_nll": 0.0, "rhythm_nll": 0.0}
        counts = {"pitch_nll": 0.0, "rhythm_nll": 0.0}
        for batch in items:
            batch = batch.to(device)
            pitch, rhythm = model(batch)
            for name, mixture, target, known in (
                ("pitch_nll", pitch, batch.z_pitch, batch.known_pitch),
                ("rhythm_nll", rhythm, batch.z_rhythm, batch.known_rhythm),
            ):
                mask = (~known & batch.valid).float()
                sums[name] += (mixture.nll(target) * mask).sum().item()
                counts[name] += mask.sum().item()
        for name in sums:
            if counts[name]:
                out[f"{task}_{name}"] = sums[name] / counts[name]
    out["loss"] = float(
        np.mean(
            [out[f"{task}_pitch_nll"] for task in batches] + [v for k, v in out.items() if k.endswith("rhythm_nll")]
        )
    )
    return out
