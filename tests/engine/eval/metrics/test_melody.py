"""Known answers for the melody figures (engine.eval.metrics.melody)."""

import numpy as np
import pytest

from engine.eval.metrics.melody import contour_correlation, edit_distance, sounding_pitch


def test_edit_distance_sounding_pitch_and_contour_correlation():
    assert edit_distance([1, 2, 3], [1, 3]) == 1
    assert edit_distance([129] * 4, [60, 128, 128, 128]) == 4
    pitches = sounding_pitch(np.array([60, 128, 129, 62]))
    assert pitches[:2].tolist() == [60, 60] and np.isnan(pitches[2]) and pitches[3] == 62
    assert contour_correlation(np.array([60.0, 62, 64, 65]), np.array([70.0, 72, 74, 75])) == pytest.approx(1.0)
    assert contour_correlation(np.array([60.0, 60, 60]), np.array([1.0, 2, 3])) is None
