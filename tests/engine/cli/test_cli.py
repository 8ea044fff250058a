"""The command-line tools, end to end on tiny data and the debug model."""

import json

import pretty_midi
import pytest

from engine.cli import evaluate, generate
from engine.cli.train import main as train_main
from engine.music.representation import parse_rhythm_pattern


def test_generate_compose_writes_midi_with_the_drawn_onsets(tmp_path):
    pattern = "x...x...x.x.x...|x.......x...x..."
    out = tmp_path / "song.mid"
    code = generate.main(
        [
            "compose",
            "--checkpoint",
            "debug",
            "--rhythm",
            pattern,
            "--chords",
            "C Am F G",
            "--bars",
            "4",
            "--seed",
            "1",
            "--out",
            str(out),
            "--wav",
            str(tmp_path / "song.wav"),
        ]
    )
    assert code == 0 and out.exists() and (tmp_path / "song.wav").stat().st_size > 44
    pm = pretty_midi.PrettyMIDI(str(out))
    melody = pm.instruments[0]
    steps = sorted(round(n.start / (60 / 120 / 4)) for n in melody.notes)
    expected = [i for i, on in enumerate(list(parse_rhythm_pattern(pattern)) * 2) if on]
    assert steps == expected
    assert len(pm.instruments) == 2  # melody + chord accompaniment


def test_generate_reports_bad_chords_without_a_traceback(tmp_path, capsys):
    code = generate.main(
        [
            "compose",
            "--checkpoint",
            "debug",
            "--rhythm",
            "x" * 16,
            "--chords",
            "C Qq",
            "--bars",
            "4",
            "--out",
            str(tmp_path / "x.mid"),
        ]
    )
    assert code == 2
    assert "Qq" in capsys.readouterr().err


def test_train_cli_trains_saves_and_resumes(midi_folder, tmp_path):
    out = tmp_path / "ckpt"
    args = ["ec2vae", "--data", str(midi_folder), "--out", str(out), "--debug", "--epochs", "1", "--batch-size", "16"]
    assert train_main(args) == 0
    assert (out / "model.safetensors").exists() and (out / "train_state.pt").exists()
    assert train_main(args[:-4] + ["--epochs", "2", "--batch-size", "16", "--resume"]) == 0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]
    assert 0.0 <= log[-1]["val_pitch_accuracy"] <= 1.0
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "ec2vae" and "validation" in config


def test_evaluate_cli_prints_json(midi_folder, tmp_path, capsys):
    out = tmp_path / "ckpt"
    train_main(
        ["ec2vae", "--data", str(midi_folder), "--out", str(out), "--debug", "--epochs", "1", "--batch-size", "16"]
    )
    capsys.readouterr()
    assert (
        evaluate.main(
            ["ec2vae", "--data", str(midi_folder), "--checkpoint", str(out), "--compose-windows", "5", "--json"]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert set(report["reconstruction"]) >= {"pitch_accuracy", "rhythm_accuracy"}
    assert report["control"]["onset_f1"] == pytest.approx(1.0)
    assert 0 <= report["control"]["chord_tone_share_real"] <= 1


def test_evaluate_cli_rejects_missing_folder(tmp_path, capsys):
    assert evaluate.main(["ec2vae", "--data", str(tmp_path / "nope"), "--checkpoint", "debug"]) == 2
    assert "not found" in capsys.readouterr().err


def test_model_card_reports_the_logged_figures(midi_folder, tmp_path):
    from engine.cli.card import main as card_main

    out = tmp_path / "ckpt"
    train_main(
        ["ec2vae", "--data", str(midi_folder), "--out", str(out), "--debug", "--epochs", "1", "--batch-size", "16"]
    )
    assert card_main([str(out)]) == 0
    card = (out / "README.md").read_text()
    accuracy = json.loads((out / "config.json").read_text())["validation"]["pitch_accuracy"]
    assert f"**{accuracy}**" in card and "Nottingham" in card and "| 1 |" in card


def test_train_cli_data_parallel_processes(midi_folder, tmp_path):
    out = tmp_path / "ddp"
    args = ["ec2vae", "--data", str(midi_folder), "--out", str(out), "--debug", "--batch-size", "16", "--procs", "2"]
    assert train_main(args + ["--epochs", "1"]) == 0
    assert train_main(args + ["--epochs", "2", "--resume"]) == 0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]
    assert json.loads((out / "config.json").read_text())["training"]["processes"] == 2


def test_data_parallel_workers_stop_when_the_launcher_is_killed(midi_folder, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    import psutil

    out = tmp_path / "orphans"
    launcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.train",
            "ec2vae",
            "--data",
            str(midi_folder),
            "--out",
            str(out),
            "--debug",
            "--batch-size",
            "16",
            "--procs",
            "2",
            "--epochs",
            "500",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        while not (out / "train_log.jsonl").exists() and time.time() < deadline:
            time.sleep(0.5)
        workers = psutil.Process(launcher.pid).children(recursive=True)
        assert workers, "no worker processes were started"
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=30)
        gone, alive = psutil.wait_procs(workers, timeout=20)
        assert not alive, f"workers still running after the launcher died: {[p.pid for p in alive]}"
    finally:
        for proc in psutil.Process().children(recursive=True):
            proc.kill()


def test_generate_json_prints_each_results_control_report(tmp_path, capsys):
    rhythm = "x...x...x.x.x..."
    code = generate.main(
        [
            "compose",
            "--rhythm",
            rhythm,
            "--chords",
            "C Am F G",
            "--bars",
            "4",
            "--key",
            "G",
            "--tempo",
            "96",
            "--variations",
            "2",
            "--checkpoint",
            "debug",
            "--out",
            str(tmp_path / "x.mid"),
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "compose" and len(out["files"]) == 2 and len(out["reports"]) == 2
    report = out["reports"][0]
    assert report["onsets"] == {"drawn": 20, "placed": 20, "extra": 0, "share": 1.0}  # 5 onsets a bar, 4 bars
    assert report["tempo"] == {"asked": 96.0, "file": 96.0} and report["in_key"]["key"] == "G"
    assert 0.0 <= report["chord_tones"] <= 1.0 and report["range"]["semitones"] >= 0
