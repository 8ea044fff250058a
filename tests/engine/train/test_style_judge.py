"""The style judge learns styles that differ (a synthetic cache), saves, resumes and loads."""

import json

import numpy as np
import torch

from engine.models.checkpoint import load_style_judge
from engine.representation import HOLD, REST
from engine.train.__main__ import main as train_main
from engine.train.style_data import TRACKS


def _fake_cache(path, pieces_per_style: int = 30) -> None:
    """Three styles: low chords held (0), fast high melody alone (1), two voices in quarters (2)."""
    rng = np.random.default_rng(0)
    windows, style, piece, names = [], [], [], []
    for s in range(3):
        for p in range(pieces_per_style):
            names.append(f"s{s}|piece{p}")
            for _ in range(4):
                w = np.full((TRACKS, 32), REST)
                if s == 0:
                    for t in range(TRACKS):
                        w[t, 0], w[t, 1:16], w[t, 16], w[t, 17:] = 60 - 7 * t, HOLD, 62 - 7 * t, HOLD
                elif s == 1:
                    w[0] = rng.integers(72, 84, size=32)
                else:
                    for t in (0, 3):
                        w[t, ::4], w[t, 1::4], w[t, 2::4], w[t, 3::4] = rng.integers(55, 70, size=8) - 12 * (t == 3), HOLD, HOLD, HOLD
                windows.append(w)
                style.append(s)
                piece.append(len(names) - 1)
    meta = {"version": 1, "counts": {n: {"pieces": pieces_per_style, "windows": 4 * pieces_per_style} for n in ("a", "b", "c")}}
    np.savez_compressed(path, windows=np.array(windows, dtype=np.int16), style=np.array(style, dtype=np.int8),
                        piece=np.array(piece, dtype=np.int32), piece_names=np.array(names), styles=np.array(["a", "b", "c"]),
                        meta=np.array(json.dumps(meta)))  # fmt: skip


def test_the_judge_learns_saves_resumes_and_loads(tmp_path, capsys):
    data, out = tmp_path / "cache.npz", tmp_path / "judge"
    _fake_cache(data)
    args = ["style-judge", "--data", str(data), "--out", str(out), "--epochs", "2", "--steps-per-epoch", "40", "--debug"]
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
