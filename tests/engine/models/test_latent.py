"""The latent sequence model: shapes, masking, sampling, its training loop and checkpoints."""

import numpy as np
import pytest
import torch

from engine.models.latent import LatentBatch, LatentModelConfig, LatentSequenceModel, Mixture, latent_loss
from engine.models.registry import load_latent_model, save_latent_model
from engine.train.latent import mask_batch

Z = 16


def make_batch(rows: int = 3, width: int = 5, seed: int = 0) -> LatentBatch:
    g = torch.Generator().manual_seed(seed)
    valid = torch.ones(rows, width, dtype=torch.bool)
    valid[0, -2:] = False  # one shorter sequence, padded
    return LatentBatch(
        z_pitch=torch.randn(rows, width, Z, generator=g),
        z_rhythm=torch.randn(rows, width, Z, generator=g),
        chroma=torch.rand(rows, width, 8, 12, generator=g).round(),
        functions=torch.randint(0, 5, (rows, width, 8), generator=g),
        rhythm=torch.randint(0, 3, (rows, width, 32), generator=g),
        known_pitch=valid.clone(),
        known_rhythm=valid.clone(),
        known_pattern=valid.clone(),
        valid=valid,
    )


@pytest.fixture
def model():
    torch.manual_seed(0)
    return LatentSequenceModel(LatentModelConfig.debug(Z, Z)).eval()


def test_forward_gives_a_mixture_per_window(model):
    pitch, rhythm = model(make_batch())
    k = model.config.mixtures
    assert (
        pitch.logits.shape == (3, 5, k) and pitch.mean.shape == (3, 5, k, Z) and rhythm.log_sigma.shape == (3, 5, k, Z)
    )
    assert torch.isfinite(pitch.nll(torch.zeros(3, 5, Z))).all()


def test_a_masked_latent_does_not_leak_into_the_prediction(model):
    batch = make_batch()
    known = batch.known_pitch.clone()
    known[:, 2] = False
    first, _ = model(batch.replace(known_pitch=known))
    changed = batch.z_pitch.clone()
    changed[:, 2] += 5.0  # the hidden target changes; its prediction must not
    second, _ = model(batch.replace(known_pitch=known, z_pitch=changed))
    assert torch.allclose(first.mean, second.mean) and torch.allclose(first.logits, second.logits)


def test_nll_prefers_the_component_near_the_target():
    target = torch.zeros(1, 1, 4)
    near = Mixture(torch.zeros(1, 1, 1), torch.zeros(1, 1, 1, 4), torch.zeros(1, 1, 1, 4))
    far = Mixture(torch.zeros(1, 1, 1), torch.full((1, 1, 1, 4), 3.0), torch.zeros(1, 1, 1, 4))
    assert near.nll(target).item() < far.nll(target).item()
    assert near.nll(target).item() == pytest.approx(0.5 * np.log(2 * np.pi), abs=1e-5)


def test_sampling_fills_only_the_unknown_windows_and_follows_the_seed(model):
    batch = make_batch()
    known = batch.known_pitch.clone()
    known[:, 1:3] = False
    batch = batch.replace(known_pitch=known, known_rhythm=known.clone())
    a = model.sample(batch, torch.Generator().manual_seed(1))
    b = model.sample(batch, torch.Generator().manual_seed(1))
    c = model.sample(batch, torch.Generator().manual_seed(2))
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    keep = known & batch.valid
    assert torch.equal(a[0][keep], batch.z_pitch[keep]) and torch.equal(a[1][keep], batch.z_rhythm[keep])
    assert not torch.equal(a[0][:, 1:3], batch.z_pitch[:, 1:3])
    mode = model.sample(batch, temperature=0.0)
    assert torch.equal(mode[0], model.sample(batch, temperature=0.0)[0])  # temperature 0: the most likely latents


def test_outside_in_order_alternates_the_ends_of_each_span():
    unknown = torch.tensor([[False, True, True, True, True, False, True]])
    assert LatentSequenceModel._fill_order(unknown, "outside_in") == [1, 4, 2, 3, 6]
    assert LatentSequenceModel._fill_order(unknown, "left_to_right") == [1, 2, 3, 4, 6]


def test_masks_hide_at_least_one_window_per_sequence():
    batch = make_batch(rows=40, width=6)
    masked = mask_batch(batch, np.random.default_rng(0))
    hidden = (~masked.known_pitch & masked.valid).sum(1)
    assert (hidden >= 1).all()
    assert (~masked.known_rhythm & masked.valid).any() and (~masked.known_pattern & masked.valid).any()


def test_a_few_steps_reduce_the_loss(model):
    torch.manual_seed(0)
    model.train()
    batch = make_batch(rows=8, width=4)
    known = torch.zeros_like(batch.known_pitch)
    batch = batch.replace(known_pitch=known, known_rhythm=known.clone())
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(40):
        loss = latent_loss(*model(batch), batch)["loss"]
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first - 0.1


def test_checkpoint_round_trip(model, tmp_path):
    save_latent_model(model, tmp_path, {"vae": {"fingerprint": "abc"}})
    loaded, meta = load_latent_model(tmp_path)
    batch = make_batch()
    assert meta["vae"]["fingerprint"] == "abc"
    assert torch.allclose(model(batch)[0].mean, loaded(batch)[0].mean)
