"""The voice infiller's training: its masks, the pieces it leaves out for the Arrange evaluation, a run that learns,
resumes and loads."""

import json

import numpy as np
import torch

from engine.cli.train import main as train_main
from engine.io.corpus import is_validation
from engine.models.registry import load_voice_infill
from engine.models.voice_infill import HIDDEN
from engine.music.constants import REST
from engine.train.voice_infill import arrange_evaluation_pieces, training_masks


def test_masks_mix_arrange_one_voice_and_coconet() -> None:
    masks = training_masks(np.random.default_rng(0), 2000, 4, 32, arrange_share=0.5, voice_share=0.2)
    assert masks.shape == (2000, 4, 32) and masks.any(axis=(1, 2)).all()  # never nothing to learn from
    arrange = ~masks[:, 0].any(1) & masks[:, 1:].all(axis=(1, 2))
    one_voice = (masks.all(axis=2).sum(1) == 1) & (masks.any(axis=2).sum(1) == 1) & ~masks[:, 0].any(1)
    assert 0.45 < arrange.mean() < 0.56 and 0.15 < one_voice.mean() < 0.25
    partial = masks.mean(axis=(1, 2))
    assert ((partial > 0.05) & (partial < 0.95)).mean() > 0.2  # Coconet's: any share of the cells


def test_the_arrange_evaluations_pieces_are_left_out() -> None:
    chorales = [f"bwv{n}.6.mxl" for n in range(100, 200)]
    held = next(c for c in chorales if is_validation(c))
    kept = next(c for c in chorales if not is_validation(c))
    tunes = [f"tune{n}.mid" for n in range(100)]
    held_tune = next(t for t in tunes if is_validation(f"{t}#0"))
    names = [
        f"Bach chorale|bach/{held}",
        f"Bach chorale|bach/{kept}",
        f"English folk|nottingham/{held_tune}",
        f"Palestrina mass|palestrina/{held}",  # another style: the Arrange evaluation never reads it
    ]
    assert arrange_evaluation_pieces(names).tolist() == [True, False, True, False]


def test_a_run_learns_resumes_and_loads(tmp_path, fake_style_cache) -> None:
    out = tmp_path / "infill"
    args = ["voice-infill", "--data", str(fake_style_cache), "--out", str(out), "--debug", "--lr", "3e-3"]
    args += ["--steps-per-epoch", "40", "--val-per-style", "16", "--transpose", "0", "0", "--threads", "1"]
    assert train_main([*args, "--epochs", "2"]) == 0
    assert train_main([*args, "--epochs", "3", "--resume"]) == 0
    rows = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[-1]["val_loss"] < rows[0]["val_loss"] < 5.0  # it learns (a uniform guess: ln 130 = 4.87)
    model, meta = load_voice_infill(out)
    assert meta["styles"] == ["a", "b", "c"] and meta["training"]["epoch"] >= 1
    # style "b" (a melody alone): the lower voices it fills are rests
    tokens = torch.full((1, 4, 32), HIDDEN)
    tokens[0, 0] = 75
    logits = model(tokens, torch.full((1, 4, 32), REST), torch.zeros(1, 8, 12), torch.tensor([1]))
    assert (logits[0, 1:].argmax(-1) == REST).float().mean() > 0.9
