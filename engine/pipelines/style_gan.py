"""Style, the GAN way: four-part music from the style GAN's generator (engine.models.style_gan), judged by the same
style judge as MusAE's pieces (inference only).

``sample(style, bars, seed, chords)`` writes ``bars / 2`` windows of 2 bars, each conditioned on the one before
(the generator's previous-window condition: the first window has none), so the piece is one chain rather than
independent windows. ``chords`` is an optional progression in Compose's syntax ("C G Am F": one chord per bar,
repeated to fill the bars; "C Am | F G": bars split by "|"; "N.C." for none) parsed with engine.chords and given
to the generator as chroma per beat; without chords (None or blank) the generator harmonises each window itself
(a sketch, the triads that fit it, a second draw over them: StyleGenerator.generate).

Draw and check, as for MusAE (engine.pipelines.style): ``CANDIDATES`` chains are generated at once and the one
with the most windows the judge hears in the asked style is kept (the first on a tie); ``check=False`` keeps the
first draw. Pieces are :class:`engine.pipelines.style.StylePiece` objects, so the studio and the CLI treat both
generators alike.
"""

from __future__ import annotations

from pathlib import Path

import torch

from engine.chords import parse_progression
from engine.errors import ChordSymbolError
from engine.models.checkpoint import load_style_judge
from engine.models.style_gan import SAMPLE_TEMPERATURE, StyleGenerator, progression_beat_chroma
from engine.models.style_gan_checkpoint import load_stylegan
from engine.pipelines.style import CANDIDATES, DEFAULT_JUDGE, ROOT, StyleInputError, StyleModel, StylePiece

DEFAULT_GAN = ROOT / "checkpoints" / "stylegan"
GAN_TEMPERATURE = SAMPLE_TEMPERATURE  # samples, as the critic saw in training (see engine.models.style_gan)
STEPS_PER_BAR = 16  # the generator's windows are two 4/4 bars of sixteenths


class StyleGANPipeline(StyleModel):
    """The style GAN's generator + the style judge (CPU)."""

    name = "GAN"

    def __init__(self, generator: StyleGenerator, judge: torch.nn.Module, styles: list[str]):
        if generator.config.num_styles != len(styles):
            raise ValueError(f"the generator has {generator.config.num_styles} styles, the names {len(styles)}")
        self.generator, self.judge, self.styles = generator.eval(), judge.eval(), list(styles)

    @classmethod
    def from_pretrained(cls, gan: str | Path = DEFAULT_GAN, judge: str | Path = DEFAULT_JUDGE) -> StyleGANPipeline:
        """The generator in ``gan`` (engine.models.style_gan_checkpoint) and the judge in ``judge``; their styles
        must be the same, in the same order."""
        generator, meta = load_stylegan(gan)
        judge_model, judge_meta = load_style_judge(judge)
        if list(meta.get("styles", [])) != list(judge_meta["styles"]):
            raise ValueError(f"the style GAN knows {meta.get('styles')}, the judge {judge_meta['styles']}")
        return cls(generator, judge_model, meta["styles"])

    def chord_condition(self, chords: str | None, bars: int) -> torch.Tensor | None:
        """Chroma per beat (windows, 8, 12) of a progression over ``bars`` bars, or None for no chords (None or
        blank text). Raises StyleInputError naming an unknown chord symbol."""
        if chords is None:
            return None
        if not isinstance(chords, str):
            raise StyleInputError(f"Chords must be text such as 'C G Am F', got {type(chords).__name__}")
        if not chords.replace("|", " ").replace(",", " ").strip():  # blank, or bar lines alone: no chords given
            return None
        try:
            progression = parse_progression(chords, int(bars), STEPS_PER_BAR)
        except ChordSymbolError as err:  # already names the symbol; raised as the pipeline's own kind
            raise StyleInputError(str(err)) from None
        return torch.as_tensor(progression_beat_chroma(progression, int(bars) // 2))

    @torch.no_grad()
    def sample(
        self,
        style: str,
        bars: int = 4,
        seed: int = 0,
        chords: str | None = None,
        temperature: float | None = None,
        check: bool = True,
    ) -> StylePiece:
        """``bars`` bars (even, 2..16) of four-part music in ``style``, over ``chords`` (a progression such as
        "C G Am F", or None); ``temperature`` None: GAN_TEMPERATURE. ``check``: draw and check (see the module)."""
        index, count = self.style_index(style), self._windows(bars)
        condition = self.chord_condition(chords, bars)
        temperature = GAN_TEMPERATURE if temperature is None else float(temperature)
        generator = torch.Generator().manual_seed(int(seed))
        chains = CANDIDATES if check else 1
        device = self.generator.style.weight.device
        styles = torch.full((chains,), index, dtype=torch.long, device=device)
        if condition is not None:
            condition = condition[None].expand(chains, -1, -1, -1).to(device)  # every candidate over the same chords
        tokens = self.generator.generate_chain(
            styles, count, condition, None, temperature, generator
        )  # (chains, 4, 32 * count)
        # Chain-major windows (chains * count, 4, 32), as the judge and the draw-and-check choice read them.
        windows = (
            tokens.reshape(chains, tokens.shape[1], count, -1)
            .permute(0, 2, 1, 3)
            .reshape(chains * count, tokens.shape[1], -1)
        )
        return self._best_chain(windows.cpu(), chains, count, index)
