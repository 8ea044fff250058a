"""The scaffolding every trainer shares: the run folder, the options built from a config's fields, the model preset."""

import argparse
import json
from dataclasses import dataclass, field

import pytest
import torch

from engine.cli.train import build_parser
from engine.models.ec2vae import EC2VAE, EC2VAEConfig
from engine.models.registry import load_ec2vae
from engine.paths import default_checkpoint
from engine.pipelines.base import GENERATION_FILE
from engine.pipelines.decoding import EC2VAEGenerationConfig
from engine.train.common import RunFolder, TrainConfig, add_config_options, config_from_args, model_field
from engine.train.ec2vae import EC2VAETrainConfig
from engine.train.musae import MusAETrainConfig
from engine.train.stylegan import StyleGANTrainConfig


# ------------------------------------------------------------------ the run folder
def test_a_run_resumes_from_the_state_it_saved(tmp_path):
    run = RunFolder(tmp_path / "run", "ec2vae")
    assert run.path.is_dir() and run.load_state("cpu") is None  # nothing saved yet
    state = {"model": {"w": torch.arange(3.0)}, "epoch": 2, "best": 0.5, "history": json.dumps([{"epoch": 1}])}
    run.save_state(state)
    again = RunFolder(tmp_path / "run").load_state("cpu", resume=True)
    assert again is not None and again["epoch"] == 2 and again["best"] == 0.5
    assert torch.equal(again["model"]["w"], torch.arange(3.0)) and json.loads(again["history"]) == [{"epoch": 1}]
    assert run.load_state("cpu", resume=False) is None  # a fresh run ignores it


def test_log_rows_are_appended_one_json_line_each(tmp_path, capsys):
    run = RunFolder(tmp_path, "ec2vae")
    assert run.read_log() == []
    run.log({"run_start": 1})
    run.log({"epoch": 1, "loss": 0.5}, echo=True)
    RunFolder(tmp_path).log({"epoch": 2, "loss": 0.25})  # a resumed run appends to the same log
    assert run.read_log() == [{"run_start": 1}, {"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}]
    assert len(run.log_path.read_text().splitlines()) == 3
    assert json.loads(capsys.readouterr().out) == {"epoch": 1, "loss": 0.5}  # echoed: that row only


def test_best_and_last_are_saved_with_the_family_s_generation_config(tmp_path):
    run = RunFolder(tmp_path / "run", "ec2vae", EC2VAEGenerationConfig())
    model = EC2VAE(EC2VAEConfig.debug())
    run.save_last(model, {"training": {"epoch": 1}})
    run.save_best(model, {"training": {"epoch": 1}, "validation": {"pitch_accuracy": 0.5}})
    for folder in (run.path, run.path / "last"):
        assert EC2VAEGenerationConfig.load(folder) == EC2VAEGenerationConfig()
        assert (folder / GENERATION_FILE).is_file() and (folder / "config.json").is_file()
    meta = json.loads((run.path / "config.json").read_text())
    assert meta["model"] == "ec2vae" and meta["validation"] == {"pitch_accuracy": 0.5}
    assert load_ec2vae(run.path).config == model.config
    tuned = EC2VAEGenerationConfig(temperature=0.9)
    tuned.save(run.path)  # settings tuned by hand beside a checkpoint survive the next save
    run.save_best(model, {"training": {"epoch": 2}})
    assert EC2VAEGenerationConfig.load(run.path) == tuned
    bare = RunFolder(tmp_path / "bare", "ec2vae")  # no sampling settings given (the style judge has none)
    bare.save_best(model, {})
    assert not (bare.path / GENERATION_FILE).exists()


# ------------------------------------------------------------------ options from a config's fields
@dataclass
class ToyModel:
    width: int = 8
    gain: float = 1.0
    vocab: int = 100  # decided by the data
    shape: tuple[int, int] = (2, 3)


@dataclass(kw_only=True)
class ToyConfig(TrainConfig[ToyModel]):
    data: str = field(metadata={"help": "where the toy data lives"})
    out: str = "runs/toy"
    rate: float = field(default=0.5, metadata={"help": "how fast"})
    shuffle: bool = field(default=True, metadata={"help": "shuffle the examples"})
    span_low: int = field(default=-2, metadata={"help": "the span, LOW..HIGH"})
    span_high: int = 3
    mode: str = field(default="a", metadata={"help": "the mode", "choices": ("a", "b")})
    per_track: bool = field(
        default=True, metadata={"flag": "share", "choices": {"track": True, "window": False}, "help": "per what"}
    )
    model: ToyModel = model_field(
        lambda: ToyModel(width=16),
        help="the toy model",
        fixed=("vocab",),
        width={"help": "units per layer"},
        gain={"flag": "model-gain", "help": "output gain"},
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toy")
    add_config_options(parser, ToyConfig)
    return parser


def test_options_are_built_from_the_fields_and_give_the_config_back():
    args = _parser().parse_args(
        ["--data", "d", "--epochs", "3", "--rate", "0.25", "--no-shuffle", "--span", "-1", "4", "--width", "32"]
        + ["--model-gain", "2.5", "--shape", "4", "5", "--mode", "b", "--share", "window", "--resume"]
    )
    config = config_from_args(ToyConfig, args)
    assert isinstance(config, ToyConfig)
    assert (config.data, config.out, config.epochs, config.rate, config.shuffle) == ("d", "runs/toy", 3, 0.25, False)
    assert (config.span_low, config.span_high, config.mode, config.per_track, config.resume) == (
        -1,
        4,
        "b",
        False,
        True,
    )
    assert config.model == ToyModel(width=32, gain=2.5, vocab=100, shape=(4, 5))
    assert isinstance(config.epochs, int) and isinstance(config.rate, float)


def test_the_defaults_are_the_fields_defaults():
    config = config_from_args(ToyConfig, _parser().parse_args(["--data", "d"]))
    assert config == ToyConfig(data="d")
    assert config.model == ToyModel(width=16) and config.transpose_low == -5 and config.per_track
    with pytest.raises(SystemExit):
        _parser().parse_args([])  # --data has no default: required


def test_help_comes_from_the_fields_metadata():
    text = " ".join(_parser().format_help().split())
    for expected in (
        "--data DATA where the toy data lives",
        "--rate RATE how fast",
        "--shuffle, --no-shuffle shuffle the examples",
        "--span LOW HIGH the span, LOW..HIGH",
        "--width WIDTH units per layer",
        "--model-gain GAIN output gain",
        "--mode {a,b} the mode",
        "--share {track,window} per what",
        "--epochs EPOCHS epochs to train",  # a field the base class describes
        "--out OUT checkpoint folder",  # a subclass changing the default keeps the base's help
        "--transpose LOW HIGH",
    ):
        assert expected in text, expected
    assert "--vocab" not in text and "--model " not in text  # decided by the data: no option


def test_debug_is_the_model_s_preset_with_the_fields_asked_for_and_those_the_data_decides():
    preset = ToyModel(width=2, gain=0.5)
    plain = ToyConfig(data="d")
    assert plain.model_config(preset, vocab=7) == ToyModel(width=16, gain=1.0, vocab=7)
    assert ToyConfig(data="d", debug=True).model_config(preset, vocab=7) == ToyModel(width=2, gain=0.5, vocab=7)
    asked = ToyConfig(data="d", debug=True, model=ToyModel(width=16, gain=3.0))
    assert asked.model_changes() == {"gain": 3.0}
    assert asked.model_config(preset, vocab=7) == ToyModel(width=2, gain=3.0, vocab=7)
    assert "model" not in plain.record() and plain.record()["span_low"] == -2


# ------------------------------------------------------------------ the trainers' command line
def test_the_training_command_line_keeps_its_flags():
    parser = build_parser()
    ec2 = config_from_args(EC2VAETrainConfig, parser.parse_args(["ec2vae", "--data", "d", "--transpose", "0", "1"]))
    # The default folder is the shipped checkpoint's, wherever the command runs from (engine.paths).
    assert (ec2.out, ec2.transpose_low, ec2.transpose_high) == (str(default_checkpoint("ec2vae")), 0, 1)
    assert (ec2.model.encoder_hidden, ec2.model.decoder_hidden, ec2.model.z_pitch) == (256, 256, 128)  # as always
    musae = config_from_args(
        MusAETrainConfig, parser.parse_args(["musae", "--baseline", "vae", "--joint", "--z-dims", "12"])
    )
    assert (musae.model.kind, musae.model.joint, musae.model.z_dims) == ("vae", True, 12)
    assert musae.record()["baseline"] == "vae" and musae.record()["z_dims"] == 12 and musae.record()["joint"]
    gan = config_from_args(
        StyleGANTrainConfig,
        parser.parse_args(
            ["stylegan", "--bar-gate", "--chord-share", "window", "--restart-best", "--gen-widths"] + ["8"] * 4
        ),
    )
    assert gan.model.bar_gate and not gan.chord_share_per_track and gan.restart_best
    assert gan.model.gen_widths == (8, 8, 8, 8)
    assert gan.record()["bar_gate"] and gan.record()["model_overrides"] == {"gen_widths": (8, 8, 8, 8)}
    default = config_from_args(StyleGANTrainConfig, parser.parse_args(["stylegan"]))
    assert default == StyleGANTrainConfig() and default.record()["model_overrides"] == {}
    latent = parser.parse_args(["latent", "--vae", "debug", "--data", "d", "--procs", "2", "--max-tunes", "3"])
    assert (latent.procs, latent.max_tunes) == (2, 3)
