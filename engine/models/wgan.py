"""The Wasserstein GAN's gradient penalty, shared by MusAE's latent critic and the style GAN's critic."""

from __future__ import annotations

from collections.abc import Callable

import torch


def gradient_penalty(
    score: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): (||d score / d x|| - 1)^2 at random points x between ``real`` and ``fake``
    (B, ...), the norm over each example's whole input; ``score`` maps (B, ...) to (B,) critic scores."""
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(score(mixed).sum(), mixed, create_graph=True)
    norms: torch.Tensor = grad.flatten(1).norm(dim=1)
    return ((norms - 1) ** 2).mean()
