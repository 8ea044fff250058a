"""The Style tab with the tiny debug models: generate, morph and transfer give audio, a four-track MIDI, a verdict
per window and the roll; bad input is named and leaves the results on screen; the tab without a model says so."""

from __future__ import annotations

import os

import gradio as gr
import pretty_midi
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from app.services import Studio  # noqa: E402
from app.style_tab import StyleTab  # noqa: E402


@pytest.fixture(scope="module")
def studio(tmp_path_factory) -> Studio:
    return Studio.load("debug", device="cpu", cache_dir=tmp_path_factory.mktemp("style_studio"))


@pytest.fixture(scope="module")
def tab(studio) -> StyleTab:
    with gr.Blocks():
        tab = StyleTab(studio).build()
    return tab


def _ok(out: dict, tab: StyleTab) -> bool:
    return "cz-okay" in out[tab.status]


def test_generate_gives_four_tracks_audio_and_a_verdict_per_window(tab):
    out = tab.generate("Bach chorale", 6, 3, None, None, None, None)
    assert _ok(out, tab), out[tab.status]
    pm = pretty_midi.PrettyMIDI(out[tab.midi])
    assert len(pm.instruments) == 4 and {i.program for i in pm.instruments} == {52}  # choir for chorales
    assert out[tab.verdict].count("<td") == 3  # one verdict per 2-bar window
    if tab.studio.has_audio:
        assert out[tab.audio].endswith(".ogg") and out[tab.wav].endswith(".wav")
    figure = tab.draw_roll(out[tab.pending_roll])
    assert len(figure.data) == 4  # one trace (colour) per track


def test_style_sets_fitting_instruments_and_they_can_be_changed(tab):
    assert tab.default_instruments("String quartet") == ["Violin", "Violin", "Viola", "Cello"]
    out = tab.generate("String quartet", 2, 0, "Flute", None, None, "Cello")
    assert [i.program for i in pretty_midi.PrettyMIDI(out[tab.midi]).instruments] == [73, 40, 41, 42]


def test_morph_and_transfer(tab, tmp_path):
    out = tab.morph("Trecento", "Irish folk", 4, 1)
    assert _ok(out, tab) and out[tab.verdict].count("<td") == 4
    source = tmp_path / "two.mid"
    pm = pretty_midi.PrettyMIDI(initial_tempo=100)
    for base in (72, 48):
        inst = pretty_midi.Instrument(0)
        inst.notes = [pretty_midi.Note(80, base + (i % 5), i * 0.3, i * 0.3 + 0.3) for i in range(32)]
        pm.instruments.append(inst)
    pm.write(str(source))
    moved = tab.transfer(str(source), "String quartet", 0.8)
    assert _ok(moved, tab), moved[tab.status]
    assert len(pretty_midi.PrettyMIDI(moved[tab.midi]).instruments) == 4


@pytest.mark.parametrize("call, words", [
    (lambda t: t.generate("Jazz", 4, 0), "Unknown style 'Jazz'"),
    (lambda t: t.generate("Trecento", 0, 0), "Bars must be between 2 and 16"),
    (lambda t: t.generate("Trecento", 5, 0), "even"),
    (lambda t: t.generate("Trecento", 4, 0, "Kazoo"), "Unknown instrument 'Kazoo'"),
    (lambda t: t.morph("Trecento", "Jazz", 4, 0), "style B"),
    (lambda t: t.transfer(None, "Trecento", 0.5), "No MIDI file uploaded"),
    (lambda t: t.transfer(None, "Trecento", 7), "Strength must be between 0 and 1"),
])
def test_bad_input_is_named_and_results_stay(tab, call, words):
    out = call(tab)
    assert words in out[tab.status] and "cz-error" in out[tab.status]
    assert tab.audio not in out and tab.midi not in out  # the results on screen stay


def test_a_midi_with_one_voice_or_twelve_is_refused(tab, tmp_path):
    for voices in (1, 12):
        pm = pretty_midi.PrettyMIDI(initial_tempo=100)
        for v in range(voices):
            inst = pretty_midi.Instrument(0)
            inst.notes = [pretty_midi.Note(80, 50 + 2 * v, i * 0.5, i * 0.5 + 0.5) for i in range(8)]
            pm.instruments.append(inst)
        path = tmp_path / f"v{voices}.mid"
        pm.write(str(path))
        out = tab.transfer(str(path), "Trecento", 0.5)
        assert f"this one has {voices}" in out[tab.status]


def test_without_the_model_the_tab_says_it_is_unavailable(studio, tmp_path):
    bare = Studio(studio.pipeline, synthesizer=None, cache_dir=tmp_path)
    with gr.Blocks() as demo:
        tab = StyleTab(bare).build()
    assert "The Style tab is unavailable" in str(demo.get_config_file())
    assert "no MusAE model" in tab.generate("Trecento", 4, 0)[tab.status]
