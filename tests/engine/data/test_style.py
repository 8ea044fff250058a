"""Style windows: voices to tokens, which voices fill the four tracks, windows, transposition, and a real score."""

import numpy as np
import pytest

from engine.data.style import read_score_windows
from engine.music.constants import HOLD, REST
from engine.music.multitrack import choose_voices, piece_windows, transpose_windows, voice_tokens


def test_voice_tokens_cut_overlaps_and_keep_the_higher_onset():
    tokens = voice_tokens([(0, 8, 60), (0, 4, 64), (4, 6, 62), (10, 12, 200)], 12)
    assert tokens[0] == 64 and tokens[4] == 62  # the higher of two onsets; a later onset cuts the note before
    assert list(tokens[1:4]) == [HOLD] * 3 and tokens[5] == HOLD and tokens[6] == REST
    assert tokens[10] == REST  # a pitch outside MIDI is dropped


def _voice(pitch: int, n: int = 64) -> np.ndarray:
    tokens = np.full(n, HOLD)
    tokens[::4] = pitch
    return tokens


def test_four_tracks_highest_first_from_any_number_of_voices():
    five = [_voice(p) for p in (55, 72, 60, 48, 65)]
    tracks = choose_voices(five)
    assert [int(t[0]) for t in tracks] == [72, 65, 60, 48]  # of five, the fourth from the top (55) is dropped
    three = choose_voices([_voice(50), _voice(70), _voice(60)])
    assert int(three[0][0]) == 70 and int(three[1][0]) == 60 and three[2] is None and int(three[3][0]) == 50


def test_windows_start_at_bars_and_silent_tracks_rest():
    windows = piece_windows([_voice(70), None, _voice(60), None], bar_starts=[0, 16, 32, 48])
    assert windows.shape == (3, 4, 32)  # the window at 48 would run past the end
    assert (windows[:, 1] == REST).all() and windows[0, 0, 0] == 70
    assert len(piece_windows([np.full(64, REST), _voice(60), None, None], [0])) == 0  # nothing in track 0


def test_transposition_keeps_holds_and_rests_and_refuses_to_leave_midi():
    windows = np.stack([np.stack([_voice(120, 32), _voice(60, 32), np.full(32, REST), _voice(40, 32)])] * 2)
    moved = transpose_windows(windows, np.array([-2, 12]))
    assert moved[0, 0, 0] == 118 and moved[0, 3, 0] == 38 and moved[0, 0, 1] == HOLD and (moved[0, 2] == REST).all()
    assert np.array_equal(moved[1], windows[1])  # 120 + 12 is no MIDI pitch: that window stays


def test_a_four_part_score_becomes_windows(tmp_path):
    music21 = pytest.importorskip("music21")
    score = music21.stream.Score()
    for octave in (5, 4, 3, 2):
        part = music21.stream.Part()
        part.append(music21.meter.TimeSignature("4/4"))
        for step in range(16):  # four bars of quarter notes
            part.append(music21.note.Note(f"{'CDEF'[step % 4]}{octave}", quarterLength=1.0))
        score.insert(0, part)
    path = tmp_path / "four.musicxml"
    score.write("musicxml", fp=str(path))
    windows = read_score_windows(str(path), exact_parts=4)
    assert windows.shape == (3, 4, 32)  # windows at bars 1, 2 and 3
    assert [int(windows[0, t, 0]) for t in range(4)] == [72, 60, 48, 36]
    assert len(read_score_windows(str(path), exact_parts=3)) == 0  # the wrong number of parts


def test_an_unreadable_or_odd_file_is_skipped_not_fatal(tmp_path):
    from engine.data.style import _run

    bad = tmp_path / "broken.abc"
    bad.write_text("X:1\nM:1/32\nL:1/64\nK:C\nCDEF|]\n")
    style, name, windows = _run(("Irish folk", "x", str(bad), {"reader": "abc"}))
    assert windows.shape == (0, 4, 32)
    style, name, windows = _run(("Bach chorale", "y", str(tmp_path / "missing.xml"), {"reader": "score"}))
    assert windows.shape == (0, 4, 32)
