"""The style GAN (tiny debug models on a synthetic style cache): it trains, logs its sample metrics, saves, resumes
and loads; its windows are valid, vary with the seed and follow the chord and previous-window conditions; the
previous windows are rebuilt from the cache's overlapping windows."""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.cli.train import main as train_main
from engine.models.registry import load_stylegan, save_style_judge
from engine.models.style_critic import StyleCritic
from engine.models.style_gan import StyleGANConfig, StyleGenerator
from engine.models.style_judge import StyleJudge, StyleJudgeConfig
from engine.models.wgan import gradient_penalty
from engine.music import Chord, ChordProgression
from engine.music.constants import HOLD, NUM_PITCH_TOKENS, REST
from engine.music.harmony import progression_beat_chroma, sounding_pitches, window_triad_chroma
from engine.music.multitrack import voice_tokens
from engine.train.stylegan.data import link_windows, piece_context, window_chord_shares


def valid(windows: torch.Tensor) -> bool:
    """Tokens in range, no window opening with HOLD, no HOLD after a rest."""
    w = windows.numpy()
    after_rest = (w[..., 1:] == HOLD) & (w[..., :-1] == REST)
    return bool(w.min() >= 0 and w.max() < NUM_PITCH_TOKENS and not (w[..., 0] == HOLD).any() and not after_rest.any())


def test_training_learns_logs_saves_resumes_and_loads(tmp_path, fake_style_cache):
    judge_dir = tmp_path / "judge"  # an untrained judge: the metric's plumbing, not its value
    save_style_judge(StyleJudge(StyleJudgeConfig.debug(3)), judge_dir, {"styles": ["a", "b", "c"]})
    out = tmp_path / "gan"
    args = [
        "stylegan",
        "--data",
        str(fake_style_cache),
        "--out",
        str(out),
        "--judge",
        str(judge_dir),
        "--epochs",
        "2",
        "--steps-per-epoch",
        "12",
        "--batch-size",
        "16",
        "--critic-steps",
        "2",
        "--eval-samples",
        "12",
        "--lr",
        "0.002",
        "--critic-lr",
        "0.002",
        "--device",
        "cpu",
        "--debug",
    ]
    assert train_main(args) == 0
    assert train_main(args[:8] + ["3"] + args[9:] + ["--resume"]) == 0
    lines = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    starts, rows = [r for r in lines if "run_start" in r], [r for r in lines if "epoch" in r]
    assert [r["run_start"] for r in starts] == [1, 3] and [r["epoch"] for r in rows] == [1, 2, 3]
    assert set(starts[0]["real_metrics"]) == {"a", "b", "c"}
    for row in rows:
        assert all(
            math.isfinite(row[k]) for k in ("critic_loss", "wasserstein", "gp", "ac_real", "generator_loss", "ac_fake")
        )
        assert set(row["judge_accuracy"]) == {"a", "b", "c"} and 0 <= row["judge_balanced"] <= 1
        assert len(row["metrics"]["a"]["empty_bar_rate"]) == 4 and "0-1" in row["metrics"]["a"]["tonal_distance"]
        assert set(row["chord_tone_share"]) == {"with_chords", "without_chords", "real"}
        assert row["diversity"]["b"]["unique_share"] > 0.5  # no mode collapse: the windows of one style differ
    assert rows[-1]["ac_real"] < rows[0]["ac_real"]  # the critic learns to tell the styles apart
    generator, meta = load_stylegan(out)
    assert (
        meta["styles"] == ["a", "b", "c"]
        and meta["config"]["num_styles"] == 3
        and "judge_accuracy" in meta["evaluation"]
    )
    last, last_meta = load_stylegan(out / "last")
    assert last_meta["training"]["epoch"] == 3
    # The chord skip learns at its own rate (--chord-skip-lr 0.01): 36 steps at 0.002 could move it 0.07 at most.
    assert (last.chord_skip.gain - 1.0).abs().max() > 0.1
    style = torch.tensor([0, 1, 2, 1])
    first = last.generate(style, generator=torch.Generator().manual_seed(1))
    again = last.generate(style, generator=torch.Generator().manual_seed(1))
    other = last.generate(style, generator=torch.Generator().manual_seed(2))
    assert valid(first) and torch.equal(first, again) and not torch.equal(first, other)


def test_generated_windows_are_valid_and_chain():
    torch.manual_seed(0)
    model = StyleGenerator(StyleGANConfig.debug(num_styles=4))
    style = torch.tensor([0, 1, 2, 3, 0, 1])
    greedy = model.generate(style)
    assert greedy.shape == (6, 4, 32) and greedy.dtype == torch.long and valid(greedy)
    sampled = model.generate(style, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert valid(sampled) and not torch.equal(sampled, greedy)
    blend = model.generate(torch.tensor([[0.5, 0.5, 0.0, 0.0]]))  # style weights (a blend) work too
    assert blend.shape == (1, 4, 32)
    chords = torch.zeros(2, 4, 8, 12)
    chords[:, :, :, [0, 4, 7]] = 1
    piece = model.generate_chain(style[:2], 4, chords, generator=torch.Generator().manual_seed(0))
    assert piece.shape == (2, 4, 128) and valid(piece.reshape(2, 4, 4, 32).transpose(1, 2))
    logits = model(model.sample_noise(2), style[:2])
    assert (logits[:, :, 0].argmax(-1) != HOLD).all() and (logits[:, :, 0, HOLD] < -1e3).all()


def test_the_critic_has_a_style_head_and_a_penalised_score():
    config = StyleGANConfig.debug(num_styles=5)
    generator, critic = StyleGenerator(config), StyleCritic(config)
    style = torch.tensor([0, 4, 2])
    chords = torch.zeros(3, 8, 12)
    chords[0, :, [2, 6, 9]] = 1
    previous = torch.randint(0, NUM_PITCH_TOKENS, (3, 4, 32))
    logits = generator(generator.sample_noise(3), style, chords, previous)
    fake = generator.relaxed(logits)
    assert torch.equal(fake.sum(-1), torch.ones(3, 4, 32)) and set(fake.unique().tolist()) <= {0.0, 1.0}  # hard one-hot
    score, style_logits = critic(fake, chords, previous)
    assert score.shape == (3,) and style_logits.shape == (3, 5)
    score.sum().backward()  # straight-through: the hard samples still pass gradients to the generator
    assert generator.start.weight.grad.abs().sum() > 0
    real = F.one_hot(torch.randint(0, NUM_PITCH_TOKENS, (3, 4, 32)), NUM_PITCH_TOKENS).float()
    penalty = gradient_penalty(lambda x: critic(x, chords, previous)[0], real, fake.detach())
    assert penalty.item() >= 0 and math.isfinite(penalty.item())


def test_chord_and_previous_window_conditions_change_the_output():
    torch.manual_seed(0)
    model = StyleGenerator(StyleGANConfig.debug(num_styles=3))
    noise, style = model.sample_noise(2), torch.tensor([0, 1])
    plain = model(noise, style)
    chords = torch.zeros(2, 8, 12)
    chords[:, :4, [0, 4, 7]] = 1
    chords[:, 4:, [7, 11, 2]] = 1
    previous = torch.randint(0, 128, (2, 4, 32))
    assert not torch.allclose(model(noise, style, chords=chords), plain)
    assert not torch.allclose(model(noise, style, previous=previous), plain)
    # "None" is exact: zero chords and an all-REST previous window are the same as giving neither.
    assert torch.allclose(model(noise, style, torch.zeros(2, 8, 12), torch.full((2, 4, 32), REST)), plain)
    critic = StyleCritic(model.config)
    onehot = model.relaxed(plain)
    assert not torch.allclose(critic(onehot, chords)[0], critic(onehot)[0])
    assert not torch.allclose(critic(onehot, previous=previous)[0], critic(onehot)[0])
    assert torch.allclose(
        critic(onehot, previous=previous)[1], critic(onehot)[1]
    )  # the style head reads the window only


def _piece(rng, length):
    """Four random voices of ``length`` steps, notes of 1..20 steps (many cross window starts) with some rests."""
    tracks = []
    for t in range(4):
        notes, step = [], 0
        while step < length:
            size = int(rng.integers(1, 21))
            if rng.random() < 0.85:
                notes.append((step, step + size, int(rng.integers(40, 90)) - 6 * t))
            step += size
        tracks.append(voice_tokens(notes, length))
    return np.stack(tracks)


def _expected(full, start, chain_start):
    """The 32 steps of ``full`` from ``start``, a note held in re-struck at step 0 where its pitch is known from the
    windows since ``chain_start`` (the first of a chain of overlapping windows), else its held steps as rests."""
    window = full[:, start : start + 32].copy()
    pitches = sounding_pitches(full[:, chain_start:])[:, start - chain_start]
    known = (window[:, 0] == HOLD) & (pitches >= 0)
    window[known, 0] = pitches[known]
    window[np.cumprod(window == HOLD, axis=1).astype(bool)] = REST
    return window


def test_previous_windows_are_rebuilt_from_overlapping_windows():
    rng = np.random.default_rng(0)
    pieces = [(_piece(rng, 16 * 8 + 32), 16), (_piece(rng, 12 * 10 + 32), 12), (_piece(rng, 8 * 12 + 32), 8)]
    windows, piece, starts = [], [], []
    for index, (full, hop) in enumerate(pieces):
        for start in range(0, full.shape[1] - 31, hop):
            if index == 0 and start == 64:
                continue  # a window left out (too few notes, say): the chain breaks there
            windows.append(full[:, start : start + 32])
            piece.append(index)
            starts.append(start)
    windows, piece = np.stack(windows), np.array(piece)
    hop = link_windows(windows, piece)
    current, previous, has = piece_context(windows, piece)
    for i, (p, start) in enumerate(zip(piece, starts)):
        full = pieces[p][0]
        # The piece's first windows have no previous window; in piece 0 nor do the two after the missing window.
        chain_start = 80 if p == 0 and start >= 80 else 0
        assert np.array_equal(current[i], _expected(full, start, chain_start)), i
        assert has[i] == (start - chain_start >= 32), (i, start)
        if has[i]:
            assert np.array_equal(previous[i], _expected(full, start - 32, chain_start)), i
        else:
            assert (previous[i] == REST).all()
    assert not (current[:, :, 0] == HOLD).any()
    held_in = windows[:, :, 0] == HOLD
    assert (held_in & (current[:, :, 0] < HOLD)).sum() > 5 and (
        held_in & (current[:, :, 0] == REST)
    ).any()  # both cases met
    assert set(hop.tolist()) == {0, 16, 12, 8}


def test_the_chord_condition_of_real_windows_and_of_a_progression():
    w = np.full((1, 4, 32), REST)
    w[0, 0] = [72] + [HOLD] * 31
    w[0, 1] = [67] + [HOLD] * 31
    w[0, 2] = [64] + [HOLD] * 31
    w[0, 3, :4] = [50, 48, HOLD, HOLD]  # a passing sixteenth (D) on beat 1, then C
    w[0, 0, 16:] = [74] + [HOLD] * 15  # bar 2: G major (D, B, G, G)
    w[0, 1, 16:] = [71] + [HOLD] * 15
    w[0, 2, 16:] = [67] + [HOLD] * 15
    w[0, 3, 16:] = [43] + [HOLD] * 15
    chroma = window_triad_chroma(w)
    assert chroma.shape == (1, 8, 12)
    assert np.flatnonzero(chroma[0, 0]).tolist() == [0, 4, 7]  # C E G with a passing D: C major
    assert (chroma[0, :4, [0, 4, 7]] == 1).all() and chroma[0, :4].sum() == 4 * 3
    assert (chroma[0, 4:, [2, 7, 11]] == 1).all() and chroma[0, 4:].sum() == 4 * 3  # G B D: G major
    minor = np.full((1, 4, 32), REST)
    minor[0, :3, :8] = [[69] + [HOLD] * 7, [64] + [HOLD] * 7, [60] + [HOLD] * 7]  # A E C: A minor, then silence
    chroma = window_triad_chroma(minor)
    assert np.flatnonzero(chroma[0, 0]).tolist() == [0, 4, 9] and chroma[0, 2:].sum() == 0  # silent beats: no chord
    # In key: a half bar of E G# B in a window otherwise in C major fits E major, or among C major's triads E minor.
    keyed = np.full((1, 4, 32), REST)
    keyed[0, :3, :24] = [[72] + [HOLD] * 23, [67] + [HOLD] * 23, [64] + [HOLD] * 23]
    keyed[0, :3, 24:] = [[71] + [HOLD] * 7, [68] + [HOLD] * 7, [64] + [HOLD] * 7]
    assert np.flatnonzero(window_triad_chroma(keyed)[0, 7]).tolist() == [4, 8, 11]  # E major
    assert np.flatnonzero(window_triad_chroma(keyed, in_key=True)[0, 7]).tolist() == [4, 7, 11]  # E minor
    assert np.flatnonzero(window_triad_chroma(keyed, in_key=True)[0, 0]).tolist() == [0, 4, 7]  # C major stays
    shares = window_chord_shares(w, window_triad_chroma(w))
    assert shares[0] == pytest.approx(8 / 9)  # 9 onsets, the D not in C major
    assert np.isnan(window_chord_shares(w, np.zeros((1, 8, 12), np.float32))[0])  # no chords: no share
    per_track = window_chord_shares(w, window_triad_chroma(w), per_track=True)
    assert per_track.shape == (1, 4) and per_track[0].tolist() == pytest.approx(
        [1.0, 1.0, 1.0, 2 / 3]
    )  # the D: the bass
    progression = ChordProgression(
        [Chord("C", 0, 16, (0, 4, 7), 0), Chord("G", 16, 32, (2, 7, 11), 7), Chord("Am", 32, 64, (0, 4, 9), 9)]
    )
    beats = progression_beat_chroma(progression, 2)
    assert beats.shape == (2, 8, 12)
    assert np.flatnonzero(beats[0, 0]).tolist() == [0, 4, 7] and np.flatnonzero(beats[0, 7]).tolist() == [2, 7, 11]
    assert np.flatnonzero(beats[1, 5]).tolist() == [0, 4, 9]


@pytest.mark.parametrize("field", ["gen_widths", "critic_widths"])
def test_the_config_round_trips_through_json(field):
    config = StyleGANConfig.debug(num_styles=6)
    again = StyleGANConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and isinstance(getattr(again, field), tuple)


def test_the_model_card_of_the_style_gan(tmp_path, fake_style_cache):
    from engine.cli.card import main as card_main
    from engine.eval.suites.style import evaluate_style

    judge_dir = tmp_path / "judge"
    save_style_judge(StyleJudge(StyleJudgeConfig.debug(3)), judge_dir, {"styles": ["a", "b", "c"]})
    out = tmp_path / "gan"
    assert (
        train_main(
            [
                "stylegan",
                "--data",
                str(fake_style_cache),
                "--out",
                str(out),
                "--judge",
                str(judge_dir),
                "--epochs",
                "1",
                "--steps-per-epoch",
                "3",
                "--batch-size",
                "8",
                "--critic-steps",
                "1",
                "--eval-samples",
                "6",
                "--device",
                "cpu",
                "--debug",
                "--scale-weight",
                "0",
                "--step-weight",
                "0",
            ]
        )
        == 0
    )
    assert card_main([str(out)]) == 0
    card = (out / "README.md").read_text()
    assert card.startswith("# Style GAN") and "| a | 30 | 120 | 1440 |" in card and "| epoch |" in card
    assert "each track's against the real track's" in card and "scale-share loss" not in card and "stepwise" not in card
    # A resumed run under a new recipe (the scale-share and stepwise-motion losses, the best chosen afresh) says so.
    assert (
        train_main(
            [
                "stylegan",
                "--data",
                str(fake_style_cache),
                "--out",
                str(out),
                "--judge",
                str(judge_dir),
                "--epochs",
                "2",
                "--steps-per-epoch",
                "2",
                "--batch-size",
                "8",
                "--critic-steps",
                "1",
                "--eval-samples",
                "6",
                "--device",
                "cpu",
                "--debug",
                "--resume",
                "--restart-best",
                "--scale-weight",
                "2",
                "--step-weight",
                "3",
            ]
        )
        == 0
    )
    assert card_main([str(out)]) == 0
    card = (out / "README.md").read_text()
    assert "2.0 x the scale-share loss" in card and "tonal distance / 4" in card
    assert "3.0 x the stepwise-motion loss (each track's expected shares of repeated pitches and of steps" in card
    assert "step weight 3.0 (repeats and steps apart)" in card
    assert "among the epochs from 2 on" in card and "the best epoch chosen afresh" in card
    meta = json.loads((out / "config.json").read_text())
    assert f"epoch {meta['training']['epoch']}" in card and f"score {meta['evaluation']['score']}" in card
    # A checkpoint that is not the trainer's best by score (chosen otherwise, say the last epoch) says which was.
    rows = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    for row in rows:
        if row.get("epoch") is not None and "run_start" not in row:
            row["score"] = 0.9 if row["epoch"] == 1 else 0.1
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    last_meta = json.loads((out / "last" / "config.json").read_text())
    last_meta["training"]["best_since"] = 1
    (out / "last" / "config.json").write_text(json.dumps(last_meta))
    assert card_main([str(out / "last"), "--log", str(log)]) == 0
    last_card = (out / "last" / "README.md").read_text()
    assert "not the trainer's best by score (epoch 1, score 0.9)" in last_card and "`last/`" not in last_card
    # With the evaluation JSON: its tables (real / GAN per style and metric), and every figure in evaluation.json.
    evaluation = evaluate_style(str(fake_style_cache), str(judge_dir), samples=4, recon_windows=8, gan_dir=str(out))
    (tmp_path / "style.json").write_text(json.dumps(evaluation))
    assert card_main([str(out), "--eval", str(tmp_path / "style.json")]) == 0
    card = (out / "README.md").read_text()
    assert "| style | empty bar rate | used pitch classes |" in card and "Each cell: real / gan." in card
    assert "| style | judge on real | GAN | GAN checked |" in card
    assert json.loads((out / "evaluation.json").read_text()) == json.loads((tmp_path / "style.json").read_text())
    # The share within 25% of the held-out figures, beside other held-out windows' and the training windows' own.
    within = evaluation["musegan_metrics"]["within_25_percent_share"]
    assert f"training windows, scored the same way: {within['real_training']}" in card
    loose = evaluation["musegan_metrics"][
        "within_25_percent_of_interval_share"
    ]  # ... and of the real figures' intervals
    assert f"of some value in that interval: gan {loose['gan']}" in card
    assert f"training windows {loose['real_training']}." in card


def test_the_chord_share_loss_asks_for_the_real_windows_share_of_chord_tones():
    from engine.train.stylegan.losses import chord_share_loss

    chords = torch.zeros(2, 8, 12)
    chords[:, :, [0, 4, 7]] = 1.0  # C major on every beat
    logits = torch.full((2, 4, 32, 130), -30.0)
    logits[..., ::2, 60] = 30.0  # even steps strike C (a chord tone) ...
    logits[..., 1::2, 62] = 30.0  # ... odd steps D (not one): half the onsets on chord tones
    assert chord_share_loss(logits, chords, torch.tensor([0.5, 0.5])).item() < 1e-6
    assert chord_share_loss(logits, chords, torch.tensor([1.0, 1.0])).item() == pytest.approx(0.25, abs=1e-4)
    nothing = torch.zeros(2, 8, 12)
    assert chord_share_loss(logits, nothing, torch.tensor([1.0, 1.0])).item() == 0.0  # no chords, no loss
    assert chord_share_loss(logits, chords, torch.tensor([float("nan")] * 2)).item() == 0.0  # no real share, no loss
    soft = torch.randn(2, 4, 32, 130, requires_grad=True)
    chord_share_loss(soft, torch.stack([chords[0], nothing[0]]), torch.tensor([0.9, 0.9])).backward()
    assert soft.grad[1].abs().sum() == 0 and soft.grad[0].abs().sum() > 0  # only windows with chords are pushed


def test_the_chord_share_loss_per_track_asks_each_track_for_its_own_share():
    from engine.train.stylegan.losses import chord_share_loss

    chords = torch.zeros(1, 8, 12)
    chords[:, :, [0, 4, 7]] = 1.0  # C major
    logits = torch.full((1, 4, 32, 130), -30.0)
    logits[:, :2, :, 60] = 30.0  # the upper two tracks strike only C (share 1) ...
    logits[:, 2:, :, 62] = 30.0  # ... the lower two only D (share 0): 0.5 over all tracks
    assert chord_share_loss(logits, chords, torch.tensor([0.5])).item() < 1e-6  # the window's share is met
    per_track = torch.tensor([[0.5, 0.5, 0.5, 0.5]])
    assert chord_share_loss(logits, chords, per_track).item() == pytest.approx(0.25, abs=1e-4)  # no track's is
    assert chord_share_loss(logits, chords, torch.tensor([[1.0, 1.0, 0.0, 0.0]])).item() < 1e-6
    # A track with no real onsets on chord steps (NaN) asks for nothing.
    assert chord_share_loss(logits, chords, torch.tensor([[1.0, float("nan"), 0.0, float("nan")]])).item() < 1e-6
    soft = torch.randn(1, 4, 32, 130, requires_grad=True)
    chord_share_loss(soft, chords, torch.tensor([[0.9, float("nan"), 0.9, 0.9]])).backward()
    assert soft.grad[0, 1].abs().sum() == 0 and soft.grad[0, 0].abs().sum() > 0


def test_the_chord_skip_raises_only_the_chord_tones_of_each_beat():
    from engine.models.style_gan import ChordSkip

    skip = ChordSkip(tracks=4, gain=2.0)
    chords = torch.zeros(2, 8, 12)
    chords[0, :4, [0, 4, 7]] = 1.0  # C major for beats 1-4 of window 0
    chords[0, 4:, [7, 11, 2]] = 1.0  # G major for beats 5-8; window 1 has no chords
    bias = skip(chords)
    assert bias.shape == (2, 4, 32, NUM_PITCH_TOKENS)
    assert bias[0, :, 0, 60].eq(2.0).all() and bias[0, :, 0, 64].eq(2.0).all() and bias[0, :, 0, 62].eq(0.0).all()
    assert bias[0, :, 16, 62].eq(2.0).all() and bias[0, :, 16, 60].eq(0.0).all()  # step 16 = beat 5: G major
    assert bias[0, :, :, HOLD:].abs().sum() == 0 and bias[1].abs().sum() == 0  # holds, rests, no chords: no bias
    # In the generator it is the only path whose gradient is the onsets' chord-tone mass: it is trained.
    model = StyleGenerator(StyleGANConfig.debug(num_styles=3))
    logits = model(model.sample_noise(2), torch.tensor([0, 1]), chords)
    logits[0, :, :, 60].sum().backward()
    assert model.chord_skip.gain.grad.abs().sum() > 0
    assert [name for name, _ in model.named_parameters()][-1] == "chord_skip.gain"  # older checkpoints' order holds


def test_nucleus_sampling_keeps_the_most_likely_tokens_that_make_up_top_p():
    from engine.models.sampling import MASK, nucleus

    logits = torch.log(torch.tensor([[0.05, 0.5, 0.3, 0.1, 0.05]]))
    kept = nucleus(logits, 0.75) > MASK / 2
    assert kept.tolist() == [[False, True, True, False, False]]  # 0.5 + 0.3 reach 0.75
    assert (nucleus(logits, 0.1) > MASK / 2).tolist() == [
        [False, True, False, False, False]
    ]  # the top one always stays
    assert (nucleus(logits, 1.0) > MASK / 2).all()
    model = StyleGenerator(StyleGANConfig.debug(num_styles=3))
    style = torch.tensor([0, 1, 2])
    noise = model.sample_noise(3, torch.Generator().manual_seed(0))
    narrow = model.generate(style, temperature=1.0, generator=torch.Generator().manual_seed(1), noise=noise, top_p=1e-6)
    assert torch.equal(narrow, model.generate(style, noise=noise))  # a nucleus of one token is the argmax


def test_a_window_without_chords_is_harmonised_over_the_triads_of_its_own_sketchs_key():
    torch.manual_seed(0)
    model = StyleGenerator(StyleGANConfig.debug(num_styles=3))
    with torch.no_grad():
        model.chord_skip.gain.fill_(3.0)  # an untrained model: make the chords matter
    style = torch.tensor([0, 1, 2])
    noise = model.sample_noise(3, torch.Generator().manual_seed(0))
    sketch = model.generate(style, noise=noise, harmonise=False)
    triads = torch.as_tensor(window_triad_chroma(sketch.numpy(), in_key=True))  # the triads of the sketch's key
    expected = model.generate(style, triads, noise=noise, harmonise=False)
    assert not torch.equal(sketch, expected)
    silent = (sketch == REST).all(dim=2, keepdim=True)
    expected = expected.masked_fill(silent, REST)  # a track silent in the sketch stays silent
    assert torch.equal(model.generate(style, noise=noise), expected)  # the default: sketch, fit, draw again
    given = torch.zeros(3, 8, 12)
    given[0, :, [0, 4, 7]] = 1.0  # window 0 has chords: they stay; windows 1 and 2 get their sketch's
    mixed = model.generate(style, given, noise=noise)
    assert torch.equal(mixed[0], model.generate(style, given, noise=noise, harmonise=False)[0])
    assert torch.equal(mixed[1:], expected[1:])


def test_a_track_silent_in_the_sketch_stays_silent_when_harmonised():
    torch.manual_seed(0)
    model = StyleGenerator(StyleGANConfig.debug(num_styles=3))
    with torch.no_grad():
        model.out.bias[3 * NUM_PITCH_TOKENS + REST] = 4.0  # the bass rests unless the chords lift a pitch
        model.chord_skip.gain.fill_(8.0)  # ... which they would
    style, noise = torch.tensor([0, 1]), model.sample_noise(2, torch.Generator().manual_seed(0))
    sketch = model.generate(style, noise=noise, harmonise=False)
    assert (sketch[:, 3] == REST).all()
    over_triads = model.generate(
        style, torch.as_tensor(window_triad_chroma(sketch.numpy())), noise=noise, harmonise=False
    )
    assert (over_triads[:, 3] != REST).any()  # over the chords alone it would play
    assert (model.generate(style, noise=noise)[:, 3] == REST).all()


def test_generation_keeps_each_track_in_its_styles_range():
    from engine.data.style import pitch_ranges

    windows = np.full((3, 4, 32), REST)
    windows[0, 0, 0], windows[0, 0, 8], windows[0, 3, 0] = 60, 72, 40  # style 0: top voice 60..72, bass 40
    windows[1, 0, 0] = 80  # style 1: the top voice alone
    windows[2, 0, 0] = 81
    ranges = pitch_ranges(windows, np.array([0, 1, 1]), 2, -5, 6)
    assert ranges[0] == [[55, 78], None, None, [35, 46]] and ranges[1] == [[75, 87], None, None, None]
    config = StyleGANConfig(**{**StyleGANConfig.debug(num_styles=2).to_dict(), "pitch_ranges": ranges})
    model = StyleGenerator(config)
    with torch.no_grad():
        model.out.bias.zero_()
        model.out.bias[torch.arange(4) * NUM_PITCH_TOKENS + 120] = 50.0  # every track wants MIDI 120
    out = model.generate(torch.tensor([0, 1, 0]), temperature=1.0, generator=torch.Generator().manual_seed(0))
    pitches = out[out < HOLD]
    assert len(pitches) and pitches.max() <= 87  # 120 is outside every range
    assert (out[0, 0][out[0, 0] < HOLD] >= 55).all() and (out[0, 0][out[0, 0] < HOLD] <= 78).all()
    assert (out[:, 1:3] >= HOLD).all() and (out[1, 3] >= HOLD).all()  # tracks that never play in the style stay silent
    blend = model.generate(torch.tensor([[0.5, 0.5]]), temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert (blend[0, 0][blend[0, 0] < HOLD] >= 55).all()  # a blend keeps to the union of its styles' ranges
    unlimited = StyleGenerator(StyleGANConfig.debug(num_styles=2))
    assert unlimited.ranges is None and "ranges" not in unlimited.state_dict() and "ranges" not in model.state_dict()


def test_the_metric_gap_counts_tonal_distance_between_tracks():
    from engine.train.stylegan.report import metric_gap

    real = {
        "a": {
            "empty_bar_rate": [0.0],
            "qualified_note_rate": [1.0],
            "used_pitch_classes": [3.0],
            "tonal_distance": {"0-1": 1.2, "0-2": None},
        }
    }
    same = {"a": {**real["a"], "tonal_distance": {"0-1": 1.2, "0-2": 0.5}}}  # undefined in the real ones: not counted
    assert metric_gap(same, real) == 0.0
    far = {"a": {**real["a"], "tonal_distance": {"0-1": 2.0, "0-2": 0.5}}}
    assert metric_gap(far, real) == pytest.approx(0.8 / 4 / 4)  # one of four figures off by 0.8, scaled by 1/4


def test_the_scale_share_loss_asks_the_voices_to_keep_to_one_diatonic_scale():
    from engine.train.stylegan.losses import scale_share_loss

    windows = torch.full((1, 4, 32), HOLD)
    windows[:, :, ::4] = torch.tensor([60, 62, 64, 65, 67, 69, 71, 72])  # C major, every track: share 1
    diatonic = torch.full((1, 4, 32, 130), -30.0)
    diatonic[:, :, ::4, 62] = 30.0  # D, E ... in any one scale: share 1 as well
    diatonic[:, :, 1::4, 64] = 30.0
    diatonic[:, :, 2::4, HOLD] = diatonic[:, :, 3::4, HOLD] = 30.0
    assert scale_share_loss(diatonic, windows).item() < 1e-6
    chromatic = torch.full((1, 4, 32, 130), -30.0)
    for step in range(32):
        chromatic[:, :, step, 60 + step % 12] = 30.0  # every pitch class: at best 7 of 12 in a scale (more or less)
    loss = scale_share_loss(chromatic, windows).item()
    assert loss == pytest.approx((1 - 19 / 32) ** 2, abs=1e-3)  # at best 19 of the 32 onsets in one scale (C major)
    # Transposed to another key, the same melody is just as good: no key is imposed.
    shifted = torch.full((1, 4, 32, 130), -30.0)
    shifted[:, :, ::4, 63] = 30.0
    shifted[:, :, 1::4, 65] = 30.0
    shifted[:, :, 2::4, HOLD] = shifted[:, :, 3::4, HOLD] = 30.0
    assert scale_share_loss(shifted, windows).item() < 1e-6
    soft = torch.randn(1, 4, 32, 130, requires_grad=True)
    scale_share_loss(soft, windows).backward()
    assert soft.grad.abs().sum() > 0


def test_the_scale_share_loss_moves_pitches_not_whether_a_step_strikes():
    from engine.train.stylegan.losses import scale_share_loss

    windows = torch.full((1, 4, 32), HOLD)
    windows[:, :, ::4] = torch.tensor([60, 62, 64, 65, 67, 69, 71, 72])
    logits = torch.randn(1, 4, 32, 130, requires_grad=True)
    scale_share_loss(logits, windows).backward()
    # Raising every pitch token's logit by the same amount (more onsets, the same pitches) does not change the loss.
    assert logits.grad[..., :HOLD].sum(-1).abs().max() < 1e-6
    assert logits.grad[..., HOLD:].abs().max() < 1e-6


def test_the_stepwise_loss_scores_repeats_and_steps_between_consecutive_onsets_and_moves_pitches_only():
    from engine.train.stylegan.losses import stepwise_loss, stepwise_shares

    w = torch.full((1, 4, 32), REST)
    w[0, 0, ::4] = torch.tensor([60, 62, 62, 64, 65, 72, 71, 69])  # intervals 2 0 2 1 7 1 2: 1 repeat, 5 steps of 7
    w[0, 0, 1::4] = HOLD
    w[0, 1, ::8] = torch.tensor([60, 72, 60, 72])  # octaves: neither
    onehot = torch.log(torch.nn.functional.one_hot(w, NUM_PITCH_TOKENS).float().clamp_min(1e-9))
    shares = stepwise_shares(onehot)  # (1, 4, 2): [repeat, step] per track
    assert shares[0, 0].tolist() == pytest.approx([1 / 7, 5 / 7], abs=1e-4)
    assert shares[0, 1].tolist() == pytest.approx([0.0, 0.0], abs=1e-4) and torch.isnan(shares[0, 2:]).all()
    assert stepwise_loss(onehot * 1.0, w).item() < 1e-6  # the real window itself
    # A line of repeated notes has as many intervals of 2 semitones or less as the real one, but is not let off (the
    # loss is the mean over the two tracks that have intervals; the octaves' track matches).
    repeated = w.clone()
    repeated[0, 0, ::4] = 60
    assert stepwise_loss(
        torch.log(torch.nn.functional.one_hot(repeated, NUM_PITCH_TOKENS).float().clamp_min(1e-9)), w
    ).item() == pytest.approx(((1 - 1 / 7) ** 2 + (5 / 7) ** 2) / 2, abs=1e-3)
    soft = torch.randn(1, 4, 32, NUM_PITCH_TOKENS, requires_grad=True)
    stepwise_loss(soft, w).backward()
    assert soft.grad[..., :HOLD].abs().sum() > 0
    assert soft.grad[..., HOLD:].abs().max() < 1e-9  # whether a step strikes, holds or rests is left alone


def test_the_rest_gate_rests_whole_bars_when_sampled_and_in_the_relaxation():
    from engine.models.style_gan import rest_bars

    config = StyleGANConfig.from_dict({**StyleGANConfig.debug(num_styles=3).to_dict(), "bar_gate": True})
    model = StyleGenerator(config)
    noise, style = model.sample_noise(6), torch.tensor([0, 1, 2, 0, 1, 2])
    logits, gate = model.forward_with_gate(noise, style)
    assert gate.shape == (6, 4, 2) and torch.sigmoid(gate).max() < 0.01  # it starts nearly shut
    assert StyleGenerator(StyleGANConfig.debug(3)).forward_with_gate(noise, style)[1] is None  # no gate: as before
    # The relaxation: with the same Gumbel draws, a shut gate changes nothing, an open one rests every bar.
    torch.manual_seed(1)
    plain = model.relaxed(logits)
    torch.manual_seed(1)
    assert torch.equal(model.relaxed(logits, gate=torch.full_like(gate, -30.0)), plain)
    assert (model.relaxed(logits, gate=torch.full_like(gate, 30.0)).argmax(-1) == REST).all()
    # rest_bars: bar 1 of track 0 rests, and the HOLD that opened bar 2 (of a note struck in bar 1) becomes a REST.
    tokens = torch.full((1, 4, 32), 60)
    tokens[0, 0, 16] = HOLD
    rests = torch.zeros(1, 4, 2)
    rests[0, 0, 0] = 1.0
    out = rest_bars(F.one_hot(tokens, NUM_PITCH_TOKENS).float(), rests).argmax(-1)
    assert (out[0, 0, :17] == REST).all() and (out[0, 0, 17:] == 60).all() and (out[0, 1:] == 60).all()
    # Sampling: a gate open for track 1's second bar alone rests that bar in every window, and nothing else.
    with torch.no_grad():
        model.bar_gate.bias.copy_(torch.tensor([-30.0, -30.0, -30.0, -30.0]))
        model.bar_gate.weight.zero_()
        shut = model.generate(style, temperature=1.0, generator=torch.Generator().manual_seed(3), harmonise=False)
        model.bar_gate.bias[1] = 30.0
        opened = model.generate(style, temperature=1.0, generator=torch.Generator().manual_seed(3), harmonise=False)
    assert valid(opened) and (opened[:, 1] == REST).all() and torch.equal(opened[:, [0, 2, 3]], shut[:, [0, 2, 3]])
    # Sampled, a bar rests where the gate gives it over even odds, not with the gate's chance: 0.3 never, 0.7 always.
    with torch.no_grad():
        model.bar_gate.bias[1] = math.log(0.3 / 0.7)
        model.bar_gate.bias[2] = math.log(0.7 / 0.3)
        drawn = model.generate(style, temperature=1.0, generator=torch.Generator().manual_seed(4), harmonise=False)
    assert (drawn[:, 2] == REST).all() and (drawn[:, 1] != REST).any(dim=1).all()


def test_the_rest_rate_loss_matches_each_styles_share_of_resting_bars_and_moves_the_gate_only():
    from engine.train.stylegan.losses import rest_rate_loss

    windows = torch.full((4, 4, 32), 60)
    windows[:2, 3, :16] = REST  # style 0: the bass rests in half its bars; style 1 never rests
    styles = torch.tensor([0, 0, 1, 1])
    logits = torch.full((4, 4, 32, NUM_PITCH_TOKENS), -20.0)
    logits[..., 60] = 20.0  # the steps never rest by themselves
    logits.requires_grad_(True)
    gate = torch.full((4, 4, 2), -20.0)
    gate[:2, 3] = 0.0  # style 0's bass: a bar rests with chance 1/2, as in the real windows
    gate.requires_grad_(True)
    assert rest_rate_loss(logits, gate, windows, styles).item() < 1e-3  # (shares are kept 1e-4 from 0 and 1)
    wrong = torch.full((4, 4, 2), -20.0, requires_grad=True)  # a gate that never rests
    loss = rest_rate_loss(logits, wrong, windows, styles)
    assert loss.item() > 0.1
    loss.backward()
    assert (
        wrong.grad[:2, 3].sum() < 0 and wrong.grad[2:].abs().max() < 1e-6
    )  # open style 0's bass gate; leave style 1's
    assert logits.grad is None or logits.grad.abs().max() == 0  # the steps' own chance of resting is held fixed


def test_a_run_resumed_with_the_rest_gate_adds_it_and_keeps_the_rest(tmp_path, fake_style_cache):
    out = tmp_path / "gan"
    common = [
        "stylegan",
        "--data",
        str(fake_style_cache),
        "--out",
        str(out),
        "--steps-per-epoch",
        "2",
        "--batch-size",
        "8",
        "--critic-steps",
        "1",
        "--eval-samples",
        "4",
        "--device",
        "cpu",
        "--debug",
    ]
    assert train_main([*common, "--epochs", "1"]) == 0
    before, _ = load_stylegan(out / "last")
    assert before.bar_gate is None
    assert train_main([*common, "--epochs", "2", "--resume", "--restart-best", "--bar-gate", "--rest-weight", "2"]) == 0
    after, meta = load_stylegan(out / "last")
    assert after.bar_gate is not None and meta["config"]["bar_gate"] and meta["training"]["rest_weight"] == 2.0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert (
        log[-1]["epoch"] == 2
        and "rest_loss" in log[-1]
        and [r["bar_gate"] for r in log if "run_start" in r] == [False, True]
    )
    state = torch.load(out / "train_state.pt", weights_only=True)
    groups = state["generator_optimizer"]["param_groups"]
    assert [g["lr"] for g in groups] == [1e-4, 1e-2, 5e-3]  # body, chord skip, rest gate (its own rate)
    from engine.cli.card import main as card_main

    assert card_main([str(out)]) == 0
    card = (out / "README.md").read_text()
    assert "A rest gate reads each track's private features" in card and "2.0 x the rest-rate loss" in card
    from engine.pipelines.style_gan import StyleGANGenerationConfig

    shipped = StyleGANGenerationConfig.load(out)
    assert f"lowered by {shipped.repeat_penalty} (the repeat penalty)" in card
    assert f"by {shipped.leap_penalty} per semitone" in card
    assert f"chord at that step by {shipped.key_penalty} (the key penalty)" in card
    assert "rest gate (rest weight 2.0)" in card
    assert train_main([*common, "--epochs", "3", "--resume", "--bar-gate"]) == 0  # and a gated state resumes as it is


def test_the_repeat_penalty_draws_steps_in_order_and_steers_off_the_pitch_just_struck():
    from engine.models.sampling import nucleus
    from engine.models.style_gan_sampling import clean_tokens, draw_in_order, last_onsets

    model = StyleGenerator(StyleGANConfig.debug(num_styles=3))
    with torch.no_grad():  # every step of every track: C4 most likely, then D4, HOLD and REST far below
        model.out.weight.zero_()
        bias = torch.full((NUM_PITCH_TOKENS,), -50.0)
        bias[60], bias[62] = 5.0, 4.0
        model.out.bias.copy_(bias.repeat(4))
    style = torch.tensor([0, 1])
    plain = model.generate(style, temperature=0.0, harmonise=False, repeat_penalty=0.0)
    assert (plain == 60).all()  # struck again at every step
    steered = model.generate(style, temperature=0.0, harmonise=False, repeat_penalty=2.0)
    assert (steered[..., 0::2] == 60).all() and (steered[..., 1::2] == 62).all()  # C D C D: 60's logit 3 after a C
    # A previous window's last onset counts: one that ended on C opens on D.
    previous = torch.full((2, 4, 32), REST)
    previous[:, :, 4] = 60
    previous[:, :, 5:9] = HOLD
    previous[1, 2] = REST  # track 2 of window 1 had no onset: it opens on C as before
    assert last_onsets(previous, (2, 4)).tolist() == [[60, 60, 60, 60], [60, 60, -1, 60]]
    assert last_onsets(None, (2, 4)).eq(-1).all()
    chained = model.generate(style, previous=previous, temperature=0.0, harmonise=False, repeat_penalty=2.0)
    assert chained[0, :, 0].tolist() == [62, 62, 62, 62] and chained[1, :, 0].tolist() == [62, 62, 60, 62]
    # Drawn in order with no penalty, the steps come out exactly as drawn all at once.
    fresh = StyleGenerator(StyleGANConfig.debug(num_styles=3))
    noise = fresh.sample_noise(5, torch.Generator().manual_seed(1))
    logits = fresh(noise, torch.zeros(5, dtype=torch.long))
    u = torch.rand(logits.shape, generator=torch.Generator().manual_seed(2)).clamp_(1e-9, 1 - 1e-9)
    gumbel = -torch.log(-torch.log(u))
    at_once = (nucleus(logits, 0.9) + gumbel).argmax(-1)
    assert torch.equal(draw_in_order(logits, gumbel, 1.0, 0.9, 0.0, last_onsets(None, (5, 4))), at_once)
    assert torch.equal(
        fresh._draw(noise, torch.zeros(5, dtype=torch.long), None, None, 1.0, torch.Generator().manual_seed(2), 0.9),
        clean_tokens(at_once),
    )


def _peaked_generator(peaks: dict[int, float]) -> StyleGenerator:
    """A debug generator whose every track and step gives the pitches in ``peaks`` those logits, the rest -50."""
    model = StyleGenerator(StyleGANConfig.debug(num_styles=3))
    with torch.no_grad():
        model.out.weight.zero_()
        bias = torch.full((NUM_PITCH_TOKENS,), -50.0)
        for pitch, logit in peaks.items():
            bias[pitch] = logit
        model.out.bias.copy_(bias.repeat(4))
    return model


def test_the_leap_penalty_keeps_the_top_voice_near_its_last_pitch():
    model = _peaked_generator({60: 5.0, 72: 5.5})  # C4, and C5 a little likelier
    style = torch.tensor([0])
    previous = torch.full((1, 4, 32), REST)
    previous[:, :, 0] = 60  # every track ended on C4
    free = model.generate(
        style, previous=previous, temperature=0.0, harmonise=False, repeat_penalty=0.0, leap_penalty=0.0
    )
    assert (free == 72).all()  # an octave leap, then C5 again
    held = model.generate(
        style, previous=previous, temperature=0.0, harmonise=False, repeat_penalty=0.0, leap_penalty=0.5
    )
    # the top voice: C5 is 10 semitones beyond a whole tone (-5.0), so it stays on C4; the other voices still leap
    assert (held[0, 0] == 60).all() and (held[0, 1:] == 72).all()


def test_the_key_penalty_keeps_pitches_in_the_key_or_the_chord():
    from engine.models.style_gan_sampling import key_offsets, key_scale

    c_major = torch.zeros(1, 8, 12)
    c_major[:, :, [0, 4, 7]] = 1.0
    key = key_scale(chords=c_major)
    assert key[0].nonzero().flatten().tolist() == [0, 2, 4, 5, 7, 9, 11]  # C major holds the triad first
    e_major = c_major.clone()
    e_major[:, :4] = 0.0
    e_major[:, :4, [4, 8, 11]] = 1.0  # E major for the first bar: G# is in its chord there
    offsets = key_offsets(key, e_major, 32, 2.0)
    assert offsets.shape == (1, 32, NUM_PITCH_TOKENS)
    assert offsets[0, :16, 68].eq(0).all() and offsets[0, 16:, 68].eq(-2.0).all()  # G#4: chord tone, then outside
    assert offsets[0, :, 66].eq(-2.0).all() and offsets[0, :, 69].eq(0).all()  # F#4 never in C major, A4 always
    assert offsets[0, :, HOLD:].eq(0).all()
    # From the sketch's sounding steps: a window of D, F#, A holds D major (or its relatives) and not F.
    window = torch.full((1, 4, 32), HOLD)
    window[:, :, ::8] = torch.tensor([62, 66, 69, 62])
    assert key_scale(windows=window)[0, 6] and not key_scale(windows=window)[0, 5]
    # Over C major chords, F#4 (likeliest) gives way to A4 with the penalty.
    model = _peaked_generator({66: 5.0, 69: 4.5})
    style = torch.tensor([0])
    kept = dict(temperature=0.0, repeat_penalty=0.0, leap_penalty=0.0)
    assert (model.generate(style, c_major, key_penalty=0.0, **kept)[0, :, 0] == 66).all()
    assert (model.generate(style, c_major, key_penalty=1.0, **kept)[0, :, 0] == 69).all()
