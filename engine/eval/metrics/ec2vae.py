"""EC2-VAE's reconstruction figures: how much of a held-out window comes back through the latents."""

from __future__ import annotations

import torch

from engine.data.windows import WindowSet, make_rhythm
from engine.models.ec2vae import EC2VAE


@torch.no_grad()
def reconstruction_accuracy(
    model: EC2VAE, windows: WindowSet, device: torch.device, batch_size: int = 512
) -> dict[str, float]:
    """Per-step accuracy of posterior-mean, greedy, free-running reconstructions."""
    model.eval()
    pitch_hits = rhythm_hits = onset_pitch_hits = onsets = total = 0
    for lo in range(0, len(windows), batch_size):
        tokens = torch.from_numpy(windows.tokens[lo : lo + batch_size]).to(device)
        chroma = torch.from_numpy(windows.chroma[lo : lo + batch_size]).to(device)
        rhythm = make_rhythm(tokens)
        predicted, predicted_rhythm = model.reconstruct(tokens, chroma)
        pitch_hits += int((predicted == tokens).sum())
        rhythm_hits += int((predicted_rhythm == rhythm).sum())
        is_onset = tokens < 128
        onset_pitch_hits += int(((predicted == tokens) & is_onset).sum())
        onsets += int(is_onset.sum())
        total += tokens.numel()
    return {
        "pitch_accuracy": pitch_hits / total,
        "rhythm_accuracy": rhythm_hits / total,
        "onset_pitch_accuracy": onset_pitch_hits / max(onsets, 1),
    }
