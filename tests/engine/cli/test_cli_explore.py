"""The exploration commands of the CLIs, end to end on tiny data and the debug model."""

import json

import pretty_midi
import pytest

from engine.cli import evaluate, generate
from engine.io.midi import read_midi
from tests.conftest import TUNE_NOTES, make_nottingham_midi


@pytest.fixture
def tunes(tmp_path):
    """A.mid: the 4-bar conftest tune (quarter notes, G C D G); B.mid: 4 bars of eighth notes (C Am F G)."""
    a = tmp_path / "A.mid"
    a.write_bytes(make_nottingham_midi())
    notes = [(64 + (i * 5) % 12, 2 * i, 2 * i + 2) for i in range(32)]
    chords = [("C", (48, 52, 55)), ("Am", (45, 48, 52)), ("F", (41, 45, 48)), ("G", (43, 47, 50))]
    b = tmp_path / "B.mid"
    b.write_bytes(make_nottingham_midi(notes, chords, tempo=96.0))
    return a, b


def melody_onsets(path) -> list[int]:
    return [n.start for n in read_midi(path, melody_track=0).melody.notes]


def chord_pitch_classes(pm: pretty_midi.PrettyMIDI, time: float) -> set[int]:
    """Pitch classes of the "Chords" track's notes starting at ``time`` seconds."""
    track = next(inst for inst in pm.instruments if inst.name == "Chords")
    return {n.pitch % 12 for n in track.notes if abs(n.start - time) < 1e-3}


def test_interpolate_writes_one_midi_per_step(tunes, tmp_path, capsys):
    a, b = tunes
    out = tmp_path / "path"
    code = generate.main(
        ["interpolate", "--checkpoint", "debug", "--a", str(a), "--b", str(b), "--steps", "4", "--out-dir", str(out)]
    )
    assert code == 0
    files = sorted(out.glob("step_*.mid"))
    assert [f.name for f in files] == ["step_01.mid", "step_02.mid", "step_03.mid", "step_04.mid"]
    assert capsys.readouterr().out.split() == [str(f) for f in files]
    for f in files:
        pm = pretty_midi.PrettyMIDI(str(f))
        assert pm.get_end_time() == pytest.approx(64 * 0.125)  # 4 bars at A's tempo (120 BPM), A's chords to the end
        assert chord_pitch_classes(pm, 0.0) == {7, 11, 2}  # G


def test_interpolate_morph_grid_and_typed_chords(tunes, tmp_path):
    a, b = tunes
    out = tmp_path / "path"
    code = generate.main(
        [
            "interpolate",
            "--checkpoint",
            "debug",
            "--a",
            str(a),
            "--b",
            str(b),
            "--steps",
            "3",
            "--chords",
            "Dm G7",
            "--morph",
            "--grid",
            "2",
            "--out-dir",
            str(out),
        ]
    )
    assert code == 0
    assert sorted(p.name for p in (out / "grid").glob("*.mid")) == [
        "pitch_1_rhythm_1.mid",
        "pitch_1_rhythm_2.mid",
        "pitch_2_rhythm_1.mid",
        "pitch_2_rhythm_2.mid",
    ]
    step = pretty_midi.PrettyMIDI(str(out / "step_02.mid"))
    assert chord_pitch_classes(step, 0.0) == {2, 5, 9} and chord_pitch_classes(step, 2.0) == {7, 11, 2, 5}
    morph = pretty_midi.PrettyMIDI(str(out / "morph.mid"))
    assert morph.get_end_time() == pytest.approx(3 * 64 * 0.125)  # the three steps end to end
    assert chord_pitch_classes(morph, 8.0) == {2, 5, 9}  # step 2 starts again on Dm


def test_interpolate_from_examples(tmp_path):
    out = tmp_path / "ex"
    code = generate.main(
        [
            "interpolate",
            "--checkpoint",
            "debug",
            "--a",
            "example:Cuckoo's Nest",
            "--a-bars",
            "4",
            "--b",
            "example:Hänschen klein",
            "--b-start-bar",
            "2",
            "--steps",
            "2",
            "--out-dir",
            str(out),
        ]
    )
    assert code == 0 and len(list(out.glob("step_*.mid"))) == 2


def test_analogy_keeps_the_rhythm_sources_onsets(tunes, tmp_path):
    a, b = tunes
    out = tmp_path / "x.mid"
    assert (
        generate.main(
            ["analogy", "--checkpoint", "debug", "--pitch-from", str(a), "--rhythm-from", str(b), "--out", str(out)]
        )
        == 0
    )
    assert melody_onsets(out) == list(range(0, 64, 2))
    sheet = read_midi(out, melody_track=0)
    assert sheet.chords.symbols_per_bar(16, 4) == ["G", "C", "D", "G"]  # the pitch source's chords by default
    assert sheet.melody.tempo_bpm == pytest.approx(96.0)  # the rhythm source's tempo

    out2 = tmp_path / "y.mid"
    assert (
        generate.main(
            [
                "analogy",
                "--checkpoint",
                "debug",
                "--pitch-from",
                str(b),
                "--rhythm-from",
                str(a),
                "--chords",
                "b",
                "--out",
                str(out2),
            ]
        )
        == 0
    )
    assert melody_onsets(out2) == [s for _, s, _ in TUNE_NOTES]
    assert read_midi(out2, melody_track=0).chords.symbols_per_bar(16, 4) == ["G", "C", "D", "G"]


def test_analogy_without_rhythm_source_reharmonises(tunes, tmp_path):
    a, _ = tunes
    out = tmp_path / "re.mid"
    assert (
        generate.main(
            ["analogy", "--checkpoint", "debug", "--pitch-from", str(a), "--chords", "Em Am D G", "--out", str(out)]
        )
        == 0
    )
    sheet = read_midi(out, melody_track=0)
    assert [n.start for n in sheet.melody.notes] == [s for _, s, _ in TUNE_NOTES]
    assert sheet.chords.symbols_per_bar(16, 4) == ["Em", "Am", "D", "G"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["interpolate", "--steps", "1"], "--steps must be between 2 and 12"),
        (["interpolate", "--steps", "3", "--grid", "9"], "--grid must be between 2 and 7"),
        (["interpolate", "--chords", "C Qq"], "Qq"),
        (["interpolate", "--a-start-bar", "9"], "Start bar 9 is past the end"),
        (["interpolate", "--a-track", "4"], "Track 4 does not exist"),
        (["analogy"], "Give --rhythm-from"),
        (["analogy", "--rhythm-from", "NOPE.mid"], "not found"),
        (["analogy", "--rhythm-from", "example:Nope"], "No example called 'Nope'"),
    ],
)
def test_cli_errors_exit_2_with_a_message(tunes, tmp_path, capsys, args, message):
    a, b = tunes
    task = args[0]
    if task == "interpolate":
        argv = [
            task,
            "--checkpoint",
            "debug",
            "--a",
            str(a),
            "--b",
            str(b),
            "--out-dir",
            str(tmp_path / "o"),
            *args[1:],
        ]
    else:
        argv = [task, "--checkpoint", "debug", "--pitch-from", str(a), "--out", str(tmp_path / "o.mid"), *args[1:]]
    assert generate.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_evaluate_explore_prints_json(midi_folder, capsys):
    code = evaluate.main(
        ["explore", "--data", str(midi_folder), "--checkpoint", "debug", "--pairs", "4", "--steps", "3", "--json"]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert (
        report["task"] == "explore" and report["pairs"] == 4 and report["window_pool"] == 8
    )  # 2 x pairs tunes are read
    interp, analogy = report["interpolation"], report["analogy"]
    assert 0 <= interp["endpoint_accuracy_a"] <= 1 and 0 <= interp["endpoint_accuracy_b"] <= 1
    assert interp["a_b_edit_distance"] > 0 and interp["neighbour_edit_distance"] >= 0
    assert interp["linear_ratio"] == 0.5
    assert analogy["onset_f1_forced"] == pytest.approx(1.0)
    assert 0 <= analogy["onset_f1_free"] <= 1
    for key in ("pitch_contour_corr_a", "pitch_contour_corr_b"):
        assert analogy[key] is None or -1 <= analogy[key] <= 1


def test_evaluate_explore_text_and_errors(midi_folder, tmp_path, capsys):
    assert evaluate.main(["explore", "--data", str(midi_folder), "--checkpoint", "debug", "--pairs", "2"]) == 0
    assert "interpolation: endpoint accuracy" in capsys.readouterr().out
    assert evaluate.main(["explore", "--data", str(tmp_path / "nope"), "--checkpoint", "debug"]) == 2
    assert "not found" in capsys.readouterr().err
    assert evaluate.main(["explore", "--data", str(midi_folder), "--checkpoint", "debug", "--steps", "20"]) == 2
    assert "Steps must be between 2 and 12" in capsys.readouterr().err
    one = tmp_path / "one"
    one.mkdir()
    (one / "a.mid").write_bytes(make_nottingham_midi())
    assert evaluate.main(["explore", "--data", str(one), "--checkpoint", "debug"]) == 2
    assert "at least two tunes" in capsys.readouterr().err
