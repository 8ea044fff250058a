"""Chords for a user's melody: the chord suggester behind Arrange and ``python -m engine.generate harmonize``.

``HarmonizePipeline.from_pretrained(path | "debug")`` loads the suggester (engine.models.harmonizer);
``pipeline(melody, num_bars=None, seed=0, num_samples=1, key=None)`` returns a :class:`HarmonizeOutput`:
``samples[0]`` is the most likely progression (each slot's most likely chord), ``samples[i]`` for i >= 1 a seeded
alternative drawn at ``temperature`` with seed ``seed + i``; ``choices`` lists, slot by slot, the
``alternatives`` most likely chords with their probabilities (what the page offers to click). The melody's key is
its own when it names one, else estimated from its notes (``key`` overrides).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.models.device import resolve_device
from engine.models.harmonizer import ChordSuggester, HarmonizerConfig
from engine.models.registry import load_harmonizer
from engine.music import LeadSheet
from engine.music.chord_vocab import (
    Slot,
    chord_slots,
    class_to_symbol,
    classes_to_progression,
    melody_key,
    slot_features,
)
from engine.music.errors import CadenzaInputError
from engine.music.limits import CHORD_ALTERNATIVES, HARMONIZE_BARS, SEED, TEMPERATURE, VARIATIONS
from engine.music.notes import ChordProgression, Melody
from engine.paths import default_checkpoint
from engine.pipelines.base import GenerationConfig, PipelineOutput, seeded_generator


@dataclass(frozen=True)
class HarmonizeGenerationConfig(GenerationConfig):
    """How the suggester's alternatives are drawn (checkpoints/harmonizer/generation.json): ``temperature`` for the
    seeded progressions, ``alternatives`` chords offered per slot."""

    temperature: float = 0.8
    alternatives: int = 3


@dataclass(frozen=True)
class SlotChoice:
    """One chord slot (steps ``start``..``end``, its bar, -1 for a pickup) and its most likely chords, best first,
    as (symbol, probability)."""

    start: int
    end: int
    bar: int
    options: tuple[tuple[str, float], ...]


@dataclass
class HarmonizeOutput(PipelineOutput[ChordProgression]):
    """``samples``: progressions (the most likely first); ``key`` the key they are spelled in; ``choices`` per slot."""

    key: str = "C"
    choices: list[SlotChoice] = field(default_factory=list)


def melody_for_chords(melody: LeadSheet | Melody, num_bars: int | None = None) -> Melody:
    """The melody the suggester reads: the whole tune, or its first ``num_bars`` bars (after a pickup); raises
    CadenzaInputError for a melody without notes or over HARMONIZE_BARS bars."""
    tune = melody.melody if isinstance(melody, LeadSheet) else melody
    if not isinstance(tune, Melody):
        raise CadenzaInputError(f"A melody is needed, got {type(melody).__name__}")
    if not tune.notes:
        raise CadenzaInputError("The melody has no notes: there is nothing to put chords under")
    spb = max(1, tune.steps_per_bar)
    bars = -(-(tune.num_steps - tune.pickup_steps) // spb)
    if num_bars is not None:
        num_bars = HARMONIZE_BARS.check("Bars", num_bars)
        if num_bars < bars:
            tune = tune.cropped(0, tune.pickup_steps + num_bars * spb)
            bars = num_bars
    if bars > HARMONIZE_BARS.high:
        raise CadenzaInputError(
            f"The melody has {bars} bars; chords are suggested for at most {HARMONIZE_BARS.high} bars at a time "
            "(choose the bars to use)"
        )
    return tune


def progression_bars(progression: ChordProgression, tune: Melody) -> list[list[str]]:
    """The chords of each bar from bar 1 (after a pickup), as Compose's chord box reads them: the symbols sounding in
    the bar in order, a chord held on written once, "N.C." for a bar without any."""
    spb = max(1, tune.steps_per_bar)
    bars = []
    for start in range(tune.pickup_steps, tune.num_steps, spb):
        symbols = [c.symbol for c in progression.chords if c.start < start + spb and c.end > start]
        bars.append([s for i, s in enumerate(symbols) if i == 0 or s != symbols[i - 1]] or ["N.C."])
    return bars


class HarmonizePipeline:
    """The chord suggester with its sampling settings."""

    def __init__(self, model: ChordSuggester, generation: HarmonizeGenerationConfig | None = None):
        self.model = model.eval()
        self.generation = generation or HarmonizeGenerationConfig()

    @classmethod
    def from_pretrained(cls, path_or_name: str | Path | None = None, device: str | None = None) -> HarmonizePipeline:
        """The shipped suggester (checkpoints/harmonizer), another folder, or "debug" (tiny, untrained)."""
        resolved = resolve_device(device)
        if str(path_or_name) == "debug":
            torch.manual_seed(0)
            return cls(ChordSuggester(HarmonizerConfig.debug()).to(resolved))
        path = default_checkpoint("harmonizer") if path_or_name is None else path_or_name
        model, _ = load_harmonizer(path, resolved)
        return cls(model, HarmonizeGenerationConfig.load(path))

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.no_grad()
    def probabilities(self, tune: Melody, key: str, slots: list[Slot]) -> torch.Tensor:
        """(S, num_classes) chord probabilities of the melody's slots."""
        features = torch.as_tensor(slot_features(tune, key, slots), device=self.device).unsqueeze(0)
        logits = self.model(features, torch.tensor([len(slots)]))[0]
        return torch.softmax(logits.float(), dim=-1)

    @torch.no_grad()
    def __call__(
        self,
        melody: LeadSheet | Melody,
        num_bars: int | None = None,
        seed: int = 0,
        num_samples: int = 1,
        key: str | None = None,
        temperature: float | None = None,
        alternatives: int | None = None,
        generation: HarmonizeGenerationConfig | None = None,
    ) -> HarmonizeOutput:
        """Chord progressions for a melody (see the module docstring)."""
        settings = (generation or self.generation).override(temperature=temperature, alternatives=alternatives)
        seed = SEED.check("Seed", seed)
        num_samples = VARIATIONS.check("Number of progressions", num_samples)
        temp = TEMPERATURE.check("Temperature", settings.temperature)
        top = CHORD_ALTERNATIVES.check("Alternatives", settings.alternatives)
        tune = melody_for_chords(melody, num_bars)
        key = melody_key(tune, key)
        slots = chord_slots(tune)
        probs = self.probabilities(tune, key, slots)
        samples = [classes_to_progression(probs.argmax(-1).tolist(), slots, key)]
        for index in range(1, num_samples):
            generator = seeded_generator(seed + index, probs.device)
            if temp <= 0:
                drawn = probs.argmax(-1)
            else:
                tempered = torch.softmax(torch.log(probs.clamp_min(1e-12)) / temp, dim=-1)
                drawn = torch.multinomial(tempered, 1, generator=generator).squeeze(-1)
            samples.append(classes_to_progression(drawn.tolist(), slots, key))
        choices = []
        for slot, row in zip(slots, probs):
            values, classes = row.topk(top)
            options = tuple((class_to_symbol(int(c), key), round(float(v), 4)) for v, c in zip(values, classes))
            choices.append(SlotChoice(slot.start, slot.end, slot.bar, options))
        return HarmonizeOutput(samples, [seed + i for i in range(num_samples)], key, choices)
