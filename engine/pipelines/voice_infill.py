"""Four-part music by filling masked voices (engine.models.voice_infill), window by window.

``VoiceInfillPipeline.from_pretrained(path | "debug")`` loads the infiller and the style judge;
``pipeline(style, num_bars, seed, num_samples, chords=...)`` writes four-part pieces from nothing (every cell
masked), like the Style tab's generators, and :meth:`VoiceInfillPipeline.fill` fills the masked cells of a given piece
(Arrange: the three voices under the user's melody, or one voice to redraw).

How masked cells become tokens (:class:`VoiceInfillGenerationConfig`): a window at a time, each conditioned on the
bar before it as written, in ``iterations`` rounds (MaskGIT's schedule, Chang et al. 2022, the cheap cousin of
Coconet's annealed Gibbs sampling): every round draws a token for every masked cell, keeps the most confident share
(a cosine schedule: few at first, all at the last round) and masks the rest again, so later cells are drawn knowing
the earlier ones. Under a known top voice, a lower voice never strikes a pitch at or above the one sounding on top.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.models.device import resolve_device
from engine.models.registry import load_voice_infill
from engine.models.voice_infill import HIDDEN, VoiceInfillConfig, VoiceInfiller
from engine.music.chords import parse_progression
from engine.music.constants import HOLD, NUM_PITCH_TOKENS, REST, STEPS_PER_BAR_44, WINDOW_STEPS
from engine.music.errors import ChordSymbolError
from engine.music.harmony import progression_beat_chroma, sounding_pitches
from engine.music.multitrack import STYLES
from engine.paths import default_checkpoint
from engine.pipelines.base import GenerationConfig, seeded_generator
from engine.pipelines.style import Judge, StyleInputError, StyleModel, StyleOutput, load_judge


@dataclass(frozen=True)
class VoiceInfillGenerationConfig(GenerationConfig):
    """How masked cells become tokens (checkpoints/voice_infill/generation.json): ``iterations`` rounds per window,
    ``temperature`` and ``top_p`` for each draw, ``candidates`` pieces drawn at once for the draw and check."""

    temperature: float = 1.0
    top_p: float = 0.95
    iterations: int = 8
    candidates: int = 4


def tidy(tokens: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """Tokens (..., tracks, steps) with every HOLD that follows a rest (or opens the piece, or follows a resting
    ``before`` last step) made a REST: a held note needs a note to hold."""
    out = np.array(tokens, copy=True)
    sounding = sounding_pitches(out)
    for step in range(out.shape[-1]):
        held = out[..., step] == HOLD
        if step == 0:
            orphan = held if before is None else held & (before == REST)
        else:
            orphan = held & (sounding[..., step - 1] < 0)
        out[..., step][orphan] = REST
        if orphan.any() and step + 1 < out.shape[-1]:
            sounding = sounding_pitches(out)
    return out


class VoiceInfillPipeline(StyleModel):
    """The voice infiller + the style judge."""

    name = "Infill"

    def __init__(
        self,
        model: VoiceInfiller,
        judge: torch.nn.Module,
        styles: list[str],
        generation: VoiceInfillGenerationConfig | None = None,
    ):
        self.model, self.judge, self.styles = model.eval(), judge.eval(), list(styles)
        self.generation = generation or VoiceInfillGenerationConfig()

    @classmethod
    def from_pretrained(
        cls, path_or_name: str | Path | None = None, device: str | None = None, judge: str | Path | Judge | None = None
    ) -> VoiceInfillPipeline:
        """The infiller (default: the shipped one; "debug": tiny untrained models over the seven styles) with its
        ``generation.json``, and the style judge (see engine.pipelines.style.load_judge); their styles must agree."""
        resolved = resolve_device(device)
        if str(path_or_name) == "debug":
            torch.manual_seed(0)
            model = VoiceInfiller(VoiceInfillConfig.debug()).to(resolved)
            loaded = load_judge(judge if isinstance(judge, Judge) else "debug", device)
            return cls(model, loaded.model, list(STYLES), VoiceInfillGenerationConfig(iterations=2, candidates=2))
        path = default_checkpoint("voice_infill") if path_or_name is None else path_or_name
        model, meta = load_voice_infill(path, resolved)
        loaded = load_judge(judge, device)
        if meta["styles"] != loaded.styles:
            raise ValueError(f"the voice infiller knows {meta['styles']}, the judge {loaded.styles}")
        return cls(model, loaded.model, meta["styles"], VoiceInfillGenerationConfig.load(path))

    @property
    def device(self) -> torch.device:
        return self.model.position.device

    @torch.no_grad()
    def __call__(
        self,
        style: str,
        num_bars: int = 4,
        seed: int = 0,
        num_samples: int = 1,
        chords: str | None = None,
        generation: VoiceInfillGenerationConfig | None = None,
    ) -> StyleOutput:
        """``num_samples`` pieces of ``num_bars`` bars (even, 2..16) of four-part music in ``style``, every voice
        written by the infiller, over ``chords`` (Compose's syntax, or None); piece i drawn with seed + i, the best of
        ``candidates`` by the judge."""
        settings = generation or self.generation
        index, count = self.style_index(style), self._windows(num_bars)
        self._checks(seed, num_samples, settings.temperature)
        condition = np.zeros((count, 8, 12), dtype=np.float32)
        if chords is not None and str(chords).strip():
            try:
                progression = parse_progression(str(chords), int(num_bars), STEPS_PER_BAR_44)
            except ChordSymbolError as err:
                raise StyleInputError(str(err)) from None
            condition = progression_beat_chroma(progression, count)
        steps = count * WINDOW_STEPS
        known = np.full((4, steps), REST, dtype=np.int64)
        hidden = np.ones((4, steps), dtype=bool)
        pieces = []
        for s in range(int(num_samples)):
            drawn = self.fill(known, hidden, index, condition, int(seed) + s, settings)  # (chains, 4, steps)
            windows = torch.as_tensor(drawn).reshape(len(drawn), 4, count, WINDOW_STEPS).permute(0, 2, 1, 3)
            pieces.append(
                self._best_chain(windows.reshape(-1, 4, WINDOW_STEPS).to(self.device), len(drawn), count, index)
            )
        return StyleOutput(pieces, [int(seed) + s for s in range(int(num_samples))])

    @torch.no_grad()
    def fill(
        self,
        known: np.ndarray,
        hidden: np.ndarray,
        style: int,
        chords: np.ndarray,
        seed: int,
        settings: VoiceInfillGenerationConfig | None = None,
        chains: int | None = None,
        choose: Callable[[np.ndarray, int], int] | None = None,
    ) -> np.ndarray:
        """``chains`` pieces (chains, 4, steps) int64: ``known`` tokens where ``hidden`` is False, drawn cells where it
        is True. Both are (4, steps), the same for every chain (``chains`` default: ``candidates``), or (chains, 4,
        steps), one per chain. ``chords`` (windows, 8, 12) chroma per beat (zeros: none); steps a multiple of 32.
        A hidden cell of a lower track never strikes at or above the top track's sounding pitch where that is known
        (the first chain's top track, unhidden). ``choose(windows (chains, 4, 32), w) -> chain``: after each window
        every chain takes the chosen chain's window and goes on from it (a draw and check per window, not per piece).
        """
        settings = settings or self.generation
        if known.ndim == 2:
            chains = chains or max(1, int(settings.candidates))
            known = np.repeat(known[None], chains, axis=0)
            hidden = np.repeat(hidden[None], chains, axis=0)
        chains, _, steps = known.shape
        generator = seeded_generator(seed, self.device)
        styles = torch.full((chains,), int(style), dtype=torch.long, device=self.device)
        top = sounding_pitches(known[0, 0]) if not hidden[:, 0].any() else np.full(steps, -1)
        pieces = known.astype(np.int64).copy()
        previous = torch.full((chains, 4, WINDOW_STEPS), REST, dtype=torch.long, device=self.device)
        for w in range(steps // WINDOW_STEPS):
            span = slice(w * WINDOW_STEPS, (w + 1) * WINDOW_STEPS)
            if hidden[:, :, span].any():
                window = torch.as_tensor(pieces[:, :, span], device=self.device)
                mask = torch.as_tensor(hidden[:, :, span], device=self.device)
                condition = torch.as_tensor(chords[w], dtype=torch.float32, device=self.device)
                banned = _above_the_top(top[span], self.device)  # (4, 32, 130)
                drawn = self._fill_window(
                    window, mask, previous, condition[None].expand(chains, -1, -1), styles, banned, generator, settings
                )
                drawn_np = tidy(drawn.cpu().numpy(), previous[:, :, -1].cpu().numpy())
                pieces[:, :, span] = np.where(hidden[:, :, span], drawn_np, pieces[:, :, span])
                if choose is not None and chains > 1:
                    pieces[:, :, span] = pieces[choose(pieces[:, :, span], w), :, span][None]
            previous = torch.as_tensor(pieces[:, :, span], device=self.device)
        return pieces

    def _fill_window(
        self,
        window: torch.Tensor,
        mask: torch.Tensor,
        previous: torch.Tensor,
        chords: torch.Tensor,
        styles: torch.Tensor,
        banned: torch.Tensor,
        generator: torch.Generator,
        settings: VoiceInfillGenerationConfig,
    ) -> torch.Tensor:
        """One window (chains, 4, 32) with its masked cells (chains, 4, 32) drawn in ``iterations`` rounds."""
        tokens = window.masked_fill(mask, HIDDEN)
        open_cells = mask.clone()
        total = mask.reshape(len(mask), -1).sum(1)  # (chains,) cells to draw in each chain
        rounds = max(1, int(settings.iterations))
        for r in range(rounds):
            if not open_cells.any():
                break
            logits = self.model(tokens, previous, chords, styles).masked_fill(banned[None], float("-inf"))
            # Only the open cells are drawn (a repair opens a handful of the window's 512 cells).
            drawn = tokens.clone()
            confidence = torch.zeros(tokens.shape, device=tokens.device)
            drawn[open_cells], confidence[open_cells] = _draw(
                logits[open_cells], settings.temperature, settings.top_p, generator
            )
            # How many cells of each chain stay masked after round r (cosine schedule): none after the last round.
            share = math.cos(math.pi / 2 * (r + 1) / rounds) if r + 1 < rounds else 0.0
            still = torch.floor(total * share)
            # The least confident open cells are masked again; drawn ones and known ones rank last.
            confidence = confidence.masked_fill(~open_cells, float("inf")).reshape(len(tokens), -1)
            rank = confidence.argsort(dim=1).argsort(dim=1)
            remask = (rank < still[:, None]).reshape(open_cells.shape) & open_cells
            tokens = torch.where(open_cells & ~remask, drawn, tokens)
            open_cells = remask
        return tokens


def _draw(
    logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(a token per cell drawn from the nucleus of softmax(logits / temperature), its probability); shapes (..., 130)
    -> (...). Temperature 0 takes the most likely token."""
    if temperature <= 0:
        probs = torch.softmax(logits, dim=-1)
        best = probs.max(dim=-1)
        return best.indices, best.values
    probs = torch.softmax(logits / temperature, dim=-1)
    ordered, order = probs.sort(dim=-1, descending=True)
    outside = ordered.cumsum(-1) - ordered > top_p  # tokens past the nucleus (the first is always kept)
    ordered = ordered.masked_fill(outside, 0.0)
    flat = ordered.reshape(-1, ordered.shape[-1])
    picks = torch.multinomial(flat / flat.sum(-1, keepdim=True), 1, generator=generator)
    chosen = order.reshape(-1, order.shape[-1]).gather(1, picks).reshape(logits.shape[:-1])
    return chosen, probs.gather(-1, chosen[..., None])[..., 0]


def _above_the_top(top: np.ndarray, device: torch.device) -> torch.Tensor:
    """(4, steps, 130) bool: for the lower tracks, the pitch tokens at or above the top voice's sounding pitch."""
    banned = np.zeros((4, len(top), NUM_PITCH_TOKENS), dtype=bool)
    pitches = np.arange(HOLD)
    for step, pitch in enumerate(top):
        if pitch >= 0:
            banned[1:, step, :HOLD] = pitches >= pitch
    return torch.as_tensor(banned, device=device)
