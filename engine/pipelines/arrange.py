"""Arrange: the user's melody on top, note for note, and three lower voices in one of the seven styles.

``ArrangePipeline.from_pretrained(path | "debug")`` loads the voice infiller (the writer), the style GAN (its judge,
and the first design's writer) and the chord suggester; ``pipeline(melody, style, num_bars=None, seed=0,
num_samples=1, chords=None)`` returns an :class:`ArrangeOutput` whose ``samples`` are :class:`Arrangement` objects,
arrangement i drawn with seed ``seed + i``.

How (measured in the model cards and ``python -m engine.evaluate arrange``):

1. **Chords**: the ones given (text in Compose's syntax, or a ChordProgression on the melody's steps), else the
   suggester's most likely progression.
2. **Lower voices**, by the writer:

   * the **voice infiller** (engine.pipelines.voice_infill, Coconet-style): the melody is the known top voice, the
     three lower voices are masked and filled window by window over the chords, each window knowing the bar before
     it; a lower voice never strikes at or above the melody note sounding with it. ``candidates`` of its
     generation.json are drawn at once. In the styles of strict part-writing (:data:`STRICT_VOICE_LEADING`) the
     notes that make parallel fifths or octaves are then masked and drawn again, the rest known (``repairs``
     rounds; a chain keeps a redraw only when it has fewer faults).
   * the **style GAN** (for the styles of ``gan_styles``, English folk, and when no infiller is loaded): it writes the
     piece window by window over the chords, each window conditioned on the one before, and before it is used as the
     next window's condition, its top voice is replaced by the user's melody. ``candidates`` of
     :class:`ArrangeGenerationConfig` are drawn, each in two versions: the three lower voices moved together, window
     by window, by the octaves that leave the fewest notes at or above the melody, or not.
3. **Under the melody**: every note of a lower voice that would still sound at or above the melody note sounding
   with it (a held note under a melody that falls) moves down by octaves, so the melody stays the top voice.
4. **Draw and check**: the kept candidate has the most windows the style judge hears in the asked style (with the
   melody on top), then the fewest voice-leading faults (parallel fifths and octaves between any two voices, lower
   voices crossing above higher ones).

``voice``: redraw one lower voice (1, 2 or 3) of ``keep`` (an earlier arrangement), the others kept as they are.
Melodies in 4/4, 3/4, 6/8 and 2/4 (read as 4/4 bars of two 2/4 bars) are arranged: windows are 32 sixteenths whatever
the meter, as the style windows the models learnt from (in 3/4 a window spans two bars and two thirds); a pickup is
kept, preceded by rests to the bar line. The melody is tokens on the sixteenth grid: each note keeps its pitch, onset
and end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

import numpy as np
import torch

from engine.models.style_judge import StyleJudge
from engine.music import LeadSheet
from engine.music.chord_vocab import melody_key
from engine.music.chords import parse_progression
from engine.music.constants import STEPS_PER_BAR_44
from engine.music.errors import CadenzaInputError, ChordSymbolError
from engine.music.harmony import progression_beat_chroma
from engine.music.multitrack import voice_tokens
from engine.music.notes import Chord, ChordProgression, Melody
from engine.music.representation import REST
from engine.music.voice_leading import (
    lower_voices_under,
    parallel_notes,
    parallels_with,
    under_the_melody,
    voice_leading_faults,
)
from engine.pipelines.base import GenerationConfig, PipelineOutput, seeded_generator
from engine.pipelines.harmonize import HarmonizePipeline, melody_for_chords
from engine.pipelines.style import Judge
from engine.pipelines.style_gan import StyleGANPipeline
from engine.pipelines.voice_infill import VoiceInfillPipeline

WINDOW = 2 * STEPS_PER_BAR_44
# The styles whose part-writing avoids parallel fifths and octaves (the infiller's repairs run for these only: an
# English folk accompaniment of block chords moves in parallels by design, and so does much of the Trecento).
STRICT_VOICE_LEADING = ("Bach chorale", "Palestrina mass", "Monteverdi madrigal", "String quartet")


@dataclass(frozen=True)
class ArrangeGenerationConfig(GenerationConfig):
    """How arrangements are drawn: the style GAN's ``candidates`` chains for the draw and check (the GAN's own sampling
    settings are its generation.json's; the infiller's, its candidates included, are its own generation.json's), and
    ``repairs``, the infiller's rounds of drawing again the notes that make parallel fifths and octaves."""

    candidates: int = 8
    repairs: int = 4  # the infiller's rounds of drawing the notes in parallel fifths and octaves again
    repair_iterations: int = 1  # masking rounds per window in each of them (a few notes: drawn at once)
    # The infiller's draw and check per 2-bar window (every chain goes on from the window the judge hears most in
    # style, then the one with the fewest faults) rather than only per piece.
    window_choice: bool = True
    # The styles the GAN writes even with an infiller: English folk, whose accompaniment is block chords. On the 24
    # held-out Nottingham tunes the judge heard 0.84 of the GAN's windows as English folk, 0.59-0.63 of the infiller's
    # (real: 0.83); on the held-out chorales the infiller's Bach was heard 0.84 (GAN 0.70, real 0.86).
    gan_styles: tuple[str, ...] = ("English folk",)


@dataclass
class Arrangement:
    """A four-part arrangement: ``tokens`` (4, steps), track 0 the melody moved ``offset`` steps later (the rests
    before a pickup); the chords (on the melody's own steps) and the judge's verdict per 2-bar window."""

    tokens: np.ndarray
    style: str
    chords: ChordProgression
    verdicts: list[str]
    offset: int = 0
    parallels: int = 0  # parallel fifths and octaves between the melody and the lower voices
    time_signature: tuple[int, int] = (4, 4)  # the meter it is written in (2/4 melodies: 4/4)

    @property
    def steps_per_bar(self) -> int:
        num, den = self.time_signature
        return num * 16 // den

    @property
    def agreement(self) -> float:
        """The share of windows the judge hears in the asked style."""
        return sum(v == self.style for v in self.verdicts) / max(1, len(self.verdicts))


@dataclass
class ArrangeOutput(PipelineOutput[Arrangement]):
    """``samples``: one arrangement per seed."""

    key: str = "C"
    suggested: bool = field(default=False)  # whether the chords came from the suggester


METERS = ((4, 4), (3, 4), (6, 8))  # and 2/4, read as 4/4 bars of two 2/4 bars


def arrangeable(tune: Melody) -> Melody:
    """The melody in a meter Arrange writes (4/4, 3/4, 6/8; 2/4 bars paired into 4/4 bars); raises CadenzaInputError
    for other meters and for a melody that plays two notes at once."""
    num, den = tune.time_signature
    if (num, den) == (2, 4):
        tune = replace(tune, time_signature=(4, 4))
    elif (num, den) not in METERS:
        raise CadenzaInputError(
            f"Arrange writes in 4/4, 2/4, 3/4 and 6/8; this melody is in {num}/{den}: choose a melody in one of those"
        )
    notes = sorted(tune.notes, key=lambda n: (n.start, n.pitch))
    overlaps = sum(1 for a, b in zip(notes, notes[1:]) if b.start < a.end)
    if overlaps:
        raise CadenzaInputError(
            f"The melody plays several notes at once ({overlaps} overlapping notes): give a track with one note at a "
            "time (the tune, not its chords or accompaniment)"
        )
    return tune


def _progression(chords: str | ChordProgression, tune: Melody) -> ChordProgression:
    if isinstance(chords, ChordProgression):
        return chords
    if not isinstance(chords, str) or not chords.replace("|", " ").strip():
        raise CadenzaInputError("Chords must be text such as 'C G Am F' (or left out: then they are suggested)")
    bar = tune.steps_per_bar
    bars = -(-(tune.num_steps - tune.pickup_steps) // bar)
    try:
        progression = parse_progression(chords, bars, bar)
    except ChordSymbolError as err:
        raise CadenzaInputError(str(err)) from None
    return _shifted(progression, tune.pickup_steps)  # typed chords start at bar 1: after the pickup


def _shifted(progression: ChordProgression, steps: int) -> ChordProgression:
    """The progression ``steps`` later."""
    return ChordProgression(
        [Chord(c.symbol, c.start + steps, c.end + steps, c.pitch_classes, c.bass) for c in progression.chords]
    )


class ArrangePipeline:
    """The writer of the lower voices (the voice infiller, else the style GAN), the style judge and the chord
    suggester."""

    def __init__(
        self,
        gan: StyleGANPipeline,
        harmonizer: HarmonizePipeline,
        generation: ArrangeGenerationConfig | None = None,
        infiller: VoiceInfillPipeline | None = None,
    ):
        self.gan, self.harmonizer, self.infiller = gan, harmonizer, infiller
        self.generation = generation or ArrangeGenerationConfig()
        if infiller is not None and infiller.styles != gan.styles:
            raise ValueError(f"the voice infiller knows {infiller.styles}, the style GAN {gan.styles}")

    @classmethod
    def from_pretrained(
        cls,
        path_or_name: str | Path | None = None,
        device: str | None = None,
        harmonizer: str | Path | HarmonizePipeline | None = None,
        judge: str | Path | Judge | None = None,
        infiller: str | Path | VoiceInfillPipeline | None = None,
    ) -> ArrangePipeline:
        """The style GAN (default: the shipped one; "debug": tiny untrained models), the suggester (default: the
        shipped one, or "debug" with a debug GAN) and the voice infiller (default: the shipped one, or "debug" with a
        debug GAN; "" for none: the GAN writes)."""
        gan = StyleGANPipeline.from_pretrained(path_or_name, device, judge)
        debug = str(path_or_name) == "debug"
        if not isinstance(harmonizer, HarmonizePipeline):
            harmonizer = HarmonizePipeline.from_pretrained(harmonizer or ("debug" if debug else None), device)
        if infiller == "":
            infiller = None
        elif not isinstance(infiller, VoiceInfillPipeline):
            shared = Judge(cast(StyleJudge, gan.judge), gan.styles)
            infiller = VoiceInfillPipeline.from_pretrained(infiller or ("debug" if debug else None), device, shared)
        # Debug models: fewer candidates and repairs (an untrained infiller makes parallels everywhere).
        generation = ArrangeGenerationConfig(candidates=2, repairs=1) if debug else None
        return cls(gan, harmonizer, generation, infiller=infiller)

    @property
    def writer(self) -> str:
        """Who writes the lower voices of most styles: "infill" or "gan" (see :meth:`writer_for`)."""
        return "gan" if self.infiller is None else "infill"

    def writer_for(self, style: str) -> str:
        """Who writes the lower voices in ``style``: the infiller, except in the styles of ``gan_styles`` (and when
        there is none)."""
        if self.infiller is None or style in self.generation.gan_styles:
            return "gan"
        return "infill"

    @property
    def styles(self) -> list[str]:
        return self.gan.styles

    @property
    def device(self) -> torch.device:
        return self.gan.device

    def chords_for(
        self, melody: LeadSheet | Melody, chords: str | ChordProgression | None
    ) -> tuple[ChordProgression, bool]:
        """(the chords to arrange over, whether they were suggested)."""
        tune = arrangeable(melody_for_chords(melody))
        if chords is None or (isinstance(chords, str) and not chords.replace("|", " ").strip()):
            return self.harmonizer(tune).samples[0], True
        return _progression(chords, tune), False

    @torch.no_grad()
    def __call__(
        self,
        melody: LeadSheet | Melody,
        style: str,
        num_bars: int | None = None,
        seed: int = 0,
        num_samples: int = 1,
        chords: str | ChordProgression | None = None,
        voice: int | None = None,
        keep: Arrangement | None = None,
        generation: ArrangeGenerationConfig | None = None,
    ) -> ArrangeOutput:
        """Arrangements of a melody (see the module docstring)."""
        settings = generation or self.generation
        index = self.gan.style_index(style)
        tune = arrangeable(melody_for_chords(melody, num_bars))
        self.gan._checks(seed, num_samples, self.gan.generation.temperature)
        if voice is not None:
            if voice not in (1, 2, 3) or keep is None:
                raise CadenzaInputError("Redraw one of voices 1, 2 or 3 of an arrangement (voice 0 is the melody)")
            chords = keep.chords
        progression, suggested = self.chords_for(tune, chords)
        bar = tune.steps_per_bar
        offset = (bar - tune.pickup_steps % bar) % bar
        count = -(-(offset + tune.num_steps) // WINDOW)
        melody_row = voice_tokens([(n.start + offset, n.end + offset, n.pitch) for n in tune.notes], count * WINDOW)
        condition = torch.as_tensor(progression_beat_chroma(_shifted(progression, offset), count), device=self.device)
        samples = [
            self._draw(index, melody_row, condition, count, seed + i, settings, voice, keep) for i in range(num_samples)
        ]
        for sample in samples:
            sample.chords, sample.offset, sample.time_signature = progression, offset, tune.time_signature
        return ArrangeOutput(samples, [seed + i for i in range(num_samples)], melody_key(tune), suggested)

    def _draw(
        self,
        index: int,
        melody_row: np.ndarray,
        condition: torch.Tensor,
        count: int,
        seed: int,
        settings: ArrangeGenerationConfig,
        voice: int | None,
        keep: Arrangement | None,
    ) -> Arrangement:
        if self.writer_for(self.styles[index]) == "infill":
            pieces = self._infilled(index, melody_row, condition, seed, voice, keep)
        else:
            pieces = self._gan_drawn(index, melody_row, condition, count, seed, settings, voice, keep)
        return self._checked(pieces, index, melody_row, count)

    def _infilled(
        self,
        index: int,
        melody_row: np.ndarray,
        condition: torch.Tensor,
        seed: int,
        voice: int | None,
        keep: Arrangement | None,
    ) -> np.ndarray:
        """The infiller's candidates (chains, 4, steps), each lower voice under the melody."""
        assert self.infiller is not None
        known = np.full((4, len(melody_row)), REST, dtype=np.int64)
        known[0] = melody_row
        hidden = np.zeros(known.shape, dtype=bool)
        if keep is not None and voice is not None:
            known[1:] = keep.tokens[1:, : len(melody_row)]
            hidden[voice] = True
        else:
            hidden[1:] = True
        chords = condition.cpu().numpy()
        choose = self._window_chooser(index) if self.generation.window_choice else None
        drawn = self.infiller.fill(known, hidden, index, chords, seed, choose=choose)
        # Coconet's way of fixing a draw: the notes that make parallel fifths or octaves are masked and drawn again,
        # the rest of the piece known; a chain keeps a redraw only when it has fewer faults.
        free = (1, 2, 3) if voice is None else (voice,)
        rounds = self.generation.repairs if self.styles[index] in STRICT_VOICE_LEADING else 0
        repair = replace(self.infiller.generation, iterations=self.generation.repair_iterations)  # a few cells each
        for round_ in range(max(0, int(rounds))):
            masks = np.stack([parallel_notes(piece, free) for piece in drawn])
            if not masks.any():
                break
            redrawn = self.infiller.fill(drawn, masks, index, chords, seed + 7919 * (round_ + 1), repair)
            for chain, piece in enumerate(redrawn):
                if voice_leading_faults(piece) < voice_leading_faults(drawn[chain]):
                    drawn[chain] = piece
        for piece in drawn:
            for track in (1, 2, 3) if voice is None else (voice,):
                piece[track] = under_the_melody(piece[track], melody_row)
        return drawn

    def _window_chooser(self, index: int) -> Callable[[np.ndarray, int], int]:
        """The infiller's choice among its chains' windows (chains, 4, 32): heard in style ``index`` by the judge,
        then the fewest lower voices left silent (a silent voice makes no parallels: without this the choice favoured
        it, and a string quartet lost its second violin), then the fewest voice-leading faults, then the judge's
        probability of the style."""

        def choose(windows: np.ndarray, w: int) -> int:
            logits = self.gan.judge(torch.as_tensor(windows, device=self.device))
            verdicts = logits.argmax(1).tolist()
            likely = torch.softmax(logits, -1)[:, index].tolist()
            silent = [int((window[1:] == REST).all(axis=1).sum()) for window in windows]
            faults = [voice_leading_faults(window) for window in windows]
            return max(range(len(windows)), key=lambda c: (verdicts[c] == index, -silent[c], -faults[c], likely[c]))

        return choose

    def _gan_drawn(
        self,
        index: int,
        melody_row: np.ndarray,
        condition: torch.Tensor,
        count: int,
        seed: int,
        settings: ArrangeGenerationConfig,
        voice: int | None,
        keep: Arrangement | None,
    ) -> np.ndarray:
        """The style GAN's candidates (2 * chains, 4, steps) in their two versions under the melody."""
        chains = max(1, int(settings.candidates))
        generator = seeded_generator(seed, self.device)
        styles = torch.full((chains,), index, dtype=torch.long, device=self.device)
        chords = condition[None].expand(chains, -1, -1, -1)
        melody = torch.as_tensor(melody_row, device=self.device)
        previous, windows = None, []
        for w in range(count):
            drawn = self.gan.generator.generate(
                styles, chords[:, w], previous, generator=generator, **self.gan.generation.sampling()
            )  # (chains, 4, 32)
            drawn[:, 0] = melody[w * WINDOW : (w + 1) * WINDOW]  # the user's melody on top, as the next one hears it
            if keep is not None and voice is not None:
                kept = torch.as_tensor(keep.tokens[:, w * WINDOW : (w + 1) * WINDOW], device=self.device)
                for track in range(1, 4):
                    if track != voice:
                        drawn[:, track] = kept[track]
            windows.append(drawn)
            previous = drawn
        drawn_pieces = torch.cat(windows, dim=2).cpu().numpy()  # (chains, 4, steps)
        # Two ways under the melody for every chain: each note alone, or the three voices together first (keeps
        # their order; the kept voices of a redraw are in place already, so it only moves the redrawn one)
        variants = []
        for chain in range(chains):
            for together in (False, True) if voice is None else (False,):
                piece = lower_voices_under(drawn_pieces[chain], melody_row) if together else drawn_pieces[chain].copy()
                for track in (1, 2, 3) if voice is None else (voice,):
                    piece[track] = under_the_melody(piece[track], melody_row)
                variants.append(piece)
        return np.stack(variants)

    def _checked(self, pieces: np.ndarray, index: int, melody_row: np.ndarray, count: int) -> Arrangement:
        """Draw and check: the candidate (of pieces (total, 4, steps)) the judge hears most in style, then the one with
        the fewest voice-leading faults."""
        total = len(pieces)
        tensor = torch.as_tensor(pieces, device=self.device)
        judged = tensor.reshape(total, 4, count, WINDOW).permute(0, 2, 1, 3).reshape(total * count, 4, WINDOW)
        verdicts = self.gan.judge(judged).argmax(1).reshape(total, count)
        in_style = (verdicts == index).sum(1).tolist()
        faults = [voice_leading_faults(piece) for piece in pieces]
        best = max(range(total), key=lambda c: (in_style[c], -faults[c], -c))
        parallels = sum(parallels_with(melody_row, pieces[best, t]) for t in range(1, 4))
        return Arrangement(
            pieces[best],
            self.styles[index],
            ChordProgression([]),
            [self.styles[i] for i in verdicts[best].tolist()],
            parallels=parallels,
        )
