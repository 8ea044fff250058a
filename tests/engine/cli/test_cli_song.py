"""Command lines of the latent sequence model: training (alone, spawned, under torchrun), generation, evaluation."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pretty_midi
import pytest

from engine.cli import evaluate, generate
from engine.cli.train import main as train_main

REPO = Path(__file__).resolve().parents[3]


def latent_args(midi_folder, out, *extra):
    return [
        "latent",
        "--vae",
        "debug",
        "--data",
        str(midi_folder),
        "--out",
        str(out),
        "--debug",
        "--batch-size",
        "8",
        "--transpose",
        "0",
        "1",
        "--workers",
        "1",
        *extra,
    ]


def test_train_latent_saves_validates_and_resumes(midi_folder, tmp_path):
    out = tmp_path / "latent"
    cache = tmp_path / "latents.npz"
    assert train_main(latent_args(midi_folder, out, "--epochs", "1", "--cache", str(cache))) == 0
    assert (out / "model.safetensors").exists() and (out / "train_state.pt").exists() and cache.exists()
    assert train_main(latent_args(midi_folder, out, "--epochs", "2", "--cache", str(cache), "--resume")) == 0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]
    assert {"val_infill_pitch_nll", "val_continuation_pitch_nll", "val_free_pitch_nll", "val_free_rhythm_nll"} <= set(
        log[-1]
    )
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "latent" and config["vae"]["fingerprint"] == "debug"
    assert config["training"]["data_stats"]["transpositions"] == 2


@pytest.mark.slow
def test_train_latent_with_spawned_processes(midi_folder, tmp_path):
    out = tmp_path / "latent"
    assert train_main(latent_args(midi_folder, out, "--epochs", "1", "--procs", "2")) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["processes"] == 2


def _torchrun(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes",
        "1",
        "--nproc_per_node",
        "2",
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        "127.0.0.1:0",
        "-m",
        "engine.train",
        *args,
    ]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["latent", "ec2vae"])
def test_training_runs_under_torchrun(midi_folder, tmp_path, model):
    out = tmp_path / model
    if model == "latent":
        args = latent_args(midi_folder, out, "--epochs", "1", "--device", "cpu")
    else:
        args = [
            "ec2vae",
            "--data",
            str(midi_folder),
            "--out",
            str(out),
            "--debug",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--workers",
            "1",
            "--device",
            "cpu",
        ]
    result = _torchrun(args, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["processes"] == 2
    assert len((out / "train_log.jsonl").read_text().splitlines()) == 1  # rank 0 alone logs


def test_generate_song_continue_and_infill(tmp_path):
    song = tmp_path / "song.mid"
    # A drawn rhythm: the untrained model may leave whole bars silent, and a MIDI file's melody starts at its first
    # note.
    assert (
        generate.main(
            [
                "song",
                "--vae",
                "debug",
                "--chords",
                "C Am F G",
                "--bars",
                "16",
                "--seed",
                "1",
                "--out",
                str(song),
                "--rhythm",
                "x...x...x.x.x...",
                "--wav",
                str(tmp_path / "song.wav"),
            ]
        )
        == 0
    )
    assert (tmp_path / "song.wav").stat().st_size > 44
    assert round(pretty_midi.PrettyMIDI(str(song)).get_end_time()) == 32  # 16 bars at 120 BPM
    longer = tmp_path / "longer.mid"
    assert (
        generate.main(
            ["continue", "--vae", "debug", "--from", str(song), "--bars", "8", "--seed", "2", "--out", str(longer)]
        )
        == 0
    )
    assert round(pretty_midi.PrettyMIDI(str(longer)).get_end_time()) == 48
    infilled = tmp_path / "infilled.mid"
    assert (
        generate.main(
            [
                "infill",
                "--vae",
                "debug",
                "--from",
                str(longer),
                "--blocks",
                "2,3",
                "--seed",
                "3",
                "--out",
                str(infilled),
            ]
        )
        == 0
    )

    def notes_outside(path):
        melody = pretty_midi.PrettyMIDI(str(path)).instruments[0]
        return [(n.pitch, round(n.start, 3)) for n in melody.notes if not 8.0 <= n.start < 16.0]  # blocks 2-3: bars 5-8

    assert notes_outside(infilled) == notes_outside(longer)


def test_generate_song_verbs_report_bad_input(tmp_path, capsys):
    assert (
        generate.main(["song", "--vae", "debug", "--chords", "C G", "--bars", "40", "--out", str(tmp_path / "x.mid")])
        == 2
    )
    assert "between 8 and 32" in capsys.readouterr().err
    source = tmp_path / "s.mid"
    generate.main(
        [
            "song",
            "--vae",
            "debug",
            "--chords",
            "C G",
            "--bars",
            "8",
            "--rhythm",
            "x.x.x.x.x.x.x.x.",
            "--out",
            str(source),
        ]
    )
    assert (
        generate.main(
            ["infill", "--vae", "debug", "--from", str(source), "--blocks", "0,1,2,3", "--out", str(tmp_path / "y.mid")]
        )
        == 2
    )
    assert "All 4 blocks" in capsys.readouterr().err


def test_evaluate_song_prints_the_figures(midi_folder, capsys):
    assert (
        evaluate.main(
            [
                "song",
                "--data",
                str(midi_folder),
                "--vae",
                "debug",
                "--latent",
                "debug",
                "--split",
                "all",
                "--max-tunes",
                "3",
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["tunes"] == 3
    for key in (
        "infill_token_accuracy",
        "infill_token_accuracy_slerp",
        "infill_token_accuracy_prior",
        "continuation_token_accuracy",
    ):
        assert 0.0 <= report[key] <= 1.0
    stats = report["melody_stats"]
    assert set(stats["real"]) >= {
        "repeat_share",
        "step_share",
        "leap_share",
        "chord_tone_share",
        "interval_histogram_overlap",
    }
    assert stats["real"]["interval_histogram_overlap"] == 1.0 and stats["onset_f1"] == 1.0
    assert set(report["song_stats"]["song"]) >= {
        "repeat_share",
        "step_share",
        "chord_tone_share",
        "interval_histogram_overlap",
    }


def test_cross_corpus_table_of_models_on_corpora(midi_folder, tmp_path, capsys):
    out = tmp_path / "latent"
    assert train_main(latent_args(midi_folder, out, "--epochs", "1")) == 0
    capsys.readouterr()
    args = [
        "cross-corpus",
        "--vae",
        "debug",
        "--model",
        f"a={out}",
        "--model",
        f"b={out}",
        "--data",
        f"x={midi_folder}",
        "--data",
        f"y={midi_folder}",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--json",
    ]
    assert evaluate.main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["loss"]) == {"a", "b"} and set(report["loss"]["a"]) == {"x", "y"}
    assert report["loss"]["a"]["x"] == report["loss"]["b"]["y"]  # the same model on the same tunes
    assert report["models"]["a"]["epoch"] == 1
    assert evaluate.main(["cross-corpus", "--model", "nameless", "--data", f"x={midi_folder}"]) == 2
    assert "NAME=DIR" in capsys.readouterr().err


def test_model_card_of_the_latent_model(midi_folder, tmp_path, capsys):
    from engine.cli.card import main as card_main

    out = tmp_path / "latent"
    assert train_main(latent_args(midi_folder, out, "--epochs", "1")) == 0
    capsys.readouterr()
    assert (
        evaluate.main(
            [
                "song",
                "--data",
                str(midi_folder),
                "--vae",
                "debug",
                "--latent",
                "debug",
                "--split",
                "all",
                "--max-tunes",
                "2",
                "--json",
            ]
        )
        == 0
    )
    evaluation = tmp_path / "song.json"
    evaluation.write_text(capsys.readouterr().out)
    assert card_main([str(out), "--eval", str(evaluation)]) == 0
    card = (out / "README.md").read_text()
    assert "# Latent sequence model" in card and "| infill, one interior block |" in card and "new songs" in card
    from engine.pipelines.decoding import LatentGenerationConfig

    penalty = LatentGenerationConfig.load(out).repeat_penalty
    assert f"a penalty of {penalty} on repeating the previous pitch" in card


def _reel(bars: int) -> bytes:
    """A 2/4 reel of ``bars`` bars (8 sixteenths a bar: one eighth-note run), chords a bar each."""
    from tests.conftest import make_nottingham_midi

    scale = [62, 64, 66, 67, 69, 71, 73, 74]
    notes = [(scale[(i * 3 + k) % 8], i * 8 + k * 2, i * 8 + k * 2 + 2) for i in range(bars) for k in range(4)]
    chords = [("D", (50, 54, 57)) if i % 2 == 0 else ("A", (45, 49, 52)) for i in range(bars)]
    return make_nottingham_midi(notes, chords, numerator=2, denominator=4, steps_per_chord=8)


def test_continue_counts_bars_in_the_tunes_own_meter(tmp_path, capsys):
    reel = tmp_path / "reel.mid"
    reel.write_bytes(_reel(32))
    out = tmp_path / "longer.mid"
    args = ["continue", "--vae", "debug", "--from", str(reel), "--bars", "8", "--seed", "2", "--out", str(out)]
    assert generate.main(args) == 0
    # 32 bars of 2/4 and 8 more: 40 bars of 2/4 at 120 BPM (one second a bar), not 48
    assert round(pretty_midi.PrettyMIDI(str(out)).get_end_time()) == 40
    assert "note:" not in capsys.readouterr().err  # the whole tune was used
    assert generate.main([*args[:6], "6", *args[7:]]) == 2  # 6 bars of 2/4 are one and a half blocks
    assert "in 2/4 that is a multiple of 4 bars, got 6" in capsys.readouterr().err


def test_a_tune_longer_than_a_command_takes_is_cut_and_the_cut_named(tmp_path, capsys):
    reel = tmp_path / "long_reel.mid"
    reel.write_bytes(_reel(80))  # 80 bars of 2/4; the song commands take at most 32 bars of it
    out = tmp_path / "infilled.mid"
    args = ["infill", "--vae", "debug", "--from", str(reel), "--blocks", "2", "--seed", "1", "--out", str(out)]
    assert generate.main(args) == 0
    err = capsys.readouterr().err
    assert "note: used bars 1-32 of the 80 bars of 'long_reel' (2/4)" in err, err  # --from-bars: at most 32
    assert round(pretty_midi.PrettyMIDI(str(out)).get_end_time()) == 32
