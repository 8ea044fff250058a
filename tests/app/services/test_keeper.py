"""Every tab's results are kept in their owner's library as they are made (debug models, no browser)."""

from __future__ import annotations

import pytest

from app.library import Library
from app.services import Studio
from app.services.explore import SOURCE_EXAMPLE
from app.services.keeper import Keeper

RHYTHM = "x...x...x...x...|x.....x...x....."


@pytest.fixture(scope="module")
def studio(tmp_path_factory) -> Studio:
    library = Library(tmp_path_factory.mktemp("data"))
    studio = Studio.load("debug", device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), library=library)
    return studio


@pytest.fixture(scope="module")
def owner(studio) -> str:
    token = studio.keeper.register("me", None)
    return f"browser:{token}"


def test_register_gives_a_token_and_keeps_a_valid_one() -> None:
    keeper = Keeper()
    token = keeper.register("s1", None)
    assert len(token) == 32 and keeper.owner_of("s1") == f"browser:{token}"
    assert keeper.register("s2", token) == token and keeper.owner_of("s2") == f"browser:{token}"
    assert keeper.register("s3", "../../x") != "../../x"  # not a token: a new one
    assert keeper.register("s4", token, username="ann") == token and keeper.owner_of("s4") == "user:ann"
    assert keeper.owner_of("never-loaded") == "session:never-loaded"
    keeper.forget("s1")
    assert keeper.owner_of("s1") == "session:s1"


def test_compose_variations_are_kept_with_their_controls(studio, owner) -> None:
    results = studio.compose(RHYTHM, "C G7", 2, key="C", seed=5, variations=2, session_id="me")
    library = studio.keeper.library
    for result in results:
        assert result.kept.piece_id is not None and "Kept in your library" in result.kept.note
        piece = library.get(owner, result.kept.piece_id)
        assert piece.tab == "compose" and piece.controls["seed"] == result.seed
        assert piece.controls["rhythm"] == RHYTHM and piece.controls["chords"] == "C G7"
        assert piece.files["melody.mid"].read_bytes() == open(result.midi_path, "rb").read()
        assert set(piece.latest.fingerprints) == {"ec2vae", "latent"}


def test_nothing_is_kept_without_a_session(studio) -> None:
    results = studio.compose(RHYTHM, "C G7", 2, seed=1, variations=1, session_id=None)
    assert results[0].kept.piece_id is None and results[0].kept.note == ""


def test_emotion_style_and_explore_results_are_kept(studio, owner) -> None:
    tune = studio.emotion.generate("Q1", 8, 2, session_id="me")[0]
    piece = studio.keeper.library.get(owner, tune.kept.piece_id)
    assert piece.tab == "emotion" and {"tune.abc", "melody.mid"} <= set(piece.files)
    assert piece.files["tune.abc"].read_text() == tune.abc
    style = studio.style.generate(studio.style.styles[0], 2, 4, session_id="me")
    assert studio.keeper.library.get(owner, style.kept.piece_id).controls["style"] == studio.style.styles[0]
    a = studio.explore.load_source("A", SOURCE_EXAMPLE, "Cuckoo's Nest", bars=2)
    b = studio.explore.load_source("B", SOURCE_EXAMPLE, "Hänschen klein", bars=2)
    clip, _ = studio.explore.interpolate(a, b, 3, session_id="me")
    assert studio.keeper.library.get(owner, clip.kept.piece_id).controls["action"] == "interpolate"


def test_a_song_is_one_piece_with_every_version(studio, owner) -> None:
    first = studio.song.new_song("C G Am F", 8, "C", seed=1, session_id="me")
    grown = studio.song.continue_song(first.sheet, 2, seed=2, session_id="me")
    assert grown.kept.piece_id == first.kept.piece_id
    piece = studio.keeper.library.get(owner, first.kept.piece_id)
    assert [v.note for v in piece.history] == ["new song", "continued 2 bars"]
    assert piece.history[1].controls["num_bars"] == piece.history[0].controls["num_bars"] + 2
    again = studio.song.new_song("Am F", 8, "Am", seed=1, session_id="me")
    assert again.kept.piece_id != first.kept.piece_id  # a new song is a new piece


def test_other_owners_see_none_of_it(studio, owner) -> None:
    assert studio.keeper.library.list(owner)
    studio.keeper.register("you", None)
    assert studio.keeper.library.list(studio.keeper.owner_of("you")) == []


def test_a_full_library_still_gives_the_result_and_says_why(tmp_path) -> None:
    studio = Studio.load(
        "debug", device="cpu", cache_dir=tmp_path / "c", library=Library(tmp_path / "d", quota_bytes=10)
    )
    studio.keeper.register("s", None)
    result = studio.compose(RHYTHM, "C", 2, seed=0, variations=1, session_id="s")[0]
    assert result.kept.piece_id is None and "Your library is full" in result.kept.note
    assert result.sheet.melody.notes


def test_pieces_made_before_the_page_registered_go_to_the_owner(studio) -> None:
    early = studio.compose(RHYTHM, "C", 2, seed=9, variations=1, session_id="quick")[0]
    token = studio.keeper.register("quick", None)
    assert studio.keeper.library.get(f"browser:{token}", early.kept.piece_id).tab == "compose"
