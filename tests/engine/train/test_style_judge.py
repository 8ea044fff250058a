"""The style judge learns styles that differ (a synthetic cache), saves, resumes and loads."""

import json

import torch

from engine.cli.train import main as train_main
from engine.models.registry import load_style_judge
from engine.music.constants import REST, TRACKS


def test_the_judge_learns_saves_resumes_and_loads(tmp_path, fake_style_cache):
    data, out = fake_style_cache, tmp_path / "judge"
    args = [
        "style-judge",
        "--data",
        str(data),
        "--out",
        str(out),
        "--epochs",
        "2",
        "--steps-per-epoch",
        "40",
        "--debug",
    ]
    assert train_main(args) == 0
    rows = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert train_main(args[:5] + ["--epochs", "3"] + args[7:] + ["--resume"]) == 0  # one more epoch
    rows = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    judge, meta = load_style_judge(out)
    assert meta["styles"] == ["a", "b", "c"] and meta["validation"]["balanced"] >= 0.9  # easy styles: learned
    assert set(meta["validation"]["per_style"]) == {"a", "b", "c"}
    logits = judge(torch.zeros(2, TRACKS, 32, dtype=torch.long) + REST)
    assert logits.shape == (2, 3)


def test_the_judge_model_card_gives_counts_and_per_style_accuracy(tmp_path, fake_style_cache):
    from engine.cli.card import main as card_main

    out = tmp_path / "judge"
    assert (
        train_main(
            [
                "style-judge",
                "--data",
                str(fake_style_cache),
                "--out",
                str(out),
                "--epochs",
                "1",
                "--steps-per-epoch",
                "20",
                "--debug",
            ]
        )
        == 0
    )
    assert card_main([str(out)]) == 0
    card = (out / "README.md").read_text()
    assert "| a | 30 | 120 | 1440 |" in card  # pieces, windows, with transposition
    assert "Held-out accuracy" in card and "| epoch |" in card
