"""MusAE and its VAE baseline (tiny debug models on a synthetic style cache): they learn, save, resume, load and
sample each style from its own prior component."""

import json

import pytest
import torch

from engine.cli.train import main as train_main
from engine.models.musae import LatentCritic, MusAE, MusAEConfig, free_bits_kl, kl_per_dimension
from engine.models.registry import load_musae
from engine.models.wgan import gradient_penalty
from engine.music.constants import HOLD


@pytest.mark.parametrize("baseline", ["musae", "vae"])
def test_training_learns_saves_resumes_and_loads(tmp_path, fake_style_cache, baseline):
    out = tmp_path / baseline
    args = [
        "musae",
        "--baseline",
        baseline,
        "--data",
        str(fake_style_cache),
        "--out",
        str(out),
        "--epochs",
        "2",
        "--steps-per-epoch",
        "40",
        "--greedy-sample",
        "32",
        "--debug",
        "--lr",
        "0.01",
    ]
    assert train_main(args) == 0
    assert train_main(args[:8] + ["3"] + args[9:] + ["--resume", "--lr", "0.005"]) == 0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["run_start"] for r in log if "run_start" in r] == [1, 3]  # each (re)start notes its settings
    state = torch.load(out / "train_state.pt", weights_only=True)
    assert state["optimizer"]["param_groups"][0]["lr"] == 0.005  # the resumed run's rate, not the saved one
    rows = [r for r in log if "epoch" in r]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert all(r["val_prior_fit"] >= 0 and 0 <= r["val_component_accuracy"] <= 1 for r in rows)
    assert rows[-1]["recon_loss"] < rows[0]["recon_loss"]
    model, meta = load_musae(out)
    assert meta["config"]["kind"] == baseline and meta["styles"] == ["a", "b", "c"]
    assert meta["validation"]["teacher_forced"]["mean"] > 0.5  # far above chance (1/130): it reconstructs
    assert (rows[-1]["critic_loss"] is None) == (baseline == "vae")


def test_each_style_has_its_own_prior_component_and_decodes_to_windows():
    model = MusAE(MusAEConfig.debug(num_styles=4))
    generator = torch.Generator().manual_seed(0)
    style = torch.tensor([0] * 200 + [2] * 200)
    z = model.prior_sample(style, generator)
    first, third = z[:200, :2].mean(0), z[200:, :2].mean(0)
    assert torch.dist(first, third) > 4  # radius 4: opposite sides of the circle
    windows = model.decode(z[:3], style[:3])
    assert windows.shape == (3, 4, 32) and windows.dtype == torch.long
    assert not (windows[:, :, 0] == 128).any()  # no window starts by holding a note
    vae = MusAE(MusAEConfig.debug(kind="vae", num_styles=4))
    assert torch.dist(vae.prior_sample(style, generator)[:200, :2].mean(0), torch.zeros(2)) < 0.5  # one N(0, I)


def test_the_gradient_penalty_is_zero_for_a_unit_slope_critic():
    config = MusAEConfig.debug(num_styles=2)
    critic = LatentCritic(config)
    real, fake, style = torch.randn(8, config.z_dims), torch.randn(8, config.z_dims), torch.zeros(8, dtype=torch.long)
    assert gradient_penalty(lambda codes: critic(codes, style), real, fake) >= 0
    with torch.no_grad():  # make the critic the linear map z -> z[0]: gradient norm 1 everywhere
        for layer in critic.net:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
        critic.net[0].weight[0, 0] = 1.0
        critic.net[2].weight[0, 0] = 1.0
        critic.net[4].weight[0, 0] = 1.0
    real[:, 0], fake[:, 0] = 5.0, 6.0  # positive: the leaky ReLUs pass it unchanged
    assert gradient_penalty(lambda codes: critic(codes, style), real, fake).item() == pytest.approx(0.0, abs=1e-6)


def test_the_critic_scores_each_style_with_its_own_head():
    config = MusAEConfig.debug(num_styles=3)
    critic = LatentCritic(config)
    z = torch.randn(5, config.z_dims)
    scores = [critic(z, torch.full((5,), k)) for k in range(3)]
    assert scores[0].shape == (5,)
    assert not torch.allclose(scores[0], scores[1])  # the same code, judged against another style's component
    mixed = critic(z, torch.tensor([0, 1, 2, 0, 1]))
    assert torch.allclose(mixed, torch.stack([scores[k][i] for i, k in enumerate([0, 1, 2, 0, 1])]))


def test_free_bits_hold_each_dimension_of_the_kl_at_a_floor():
    mu, logvar = torch.zeros(4, 6), torch.zeros(4, 6)  # the posterior is the prior: KL 0 in every dimension
    assert torch.allclose(kl_per_dimension(mu, logvar), torch.zeros(6))
    assert free_bits_kl(mu, logvar, 0.25).item() == pytest.approx(6 * 0.25)
    mu[:, 0] = 2.0  # KL 2 nats in dimension 0 (mu^2 / 2), above the floor: it counts in full
    assert kl_per_dimension(mu, logvar)[0].item() == pytest.approx(2.0)
    assert free_bits_kl(mu, logvar, 0.25).item() == pytest.approx(2.0 + 5 * 0.25)
    mu.requires_grad_(True)
    free_bits_kl(mu, logvar, 0.25).backward()
    assert mu.grad[:, 0].abs().sum() > 0  # above the floor: pulled toward the prior
    assert mu.grad[:, 1:].abs().sum() == 0  # below it: no pull


def test_the_model_card_of_musae(tmp_path, fake_style_cache):
    from engine.cli.card import main as card_main

    out = tmp_path / "m"
    assert (
        train_main(
            [
                "musae",
                "--data",
                str(fake_style_cache),
                "--out",
                str(out),
                "--epochs",
                "1",
                "--steps-per-epoch",
                "10",
                "--greedy-sample",
                "8",
                "--debug",
            ]
        )
        == 0
    )
    assert card_main([str(out)]) == 0
    card = (out / "README.md").read_text()
    assert card.startswith("# MusAE") and "| a | 30 | 120 | 1440 |" in card and "Greedy" in card and "| epoch |" in card


def test_a_new_per_track_decoder_on_a_frozen_encoder_keeps_the_codes(tmp_path, fake_style_cache):
    base = tmp_path / "base"
    args = [
        "musae",
        "--data",
        str(fake_style_cache),
        "--out",
        str(base),
        "--epochs",
        "1",
        "--steps-per-epoch",
        "30",
        "--greedy-sample",
        "32",
        "--debug",
        "--lr",
        "0.01",
    ]
    assert train_main(args) == 0
    tuned = tmp_path / "tuned"
    assert (
        train_main(
            [
                "musae",
                "--data",
                str(fake_style_cache),
                "--out",
                str(tuned),
                "--epochs",
                "1",
                "--steps-per-epoch",
                "30",
                "--greedy-sample",
                "32",
                "--lr",
                "0.01",
                "--decoder-from",
                str(base),
            ]
        )
        == 0
    )
    before, _ = load_musae(base)
    after, meta = load_musae(tuned)
    assert not meta["config"]["joint"]
    assert not torch.equal(before.decoders[0].weight_hh_l0, after.decoders[0].weight_hh_l0)  # a new decoder
    windows = torch.randint(0, 128, (5, 4, 32))
    assert torch.equal(before.encode(windows)[0], after.encode(windows)[0])  # the encoder, so the codes, are unchanged
    log = [json.loads(line) for line in (tuned / "train_log.jsonl").read_text().splitlines()]
    assert log[0]["decoder_from"] == str(base) and log[1]["critic_loss"] is None
    assert load_musae(tuned / "last")[1]["training"]["epoch"] == 1


def test_a_joint_decoder_hears_every_track_s_past_and_the_tracks_above_at_the_same_step():
    torch.manual_seed(0)
    model = MusAE(MusAEConfig(**{**MusAEConfig.debug(num_styles=3).to_dict(), "joint": True, "joint_hidden": 24}))
    assert not hasattr(model, "decoders")  # no per-track GRUs beside it
    z, style = torch.randn(2, model.config.z_dims), torch.tensor([0, 1])
    windows = torch.randint(0, 128, (2, 4, 32))
    changed = windows.clone()
    changed[:, 1, 10] = (changed[:, 1, 10] + 5) % 128  # the second track, at step 10 only
    a, b = model.decode_logits(z, style, windows), model.decode_logits(z, style, changed)
    assert torch.equal(a[:, :, :10], b[:, :, :10])  # nothing before the change hears it
    assert torch.equal(a[:, :2, 10], b[:, :2, 10])  # nor the tracks above it (or itself) at that step
    assert not torch.allclose(a[:, 2, 10], b[:, 2, 10]) and not torch.allclose(
        a[:, 3, 10], b[:, 3, 10]
    )  # those below do
    assert not torch.allclose(a[:, 0, 11], b[:, 0, 11])  # and the top track hears it at the next step
    decoded = model.decode(z, style)
    assert decoded.shape == (2, 4, 32) and decoded.max() < 130
    # greedy decoding agrees with teacher forcing on its own output (the same inputs at every step)
    assert torch.equal(model.decode_logits(z, style, decoded).argmax(-1)[:, :, 1:], decoded[:, :, 1:])
    sampled = model.decode(z, style, 1.0, torch.Generator().manual_seed(0))
    assert (sampled[:, :, 0] != HOLD).all()  # a window never opens by holding
    # a nucleus that keeps one token is the greedy choice
    assert torch.equal(model.decode(z, style, 1.0, torch.Generator().manual_seed(0), top_p=1e-6), decoded)


def test_a_joint_decoder_is_trained_on_a_frozen_encoder(tmp_path, fake_style_cache):
    base = tmp_path / "base"
    args = [
        "musae",
        "--data",
        str(fake_style_cache),
        "--out",
        str(base),
        "--epochs",
        "1",
        "--steps-per-epoch",
        "20",
        "--greedy-sample",
        "32",
        "--debug",
        "--lr",
        "0.01",
    ]
    assert train_main(args) == 0
    tuned = tmp_path / "joint"
    assert (
        train_main(
            [
                "musae",
                "--data",
                str(fake_style_cache),
                "--out",
                str(tuned),
                "--epochs",
                "1",
                "--steps-per-epoch",
                "30",
                "--greedy-sample",
                "32",
                "--lr",
                "0.01",
                "--decoder-from",
                str(base),
                "--joint",
            ]
        )
        == 0
    )
    before, _ = load_musae(base)
    after, meta = load_musae(tuned)
    assert meta["config"]["joint"] and not hasattr(after, "decoders")
    windows = torch.randint(0, 128, (5, 4, 32))
    assert torch.equal(before.encode(windows)[0], after.encode(windows)[0])  # the codes are the base model's
    log = [json.loads(line) for line in (tuned / "train_log.jsonl").read_text().splitlines()]
    assert log[0]["joint"] and log[1]["critic_loss"] is None
    assert meta["validation"]["teacher_forced"]["mean"] > 0.2  # the new decoder learnt (a fresh one is near 1/130)
    from engine.cli.card import main as card_main

    assert card_main([str(tuned), "--encoder", str(base)]) == 0
    card = (tuned / "README.md").read_text()
    assert "one GRU (16) for all four tracks" in card and "Two stages" in card
    assert "Its checkpoint: epoch 1 (20 steps" in card and "--decoder-from runs/musae_encoder --joint" in card


def test_decoding_stays_inside_each_style_s_pitch_ranges():
    torch.manual_seed(0)
    ranges = [[[60, 72], [48, 60], None, [36, 48]], [[70, 80], None, None, None]]
    for joint in (False, True):
        config = MusAEConfig(**{**MusAEConfig.debug(num_styles=2).to_dict(), "joint": joint, "pitch_ranges": ranges})
        model = MusAE(config)
        style = torch.tensor([0] * 20 + [1] * 20)
        windows = model.decode(model.prior_sample(style), style, 1.0, torch.Generator().manual_seed(0))
        for s, per_track in enumerate(ranges):
            for t, limits in enumerate(per_track):
                played = windows[style == s, t][windows[style == s, t] < HOLD]
                if limits is None:
                    assert len(played) == 0, (joint, s, t)  # a track that never plays in the style stays silent
                else:
                    assert ((played >= limits[0]) & (played <= limits[1])).all(), (joint, s, t)
        # a blend may use the union of its styles' ranges: track 1 plays only in style 0's 48..60
        blend = torch.tensor([[0.5, 0.5]]).repeat(20, 1)
        played = model.decode(model.prior_sample(torch.zeros(20, dtype=torch.long)), blend, 1.0)[:, 1]
        played = played[played < HOLD]
        assert ((played >= 48) & (played <= 60)).all()
    unmasked = MusAE(MusAEConfig.debug(num_styles=2))
    assert unmasked.ranges is None and "ranges" not in unmasked.state_dict()  # from the config, not the weights


def test_training_records_the_pitch_ranges_and_the_tool_adds_them_to_an_older_checkpoint(tmp_path, fake_style_cache):
    from engine.train.pitch_ranges import main as ranges_main

    out = tmp_path / "m"
    assert (
        train_main(
            [
                "musae",
                "--data",
                str(fake_style_cache),
                "--out",
                str(out),
                "--epochs",
                "1",
                "--steps-per-epoch",
                "5",
                "--greedy-sample",
                "8",
                "--debug",
            ]
        )
        == 0
    )
    model, meta = load_musae(out)
    recorded = meta["config"]["pitch_ranges"]
    assert len(recorded) == 3 and model.ranges is not None
    assert all(limits is None or 0 <= limits[0] <= limits[1] <= 127 for per_track in recorded for limits in per_track)
    config = json.loads((out / "config.json").read_text())
    del config["config"]["pitch_ranges"]  # as a checkpoint from before the trainer recorded them
    (out / "config.json").write_text(json.dumps(config))
    assert load_musae(out)[0].ranges is None
    assert ranges_main([str(out), "--data", str(fake_style_cache)]) == 0
    again = json.loads((out / "config.json").read_text())
    assert again["config"]["pitch_ranges"] == recorded and "pitch_ranges_added" in again["training"]
    assert load_musae(out)[0].ranges is not None
