"""Chords fitted to a melody that has none (for tunes written without chord symbols)."""

from engine.music import Melody, Note
from engine.music.chords import infer_chords


def test_one_triad_per_bar_from_the_melody():
    # Bar 1 outlines C major, bar 2 A minor, bar 3 G major.
    notes = [Note(p, i * 4, i * 4 + 4) for i, p in enumerate([60, 64, 67, 64, 69, 72, 76, 72, 67, 71, 74, 71])]
    chords = infer_chords(Melody(notes, 48))
    assert [(c.symbol, c.start, c.end) for c in chords.chords] == [("C", 0, 16), ("Am", 16, 32), ("G", 32, 48)]


def test_bars_start_after_the_pickup_and_repeats_merge():
    # 3/4 with a 4-step pickup: bars are steps 4-16, 16-28.
    notes = [Note(67, 0, 4)] + [Note(p, 4 + i * 4, 8 + i * 4) for i, p in enumerate([67, 71, 74, 74, 71, 67])]
    chords = infer_chords(Melody(notes, 28, time_signature=(3, 4), pickup_steps=4))
    assert [(c.symbol, c.start, c.end) for c in chords.chords] == [("G", 0, 28)]
