"""EC2-VAE's reconstruction figures (engine.eval.metrics.ec2vae) with a stand-in model of known answers."""

import numpy as np
import pytest
import torch

from engine.data.windows import WindowSet, make_rhythm
from engine.eval.metrics.ec2vae import reconstruction_accuracy
from engine.music.constants import HOLD, REST


class _OneWrongOnset:
    """Gives every window back with its first note a semitone higher and its rhythm unchanged."""

    def eval(self) -> "_OneWrongOnset":
        return self

    def reconstruct(self, tokens: torch.Tensor, chroma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        predicted = tokens.clone()
        predicted[:, 0] += 1
        return predicted, make_rhythm(tokens)


def test_reconstruction_accuracy_counts_steps_and_onsets():
    # Two windows of 32 steps, each with 4 onsets (a note every 8 steps: onset, 3 holds, 4 rests).
    bar = [60, HOLD, HOLD, HOLD, REST, REST, REST, REST]
    tokens = np.array([bar * 4, [t + 2 if t < 128 else t for t in bar] * 4], dtype=np.int64)
    windows = WindowSet(tokens, np.zeros((2, 32, 12), np.float32), np.array([0, 1]))
    figures = reconstruction_accuracy(_OneWrongOnset(), windows, torch.device("cpu"), batch_size=1)  # type: ignore[arg-type]
    assert figures["pitch_accuracy"] == pytest.approx(62 / 64)  # one wrong step per window
    assert figures["onset_pitch_accuracy"] == pytest.approx(6 / 8)  # one of four onsets per window
    assert figures["rhythm_accuracy"] == 1.0
