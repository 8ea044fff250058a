"""Save and load model weights safely: safetensors + config.json (the constructor arguments)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from engine.models.ec2vae import EC2VAE, EC2VAEConfig
from engine.models.latent import LatentModelConfig, LatentSequenceModel

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def _save(model: torch.nn.Module, kind: str, directory: str | Path, metadata: dict | None) -> Path:
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


def read_config(directory: str | Path, kind: str) -> dict:
    """config.json of a checkpoint folder, checked to describe a ``kind`` model and to have its weights."""
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    if not config_path.exists() or not (directory / WEIGHTS_FILE).exists():
        raise FileNotFoundError(f"No {kind} checkpoint in {directory} (expected {CONFIG_FILE} and {WEIGHTS_FILE})")
    meta = json.loads(config_path.read_text())
    if meta.get("model") != kind:
        raise ValueError(f"{config_path} describes a '{meta.get('model')}' model, not '{kind}'")
    return meta


def weights_fingerprint(directory: str | Path) -> str:
    """SHA-256 (first 16 hex digits) of a checkpoint's weights file: a latent model belongs to one EC2-VAE's weights."""
    return hashlib.sha256(Path(directory, WEIGHTS_FILE).read_bytes()).hexdigest()[:16]


def _weights(directory: str | Path) -> dict[str, torch.Tensor]:
    # Weights may be stored in float16 to halve the file; the models compute in float32.
    return {
        k: v.float() if v.is_floating_point() else v for k, v in load_file(str(Path(directory) / WEIGHTS_FILE)).items()
    }


def save_ec2vae(model: EC2VAE, directory: str | Path, metadata: dict | None = None) -> Path:
    """Write model.safetensors and config.json ({"model": "ec2vae", "config": {...}, **metadata})."""
    return _save(model, "ec2vae", directory, metadata)


def load_ec2vae(directory: str | Path, device: torch.device | str = "cpu") -> EC2VAE:
    """Build the model from config.json and load its safetensors weights (eval mode)."""
    meta = read_config(directory, "ec2vae")
    model = EC2VAE(EC2VAEConfig(**meta["config"]))
    model.load_state_dict(_weights(directory))
    return model.to(device).eval()


def save_latent_model(model: LatentSequenceModel, directory: str | Path, metadata: dict | None = None) -> Path:
    """Write the latent sequence model (model.safetensors + config.json {"model": "latent", ...})."""
    return _save(model, "latent", directory, metadata)


def load_latent_model(directory: str | Path, device: torch.device | str = "cpu") -> tuple[LatentSequenceModel, dict]:
    """The latent sequence model (eval mode) and its config.json (which names the EC2-VAE it belongs to)."""
    meta = read_config(directory, "latent")
    model = LatentSequenceModel(LatentModelConfig(**meta["config"]))
    model.load_state_dict(_weights(directory))
    return model.to(device).eval(), meta


def save_abc_model(
    model: AbcLanguageModel, tokenizer: AbcTokenizer, directory: str | Path, metadata: dict | None = None
) -> Path:
    """Write the ABC emotion model (model.safetensors + config.json {"model": "abc_emotion", "vocab": [...], ...})."""
    return _save(model, "abc_emotion", directory, {"vocab": tokenizer.vocab, **(metadata or {})})


def load_abc_model(
    directory: str | Path, device: torch.device | str = "cpu"
) -> tuple[AbcLanguageModel, AbcTokenizer, dict]:
    """The ABC emotion model (eval mode), its tokenizer and its config.json."""
    from engine.models.abc_lm import AbcLanguageModel, AbcModelConfig, AbcTokenizer

    meta = read_config(directory, "abc_emotion")
    model = AbcLanguageModel(AbcModelConfig(**meta["config"]))
    weights = _weights(directory)
    weights.setdefault("head.weight", weights["tokens.weight"])  # tied to the embedding (stored once)
    model.load_state_dict(weights)
    return model.to(device).eval(), AbcTokenizer(meta["vocab"]), meta


def save_style_judge(model: StyleJudge, directory: str | Path, metadata: dict | None = None) -> Path:
    """Write the style judge (model.safetensors + config.json with its style names in ``metadata``)."""
    return _save(model, "style_judge", directory, metadata)


def load_style_judge(directory: str | Path, device: torch.device | str = "cpu") -> tuple[StyleJudge, dict]:
    """(StyleJudge in eval mode, config.json); config["styles"] names the logits in order."""
    from engine.models.style_judge import StyleJudge, StyleJudgeConfig

    meta = read_config(directory, "style_judge")
    model = StyleJudge(StyleJudgeConfig.from_dict(meta["config"]))
    model.load_state_dict(_weights(directory))
    return model.to(device).eval(), meta


def save_musae(model: MusAE, directory: str | Path, metadata: dict | None = None) -> Path:
    """Write MusAE or its VAE baseline (config["config"]["kind"] tells which), with its style names in ``metadata``."""
    return _save(model, "musae", directory, metadata)


def load_musae(directory: str | Path, device: torch.device | str = "cpu") -> tuple[MusAE, dict]:
    """(MusAE in eval mode, config.json); config["styles"] names the style codes in order."""
    from engine.models.musae import MusAE, MusAEConfig

    meta = read_config(directory, "musae")
    model = MusAE(MusAEConfig.from_dict(meta["config"]))
    model.load_state_dict(_weights(directory))
    return model.to(device).eval(), meta
