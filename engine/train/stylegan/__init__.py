"""The style GAN's trainer: data (windows linked to the ones before them), losses, the epoch report, the loop."""

from engine.train.stylegan.config import StyleGANTrainConfig
from engine.train.stylegan.loop import train_stylegan

__all__ = ["StyleGANTrainConfig", "train_stylegan"]
