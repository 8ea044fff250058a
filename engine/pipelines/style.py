"""Style: four-part music from MusAE's style-mixture prior: generate, morph, transfer (inference only).

* ``pipeline(style, num_bars, seed, num_samples)``: consecutive 2-bar windows joined smoothly: the first code is
  drawn from the style's component, each next one stays near it (z' = mean + rho (z - mean) + sqrt(1 - rho^2) noise,
  rho = ``smoothness``), so neighbouring windows share much of their material. Codes come from each component
  narrowed to ``prior_scale`` of its spread, decoded at ``temperature`` (both chosen on the judge's figures: see the
  model card; :class:`MusAEGenerationConfig`, the checkpoint's ``generation.json``). Draw and check: ``candidates``
  such chains are decoded at once and the one with the most windows the judge hears in the asked style is kept (the
  first on a tie); ``check=False`` keeps the first draw. The evaluation reports both, the first draw as the model's
  own figure.
* ``morph(style_a, style_b, steps, seed)``: one code walked from style A's component to B's (the same offset from
  each mean), the style code blended along the way; one window per step, heard as one piece.
* ``transfer(windows, target, strength)``: a piece's windows encoded, moved ``strength`` (0..1) of the way from the
  component nearest to them to the target's, decoded with the style code blended as much.
Every result carries the judge's verdict per window (engine.models.style_judge).
:class:`StyleModel` holds what MusAE's pipeline shares with the style GAN's (engine.pipelines.style_gan): style and
bars checks, verdicts, the draw-and-check choice and the judge's loading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.models.device import resolve_device
from engine.models.musae import MusAE, MusAEConfig
from engine.models.registry import load_musae, load_style_judge
from engine.models.style_judge import StyleJudge, StyleJudgeConfig
from engine.music.constants import TRACKS, WINDOW_STEPS
from engine.music.errors import CadenzaInputError
from engine.music.limits import SEED, STYLE_BARS, STYLE_MORPH_STEPS, STYLE_VARIATIONS, check_number
from engine.music.multitrack import STYLES
from engine.paths import default_checkpoint
from engine.pipelines.base import GenerationConfig, PipelineOutput, seeded_generator


class StyleInputError(CadenzaInputError):
    """Bad input to the style pipelines (unknown style, bars out of range, ...)."""


@dataclass(frozen=True)
class MusAEGenerationConfig(GenerationConfig):
    """How MusAE samples (checkpoints/musae/generation.json).

    ``temperature`` 1.0: the model's own distribution, where the judge hears the asked style most often (model card).
    ``prior_scale``: the encoder's codes do not fill their components evenly (their mean sits ~2.5 from the
    component's), so the rim of a unit-variance component decodes to music of a neighbouring style more often; on the
    shipped model, 100 codes per style, seeds 11 and 12 (not the evaluation's), before the pitch ranges: scale
    1.0 / 0.8 / 0.7 -> 0.82 / 0.86-0.88 / 0.89-0.90 judged in style (the evaluation's sweep is in the model card).
    ``smoothness``: how much of each window's code the next one keeps. ``candidates``: chains drawn for the draw and
    check.
    """

    temperature: float = 1.0
    prior_scale: float = 0.7
    smoothness: float = 0.8
    candidates: int = 8


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


@dataclass
class StyleOutput(PipelineOutput[StylePiece]):
    """``samples``: one four-part piece per variation, variation i drawn with ``seeds[i]``."""


@dataclass(frozen=True)
class Judge:
    """The style judge and the names of its styles, in the order of its logits."""

    model: StyleJudge
    styles: list[str]


def load_judge(path_or_name: str | Path | Judge | None = None, device: str | None = None) -> Judge:
    """The style judge: a checkpoint folder (default: the shipped one), "debug" (a tiny untrained one over the seven
    styles) or one already loaded (shared by both generators: one copy in memory)."""
    if isinstance(path_or_name, Judge):
        return path_or_name
    if str(path_or_name) == "debug":
        torch.manual_seed(0)
        return Judge(StyleJudge(StyleJudgeConfig.debug(len(STYLES))).to(resolve_device(device)), list(STYLES))
    judge, meta = load_style_judge(default_checkpoint("style_judge") if path_or_name is None else path_or_name)
    return Judge(judge.to(resolve_device(device)).eval(), list(meta["styles"]))


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

    def _windows(self, bars: object) -> int:
        count = STYLE_BARS.check("Bars", bars, StyleInputError)
        if count % 2:
            raise StyleInputError(f"Bars must be even (2-bar windows), got {bars}")
        return count // 2

    @staticmethod
    def _checks(seed: object, num_samples: object, temperature: float) -> None:
        SEED.check("Seed", seed, StyleInputError)
        STYLE_VARIATIONS.check("Variations", num_samples, StyleInputError)
        check_number("Temperature", temperature, 0, 3, error=StyleInputError)

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

    def __init__(
        self, model: MusAE, judge: torch.nn.Module, styles: list[str], generation: MusAEGenerationConfig | None = None
    ):
        self.model, self.judge, self.styles = model.eval(), judge.eval(), list(styles)
        self.generation = generation or MusAEGenerationConfig()

    @classmethod
    def from_pretrained(
        cls, path_or_name: str | Path | None = None, device: str | None = None, judge: str | Path | Judge | None = None
    ) -> StylePipeline:
        """MusAE (default: the shipped one; "debug": tiny untrained models over the seven styles) with its
        ``generation.json``, and the style judge (``judge``: see :func:`load_judge`); their styles must agree."""
        resolved = resolve_device(device)
        if str(path_or_name) == "debug":
            torch.manual_seed(0)
            model = MusAE(MusAEConfig.debug(num_styles=len(STYLES))).to(resolved)
            debug_judge = load_judge(judge if isinstance(judge, Judge) else "debug", device)
            return cls(model, debug_judge.model, debug_judge.styles)
        path = default_checkpoint("musae") if path_or_name is None else path_or_name
        model, meta = load_musae(path, resolved)
        loaded = load_judge(judge, device)
        if meta["styles"] != loaded.styles:
            raise ValueError(f"MusAE knows {meta['styles']}, the judge {loaded.styles}")
        return cls(model, loaded.model, meta["styles"], MusAEGenerationConfig.load(path))

    @property
    def device(self) -> torch.device:
        return self.model.prior_means.device

    @torch.no_grad()
    def __call__(
        self,
        style: str,
        num_bars: int = 4,
        seed: int = 0,
        num_samples: int = 1,
        temperature: float | None = None,
        check: bool = True,
        generation: MusAEGenerationConfig | None = None,
    ) -> StyleOutput:
        """``num_samples`` pieces of ``num_bars`` bars (even, 2..16) of four-part music in ``style``, piece i drawn
        with seed + i; ``temperature`` (None: the generation config's) and ``generation`` override the settings.
        ``check``: draw and check (see the module)."""
        settings = (generation or self.generation).override(temperature=temperature)
        index, count = self.style_index(style), self._windows(num_bars)
        self._checks(seed, num_samples, settings.temperature)
        seeds = [int(seed) + i for i in range(int(num_samples))]
        pieces = [self._sample(index, count, s, settings, check) for s in seeds]
        return StyleOutput(pieces, seeds)

    def _sample(self, index: int, count: int, seed: int, settings: MusAEGenerationConfig, check: bool) -> StylePiece:
        generator = seeded_generator(seed, self.device)
        chains = settings.candidates if check else 1
        scale, rho = settings.prior_scale, settings.smoothness
        mean = self.model.prior_means[index]
        z = self.model.prior_sample(torch.full((chains,), index), generator, scale)  # (chains, z_dims)
        codes = [z]
        for _ in range(count - 1):  # each next code is as far from the mean, on average, as the first
            noise = scale * torch.randn(z.shape, generator=generator, device=generator.device).to(z.device)
            z = mean + rho * (z - mean) + math.sqrt(1 - rho**2) * noise
            codes.append(z)
        stacked = torch.stack(codes, dim=1).reshape(chains * count, -1)  # chain-major: chain c is rows c*count..
        windows = self.model.decode(stacked, torch.full((chains * count,), index), settings.temperature, generator)
        return self._best_chain(windows, chains, count, index)

    @torch.no_grad()
    def morph(self, style_a: str, style_b: str, steps: int = 5, seed: int = 0) -> StyleOutput:
        """``steps`` windows (2..12) from style A to style B, the code and style code moving together."""
        a, b = self.style_index(style_a), self.style_index(style_b)
        STYLE_MORPH_STEPS.check("Steps", steps, StyleInputError)
        SEED.check("Seed", seed, StyleInputError)
        generator = seeded_generator(int(seed), self.device)
        means = self.model.prior_means
        offset = self.model.prior_sample(torch.tensor([a]), generator, self.generation.prior_scale)[0] - means[a]
        t = torch.linspace(0, 1, int(steps), device=means.device)[:, None]
        codes = (1 - t) * means[a] + t * means[b] + offset
        weights = torch.zeros(int(steps), len(self.styles), device=means.device)
        weights[:, a], weights[:, b] = 1 - t[:, 0], weights[:, b] + t[:, 0]
        windows = self.model.decode(codes, weights)
        asked = [self.styles[a] if w < 0.5 else self.styles[b] for w in t[:, 0].tolist()]
        return StyleOutput([StylePiece(_join(windows), asked, self._judge(windows))], [int(seed)])

    @torch.no_grad()
    def transfer(self, windows: np.ndarray, target: str, strength: float = 0.8) -> StyleOutput:
        """A piece's windows (N, 4, 32) moved ``strength`` (0..1) of the way toward ``target``."""
        index = self.style_index(target)
        check_number("Strength", strength, 0, 1, error=StyleInputError)
        if windows.ndim != 3 or windows.shape[1:] != (TRACKS, WINDOW_STEPS) or not len(windows):
            raise StyleInputError("The piece must give at least one window of four tracks of 32 steps")
        w = torch.as_tensor(windows, dtype=torch.long, device=self.device)
        z, _ = self.model.encode(w)
        means = self.model.prior_means
        source = ((z[:, None, :2] - means[None, :, :2]) ** 2).sum(-1).argmin(1)  # the nearest component
        moved = z + float(strength) * (means[index] - means[source])
        weights = torch.zeros(len(w), len(self.styles), device=means.device)
        weights[torch.arange(len(w)), source] += 1 - float(strength)
        weights[:, index] += float(strength)
        out = self.model.decode(moved, weights)
        return StyleOutput([StylePiece(_join(out), [self.styles[index]] * len(w), self._judge(out))], [])


def _join(windows: torch.Tensor) -> np.ndarray:
    """Windows (N, 4, 32) side by side: (4, N * 32)."""
    return windows.permute(1, 0, 2).reshape(windows.shape[1], -1).cpu().numpy()
