"""Bad input through the studio's HTTP API, generated with Hypothesis and sent with gradio_client.

The studio (tiny "debug" models) runs in this process on a free port, as users reach it:
``gradio_client.Client(url)``. For every argument of every API endpoint, Hypothesis draws
values the studio must refuse (wrong types, None, huge, negative or fractional numbers,
"nan"/"inf" text, long strings, unknown chords and choices, random bytes and text uploaded
as MIDI files, URLs and odd file names) while the other arguments keep working values, and
each answer must be

* no unhandled exception: never Gradio's generic "The upstream Gradio app has raised an
  exception ..." and never the studio's own "Something went wrong" (a crash in a handler);
* a readable refusal naming what is wrong: the status line (class ``cz-error``/``cz-bad``),
  or a ``gr.Error`` (``AppError``) for malformed file values, whose text contains a word of
  the argument ("bars", "seed", "key", ...);
* and afterwards the server answers normal requests.

A value is "bad" when the studio's documented rules refuse it (``refused`` below runs the
services' own checks on what Gradio hands the handler); values with a documented meaning are
not drawn as bad: ``None`` seed or start bar (0), ``None`` accompaniment (melody only),
``None`` instrument outside Compose (the default), an empty source/chord/rhythm choice (the
default). A few values gradio_client cannot send (NaN and Infinity literals, files by server
path, missing values) go over plain HTTP. ``SENT`` counts every bad input sent, per endpoint;
the last test asserts at least 500 and prints the table.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from app import api_inputs as ai  # noqa: E402
from app.components import latent_map as lm  # noqa: E402
from app.components import step_grid as sg  # noqa: E402
from app.services import (  # noqa: E402
    KEYS,
    MAX_VARIATIONS,
    EmotionService,
    ExploreService,
    SongService,
    Studio,
    check_chords,
    check_feeling,
    check_num_bars,
)
from app.services.arrange import SOURCES as ARRANGE_SOURCES  # noqa: E402
from app.services.common import accompaniment_program, choice, flag, float_in, int_in, melody_program  # noqa: E402
from app.services.compose import MAX_TEMPERATURE, MAX_TEMPO, MIN_TEMPERATURE, MIN_TEMPO  # noqa: E402
from app.services.explore import ANALOGY_CHORD_MODES, CHORD_MODES, SOURCE_KINDS  # noqa: E402
from app.services.song import (  # noqa: E402
    MAX_ADD_BARS,
    MAX_SEED,
    MAX_SONG_TEMPERATURE,
    MAX_SONG_TEMPO,
    MIN_ADD_BARS,
    MIN_LOAD_BARS,
    MIN_SONG_TEMPERATURE,
    MIN_SONG_TEMPO,
    RHYTHM_MODES,
    SONG_NEW,
    SONG_SOURCES,
    parse_selection,
)
from app.services.style import (  # noqa: E402
    MORPH_MAX_STEPS,
    MORPH_MIN_STEPS,
    STYLE_MAX_BARS,
    STYLE_MIN_BARS,
    STYLE_MODELS,
    check_model,
)
from engine.io.examples import list_examples, load_example
from engine.music.multitrack import STYLES
from engine.music.tonality import parse_functions
from tests.conftest import make_nottingham_midi  # noqa: E402

pytestmark = pytest.mark.slow

SENT: Counter[str] = Counter()  # bad inputs sent, per endpoint
LIBRARY_IDS: dict[str, str] = {}  # filled by the client fixture: "own", "deleted", "other" (another client's)
GENERIC = "upstream Gradio app has raised an exception"
CRASH = "Something went wrong"
SONG_BLOCKS = 5  # the session's song while fuzzing: 8 bars made, then continued by 2
UPLOAD = "Upload MIDI"
FAR = st.integers(min_value=10**20, max_value=10**400)  # beyond any float, or any range


# ------------------------------------------------------------------------------ the studio


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> str:
    """The studio with the debug models on a free port, in this process (closed after the module)."""
    from app.library import Library
    from app.studio import build_studio, launch_kwargs

    studio = Studio.load(
        "debug",
        device="cpu",
        cache_dir=tmp_path_factory.mktemp("fuzz_studio"),
        library=Library(tmp_path_factory.mktemp("fuzz_library")),
    )
    demo = build_studio(studio)
    port = _free_port()
    demo.queue(default_concurrency_limit=1).launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
        **launch_kwargs(),
    )
    address = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(address, timeout=5):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)
    try:
        yield address
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(url) -> Client:
    """One API session with a 2x2 map built and a 10-bar song (two versions), as the fuzzed verbs need."""
    api = Client(url, verbose=False, download_files=False)
    built = api.predict(size=2, bars=2, api_name="/explore_map")
    assert "cz-okay" in built[0], built[0]
    made = api.predict(bars=8, api_name="/song_new")
    assert "cz-okay" in made[0], made[0]
    grown = api.predict(add_bars=2, api_name="/song_continue")
    assert "10 bars" in grown[1], grown[1]
    # Library ids the fuzzing needs: one of this client's pieces, one it deleted, one of another client's.
    assert "cz-okay" in api.predict(num_bars=2, variations=2, api_name="/compose")[0]
    own = api.predict("", "All", False, api_name="/library_list")[1]
    assert len(own) >= 3  # the song and the two melodies
    LIBRARY_IDS["own"] = own[0]["id"]
    deleted = own[-1]["id"]
    assert "cz-okay" in api.predict(deleted, api_name="/library_delete")[0]
    LIBRARY_IDS["deleted"] = deleted
    other = Client(url, verbose=False, download_files=False)
    assert "cz-okay" in other.predict(num_bars=2, api_name="/compose")[0]
    LIBRARY_IDS["other"] = other.predict("", "All", False, api_name="/library_list")[1][0]["id"]
    return api


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A folder for the files sent as uploads, with ``tune.mid`` (a working 2-track MIDI file)."""
    folder = tmp_path_factory.mktemp("fuzz_uploads")
    (folder / "tune.mid").write_bytes(make_nottingham_midi())
    return folder


# ------------------------------------------------------------------------------ what is bad


def refused(check: Callable[[Any], Any], value: Any) -> bool:
    """Whether ``check(value)`` refuses the value with an input error."""
    try:
        check(value)
    except ValueError:  # CadenzaInputError and its kinds
        return True
    return False


def gradio_sees(component: Any) -> Callable[[Any], Any]:
    """What the handler gets for a value sent to ``component`` (the studio's lenient preprocess: a seed of 3.7 is 4)."""
    return component.preprocess


SEED_BOX = ai.Number(0, precision=0, minimum=0, maximum=99_999_999, render=False)
START_BOX = ai.Number(0, precision=0, minimum=0, maximum=10_000, render=False)
EMOTION_SEED_BOX = ai.Number(0, precision=0, render=False)
TRACK_BOX = ai.Number(None, precision=0, render=False)


def _or_zero(value: Any) -> Any:
    return 0 if value in (None, "") else value


# Anything a JSON client can send, weighted towards the near misses.
NUMERIC_TEXT = st.one_of(
    st.integers(-100, 100).map(str),
    st.floats(-1e3, 1e3, allow_nan=False).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "-1e999", "", " ", "1_000", "0x10", "½"]),
)
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    FAR,
    st.integers().map(lambda n: -abs(n) - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-50, 300, allow_nan=False),
    st.text(max_size=40),
    st.text(min_size=2000, max_size=5000, alphabet="yz |.-#"),
    NUMERIC_TEXT,
    st.lists(st.integers(-5, 20), max_size=4),
    st.lists(st.text(max_size=8), min_size=1, max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=3),
)


def choice_values(choices: list[str]) -> st.SearchStrategy:
    """Near misses of a choice list (lists holding a choice, other case, numbers) and anything else."""
    near = st.sampled_from(choices).flatmap(
        lambda c: st.sampled_from([[c], {"value": c}, c.lower() + "x", c.upper(), c + "!"])
    )
    return st.one_of(near, ANYTHING)


def bad(values: st.SearchStrategy, is_refused: Callable[[Any], bool]) -> st.SearchStrategy:
    """The values of ``values`` the studio must refuse."""
    return values.filter(is_refused)


def _no_onset(bars: int) -> Callable[[Any], bool]:
    return lambda v: sg.count_onsets(sg.to_rhythm(v, bars)) == 0


def _grid_values() -> st.SearchStrategy:
    return st.one_of(ANYTHING, st.text(alphabet=".|-+o \n", max_size=80), st.just("." * 16 + "|" + "." * 16))


def _bad_chords(optional: bool = False) -> Callable[[Any], bool]:
    def is_refused(value: Any) -> bool:
        text = "" if value is None else str(value)  # a Textbox hands the handler str(value)
        if optional and not text.strip():
            return False
        return not check_chords(text).ok

    return is_refused


CHORD_TEXT = st.one_of(
    ANYTHING,
    st.lists(
        st.sampled_from(["C", "Am", "H7", "Zz", "C#b#", "Cmaj99", "|", "||", "N.C.x", "🎵", "C/", "/E", "Bb/Q", "x"]),
        min_size=1,
        max_size=8,
    ).map(" ".join),
)


def _bad_file_values(folder: Path) -> st.SearchStrategy:
    """File values no handler can read as a tune: uploads of random bytes, text, empty or broken MIDI under odd
    names, and values that are no upload at all (text, numbers, lists, dicts without Gradio's file marker, URLs)."""
    names = st.sampled_from(
        [
            "x.mid",
            "..mid",
            "noext",
            "tune.txt",
            "a b;rm -rf.mid",
            "üñí名.midi",
            ".hidden.mid",
            "x" * 150 + ".mid",
            "con.mid",
            "%2e%2e%2fx.mid",
            "tune.mid.exe",
        ]
    )
    contents = st.one_of(
        st.binary(max_size=600),
        st.just(b""),
        st.text(max_size=200).map(str.encode),
        st.binary(max_size=200).map(lambda b: b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0" + b),
        st.just(make_nottingham_midi()[:40]),
    )
    uploads = st.tuples(names, contents).map(lambda nc: ("upload", nc[0], nc[1]))
    not_files = st.one_of(
        st.text(max_size=30),
        st.integers(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
        st.sampled_from(
            [{"path": "../../x.mid"}, {"path": "/etc/passwd"}, {"url": "http://127.0.0.1:9/x.mid"}, [{"path": "x.mid"}]]
        ),
    ).map(lambda v: ("raw", v))
    urls = st.sampled_from(
        ["http://127.0.0.1:9/x.mid", "https://example.invalid/../../x.mid", "http://169.254.169.254/latest/"]
    ).map(lambda u: ("raw", handle_file(u)))
    return st.one_of(uploads, uploads, not_files, urls)


# ------------------------------------------------------------------------------ the endpoints


@dataclass
class Case:
    """One argument of an endpoint: the bad values drawn for it, words that name it, working values it needs around
    it."""

    param: str
    values: st.SearchStrategy
    words: tuple[str, ...]
    around: dict[str, Any] = field(default_factory=dict)
    file: bool = False  # values are file specs (see _bad_file_values)


def _number_case(
    param: str, check: Callable[[Any], Any], words: tuple[str, ...], box: Any = None, **around: Any
) -> Case:
    see = gradio_sees(box) if box is not None else (lambda v: v)
    return Case(param, bad(ANYTHING, lambda v: refused(check, see(v))), words, around)


def _choice_case(
    param: str, choices: list[str], check: Callable[[Any], Any], words: tuple[str, ...], **around: Any
) -> Case:
    return Case(param, bad(choice_values(choices), lambda v: refused(check, v)), words, around)


def _instrument_case(
    param: str = "instrument", none_means_default: bool = True, empty_means_default: bool = False
) -> Case:
    names = list(Studio.melody_instruments())

    def check(value: Any) -> None:
        if (value is None and none_means_default) or (value == "" and empty_means_default):
            return
        melody_program(value or "")

    return _choice_case(param, names, check, ("instrument",))


def _example_refused(value: Any) -> bool:
    return not value or refused(load_example, str(value))


def _source_cases(suffix: str, side: str, folder: Path, **endpoint_around: Any) -> list[Case]:
    """The five source arguments of melody A or B (``suffix`` "_a", "_b" or "" for the single-source verbs)."""
    kind, example, file, track, start = (f"{name}{suffix}" for name in ("kind", "example", "file", "track", "start"))
    upload = {kind: UPLOAD, file: ("upload", "tune.mid", None), **endpoint_around}
    tracks = st.one_of(
        st.integers(2, 10**6),
        st.integers(max_value=-1),
        st.text(max_size=12),
        st.floats(0.1, 1.9),
        st.lists(st.integers(0, 1), min_size=1, max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
        st.booleans(),
        FAR,
    )

    def track_refused(value: Any) -> bool:
        if value in (None, "", 0, 1) or (isinstance(value, str) and value.split(":")[0].strip() in ("0", "1")):
            return False  # no track (the guessed melody) or one of the file's two tracks
        if isinstance(value, float) and value in (0.0, 1.0):
            return False
        return True

    return [
        _choice_case(
            kind,
            list(SOURCE_KINDS),
            lambda v: choice("source", v, SOURCE_KINDS, "Example"),
            ("source",),
            **endpoint_around,
        ),
        Case(
            example,
            bad(choice_values(list_examples()), _example_refused),
            ("example",),
            {kind: "Example", **endpoint_around},
        ),
        Case(file, _bad_file_values(folder), ("midi", "file"), {kind: UPLOAD, **endpoint_around}, file=True),
        Case(track, bad(tracks, track_refused), ("track",), upload),
        _number_case(
            start, lambda v: int_in("Start bar", _or_zero(v), 0, 10_000), ("start",), START_BOX, **endpoint_around
        ),
    ]


def _add_bars(value: Any) -> None:
    bars = int_in("Bars to add", value, MIN_ADD_BARS, MAX_ADD_BARS)
    if bars % 2:
        raise ValueError("odd")


def _load_source(value: Any) -> None:
    if choice("source", value, SONG_SOURCES, "Example") == SONG_NEW:
        raise ValueError("a new song has nothing to load")


def _emotion_instrument(value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise ValueError("no name")
    melody_program(value or "Flute")  # None or "": the default


def _functions_refused(value: Any) -> bool:
    text = "" if value is None else str(value)  # a Textbox hands the handler str(value); empty: from the chords
    return bool(text.strip()) and refused(lambda t: parse_functions(t, 8), text)


def _tracks_cases(folder: Path) -> list[Case]:
    """The arguments of /explore_tracks_a|b: the file, and start bar and bars with a working file."""
    tune = {"file": ("upload", "tune.mid", None)}
    return [
        Case("file", _bad_file_values(folder), ("midi", "file"), file=True),
        _number_case("start", lambda v: int_in("S", _or_zero(v), 0, 10_000), ("start",), START_BOX, **tune),
        _number_case("bars", ExploreService.check_bars, ("bars",), **tune),
    ]


def _style_bars(value: Any) -> None:
    bars = int_in("Bars", value, STYLE_MIN_BARS, STYLE_MAX_BARS)
    if bars % 2:
        raise ValueError("odd")


def _style_instrument_cases() -> list[Case]:
    """inst1..inst4 of the Style verbs: None or "" is the style's default, anything else must be a name."""
    return [_instrument_case(f"inst{i}", empty_means_default=True) for i in range(1, 5)]


def _style_endpoints(folder: Path) -> dict[str, list[Case]]:
    """/style_generate, /style_morph and /style_transfer (the debug studio knows every style, and has both generators:
    the chords are fuzzed with the GAN, which reads them)."""

    def style_case(param: str, **around: Any) -> Case:
        return _choice_case(param, list(STYLES), lambda v: choice("style", v, list(STYLES)), ("style",), **around)

    seed = _number_case("seed", lambda v: int_in("Seed", _or_zero(v), 0, MAX_SEED), ("seed",), EMOTION_SEED_BOX)
    tune = {"file": ("upload", "tune.mid", None)}
    return {
        "/style_generate": [
            style_case("style"),
            _number_case("bars", _style_bars, ("bars",)),
            seed,
            *_style_instrument_cases(),
            _choice_case("model", list(STYLE_MODELS), check_model, ("generator",)),
            Case("chords", bad(CHORD_TEXT, _bad_chords(optional=True)), ("chord",), {"model": "GAN"}),
        ],
        "/style_morph": [
            style_case("style_a"),
            style_case("style_b"),
            _number_case("steps", lambda v: int_in("Steps", v, MORPH_MIN_STEPS, MORPH_MAX_STEPS), ("steps",)),
            seed,
            *_style_instrument_cases(),
        ],
        "/style_transfer": [
            Case("file", _bad_file_values(folder), ("midi", "file", "voices"), file=True),
            style_case("target", **tune),
            _number_case("strength", lambda v: float_in("Strength", v, 0.0, 1.0), ("strength",), **tune),
            *[Case(c.param, c.values, c.words, {**tune, **c.around}) for c in _style_instrument_cases()],
        ],
    }


def _arrange_endpoints(folder: Path) -> dict[str, list[Case]]:
    """/arrange_suggest and /arrange: the melody (source, an upload, its bars and track), the chords, the style, the
    seed and the instruments (a working upload around each case: the API has no last composed melody)."""
    upload = {"source": "Upload MIDI", "file": ("upload", "tune.mid", None)}

    def track_check(value: Any) -> Any:  # blank: the guessed melody track; else one of tune.mid's two tracks
        return None if value in (None, "") else int_in("Melody track", value, 0, 1)

    melody = [
        _choice_case("source", list(ARRANGE_SOURCES), lambda v: choice("source", v, ARRANGE_SOURCES), ("source",)),
        Case("file", _bad_file_values(folder), ("midi", "file", "track", "notes"), {"source": "Upload MIDI"}, True),
        _number_case("bars", lambda v: int_in("Bars", v, 1, 32), ("bars",), **upload),
        _number_case("track", track_check, ("track",), TRACK_BOX, **upload),
    ]
    seed = _number_case(
        "seed", lambda v: int_in("Seed", _or_zero(v), 0, MAX_SEED), ("seed",), EMOTION_SEED_BOX, **upload
    )
    style = _choice_case("style", list(STYLES), lambda v: choice("style", v, list(STYLES)), ("style",), **upload)
    return {
        "/arrange_suggest": [*melody, seed],
        "/arrange": [
            *melody,
            Case("chords", bad(CHORD_TEXT, _bad_chords(optional=True)), ("chord",), upload),
            style,
            seed,
            *[Case(c.param, c.values, c.words, {**upload, **c.around}) for c in _style_instrument_cases()],
        ],
    }


def _library_endpoints() -> dict[str, list[Case]]:
    """The library verbs: ids that are not this client's pieces (another client's, deleted, path-like, huge, wrong
    types), titles that are empty or too long, searches too long, unknown tabs, starred that is no true/false."""
    ids = st.one_of(
        st.sampled_from([LIBRARY_IDS.get("other", "0" * 32), LIBRARY_IDS.get("deleted", "1" * 32), "f" * 32]),
        st.sampled_from(["../../etc/passwd", "/etc/passwd", "..", "", " ", "%2e%2e/x", "A" * 32, "0" * 31]),
        st.text(max_size=40),
        st.text(min_size=300, max_size=600),
        ANYTHING,
    )
    piece = Case("piece_id", bad(ids, lambda v: v is None or str(v) != LIBRARY_IDS.get("own")), ("piece",))
    titles = st.one_of(st.none(), st.just(""), st.text(alphabet=" \t\n\x00\x07", max_size=8), st.text(min_size=121))
    own = {"piece_id": LIBRARY_IDS.get("own", "")}
    return {
        "/library_list": [
            Case("query", st.text(min_size=201, max_size=400), ("search",)),
            Case("tab", bad(ANYTHING, lambda v: v not in (None, "", "All")), ("tab",)),
            Case("starred", bad(ANYTHING, lambda v: not isinstance(v, bool)), ("starred",)),
        ],
        "/library_get": [piece],
        "/library_rename": [
            Case(piece.param, piece.values, piece.words, {"title": "ok"}),
            Case("title", titles, ("title",), own),
        ],
        "/library_delete": [piece],
    }


def endpoints(folder: Path) -> dict[str, list[Case]]:
    """Every API verb with the cases of its arguments (compose_rolls takes none)."""
    instruments = list(Studio.melody_instruments())
    explore_bars = _number_case("bars", ExploreService.check_bars, ("bars",))
    explore_pair = [*_source_cases("_a", "A", folder), *_source_cases("_b", "B", folder), explore_bars]
    typed = {"chords_mode": "Typed progression"}
    compose = [
        Case("grid_value", bad(_grid_values(), _no_onset(sg.DEFAULT_BARS)), ("rhythm",)),
        Case("chords_text", bad(CHORD_TEXT, _bad_chords()), ("chord",)),
        _number_case("num_bars", check_num_bars, ("bars",)),
        _choice_case("key", KEYS, lambda v: choice("key", v or "", KEYS), ("key",)),
        _number_case("tempo", lambda v: float_in("Tempo", v, MIN_TEMPO, MAX_TEMPO), ("tempo",)),
        _instrument_case(none_means_default=False),
        _choice_case("accompaniment", list(Studio.accompaniment_choices()), accompaniment_program, ("accompaniment",)),
        _number_case(
            "seed", lambda v: int_in("Seed", 0 if v is None else v, 0, MAX_SEED - MAX_VARIATIONS), ("seed",), SEED_BOX
        ),
        _number_case("temperature", lambda v: float_in("T", v, MIN_TEMPERATURE, MAX_TEMPERATURE), ("temperature",)),
        _number_case("variations", lambda v: int_in("V", v, 1, MAX_VARIATIONS), ("variations",)),
        Case("use_feeling", bad(ANYTHING, lambda v: refused(lambda x: flag("f", x), v)), ("use_feeling", "feeling")),
        Case(
            "feeling",
            bad(
                st.one_of(ANYTHING, st.text(alphabet="0123456789.,-Qq ", max_size=12)),
                lambda v: refused(check_feeling, v),
            ),
            ("feeling", "valence", "arousal", "quadrant"),
            {"use_feeling": True},
        ),
    ]
    song_common = [
        _number_case("seed", lambda v: int_in("Seed", _or_zero(v), 0, MAX_SEED), ("seed",), SEED_BOX),
        _number_case(
            "temperature", lambda v: float_in("T", v, MIN_SONG_TEMPERATURE, MAX_SONG_TEMPERATURE), ("temperature",)
        ),
        _instrument_case(),
    ]

    def selection_refused(value: Any) -> bool:
        try:
            chosen = parse_selection(value)
        except ValueError:
            return True
        return not chosen or chosen[-1] >= SONG_BLOCKS or len(chosen) == SONG_BLOCKS

    selections = st.one_of(
        ANYTHING,
        st.lists(st.integers(-3, 20), max_size=6),
        st.just(list(range(SONG_BLOCKS))),
        st.text(alphabet="0123456789,[] x", max_size=12),
    )
    map_values = st.one_of(
        ANYTHING,
        st.builds(
            lambda c, p: json.dumps({"cell": c, "path": p}),
            st.one_of(st.none(), st.lists(st.integers(-2, 4), max_size=3), st.text(max_size=3)),
            st.lists(st.lists(st.integers(-2, 4), max_size=3), max_size=4),
        ),
    )

    def cell_refused(value: Any) -> bool:
        try:
            return lm.check_map_value(value, 2).cell is None
        except ValueError:
            return True

    return {
        "/compose": compose,
        "/check_chords": [Case("text", bad(CHORD_TEXT, _bad_chords()), ("chord",))],
        "/explore_source_a": [*_source_cases("", "A", folder), explore_bars],
        "/explore_source_b": [*_source_cases("", "B", folder), explore_bars],
        "/explore_tracks_a": _tracks_cases(folder),
        "/explore_tracks_b": _tracks_cases(folder),
        "/explore_interpolate": [
            *explore_pair,
            _choice_case(
                "chords_mode", list(CHORD_MODES), lambda v: choice("c", v, CHORD_MODES, CHORD_MODES[0]), ("chord",)
            ),
            Case("chords_text", bad(CHORD_TEXT, _bad_chords()), ("chord",), typed),
            _number_case("steps", lambda v: int_in("Steps", v, 2, 12), ("steps",)),
            _instrument_case(),
        ],
        "/explore_map": [
            *explore_pair,
            _choice_case(
                "chords_mode",
                list(CHORD_MODES),
                lambda v: choice("c", v, CHORD_MODES, CHORD_MODES[0]),
                ("chord",),
                size=2,
            ),
            Case("chords_text", bad(CHORD_TEXT, _bad_chords()), ("chord",), {**typed, "size": 2}),
            _number_case("size", lambda v: int_in("Map size", v, 2, 7), ("size",)),
            _instrument_case(),
            Case(
                "cell_chords",
                bad(ANYTHING, lambda v: refused(lambda x: flag("c", x), v)),
                ("cell_chords", "chords in the cells"),
                {"size": 2},
            ),
        ],
        "/explore_analogy": [
            *explore_pair,
            _choice_case(
                "analogy_chords",
                list(ANALOGY_CHORD_MODES),
                lambda v: choice("c", v, ANALOGY_CHORD_MODES, ANALOGY_CHORD_MODES[0]),
                ("chord",),
            ),
            Case("reharm_text", bad(CHORD_TEXT, _bad_chords()), ("chord",)),
            _instrument_case(),
        ],
        "/explore_cell": [Case("map_value", bad(map_values, cell_refused), ("cell", "map"))],
        "/explore_morph": [
            Case(
                "map_value",
                bad(map_values, lambda v: refused(lambda x: lm.check_map_value(x, 2), v)),
                ("map_value", "map"),
            ),
            _choice_case("instrument", instruments, lambda v: melody_program(v) if v else None, ("instrument",)),
        ],
        "/song_new": [
            Case("chords", bad(CHORD_TEXT, _bad_chords()), ("chord",)),
            _number_case("bars", SongService.check_song_bars, ("bars",)),
            _choice_case("key", KEYS, lambda v: choice("key", v, KEYS), ("key",)),
            Case(
                "functions",
                bad(st.one_of(ANYTHING, st.text(alphabet="TSDOX- |q", max_size=12)), _functions_refused),
                ("function",),
            ),
            _number_case("tempo", lambda v: float_in("Tempo", v, MIN_SONG_TEMPO, MAX_SONG_TEMPO), ("tempo",)),
            Case("use_grid", bad(ANYTHING, lambda v: refused(lambda x: flag("u", x), v)), ("use_grid", "rhythm grid")),
            Case("grid", bad(_grid_values(), _no_onset(2)), ("rhythm",), {"use_grid": True}),
            *song_common,
        ],
        "/song_load": [
            _choice_case("kind", list(SONG_SOURCES), _load_source, ("source", "load")),
            Case("example", bad(choice_values(list_examples()), _example_refused), ("example",), {"kind": "Example"}),
            Case("file", _bad_file_values(folder), ("midi", "file"), {"kind": UPLOAD}, file=True),
            Case(
                "track",
                bad(
                    st.one_of(
                        st.integers(2, 10**6), st.integers(max_value=-1), st.text(alphabet="abc-:", max_size=6), FAR
                    ),
                    lambda v: v not in (None, ""),
                ),
                ("track",),
                {"kind": UPLOAD, "file": ("upload", "tune.mid", None)},
            ),
            _number_case("start", lambda v: int_in("S", _or_zero(v), 0, 10_000), ("start",), START_BOX, kind="Example"),
            _number_case("bars", lambda v: SongService.check_song_bars(v, MIN_LOAD_BARS), ("bars",), kind="Example"),
            _instrument_case(),
            Case(
                "keep_accompaniment",
                bad(ANYTHING, lambda v: refused(lambda x: flag("k", x), v)),
                ("accompaniment",),
                {"kind": "Example"},
            ),
        ],
        "/song_tracks": [Case("file", _bad_file_values(folder), ("midi", "file"), file=True)],
        "/song_continue": [
            _number_case("add_bars", _add_bars, ("bars",)),
            Case("chords", bad(CHORD_TEXT, _bad_chords(optional=True)), ("chord",)),
            *song_common,
        ],
        "/song_infill": [
            Case("selection", bad(selections, selection_refused), ("block", "selection")),
            _choice_case(
                "rhythm_mode", list(RHYTHM_MODES), lambda v: choice("r", v, RHYTHM_MODES, "keep"), ("rhythm",)
            ),
            Case("grid", bad(_grid_values(), _no_onset(2)), ("rhythm",), {"rhythm_mode": "grid"}),
            *song_common,
        ],
        "/song_undo": [_instrument_case()],
        **_style_endpoints(folder),
        **_library_endpoints(),
        **_arrange_endpoints(folder),
        "/emotion": [
            Case(
                "feeling",
                bad(
                    st.one_of(ANYTHING, st.text(alphabet="0123456789.,-Qq ", max_size=12)),
                    lambda v: refused(check_feeling, v),
                ),
                ("feeling", "valence", "arousal", "quadrant"),
            ),
            _number_case("bars", EmotionService.check_bars, ("bars",)),
            _number_case("seed", EmotionService.check_seed, ("seed",), EMOTION_SEED_BOX),
            _choice_case("instrument", instruments, _emotion_instrument, ("instrument",)),
            _number_case("variations", EmotionService.check_variations, ("variations",)),
        ],
    }


# ------------------------------------------------------------------------------ sending and reading answers


def _file_value(spec: Any, folder: Path) -> Any:
    """A file spec as gradio_client sends it: ("upload", name, bytes or None for tune.mid) or ("raw", value)."""
    if spec[0] == "raw":
        return spec[1]
    _, name, content = spec
    if content is None:
        return handle_file(str(folder / "tune.mid"))
    path = folder / f"{SENT.total()}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return handle_file(str(path))


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def answer_of(result: Any) -> tuple[str, str]:
    """("refused" | "crash" | "ok", the answer's text) for what an endpoint returned."""
    values = result if isinstance(result, (list, tuple)) else [result]
    html = " ".join(v for v in values if isinstance(v, str) and "cz-" in v)
    text = _plain(html)
    if CRASH in text or GENERIC in text:
        return "crash", text
    if "cz-error" in html or "cz-bad" in html:
        return "refused", text
    return "ok", text or repr(values)[:300]


def send(api: Client, endpoint: str, kwargs: dict[str, Any]) -> tuple[str, str]:
    """Call ``endpoint``; ("refused" | "crash" | "ok", text), counting the call in SENT."""
    SENT[endpoint] += 1
    try:
        result = api.predict(api_name=endpoint, **kwargs)
    except AppError as err:
        message = str(err)
        return ("crash" if GENERIC in message else "refused"), message
    return answer_of(result)


def check_answer(endpoint: str, case: Case, value: Any, outcome: str, text: str) -> None:
    """A bad value must be refused by a readable message naming the argument."""
    what = f"{endpoint} {case.param}={str(value)[:80]!r}"
    assert outcome != "crash", f"{what}: unhandled error: {text[:300]}"
    assert outcome == "refused", f"{what}: accepted a value the studio must refuse: {text[:300]}"
    lowered = text.lower()
    assert any(word in lowered for word in case.words), f"{what}: the message does not name {case.words}: {text[:300]}"
    assert len(text) < 2000, f"{what}: message too long ({len(text)} characters)"


# Working values every case of an endpoint needs (a case's own ``around`` and the fuzzed value go over them).
BASE: dict[str, dict[str, Any]] = {"/song_load": {"kind": "Example"}, "/song_infill": {"selection": [1]}}


def _kwargs(endpoint: str, case: Case, value: Any, folder: Path) -> dict[str, Any]:
    around = {**BASE.get(endpoint, {}), **case.around}
    out = {
        name: (_file_value(v, folder) if isinstance(v, tuple) and v and v[0] in ("upload", "raw") else v)
        for name, v in around.items()
    }
    out[case.param] = _file_value(value, folder) if case.file else value
    return out


# ------------------------------------------------------------------------------ the tests

ENDPOINTS = endpoints(Path("."))  # cases are built again per test with the real upload folder
EXAMPLES = {
    "/compose": 43,
    "/check_chords": 18,
    "/explore_source_a": 22,
    "/explore_source_b": 14,
    "/explore_tracks_a": 14,
    "/explore_tracks_b": 11,
    "/explore_interpolate": 32,
    "/explore_map": 32,
    "/explore_analogy": 29,
    "/explore_cell": 14,
    "/explore_morph": 14,
    "/song_new": 36,
    "/song_load": 25,
    "/song_tracks": 11,
    "/song_continue": 18,
    "/song_infill": 22,
    "/song_undo": 10,
    "/emotion": 22,
    "/style_generate": 18,
    "/style_morph": 18,
    "/style_transfer": 18,
    "/library_list": 14,
    "/library_get": 18,
    "/library_rename": 18,
    "/library_delete": 14,
    "/arrange_suggest": 14,
    "/arrange": 22,
}  # examples per endpoint: 541 in all (each is a gradio_client call: its 50 ms polling makes them slow)


def test_every_api_endpoint_is_fuzzed(client):
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    with_inputs = {name for name, spec in info.items() if spec["parameters"]}
    assert with_inputs == set(ENDPOINTS) == set(EXAMPLES)
    for name, cases in ENDPOINTS.items():  # every argument has its case
        assert {p["parameter_name"] for p in info[name]["parameters"]} == {c.param for c in cases}, name
    assert set(info) - with_inputs == {"/compose_rolls"}


@pytest.mark.parametrize("endpoint", list(EXAMPLES))
def test_bad_values_are_refused_with_a_message_naming_them(endpoint, client, files):
    cases = endpoints(files)[endpoint]

    @settings(
        max_examples=EXAMPLES[endpoint],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def fuzz(data):
        case = data.draw(st.sampled_from(cases), label="argument")
        value = data.draw(case.values, label=case.param)
        outcome, text = send(client, endpoint, _kwargs(endpoint, case, value, files))
        check_answer(endpoint, case, value, outcome, text)

    fuzz()


def _raw_call(url: str, endpoint: str, body: str) -> tuple[str, str]:
    """POST ``body`` (JSON text, so it may hold NaN) to Gradio's REST route and read the streamed answer."""
    SENT[endpoint] += 1
    with httpx.Client(timeout=30) as http:
        posted = http.post(
            f"{url}gradio_api/call{endpoint}", content=body, headers={"content-type": "application/json"}
        )
        if posted.status_code != 200:
            return "http", f"{posted.status_code} {posted.text[:300]}"
        event = posted.json()["event_id"]
        stream = http.get(f"{url}gradio_api/call{endpoint}/{event}").text
    kind = re.findall(r"^event: (\w+)", stream, re.M)[-1]
    data = json.loads(re.findall(r"^data: (.*)$", stream, re.M)[-1])
    if kind == "error":
        return ("crash" if not data or GENERIC in str(data) else "refused"), str(data)
    return answer_of(data)


RAW = [
    # (endpoint, JSON body, words the answer must hold)
    ("/compose", '{"data": []}', ("missing", "grid_value")),
    ("/compose", '{"data": ["x...", "C"]}', ("missing", "num_bars")),
    ("/song_undo", '{"data": []}', ("missing", "instrument")),
    ("/compose", '{"data": ["x...|x...", "C Am", NaN, "C", 120, "Flute", "Strings", 1, 0.5, 1, false, ""]}', ("bars",)),
    (
        "/compose",
        '{"data": ["x...|x...", "C Am", 4, "C", Infinity, "Flute", "Strings", 1, 0.5, 1, false, ""]}',
        ("tempo",),
    ),
    (
        "/compose",
        '{"data": ["x...|x...", "C Am", 4, "C", 120, "Flute", "Strings", -Infinity, 0.5, 1, false, ""]}',
        ("seed",),
    ),
    ("/emotion", '{"data": ["0.5,0.5", 16, 1, "Flute", NaN]}', ("variations",)),
    ("/song_new", '{"data": ["C Am", 8, "C", "", NaN, false, "", 1, 0.5, "Flute", null, null]}', ("tempo",)),
    (
        "/explore_tracks_a",
        '{"data": [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}, 0, 4]}',
        ("file", "server"),
    ),
    ("/explore_tracks_a", '{"data": [{"path": "../../x.mid", "meta": {"_type": "gradio.FileData"}}, 0, 4]}', ("file",)),
    (
        "/song_tracks",
        '{"data": [{"path": "/tmp/gradio/../../etc/hosts", "meta": {"_type": "gradio.FileData"}}]}',
        ("file",),
    ),
    (
        "/song_load",
        '{"data": ["Upload MIDI", null, {"path": "../app.py", "meta": {"_type": "gradio.FileData"}}, '
        'null, 0, 16, "Flute", '
        "null, null, null, false]}",
        ("file",),
    ),
    (
        "/explore_source_a",
        '{"data": ["Upload MIDI", null, {"path": "checkpoints/ec2vae/config.json", '
        '"meta": {"_type": "gradio.FileData"}}, '
        "null, 0, 4, null]}",
        ("file",),
    ),
    (
        "/explore_interpolate",
        '{"data": ["Example", "Cuckoo\'s Nest", {"path": "'
        + "a/" * 300
        + 'x.mid", "meta": {"_type": "gradio.FileData"}}, '
        'null, 0, "Example", "Hänschen klein", null, null, 0, 4, "A\'s chords", "", 5, "Flute", null]}',
        ("file",),
    ),
]


@pytest.mark.parametrize("endpoint, body, words", RAW, ids=[f"{i}{e}" for i, (e, _, _) in enumerate(RAW)])
def test_values_gradio_client_cannot_send_are_refused_too(endpoint, body, words, url, client):
    outcome, text = _raw_call(url, endpoint, body)
    assert outcome == "refused", f"{endpoint} {body[:120]}: {outcome}: {text[:300]}"
    assert any(word in text.lower() for word in words), text[:300]


def test_the_studio_still_works_and_enough_bad_input_was_sent(url, client, capsys):
    with urllib.request.urlopen(url, timeout=10) as page:
        assert page.status == 200 and b"gradio" in page.read().lower()
    fresh = Client(url, verbose=False, download_files=False)
    composed = fresh.predict(num_bars=4, seed=3, api_name="/compose")
    assert "cz-okay" in composed[0], composed[0]
    assert "✓" in fresh.predict("C Am | F G", api_name="/check_chords")
    assert "cz-okay" in fresh.predict(size=2, bars=2, api_name="/explore_map")[0]
    assert (
        "cz-okay" in client.predict(add_bars=2, seed=5, api_name="/song_continue")[0]
    )  # the fuzzed session's song is intact
    assert "cz-okay" in fresh.predict("-0.5,0.5", 8, 1, "Flute", 1, api_name="/emotion")[0]
    total = SENT.total()
    generated = total - len(RAW)
    with capsys.disabled():
        print(
            f"\nAPI fuzz: {total} bad inputs sent ({generated} generated by Hypothesis, {len(RAW)} over plain HTTP), "
            "all refused with a message naming the argument:"
        )
        for endpoint, count in sorted(SENT.items()):
            print(f"  {endpoint:24s} {count}")
    assert generated >= 400, SENT
