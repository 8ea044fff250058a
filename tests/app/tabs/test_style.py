"""The Style tab with the tiny debug models: generate (MusAE, or the GAN over typed chords), morph and transfer give
audio, a four-track MIDI, a verdict per window and the roll; bad input is named and leaves the results on screen; the
tab without a model, or without the GAN, says so."""

from __future__ import annotations

import os

import gradio as gr
import numpy as np
import pretty_midi
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from app.services import Studio  # noqa: E402
from app.services.style import STYLE_OWN  # noqa: E402
from app.tabs.style import StyleTab  # noqa: E402
from tests.conftest import skip_without_audio  # noqa: E402


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
    assert out[tab.verdict].count("data-window=") == 3  # one verdict per 2-bar window
    figure = tab.draw_roll(out[tab.pending_roll])
    assert len(figure.data) == 4  # one trace (colour) per track


def test_every_piece_is_heard_musae_and_gan_alike(tab):
    skip_without_audio(tab.studio)
    out = tab.generate("Bach chorale", 6, 3, None, None, None, None)
    assert out[tab.audio].endswith(".ogg") and out[tab.wav].endswith(".wav")
    gan = tab.generate("Irish folk", 8, 4, None, None, None, None, "GAN", "C G Am F")
    assert gan[tab.audio].endswith(".ogg") and "gan" in gan[tab.audio]


def test_an_api_call_that_leaves_the_instruments_out_hears_the_styles_own(tab):
    # the API's default for inst1..inst4 is the dropdowns' starting value: it must not be the first style's instruments
    assert [dropdown.value for dropdown in tab.instruments] == [STYLE_OWN] * 4
    out = tab.generate("String quartet", 2, 0, *[dropdown.value for dropdown in tab.instruments])
    assert [i.program for i in pretty_midi.PrettyMIDI(out[tab.midi]).instruments] == [
        40,
        40,
        41,
        42,
    ]  # violins, viola, cello


def test_style_sets_fitting_instruments_and_they_can_be_changed(tab):
    assert tab.default_instruments("String quartet") == ["Violin", "Violin", "Viola", "Cello"]
    out = tab.generate("String quartet", 2, 0, "Flute", None, None, "Cello")
    assert [i.program for i in pretty_midi.PrettyMIDI(out[tab.midi]).instruments] == [73, 40, 41, 42]


def test_morph_and_transfer(tab, tmp_path):
    out = tab.morph("Trecento", "Irish folk", 4, 1)
    assert _ok(out, tab) and out[tab.verdict].count("data-window=") == 4
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


def test_the_gan_over_typed_chords_gives_four_tracks_and_a_verdict(tab):
    assert tab.model.value == "MusAE" and tab.chords.visible is False  # both here: MusAE first, no chord box
    assert tab.chords_box("GAN").visible is True and tab.chords_box("MusAE").visible is False
    out = tab.generate("Irish folk", 8, 4, None, None, None, None, "GAN", "C G Am F")
    assert _ok(out, tab), out[tab.status]
    assert "GAN: Irish folk · 8 bars · seed 4 · chords C G Am F" in out[tab.status]
    assert len(pretty_midi.PrettyMIDI(out[tab.midi]).instruments) == 4
    assert out[tab.verdict].count("data-window=") == 4 and "on the GAN piece" in out[tab.verdict]
    assert out[tab.pending_roll].model == "GAN" and out[tab.pending_roll].report["generator"] == "GAN"
    roll = tab.draw_roll(out[tab.pending_roll])
    assert len(roll.data) == 4
    # the chords asked for, one band and label per bar on the roll
    assert [a.text for a in roll.layout.annotations] == ["C", "G", "Am", "F"] * 2
    assert [a.x for a in roll.layout.annotations] == list(range(1, 9)) and len(roll.layout.shapes) == 8
    again = tab.generate("Irish folk", 8, 4, None, None, None, None, "GAN", "C G Am F")
    other = tab.generate("Irish folk", 8, 4, None, None, None, None, "GAN", "Bb Eb F Gm")
    assert (again[tab.pending_roll].tokens == out[tab.pending_roll].tokens).all()
    assert not (other[tab.pending_roll].tokens == out[tab.pending_roll].tokens).all()  # the chords are heard
    plain = tab.generate("Irish folk", 2, 0, None, None, None, None, "GAN", "")  # no chords: fine too
    assert _ok(plain, tab) and "chords" not in plain[tab.status]
    assert not tab.draw_roll(plain[tab.pending_roll]).layout.annotations  # no chords asked: none drawn
    musae = tab.generate("Irish folk", 2, 0, None, None, None, None, "MusAE", "C G")  # MusAE ignores the (hidden) box
    assert _ok(musae, tab) and "MusAE: Irish folk" in musae[tab.status] and "on the MusAE piece" in musae[tab.verdict]


def test_old_api_clients_get_musae(studio):
    result = studio.style.generate("Trecento", 2, 1)  # no generator named: MusAE, as before the GAN
    assert result.model == "MusAE" and result.title.startswith("MusAE: Trecento")


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda t: t.generate("Trecento", 4, 0, None, None, None, None, "GAN", "C H7 F"), "Unknown chord symbol 'H7'"),
        (
            lambda t: t.generate("Trecento", 4, 0, None, None, None, None, "GAN", "C/Q"),
            "Chords: Unknown chord symbol 'C/Q'",
        ),
        (
            lambda t: t.generate("Trecento", 4, 0, None, None, None, None, "Markov", ""),
            "Unknown generator 'Markov': choose one of MusAE, GAN",
        ),
        (lambda t: t.generate("Jazz", 4, 0, None, None, None, None, "GAN", "C"), "Unknown style 'Jazz'"),
        (lambda t: t.generate("Trecento", 5, 0, None, None, None, None, "GAN", "C"), "even"),
        (lambda t: t.generate("Jazz", 4, 0), "Unknown style 'Jazz'"),
        (lambda t: t.generate("Trecento", 0, 0), "Bars must be between 2 and 16"),
        (lambda t: t.generate("Trecento", 5, 0), "even"),
        (lambda t: t.generate("Trecento", 4, 0, "Kazoo"), "Unknown instrument 'Kazoo'"),
        (lambda t: t.morph("Trecento", "Jazz", 4, 0), "style B"),
        (lambda t: t.transfer(None, "Trecento", 0.5), "No MIDI file uploaded"),
        (lambda t: t.transfer(None, "Trecento", 7), "Strength must be between 0 and 1"),
    ],
)
def test_bad_input_is_named_and_results_stay(tab, call, words):
    out = call(tab)
    assert words in out[tab.status] and "cz-error" in out[tab.status]
    assert tab.audio not in out and tab.midi not in out and tab.verdict not in out  # the results on screen stay


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
    assert (
        "The style GAN is unavailable" in tab.generate("Trecento", 4, 0, None, None, None, None, "GAN", "C")[tab.status]
    )


def test_without_the_gan_it_says_so_and_musae_keeps_working(studio, tmp_path):
    from app.services import load_style_gan_pipeline

    missing = tmp_path / "no_stylegan"
    assert load_style_gan_pipeline(missing) is None  # what Studio.load does when checkpoints/stylegan is missing
    no_gan = Studio(
        studio.pipeline,
        synthesizer=None,
        cache_dir=tmp_path,
        style_pipeline=studio.style.pipeline,
        style_gan_pipeline=None,
    )
    with gr.Blocks() as demo:
        tab = StyleTab(no_gan).build()
    config = str(demo.get_config_file())
    assert "The GAN is unavailable" in config and "unavailable here: GAN" in config
    assert "The Style tab is unavailable" not in config
    out = tab.generate("Trecento", 4, 0, None, None, None, None, "GAN", "C G")
    assert "The style GAN is unavailable: no GAN model at" in out[tab.status] and "choose MusAE" in out[tab.status]
    assert tab.audio not in out and tab.midi not in out
    assert _ok(tab.generate("Trecento", 4, 0, None, None, None, None, "MusAE", ""), tab)
    assert _ok(tab.morph("Trecento", "Irish folk", 2, 0), tab)


def test_with_the_gan_alone_it_is_the_default_and_morph_says_it_needs_musae(studio, tmp_path):
    gan_only = Studio(
        studio.pipeline, synthesizer=None, cache_dir=tmp_path, style_gan_pipeline=studio.style.gan_pipeline
    )
    with gr.Blocks() as demo:
        tab = StyleTab(gan_only).build()
    assert tab.model.value == "GAN" and tab.chords.visible is True
    assert "MusAE is unavailable" in str(demo.get_config_file())
    assert _ok(tab.generate("Trecento", 4, 0, None, None, None, None), tab)  # the default: the GAN
    morph = tab.morph("Trecento", "Irish folk", 2, 0)
    assert "MusAE is unavailable" in morph[tab.status] and "morph and transfer need MusAE" in morph[tab.status]


def test_a_gan_checkpoint_loads_with_the_shared_judge_and_a_broken_one_is_unavailable(studio, tmp_path):
    import torch

    from app.services import load_style_gan_pipeline
    from engine.models.registry import save_stylegan
    from engine.models.style_gan import StyleGANConfig, StyleGenerator

    styles = studio.style.styles
    torch.manual_seed(3)
    save_stylegan(StyleGenerator(StyleGANConfig.debug(len(styles))), tmp_path / "gan", {"styles": styles})
    judge = studio.style.pipeline.judge
    loaded = load_style_gan_pipeline(tmp_path / "gan", studio.style.pipeline)
    assert loaded is not None and loaded.judge is judge and loaded.styles == styles  # one judge in memory
    assert loaded(styles[0], 2, 0, chords="C").samples[0].tokens.shape == (4, 32)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    assert (
        load_style_gan_pipeline(tmp_path / "broken", studio.style.pipeline) is None
    )  # logged; MusAE and the rest keep working


def test_gan_pieces_asked_at_once_share_a_batch_and_are_each_their_own(studio, monkeypatch):
    """Generate with the GAN from several pages at once: one batch (the service's MicroBatcher), each piece what it is
    alone; MusAE's requests still take turns."""
    import threading

    service = studio.style
    assert service.gan_batcher is not None and service.concurrency == studio.shared.max_batch > 1
    monkeypatch.setattr(service.gan_batcher, "window_s", 0.3)
    calls = [("Bach chorale", 4, 1, "C G"), ("Irish folk", 4, 2, None), ("English folk", 4, 3, None)]
    alone = [service.generate(s, b, seed, model="GAN", chords=c) for s, b, seed, c in calls]
    before = service.gan_batcher.stats.requests
    together: list = [None] * len(calls)
    go = threading.Barrier(len(calls))

    def press(index: int) -> None:
        style, bars, seed, chords = calls[index]
        go.wait()
        together[index] = service.generate(style, bars, seed, model="GAN", chords=chords)

    threads = [threading.Thread(target=press, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert service.gan_batcher.stats.requests == before + len(calls) and max(service.gan_batcher.stats.sizes) == 3
    for mine, theirs in zip(together, alone):
        assert np.array_equal(mine.tokens, theirs.tokens) and mine.verdicts == theirs.verdicts
