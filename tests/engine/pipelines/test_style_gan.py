"""The style GAN pipeline with a tiny untrained generator and judge: shapes, the chain of windows (each conditioned
on the one before), seeds, chords from a progression, draw and check, loading, and named bad input."""

import numpy as np
import pytest
import torch

from engine.models.registry import save_style_judge, save_stylegan
from engine.models.style_gan import StyleGANConfig, StyleGenerator
from engine.models.style_judge import StyleJudge, StyleJudgeConfig
from engine.music.constants import HOLD, NUM_PITCH_TOKENS, REST
from engine.pipelines.style import StyleInputError, StylePiece
from engine.pipelines.style_gan import StyleGANPipeline, StyleGANRequest

STYLES = ["Bach chorale", "Trecento", "Irish folk"]


@pytest.fixture(scope="module")
def pipe():
    torch.manual_seed(0)
    return StyleGANPipeline(StyleGenerator(StyleGANConfig.debug(3)), StyleJudge(StyleJudgeConfig.debug(3)), STYLES)


def test_sample_gives_four_tracks_of_the_bars_asked_and_a_verdict_per_window(pipe):
    piece = pipe("bach  CHORALE", num_bars=6, seed=1, chords="C G Am F").samples[0]
    assert isinstance(piece, StylePiece)
    assert piece.tokens.shape == (4, 96) and piece.asked == ["Bach chorale"] * 3
    assert len(piece.verdicts) == 3 and all(v in STYLES for v in piece.verdicts) and 0 <= piece.agreement <= 1
    tokens = piece.tokens
    assert tokens.min() >= 0 and tokens.max() < NUM_PITCH_TOKENS and not (tokens[:, 0] == HOLD).any()
    assert not ((tokens[:, 1:] == HOLD) & (tokens[:, :-1] == REST)).any()  # no HOLD after a rest, across windows too


def test_each_window_is_conditioned_on_the_one_before(pipe, monkeypatch):
    calls = []
    original = pipe.generator.generate

    def recording(style, chords=None, previous=None, *args, **kwargs):
        out = original(style, chords, previous, *args, **kwargs)
        calls.append((previous, out))
        return out

    monkeypatch.setattr(pipe.generator, "generate", recording)
    piece = pipe("Trecento", num_bars=6, seed=2, check=False).samples[0]
    assert len(calls) == 3 and calls[0][0] is None  # the first window opens the piece
    for (_, before), (previous, _) in zip(calls, calls[1:]):
        assert torch.equal(previous, before)  # window i + 1 is given window i
    assert np.array_equal(piece.tokens, torch.cat([out for _, out in calls], dim=2)[0].numpy())
    # and the condition matters: the same noise after another window gives another window
    style, noise = torch.tensor([1]), pipe.generator.sample_noise(1, torch.Generator().manual_seed(0))
    first = original(style, noise=noise, previous=calls[0][1])
    other = original(style, noise=noise, previous=torch.full_like(calls[0][1], 60))
    assert not torch.equal(first, other)


def test_seeds_repeat_and_differ(pipe):
    a, again = pipe("Irish folk", num_bars=4, seed=1).samples[0], pipe("Irish folk", num_bars=4, seed=1).samples[0]
    b = pipe("Irish folk", num_bars=4, seed=2).samples[0]
    assert np.array_equal(a.tokens, again.tokens) and a.verdicts == again.verdicts
    assert not np.array_equal(a.tokens, b.tokens)


def test_chords_are_parsed_per_bar_and_change_the_music(pipe):
    chroma = pipe.chord_condition("C G", 4).numpy()  # one chord per bar, repeated: C G C G
    assert chroma.shape == (2, 8, 12)
    assert set(np.flatnonzero(chroma[0, 0])) == {0, 4, 7} and set(np.flatnonzero(chroma[0, 4])) == {2, 7, 11}
    assert np.array_equal(chroma[0], chroma[1])
    split = pipe.chord_condition("C Am | F G", 2).numpy()[0]  # "|" splits bars: two chords in each
    assert set(np.flatnonzero(split[2])) == {0, 4, 9} and set(np.flatnonzero(split[6])) == {2, 7, 11}
    assert pipe.chord_condition("  ", 4) is None and pipe.chord_condition(None, 4) is None
    assert not pipe.chord_condition("N.C.", 2).any()
    plain = pipe("Trecento", num_bars=4, seed=3, check=False).samples[0]
    with_chords = pipe("Trecento", num_bars=4, seed=3, chords="C G Am F", check=False).samples[0]
    other_chords = pipe("Trecento", num_bars=4, seed=3, chords="F#m B E A", check=False).samples[0]
    assert not np.array_equal(plain.tokens, with_chords.tokens)
    assert not np.array_equal(with_chords.tokens, other_chords.tokens)


def test_over_typed_chords_the_bass_strikes_a_chord_tone_on_every_bar_line(pipe):
    """The untrained generator knows no harmony: the constraint alone puts its bass on each bar's chord."""
    from engine.music.chords import parse_progression

    chords = "G D Em C"
    progression = parse_progression(chords, 8, 16)
    for seed in range(3):
        bass = pipe("Bach chorale", 8, seed, chords=chords, check=False).samples[0].tokens[-1]
        for bar in range(8):
            token = int(bass[bar * 16])
            assert token < HOLD and token % 12 in progression.at(bar * 16).pitch_classes, (seed, bar, token)
    off = pipe.generation.override(bass_on_chords=False)
    loose = [
        pipe("Bach chorale", 8, s, chords=chords, check=False, generation=off).samples[0].tokens[-1] for s in range(3)
    ]
    struck = [int(b[bar * 16]) for b in loose for bar in range(8)]
    on_chord = [t < HOLD and t % 12 in progression.at(i % 8 * 16).pitch_classes for i, t in enumerate(struck)]
    assert np.mean(on_chord) < 0.9  # without it, the untrained bass is anywhere


def test_draw_and_check_keeps_the_chain_the_judge_hears_in_the_asked_style(pipe, monkeypatch):
    first = pipe("Trecento", num_bars=4, seed=5, check=False).samples[0]
    checked = pipe("Trecento", num_bars=4, seed=5).samples[0]
    assert len(first.verdicts) == len(checked.verdicts) == 2

    def picky_judge(windows):  # hears Trecento only in windows whose top track starts with a rest
        logits = torch.zeros(len(windows), 3)
        logits[:, 1] = (windows[:, 0, 0] == REST).float() * 2 - 1
        return logits

    monkeypatch.setattr(pipe, "judge", picky_judge)
    pieces = [pipe("Trecento", num_bars=2, seed=s, temperature=1.0).samples[0] for s in range(6)]
    for piece in pieces:
        assert (piece.tokens[0, 0] == REST) == (piece.verdicts == ["Trecento"])
    firsts = [pipe("Trecento", num_bars=2, seed=s, temperature=1.0, check=False).samples[0] for s in range(6)]
    assert sum(p.agreement for p in pieces) >= sum(p.agreement for p in firsts)


def test_from_pretrained_checks_the_styles_match_the_judge(tmp_path):
    torch.manual_seed(1)
    save_stylegan(StyleGenerator(StyleGANConfig.debug(3)), tmp_path / "gan", {"styles": STYLES})
    save_style_judge(StyleJudge(StyleJudgeConfig.debug(3)), tmp_path / "judge", {"styles": STYLES})
    loaded = StyleGANPipeline.from_pretrained(tmp_path / "gan", judge=tmp_path / "judge")
    assert loaded.styles == STYLES and loaded("Irish folk", 2, 0, chords="Am").samples[0].tokens.shape == (4, 32)
    save_style_judge(StyleJudge(StyleJudgeConfig.debug(3)), tmp_path / "other", {"styles": ["a", "b", "c"]})
    with pytest.raises(ValueError, match="the judge"):
        StyleGANPipeline.from_pretrained(tmp_path / "gan", judge=tmp_path / "other")
    with pytest.raises(FileNotFoundError):
        StyleGANPipeline.from_pretrained(tmp_path / "missing", judge=tmp_path / "judge")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p: p("Jazz").samples[0], "Unknown style 'Jazz': choose one of Bach chorale, Trecento, Irish folk"),
        (lambda p: p("Trecento", num_bars=0).samples[0], "Bars must be between 2 and 16"),
        (lambda p: p("Trecento", num_bars=18).samples[0], "Bars must be between 2 and 16"),
        (lambda p: p("Trecento", num_bars=3).samples[0], "even"),
        (lambda p: p("Trecento", num_bars=4, chords="C H7 F").samples[0], "Unknown chord symbol 'H7'"),
        (lambda p: p("Trecento", num_bars=4, chords="C/Q").samples[0], "Unknown chord symbol 'C/Q'"),
        (lambda p: p("Trecento", num_bars=4, chords=7).samples[0], "Chords must be text"),
    ],
)
def test_bad_input_is_named(pipe, call, message):
    with pytest.raises(StyleInputError, match=message):
        call(pipe)


def test_requests_batched_together_get_what_they_would_alone(pipe):
    """run_many: requests in different styles, with and without chords, of different lengths, drawn in shared batches,
    each get the pieces they get alone; a bad request gets its own error."""
    requests = [
        StyleGANRequest("Bach chorale", 4, seed=0),
        StyleGANRequest("Trecento", 4, seed=1, num_samples=2),
        StyleGANRequest("Irish folk", 4, seed=2, chords="C G"),
        StyleGANRequest("Bach chorale", 4, seed=3, chords="Am E"),
        StyleGANRequest("Bach chorale", 2, seed=4),
        StyleGANRequest("Polka", 4, seed=5),  # not a style: its own error
        StyleGANRequest("Bach chorale", 4, seed=6, chords="C Hm7"),  # an unknown chord: its own error
    ]
    together = pipe.run_many(requests)
    assert isinstance(together[5], StyleInputError) and isinstance(together[6], StyleInputError)
    for request, batched in zip(requests[:5], together[:5]):
        alone = pipe.run_many([request])[0]
        assert batched.seeds == alone.seeds and len(batched.samples) == request.num_samples
        for mine, theirs in zip(batched.samples, alone.samples):
            assert np.array_equal(mine.tokens, theirs.tokens) and mine.verdicts == theirs.verdicts
    assert np.array_equal(together[1].samples[1].tokens, pipe("Trecento", 4, seed=2).samples[0].tokens)
