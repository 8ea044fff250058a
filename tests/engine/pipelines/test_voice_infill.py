"""Filling masked voices (debug models): known cells kept, valid tokens drawn, the top voice kept on top, seeds."""

import numpy as np
import pytest

from engine.music.constants import HOLD, REST
from engine.music.harmony import sounding_pitches
from engine.pipelines.style import StyleInputError
from engine.pipelines.voice_infill import VoiceInfillPipeline, tidy


@pytest.fixture(scope="module")
def pipe() -> VoiceInfillPipeline:
    return VoiceInfillPipeline.from_pretrained("debug")


def _melody(steps: int = 64) -> np.ndarray:
    row = np.full(steps, HOLD)
    row[::4] = [67 + (i * 5) % 7 for i in range(steps // 4)]
    return row


def test_known_cells_are_kept_and_lower_voices_stay_under_the_top(pipe) -> None:
    known = np.full((4, 64), REST)
    known[0] = _melody()
    hidden = np.zeros((4, 64), dtype=bool)
    hidden[1:] = True
    drawn = pipe.fill(known, hidden, style=0, chords=np.zeros((2, 8, 12)), seed=3)
    assert drawn.shape == (2, 4, 64)  # the debug generation config's two candidates
    assert (drawn[:, 0] == known[0]).all() and drawn.max() <= REST  # no MASK left
    pitches = sounding_pitches(drawn)
    for chain in pitches:
        onsets = drawn[:, 1:] < HOLD
        assert (chain[1:][onsets[0]] < np.broadcast_to(chain[0], (3, 64))[onsets[0]]).all()
    assert np.array_equal(drawn, pipe.fill(known, hidden, 0, np.zeros((2, 8, 12)), seed=3))  # a seed, one result
    assert not np.array_equal(drawn, pipe.fill(known, hidden, 0, np.zeros((2, 8, 12)), seed=4))


def test_one_voice_redrawn_the_others_kept(pipe) -> None:
    known = np.full((4, 32), REST)
    known[0], known[1], known[3] = _melody(32), 60, 40
    known[1, 1::2] = HOLD
    hidden = np.zeros((4, 32), dtype=bool)
    hidden[2] = True
    drawn = pipe.fill(known, hidden, 1, np.zeros((1, 8, 12)), seed=0, chains=3)
    assert drawn.shape == (3, 4, 32) and (drawn[:, [0, 1, 3]] == known[[0, 1, 3]]).all()


def test_pieces_from_nothing_in_a_style_over_chords(pipe) -> None:
    out = pipe("Bach chorale", num_bars=4, seed=2, num_samples=2, chords="C G | Am F")
    assert out.seeds == [2, 3] and len(out.samples) == 2
    assert out.samples[0].tokens.shape == (4, 64) and len(out.samples[0].verdicts) == 2
    with pytest.raises(StyleInputError, match="Unknown style"):
        pipe("Polka", num_bars=4)
    with pytest.raises(StyleInputError, match="Hm7"):
        pipe("Bach chorale", num_bars=4, chords="C Hm7")
    with pytest.raises(StyleInputError, match="even"):
        pipe("Bach chorale", num_bars=3)


def test_tidy_turns_a_hold_with_nothing_to_hold_into_a_rest() -> None:
    tokens = np.array([[HOLD, 60, HOLD, REST, HOLD, HOLD, 62, HOLD]])
    assert tidy(tokens).tolist() == [[REST, 60, HOLD, REST, REST, REST, 62, HOLD]]
    assert tidy(tokens, before=np.array([60])).tolist()[0][0] == HOLD  # held over from the window before


def test_a_choice_per_window_makes_every_chain_go_on_from_the_chosen_window(pipe) -> None:
    known = np.full((4, 96), REST)
    known[0] = _melody(96)
    hidden = np.zeros((4, 96), dtype=bool)
    hidden[1:] = True
    seen: list[tuple[int, np.ndarray]] = []

    def last_chain(windows: np.ndarray, w: int) -> int:
        seen.append((w, windows.copy()))
        return len(windows) - 1

    drawn = pipe.fill(known, hidden, 0, np.zeros((3, 8, 12)), seed=5, chains=3, choose=last_chain)
    assert [w for w, _ in seen] == [0, 1, 2] and all(windows.shape == (3, 4, 32) for _, windows in seen)
    assert (drawn == drawn[0]).all()  # every chain took each chosen window
    for w, windows in seen:
        assert np.array_equal(drawn[0, :, w * 32 : (w + 1) * 32], windows[-1])
    free = pipe.fill(known, hidden, 0, np.zeros((3, 8, 12)), seed=5, chains=3)
    assert np.array_equal(free[2, :, :32], drawn[0, :, :32])  # the first window is the last chain's own draw
    assert not (free == free[0]).all()  # without a choice the chains differ
