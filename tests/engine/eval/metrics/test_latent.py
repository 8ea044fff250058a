"""The latent model's held-out figures (engine.eval.metrics.latent) on hand-built data with known answers."""

import numpy as np
import pytest
import torch

from engine.data.latent import LatentDataset
from engine.eval.metrics.latent import VALIDATION_TASKS, held_out_nll, validation_batches
from engine.models.latent import LatentBatch


def tiny_dataset(lengths: list[int], validation: list[bool], shifts: list[int]) -> LatentDataset:
    """Sequences of ``lengths`` windows laid end to end; window i's latents are all i (to find them again)."""
    total = sum(lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    index = np.arange(total, dtype=np.float16)[:, None]
    return LatentDataset(
        z_pitch=np.repeat(index, 3, 1),
        z_rhythm=np.repeat(index, 2, 1),
        rhythm=np.zeros((total, 32), np.int8),
        chroma=np.zeros((total, 8, 12), np.float16),
        functions=np.zeros((total, 8), np.int8),
        seq_start=starts,
        seq_length=np.asarray(lengths, np.int64),
        seq_shift=np.asarray(shifts, np.int64),
        seq_validation=np.asarray(validation),
        seq_tune=np.arange(len(lengths), dtype=np.int64),
        tune_names=np.asarray([f"t{i}" for i in range(len(lengths))]),
    )


def test_validation_batches_hide_a_span_the_second_half_or_everything_on_held_out_untransposed_tunes():
    # Sequences: a training tune, a held-out tune at shift 0 (6 windows), the same tune transposed (shift 2).
    dataset = tiny_dataset([4, 6, 6], [False, True, True], [0, 0, 2])
    batches = validation_batches(dataset, max_windows=8)
    assert set(batches) == set(VALIDATION_TASKS) and all(len(b) == 1 for b in batches.values())
    infill, continuation, free = (batches[task][0] for task in VALIDATION_TASKS)
    # Only the untransposed held-out tune: its own windows 4..9.
    assert infill.z_pitch.shape == (1, 6, 3) and infill.z_pitch[0, :, 0].tolist() == [4, 5, 6, 7, 8, 9]
    hidden = (~infill.known_pitch[0]).nonzero().flatten().tolist()
    assert 1 <= len(hidden) <= 2 and hidden == list(range(hidden[0], hidden[0] + len(hidden)))  # one span
    assert continuation.known_pitch[0].tolist() == [True, True, True, False, False, False]  # the second half
    assert not free.known_pitch.any() and not free.known_rhythm.any()  # every latent, rhythm as a pattern only
    assert infill.known_rhythm.all() and continuation.known_rhythm.all()  # rhythm latents given
    # Fixed masks: the same batches every time.
    again = validation_batches(dataset, max_windows=8)
    assert torch.equal(again["infill"][0].known_pitch, infill.known_pitch)


class _Constant:
    """A mixture whose NLL per window is given."""

    def __init__(self, nll: torch.Tensor) -> None:
        self._nll = nll

    def nll(self, target: torch.Tensor) -> torch.Tensor:
        return self._nll.expand(target.shape[:2])


class _FixedModel:
    """Stands in for the latent model: pitch NLL 1, 2, 3, 4 and rhythm NLL 10, 20, 30, 40 for windows 0..3."""

    def eval(self) -> "_FixedModel":
        return self

    def __call__(self, batch: LatentBatch) -> tuple[_Constant, _Constant]:
        return _Constant(torch.tensor([[1.0, 2, 3, 4]])), _Constant(torch.tensor([[10.0, 20, 30, 40]]))


def _batch(known_pitch: list[bool], known_rhythm: list[bool]) -> LatentBatch:
    valid = torch.ones(1, 4, dtype=torch.bool)
    return LatentBatch(
        torch.zeros(1, 4, 3),
        torch.zeros(1, 4, 2),
        torch.zeros(1, 4, 8, 12),
        torch.zeros(1, 4, 8, dtype=torch.long),
        torch.zeros(1, 4, 32, dtype=torch.long),
        torch.tensor([known_pitch]),
        torch.tensor([known_rhythm]),
        valid.clone(),
        valid,
    )


def test_held_out_nll_averages_the_hidden_latents_only_per_task_and_over_tasks():
    batches = {
        "infill": [_batch([True, False, False, True], [True] * 4)],  # windows 1 and 2 hidden, rhythm given
        "free": [_batch([False] * 4, [False] * 4)],  # everything hidden
    }
    figures = held_out_nll(_FixedModel(), batches, torch.device("cpu"))  # type: ignore[arg-type]
    assert figures["infill_pitch_nll"] == pytest.approx(2.5)  # (2 + 3) / 2
    assert "infill_rhythm_nll" not in figures  # no rhythm latent hidden: no figure
    assert figures["free_pitch_nll"] == pytest.approx(2.5) and figures["free_rhythm_nll"] == pytest.approx(25.0)
    assert figures["loss"] == pytest.approx((2.5 + 2.5 + 25.0) / 3)  # every task's pitch NLL and each rhythm NLL
