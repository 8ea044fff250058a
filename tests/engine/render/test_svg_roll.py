"""Inline SVG mini piano rolls (engine.render.svg_roll)."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import pytest

from engine.music import ChordProgression, LeadSheet, Melody, Note
from engine.music.chords import make_chord
from engine.render.svg_roll import pitch_span, svg_mini_roll

SVG = "{http://www.w3.org/2000/svg}"


def _sheet(notes=((60, 0, 4), (64, 4, 8), (67, 8, 16), (72, 16, 32)), num_steps=32, title="Tune", chords=("C", "G")):
    melody = Melody([Note(p, s, e) for p, s, e in notes], num_steps, 120.0, (4, 4), 0, "C")
    progression = ChordProgression([make_chord(sym, 16 * i, 16 * (i + 1)) for i, sym in enumerate(chords)])
    return LeadSheet(melody, progression, title)


def _notes(root):
    group = root.find(f"{SVG}g")
    return [] if group is None else group.findall(f"{SVG}rect")


def test_one_rect_per_note_inside_the_viewbox():
    svg = svg_mini_roll(_sheet(), 160, 64)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 160 64"
    rects = _notes(root)
    assert len(rects) == 4
    for rect in rects:
        x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
        assert 0 <= x and x + w <= 160 + 1e-6
        assert 0 <= y and y + h <= 64 + 1e-6
    # time runs left to right, pitch bottom to top
    xs = [float(r.get("x")) for r in rects]
    ys = [float(r.get("y")) for r in rects]
    assert xs == sorted(xs)
    assert ys == sorted(ys, reverse=True)
    assert float(rects[3].get("x")) == pytest.approx(80.0)  # step 16 of 32


def test_chord_bands_and_bar_lines():
    root = ET.fromstring(svg_mini_roll(_sheet(), 160, 64))
    bands = root.findall(f"{SVG}rect")
    assert [b.find(f"{SVG}title").text for b in bands] == ["C", "G"]
    bar_lines = root.find(f"{SVG}path").get("d")
    assert bar_lines == "M80 0V64"  # one inner bar line in 2 bars
    plain = ET.fromstring(svg_mini_roll(_sheet(), 160, 64, show_chords=False))
    assert plain.findall(f"{SVG}rect") == []


def test_separators_are_drawn():
    root = ET.fromstring(svg_mini_roll(_sheet(num_steps=64), 200, 50, separators=[32, 0, 64, 99]))
    lines = {p.get("stroke"): p.get("d") for p in root.findall(f"{SVG}path")}
    assert lines["#f59e0b"] == "M100 0V50"  # out-of-range separators are dropped


def test_everything_from_data_is_escaped():
    evil = '<script>alert("x")</script> & "quotes"'
    sheet = _sheet(title=evil)
    svg = svg_mini_roll(sheet, 100, 40)
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    assert root.get("aria-label") == evil
    svg = svg_mini_roll(sheet, 100, 40, title=evil)
    assert "<script>" not in svg
    assert ET.fromstring(svg).find(f"{SVG}title").text == evil
    assert 'class="a&quot;b"' in svg_mini_roll(sheet, 100, 40, css_class='a"b')


def test_empty_sheet_says_no_notes():
    svg = svg_mini_roll(_sheet(notes=()), 120, 48)
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}text").text == "no notes"
    assert _notes(root) == []


def test_shared_pitch_range_keeps_scales_comparable():
    low, high = _sheet(notes=((60, 0, 8),)), _sheet(notes=((84, 0, 8),))
    span = pitch_span([low, high])
    assert span == (60, 84)
    y_low = float(_notes(ET.fromstring(svg_mini_roll(low, 100, 50, pitch_range=span)))[0].get("y"))
    y_high = float(_notes(ET.fromstring(svg_mini_roll(high, 100, 50, pitch_range=span)))[0].get("y"))
    assert y_high < 5 < 40 < y_low
    # own range: at least an octave, centred
    assert pitch_span([_sheet(notes=((60, 0, 4), (62, 4, 8)))]) == (55, 67)
    assert pitch_span([_sheet(notes=())]) is None


def test_notes_past_num_steps_widen_the_roll():
    svg = svg_mini_roll(_sheet(notes=((60, 0, 40),), num_steps=32), 80, 20)
    rect = _notes(ET.fromstring(svg))[0]
    assert float(rect.get("x")) + float(rect.get("width")) <= 80


@pytest.mark.parametrize("width, height", [(0, 10), (10, -1), (float("nan"), 10), ("wide", 10), (10, 1e9)])
def test_bad_sizes_raise(width, height):
    with pytest.raises(ValueError):
        svg_mini_roll(_sheet(), width, height)


def test_fast_enough_for_a_7x7_map():
    notes = tuple((60 + (i * 5) % 24, i * 2, i * 2 + 2) for i in range(64))
    sheet = _sheet(notes=notes, num_steps=128)
    started = time.perf_counter()
    for _ in range(49):
        svg = svg_mini_roll(sheet, 150, 60)
    assert time.perf_counter() - started < 0.5
    assert len(re.findall(r"<rect x=", svg)) >= 64
