"""The chord suggester end to end on synthetic tunes: harmony cache, training (debug model), harmonize, evaluate."""

from __future__ import annotations

import json

import pretty_midi
import pytest

from engine.cli import generate
from engine.cli.data import main as data_main
from engine.cli.evaluate import main as evaluate_main
from engine.cli.train import main as train_main
from engine.io.corpus import is_validation
from tests.conftest import TUNE_CHORDS, TUNE_NOTES, make_nottingham_midi


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("harmony")
    folder = root / "tunes"
    folder.mkdir()
    for index in range(24):
        shift = index % 12 - 5
        notes = [(p + shift, s, e) for p, s, e in TUNE_NOTES]
        notes = notes + [(p, s + 64, e + 64) for p, s, e in notes]
        chords = [(name, tuple(x + shift for x in pitches)) for name, pitches in TUNE_CHORDS] * 2
        (folder / f"tune{index}.mid").write_bytes(make_nottingham_midi(notes, chords))
    assert any(is_validation(f"tune{i}.mid#0") for i in range(24))  # the evaluation has held-out tunes
    cache = root / "harmony.npz"
    assert data_main(["harmony", "--nottingham", str(folder), "--out", str(cache), "--procs", "1", "--no-music21"]) == 0
    model = root / "model"
    assert train_main(["harmonizer", "--data", str(cache), "--out", str(model), "--epochs", "1", "--debug"]) == 0
    return folder, cache, model


def test_harmonize_writes_progressions_and_choices(trained, tmp_path, capsys) -> None:
    folder, _, model = trained
    out = tmp_path / "chords.txt"
    argv = ["harmonize", "--from", str(folder / "tune0.mid"), "--checkpoint", str(model), "--out", str(out)]
    assert generate.main([*argv, "--progressions", "2", "--alternatives", "2", "--seed", "4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["reports"][0]
    assert len(report["progressions"]) == 2 and report["seeds"] == [4, 5]
    assert len(report["progressions"][0].split("|")) == 8  # 8 bars, one "|" between each
    assert len(report["slots"]) == 16 and all(len(s["options"]) == 2 for s in report["slots"])
    text = out.read_text()
    assert text.startswith(f"# key {report['key']}") and report["progressions"][0] in text
    assert generate.main([*argv, "--bars", "64"]) == 2  # refused with its range, nothing written
    assert "Bars must be between 1 and 32" in capsys.readouterr().err


def test_evaluate_arrange_gives_every_figure_for_every_system(trained, capsys) -> None:
    folder, cache, model = trained
    argv = ["arrange", "--data", str(folder), "--cache", str(cache), "--checkpoint", str(model), "--no-music21"]
    # the debug style GAN on one held-out tune: every accompaniment figure is there (not its quality)
    argv += ["--gan", "debug", "--max-pieces", "1", "--style-tunes", "1"]
    assert evaluate_main([*argv, "--workers", "1", "--json"]) == 0
    everything = json.loads(capsys.readouterr().out)
    result = everything["harmony"]
    folk = everything["accompaniment"]["folk"]
    assert folk["pieces"] == 1 and folk["arranged"]["melody_kept"] == 1.0
    assert set(folk["real"]) >= {"judge_in_style", "parallels_per_100", "voice_crossing", "lower_chord_tones"}
    assert len(everything["accompaniment"]["styles"]["judge_in_style"]) == 7
    assert result["tunes"] >= 1 and set(result["overall"]) == {"model", "hmm", "inference", "real"}
    real = result["overall"]["real"]
    assert real["exact"] == 1.0 and real["root"] == 1.0  # the real chords against themselves
    for figures in result["overall"].values():
        assert set(figures) == {"exact", "root", "ctnctr", "pcs", "mctd", "chords_per_bar"}
    assert result["overall"]["hmm"]["exact"] > 0.5  # one tune in twelve keys: the HMM learns it


def test_arrange_writes_four_tracks_with_the_melody_on_top(trained, tmp_path, capsys) -> None:
    folder, _, model = trained
    out, xml = tmp_path / "a.mid", tmp_path / "a.musicxml"
    argv = ["arrange", "--from", str(folder / "tune0.mid"), "--style", "English folk", "--gan", "debug"]
    argv += ["--checkpoint", str(model), "--out", str(out), "--musicxml", str(xml), "--seed", "2", "--json"]
    assert generate.main(argv) == 0
    report = json.loads(capsys.readouterr().out)["reports"][0]
    assert report["style"] == "English folk" and report["chords_suggested"] and len(report["judge_verdicts"]) == 4
    pm = pretty_midi.PrettyMIDI(str(out))
    source = pretty_midi.PrettyMIDI(str(folder / "tune0.mid")).instruments[0]
    assert [(n.pitch, round(n.start, 3)) for n in pm.instruments[0].notes] == [
        (n.pitch, round(n.start, 3)) for n in source.notes
    ]
    assert xml.read_text().count("<part id=") == 4
    bad = [*argv[:-1], "--chords", "C Hm7"]
    assert generate.main(bad) == 2 and "Hm7" in capsys.readouterr().err
