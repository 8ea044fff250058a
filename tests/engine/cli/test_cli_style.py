"""python -m engine.generate style / style-transfer with tiny models trained on the synthetic style cache."""

import json

import pretty_midi
import pytest

from engine.cli import generate
from engine.cli.train import main as train_main


@pytest.fixture(scope="module")
def models(tmp_path_factory, fake_style_cache):
    root = tmp_path_factory.mktemp("style_models")
    common = ["--data", str(fake_style_cache), "--epochs", "1", "--steps-per-epoch", "10", "--debug"]
    assert train_main(["style-judge", "--out", str(root / "judge"), *common]) == 0
    assert train_main(["musae", "--out", str(root / "musae"), "--greedy-sample", "8", *common]) == 0
    return ["--musae", str(root / "musae"), "--judge", str(root / "judge")]


def test_style_writes_four_tracks_and_reports_the_judge(models, tmp_path, capsys):
    out = tmp_path / "x.mid"
    assert (
        generate.main(["style", "--style", "a", "--bars", "4", "--seed", "1", "--out", str(out), *models, "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)["reports"][0]
    assert report["styles_asked"] == ["a", "a"] and len(report["judge_verdicts"]) == 2
    pm = pretty_midi.PrettyMIDI(str(out))
    assert len(pm.instruments) == 4
    assert generate.main(["style", "--style", "a", "--morph-to", "c", "--steps", "3", "--out", str(out), *models]) == 0
    assert pretty_midi.PrettyMIDI(str(out)).get_end_time() > 0


def test_style_transfer_needs_two_to_four_voices(models, tmp_path, capsys):
    source = tmp_path / "three.mid"
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    for base in (72, 64, 48):
        inst = pretty_midi.Instrument(0)
        inst.notes = [pretty_midi.Note(80, base + (i % 3), i * 0.5, i * 0.5 + 0.5) for i in range(16)]
        pm.instruments.append(inst)
    pm.write(str(source))
    out = tmp_path / "moved.mid"
    # toward style "a" (four held voices): style "b" is a melody alone, and decoding keeps its other tracks silent
    assert generate.main(["style-transfer", "--from", str(source), "--to", "a", "--out", str(out), *models]) == 0
    assert len(pretty_midi.PrettyMIDI(str(out)).instruments) == 4
    pm.instruments = pm.instruments[:1]
    pm.write(str(source))
    assert generate.main(["style-transfer", "--from", str(source), "--to", "b", "--out", str(out), *models]) == 2
    assert "2 to 4 voices" in capsys.readouterr().err
    assert generate.main(["style", "--style", "Jazz", "--out", str(out), *models]) == 2
    assert "Unknown style 'Jazz'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def gan(tmp_path_factory, fake_style_cache):
    """A debug style GAN trained a few steps on the synthetic cache (python -m engine.train stylegan --debug)."""
    out = tmp_path_factory.mktemp("style_gan") / "gan"
    assert (
        train_main(
            [
                "stylegan",
                "--data",
                str(fake_style_cache),
                "--out",
                str(out),
                "--judge",
                "",
                "--epochs",
                "1",
                "--steps-per-epoch",
                "3",
                "--batch-size",
                "8",
                "--critic-steps",
                "1",
                "--eval-samples",
                "4",
                "--device",
                "cpu",
                "--debug",
            ]
        )
        == 0
    )
    return out


def test_style_with_the_gan_follows_typed_chords(models, gan, tmp_path, capsys):
    out = tmp_path / "gan.mid"
    common = ["--style", "a", "--bars", "8", "--seed", "1", "--out", str(out), "--gan", str(gan), *models, "--json"]
    assert generate.main(["style", "--model", "gan", "--chords", "C G Am F", *common]) == 0
    report = json.loads(capsys.readouterr().out)["reports"][0]
    assert report["generator"] == "gan" and report["chords"] == "C G Am F"
    assert report["styles_asked"] == ["a"] * 4 and len(report["judge_verdicts"]) == 4
    pm = pretty_midi.PrettyMIDI(str(out))
    assert len(pm.instruments) == 4
    assert generate.main(["style", "--model", "gan", *common]) == 0  # no chords: fine too
    assert json.loads(capsys.readouterr().out)["reports"][0]["chords"] is None


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--model", "gan", "--chords", "C H7"], "Unknown chord symbol 'H7'"),
        (["--model", "gan", "--morph-to", "b"], "--morph-to needs --model musae"),
        (["--chords", "C G"], "--chords needs --model gan"),
        (["--model", "gan", "--style", "Jazz"], "Unknown style 'Jazz'"),
    ],
)
def test_style_with_the_gan_names_bad_input(models, gan, tmp_path, capsys, extra, words):
    args = ["style", "--style", "a", "--out", str(tmp_path / "x.mid"), "--gan", str(gan), *models, *extra]
    assert generate.main(args) == 2
    assert words in capsys.readouterr().err


def test_style_with_a_missing_gan_says_so(models, tmp_path, capsys):
    args = [
        "style",
        "--model",
        "gan",
        "--style",
        "a",
        "--out",
        str(tmp_path / "x.mid"),
        "--gan",
        str(tmp_path / "none"),
        *models,
    ]
    assert generate.main(args) == 2
    assert "No stylegan checkpoint" in capsys.readouterr().err
