"""Style: four-part music from MusAE's style-mixture prior: sample, morph, transfer (inference only).

* ``sample(style, bars, seed)``: consecutive 2-bar windows joined smoothly: the first code is drawn
  from the style's component, each next one stays near it (z' = mean + rho (z - mean) + sqrt(1 -
  rho^2) noise, rho = ``SMOOTHNESS``), so neighbouring windows share much of their material.
  Codes come from each component narrowed to ``PRIOR_SCALE`` of its spread, decoded at
  ``SAMPLE_TEMPERATURE`` (both chosen on the judge's figures: see the model card). Draw and
  check: ``CANDIDATES`` such chains are decoded at once and the one with the most windows the
  judge hears in the asked style is kept (the first on a tie); ``check=False`` keeps the first
  draw. The evaluation reports both, the first draw as the model's own figure.
* ``morph(style_a, style_b, steps, seed)``: one code walked from style A's component to B's (the same
  offset from each mean), the style code blended along the way; one window per step, heard as one piece.
* ``transfer(windows, target, strength)``: a piece's windows encoded, moved ``strength`` (0..1) of the
  way from the component nearest to them to the target's, decoded with the style code blended as much.
Every result carries the judge's verdict per window (engine.models.style_judge).
:class:`StyleModel` holds what MusAE's pipeline shares with the style GAN's
(engine.pipelines.style_gan): style and bars checks, verdicts and the draw-and-check choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.errors import CadenzaInputError
from engine.models.checkpoint import load_musae, load_style_judge
from engine.validation import check_number

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MUSAE = ROOT / "checkpoints" / "musae"
DEFAULT_JUDGE = ROOT / "checkpoints" / "style_judge"
MIN_BARS, MAX_BARS = 2, 16
SMOOTHNESS = 0.8
SAMPLE_TEMPERATURE = 1.0  # the model's own distribution: the judge hears the asked style most often there (model card)
# The encoder's codes do not fill their components evenly (their mean sits ~2.5 from the component's): the rim of a
# unit-variance component decodes to music of a neighbouring style more often. The shipped model, 100 codes per style,
# seeds 11 and 12 (not the evaluation's), before the pitch ranges: scale 1.0 / 0.8 / 0.7 -> 0.82 / 0.86-0.88 /
# 0.89-0.90 judged in style. The evaluation's sweep, with the ranges, is in the model card.
PRIOR_SCALE = 0.7
CANDIDATES = 8


class StyleInputError(CadenzaInputError):
    """Bad input to the style pipeline (unknown style, bars out of range, ...)."""


@dataclass
class StylePiece:
    """Four tracks of tokens (4, steps), the styles asked per window and the judge's verdicts per window."""

    tokens: np.ndarray
    asked: list[str]
    verdicts: list[str] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        """Share of windows the judge assigns to the style asked for (for a morph: the nearer end)."""
        if not self.verdicts:
            return 0.0
        return sum(v == a for v, a in zip(self.verdicts, self.asked)) / len(self.verdicts)


class StyleModel:
    """What both style generators (MusAE here, the GAN in engine.pipelines.style_gan) share: the style names
    (the judge's), the style and bars checks, the judge's verdicts and the draw-and-check choice of a chain."""

    styles: list[str]
    judge: torch.nn.Module

    def style_index(self, style: str) -> int:
        """The index of a style name (case and spaces ignored); raises StyleInputError naming the choices."""
        wanted = " ".join(str(style).split()).lower()
        for index, name in enumerate(self.styles):
            if name.lower() == wanted:
                return index
        raise StyleInputError(f"Unknown style {style!r}: choose one of {', '.join(self.styles)}")

    def _windows(self, bars: int) -> int:
        check_number("Bars", bars, MIN_BARS, MAX_BARS, integer=True, error=StyleInputError)
        if int(bars) % 2:
            raise StyleInputError(f"Bars must be even (2-bar windows), got {bars}")
        return int(bars) // 2

    @torch.no_grad()
    def _judge(self, windows: torch.Tensor) -> list[str]:
        return [self.styles[i] for i in self.judge(windows).argmax(1).tolist()]

    @torch.no_grad()
    def _best_chain(self, windows: torch.Tensor, chains: int, count: int, index: int) -> StylePiece:
        """Draw and check: of ``chains`` candidate pieces of ``count`` windows each (``windows`` chain-major:
        (chains * count, 4, 32)), the one with the most windows the judge hears in style ``index`` (the first on
        a tie), with its verdicts."""
        verdicts = self.judge(windows).argmax(1).reshape(chains, count)
        best = int((verdicts == index).sum(1).argmax())  # argmax returns the first of equal counts
        chosen = windows.reshape(chains, count, *windows.shape[1:])[best]
        return StylePiece(
            _join(chosen), [self.styles[index]] * count, [self.styles[i] for i in verdicts[best].tolist()]
        )


class StylePipeline(StyleModel):
    """MusAE + the style judge, on the CPU or a GPU."""

    name = "MusAE"

    def __init__(self, model, judge, styles: list[str]):
        self.model, self.judge, self.styles = model.eval(), judge.eval(), list(styles)

    @classmethod
    def from_pretrained(cls, musae: str | Path = DEFAULT_MUSAE, judge: str | Path = DEFAULT_JUDGE) -> StylePipeline:
        model, meta = load_musae(musae)
        judge_model, judge_meta = load_style_judge(judge)
        if meta["styles"] != judge_meta["styles"]:
            raise ValueError(f"MusAE knows {meta['styles']}, the judge {judge_meta['styles']}")
        return cls(model, judge_model, meta["styles"])

    @torch.no_grad()
    def sample(
        self, style: str, bars: int = 4, seed: int = 0, temperature: float | None = None, check: bool = True
    ) -> StylePiece:
        """``bars`` bars (even, 2..16) of four-part music in ``style``; ``temperature`` None: SAMPLE_TEMPERATURE."""
        index, count = self.style_index(style), self._windows(bars)
        temperature = SAMPLE_TEMPERATURE if temperature is None else float(temperature)
        generator = torch.Generator().manual_seed(int(seed))
        chains = CANDIDATES if check else 1
        mean = self.model.prior_means[index]
        z = self.model.prior_sample(torch.full((chains,), index), generator, PRIOR_SCALE)  # (chains, z_dims)
        codes = [z]
        for _ in range(count - 1):  # each next code is as far from the mean, on average, as the first
            noise = PRIOR_SCALE * torch.randn(z.shape, generator=generator)
            z = mean + SMOOTHNESS * (z - mean) + math.sqrt(1 - SMOOTHNESS**2) * noise
            codes.append(z)
        codes = torch.stack(codes, dim=1).reshape(chains * count, -1)  # chain-major: chain c is rows c*count..
        windows = self.model.decode(codes, torch.full((chains * count,), index), temperature, generator)
        return self._best_chain(windows, chains, count, index)

    @torch.no_grad()
    def morph(self, style_a: str, style_b: str, steps: int = 5, seed: int = 0) -> StylePiece:
        """``steps`` windows (2..12) from style A to style B, the code and style code moving together."""
        a, b = self.style_index(style_a), self.style_index(style_b)
        check_number("Steps", steps, 2, 12, integer=True, error=StyleInputError)
        generator = torch.Generator().manual_seed(int(seed))
        offset = self.model.prior_sample(torch.tensor([a]), generator, PRIOR_SCALE)[0] - self.model.prior_means[a]
        t = torch.linspace(0, 1, int(steps))[:, None]
        means = self.model.prior_means
        codes = (1 - t) * means[a] + t * means[b] + offset
        weights = torch.zeros(int(steps), len(self.styles))
        weights[:, a], weights[:, b] = 1 - t[:, 0], weights[:, b] + t[:, 0]
        windows = self.model.decode(codes, weights)
        asked = [self.styles[a] if w < 0.5 else self.styles[b] for w in t[:, 0].tolist()]
        return StylePiece(_join(windows), asked, self._judge(windows))

    @torch.no_grad()
    def transfer(self, windows: np.ndarray, target: str, strength: float = 0.8) -> StylePiece:
        """A piece's windows (N, 4, 32) moved ``strength`` (0..1) of the way toward ``target``."""
        index = self.style_index(target)
        check_number("Strength", strength, 0, 1, error=StyleInputError)
        if windows.ndim != 3 or windows.shape[1:] != (4, 32) or not len(windows):
            raise StyleInputError("The piece must give at least one window of four tracks of 32 steps")
        w = torch.as_tensor(windows, dtype=torch.long)
        z, _ = self.model.encode(w)
        means = self.model.prior_means
        source = ((z[:, None, :2] - means[None, :, :2]) ** 2).sum(-1).argmin(1)  # the nearest component
        moved = z + float(strength) * (means[index] - means[source])
        weights = torch.zeros(len(w), len(self.styles))
        weights[torch.arange(len(w)), source] += 1 - float(strength)
        weights[:, index] += float(strength)
        out = self.model.decode(moved, weights)
        return StylePiece(_join(out), [self.styles[index]] * len(w), self._judge(out))


def _join(windows: torch.Tensor) -> np.ndarray:
    """Windows (N, 4, 32) side by side: (4, N * 32)."""
    return windows.permute(1, 0, 2).reshape(windows.shape[1], -1).cpu().numpy()
