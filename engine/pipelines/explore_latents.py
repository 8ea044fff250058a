"""What Explore walks through: the latents of a source's windows, spherical interpolation between latents, the
harmony decoded under, and the checks every Explore verb makes."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch

from engine.music import ChordProgression, LeadSheet
from engine.music.errors import CadenzaInputError
from engine.music.limits import check_number

SOURCE_CHORDS = {"a": "a", "b": "b", "pitch": "a", "rhythm": "b"}


class ExploreInputError(CadenzaInputError):
    """A source, number or choice that exploration cannot use."""


@dataclass
class Latents:
    """Posterior means of every window of a source, and what they were encoded from."""

    z_pitch: torch.Tensor  # (W, Zp)
    z_rhythm: torch.Tensor  # (W, Zr)
    chroma: np.ndarray  # (W, 32, 12) float32
    tokens: np.ndarray | None = None  # (W, 32) int64 melody tokens of the source

    @property
    def num_windows(self) -> int:
        return int(self.z_pitch.shape[0])

    def cropped(self, num_windows: int) -> Latents:
        tokens = None if self.tokens is None else self.tokens[:num_windows]
        return Latents(self.z_pitch[:num_windows], self.z_rhythm[:num_windows], self.chroma[:num_windows], tokens)


# --------------------------------------------------------------------- checks
def check_explore_number(name: str, value, low: float, high: float, integer: bool = False) -> None:
    check_number(name, value, low, high, integer, error=ExploreInputError)


def check_sheet(sheet, name: str) -> None:
    if not isinstance(sheet, LeadSheet):
        raise ExploreInputError(f"{name} must be a melody (a LeadSheet), not {type(sheet).__name__}")
    if not sheet.melody.notes:
        raise ExploreInputError(f"{name} has no notes")


def sheet_name(sheet: LeadSheet, fallback: str) -> str:
    return sheet.title.strip() or fallback


# -------------------------------------------------------------------- latents
def slerp(a, b, t: float, eps: float = 1e-6):
    """Spherical interpolation between a and b (..., D) at t (0 -> a, 1 -> b), row by row.

    Works on the raw vectors (angle between them, norms interpolated along the arc,
    as White 2016 does for VAE latents). Where a and b are (nearly) parallel or one is
    zero, the sine of the angle vanishes and plain linear interpolation is used.
    Accepts torch tensors or numpy arrays; returns the same kind.
    """
    if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(float(t)):
        raise ExploreInputError(f"The interpolation position t must be a number (got {t!r})")
    as_numpy = isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
    ta = torch.as_tensor(a, dtype=torch.float32) if not isinstance(a, torch.Tensor) else a.float()
    tb = torch.as_tensor(b, dtype=torch.float32, device=ta.device) if not isinstance(b, torch.Tensor) else b.float()
    if ta.shape != tb.shape:
        raise ExploreInputError(f"Cannot interpolate between latents of shapes {tuple(ta.shape)} and {tuple(tb.shape)}")
    t = float(t)
    norm_a = ta.norm(dim=-1, keepdim=True)
    norm_b = tb.norm(dim=-1, keepdim=True)
    cos = ((ta / norm_a.clamp_min(1e-12)) * (tb / norm_b.clamp_min(1e-12))).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    parallel = (sin.abs() < eps) | (norm_a < 1e-12) | (norm_b < 1e-12)
    safe = torch.where(parallel, torch.ones_like(sin), sin)
    w_a = torch.where(parallel, torch.full_like(sin, 1.0 - t), torch.sin((1.0 - t) * omega) / safe)
    w_b = torch.where(parallel, torch.full_like(sin, t), torch.sin(t * omega) / safe)
    out = w_a * ta + w_b * tb
    return out.cpu().numpy() if as_numpy else out


@dataclass
class Harmony:
    chroma: np.ndarray  # (W, 32, 12)
    progression: ChordProgression
    key: str | None
    time_signature: tuple[int, int]
