"""Style, the GAN way: four-part music from the style GAN's generator (engine.models.style_gan), judged by the same
style judge as MusAE's pieces (inference only).

``pipeline(style, num_bars, seed, num_samples, chords=...)`` writes ``num_bars / 2`` windows of 2 bars, each
conditioned on the one before (the generator's previous-window condition: the first window has none), so the piece is
one chain rather than independent windows. ``chords`` is an optional progression in Compose's syntax ("C G Am F": one
chord per bar, repeated to fill the bars; "C Am | F G": bars split by "|"; "N.C." for none) parsed with
engine.music.chords and given to the generator as chroma per beat; without chords (None or blank) the generator
harmonises each window itself (a sketch, the triads that fit it, a second draw over them: StyleGenerator.generate).

Draw and check, as for MusAE (engine.pipelines.style): ``candidates`` chains are generated at once and the one with
the most windows the judge hears in the asked style is kept (the first on a tie); ``check=False`` keeps the first
draw. Pieces are :class:`engine.pipelines.style.StylePiece` objects, so the studio and the CLI treat both generators
alike. How logits become tokens is :class:`StyleGANGenerationConfig` (the checkpoint's ``generation.json``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.models.device import resolve_device
from engine.models.registry import load_stylegan
from engine.models.style_gan import StyleGANConfig, StyleGenerator
from engine.music.chords import parse_progression
from engine.music.constants import STEPS_PER_BAR_44
from engine.music.errors import CadenzaInputError, ChordSymbolError
from engine.music.harmony import progression_beat_chroma
from engine.music.multitrack import STYLES
from engine.paths import default_checkpoint
from engine.pipelines.base import GenerationConfig, seeded_generator
from engine.pipelines.style import Judge, StyleInputError, StyleModel, StyleOutput, StylePiece, load_judge


@dataclass(frozen=True)
class StyleGANGenerationConfig(GenerationConfig):
    """How the style GAN's logits become tokens (checkpoints/stylegan/generation.json).

    * ``temperature`` 1.0: the generator is trained on straight-through Gumbel samples of its categoricals, so its
      samples, not the most likely token per step, are what the critic judged. Measured on 64 held-out windows per
      style after 2,400 steps: the judge's balanced accuracy 0.60 at temperature 0 (argmax), 0.77 at 0.7, 0.83 at 1.0;
      at 0 every track held one or two notes per bar (1.0-1.8 pitch classes per bar, real 1.5-4.7).
    * ``top_p`` 0.9, the nucleus only (Holtzman et al. 2020): at 1.0, the tail of 130 tokens gave 6% of onsets outside
      the real onsets' 0.5-99.5 percentile range (MIDI 38-88; a B-1 under an English folk tune, a G9 in a chorale).
      Measured on 64 held-out conditions per style (epoch 33): top_p 1.0 / 0.95 / 0.9 / 0.8 -> 6.0 / 2.6 / 1.5 / 0.6%
      such onsets, judge 0.92 / 0.93 / 0.94 / 0.94, chord-tone share over triads 0.75 / 0.78 / 0.81 / 0.88 (real 0.72).
    * ``repeat_penalty`` 1.5 on a track's logit for the pitch it just struck. Each step draws its pitch on its own, and
      neighbouring steps' distributions peak on the same pitch, so the GAN struck the same pitch again far more often
      than real voices do. Measured at epoch 84 on training windows (300 a style, seeds the evaluation does not use):
      penalty 0 / 1 / 2 / 4 -> top voice repeating its last pitch 29 / 12 / 4 / 0% of its intervals (real 9-30% by
      style, mean 16%), moving by step 35 / 43 / 47 / 48% (real 50-74%), judge 0.930 / 0.920 / 0.919 / 0.922, MuseGAN's
      figures within 25% 0.817 / 0.826 / 0.826 / 0.826.
    * ``leap_penalty`` 0.5 per semitone beyond a whole tone from the top voice's last pitch (up to ``leap_cap``
      semitones beyond): its steps' distributions know the harmony but not the line, so its tunes leapt in arpeggios.
      ``key_penalty`` 0.75 on every track's pitches outside the window's key (the diatonic scale holding most of the
      sketch, or of the chords given) and outside the chord sounding at that step: the nucleus still let through
      clashes like G#4 over a D chord in an English folk tune. Measured at epoch 82 on training windows (1,000 real a
      style against 300 samples a style, seeds 1000 and 2000; the evaluation's held-out windows and seeds not used):
      repeat 1.0, no leap or key penalty -> repeat 1.5, leap 0.5, key 0.75: top voice by step 0.41 / 0.41 -> 0.57 /
      0.57 (real 0.60 / 0.61), repeats 0.12 / 0.12 -> 0.14 / 0.14 (real 0.15 / 0.14), onsets in the key 0.92 / 0.92 ->
      0.97 / 0.97 (real 0.97 / 0.97), MuseGAN's figures within 25% 0.899 / 0.890 -> 0.908 / 0.890, judge 0.921 / 0.913
      -> 0.906 / 0.904. Key 1.0 alone: onsets in the key 0.98 but the top voice by step 0.35 (chord tones took the
      mass).
    * ``gate_drawn`` False: a bar rests whole (the rest gate, where a generator has one; the shipped one has none)
      where the gate gives it over even odds, not with the gate's chance: drawn, a chance of 0.2-1% still rested some
      bars of voices that never rest a whole bar (Bach chorales, English folk tunes). Epochs 89 / 92 / 95 of the gated
      run (training windows, 300 a style, seed 1000): MuseGAN's figures within 25% drawn 0.780 / 0.817 / 0.826, over
      even odds 0.853 / 0.844 / 0.835; judge 0.919 / 0.924 / 0.947 against 0.944 / 0.953 / 0.958.
    * ``bass_on_chords`` True: over typed chords, the lowest voice strikes a tone of each bar's chord on the bar's
      first step (a decoding constraint: the generator's chord input is per beat, but its bass often held the last
      bar's note across the bar line and moved half a bar late).
      Measured on the shipped generator: over G D Em C, C Am F G and Dm G C A7 (8 bars, six styles with a bass,
      3 seeds, first draws) the bass on the bar's chord where it first sounds in a bar 0.856 -> 1.0, the judge's
      agreement 0.913 -> 0.897; the style evaluation over the triads fitted to held-out windows: 0.822 -> 1.0 (real
      0.832), chord-tone share of all onsets 0.799 -> 0.809 (real 0.728).
    * ``candidates``: chains drawn for the draw and check.
    """

    temperature: float = 1.0
    top_p: float = 0.9
    repeat_penalty: float = 1.5
    leap_penalty: float = 0.5
    leap_cap: int = 10
    key_penalty: float = 0.75
    gate_drawn: bool = False
    bass_on_chords: bool = True
    candidates: int = 8

    def sampling(self) -> dict[str, Any]:
        """The generator's sampling arguments (StyleGenerator.generate / generate_chain), temperature included."""
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "repeat_penalty": self.repeat_penalty,
            "leap_penalty": self.leap_penalty,
            "key_penalty": self.key_penalty,
            "leap_cap": self.leap_cap,
            "gate_drawn": self.gate_drawn,
            "bass_on_chords": self.bass_on_chords,
        }


class StyleGANPipeline(StyleModel):
    """The style GAN's generator + the style judge."""

    name = "GAN"

    def __init__(
        self,
        generator: StyleGenerator,
        judge: torch.nn.Module,
        styles: list[str],
        generation: StyleGANGenerationConfig | None = None,
    ):
        if generator.config.num_styles != len(styles):
            raise ValueError(f"the generator has {generator.config.num_styles} styles, the names {len(styles)}")
        self.generator, self.judge, self.styles = generator.eval(), judge.eval(), list(styles)
        self.generation = generation or StyleGANGenerationConfig()

    @classmethod
    def from_pretrained(
        cls, path_or_name: str | Path | None = None, device: str | None = None, judge: str | Path | Judge | None = None
    ) -> StyleGANPipeline:
        """The generator (default: the shipped one; "debug": a tiny untrained one over the seven styles, with a tiny
        judge unless ``judge`` is one already loaded) with its ``generation.json``, and the judge (``judge``: see
        engine.pipelines.style.load_judge); their styles must be the same, in the same order."""
        resolved = resolve_device(device)
        if str(path_or_name) == "debug":
            torch.manual_seed(0)
            generator = StyleGenerator(StyleGANConfig.debug(len(STYLES))).to(resolved)
            debug_judge = judge if isinstance(judge, Judge) and judge.styles == list(STYLES) else None
            loaded = debug_judge or load_judge("debug", device)
            return cls(generator, loaded.model, list(STYLES))
        path = default_checkpoint("stylegan") if path_or_name is None else path_or_name
        generator, meta = load_stylegan(path, resolved)
        loaded = load_judge(judge, device)
        if list(meta.get("styles", [])) != loaded.styles:
            raise ValueError(f"the style GAN knows {meta.get('styles')}, the judge {loaded.styles}")
        return cls(generator, loaded.model, meta["styles"], StyleGANGenerationConfig.load(path))

    @property
    def device(self) -> torch.device:
        return self.generator.style.weight.device

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
            progression = parse_progression(chords, int(bars), STEPS_PER_BAR_44)
        except ChordSymbolError as err:  # already names the symbol; raised as the pipeline's own kind
            raise StyleInputError(str(err)) from None
        return torch.as_tensor(progression_beat_chroma(progression, int(bars) // 2))

    def __call__(
        self,
        style: str,
        num_bars: int = 4,
        seed: int = 0,
        num_samples: int = 1,
        temperature: float | None = None,
        chords: str | None = None,
        check: bool = True,
        generation: StyleGANGenerationConfig | None = None,
    ) -> StyleOutput:
        """``num_samples`` pieces of ``num_bars`` bars (even, 2..16) of four-part music in ``style`` over ``chords``
        (a progression such as "C G Am F", or None), piece i drawn with seed + i; ``temperature`` (None: the
        generation config's) and ``generation`` override the settings. ``check``: draw and check (see the module)."""
        request = StyleGANRequest(style, num_bars, seed, num_samples, temperature, chords, check, generation)
        result = self.run_many([request])[0]
        if isinstance(result, CadenzaInputError):
            raise result
        return result

    @torch.no_grad()
    def run_many(self, requests: Sequence[StyleGANRequest]) -> list[StyleOutput | CadenzaInputError]:
        """Several calls as one batch: pieces of the same length, settings and kind of condition (chords given or
        not) are drawn together, any styles and chords, each chain from its own seed's generator, so each request
        gets exactly the pieces it would get alone. A request with bad input gets its own error in its place."""
        draws: list[tuple[int, _Draw]] = []  # (request index, one piece to draw)
        outputs: list[StyleOutput | CadenzaInputError | None] = [None] * len(requests)
        for number, request in enumerate(requests):
            try:
                settings = (request.generation or self.generation).override(temperature=request.temperature)
                index, count = self.style_index(request.style), self._windows(request.num_bars)
                condition = self.chord_condition(request.chords, int(request.num_bars))
                self._checks(request.seed, request.num_samples, settings.temperature)
            except CadenzaInputError as err:
                outputs[number] = err
                continue
            for i in range(int(request.num_samples)):
                chains = settings.candidates if request.check else 1
                draws.append((number, _Draw(index, count, condition, int(request.seed) + i, settings, chains)))
        groups: dict[tuple, list[int]] = {}
        for position, (_, draw) in enumerate(draws):
            groups.setdefault((draw.count, draw.condition is None, draw.settings), []).append(position)
        pieces: dict[int, StylePiece] = {}
        for positions in groups.values():
            together = [draws[p][1] for p in positions]
            for position, piece in zip(positions, self._sample_together(together)):
                pieces[position] = piece
        for number, request in enumerate(requests):
            if outputs[number] is None:
                mine = [pieces[p] for p, (owner, _) in enumerate(draws) if owner == number]
                outputs[number] = StyleOutput(mine, [int(request.seed) + i for i in range(len(mine))])
        return [out for out in outputs if out is not None]

    def _sample_together(self, draws: Sequence[_Draw]) -> list[StylePiece]:
        """Pieces of one length, settings and kind of condition: every draw's chains in one batch."""
        first = draws[0]
        styles = torch.cat([torch.full((d.chains,), d.index, dtype=torch.long) for d in draws]).to(self.device)
        condition = None
        if first.condition is not None:  # every candidate of a piece over its chords
            given = [(d.condition, d.chains) for d in draws if d.condition is not None]  # all, by the group key
            condition = torch.cat([c[None].expand(n, -1, -1, -1) for c, n in given]).to(self.device)
        generators = [(seeded_generator(d.seed, self.device), d.chains) for d in draws]
        tokens = self.generator.generate_chain(
            styles,
            first.count,
            condition,
            None,
            generator=generators[0][0] if len(draws) == 1 else generators,
            **first.settings.sampling(),
        )  # (all chains, 4, 32 * count)
        pieces, start = [], 0
        for draw in draws:
            mine = tokens[start : start + draw.chains]
            start += draw.chains
            # Chain-major windows (chains * count, 4, 32), as the judge and the draw-and-check choice read them.
            windows = (
                mine.reshape(draw.chains, mine.shape[1], draw.count, -1)
                .permute(0, 2, 1, 3)
                .reshape(draw.chains * draw.count, mine.shape[1], -1)
            )
            pieces.append(self._best_chain(windows.to(self.device), draw.chains, draw.count, draw.index))
        return pieces


@dataclass(frozen=True)
class StyleGANRequest:
    """The arguments of one :class:`StyleGANPipeline` call, so several can run as one batch (``run_many``)."""

    style: str
    num_bars: int = 4
    seed: int = 0
    num_samples: int = 1
    temperature: float | None = None
    chords: str | None = None
    check: bool = True
    generation: StyleGANGenerationConfig | None = None


@dataclass(frozen=True)
class _Draw:
    """One piece to draw: style ``index``, ``count`` windows, the chords' chroma (count, 8, 12) or None, its seed."""

    index: int
    count: int
    condition: torch.Tensor | None
    seed: int
    settings: StyleGANGenerationConfig
    chains: int
