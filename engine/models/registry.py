"""Every model family's checkpoint, saved and loaded one way: safetensors weights + config.json.

A checkpoint folder (checkpoints/<family>/, default paths in engine.paths) holds ``model.safetensors`` (weights
only, loaded without pickle), ``config.json`` ({"model": kind, "config": the constructor arguments, ...what the
training run recorded}), ``generation.json`` (the family's sampling settings: engine.pipelines) and ``README.md``
(the model card). :data:`KINDS` maps each kind to its model class; each loader returns the model in eval mode on
the asked device with the parts of config.json the pipelines read, typed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Protocol, Required, TypedDict, cast

import torch
from safetensors.torch import load_file, save_file

from engine.models.abc_lm import AbcLanguageModel, AbcModelConfig, AbcTokenizer
from engine.models.ec2vae import EC2VAE, EC2VAEConfig
from engine.models.harmonizer import ChordSuggester, HarmonizerConfig
from engine.models.latent import LatentModelConfig, LatentSequenceModel
from engine.models.musae import MusAE, MusAEConfig
from engine.models.style_gan import StyleGANConfig, StyleGenerator
from engine.models.style_judge import StyleJudge, StyleJudgeConfig
from engine.models.voice_infill import VoiceInfillConfig, VoiceInfiller

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"

# Kind (config.json's "model") -> the model class it builds.
KINDS: dict[str, type[torch.nn.Module]] = {
    "ec2vae": EC2VAE,
    "latent": LatentSequenceModel,
    "abc_emotion": AbcLanguageModel,
    "style_judge": StyleJudge,
    "musae": MusAE,  # MusAE and its VAE baseline (config["kind"] tells which)
    "stylegan": StyleGenerator,  # the generator only: the critic lives in train_state.pt
    "harmonizer": ChordSuggester,  # the chord suggester (Arrange)
    "voice_infill": VoiceInfiller,  # the four-voice infiller (Arrange's lower voices)
}


class VaeReference(TypedDict):
    """The EC2-VAE a latent model was trained over (its weights' fingerprint must match)."""

    path: str
    fingerprint: str


class CheckpointConfig(TypedDict, total=False):
    """config.json: what a checkpoint says about itself. The run's records (training, validation, evaluation) are free
    JSON that only the model cards read."""

    model: Required[str]
    config: Required[dict[str, Any]]  # the model's constructor arguments
    styles: list[str]  # style models: the styles, in the order of the model's indices
    vocab: list[str]  # the ABC model's tokens
    judge: dict[str, Any]  # the ABC model's feature judge (engine.models.feature_judge.FeatureJudge.to_dict)
    vae: VaeReference  # the latent model's EC2-VAE
    training: dict[str, Any]
    validation: dict[str, Any]
    evaluation: dict[str, Any]


class SavableModel(Protocol):
    """A model the registry can save: its weights and a config dataclass with ``to_dict``."""

    config: Any

    def state_dict(self) -> dict[str, Any]: ...


def save_model(model: SavableModel, kind: str, directory: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model.safetensors`` and ``config.json`` ({"model": kind, "config": model.config, **metadata})."""
    if kind not in KINDS:
        raise KeyError(f"Unknown model kind {kind!r}: one of {', '.join(KINDS)}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state, seen = {}, {}
    for name, tensor in model.state_dict().items():
        if tensor.data_ptr() in seen:  # a tied weight (safetensors refuses shared memory): stored once
            continue
        seen[tensor.data_ptr()] = name
        state[name] = tensor.detach().to("cpu").contiguous()
    save_file(state, str(directory / WEIGHTS_FILE))
    config = {"model": kind, "config": model.config.to_dict(), **(metadata or {})}
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    return directory


def read_config(directory: str | Path, kind: str) -> CheckpointConfig:
    """config.json of a checkpoint folder, checked to describe a ``kind`` model and to have its weights."""
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    if not config_path.exists() or not (directory / WEIGHTS_FILE).exists():
        raise FileNotFoundError(f"No {kind} checkpoint in {directory} (expected {CONFIG_FILE} and {WEIGHTS_FILE})")
    meta: object = json.loads(config_path.read_text())
    if not isinstance(meta, dict) or meta.get("model") != kind or not isinstance(meta.get("config"), dict):
        found = meta.get("model") if isinstance(meta, dict) else None
        raise ValueError(f"{config_path} describes a '{found}' model, not '{kind}'")
    # JSON: the required keys are checked above; the optional ones are read with checks (styles_of), the run's own kept.
    return cast(CheckpointConfig, meta)


def styles_of(meta: CheckpointConfig) -> list[str]:
    """The style names a style model's config.json lists (an error naming the folder's kind when it has none)."""
    styles = meta.get("styles")
    if not isinstance(styles, list) or not all(isinstance(s, str) for s in styles):
        raise ValueError(f"the {meta['model']} checkpoint names no styles")
    return list(styles)


def weights_fingerprint(directory: str | Path) -> str:
    """SHA-256 (first 16 hex digits) of a checkpoint's weights file: a latent model belongs to one EC2-VAE's weights."""
    return hashlib.sha256(Path(directory, WEIGHTS_FILE).read_bytes()).hexdigest()[:16]


def load_weights(directory: str | Path) -> dict[str, torch.Tensor]:
    """The weights of a checkpoint folder (float16 ones, stored so to halve the file, as float32: the models compute
    in float32)."""
    weights = load_file(str(Path(directory) / WEIGHTS_FILE))
    return {k: v.float() if v.is_floating_point() else v for k, v in weights.items()}


# ---------------------------------------------------------------- one saver and loader per family


def save_ec2vae(model: EC2VAE, directory: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write an EC2-VAE (model.safetensors + config.json {"model": "ec2vae", "config": {...}, **metadata})."""
    return save_model(model, "ec2vae", directory, metadata)


def load_ec2vae(directory: str | Path, device: torch.device | str = "cpu") -> EC2VAE:
    """Build the model from config.json and load its safetensors weights (eval mode). "debug" names the tiny
    untrained EC2-VAE that every "debug" pipeline and trainer shares (seed 0: the same weights every time)."""
    if str(directory) == "debug":
        torch.manual_seed(0)
        return EC2VAE(EC2VAEConfig.debug()).to(device).eval()
    meta = read_config(directory, "ec2vae")
    model = EC2VAE(EC2VAEConfig(**meta["config"]))
    model.load_state_dict(load_weights(directory))
    return model.to(device).eval()


def save_latent_model(
    model: LatentSequenceModel, directory: str | Path, metadata: dict[str, Any] | None = None
) -> Path:
    """Write the latent sequence model (model.safetensors + config.json {"model": "latent", ...})."""
    return save_model(model, "latent", directory, metadata)


def load_latent_model(
    directory: str | Path, device: torch.device | str = "cpu"
) -> tuple[LatentSequenceModel, CheckpointConfig]:
    """The latent sequence model (eval mode) and its config.json (whose "vae" names the EC2-VAE it belongs to)."""
    meta = read_config(directory, "latent")
    model = LatentSequenceModel(LatentModelConfig(**meta["config"]))
    model.load_state_dict(load_weights(directory))
    return model.to(device).eval(), meta


def save_abc_model(
    model: AbcLanguageModel, tokenizer: AbcTokenizer, directory: str | Path, metadata: dict[str, Any] | None = None
) -> Path:
    """Write the ABC emotion model (model.safetensors + config.json {"model": "abc_emotion", "vocab": [...], ...})."""
    return save_model(model, "abc_emotion", directory, {"vocab": tokenizer.vocab, **(metadata or {})})


def load_abc_model(
    directory: str | Path, device: torch.device | str = "cpu"
) -> tuple[AbcLanguageModel, AbcTokenizer, CheckpointConfig]:
    """The ABC emotion model (eval mode), its tokenizer and its config.json."""
    meta = read_config(directory, "abc_emotion")
    model = AbcLanguageModel(AbcModelConfig(**meta["config"]))
    weights = load_weights(directory)
    weights.setdefault("head.weight", weights["tokens.weight"])  # tied to the embedding (stored once)
    model.load_state_dict(weights)
    return model.to(device).eval(), AbcTokenizer(list(meta.get("vocab", []))), meta


def save_style_judge(model: StyleJudge, directory: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write the style judge (model.safetensors + config.json with its style names in ``metadata``)."""
    return save_model(model, "style_judge", directory, metadata)


def load_style_judge(directory: str | Path, device: torch.device | str = "cpu") -> tuple[StyleJudge, CheckpointConfig]:
    """(StyleJudge in eval mode, config.json); config["styles"] names the logits in order."""
    meta = read_config(directory, "style_judge")
    model = StyleJudge(StyleJudgeConfig.from_dict(meta["config"]))
    model.load_state_dict(load_weights(directory))
    return model.to(device).eval(), meta


def save_musae(model: MusAE, directory: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write MusAE or its VAE baseline (config["config"]["kind"] tells which), with its style names in ``metadata``."""
    return save_model(model, "musae", directory, metadata)


def load_musae(directory: str | Path, device: torch.device | str = "cpu") -> tuple[MusAE, CheckpointConfig]:
    """(MusAE in eval mode, config.json); config["styles"] names the style codes in order."""
    meta = read_config(directory, "musae")
    model = MusAE(MusAEConfig.from_dict(meta["config"]))
    model.load_state_dict(load_weights(directory))
    return model.to(device).eval(), meta


def save_stylegan(model: StyleGenerator, directory: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write the style GAN's generator (model.safetensors + config.json {"model": "stylegan", "config": {...},
    **metadata}); ``metadata["styles"]`` names the style indices in order. Only the generator is stored: the critic
    is needed for training alone and lives in ``train_state.pt``."""
    return save_model(model, "stylegan", directory, metadata)


def load_stylegan(directory: str | Path, device: torch.device | str = "cpu") -> tuple[StyleGenerator, CheckpointConfig]:
    """(StyleGenerator in eval mode, config.json); config["styles"] names the style indices in order."""
    meta = read_config(directory, "stylegan")
    model = StyleGenerator(StyleGANConfig.from_dict(meta["config"]))
    model.load_state_dict(load_weights(directory))
    return model.to(device).eval(), meta


def save_harmonizer(model: ChordSuggester, directory: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write the chord suggester (model.safetensors + config.json {"model": "harmonizer", "config": {...}})."""
    return save_model(model, "harmonizer", directory, metadata)


def load_harmonizer(
    directory: str | Path, device: torch.device | str = "cpu"
) -> tuple[ChordSuggester, CheckpointConfig]:
    """(ChordSuggester in eval mode, config.json)."""
    meta = read_config(directory, "harmonizer")
    model = ChordSuggester(HarmonizerConfig.from_dict(meta["config"]))
    model.load_state_dict(load_weights(directory))
    return model.to(device).eval(), meta


def load_voice_infill(
    directory: str | Path, device: torch.device | str = "cpu"
) -> tuple[VoiceInfiller, CheckpointConfig]:
    """(VoiceInfiller in eval mode, config.json); config["styles"] names the style indices in order."""
    meta = read_config(directory, "voice_infill")
    model = VoiceInfiller(VoiceInfillConfig.from_dict(meta["config"]))
    model.load_state_dict(load_weights(directory))
    return model.to(device).eval(), meta
