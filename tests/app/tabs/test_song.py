"""The Song tab's service and handlers with the tiny "debug" model (no browser).

Covers a new song (timeline blocks with chords and their functions), Continue,
Infill (only the chosen blocks change), the version history and Undo, the sources
(example, upload, last composed), and bad input: each gives a clear message in the
status line while the timeline, audio, roll, MIDI and versions stay as they were.
"""

from __future__ import annotations

import os

import gradio as gr
import pretty_midi
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from app.components import song_timeline as st  # noqa: E402
from app.components import step_grid as sg  # noqa: E402
from app.services import (  # noqa: E402
    MAX_HISTORY,
    RHYTHM_GRID,
    RHYTHM_KEEP,
    RHYTHM_MODEL,
    SONG_NEW,
    SOURCE_EXAMPLE,
    SOURCE_LAST,
    SOURCE_UPLOAD,
    InputError,
    SongService,
    SongVersion,
    Studio,
)
from app.services.song import push_version  # noqa: E402
from app.tabs.song import SongTab
from engine.render.encode import decode_audio  # noqa: E402
from tests.conftest import make_nottingham_midi  # noqa: E402

GRID = sg.preset_pattern("Call & answer", 2)
BLOCK = 32  # steps in a 2-bar block


@pytest.fixture(scope="module")
def studio(tmp_path_factory) -> Studio:
    return Studio.load("debug", device="cpu", cache_dir=tmp_path_factory.mktemp("song_studio"))


@pytest.fixture(scope="module")
def tab(studio) -> SongTab:
    with gr.Blocks():
        tab = SongTab(studio).build()
    return tab


def _new(
    tab,
    bars=16,
    chords="C Am F G",
    key="C",
    functions="",
    use_grid=False,
    grid=GRID,
    seed=1,
    temperature=0.8,
    current=None,
    history=None,
) -> dict:
    return tab.new_song(chords, bars, key, functions, 110, use_grid, grid, seed, temperature, "Flute", current, history)


@pytest.fixture(scope="module")
def first(tab) -> dict:
    """Version 1: a 16-bar song over C Am F G."""
    return _new(tab)


def _ok(text: str) -> bool:
    return "cz-okay" in text and "cz-error" not in text


def _state(tab, out: dict) -> tuple[SongVersion, list]:
    return out[tab.current], out[tab.history]


def _kept(sheet, chosen: list[int]) -> list[tuple[int, int, int]]:
    """(pitch, onset, end) of the notes starting outside the chosen blocks, ends cut at the next chosen block
    (a note held into a rewritten block may be cut by its new first note)."""
    starts = [b * BLOCK for b in chosen]
    out = []
    for note in sheet.melody.notes:
        if note.start // BLOCK in chosen:
            continue
        cut = min([s for s in starts if s > note.start], default=note.end)
        out.append((note.pitch, note.start, min(note.end, cut)))
    return out


def _untouched(tab, out: dict) -> None:
    """Only the status changed: every other output is gr.skip() (and no piano roll is pending)."""
    for component in tab.outputs:
        if component is tab.pending_roll:
            assert out[component] is None and tab.draw_roll(out[component]) == gr.skip()
        elif component is not tab.status:
            assert out[component] == gr.skip(), component


# ---------------------------------------------------------------- new song


def test_song_service_is_built_beside_the_others(studio):
    assert studio.tab_services["song"] is studio.song
    assert studio.song.song_model is studio.pipeline.song_model
    assert studio.song.song_model.vae is studio.pipeline.model  # one EC2-VAE for every tab


def test_new_song_fills_the_timeline(tab, first):
    assert _ok(first[tab.status]), first[tab.status]
    assert "16 bars" in first[tab.status] and "8 blocks" in first[tab.status]
    version, history = _state(tab, first)
    assert version.number == 1 and history == []
    assert "Version 1 · new song · 16 bars" in first[tab.version_line]
    assert version.sheet.melody.num_steps == 16 * 16

    timeline = first[tab.timeline]
    blocks = timeline.props["blocks"]
    assert len(blocks) == 8 and timeline.value == []
    assert [b["index"] for b in blocks] == list(range(8))
    assert blocks[0]["label"] == "Block 1 · bars 1–2" and blocks[7]["label"] == "Block 8 · bars 15–16"
    # each bar's chord with its function in C: C and Am tonic, F subdominant, G dominant
    chords = [(c["symbol"], c["fn"]) for b in blocks[:2] for bar in b["bars"] for c in bar["chords"]]
    assert chords == [("C", "T"), ("Am", "T"), ("F", "S"), ("G", "D")]
    assert [bar["bar"] for bar in blocks[1]["bars"]] == [3, 4]
    assert all("<svg" in b["svg"] for b in blocks)
    assert not any(b["changed"] for b in blocks)

    assert first[tab.audio].endswith(".ogg")  # the player's file: Ogg Opus
    assert "Key" in first[tab.report] and "Range" in first[tab.report]  # the control report
    rate, audio = decode_audio(first[tab.audio])
    assert len(audio) / rate == pytest.approx(16 * 4 * 60 / 110 + 1.0, abs=0.3)  # the song and its release tail
    pm = pretty_midi.PrettyMIDI(first[tab.midi])
    assert pm.get_end_time() == pytest.approx(16 * 4 * 60 / 110, abs=0.2)  # 16 bars at 110 BPM
    assert tab.draw_roll(first[tab.pending_roll]) is not None  # the roll follows the audio in a chained event


def test_new_song_with_the_grid_rhythm_and_functions(tab):
    out = _new(tab, bars=8, functions="T S D T", use_grid=True, seed=3)
    assert _ok(out[tab.status]), out[tab.status]
    sheet = out[tab.current].sheet
    onsets = sg.onset_steps(GRID)
    assert sheet.melody.onset_steps() == [b * BLOCK + s for b in range(4) for s in onsets]  # the grid, every 2 bars


def test_minor_key_functions(studio):
    result = studio.song.new_song("Am Dm E Am", 8, "Am", seed=0)
    letters = [c[1] for b in result.blocks[:2] for _, chords in b.bars for c in chords]
    assert letters == ["T", "S", "D", "T"]


# ---------------------------------------------------------------- continue / infill / undo


def test_continue_adds_blocks(tab, first):
    current, history = _state(tab, first)
    out = tab.continue_song(4, "Dm G", 2, 0.8, "Flute", current, history)
    assert _ok(out[tab.status]), out[tab.status]
    version, new_history = _state(tab, out)
    assert version.number == 2 and new_history == [current]
    assert "Version 2 · continued by 4 bars · 20 bars" in out[tab.version_line]
    blocks = out[tab.timeline].props["blocks"]
    assert len(blocks) == 10
    assert [b["index"] for b in blocks if b["changed"]] == [8, 9]
    assert [c["symbol"] for bar in blocks[8]["bars"] for c in bar["chords"]] == ["Dm", "G"]
    # the first 16 bars come back note for note
    assert _kept(version.sheet, [8, 9]) == _kept(current.sheet, [])


def test_continue_with_the_songs_own_chords(tab, first):
    current, history = _state(tab, first)
    out = tab.continue_song(2, "", 0, 0.8, "Flute", current, history)
    assert _ok(out[tab.status]), out[tab.status]
    blocks = out[tab.timeline].props["blocks"]
    assert len(blocks) == 9
    assert [c["symbol"] for bar in blocks[8]["bars"] for c in bar["chords"]] == ["C", "Am"]


def test_infill_changes_only_the_chosen_blocks(tab, first):
    current, history = _state(tab, first)
    out = tab.infill([2, 3], RHYTHM_KEEP, GRID, 5, 0.8, "Flute", current, history)
    assert _ok(out[tab.status]), out[tab.status]
    version, new_history = _state(tab, out)
    assert version.number == 2 and len(new_history) == 1
    assert "Version 2 · infilled blocks 3, 4 · 16 bars" in out[tab.version_line]
    assert version.sheet.melody.num_steps == current.sheet.melody.num_steps
    assert _kept(version.sheet, [2, 3]) == _kept(current.sheet, [2, 3])
    # keep rhythm: the rewritten blocks keep their onsets
    window = range(2 * BLOCK, 4 * BLOCK)
    assert [s for s in version.sheet.melody.onset_steps() if s in window] == [
        s for s in current.sheet.melody.onset_steps() if s in window
    ]
    timeline = out[tab.timeline]
    assert timeline.value == [2, 3]  # the selection stays for another take
    assert [b["index"] for b in timeline.props["blocks"] if b["changed"]] == [2, 3]


@pytest.mark.parametrize("mode", [RHYTHM_GRID, RHYTHM_MODEL])
def test_infill_rhythm_modes(tab, first, mode):
    current, history = _state(tab, first)
    out = tab.infill("[5]", mode, GRID, 7, 0.8, "Flute", current, history)
    assert _ok(out[tab.status]), out[tab.status]
    sheet = out[tab.current].sheet
    assert _kept(sheet, [5]) == _kept(current.sheet, [5])
    if mode == RHYTHM_GRID:
        assert [s - 5 * BLOCK for s in sheet.melody.onset_steps() if 5 * BLOCK <= s < 6 * BLOCK] == sg.onset_steps(GRID)


def test_undo_restores_the_previous_version(tab, first):
    current, history = _state(tab, first)
    infilled = tab.infill([0], RHYTHM_KEEP, GRID, 9, 0.8, "Flute", current, history)
    out = tab.undo("Flute", *_state(tab, infilled))
    assert _ok(out[tab.status]) and "back to version 1" in out[tab.status]
    version, new_history = _state(tab, out)
    assert version is current and new_history == []
    assert "Version 1 · new song · 16 bars" in out[tab.version_line]
    assert len(out[tab.timeline].props["blocks"]) == 8 and out[tab.timeline].value == []
    assert pretty_midi.PrettyMIDI(out[tab.midi]).instruments[0].notes  # the restored song is playable
    # nothing left to undo: says so, changes nothing else
    again = tab.undo("Flute", version, new_history)
    assert "cz-error" in again[tab.status] and "Nothing to undo" in again[tab.status]
    _untouched(tab, again)
    # the next action after an undo is version 2 again
    assert tab.continue_song(2, "", 1, 0.8, "Flute", version, new_history)[tab.current].number == 2


def test_history_keeps_at_most_30_versions(first, tab):
    version = first[tab.current]
    history: list = []
    for number in range(1, 40):
        history = push_version(history, SongVersion(number, "x", version.sheet))
    assert len(history) == MAX_HISTORY == 30
    assert [v.number for v in history] == list(range(10, 40))


def test_select_blocks_from_python(tab, first):
    update, status = tab.select_blocks("2, 3", first[tab.current])
    assert update.value == [2, 3] and status == gr.skip()
    update, _ = tab.select_blocks([1, 7, 9], first[tab.current])
    assert update.value == [1, 7]  # block 9 (0-based) is past this 8-block song
    assert st.timeline_update([{"index": 0}, {"index": 1}], [1, 1, "x", -1, True]).value == [1]


# ---------------------------------------------------------------- bad input


def test_bad_inputs_change_only_the_status(tab, first):
    current, history = _state(tab, first)
    state = dict(current=current, history=history)
    rest = (0, 0.8, "Flute", current, history)  # seed, temperature, instrument, versions
    empty = sg.empty_pattern(2)
    cases = {
        "Bars must be between 8 and 32, got 40": _new(tab, bars=40, **state),
        "Bars must be even": _new(tab, bars=9, **state),
        "Unknown chord symbol 'Xq7'": _new(tab, chords="C Xq7 F G", **state),
        "chord progression is empty": _new(tab, chords="  ", **state),
        "Unknown key": _new(tab, key="H", **state),
        "Unknown chord function 'X'": _new(tab, functions="T X", **state),
        "Temperature must be between 0 and 2, got 5": _new(tab, temperature=5, **state),
        "The rhythm grid is empty: click at least one cell, or let the model": _new(
            tab, use_grid=True, grid=empty, **state
        ),
        "No block selected": tab.infill([], RHYTHM_KEEP, GRID, *rest),
        "There is no block 9": tab.infill([0, 8], RHYTHM_KEEP, GRID, *rest),
        "All 8 blocks are selected": tab.infill(list(range(8)), RHYTHM_KEEP, GRID, *rest),
        "The rhythm grid is empty: click at least one cell, or keep": tab.infill([1], RHYTHM_GRID, empty, *rest),
        "Bars to add must be between 2 and 16, got 18": tab.continue_song(18, "", *rest),
        "Chords for the new bars: Unknown chord symbol": tab.continue_song(4, "Dm Zz", *rest),
        "There is no song yet": tab.continue_song(4, "", 0, 0.8, "Flute", None, []),
    }
    for fragment, out in cases.items():
        status = out[tab.status]
        assert "cz-error" in status and fragment in status, (fragment, status)
        _untouched(tab, out)


def test_a_32_bar_song_cannot_grow(tab):
    full = _new(tab, bars=32, chords="C F G C", seed=4)
    assert _ok(full[tab.status]) and len(full[tab.timeline].props["blocks"]) == 16
    out = tab.continue_song(2, "", 0, 0.8, "Flute", *_state(tab, full))
    assert "has 32 bars" in out[tab.status] and "cannot grow" in out[tab.status]
    _untouched(tab, out)


def test_unexpected_errors_are_caught(tab, first, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr(tab.service, "infill", boom)
    out = tab.infill([1], RHYTHM_KEEP, GRID, 0, 0.8, "Flute", *_state(tab, first))
    assert "Something went wrong" in out[tab.status] and "RuntimeError" in out[tab.status]
    _untouched(tab, out)


def test_without_the_latent_model_the_tab_says_so(studio):
    service = SongService(None, studio.shared)
    with pytest.raises(InputError, match="latent sequence model"):
        service.new_song("C G", 8, "C")
    service.warm_up()  # nothing to warm, no error


# ---------------------------------------------------------------- sources


def test_load_an_example_upload_and_last_composed(studio, tab, first, tmp_path):
    current, history = _state(tab, first)
    title = studio.song.examples()[0]
    out = tab.load(SOURCE_EXAMPLE, title, None, None, 0, 32, "Flute", None, current, history)
    assert _ok(out[tab.status]), out[tab.status]
    assert out[tab.current].number == 2 and f"loaded {title}" in out[tab.version_line]
    assert 1 <= len(out[tab.timeline].props["blocks"]) <= 16

    path = tmp_path / "my_tune.mid"
    path.write_bytes(make_nottingham_midi())
    out = tab.load(SOURCE_UPLOAD, None, str(path), None, 0, 16, "Flute", None, None, [])
    assert _ok(out[tab.status]) and "loaded my_tune · 4 bars" in out[tab.version_line]
    assert [c["symbol"] for b in out[tab.timeline].props["blocks"] for bar in b["bars"] for c in bar["chords"]] == [
        "G",
        "C",
        "D",
        "G",
    ]
    kind, tracks, status = tab.upload_file(str(path))
    assert kind == SOURCE_UPLOAD and tracks.value == 0 and _ok(status)

    composed = studio.compose("x...x...x.x.x...|x.......x...x...", "C G", 4, seed=1, variations=1)[0].sheet
    out = tab.load(SOURCE_LAST, None, None, None, 0, 8, "Flute", composed, None, [])
    assert _ok(out[tab.status]) and len(out[tab.timeline].props["blocks"]) == 2
    assert out[tab.current].sheet.melody.onset_steps() == composed.melody.onset_steps()


def test_bad_sources_give_messages(tab, first, tmp_path):
    current, history = _state(tab, first)
    text = tmp_path / "not_really.mid"
    text.write_bytes(b"This is a text file with a .mid name, not a MIDI file.\n" * 8)
    cases = {
        "not a MIDI file": tab.load(SOURCE_UPLOAD, None, str(text), None, 0, 16, "Flute", None, current, history),
        "No MIDI file uploaded": tab.load(SOURCE_UPLOAD, None, None, None, 0, 16, "Flute", None, current, history),
        "Nothing composed yet": tab.load(SOURCE_LAST, None, None, None, 0, 16, "Flute", None, current, history),
        "press New song": tab.load(SONG_NEW, None, None, None, 0, 16, "Flute", None, current, history),
        "Bars must be between 2 and 32, got 40": tab.load(
            SOURCE_EXAMPLE, "x", None, None, 0, 40, "Flute", None, current, history
        ),
    }
    for fragment, out in cases.items():
        assert "cz-error" in out[tab.status] and fragment in out[tab.status], (fragment, out[tab.status])
        _untouched(tab, out)
    kind, tracks, status = tab.upload_file(str(text))
    assert kind == SOURCE_UPLOAD and "not a MIDI file" in status


# ---------------------------------------------------------------- the page


def test_the_tab_is_registered_with_its_api(studio):
    from app.studio import build_studio

    demo = build_studio(studio)
    assert demo.cz_song.timeline.elem_id == "cz-song-timeline"
    endpoints = demo.get_api_info()["named_endpoints"]
    names = {
        name: [p["parameter_name"] for p in info["parameters"]] for name, info in endpoints.items() if "song" in name
    }
    assert names == {
        "/song_new": [
            "chords",
            "bars",
            "key",
            "functions",
            "tempo",
            "use_grid",
            "grid",
            "seed",
            "temperature",
            "instrument",
        ],
        "/song_load": ["kind", "example", "file", "track", "start", "bars", "instrument", "keep_accompaniment"],
        "/song_continue": ["add_bars", "chords", "seed", "temperature", "instrument"],
        "/song_infill": ["selection", "rhythm_mode", "grid", "seed", "temperature", "instrument"],
        "/song_undo": ["instrument"],
        "/song_tracks": ["file"],
    }
    config = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert {"cz-tab-song", "cz-song-timeline", "cz-song-audio", "cz-song-roll", "cz-song-midi", "cz-song-grid"} <= ids


def test_loading_a_real_piano_file_says_where_it_stopped_and_keeps_its_tempo_map(tab, tmp_path):
    from tests.midi_factory import piano_piece

    path = tmp_path / "piano.mid"
    path.write_bytes(piano_piece())
    service = tab.service
    result = service.load("Upload MIDI", None, str(path), None, 0, 8, None, None, "real", "piano.mid")
    assert result.sheet.melody.time_signature == (4, 4) and result.sheet.melody.pickup_steps == 0  # cut to bars
    assert any("stopped at bar 5" in n for n in result.sheet.reading_notes)
    tempi = pretty_midi.PrettyMIDI(result.midi_path).get_tempo_changes()[1]
    assert [round(t, 2) for t in tempi] == [96.0, 74.0, 135.0]
    out = tab.load("Upload MIDI", None, str(path), None, 0, 8, None, None, None, None)
    assert "Stopped at bar 5" in out[tab.status] and "74 and 135 BPM" in out[tab.status], out[tab.status]


def test_keep_the_files_accompaniment_plays_its_left_hand_instead_of_chords(tab, tmp_path):
    from tests.midi_factory import piano_piece

    path = tmp_path / "piano.mid"
    path.write_bytes(piano_piece())
    service = tab.service
    kept = service.load("Upload MIDI", None, str(path), None, 0, 8, None, None, "acc", "k.mid", True)
    tracks = {i.name: i for i in pretty_midi.PrettyMIDI(kept.midi_path).instruments}
    assert set(tracks) == {"Melody", "Piano LH"}  # the left hand as it was, no chords from symbols
    original = pretty_midi.PrettyMIDI(str(path)).instruments[1]
    first_bar = sorted(n.pitch for n in original.notes if abs(n.start - original.notes[0].start) < 0.01)
    assert sorted(n.pitch for n in tracks["Piano LH"].notes if n.start < 0.01) == first_bar
    plain = service.load("Upload MIDI", None, str(path), None, 0, 8, None, None, "acc", "p.mid", False)
    assert {i.name for i in pretty_midi.PrettyMIDI(plain.midi_path).instruments} == {"Melody", "Chords"}
    # bars added later get chords from their symbols; the left hand stays under the bars it came with
    grown = service.continue_song(kept.sheet, 4, seed=1, session_id="acc")
    tracks = {i.name: i for i in pretty_midi.PrettyMIDI(grown.midi_path).instruments}
    end_of_file = max(n.end for n in tracks["Piano LH"].notes)
    assert set(tracks) == {"Melody", "Piano LH", "Chords"}
    assert min(n.start for n in tracks["Chords"].notes) >= end_of_file - 0.05
    with pytest.raises(InputError, match="accompaniment"):
        service.load("Upload MIDI", None, str(path), None, 0, 8, None, None, "acc", "x.mid", "yes")
