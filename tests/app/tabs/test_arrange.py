"""The Arrange tab's handlers and service with the debug models (no browser)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pretty_midi
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from app.library import Library  # noqa: E402
from app.services import Studio  # noqa: E402
from app.studio import build_studio  # noqa: E402
from app.tabs.arrange import ArrangeTab  # noqa: E402
from tests.conftest import make_nottingham_midi  # noqa: E402
from tests.midi_factory import drums_only, no_notes, pm_bytes  # noqa: E402

RHYTHM = "x...x...x.x.x...|x...x...x...x..."


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    studio = Studio.load(
        "debug", device="cpu", cache_dir=tmp_path_factory.mktemp("c"), library=Library(tmp_path_factory.mktemp("d"))
    )
    return build_studio(studio)


def _request(session: str) -> SimpleNamespace:
    return SimpleNamespace(session_hash=session, username=None)


def _status(out) -> str:
    return out[0] if isinstance(out, tuple) else next(iter(out.values()))


def test_suggest_then_arrange_the_last_composed_melody(demo) -> None:
    tab: ArrangeTab = demo.cz_arrange
    studio = tab.studio
    studio.keeper.register("arr", None)
    melody = studio.compose(RHYTHM, "C G", 2, seed=4, session_id="arr")[0]
    status, chords, alternatives, sheet = tab.suggest("Last composed", None, melody.sheet, 16, None, 0)
    assert "cz-okay" in status and "2 bars" in status and chords.count("|") == 1
    assert "cz-alt" in alternatives and sheet.melody.notes == melody.sheet.melody.notes
    out = tab.arrange("Last composed", None, melody.sheet, 16, None, chords, "English folk", 3, request=_request("arr"))
    assert (
        "cz-okay" in out[tab.status] and "English folk" in out[tab.status] and "kept in your Library" in out[tab.status]
    )
    midi = pretty_midi.PrettyMIDI(out[tab.midi])
    assert len(midi.instruments) >= 2
    top = [(round(n.start, 3), n.pitch) for n in midi.instruments[0].notes]
    step = 60.0 / melody.sheet.melody.tempo_bpm / 4
    assert top == [(round(n.start * step, 3), n.pitch) for n in melody.sheet.melody.notes]  # note for note
    assert Path(out[tab.musicxml]).read_text().count("<part id=") == 4
    assert "windows heard as English folk" in out[tab.verdict]
    figure = tab.draw_roll(out[tab.pending_roll])
    assert figure is not None
    again = tab.redraw(out[tab.current], out[tab.melody], "Voice 4 (bass)", 9, request=_request("arr"))
    assert "redrawn" in again[tab.status]
    kept = again[tab.current].arrangement.tokens
    assert (kept[:3] == out[tab.current].arrangement.tokens[:3]).all()
    pieces = studio.library.pieces("arr", tab="Arrange")
    assert len(pieces) == 2 and pieces[0].files["piece.mid"].is_file()


@pytest.mark.parametrize(
    "content, words",
    [
        (no_notes(), "no pitched notes"),
        (drums_only(), "no pitched notes"),
        (None, "plays chords"),  # a polyphonic track given as the melody
        (b"not midi at all", "MIDI"),
    ],
)
def test_bad_melodies_get_a_message_and_the_page_keeps_its_result(demo, tmp_path, content, words) -> None:
    tab: ArrangeTab = demo.cz_arrange
    if content is None:
        pm = pretty_midi.PrettyMIDI(initial_tempo=120)
        piano = pretty_midi.Instrument(0, name="Piano")
        for bar in range(4):
            for pitch in (60, 64, 67):
                piano.notes.append(pretty_midi.Note(80, pitch, bar * 2.0, bar * 2.0 + 2.0))
        pm.instruments.append(piano)
        content = pm_bytes(pm)
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    status, *rest = tab.suggest("Upload MIDI", str(path), None, 16, None, 0)
    assert "cz-error" in status and words.lower() in status.lower(), status
    assert all(value == gr.skip() for value in rest)  # the chords, alternatives and melody shown stay
    out = tab.arrange("Upload MIDI", str(path), None, 16, None, "", "English folk", 0)
    assert list(out) == [tab.status, tab.pending_roll] and out[tab.pending_roll] is None  # nothing else changes


def test_long_files_unknown_chords_and_tracks(demo, tmp_path) -> None:
    tab: ArrangeTab = demo.cz_arrange
    notes = [(60 + (i % 5), i * 8, i * 8 + 8) for i in range(128)]  # 64 bars
    path = tmp_path / "long.mid"
    path.write_bytes(make_nottingham_midi(notes=notes, chords=[("C", (48, 52, 55))] * 64))
    status, chords, *_ = tab.suggest("Upload MIDI", str(path), None, 16, None, 0)
    assert "the first 16 of 64" in status and chords.count("|") == 15
    status, *_ = tab.suggest("Upload MIDI", str(path), None, 64, None, 0)
    assert "Bars must be between 1 and 32" in status
    out = tab.arrange("Upload MIDI", str(path), None, 4, None, "C Xq7 G", "English folk", 0)
    assert "Xq7" in out[tab.status] and "cz-error" in out[tab.status]
    status, *_ = tab.suggest("Upload MIDI", str(path), None, 4, 1, 0)  # track 1: the block chords
    assert "plays chords" in status
    status, *_ = tab.suggest("Upload MIDI", str(path), None, 4, 7, 0)
    assert "Melody track must be between 0 and 1" in status
    assert "Nothing composed yet" in tab.suggest("Last composed", None, None, 4, None, 0)[0]


def test_a_reload_brings_the_last_arrangement_back(demo) -> None:
    tab: ArrangeTab = demo.cz_arrange
    studio = tab.studio
    token = studio.keeper.register("arr-before", None)
    melody = studio.compose(RHYTHM, "C G", 2, seed=5, session_id="arr-before")[0]
    out = tab.arrange(
        "Last composed", None, melody.sheet, 16, None, "C | G", "Trecento", 6, request=_request("arr-before")
    )
    studio.keeper.register("arr-after", token)
    back = tab.restore(request=_request("arr-after"))
    assert "Welcome back" in back[tab.status] and back[tab.style] == "Trecento" and back[tab.chords] == "C | G"
    assert back[tab.seed] == 6 and back[tab.current] is None
    shown = back[tab.pending_roll]
    assert (shown.arrangement.tokens == out[tab.current].arrangement.tokens).all()
    assert [c.symbol for c in shown.arrangement.chords.chords] == ["C", "G"]
    assert Path(back[tab.midi]).read_bytes() == Path(out[tab.midi]).read_bytes()
    assert tab.draw_roll(shown) is not None
    assert list(tab.restore(request=_request("arr-stranger"))) == [tab.status]


def test_a_melody_played_on_a_keyboard_is_read_and_arranged(demo) -> None:
    import json

    tab: ArrangeTab = demo.cz_arrange
    # 120 BPM: a sixteenth is 125 ms; C D E F G, a quarter each, then a half-note C
    played = [[60 + step, 1000 + 500 * i, 1000 + 500 * i + 480] for i, step in enumerate((0, 2, 4, 5, 7))]
    played.append([72, 3500, 4490])
    take = json.dumps({"notes": played, "stop": 5000, "take": 1})
    source, path, track, status = tab.take_played(take, 120, request=_request("kbd"))
    assert source == "Upload MIDI" and track is None and "6 notes in 2 bars at 120 BPM" in status
    pm = pretty_midi.PrettyMIDI(path)
    assert [(n.pitch, round(n.start, 3)) for n in pm.instruments[0].notes] == [
        (60, 0.0),
        (62, 0.5),
        (64, 1.0),
        (65, 1.5),
        (67, 2.0),
        (72, 2.5),
    ]
    status, chords, _, sheet = tab.suggest(source, path, None, 16, None, 0)
    assert "Chords for" in status and [n.pitch for n in sheet.melody.notes] == [60, 62, 64, 65, 67, 72]
    with pytest.raises(gr.Error, match="No notes were played"):
        tab.take_played(json.dumps({"notes": [], "stop": 1}), 120)
    with pytest.raises(gr.Error, match="Tempo must be between 30 and 300"):
        tab.take_played(take, 500)


def test_open_in_arrange_takes_a_results_midi(demo, tmp_path) -> None:
    tab: ArrangeTab = demo.cz_arrange
    midi = tmp_path / "tune.mid"
    midi.write_bytes(b"MThd")
    tabs, source, path, track, status = tab.open_result([str(tmp_path / "tune.abc"), str(midi)])  # Emotion's files
    assert source == "Upload MIDI" and path == str(midi) and track is None and "Opened in Arrange" in status
    assert tab.open_result(str(midi))[2] == str(midi)  # one file (Compose, Song, Style, Explore)
    with pytest.raises(gr.Error, match="Nothing to open in Arrange yet"):
        tab.open_result(None)
    # every other tab's results have the button
    for other in (demo.cz_compose, demo.cz_explore, demo.cz_song, demo.cz_emotion, demo.cz_style):
        assert other.arrange_sources and all(isinstance(b, gr.Button) for b, _ in other.arrange_sources)


def test_a_waltz_is_arranged_in_three_four_and_comes_back_so(demo, tmp_path) -> None:
    tab: ArrangeTab = demo.cz_arrange
    studio = tab.studio
    token = studio.keeper.register("waltz", None)
    # 8 bars of 3/4: a dotted half, or a quarter and a half
    notes = []
    for bar in range(8):
        start = bar * 12
        if bar % 2:
            notes += [(67 + bar % 3, start, start + 4), (64, start + 4, start + 12)]
        else:
            notes.append((60 + bar % 5, start, start + 12))
    path = tmp_path / "waltz.mid"
    path.write_bytes(make_nottingham_midi(notes, [("C", (60, 64, 67))] * 8, numerator=3, steps_per_chord=12))
    status, chords, _, sheet = tab.suggest("Upload MIDI", str(path), None, 16, 0, 0)
    assert "Chords for" in status and chords.count("|") == 7 and sheet.melody.time_signature == (3, 4)
    out = tab.arrange("Upload MIDI", str(path), None, 16, 0, chords, "Bach chorale", 2, request=_request("waltz"))
    result = out[tab.current]
    assert result.arrangement.time_signature == (3, 4)
    pm = pretty_midi.PrettyMIDI(out[tab.midi])
    assert [(t.numerator, t.denominator) for t in pm.time_signature_changes] == [(3, 4)]
    assert [n.pitch for n in pm.instruments[0].notes] == [p for p, _, _ in notes]
    xml = Path(out[tab.musicxml]).read_text()
    assert "<beats>3</beats>" in xml and "<beats>4</beats>" not in xml
    studio.keeper.register("waltz-again", token)
    back = tab.restore(request=_request("waltz-again"))
    assert back[tab.pending_roll].arrangement.time_signature == (3, 4)
    assert back[tab.pending_roll].arrangement.steps_per_bar == 12
