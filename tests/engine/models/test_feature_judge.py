"""The feature judge's reading of a tune: one parse, music21's own key analysis, the same answers as before."""

import pytest
from music21 import converter

from engine.io.abc import parse_abc_score, read_abc_text
from engine.models.feature_judge import TuneHearing, hear_tune, key_mode, tune_features, tune_mode

TUNES = [
    "X:1\nM:4/4\nL:1/4\nK:Am\nA c e c|A E A2|e d c B|A4|]\n",
    "X:1\nM:6/8\nL:1/8\nK:G\nGAB c2d|e2d cBA|G3 D3|G6|]\n",
    # Written in E minor's signature but circling G and D: the analysis hears what the notes do, not the K: field
    "X:1\nM:3/4\nL:1/4\nK:Em\nG B d|g d B|G2 D|G3|]\n",
    "X:1\nM:2/4\nL:1/8\nK:Dm\n|:DFAd|c2A2:|FEDC|D4|]\n",
    "X:1\nM:4/4\nL:1/8\nK:Bb\nB,DFB dcBA|GBAF G2F2|EGce dBcA|B8|]\n",
]


@pytest.mark.parametrize("abc", TUNES)
def test_the_key_mode_is_music21s_analyze_key(abc):
    score = converter.parse(abc, format="abc")
    assert key_mode(score) == score.analyze("key").mode


@pytest.mark.parametrize("abc", TUNES)
def test_a_score_passed_in_gives_what_the_text_gives(abc):
    score = parse_abc_score(abc)
    read_abc_text(abc, score=score)  # reading it as played (repeats written out) must leave the Score as written
    passed, fresh = hear_tune(abc, score), hear_tune(abc)
    assert passed == fresh and passed.mode in ("major", "minor")
    assert tune_mode(abc) == fresh.mode and tune_features(abc) == fresh.features
    assert fresh.features is not None and fresh.features["analysed_major"] == float(fresh.mode == "major")


def test_unreadable_or_silent_tunes_are_heard_as_nothing():
    assert hear_tune("X:1\nM:4/4\nL:1/4\nK:C\nz4|z4|]\n") == TuneHearing(None, None)
    assert tune_mode("not ABC at all \x00") is None
