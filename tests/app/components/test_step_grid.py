"""Pattern helpers behind the step-grid widget (pure string logic, no browser)."""

from __future__ import annotations

import random

import pytest

from app.components import step_grid as sg
from engine.music.representation import parse_rhythm_pattern


def _well_formed(pattern: str, num_bars: int) -> None:
    bars = pattern.split("|")
    assert len(bars) == num_bars
    assert all(len(bar) == 16 for bar in bars)
    assert set(pattern) <= {"x", ".", "|"}
    assert len(pattern.replace("|", "")) == 16 * num_bars
    assert pattern.count("|") == num_bars - 1


@pytest.mark.parametrize("name", sg.PRESET_NAMES)
@pytest.mark.parametrize("num_bars", [2, 3, 4, 7, 16])
def test_presets_have_16_steps_per_bar(name, num_bars):
    pattern = sg.preset_pattern(name, num_bars, rng=random.Random(0))
    _well_formed(pattern, num_bars)
    if name != "Clear":
        # Every non-empty preset is a valid pipeline rhythm.
        assert len(parse_rhythm_pattern(pattern)) == 16 * num_bars
        assert pattern.startswith("x")


def test_specific_presets():
    assert sg.preset_pattern("Clear", 2) == "................|................"
    assert sg.preset_pattern("Quarter notes", 2) == "x...x...x...x...|x...x...x...x..."
    assert sg.preset_pattern("Eighth notes", 2) == "x.x.x.x.x.x.x.x.|x.x.x.x.x.x.x.x."
    reel = sg.preset_pattern("Folk reel", 4).split("|")
    assert reel[-1] != reel[0]  # the last bar lands on a long note
    assert sg.count_onsets(sg.preset_pattern("Clear", 16)) == 0


def test_unknown_preset_names_the_choices():
    with pytest.raises(KeyError, match="Quarter notes"):
        sg.preset_pattern("Polka", 4)


def test_random_preset_is_seedable():
    a = sg.preset_pattern("Random", 8, rng=random.Random(3))
    b = sg.preset_pattern("Random", 8, rng=random.Random(3))
    assert a == b
    _well_formed(a, 8)
    assert all(bar[0] == "x" for bar in a.split("|"))


def test_resize_keeps_onsets_pads_and_truncates():
    pattern = "x...x...x.x.x...|x.....x...x....."
    grown = sg.resize_pattern(pattern, 4)
    assert grown == pattern + "|" + "." * 16 + "|" + "." * 16
    assert sg.resize_pattern(grown, 2) == pattern
    assert sg.resize_pattern(pattern, 1) == "x...x...x.x.x..."
    assert sg.resize_pattern(pattern, 2) == pattern
    assert sg.resize_pattern("", 2) == sg.empty_pattern(2)
    assert sg.resize_pattern(None, 3) == sg.empty_pattern(3)
    assert sg.onset_steps(sg.resize_pattern(pattern, 16)) == sg.onset_steps(pattern)


def test_normalize_pattern():
    assert sg.normalize_pattern(None) == ""
    assert sg.normalize_pattern("  ") == ""
    assert sg.normalize_pattern("X-x.") == "x.x." + "." * 12  # short bar padded
    assert sg.normalize_pattern("x" * 20) == "x" * 16 + "|" + "xxxx" + "." * 12  # long bar split
    assert sg.normalize_pattern("x...x...x...x... | x...x...x...x...") == "x...x...x...x...|x...x...x...x..."
    assert sg.normalize_pattern("x...|||x...") == "x..............." + "|" + "x..............."
    assert sg.normalize_pattern("x?o.") == "x..." + "." * 12


def test_grid_value_to_rhythm_string():
    value = "x...x...x...x...|x.....x...x....."
    assert sg.to_rhythm(value) == value
    assert sg.to_rhythm(value, 2) == value
    # A grid that has not caught up with the bars slider yet is padded/truncated.
    assert sg.to_rhythm(value, 3) == value + "|" + "." * 16
    assert sg.to_rhythm(value, 1) == "x...x...x...x..."
    assert sg.to_rhythm(" X...x...x...x...|x-----x---x----- ", 2) == value
    # The result is exactly what the pipeline parses.
    onsets = parse_rhythm_pattern(sg.to_rhythm(value, 2))
    assert [i for i, on in enumerate(onsets) if on] == sg.onset_steps(value) == [0, 4, 8, 12, 16, 22, 26]


def test_onset_helpers_roundtrip():
    steps = [0, 4, 8, 12, 16, 22, 26]
    pattern = sg.pattern_from_onsets(steps, 2)
    assert pattern == "x...x...x...x...|x.....x...x....."
    assert sg.onset_steps(pattern) == steps
    assert sg.count_onsets(pattern) == 7
    assert sg.num_bars_of(pattern) == 2
    assert sg.pattern_from_onsets([-1, 40, 3], 2) == "...x............|................"


def test_set_step_toggles_like_a_click():
    pattern = sg.empty_pattern(2)
    pattern = sg.set_step(pattern, 1, 6)
    assert sg.onset_steps(pattern) == [22]
    pattern = sg.set_step(pattern, 1, 6)
    assert sg.onset_steps(pattern) == []
    pattern = sg.set_step(pattern, 0, 0, on=True)
    pattern = sg.set_step(pattern, 0, 0, on=True)
    assert sg.onset_steps(pattern) == [0]
    with pytest.raises(IndexError):
        sg.set_step(pattern, 2, 0)
    with pytest.raises(IndexError):
        sg.set_step(pattern, 0, 16)


def test_clamp_bars():
    assert sg.clamp_bars(4) == 4
    assert sg.clamp_bars(4.4) == 4
    assert sg.clamp_bars(0) == 2
    assert sg.clamp_bars(1000) == 16
    assert sg.clamp_bars(None) == sg.DEFAULT_BARS
    assert sg.clamp_bars("x") == sg.DEFAULT_BARS


def test_default_pattern_is_valid():
    _well_formed(sg.DEFAULT_PATTERN, sg.DEFAULT_BARS)
    parse_rhythm_pattern(sg.DEFAULT_PATTERN)


def test_step_grid_component_config():
    import gradio as gr

    with gr.Blocks():
        grid = sg.step_grid("x...x...x...x...|x", chords=["C", "G"])
    assert grid.value == "x...x...x...x...|x..............."
    assert grid.props["chords"] == ["C", "G"]
    config = grid.get_config()
    assert "cz-cell" in config["html_template"] and "data-step" in config["html_template"]
    assert "props.value" in config["js_on_load"]
    assert grid.elem_id == "cz-step-grid"
    # The template must survive Handlebars (no mustaches) and JS template-literal evaluation
    # (no backslash escapes that Python would already have consumed).
    assert "{{" not in sg.HTML_TEMPLATE and "\\" not in sg.HTML_TEMPLATE and "\\" not in sg.JS_ON_LOAD


def test_preset_table_holds_every_bar_count():
    table = sg.preset_table("Folk reel")
    assert sorted(map(int, table)) == list(range(sg.MIN_BARS, sg.MAX_BARS + 1))
    assert all(table[str(n)] == sg.preset_pattern("Folk reel", n) for n in range(sg.MIN_BARS, sg.MAX_BARS + 1))
    with pytest.raises(ValueError, match="Random"):
        sg.preset_js(sg.RANDOM_PRESET)
