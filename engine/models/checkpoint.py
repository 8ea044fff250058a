"""Save and load model weights safely: safetensors + config.json (the constructor arguments)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from engine.models.ec2vae import EC2VAE, EC2VAEConfig

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def save_ec2vae(model: EC2VAE, directory: str | Path, metadata: dict | None = None) -> Path:
    """Write model.safetensors and config.json ({"model": "ec2vae", "config": {...}, **metadata})."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / WEIGHTS_FILE))
    config = {"model": "ec2vae", "config": model.config.to_dict(), **(metadata or {})}
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    return directory


def load_ec2vae(directory: str | Path, device: torch.device | str = "cpu") -> EC2VAE:
    """Build the model from config.json and load its safetensors weights (eval mode)."""
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    weights_path = directory / WEIGHTS_FILE
    if not config_path.exists() or not weights_path.exists():
        raise FileNotFoundError(f"No EC2-VAE checkpoint in {directory} (expected {CONFIG_FILE} and {WEIGHTS_FILE})")
    meta = json.loads(config_path.read_text())
    if meta.get("model") != "ec2vae":
        raise ValueError(f"{config_path} describes a '{meta.get('model')}' model, not 'ec2vae'")
    model = EC2VAE(EC2VAEConfig(**meta["config"]))
    model.load_state_dict(load_file(str(weights_path)))
    return model.to(device).eval()
