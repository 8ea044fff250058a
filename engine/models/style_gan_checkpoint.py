"""Save and load the style GAN's generator (model.safetensors + config.json, as engine.models.checkpoint does).

Only the generator is stored: the critic is needed for training alone and lives in ``train_state.pt``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from engine.models.checkpoint import _save, _weights, read_config
from engine.models.style_gan import StyleGANConfig, StyleGenerator

KIND = "stylegan"


def save_stylegan(model: StyleGenerator, directory: str | Path, metadata: dict | None = None) -> Path:
    """Write the generator (model.safetensors + config.json {"model": "stylegan", "config": {...}, **metadata});
    ``metadata["styles"]`` names the style indices in order."""
    return _save(model, KIND, directory, metadata)


def load_stylegan(directory: str | Path, device: torch.device | str = "cpu") -> tuple[StyleGenerator, dict]:
    """(StyleGenerator in eval mode, config.json); config["styles"] names the style indices in order."""
    meta = read_config(directory, KIND)
    model = StyleGenerator(StyleGANConfig.from_dict(meta["config"]))
    model.load_state_dict(_weights(directory))
    return model.to(device).eval(), meta
