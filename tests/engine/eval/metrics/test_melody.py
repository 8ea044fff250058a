"""Known answers for the melody figures (engine.eval.metrics.melody)."""

import numpy as np
import pytest

from engine.eval.metrics.melody import (
    INTERVAL_CLIP,
    chord_tone_share,
    chord_tone_steps,
    contour_correlation,
    edit_distance,
    histogram_overlap,
    interval_histogram,
    intervals,
    melody_stats,
    onset_f1,
    sounding_pitch,
)
from engine.music.constants import HOLD, REST

C_MAJOR = np.zeros(12)
C_MAJOR[[0, 4, 7]] = 1.0


def test_edit_distance_sounding_pitch_and_contour_correlation():
    assert edit_distance([1, 2, 3], [1, 3]) == 1
    assert edit_distance([129] * 4, [60, 128, 128, 128]) == 4
    pitches = sounding_pitch(np.array([60, 128, 129, 62]))
    assert pitches[:2].tolist() == [60, 60] and np.isnan(pitches[2]) and pitches[3] == 62
    assert contour_correlation(np.array([60.0, 62, 64, 65]), np.array([70.0, 72, 74, 75])) == pytest.approx(1.0)
    assert contour_correlation(np.array([60.0, 60, 60]), np.array([1.0, 2, 3])) is None


def test_a_hold_with_no_onset_before_it_sounds_no_known_pitch():
    assert np.isnan(sounding_pitch(np.array([HOLD, HOLD, 64]))[:2]).all()


def test_onset_f1():
    requested = np.array([1, 0, 1, 0, 1, 0, 0, 0], bool)
    assert onset_f1(requested, requested) == 1.0
    # two of three requested onsets hit, one extra: precision 2/3, recall 2/3
    produced = np.array([1, 1, 1, 0, 0, 0, 0, 0], bool)
    assert onset_f1(requested, produced) == pytest.approx(2 / 3)
    assert onset_f1(requested, ~requested) == 0.0
    assert onset_f1(np.zeros(4, bool), np.zeros(4, bool)) == 1.0  # nothing asked, nothing made


def test_chord_tone_steps_count_the_note_time_under_a_chord():
    # C4 for 4 steps (on C major), D4 for 2 steps (not), rest 2 steps, E4 for 2 steps with no chord there
    tokens = np.array([60, HOLD, HOLD, HOLD, 62, HOLD, REST, REST, 64, HOLD])
    chroma = np.tile(C_MAJOR, (10, 1))
    chroma[8:] = 0
    assert chord_tone_steps(tokens, chroma) == (4, 6)
    assert chord_tone_share(tokens, chroma) == pytest.approx(4 / 6)
    assert chord_tone_share(tokens, np.zeros((10, 12))) is None  # no chord anywhere: undefined


def test_intervals_and_their_histogram():
    tokens = np.array([60, HOLD, 62, REST, 62, 67, 40])  # +2, 0 (a rest does not break the line), +5, -27
    assert intervals(tokens).tolist() == [2, 0, 5, -27]
    histogram = interval_histogram(intervals(tokens))
    assert histogram.shape == (2 * INTERVAL_CLIP + 1,) and histogram.sum() == pytest.approx(1.0)
    assert histogram[INTERVAL_CLIP + 2] == histogram[INTERVAL_CLIP] == histogram[INTERVAL_CLIP + 5] == 0.25
    assert histogram[0] == 0.25  # -27 is clipped into the bin of -12
    assert interval_histogram(np.array([], dtype=np.int64)).sum() == 0.0  # no intervals: an empty histogram


def test_histogram_overlap_is_one_for_the_same_and_zero_for_disjoint_histograms():
    up = interval_histogram(np.array([2, 2, 1]))
    down = interval_histogram(np.array([-2, -1]))
    assert histogram_overlap(up, up) == pytest.approx(1.0)
    assert histogram_overlap(up, down) == 0.0
    half = interval_histogram(np.array([2, -2]))
    assert histogram_overlap(up, half) == pytest.approx(0.5)  # min(2/3, 1/2) on +2


def test_melody_stats_shares_of_repeats_steps_and_leaps():
    tokens = np.array([60, 60, 62, 67, 67, 65])  # 0, +2, +5, 0, -2
    chroma = np.tile(C_MAJOR, (6, 1))
    stats = melody_stats([tokens], [chroma])
    assert stats["intervals"] == 5
    assert stats["repeat_share"] == 0.4 and stats["step_share"] == 0.4 and stats["leap_share"] == 0.2
    assert stats["chord_tone_share"] == pytest.approx(round(4 / 6, 4))  # C C . G G . on C major
    assert stats["histogram"].sum() == pytest.approx(1.0)
