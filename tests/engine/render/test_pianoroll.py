import time

import plotly.graph_objects as go

from engine.music import Chord, ChordProgression, LeadSheet, Melody, Note
from engine.music.constants import note_name
from engine.render.pianoroll import mini_piano_roll_figure, piano_roll_figure


def make_sheet(bars=8, pickup=0):
    notes = []
    for bar in range(bars):
        for beat in range(4):
            start = pickup + bar * 16 + beat * 4
            notes.append(Note(60 + (bar * 4 + beat) % 12, start, start + 3))
    symbols = ["C", "Am", "F", "G7"]
    chords = [Chord(symbols[b % 4], pickup + b * 16, pickup + (b + 1) * 16, (0, 4, 7)) for b in range(bars)]
    melody = Melody(notes, pickup + bars * 16, 120.0, (4, 4), pickup)
    return LeadSheet(melody, ChordProgression(chords))


def test_one_trace_with_all_notes_and_chord_symbols():
    sheet = make_sheet()
    fig = piano_roll_figure(sheet, title="demo")
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 1
    trace = fig.data[0]
    assert len(trace.y) == len(sheet.melody.notes)
    assert list(trace.y) == [n.pitch for n in sheet.melody.notes]
    assert trace.base[0] == 1.0  # step 0 is the start of bar 1
    assert trace.base[4] == 2.0
    texts = [a.text for a in fig.layout.annotations]
    assert texts == [c.symbol for c in sheet.chords.chords]
    assert len(fig.layout.shapes) == len(sheet.chords.chords)
    assert fig.layout.title.text == "demo"
    lo, hi = fig.layout.yaxis.range
    assert lo < min(trace.y) and hi > max(trace.y)


def test_hover_names_pitch_and_position():
    fig = piano_roll_figure(make_sheet(bars=2))
    first = fig.data[0].customdata[0]
    assert first[0] == note_name(60) == "C4"
    assert first[1] == "bar 1, beat 1"
    assert fig.data[0].customdata[1][1] == "bar 1, beat 2"
    assert first[2] == "dotted 8th"


def test_pickup_sits_before_bar_one():
    fig = piano_roll_figure(make_sheet(bars=2, pickup=4))
    assert fig.data[0].base[0] == 1.0
    assert fig.layout.xaxis.range[0] == 0.75


def test_empty_melody_says_no_notes():
    sheet = LeadSheet(Melody([], 32))
    for fig in (piano_roll_figure(sheet), mini_piano_roll_figure(sheet)):
        assert len(fig.data) == 0
        assert any("no notes" in a.text for a in fig.layout.annotations)


def test_mini_has_no_text():
    fig = mini_piano_roll_figure(make_sheet(), height=100)
    assert len(fig.data) == 1 and len(fig.data[0].y) == 32
    assert not fig.layout.annotations
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert fig.layout.height == 100


def test_fast():
    sheet = make_sheet(bars=8)
    piano_roll_figure(sheet)
    best = min(_timed(lambda: piano_roll_figure(sheet)) for _ in range(3))
    assert best < 0.1  # typically ~5 ms; generous for loaded CI machines


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_chord_symbols_never_print_on_top_of_each_other():
    from engine.music import ChordProgression
    from engine.music.chords import make_chord
    from engine.render.pianoroll import LABEL_CHAR_PX, LABEL_PAD_PX, LABEL_PLOT_PX, chord_bands

    every_beat = ChordProgression([make_chord(("C", "Am7", "F", "G7")[i % 4], i * 4, i * 4 + 4) for i in range(64)])
    shapes, labels = chord_bands(every_beat, 0, 16)
    assert len(shapes) == 64 and 0 < len(labels) < 64
    px_per_bar = LABEL_PLOT_PX / 16
    for left, right in zip(labels, labels[1:]):
        assert (right["x"] - left["x"]) * px_per_bar >= len(left["text"]) * LABEL_CHAR_PX + LABEL_PAD_PX
    one_a_bar = ChordProgression([make_chord(s, i * 16, i * 16 + 16) for i, s in enumerate(["C", "Am", "F", "G"])])
    assert [a["text"] for a in chord_bands(one_a_bar, 0, 16)[1]] == ["C", "Am", "F", "G"]
