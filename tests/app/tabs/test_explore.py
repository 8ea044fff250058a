"""The Explore tab's services and handlers with the tiny "debug" model (no browser).

Covers the sources (example, uploaded MIDI, last composed), interpolation, the 2-D
map (build, cell click, morph), the analogies, the map widget's value helpers, and
every kind of bad upload of issue point 6: each gives a clear message, nothing
raises, and a normal request still works afterwards.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import gradio as gr
import pretty_midi
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from app.components import latent_map as lm  # noqa: E402
from app.services import (  # noqa: E402
    ANALOGY_OWN,
    CHORDS_FROM_A,
    CHORDS_FROM_B,
    CHORDS_TYPED,
    MAX_UPLOAD_BYTES,
    SOURCE_EXAMPLE,
    SOURCE_LAST,
    SOURCE_UPLOAD,
    ExploreMap,
    InputError,
    Studio,
)
from app.tabs.explore import ExploreTab
from engine.render.encode import decode_audio  # noqa: E402
from tests.conftest import make_nottingham_midi, skip_without_audio  # noqa: E402
from tests.midi_factory import drums_only, many_notes, many_tracks, no_notes, truncated  # noqa: E402

A_TITLE, B_TITLE = "Cuckoo's Nest", "Hänschen klein"


@pytest.fixture(scope="module")
def studio(tmp_path_factory) -> Studio:
    return Studio.load("debug", device="cpu", cache_dir=tmp_path_factory.mktemp("explore_studio"))


@pytest.fixture(scope="module")
def tab(studio) -> ExploreTab:
    with gr.Blocks():
        tab = ExploreTab(studio).build()
    return tab


def _source(kind=SOURCE_EXAMPLE, example=A_TITLE, file=None, track=None, start=0) -> list:
    return [kind, example, file, track, start]


def _map_args(
    a=None,
    b=None,
    bars=2,
    chords_mode=CHORDS_FROM_A,
    chords_text="",
    size=5,
    instrument="Flute",
    cell_chords=False,
    last_sheet=None,
) -> list:
    a = a or _source()
    b = b or _source(example=B_TITLE)
    return [*a, *b, bars, chords_mode, chords_text, size, instrument, cell_chords, last_sheet]


def _status(out: dict, component) -> str:
    assert component in out, "the handler must always update its status"
    return out[component]


def _ok(text: str) -> bool:
    return "cz-okay" in text and "cz-error" not in text


@pytest.fixture
def midi_path(tmp_path):
    def write(data: bytes, name: str = "upload.mid") -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


# ---------------------------------------------------------------- services


def test_explore_pipeline_shares_the_compose_model(studio):
    assert studio.explore.pipeline.model is studio.pipeline.model


def test_example_sources_and_defaults(studio, tab):
    a_default, b_default = studio.explore.default_examples()
    assert a_default != b_default
    assert a_default in studio.explore.examples() and b_default in studio.explore.examples()
    # the page opens with two different examples already read
    for side, title in (("A", a_default), ("B", b_default)):
        box = tab.sides[side]
        assert box["kind"].value == SOURCE_EXAMPLE
        assert box["example"].value == title
        assert "<svg" in box["preview"].value
        assert "cz-ok" in box["status"].value and title in box["status"].value

    source = studio.explore.load_source("A", SOURCE_EXAMPLE, A_TITLE, bars=4)
    assert source.sheet.melody.num_steps == 64
    assert source.title == A_TITLE
    assert "4 bars" in source.summary and "notes" in source.summary
    later = studio.explore.load_source("A", SOURCE_EXAMPLE, A_TITLE, start_bar=2, bars=2)
    assert later.sheet.melody.num_steps == 32 and "from bar 2" in later.summary


def test_upload_source_from_bytes_and_path(studio, midi_path):
    data = make_nottingham_midi()
    tracks = studio.explore.upload_tracks(data)
    assert [index for _, index in tracks.choices] == [0, 1]
    assert tracks.default == 0  # the melody, not the block chords
    assert "notes" in tracks.choices[0][0] and "mean pitch" in tracks.choices[0][0]

    from_bytes = studio.explore.load_source("A", SOURCE_UPLOAD, file=data, bars=4)
    from_path = studio.explore.load_source("A", SOURCE_UPLOAD, file=midi_path(data, "my_tune.mid"), track=0, bars=4)
    assert from_path.title == "my_tune"
    assert len(from_bytes.sheet.melody.notes) == len(from_path.sheet.melody.notes) == 13
    assert [c.symbol for c in from_path.sheet.chords.chords][:2] == ["G", "C"]
    # the chords track has no melody to speak of, but it is a valid choice; a missing track is not
    with pytest.raises(InputError, match="Track 5"):
        studio.explore.load_source("A", SOURCE_UPLOAD, file=data, track=5, bars=4)


def test_last_composed_source(studio, tab):
    with pytest.raises(InputError, match="Compose tab"):
        studio.explore.load_source("B", SOURCE_LAST, bars=2, last_sheet=None)
    composed = studio.compose("x...x...x.x.x...|x.......x...x...", "C G", 2, seed=1, variations=1)[0].sheet
    source = studio.explore.load_source("B", SOURCE_LAST, bars=2, last_sheet=composed)
    assert source.sheet.melody.onset_steps() == composed.melody.onset_steps()
    preview, status = tab.preview_source("B", SOURCE_LAST, None, None, None, 0, 2, composed)
    assert "<svg" in preview and "cz-ok" in status
    out = tab.build_map(*_map_args(b=_source(SOURCE_LAST, None), size=2, last_sheet=composed))
    assert _ok(_status(out, tab.map_status))
    # a new composition refreshes only the sides that use it
    refreshed = tab.refresh_last_composed(*_source(), *_source(SOURCE_LAST, None), 2, composed)
    assert isinstance(refreshed[0], dict) and refreshed[0].get("__type__") == "update"  # gr.skip() for A
    assert "<svg" in refreshed[2] and "cz-ok" in refreshed[3]


# ---------------------------------------------------------------- interpolation / map / morph / analogy


def test_interpolation_is_one_piece_of_n_steps(tab):
    out = tab.interpolate(*_map_args()[:13], 4, "Flute")
    status = _status(out, tab.interp_status)
    assert _ok(status) and "4 steps" in status
    pm = pretty_midi.PrettyMIDI(out[tab.interp_midi])
    seconds_per_step = 60.0 / 100.0 / 4  # A's tempo (Cuckoo's Nest: 100 BPM)
    assert pm.get_end_time() == pytest.approx(4 * 32 * seconds_per_step, abs=0.05)  # 4 steps x one 2-bar window
    assert out[tab.interp_plot] is not None


def test_the_interpolation_is_heard_whole(tab):
    skip_without_audio(tab.studio)
    out = tab.interpolate(*_map_args()[:13], 4, "Flute")
    rate, audio = decode_audio(out[tab.interp_audio])  # the player's file: Ogg Opus
    assert rate > 0 and len(audio) >= 4 * 32 * (60.0 / 100.0 / 4) * rate  # 4 steps x one 2-bar window at 100 BPM


def test_map_build_renders_every_cell(tab):
    out = tab.build_map(*_map_args(size=5))
    status = _status(out, tab.map_status)
    assert _ok(status) and "25 cells" in status
    explore_map = out[tab.map_state]
    assert isinstance(explore_map, ExploreMap) and explore_map.size == 5
    assert len(explore_map.cells) == 5 and all(len(row) == 5 for row in explore_map.cells)
    widget = out[tab.map]
    assert json.loads(widget.value)["size"] == 5
    cells = widget.props["cells"]
    assert len(cells) == 5 and all(len(row) == 5 and all("<svg" in c["svg"] for c in row) for row in cells)
    assert widget.props["a_title"] == A_TITLE and widget.props["b_title"] == B_TITLE
    # rows move pitch, columns rhythm: cells of one column share their onsets
    for col in range(5):
        onsets = {tuple(explore_map.cells[row][col].sheet.melody.onset_steps()) for row in range(5)}
        assert len(onsets) == 1
    # the previous cell selection is cleared
    assert out[tab.cell_audio] is None


def test_a_small_map_is_prerendered_so_cells_play_at_once(tab):
    skip_without_audio(tab.studio)
    explore_map = tab.build_map(*_map_args(size=5))[tab.map_state]
    assert explore_map.prerendered
    for row in explore_map.cells:
        for cell in row:
            assert cell.wav_path.endswith(".wav") and cell.audio_path is None
            assert Path(cell.wav_path).stat().st_size > 1000


def test_cell_click_plays_and_offers_midi(tab):
    explore_map = tab.build_map(*_map_args(size=3))[tab.map_state]
    by_event = tab.play_cell(lm.map_value(), explore_map, gr.EventData(None, {"row": 1, "col": 2}))
    by_value = tab.play_cell(lm.map_value(cell=(1, 2), size=3), explore_map)
    for out in (by_event, by_value):
        assert "(2, 3)" in out[tab.cell_title]
        assert out[tab.cell_plot] is not None
        pm = pretty_midi.PrettyMIDI(out[tab.cell_midi])
        assert sum(len(inst.notes) for inst in pm.instruments) > 0  # melody and chords
    # no map yet, a cell outside the map, no cell at all: messages
    assert "Build the map" in tab.play_cell(lm.map_value(cell=(0, 0)), None)[tab.cell_title]
    assert "no cell" in tab.play_cell("", explore_map, gr.EventData(None, {"row": 7, "col": 0}))[tab.cell_title]
    assert "Click a cell" in tab.play_cell(lm.map_value(size=3), explore_map)[tab.cell_title]
    assert "map_value must be the map's JSON value" in tab.play_cell("not json", explore_map)[tab.cell_title]
    assert "no cell of this 3×3 map" in tab.play_cell('{"cell": [0, 3]}', explore_map)[tab.cell_title]


def test_a_clicked_cell_plays(tab):
    skip_without_audio(tab.studio)
    explore_map = tab.build_map(*_map_args(size=3))[tab.map_state]
    out = tab.play_cell(lm.map_value(cell=(1, 2), size=3), explore_map)
    assert Path(out[tab.cell_audio]).suffix == ".ogg" and Path(out[tab.cell_audio]).is_file()


def test_big_maps_render_cells_on_first_click(studio, tab, monkeypatch):
    skip_without_audio(studio)
    monkeypatch.setattr("app.services.explore.PRERENDER_AUDIO_SECONDS", 0.0)
    explore_map = tab.build_map(*_map_args(size=2))[tab.map_state]
    assert not explore_map.prerendered and explore_map.cells[1][1].wav_path is None
    out = tab.play_cell(lm.map_value(cell=(1, 1)), explore_map)
    assert Path(out[tab.cell_audio]).is_file()


def test_morph_follows_the_path(studio, tab):
    explore_map = tab.build_map(*_map_args(size=5))[tab.map_state]
    path = [(0, 0), (1, 1), (1, 2), (4, 4)]
    out = tab.export_morph(lm.map_value(path=path, size=5), explore_map, "Flute")
    status = _status(out, tab.morph_status)
    assert _ok(status) and "4 cells" in status
    pm = pretty_midi.PrettyMIDI(out[tab.morph_midi])
    assert pm.get_end_time() == pytest.approx(4 * 32 * 60.0 / 100.0 / 4, abs=0.05)
    clip = studio.explore.morph(explore_map, path)
    assert clip.sheet.melody.num_steps == 4 * 32
    # an empty path follows the diagonal; no map is a message
    out = tab.export_morph(lm.map_value(size=5), explore_map, "Flute")
    assert "diagonal" in out[tab.morph_status] and "5 cells" in out[tab.morph_status]
    assert "Build the map" in tab.export_morph(lm.map_value(path=path), None)[tab.morph_status]
    # an API caller's malformed path is named, not silently replaced by the diagonal
    out = tab.export_morph(lm.map_value(path=[(0, 0), (5, 5)], size=5), explore_map, "Flute")
    assert "cz-error" in out[tab.morph_status] and "[5, 5], which is no cell of this 5×5 map" in out[tab.morph_status]
    assert "map_value must be a JSON object" in tab.export_morph("[1, 2]", explore_map, "Flute")[tab.morph_status]


def test_analogy_takes_b_rhythm_exactly(studio, tab):
    a = studio.explore.load_source("A", SOURCE_EXAMPLE, A_TITLE, bars=2)
    b = studio.explore.load_source("B", SOURCE_EXAMPLE, B_TITLE, bars=2)
    a_tune_b_rhythm, b_tune_a_rhythm, reharmonised = studio.explore.analogy(a, b, ANALOGY_OWN, "Am F C G")
    assert a_tune_b_rhythm.sheet.melody.onset_steps() == b.sheet.melody.onset_steps()
    assert b_tune_a_rhythm.sheet.melody.onset_steps() == a.sheet.melody.onset_steps()
    assert reharmonised.sheet.melody.onset_steps() == a.sheet.melody.onset_steps()
    assert [c.symbol for c in reharmonised.sheet.chords.chords] == ["Am", "F"]

    out = tab.analogy(*_map_args()[:11], ANALOGY_OWN, "Am F C G", "Flute")
    assert _ok(_status(out, tab.analogy_status))
    for box in tab.analogy_boxes:
        assert pretty_midi.PrettyMIDI(out[box["midi"]]).instruments
        assert out[box["plot"]] is not None
    bad = tab.analogy(*_map_args()[:11], ANALOGY_OWN, "Am Xq7", "Flute")
    assert "Xq7" in bad[tab.analogy_status] and tab.analogy_boxes[0]["audio"] not in bad  # old results stay


def test_every_analogy_is_heard(tab):
    skip_without_audio(tab.studio)
    out = tab.analogy(*_map_args()[:11], ANALOGY_OWN, "Am F C G", "Flute")
    for box in tab.analogy_boxes:
        assert out[box["audio"]].endswith(".ogg") and Path(out[box["audio"]]).stat().st_size > 1000


def test_decoding_chords_choices(tab):
    typed = tab.build_map(*_map_args(chords_mode=CHORDS_TYPED, chords_text="F | G", size=2))
    assert _ok(typed[tab.map_status]) and "F | G" in typed[tab.map_status]
    symbols = [c.symbol for c in typed[tab.map_state].cells[0][0].sheet.chords.chords]
    assert symbols == ["F", "G"]
    from_b = tab.build_map(
        *_map_args(b=_source(example="Jeanie with the Light Brown Hair"), chords_mode=CHORDS_FROM_B, size=2)
    )
    assert _ok(from_b[tab.map_status]) and "B's chords" in from_b[tab.map_status]
    bad = tab.build_map(*_map_args(chords_mode=CHORDS_TYPED, chords_text="C Hm7"))
    assert "Hm7" in bad[tab.map_status] and tab.map not in bad
    empty = tab.build_map(*_map_args(chords_mode=CHORDS_TYPED, chords_text="  "))
    assert "empty" in empty[tab.map_status]


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (dict(size=8), "Map size"),
        (dict(size="five"), "Map size"),
        (dict(bars=40), "Bars"),
        (dict(a=_source(example="No Such Tune")), "No example"),
        (dict(a=_source(start=500)), "Start bar"),
        (dict(a=_source(SOURCE_UPLOAD, None, None)), "No MIDI file"),
        (dict(chords_mode="whatever"), "Unknown chord choice"),
        (dict(instrument="Kazoo"), "Kazoo"),
    ],
)
def test_bad_settings_give_messages(tab, overrides, fragment):
    out = tab.build_map(*_map_args(**overrides))
    status = _status(out, tab.map_status)
    assert "cz-error" in status and fragment in status, status
    assert set(out) == {tab.map_status}  # the previous map stays on screen


def test_steps_limits(tab):
    assert "Steps" in tab.interpolate(*_map_args()[:13], 13, "Flute")[tab.interp_status]
    assert _ok(tab.interpolate(*_map_args()[:13], 2, "Flute")[tab.interp_status])


def test_unexpected_errors_are_caught(tab, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr(tab.service, "build_map", boom)
    out = tab.build_map(*_map_args())
    assert "Something went wrong" in out[tab.map_status] and "RuntimeError" in out[tab.map_status]


# ---------------------------------------------------------------- bad uploads (issue point 6)


def _over_the_limit() -> bytes:
    data = make_nottingham_midi()
    return data + b"\0" * (MAX_UPLOAD_BYTES + 1 - len(data))


BAD_UPLOADS = {
    "no notes": (no_notes, r"no (pitched )?notes"),
    "drums only": (drums_only, "drums"),
    "hundreds of tracks": (many_tracks, r"\d+ tracks.*limit"),
    "100k notes": (many_notes, r"100,000 notes.*limit"),
    "not MIDI": (lambda: b"Hello! I am a text file wearing a .mid name.\n" * 20, "not a MIDI file"),
    "truncated": (truncated, "truncated"),
    "over the size limit": (_over_the_limit, r"too large.*limit is 4 MB"),
    "empty file": (lambda: b"", "empty"),
}


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
def test_bad_upload_gives_a_clear_message_and_the_page_keeps_working(tab, midi_path, name):
    make, fragment = BAD_UPLOADS[name]
    path = midi_path(make(), "bad.mid")

    # 1. the upload itself: track list + preview + status, no exception
    kind, track_update, preview, status = tab.upload_file("A", path, 0, 2)
    assert kind == SOURCE_UPLOAD
    assert "cz-bad" in status and re.search(fragment, status, re.IGNORECASE), status
    assert "<svg" not in preview

    # 2. building the map with it: a message in the map status, nothing else touched
    out = tab.build_map(*_map_args(a=_source(SOURCE_UPLOAD, None, path)))
    map_status = _status(out, tab.map_status)
    assert "cz-error" in map_status and re.search(fragment, map_status, re.IGNORECASE), map_status
    assert set(out) == {tab.map_status}
    assert (
        "cz-error"
        in tab.analogy(*_map_args(a=_source(SOURCE_UPLOAD, None, path))[:11], ANALOGY_OWN, "C G", "Flute")[
            tab.analogy_status
        ]
    )

    # 3. and a normal request still works afterwards
    good = tab.build_map(*_map_args(size=2))
    assert _ok(good[tab.map_status])


def test_good_upload_fills_the_track_dropdown(tab, midi_path):
    path = midi_path(make_nottingham_midi(), "two_tracks.mid")
    kind, track_update, preview, status = tab.upload_file("B", path, 0, 4)
    assert kind == SOURCE_UPLOAD
    assert [v for _, v in track_update.choices] == [0, 1] and track_update.value == 0
    assert "<svg" in preview and "two_tracks" in status and "13 notes" in status
    out = tab.build_map(*_map_args(b=_source(SOURCE_UPLOAD, None, path, 0), bars=4, size=3))
    assert _ok(out[tab.map_status]) and out[tab.map_state].b_title == "two_tracks"
    # a track given as text (as an API client may send it) works too
    assert "cz-ok" in tab.preview_source("B", SOURCE_UPLOAD, None, path, "0: melody", 0, 4)[1]
    cleared = tab.clear_file("B")
    assert cleared[0].choices == [] and "No MIDI file" in cleared[2]


# ---------------------------------------------------------------- the map widget's value helpers


def test_preset_paths():
    assert lm.preset_path(lm.DIAGONAL, 3) == [(0, 0), (1, 1), (2, 2)]
    assert lm.preset_path(lm.PITCH_THEN_RHYTHM, 3) == [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2)]
    assert lm.preset_path(lm.RHYTHM_THEN_PITCH, 3) == [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)]
    for name in lm.PATH_PRESETS:
        for size in range(lm.MIN_SIZE, lm.MAX_SIZE + 1):
            path = lm.preset_path(name, size)
            assert path[0] == (0, 0) and path[-1] == (size - 1, size - 1)
            assert all(abs(r1 - r0) + abs(c1 - c0) in (1, 2) for (r0, c0), (r1, c1) in zip(path, path[1:]))
    with pytest.raises(ValueError):
        lm.preset_path("zigzag", 3)
    with pytest.raises(ValueError):
        lm.preset_path(lm.DIAGONAL, 8)


def test_map_value_round_trip_and_tolerance():
    value = lm.map_value(cell=(1, 2), path=[(0, 0), (1, 1)], mode="path", size=3)
    selection = lm.parse_map_value(value)
    assert (
        selection.cell == (1, 2)
        and selection.path == [(0, 0), (1, 1)]
        and selection.mode == "path"
        and selection.size == 3
    )
    assert lm.parse_map_value(value, size=2).cell is None  # outside a 2x2 map
    for junk in (None, "", "not json", "[1, 2]", '{"cell": "x", "path": 5}', {"cell": [True, 1]}, '{"cell": [-1, 0]}'):
        selection = lm.parse_map_value(junk)
        assert selection.cell is None and selection.path == [] and selection.mode == "play"
    long_path = lm.map_value(path=[(0, 0)] * 100, size=2)
    assert len(lm.parse_map_value(long_path).path) == lm.MAX_PATH
    assert lm.parse_map_value('{"path": [[0, 0], ["a", 1], [1], [1, 1]]}').path == [(0, 0), (1, 1)]


def test_widget_template_is_safe_for_handlebars_and_js():
    # the template is compiled by Handlebars, then evaluated as a JS template literal
    assert "{{" not in lm.HTML_TEMPLATE and "\\" not in lm.HTML_TEMPLATE
    assert "'cell_click'" in lm.JS_ON_LOAD  # gradio registers the custom event from this string
    widget = lm.latent_map(render=False)
    assert widget.props["cells"] == [] and lm.parse_map_value(widget.value).size == 0


def test_api_names_are_registered(studio):
    from app.studio import build_studio, launch_kwargs

    demo = build_studio(studio)
    names = {dep.get("api_name") for dep in demo.config["dependencies"]}
    assert {
        "explore_map",
        "explore_interpolate",
        "explore_cell",
        "explore_morph",
        "explore_analogy",
        "compose",
        "compose_rolls",
    } <= names
    assert launch_kwargs()["max_file_size"] == MAX_UPLOAD_BYTES


def test_each_analogy_reports_whether_it_took_the_other_rhythm(tab):
    out = tab.analogy(*_map_args()[:11], ANALOGY_OWN, "Am F C G", "Flute")
    first = out[tab.analogy_boxes[0]["report"]]
    assert "onsets drawn" in first and "placed on them" in first  # A's tune on B's onsets
    assert "onsets drawn" not in out[tab.analogy_boxes[2]["report"]]  # the re-harmonised A keeps its own rhythm
    assert "Chords" in out[tab.analogy_boxes[2]["report"]]
