"""The Library tab's handlers and service, with the debug models (no browser)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from app.library import Library  # noqa: E402
from app.services import Studio  # noqa: E402
from app.services.library import file_title, sheet_to_rhythm_and_chords, when_text  # noqa: E402
from app.studio import build_studio  # noqa: E402
from engine.io.sources import read_source  # noqa: E402

RHYTHM = "x...x...x...x...|x.....x...x....."


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    studio = Studio.load(
        "debug", device="cpu", cache_dir=tmp_path_factory.mktemp("c"), library=Library(tmp_path_factory.mktemp("d"))
    )
    return build_studio(studio)


def _request(session: str) -> SimpleNamespace:
    return SimpleNamespace(session_hash=session, username=None)


def _select(tab, ids, row):
    return tab.select(ids, gr.SelectData(None, {"index": [row, 1], "value": "x"}), request=_request("lib"))


def test_list_select_rename_star_delete_undo(demo) -> None:
    studio, tab = demo.cz_library.studio, demo.cz_library
    studio.keeper.register("lib", None)
    rows, ids, note = tab.refresh(request=_request("lib"))
    assert rows == [] and "Nothing here yet" in note
    studio.compose(RHYTHM, "C G7", 2, seed=7, variations=2, session_id="lib")
    rows, ids, note = tab.refresh(request=_request("lib"))
    assert len(rows) == 2 and "2 pieces" in note and rows[0][2] == "Compose" and "seed 8" in rows[0][1]
    shown = _select(tab, ids, 1)
    assert shown[0] == ids[1] and "seed 7" in shown[2]
    downloads = shown[4]
    assert any(p.endswith(".mid") for p in downloads) and all(Path(p).is_file() for p in downloads)
    if studio.has_audio:  # the WAV is rendered again from the MIDI: the library keeps the smaller player audio
        assert any(p.endswith(".wav") and Path(p).stat().st_size > 44 for p in downloads)
    # the copies live in the session's cache, never in the library's folder
    assert all(not Path(p).resolve().is_relative_to(studio.keeper.library.data_dir) for p in downloads)
    out = tab.rename(ids[1], "My first melody", request=_request("lib"))
    assert "Renamed" in out[2] and out[0][1][1] == "My first melody"  # renaming keeps its place
    out = tab.toggle_star(ids[1], request=_request("lib"))
    assert out[0][1][0] == "★" and out[0][0][0] == ""
    out = tab.delete(ids[1], request=_request("lib"))
    assert len(out[0]) == 1 and "Undo" in out[2] and out[-2] == ids[1] and out[-1].visible is True
    out = tab.undelete(ids[1], request=_request("lib"))
    assert len(out[0]) == 2 and "is back" in out[2]
    # a bad id from the page or the API gets a message, never a crash
    assert "No piece with id" in tab.rename("../../etc", "x", request=_request("lib"))[2]
    status, data = tab.api_list("first", "All", False, request=_request("lib"))
    assert "1 pieces" in status and data[0]["title"] == "My first melody" and "owner" not in data[0]


def test_open_in_compose_fills_the_grid_and_the_chords(demo) -> None:
    studio, tab = demo.cz_library.studio, demo.cz_library
    studio.keeper.register("open", None)
    result = studio.compose(RHYTHM, "Am | F G", 2, key="Am", tempo=96, seed=1, variations=1, session_id="open")[0]
    out = tab.open_in_compose(result.kept.piece_id, request=_request("open"))
    assert out[0].selected == "compose"
    assert out[1].value == RHYTHM and out[2] == "Am | F G" and out[3] == 2 and out[4] == "Am" and out[5] == 96
    assert "Opened in Compose" in out[6]


def test_open_in_song_explore_style_gives_a_midi_copy(demo) -> None:
    studio, tab = demo.cz_library.studio, demo.cz_library
    studio.keeper.register("up", None)
    tune = studio.emotion.generate("Q2", 8, 3, session_id="up")[0]
    for handler, target in ((tab.open_in_song, "song"), (tab.open_in_explore, "explore"), (tab.open_in_style, "style")):
        out = handler(tune.kept.piece_id, request=_request("up"))
        assert out[0].selected == target
        path = Path(out[1] if target == "style" else out[2])
        assert path.suffix == ".mid" and path.read_bytes() == Path(tune.files["mid"]).read_bytes()
    assert "Can't open" in tab.open_in_song("f" * 32, request=_request("up"))[-1]


def test_the_page_never_sees_another_owners_piece(demo) -> None:
    studio, tab = demo.cz_library.studio, demo.cz_library
    studio.keeper.register("alice", None)
    studio.keeper.register("bob", None)
    piece = studio.compose(RHYTHM, "C", 2, seed=2, variations=1, session_id="alice")[0].kept.piece_id
    assert tab.refresh(request=_request("bob"))[0] == []
    for out in (
        tab.api_get(piece, request=_request("bob")),
        tab.api_rename(piece, "mine now", request=_request("bob")),
        tab.api_delete(piece, request=_request("bob")),
        tab.open_in_compose(piece, request=_request("bob")),
    ):
        assert "No piece with id" in out[-1 if len(out) == 7 else 0]
    assert studio.keeper.library.get(studio.keeper.owner_of("alice"), piece).title != "mine now"


def test_rhythm_and_chords_of_a_melody(tmp_path) -> None:
    from tests.conftest import make_nottingham_midi

    sheet = read_source(make_nottingham_midi())
    inputs = sheet_to_rhythm_and_chords(sheet, max_bars=4)
    bars = inputs.rhythm.split("|")
    assert len(bars) == inputs.num_bars <= 4 and all(len(b) == 16 for b in bars)
    onsets = [i for i, c in enumerate(inputs.rhythm.replace("|", "")) if c == "x"]
    assert onsets == [t for t in sheet.melody.onset_steps() if t < 16 * inputs.num_bars]
    assert len(inputs.chord_labels) == inputs.num_bars


def test_file_title() -> None:
    assert file_title("Song over C | Am | F | G") == "Song over C - Am - F - G"
    assert file_title("../../etc/passwd") == "etc-passwd"
    assert file_title("///") == "piece" and len(file_title("x" * 500)) == 60


def test_when_text() -> None:
    assert when_text(1000.0, 1030.0) == "just now"
    assert when_text(1000.0, 1000.0 + 300) == "5 min ago"


def test_a_reload_brings_the_song_back_with_its_versions(demo) -> None:
    studio, song_tab = demo.cz_library.studio, demo.cz_song
    studio.keeper.register("before", None)
    token = studio.keeper.register("before", None)
    made = studio.song.new_song("C G Am F", 8, "C", seed=3, session_id="before")
    grown = studio.song.continue_song(made.sheet, 2, seed=4, session_id="before")
    studio.keeper.register("after", token)  # the same browser after a reload: a new session, the same token
    out = song_tab.restore(request=_request("after"))
    assert "Welcome back" in out[song_tab.status] and "version 2" in out[song_tab.status]
    current, history = out[song_tab.current], out[song_tab.history]
    assert current.number == 2 and [v.number for v in history] == [1]
    assert [n.pitch for n in current.sheet.melody.notes] == [n.pitch for n in grown.sheet.melody.notes]
    assert current.sheet.melody.num_steps == grown.sheet.melody.num_steps
    # the next action adds the song's next version, not a new piece
    again = studio.song.continue_song(current.sheet, 2, seed=5, session_id="after")
    assert again.kept.piece_id == made.kept.piece_id
    assert studio.keeper.library.get(f"browser:{token}", made.kept.piece_id).num_versions == 3
    kept = song_tab.restore(current, request=_request("after"))  # a song already on the page stays
    assert list(kept) == [song_tab.status]
    nothing = song_tab.restore(request=_request("nobody"))  # no song: nothing changes
    assert list(nothing) == [song_tab.status] and nothing[song_tab.status] == gr.skip()


def test_a_reload_brings_every_tab_back_as_it_was(demo) -> None:
    """Compose, Explore, Emotion and Style: the latest take comes back from the library (its files, not a new run),
    with the inputs that made it; another browser gets nothing; a tab already showing a result keeps it."""
    studio = demo.cz_library.studio
    compose, explore, emotion, style = demo.cz_compose, demo.cz_explore, demo.cz_emotion, demo.cz_style
    token = studio.keeper.register("tabs-before", None)
    made = studio.compose(RHYTHM, "Am | F G", 2, key="Am", tempo=96, seed=11, variations=2, session_id="tabs-before")
    first, second = studio.explore.default_examples()
    a = studio.explore.load_source("A", "Example", first, bars=2)
    b = studio.explore.load_source("B", "Example", second, bars=2)
    analogies = studio.explore.analogy(a, b, reharmonise_text="Am F C G", session_id="tabs-before")
    tunes = studio.emotion.generate("-0.5,-0.5", 8, 3, "Oboe", 2, session_id="tabs-before")
    piece = studio.style.generate("Trecento", 2, 5, session_id="tabs-before")
    studio.keeper.register("tabs-after", token)  # the same browser after a reload: a new session, the same token
    after = _request("tabs-after")

    out = compose.restore(request=after)
    assert "Welcome back" in out[compose.status] and "2 variations" in out[compose.status]
    assert out[compose.grid].value == RHYTHM and out[compose.chords] == "Am | F G" and out[compose.bars] == 2
    assert out[compose.key] == "Am" and out[compose.tempo] == 96 and out[compose.seed] == 11
    assert out[compose.variations] == 2
    for result, sheet in zip(made, out[compose.pending_rolls]):
        notes = [(n.pitch, n.start) for n in sheet.melody.notes]
        assert notes == [(n.pitch, n.start) for n in result.sheet.melody.notes]
        assert [c.symbol for c in sheet.chords.chords] == [c.symbol for c in result.sheet.chords.chords]
    box = compose.variation_boxes[1]
    assert out[box["column"]].visible and Path(out[box["midi"]]).read_bytes() == Path(made[1].midi_path).read_bytes()
    assert out[box["midi"]] != made[1].midi_path  # a copy for this session, never the library's own file
    if studio.has_audio:
        assert Path(out[box["audio"]]).read_bytes() == Path(made[1].audio_file).read_bytes()
    assert "rhythm" in out[box["report"]].lower()
    assert list(compose.restore(out[compose.last_sheets], request=after)) == [compose.status]  # results stay
    # A restore that runs after a click of the same page session (the click was quicker) leaves its result alone.
    studio.compose(RHYTHM, "C G", 2, seed=12, session_id="tabs-after")
    assert list(compose.restore(request=after)) == [compose.status]

    out = explore.restore(request=after)
    assert "analogies" in out[explore.analogy_status] and out[explore.analogy_results].visible
    for box, clip in zip(explore.analogy_boxes, analogies):
        assert clip.title in out[box["title"]]
        assert Path(out[box["midi"]]).read_bytes() == Path(clip.midi_path).read_bytes()

    out = emotion.restore(request=after)
    assert "Welcome back" in out[emotion.status] and "2 sad tunes" in out[emotion.status]
    assert out[emotion.pad] == "-0.50,-0.50" and out[emotion.bars] == 8 and out[emotion.seed] == 3
    assert out[emotion.instrument] == "Oboe" and out[emotion.variations] == 2
    for box, tune in zip(emotion.boxes, tunes):
        assert out[box["abc"]] == tune.abc and out[box["raw"]] == tune.abc_raw
        assert [Path(p).suffix for p in out[box["files"]]] == [Path(p).suffix for p in tune.paths]
    assert len(out[emotion.pending_scores]) == 2 and "<svg" in out[emotion.pending_scores][0][0]

    out = style.restore(request=after)
    assert "Welcome back" in out[style.status] and out[style.style] == "Trecento" and out[style.seed] == 5
    shown = out[style.pending_roll]
    assert (shown.tokens == piece.tokens).all() and shown.verdicts == piece.verdicts
    assert shown.instruments == piece.instruments and "windows heard as asked" in out[style.verdict]
    assert style.draw_roll(shown) is not None

    for tab in (compose, explore, emotion, style):  # another browser has none of them
        nothing = tab.restore(request=_request("stranger"))
        assert len(nothing) == 1 and list(nothing.values()) == [gr.skip()]


def test_open_in_song_on_a_song_brings_its_versions(demo) -> None:
    """A song opened from the library is that song, its versions to undo, and grows as its next version; a melody
    opened in Song is loaded as a new song."""
    studio, tab, song_tab = demo.cz_library.studio, demo.cz_library, demo.cz_song
    studio.keeper.register("reopen", None)
    made = studio.song.new_song("C G Am F", 8, "C", seed=3, session_id="reopen")
    grown = studio.song.continue_song(made.sheet, 2, seed=4, session_id="reopen")
    studio.song.new_song("Am F C G", 8, "Am", seed=9, session_id="reopen")  # a later song: not the one opened
    request = _request("reopen")
    opened = tab.open_in_song(made.kept.piece_id, request=request)
    assert opened[0].selected == "song" and all(v == gr.skip() for v in opened[1:5])
    out = tab.load_in_song(made.kept.piece_id, "Example", None, request=request)
    assert "Opened" in out[song_tab.status] and "version 2" in out[song_tab.status]
    assert [n.pitch for n in out[song_tab.current].sheet.melody.notes] == [n.pitch for n in grown.sheet.melody.notes]
    assert [v.number for v in out[song_tab.history]] == [1]
    again = studio.song.continue_song(out[song_tab.current].sheet, 2, seed=5, session_id="reopen")
    assert again.kept.piece_id == made.kept.piece_id  # the opened song's version 3, not a new piece
    melody = studio.compose(RHYTHM, "C G7", 2, seed=2, variations=1, session_id="reopen")[0]
    assert not tab._is_song(melody.kept.piece_id, request)  # a melody goes through Song's upload box
    assert "is a Compose piece, not a song" in song_tab.reopen(melody.kept.piece_id, request=request)[song_tab.status]


def test_a_reloaded_song_keeps_its_files_accompaniment(demo, tmp_path) -> None:
    """A song that kept its file's left hand gets it back after a reload (not block chords), and its later bars
    still get chords from their symbols."""
    import pretty_midi

    from tests.midi_factory import piano_piece

    studio, song_tab = demo.cz_library.studio, demo.cz_song
    token = studio.keeper.register("lh-before", None)
    path = tmp_path / "piano.mid"
    path.write_bytes(piano_piece())
    kept = studio.song.load("Upload MIDI", None, str(path), None, 0, 8, None, None, "lh-before", "k.mid", True)
    grown = studio.song.continue_song(kept.sheet, 2, seed=1, session_id="lh-before")
    studio.keeper.register("lh-after", token)
    out = song_tab.restore(request=_request("lh-after"))
    sheet = out[song_tab.current].sheet
    assert [p.name for p in sheet.parts] == ["Piano LH"]
    assert sheet.parts[0].until == grown.sheet.parts[0].until
    assert [(n.pitch, n.start) for n in sheet.parts[0].notes] == [
        (n.pitch, n.start) for n in grown.sheet.parts[0].notes
    ]
    tracks = {i.name for i in pretty_midi.PrettyMIDI(out[song_tab.midi]).instruments}
    assert tracks == {"Melody", "Piano LH", "Chords"}  # the left hand, then chords over the 2 bars added
