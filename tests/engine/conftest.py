"""A small synthetic style cache for the style models' training tests (no corpus parsing)."""

import json

import numpy as np
import pytest

from engine.music.constants import HOLD, REST, TRACKS


def write_fake_cache(path, pieces_per_style: int = 30) -> None:
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
                        w[t, ::4], w[t, 1::4], w[t, 2::4], w[t, 3::4] = (
                            rng.integers(55, 70, size=8) - 12 * (t == 3),
                            HOLD,
                            HOLD,
                            HOLD,
                        )
                windows.append(w)
                style.append(s)
                piece.append(len(names) - 1)
    meta = {
        "version": 1,
        "counts": {n: {"pieces": pieces_per_style, "windows": 4 * pieces_per_style} for n in ("a", "b", "c")},
    }
    np.savez_compressed(
        path,
        windows=np.array(windows, dtype=np.int16),
        style=np.array(style, dtype=np.int8),
        piece=np.array(piece, dtype=np.int32),
        piece_names=np.array(names),
        styles=np.array(["a", "b", "c"]),
        meta=np.array(json.dumps(meta)),
    )


@pytest.fixture(scope="session")
def fake_style_cache(tmp_path_factory):
    path = tmp_path_factory.mktemp("style") / "cache.npz"
    write_fake_cache(path)
    return path
