"""Bars that loop or develop, phrases that come back, entropy and intervals, and abc2midi's verdict."""

from __future__ import annotations

import numpy as np
import pytest

from engine.eval.metrics.abc_form import (
    abc2midi_available,
    abc2midi_clean,
    bar_repeat_share,
    distinct_bar_share,
    has_phrase_form,
    interval_histogram_of,
    pitch_class_entropy,
    written_bars,
)
from engine.eval.metrics.melody import histogram_overlap

HEAD = "X:1\nM:4/4\nL:1/8\nK:G\n"
LOOP = HEAD + "G2GB G2F2 | G2GBG2F2 | G2GB G2F2 | G2GB G2F2 |]\n"
REEL = HEAD + "|:G2B2 d2B2|c2A2 F2A2:|\n|:g2f2 e2d2|c2e2 d2B2:|\n"


def test_bars_are_compared_notes_only():
    assert written_bars(LOOP) == ["G2GBG2F2"] * 4
    assert written_bars(REEL) == ["G2B2d2B2", "c2A2F2A2", "g2f2e2d2", "c2e2d2B2"]
    assert written_bars(HEAD + "|:GA|[1 B4:|[2 c4|]\n") == ["GA", "B4", "c4"]  # ending numbers are not notes
    assert bar_repeat_share(LOOP) == 1.0 and distinct_bar_share(LOOP) == 0.25
    assert bar_repeat_share(REEL) == 0.0 and distinct_bar_share(REEL) == 1.0
    assert bar_repeat_share(HEAD + "G8|]\n") is None


def test_phrases_that_come_back_are_a_form_and_a_looping_bar_is_not():
    assert has_phrase_form(REEL)
    assert has_phrase_form(HEAD + "G2B2 d2B2|c2A2 F2A2:|g8|]\n")  # :| repeats from the start
    assert has_phrase_form(HEAD + "GABc|dcBA|e8|GABc|dcBA|]\n")  # two bars that come again
    assert not has_phrase_form(LOOP)
    assert not has_phrase_form(HEAD + "|:G8:|A8|]\n")  # a one-bar repeat is no phrase


def test_entropy_and_interval_histograms():
    assert pitch_class_entropy([60, 72, 60]) == 0.0 and pitch_class_entropy(list(range(60, 72))) == pytest.approx(
        np.log2(12)
    )
    up = interval_histogram_of([60, 62, 64, 100])
    assert up.sum() == pytest.approx(1.0) and up[12 + 2] == pytest.approx(2 / 3) and up[24] == pytest.approx(1 / 3)
    assert histogram_overlap(up, up) == pytest.approx(1.0)
    assert histogram_overlap(up, interval_histogram_of([60, 59, 58])) == 0.0


@pytest.mark.skipif(not abc2midi_available(), reason="abc2midi (Debian abcmidi) is not installed")
def test_abc2midi_reads_clean_tunes_and_names_what_it_warns_about():
    assert abc2midi_clean(REEL) == (True, "")
    clean, said = abc2midi_clean(HEAD + "GABc|dcBA:|\nGABc|d4 ::\n")  # a :: at a line's end that never closes
    assert not clean and said
