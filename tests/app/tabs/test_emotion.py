"""The Emotion tab's service and handlers with the tiny "debug" models (no browser).

Covers a sad (Q3) tune end to end (ABC with title, tempo and a minor key; the engraved score;
audio; .abc, .mid, .musicxml and .wav files; the MIDI slow and minor), the pad's value parsing
(lenient for the live line, strict for generating), blends near an axis, the unavailable tab,
and bad input: each gives a message naming the argument while the results on screen stay.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import gradio as gr
import numpy as np
import pretty_midi
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from app.components.emotion_pad import point_value, set_point_js
from app.services import (  # noqa: E402
    PRESETS,
    InputError,
    Studio,
    check_feeling,
    describe_point,
    feeling_line,
    load_emotion_pipeline,  # noqa: E402
    parse_point,
)
from app.services.emotion import articulation_words, register_words  # noqa: E402
from app.tabs.emotion import EmotionTab, score_html
from engine.render.encode import decode_audio  # noqa: E402


@pytest.fixture(scope="module")
def studio(tmp_path_factory) -> Studio:
    return Studio.load("debug", device="cpu", cache_dir=tmp_path_factory.mktemp("emotion_studio"))


@pytest.fixture(scope="module")
def tab(studio) -> EmotionTab:
    with gr.Blocks():
        tab = EmotionTab(studio).build()
    return tab


@pytest.fixture(scope="module")
def sad(tab) -> dict:
    """One 16-bar sad tune (the Q3 preset), through the Generate handler."""
    return tab.generate("Q3", 16, 0, "Flute", 1)


def _ok(text: str) -> bool:
    return "cz-okay" in text and "cz-error" not in text


# ---------------------------------------------------------------- a sad tune end to end


def test_generate_sad_gives_abc_score_audio_and_files(tab, sad):
    assert _ok(sad[tab.status]), sad[tab.status]
    assert "sad" in sad[tab.status] and "16 bars" in sad[tab.status]
    box = tab.boxes[0]
    assert sad[box["column"]].visible and not sad[tab.boxes[1]["column"]].visible
    abc = sad[box["abc"]]
    assert re.search(r"^T:.*sad", abc, re.M)
    tempo = int(re.search(r"^Q:1/4=(\d+)$", abc, re.M).group(1))
    assert 40 <= tempo <= 69
    assert re.search(r"^K:[A-G][#b]?m$", abc, re.M), "the template puts the tune in minor"
    assert sad[box["raw"]].startswith("X:1") and "Q:" not in sad[box["raw"]]  # the model's own text
    assert "Variation 1 · sad · seed 0" in sad[box["title"]]
    # The score follows in the chained event.
    scores = tab.draw_scores(sad[tab.pending_scores])
    assert "<svg" in scores[0] and scores[1:] == ["", "", ""]
    rate, audio = decode_audio(sad[box["audio"]])  # the player's file: Ogg Opus
    assert sad[box["audio"]].endswith(".ogg") and rate > 0 and audio.shape[1] == 2 and np.abs(audio).max() > 0
    report = sad[box["report"]]  # the control report: the sad corner's tempo range, met
    assert "Tempo range" in report and "40–69 BPM" in report and "Mode" in report and "Loudness" in report
    files = sad[box["files"]]
    assert [Path(f).suffix for f in files] == [".abc", ".mid", ".musicxml", ".wav"]
    assert all(Path(f).is_file() and Path(f).stat().st_size > 0 for f in files)
    assert Path(files[0]).read_text() == abc
    assert Path(files[3]).read_bytes()[:4] == b"RIFF"
    assert b"<score-partwise" in Path(files[2]).read_bytes()


def test_sad_midi_is_slow_and_minor(tab, sad):
    midi = next(f for f in sad[tab.boxes[0]["files"]] if f.endswith(".mid"))
    pm = pretty_midi.PrettyMIDI(midi)
    _, tempi = pm.get_tempo_changes()
    assert 40 <= round(tempi[0], 2) <= 69  # MIDI stores microseconds per beat: 69 BPM reads back as 69.00002
    assert pm.key_signature_changes and pm.key_signature_changes[0].key_number >= 12  # 12..23: minor keys
    melody = pm.instruments[0]
    assert melody.program == 73 and len(pm.instruments) == 1  # Flute, no accompaniment
    assert {n.velocity for n in melody.notes} == {80}  # the sad template's loudness (0 dB)


def test_service_results_carry_the_template(studio):
    results = studio.emotion.generate("-0.5,-0.5", 8, 3, "Oboe", 2, session_id="emo")
    assert [r.variation for r in results] == [1, 2] and [r.seed for r in results] == [3, 4]
    for r in results:
        assert r.summary.template.mode == "minor" and r.summary.template.register_shift == -12
        assert r.abc != r.abc_raw and "<svg" in r.svg
        assert Path(r.files["mid"]).parent.parent == studio.session_dir("emo")
        assert "BPM" in r.details and "key" in r.details and r.instrument == "Oboe" and r.num_bars == 8
    again = studio.emotion.generate("-0.5,-0.5", 8, 3, "Oboe", 1, session_id="emo")
    assert again[0].abc == results[0].abc  # same seed, same tune


# ---------------------------------------------------------------- the pad's value


@pytest.mark.parametrize(
    "value, point",
    [
        ("0.5,-0.25", (0.5, -0.25)),
        (" 0.123 , -0.456 ", (0.12, -0.46)),
        ("0.3 0.4", (0.3, 0.4)),
        ("2,-3", (1.0, -1.0)),  # clamped
        ('{"valence": 0.3, "arousal": -0.7}', (0.3, -0.7)),
        ("[0.1, 0.2]", (0.1, 0.2)),
        ((0.25, 0.75), (0.25, 0.75)),
        ({"valence": -1, "arousal": 1}, (-1.0, 1.0)),
        ("Q3", (-1.0, -1.0)),
        ("calm", (1.0, -1.0)),
        ("-0.004,0", (0.0, 0.0)),  # no "-0.0"
        ("", None),
        (None, None),
        ("abc", None),
        ("nan,0", None),
        ("1", None),
        ("[1, 2, 3]", None),
        ("{broken", None),
    ],
)
def test_parse_point_is_lenient(value, point):
    assert parse_point(value) == point
    if point is not None:
        assert str(parse_point(value)[0]) != "-0.0"


def test_point_value_and_presets():
    assert point_value(-0.7, 0.35) == "-0.70,0.35"
    assert point_value(3, -0.0001) == "1.00,0.00"
    assert set_point_js(-1, -1) == "() => '-1.00,-1.00'"
    assert {q: v for q, (_, v) in PRESETS.items()} == {
        "Q1": "1.00,1.00",
        "Q2": "-1.00,1.00",
        "Q3": "-1.00,-1.00",
        "Q4": "1.00,-1.00",
    }
    assert [label.split(" · ")[0] for label, _ in PRESETS.values()] == ["Happy", "Tense", "Sad", "Calm"]


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("1.5,0", "Valence must be between -1 and 1, got 1.5"),
        ("0,-1.01", "Arousal must be between -1 and 1, got -1.01"),
        ((True, 0), "Valence must be a number"),
        ("x,0", "Valence must be a number"),
        ("Q5", "Unknown quadrant 'Q5'"),
        ("angry", "Feeling must be a quadrant"),
        ("[1, 2, 3]", "Feeling must be a quadrant"),
        ('{"valence": 0.1}', "both 'valence' and 'arousal'"),
        ("", "No feeling chosen"),
        (None, "No feeling chosen"),
    ],
)
def test_check_feeling_is_strict(value, fragment):
    with pytest.raises(InputError, match=re.escape(fragment)):
        check_feeling(value)


def test_check_feeling_accepts_points_and_quadrants():
    assert check_feeling("-0.333,0.5") == (-0.33, 0.5)
    assert check_feeling("Q2") == (-1.0, 1.0)
    assert check_feeling("sad") == (-1.0, -1.0)
    assert check_feeling([1, -1]) == (1.0, -1.0)


# ---------------------------------------------------------------- what a point means


def test_the_live_line_describes_the_point():
    line = feeling_line("-1.00,-1.00")
    for part in ("sad", "~40–69 BPM", "minor", "one octave down", "0 dB", "legato"):
        assert part in line, (part, line)
    assert "click" in feeling_line("").lower()
    assert "tense" in feeling_line("Q2") and "two octaves down" in feeling_line("Q2") and "+10 dB" in feeling_line("Q2")
    assert "the model's own mode" in feeling_line("0.0,0.6")  # neither major nor minor near the middle


def test_near_an_axis_two_quadrants_blend():
    near = describe_point(-0.9, 0.1)  # just above the valence axis: tense, with some sad
    assert near.weights == {"Q2": 0.7, "Q3": 0.3}
    assert near.prompt_text == "tense 70% + sad 30%"
    assert "tense 70% + sad 30%" in feeling_line("-0.9,0.1")
    assert describe_point(-0.5, 0.0).weights == {"Q2": 0.5, "Q3": 0.5}  # on the axis: half and half
    assert describe_point(-0.6, -0.6).weights == {"Q3": 1.0}  # far from both axes: one quadrant
    # The template moves continuously: tempo rises with arousal, loudness too.
    low, mid, high = (describe_point(-0.9, a).template for a in (-0.5, 0.0, 0.5))
    assert low.tempo_range[0] < mid.tempo_range[0] < high.tempo_range[0]
    assert low.loudness_db < mid.loudness_db < high.loudness_db
    assert low.articulation > mid.articulation > high.articulation


def test_generating_near_an_axis_prompts_with_both_quadrants(studio):
    result = studio.emotion.generate("-0.9,0.1", 8, 0, "Flute", 1)[0]
    assert result.tune.prompt == {"Q2": 0.7, "Q3": 0.3}
    assert "tense 70% + sad 30%" in result.title


def test_words():
    assert (
        register_words(0) == "home register"
        and register_words(-12) == "one octave down"
        and register_words(24) == "two octaves up"
    )
    assert articulation_words(1.0) == "legato" and articulation_words(0.7) == "detached"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args, fragments",
    [
        (dict(feeling="1.5,0"), ["Valence", "between -1 and 1", "1.5"]),
        (dict(feeling="0,-2"), ["Arousal", "between -1 and 1"]),
        (dict(feeling="Q9"), ["Unknown quadrant", "Q1 (happy)"]),
        (dict(feeling="joyful"), ["Feeling must be"]),
        (dict(feeling=""), ["No feeling chosen"]),
        (dict(feeling=None), ["No feeling chosen"]),
        (dict(feeling=42), ["Feeling must be"]),
        (dict(bars=0), ["Bars must be between 8 and 32, got 0"]),
        (dict(bars=1000), ["Bars must be between 8 and 32, got 1000"]),
        (dict(bars=7), ["Bars must be between 8 and 32"]),
        (dict(bars=12.5), ["Bars must be a whole number"]),
        (dict(bars="many"), ["Bars must be a number"]),
        (dict(bars=None), ["Bars must be a number"]),
        (dict(seed=-1), ["Seed must be between 0"]),
        (dict(seed="x"), ["Seed must be a number"]),
        (dict(variations=0), ["Variations must be between 1 and 4"]),
        (dict(variations=5), ["Variations must be between 1 and 4"]),
        (dict(instrument="Kazoo"), ["Kazoo"]),
        (dict(instrument=7), ["Instrument must be an instrument name"]),
    ],
)
def test_bad_input_gives_a_message_and_leaves_results(tab, sad, args, fragments):
    call = dict(feeling="Q3", bars=16, seed=0, instrument="Flute", variations=1)
    call.update(args)
    out = tab.generate(call["feeling"], call["bars"], call["seed"], call["instrument"], call["variations"])
    assert set(out) == {tab.status, tab.pending_scores} and out[tab.pending_scores] is None
    assert "⚠️" in out[tab.status]
    for fragment in fragments:
        assert fragment in out[tab.status], (fragment, out[tab.status])
    skipped = tab.draw_scores(out[tab.pending_scores])  # the scores on screen stay too
    assert all(isinstance(s, dict) and s.get("__type__") == "update" and len(s) == 1 for s in skipped)


def test_engine_crash_is_reported_not_raised(studio, tmp_path):
    class Broken:
        def __call__(self, **kwargs):
            raise RuntimeError("boom")

    broken = Studio(studio.pipeline, synthesizer=None, cache_dir=tmp_path, emotion_pipeline=Broken())
    with gr.Blocks():
        tab = EmotionTab(broken).build()
    out = tab.generate("Q1", 8, 0, "Flute", 1)
    assert set(out) == {tab.status, tab.pending_scores}
    assert "Something went wrong" in out[tab.status] and "RuntimeError" in out[tab.status]


def test_without_the_model_the_tab_says_it_is_unavailable(studio, tmp_path):
    bare = Studio(studio.pipeline, synthesizer=None, cache_dir=tmp_path)
    assert not bare.emotion.available
    bare.emotion.warm_up()  # nothing to warm
    with gr.Blocks() as demo:
        tab = EmotionTab(bare).build()
    assert "The Emotion tab is unavailable" in str(demo.get_config_file())
    out = tab.generate("Q3", 16, 0, "Flute", 1)
    assert "checkpoints/abc_emotion" in out[tab.status] and set(out) == {tab.status, tab.pending_scores}
    # Bad input is still named first.
    assert "Bars" in tab.generate("Q3", 3, 0, "Flute", 1)[tab.status]


def test_load_emotion_pipeline(tmp_path):
    assert load_emotion_pipeline(tmp_path / "missing") is None
    (tmp_path / "broken").mkdir()
    assert load_emotion_pipeline(tmp_path / "broken") is None  # no config.json: logged, not raised
    assert load_emotion_pipeline("debug") is not None


def test_no_audio_without_a_synthesizer(studio, tmp_path):
    quiet = Studio(studio.pipeline, synthesizer=None, cache_dir=tmp_path, emotion_pipeline=studio.emotion.pipeline)
    result = quiet.emotion.generate("Q4", 8, 0, "Flute", 1)[0]
    assert result.audio is None and "wav" not in result.files and len(result.paths) == 3


def test_score_html():
    assert "cz-score" in score_html("<svg></svg>")
    assert "could not be drawn" in score_html("")
    html = score_html("<svg></svg>", {"spb": 16, "pickup": 0, "sps": 0.125, "bars": "0,1,0,1,2"})
    assert "data-spb='16'" in html and "data-bars='0,1,0,1,2'" in html  # the measure written for each bar played


# ---------------------------------------------------------------- the page


def test_build_studio_has_the_emotion_tab(studio):
    from app.studio import build_studio

    demo = build_studio(studio)
    config = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    for elem_id in [
        "cz-tab-emotion",
        "cz-emotion-pad",
        "cz-emotion-pad-line",
        "cz-emotion-q3",
        "cz-emotion-bars",
        "cz-emotion-generate",
        "cz-emotion-status",
        "cz-emotion-abc1",
        "cz-emotion-score1",
        "cz-emotion-audio1",
        "cz-emotion-files1",
        "cz-compose-pad",
        "cz-compose-use-feeling",
    ]:
        assert elem_id in ids, elem_id
    assert "Emotion" in str(config)
    api = demo.get_api_info()["named_endpoints"]["/emotion"]
    assert [p["parameter_name"] for p in api["parameters"]] == ["feeling", "bars", "seed", "instrument", "variations"]
    assert (
        len(api["returns"]) == 1 + 4 * 6
    )  # status, then title, ABC, raw ABC, audio, files, control report per variation
    compose = demo.get_api_info()["named_endpoints"]["/compose"]
    names = [p["parameter_name"] for p in compose["parameters"]]
    assert names[:10] == [
        "grid_value",
        "chords_text",
        "num_bars",
        "key",
        "tempo",
        "instrument",
        "accompaniment",
        "seed",
        "temperature",
        "variations",
    ]
    assert names[10:] == ["use_feeling", "feeling"] and all(
        p["parameter_has_default"] for p in compose["parameters"][10:]
    )


def test_warm_up(studio):
    studio.emotion.warm_up()


def test_the_warm_up_runs_beside_requests(studio, monkeypatch):
    """app.py warms up beside the server: a request made meanwhile is answered, and the warm-up still finishes."""
    started, release = threading.Event(), threading.Event()
    warmed: list[str] = []

    def slow_compose_warm_up() -> None:  # the first service's warm-up, held until the request below is answered
        started.set()
        release.wait(60)
        warmed.append(threading.current_thread().name)

    monkeypatch.setattr(studio.compose_service, "warm_up", slow_compose_warm_up)
    thread = studio.warm_up_in_background()
    assert started.wait(60)
    results = studio.emotion.generate("Q1", 8, 5, None, 1)  # while the warm-up is under way
    assert results and results[0].abc and thread.is_alive()
    release.set()
    thread.join(120)
    assert not thread.is_alive() and warmed == ["cadenza-warm-up"]


def test_tunes_asked_at_once_share_batches_and_are_each_their_own(studio, monkeypatch):
    """Generate from several pages at once: their tunes are drawn in shared batches, each what it is alone."""
    service = studio.emotion
    assert service.batcher is not None and service.concurrency == studio.shared.max_batch > 1
    monkeypatch.setattr(service.batcher, "window_s", 0.3)
    calls = [("Q1", 8, 11, 1), ("Q3", 8, 12, 2), ("-0.2,0.5", 8, 13, 1)]
    alone = [service.generate(f, b, seed, None, n) for f, b, seed, n in calls]
    before = service.batcher.stats.requests
    together: list = [None] * len(calls)
    go = threading.Barrier(len(calls))

    def press(index: int) -> None:
        feeling, bars, seed, variations = calls[index]
        go.wait()
        together[index] = service.generate(feeling, bars, seed, None, variations)

    threads = [threading.Thread(target=press, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert service.batcher.stats.requests == before + len(calls) and max(service.batcher.stats.sizes) == 3
    for mine, theirs in zip(together, alone):
        assert [r.abc for r in mine] == [r.abc for r in theirs] and [r.seed for r in mine] == [r.seed for r in theirs]
