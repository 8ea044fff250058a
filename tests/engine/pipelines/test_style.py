"""The style pipeline with tiny untrained models: shapes, seeds, the morph's ends, transfer, and named bad input."""

import numpy as np
import pytest

from engine.models.musae import MusAE, MusAEConfig
from engine.models.style_judge import StyleJudge, StyleJudgeConfig
from engine.music.constants import HOLD
from engine.pipelines.style import StyleInputError, StylePipeline

STYLES = ["Bach chorale", "Trecento", "Irish folk"]


@pytest.fixture(scope="module")
def pipe():
    import torch

    torch.manual_seed(0)
    return StylePipeline(MusAE(MusAEConfig.debug(num_styles=3)), StyleJudge(StyleJudgeConfig.debug(3)), STYLES)


def test_sample_gives_four_tracks_of_the_bars_asked_and_a_verdict_per_window(pipe):
    piece = pipe("bach  CHORALE", num_bars=6, seed=1).samples[0]
    assert piece.tokens.shape == (4, 96) and piece.asked == ["Bach chorale"] * 3
    assert len(piece.verdicts) == 3 and all(v in STYLES for v in piece.verdicts) and 0 <= piece.agreement <= 1
    assert not (piece.tokens[:, 0] == HOLD).any()
    again, other = (
        pipe("Bach chorale", num_bars=6, seed=1).samples[0],
        pipe("Bach chorale", num_bars=6, seed=2, temperature=1.0).samples[0],
    )
    assert np.array_equal(piece.tokens, again.tokens) and not np.array_equal(piece.tokens, other.tokens)


def test_draw_and_check_keeps_the_chain_the_judge_hears_in_the_asked_style(pipe, monkeypatch):
    first = pipe("Trecento", num_bars=4, seed=5, check=False).samples[0]
    checked = pipe("Trecento", num_bars=4, seed=5).samples[0]
    assert len(first.verdicts) == len(checked.verdicts) == 2
    assert checked.agreement >= first.agreement
    # a judge that hears Trecento only in windows whose top track starts with a rest: the kept chain has such windows
    import torch

    def picky_judge(windows):
        logits = torch.zeros(len(windows), 3)
        logits[:, 1] = (windows[:, 0, 0] == 129).float() * 2 - 1
        return logits

    monkeypatch.setattr(pipe, "judge", picky_judge)
    pieces = [pipe("Trecento", num_bars=2, seed=s, temperature=1.0).samples[0] for s in range(6)]
    for piece in pieces:
        assert (piece.tokens[0, 0] == 129) == (piece.verdicts == ["Trecento"])
    assert sum(p.tokens[0, 0] == 129 for p in pieces) >= sum(
        pipe("Trecento", num_bars=2, seed=s, temperature=1.0, check=False).samples[0].tokens[0, 0] == 129
        for s in range(6)
    )


def test_morph_walks_from_one_style_to_the_other(pipe):
    piece = pipe.morph("Bach chorale", "Irish folk", steps=5, seed=0).samples[0]
    assert piece.tokens.shape == (4, 160)
    assert piece.asked[0] == "Bach chorale" and piece.asked[-1] == "Irish folk"


def test_transfer_keeps_the_length(pipe):
    windows = pipe("Trecento", num_bars=4, seed=3).samples[0].tokens.reshape(4, 2, 32).transpose(1, 0, 2)
    piece = pipe.transfer(windows, "Irish folk", 0.8).samples[0]
    assert piece.tokens.shape == (4, 64) and piece.asked == ["Irish folk"] * 2


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p: p("Jazz").samples[0], "Unknown style 'Jazz': choose one of Bach chorale, Trecento, Irish folk"),
        (lambda p: p("Trecento", num_bars=0).samples[0], "Bars"),
        (lambda p: p("Trecento", num_bars=3).samples[0], "even"),
        (lambda p: p.morph("Trecento", "Irish folk", steps=40), "Steps"),
        (lambda p: p.transfer(np.zeros((1, 12, 32), dtype=np.int64), "Trecento"), "four tracks"),
        (lambda p: p.transfer(np.zeros((1, 4, 32), dtype=np.int64), "Trecento", strength=2), "Strength"),
    ],
)
def test_bad_input_is_named(pipe, call, message):
    with pytest.raises(StyleInputError, match=message):
        call(pipe)
