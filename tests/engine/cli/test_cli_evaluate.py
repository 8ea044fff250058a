"""The evaluation CLI says what data each suite needs, and how to make what is missing."""

import pytest

from engine.cli import evaluate
from engine.eval.suites import cross_corpus, ec2vae, emotion, explore, song, style

SUITES = {"ec2vae": ec2vae, "explore": explore, "song": song, "cross-corpus": cross_corpus, "emotion": emotion}


@pytest.mark.parametrize("name", [*SUITES, "style"])
def test_every_suite_says_what_data_it_needs(name, capsys):
    with pytest.raises(SystemExit):
        evaluate.main([name, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    module = SUITES.get(name, style)
    assert "Data:" in shown and " ".join(module.DATA.split()) in shown


def test_a_missing_style_cache_names_the_command_that_builds_it(tmp_path, capsys):
    assert evaluate.main(["style", "--data", str(tmp_path / "style_windows.npz")]) == 2
    error = capsys.readouterr().err
    assert "No style cache" in error and "python -m engine.data style --nottingham" in error
    assert "Errno" not in error


def test_a_missing_data_folder_is_named(tmp_path, capsys):
    assert evaluate.main(["ec2vae", "--data", str(tmp_path / "nowhere"), "--checkpoint", "debug"]) == 2
    assert "Data folder not found" in capsys.readouterr().err
