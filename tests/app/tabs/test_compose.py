"""Studio services and the Compose tab's handlers, with the tiny "debug" model (no browser)."""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr
import numpy as np
import pretty_midi
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from app.components import step_grid as sg  # noqa: E402
from app.services import ComposeResult, InputError, Studio, check_chords  # noqa: E402
from app.tabs.compose import PROGRESSIONS, STARTING_POINTS, ComposeTab
from engine.render.encode import decode_audio  # noqa: E402

RHYTHM = "x...x...x...x...|x.....x...x....."
ONSETS = [0, 4, 8, 12, 16, 22, 26]


@pytest.fixture(scope="module")
def studio(tmp_path_factory) -> Studio:
    return Studio.load("debug", device="cpu", cache_dir=tmp_path_factory.mktemp("studio"))


@pytest.fixture(scope="module")
def tab(studio) -> ComposeTab:
    with gr.Blocks():
        tab = ComposeTab(studio).build()
    return tab


def _args(**overrides):
    args = dict(
        grid_value=RHYTHM,
        chords_text="C G7",
        num_bars=2,
        key="C",
        tempo=120,
        instrument="Flute",
        accompaniment="Acoustic Grand Piano",
        seed=3,
        temperature=0.8,
        variations=2,
    )
    args.update(overrides)
    return args


def _status(tab: ComposeTab, out: dict) -> str:
    assert tab.status in out
    return out[tab.status]


# ---------------------------------------------------------------- services


def test_studio_compose_returns_playable_results(studio):
    results = studio.compose(
        RHYTHM,
        "C Am | F G",
        2,
        key="C",
        tempo=120,
        instrument="Flute",
        accompaniment="Strings",
        seed=5,
        temperature=0.8,
        variations=2,
        session_id="abc",
    )
    assert [r.variation for r in results] == [1, 2]
    assert [r.seed for r in results] == [5, 6]
    for r in results:
        assert isinstance(r, ComposeResult)
        assert r.sheet.melody.onset_steps() == ONSETS
        assert r.sheet.melody.num_steps == 32
        # audio: (sample_rate, (N, 2)) for gr.Audio(type="numpy")
        assert r.audio is not None, "the synthesizer should be available in the test environment"
        sr, audio = r.audio
        assert sr > 0 and audio.ndim == 2 and audio.shape[1] == 2
        assert len(audio) >= int(r.sheet.melody.duration_seconds * sr)
        assert np.abs(audio.astype(np.float32)).max() > 0
        # the player's file: Ogg Opus, a small fraction of the WAV download beside it, the same length
        assert r.audio_file.endswith(".ogg") and r.wav_path.endswith(".wav")
        assert Path(r.audio_file).stat().st_size < Path(r.wav_path).stat().st_size / 5
        rate, decoded = decode_audio(r.audio_file)
        assert abs(len(decoded) / rate - len(audio) / sr) < 0.05
        # piano roll (the page draws it in a second event, from the sheet)
        figure = studio.piano_roll(r.sheet, title=r.title)
        assert figure.__class__.__name__ == "Figure"
        assert len(figure.data) > 0
        # MIDI file in the session folder, named after variation and seed
        path = Path(r.midi_path)
        assert path.is_file() and path.name == f"cadenza_var{r.variation}_seed{r.seed}.mid"
        assert path.parent.parent == studio.session_dir("abc")  # each take in a folder of its own
        pm = pretty_midi.PrettyMIDI(str(path))
        melody = pm.instruments[0]
        assert melody.program == 73  # Flute
        sps = 60.0 / 120 / 4
        assert sorted(round(n.start / sps) for n in melody.notes) == ONSETS
        assert len(pm.instruments) == 2  # accompaniment track
    # same seed -> same music
    again = studio.compose(RHYTHM, "C Am | F G", 2, seed=5, variations=1, session_id="abc")
    assert [n.pitch for n in again[0].sheet.melody.notes] == [n.pitch for n in results[0].sheet.melody.notes]


def test_studio_sessions_are_separate_and_cleaned(studio):
    a, b = studio.session_dir("s1"), studio.session_dir("s2")
    assert a != b and a.is_dir() and b.is_dir()
    assert studio.session_dir("s1") == a
    studio.compose(RHYTHM, "C", 2, variations=1, session_id="s1", accompaniment="None (melody only)")
    assert any(a.glob("take_*/*.mid"))
    studio.close_session("s1")
    assert not a.exists()


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (dict(num_bars=0), "between 2 and 16"),
        (dict(num_bars=1000), "between 2 and 16"),
        (dict(num_bars=2.5), "whole number"),
        (dict(tempo=5), "Tempo"),
        (dict(temperature=9), "Temperature"),
        (dict(variations=9), "variations"),
        (dict(seed=-1), "Seed"),
        (dict(key="H"), "Unknown key 'H'"),
        (dict(instrument="Kazoo"), "Kazoo"),
        (dict(accompaniment="Theremin"), "Theremin"),
        (dict(chords="C Xq7"), "Xq7"),
        (dict(chords="   "), "empty"),
        (dict(rhythm="................|................"), "onset"),
        (dict(rhythm=""), "empty"),
    ],
)
def test_studio_compose_rejects_bad_input(studio, overrides, fragment):
    args = dict(rhythm=RHYTHM, chords="C G", num_bars=2)
    args.update(overrides)
    with pytest.raises(InputError, match=fragment):
        studio.compose(**args)


def test_check_chords():
    ok = check_chords("C Am | F G7")
    assert ok.ok and ok.bar_labels == ["C Am", "F G7"]
    bad = check_chords("C Xq7 F")
    assert not bad.ok and "Xq7" in bad.message
    assert not check_chords("").ok
    assert not check_chords(None).ok
    for text, _key in PROGRESSIONS.values():
        assert check_chords(text).ok, text


# ---------------------------------------------------------------- the Generate handler


def test_generate_handler_success(tab):
    out = tab.generate(**_args())
    status = _status(tab, out)
    assert "✅" in status and "2 variations" in status
    boxes = tab.variation_boxes
    for index, box in enumerate(boxes):
        assert out[box["column"]].visible == (index < 2)
    assert Path(out[boxes[0]["audio"]]).name == "cadenza_var1_seed3.ogg"
    # the control report: every drawn onset got its note (the debug model still follows the rhythm)
    assert (
        f"{len(ONSETS)} onsets drawn" in out[boxes[0]["report"]]
        and f"{len(ONSETS)} placed on them, 0 elsewhere" in out[boxes[0]["report"]]
    )
    assert "Tempo" in out[boxes[0]["report"]] and out[boxes[2]["report"]] == ""
    assert Path(out[boxes[0]["wav"]]).name == "cadenza_var1_seed3.wav"
    assert out[boxes[2]["audio"]] is None and out[boxes[2]["wav"]] is None
    assert Path(out[boxes[0]["midi"]]).name == "cadenza_var1_seed3.mid"
    assert Path(out[boxes[1]["midi"]]).name == "cadenza_var2_seed4.mid"
    assert out[boxes[2]["midi"]] is None
    sheet = out[tab.last_sheet]
    assert sheet.melody.onset_steps() == ONSETS
    assert len(out[tab.last_sheets]) == 2
    # The piano rolls follow in a second event, from the sheets Generate left pending.
    assert all(box["plot"] not in out for box in boxes)
    rolls = tab.draw_rolls(out[tab.pending_rolls])
    assert len(rolls) == len(boxes)
    for roll, pending in zip(rolls[:2], out[tab.pending_rolls]):
        assert roll.__class__.__name__ == "Figure" and len(roll.data) > 0
        assert pending.title in roll.layout.title.text
    assert rolls[2:] == [None] * (len(boxes) - 2)


def test_failed_generate_leaves_the_piano_rolls_alone(tab):
    out = tab.generate(**_args(chords_text="C Xq7"))
    assert out[tab.pending_rolls] is None
    skipped = tab.draw_rolls(out[tab.pending_rolls])
    assert len(skipped) == len(tab.variation_boxes)
    assert all(isinstance(roll, dict) and roll.get("__type__") == "update" and len(roll) == 1 for roll in skipped)


def test_generate_handler_resizes_a_stale_grid(tab):
    # The grid still has 2 bars but the slider says 4: the rhythm is padded, not rejected.
    out = tab.generate(**_args(num_bars=4, variations=1))
    assert "✅" in _status(tab, out)
    assert out[tab.last_sheet].melody.num_steps == 64
    assert out[tab.last_sheet].melody.onset_steps() == ONSETS


@pytest.mark.parametrize(
    "overrides, fragments",
    [
        (dict(grid_value=sg.empty_pattern(2)), ["grid is empty"]),
        (dict(grid_value=""), ["grid is empty"]),
        (dict(grid_value=None), ["grid is empty"]),
        (dict(chords_text="C Xq7"), ["Xq7"]),
        (dict(chords_text=""), ["empty"]),
        (dict(chords_text=None), ["empty"]),
        (dict(num_bars=0), ["between 2 and 16", "got 0"]),
        (dict(num_bars=1000), ["between 2 and 16", "got 1000"]),
        (dict(num_bars=None), ["Number of bars"]),
        (dict(tempo=None), ["Tempo"]),
        (dict(key=None), ["Unknown key"]),
        (dict(instrument=None), ["instrument"]),
        (dict(variations=0), ["variations"]),
        (dict(temperature="hot"), ["Temperature"]),
    ],
)
def test_generate_handler_bad_input_gives_a_message(tab, overrides, fragments):
    out = tab.generate(**_args(**overrides))
    # Nothing else is touched (previous results stay); no piano rolls are redrawn.
    assert set(out) == {tab.status, tab.pending_rolls} and out[tab.pending_rolls] is None
    status = _status(tab, out)
    assert "⚠️" in status
    for fragment in fragments:
        assert fragment in status


def test_generate_handler_survives_engine_crash(tmp_path):
    class Broken:
        def __call__(self, **kwargs):
            raise RuntimeError("boom")

    studio = Studio(Broken(), synthesizer=None, cache_dir=tmp_path)
    with gr.Blocks():
        tab = ComposeTab(studio).build()
    out = tab.generate(**_args())
    assert set(out) == {tab.status, tab.pending_rolls} and out[tab.pending_rolls] is None
    assert "Something went wrong" in out[tab.status] and "RuntimeError" in out[tab.status]


# ---------------------------------------------------------------- small handlers


def test_validate_chords_handler(tab):
    message, grid_update = tab.validate_chords("C Am | F G")
    assert "✓" in message
    assert grid_update.props["chords"] == ["C Am", "F G"]  # gr.HTML(chords=...) updates the bar labels
    message, _ = tab.validate_chords("C Xq7")
    assert "✗" in message and "Xq7" in message


def test_grid_handlers(tab):
    assert tab.apply_preset("Quarter notes", 2) == "x...x...x...x...|x...x...x...x..."
    assert tab.apply_preset("Clear", 3) == sg.empty_pattern(3)


def test_choose_progression_and_starting_points(tab, studio):
    chords, key = tab.choose_progression("ii–V–I (jazz, C)")
    assert chords == "Dm7 G7 Cmaj7 Cmaj7" and key == "C"
    for label, (_text, key) in PROGRESSIONS.items():
        assert key in studio.keys(), label
    for sp in STARTING_POINTS:
        grid, bars, chords, key, tempo, instrument, accompaniment, _progression = tab.load_starting_point(sp)
        assert sg.num_bars_of(grid) == bars == sp.num_bars
        assert instrument == sp.instrument, "starting-point instrument missing from the instrument list"
        assert accompaniment == sp.accompaniment
        assert key == sp.key
        out = tab.generate(grid, chords, bars, key, tempo, instrument, accompaniment, 0, 0.8, 1)
        assert "✅" in out[tab.status], (sp.label, out[tab.status])


def test_build_studio(studio):
    from app.studio import TITLE, build_studio

    demo = build_studio(studio)
    config = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    for elem_id in [
        "cz-step-grid",
        "cz-bars",
        "cz-chords",
        "cz-generate",
        "cz-status",
        "cz-audio1",
        "cz-roll1",
        "cz-midi1",
    ]:
        assert elem_id in ids
    assert TITLE in str(config)


# ---------------------------------------------------------------- the feeling pad


PRESET_GRID = sg.preset_pattern("Call & answer", 4)
DRAWN_GRID = "x..x..x.........|x...............|..x...x...x.....|x..............."


def test_a_feeling_suggests_key_tempo_chords_and_rhythm(tab):
    key, tempo, chords, progression, grid, note = tab.suggest_feeling("-1.00,-1.00", "C", "C Am F G", PRESET_GRID, 4)
    assert key == "Cm" and tempo == 54  # the parallel minor; the middle of 40-69 BPM
    assert chords == "Cm Ab Eb Bb" and progression == "(custom)"  # i–VI–III–VII moved from Am to Cm
    assert grid == sg.preset_pattern("Ballad", 4)  # sparser: sad is calm
    assert "sad" in note and "Cm" in note and "one octave down" in note
    # Excited and pleasant: the parallel major, a fast tempo, a major progression, a denser rhythm.
    key, tempo, chords, progression, grid, _ = tab.suggest_feeling(
        "1.00,1.00", "Am", "Am F C G", sg.empty_pattern(4), 4
    )
    assert key == "A" and tempo == 172
    assert chords == "A D E A" and progression == "(custom)"  # Folk I–IV–V–I moved from D to A
    assert grid == sg.preset_pattern("Eighth notes", 4)
    # A preset in its own key keeps its label in the dropdown.
    key, _, chords, progression, _, _ = tab.suggest_feeling("-0.8,-0.8", "A", "C Am F G", PRESET_GRID, 4)
    assert (key, chords, progression) == ("Am", "Am F C G", "Minor i–VI–III–VII (Am)")


def test_a_feeling_keeps_typed_chords_and_a_drawn_rhythm(tab):
    key, tempo, chords, progression, grid, note = tab.suggest_feeling("-1,-1", "G", "G Em C D7 | Bm", DRAWN_GRID, 4)
    assert key == "Gm" and tempo == 54
    for kept in (chords, progression, grid):
        assert isinstance(kept, dict) and kept.get("__type__") == "update" and len(kept) == 1  # gr.skip()
    assert "kept your chords and your rhythm" in note
    # A preset progression moved to another key is still a preset: a second point may replace it.
    _, _, chords, _, _, _ = tab.suggest_feeling("0.9,-0.9", "Cm", "Cm Ab Eb Bb", PRESET_GRID, 4)
    assert chords == "C Am F G"


def test_a_feeling_near_the_middle_keeps_the_key_and_chords(tab):
    key, tempo, chords, _, _, note = tab.suggest_feeling("0.05,0.6", "Am", "Am F C G", PRESET_GRID, 4)
    assert key == "Am" and isinstance(chords, dict) and "model's own" in note
    assert 100 < tempo < 200


def test_no_feeling_changes_nothing(tab):
    out = tab.suggest_feeling("", "C", "C Am F G", PRESET_GRID, 4)
    assert all(isinstance(x, dict) and x.get("__type__") == "update" for x in out[:5]) and "Click the pad" in out[5]


def test_transpose_and_compare_progressions():
    from app.services.compose import parallel_key, same_progression, transpose_chords

    assert transpose_chords("Am F C G", "Am", "Dm") == "Dm Bb F C"
    assert transpose_chords("C Am | F G7", "C", "E") == "E C#m | A B7"
    assert transpose_chords("C/E G", "C", "D") == "D/F# A"
    assert same_progression("Dm Bb F C", "Am F C G") and same_progression("E C#m | A B7", "C Am | F G7")
    assert not same_progression("Dm Bb F D", "Am F C G") and not same_progression("C Am F G", "C Am | F G")
    assert not same_progression("C Xq7", "C G") and not same_progression(None, "C G")  # never raises
    assert (
        parallel_key("Eb", "minor") == "Ebm"
        and parallel_key("F#m", "major") == "F#"
        and parallel_key("Bb", None) == "Bb"
    )


def test_use_this_feeling_applies_register_loudness_and_articulation(studio):
    plain = studio.compose(RHYTHM, "C G", 2, seed=9, variations=1, accompaniment="None (melody only)")[0]
    tense = studio.compose(
        RHYTHM, "C G", 2, seed=9, variations=1, accompaniment="None (melody only)", emotion=(-1.0, 1.0)
    )[0]
    assert tense.feeling is not None and tense.feeling.prompt_text == "tense"
    before, after = plain.sheet.melody.notes, tense.sheet.melody.notes
    assert [n.start for n in after] == [n.start for n in before]  # the drawn rhythm stays
    assert [n.pitch for n in after] == [n.pitch - 24 for n in before]  # two octaves down
    assert {n.velocity for n in after} == {127}  # +10 dB
    assert [n.end - n.start for n in after] == [max(1, round((n.end - n.start) * 0.7)) for n in before]  # detached
    pm = pretty_midi.PrettyMIDI(tense.midi_path)
    assert {n.velocity for n in pm.instruments[0].notes} == {127}
    assert plain.sheet.melody.tempo_bpm == tense.sheet.melody.tempo_bpm  # the tempo stays the slider's


def test_generate_with_the_feeling(tab):
    out = tab.generate(**_args(variations=1), use_feeling=True, feeling="-1.00,-1.00")
    assert "✅" in _status(tab, out) and "feeling sad (one octave down)" in _status(tab, out)
    assert "feeling: sad" in out[tab.variation_boxes[0]["title"]]
    plain = tab.generate(**_args(variations=1), use_feeling=False, feeling="-1.00,-1.00")
    assert "feeling" not in _status(tab, plain)
    shifted = [n.pitch for n in out[tab.last_sheet].melody.notes]
    assert shifted == [n.pitch - 12 for n in plain[tab.last_sheet].melody.notes]


@pytest.mark.parametrize(
    "feeling, fragment",
    [
        ("", "no feeling is chosen"),
        (None, "no feeling is chosen"),
        ("2,0", "Valence must be between -1 and 1"),
        ("Q7", "Unknown quadrant"),
    ],
)
def test_generate_with_a_bad_feeling_gives_a_message(tab, feeling, fragment):
    out = tab.generate(**_args(), use_feeling=True, feeling=feeling)
    assert set(out) == {tab.status, tab.pending_rolls} and out[tab.pending_rolls] is None
    assert "⚠️" in _status(tab, out) and fragment in _status(tab, out)


def test_a_new_take_with_the_same_seed_gets_new_files_and_keeps_the_old(tab):
    """Never stale: the same seed with other chords gives new file names (so the page's player cannot play a cached
    copy) and new bytes; the earlier take's files stay as they were."""
    boxes = tab.variation_boxes
    first = tab.generate(**_args(chords_text="C G7", variations=1))
    old_midi = Path(first[boxes[0]["midi"]])
    old_bytes = old_midi.read_bytes()
    second = tab.generate(**_args(chords_text="Am Dm", variations=1))
    new_midi = Path(second[boxes[0]["midi"]])
    assert new_midi != old_midi and new_midi.name == old_midi.name  # same readable name, another folder
    assert new_midi.read_bytes() != old_bytes and old_midi.read_bytes() == old_bytes
    if first[boxes[0]["audio"]] is not None:
        old_audio, new_audio = Path(first[boxes[0]["audio"]]), Path(second[boxes[0]["audio"]])
        assert old_audio != new_audio and old_audio.read_bytes() != new_audio.read_bytes()


def test_people_composing_at_once_share_batches_and_get_their_own_melodies(studio, monkeypatch):
    """Compose requests arriving together are decoded as one batch (the service's MicroBatcher, admitted several at a
    time by the page's queue), and each gets the melodies it gets alone, with its own audio and files."""
    import threading

    service = studio.compose_service
    assert service.batcher is not None and service.concurrency == studio.shared.max_batch > 1
    monkeypatch.setattr(service.batcher, "window_s", 0.3)  # everyone below arrives within the leader's wait
    calls = [
        dict(seed=seed, key=key, chords=chords)
        for seed, key, chords in [(1, "C", "C G7"), (2, "G", "G D"), (3, "C", "C G7"), (9, "F", "F C7")]
    ]
    alone = [service.compose(RHYTHM, c["chords"], 2, c["key"], 120, "Flute", None, c["seed"], 0.8, 2) for c in calls]
    before = service.batcher.stats.requests
    together: list = [None] * len(calls)
    go = threading.Barrier(len(calls))

    def press(index: int, call: dict) -> None:
        go.wait()
        together[index] = service.compose(
            RHYTHM, call["chords"], 2, call["key"], 120, "Flute", None, call["seed"], 0.8, 2
        )

    threads = [threading.Thread(target=press, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert service.batcher.stats.requests == before + len(calls) and max(service.batcher.stats.sizes) == len(calls)
    for mine, theirs in zip(together, alone):
        assert [r.seed for r in mine] == [r.seed for r in theirs]
        assert [[(n.pitch, n.start) for n in r.sheet.melody.notes] for r in mine] == [
            [(n.pitch, n.start) for n in r.sheet.melody.notes] for r in theirs
        ]
        assert {r.midi_path for r in mine}.isdisjoint(r.midi_path for r in theirs)  # each take its own files
