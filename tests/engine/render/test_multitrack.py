"""Four-track pieces to MIDI and back (what the library's Style pieces are reopened from)."""

from __future__ import annotations

import io

import numpy as np
import pretty_midi
import pytest

from engine.music.representation import HOLD, REST
from engine.render.multitrack import midi_to_piece, piece_to_midi


def _piece(seed: int, steps: int = 64, silent: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tokens = np.full((4, steps), REST, dtype=np.int64)
    for track in range(4):
        if track == silent:
            continue
        step = 0
        while step < steps:
            length = int(rng.integers(1, 6))
            if rng.random() < 0.8:
                tokens[track, step] = 72 - 7 * track + int(rng.integers(-3, 4))
                tokens[track, step + 1 : step + length] = HOLD
            step += length
    tokens[:, steps:] = REST
    return tokens


def _bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    out = io.BytesIO()
    pm.write(out)
    return out.getvalue()


@pytest.mark.parametrize("seed, silent", [(0, None), (1, 3), (2, 1)])
def test_a_piece_comes_back_from_its_midi(seed, silent) -> None:
    tokens = _piece(seed, silent=silent)
    back, tempo = midi_to_piece(_bytes(piece_to_midi(tokens, 84.0, (52, 52, 40, 42))), tokens.shape[1])
    assert tempo == pytest.approx(84.0, abs=0.01) and back.shape == tokens.shape
    np.testing.assert_array_equal(back, tokens)


def test_length_defaults_to_whole_windows_and_foreign_files_are_refused() -> None:
    tokens = _piece(3, steps=96)
    tokens[:, 70:] = REST  # a quiet ending: the length read is rounded up to whole 2-bar windows
    back, _ = midi_to_piece(_bytes(piece_to_midi(tokens, 96.0)))
    assert back.shape == (4, 96)
    np.testing.assert_array_equal(back, tokens)
    other = pretty_midi.PrettyMIDI()
    other.instruments.append(pretty_midi.Instrument(0, name="Piano"))
    other.instruments[0].notes.append(pretty_midi.Note(80, 60, 0.0, 1.0))
    with pytest.raises(ValueError, match="four-track piece"):
        midi_to_piece(_bytes(other))
