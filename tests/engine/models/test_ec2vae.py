import torch

from engine.data.windows import make_rhythm, transpose_batch
from engine.models.ec2vae import EC2VAE, EC2VAEConfig, ec2vae_loss
from engine.models.registry import load_ec2vae, save_ec2vae


def _batch(batch=4):
    torch.manual_seed(1)
    tokens = torch.randint(0, 130, (batch, 32))
    chroma = (torch.rand(batch, 32, 12) > 0.7).float()
    return tokens, chroma, make_rhythm(tokens)


def test_forward_backward_shapes_and_gradients():
    model = EC2VAE(EC2VAEConfig.debug())
    tokens, chroma, rhythm = _batch()
    for teacher_forcing in (True, False):
        out = model(tokens, chroma, rhythm, teacher_forcing=teacher_forcing)
        assert out.pitch_logits.shape == (4, 32, 130) and out.rhythm_logits.shape == (4, 32, 3)
        losses = ec2vae_loss(out, tokens, rhythm)
        model.zero_grad()
        losses["loss"].backward()
        assert all(p.grad is not None for p in model.parameters())
        assert torch.isfinite(losses["loss"])


def test_a_few_steps_reduce_the_loss():
    model = EC2VAE(EC2VAEConfig.debug())
    tokens, chroma, rhythm = _batch(8)
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    first = None
    for _ in range(30):
        loss = ec2vae_loss(model(tokens, chroma, rhythm), tokens, rhythm)["loss"]
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.7 * first


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    model = EC2VAE(EC2VAEConfig.debug()).eval()
    tokens, chroma, _ = _batch()
    save_ec2vae(model, tmp_path / "ckpt", {"note": "test"})
    loaded = load_ec2vae(tmp_path / "ckpt")
    assert loaded.config == model.config
    a, ra = model.reconstruct(tokens, chroma)
    b, rb = loaded.reconstruct(tokens, chroma)
    assert torch.equal(a, b) and torch.equal(ra, rb)
    with torch.no_grad():
        assert torch.equal(model.encode(tokens, chroma)[0], loaded.encode(tokens, chroma)[0])


def test_decode_pitch_respects_logit_bias():
    model = EC2VAE(EC2VAEConfig.debug()).eval()
    z_p, z_r = torch.randn(2, 16), torch.randn(2, 16)
    bias = torch.full((2, 32, 130), float("-inf"))
    bias[:, :, 64] = 0.0
    _, tokens = model.decode_pitch(
        z_p, z_r, torch.zeros(2, 32, dtype=torch.long), torch.zeros(2, 32, 12), temperature=1.0, logit_bias=bias
    )
    assert (tokens == 64).all()


def test_repeat_penalty_steers_onsets_off_the_previous_pitch():
    model = EC2VAE(EC2VAEConfig.debug()).eval()
    z_p, z_r = torch.randn(3, 16), torch.randn(3, 16)
    bias = torch.full((3, 32, 130), float("-inf"))
    bias[:, :, 60:63] = 0.0  # three pitches allowed at every step, every step an onset
    onsets = torch.zeros(3, 32, dtype=torch.long)
    _, plain = model.decode_pitch(z_p, z_r, onsets, torch.zeros(3, 32, 12), logit_bias=bias)
    _, penalised = model.decode_pitch(z_p, z_r, onsets, torch.zeros(3, 32, 12), logit_bias=bias, repeat_penalty=1e4)
    assert (penalised[:, 1:] != penalised[:, :-1]).all()
    assert (plain[:, 1:] == plain[:, :-1]).any()  # the untrained decoder repeats itself when left alone


def test_transposition_moves_pitches_and_chroma_together():
    tokens = torch.tensor([[60, 128, 129, 67]])
    chroma = torch.zeros(1, 4, 12)
    chroma[0, :, 0] = 1.0  # C
    moved, moved_chroma = transpose_batch(tokens, chroma, torch.tensor([2]))
    assert moved.tolist() == [[62, 128, 129, 69]]
    assert moved_chroma[0, 0].nonzero().flatten().tolist() == [2]
