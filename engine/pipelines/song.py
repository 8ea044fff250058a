"""Whole tunes from the latent sequence model: new songs, continuations and infills.

A tune is a run of 2-bar *blocks* (EC2-VAE windows of 32 sixteenth steps, 4/4), at most 16
(32 bars). :class:`SongModel` owns the shipped EC2-VAE and the latent sequence model
(engine.models.latent) and does the shared work: encode a tune's blocks, build the chord
conditions (chroma and chord functions per beat), fill the unknown latents one block at a
time, and decode them under the studio's controls (engine.pipelines.decoding). The three
pipelines are its verbs, each with one ``__call__`` and Compose's argument names
(``chords``, ``num_bars``, ``key``, ``rhythm``, ``tempo_bpm``, ``seed``, ``temperature``,
``num_samples``; variation i uses seed + i):

* :class:`SongPipeline`: a chord progression (optional rhythm, optional chord functions)
  -> 8..32 bars from nothing;
* :class:`ContinuePipeline`: a tune -> the same tune with ``num_bars`` more bars;
* :class:`InfillPipeline`: a tune and block indices -> the same tune with those blocks
  rewritten to join both neighbours. Every other block comes back note for note.

``temperature`` scales the latent model's sampling (0: its most likely latents; default
0.5); the decoder then decodes greedily, so a latent means one melody, with a small bonus
for chord tones and a penalty on repeating the previous pitch (the latent model's
``generation.json``: engine.pipelines.decoding.LatentGenerationConfig). Of ``candidates`` samples per
variation, the one that joins its neighbours with the smallest leaps is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar, cast

import numpy as np
import torch

from engine.music import Chord, ChordProgression, LeadSheet, Melody
from engine.music.chords import parse_progression
from engine.music.constants import REST, SILENCE, STEPS_PER_BAR_44, WINDOW_STEPS
from engine.music.limits import SEED, SONG_BARS, TEMPERATURE, TEMPO_BPM, VARIATIONS
from engine.music.representation import (
    tokens_to_notes,
    tokens_to_rhythm,
)
from engine.music.tonality import estimate_key, parse_functions, scale_pitch_classes
from engine.paths import default_checkpoint
from engine.pipelines.base import PipelineOutput, seeded_generator
from engine.pipelines.decoding import DecodeControls, LatentGenerationConfig
from engine.pipelines.song_model import (
    BARS_PER_BLOCK,
    MAX_BLOCKS,
    MAX_SONG_BARS,
    SongInputError,
    SongJob,
    SongModel,
    TuneLatents,
    _check,
    block_count,
    blocks_for_bars,
    check_tune,
    rhythm_classes,
)


@dataclass
class SongOutput(PipelineOutput[LeadSheet]):
    """``samples``: one tune per variation (seed ``seeds[i]``); ``blocks``: the blocks written (new or rewritten),
    counted from 0."""

    blocks: list[int] = field(default_factory=list)


def _range_of(sheet: LeadSheet, margin: int = 4) -> tuple[int, int]:
    """The tune's own pitch range widened by ``margin``, at least an octave and a half, within 36..96."""
    pitches = [n.pitch for n in sheet.melody.notes]
    if not pitches:
        return (55, 88)
    low, high = max(36, min(pitches) - margin), min(96, max(pitches) + margin)
    if high - low < 18:
        middle = (low + high) // 2
        low, high = max(36, middle - 9), min(96, middle + 9)
    return low, high


def _sheet(
    tokens: np.ndarray,
    progression: ChordProgression,
    key: str,
    tempo: float,
    title: str,
    time_signature: tuple[int, int] = (4, 4),
) -> LeadSheet:
    flat = np.asarray(tokens).reshape(-1)
    # tuple(): a list (as JSON gives) becomes a tuple; typeshed types tuple() of a pair as tuple[int, ...]
    meter = cast(tuple[int, int], tuple(time_signature))
    melody = Melody(tokens_to_notes(flat), len(flat), float(tempo), meter, 0, key)
    return LeadSheet(melody, progression, title)


def _checks_common(seed: object, temperature: object, num_samples: object) -> None:
    SEED.check("Seed", seed, SongInputError)
    TEMPERATURE.check("Temperature", temperature, SongInputError)
    VARIATIONS.check("Variations", num_samples, SongInputError)


P = TypeVar("P", bound="_SongPipelineBase")


class _SongPipelineBase:
    def __init__(self, model: SongModel, generation: LatentGenerationConfig | None = None):
        self.model = model
        self.generation = generation or LatentGenerationConfig()

    @classmethod
    def from_pretrained(
        cls: type[P], path_or_name: str | Path | None = None, device: str | None = None, vae: str | Path | None = None
    ) -> P:
        """Load the latent sequence model (default: the shipped one; "debug" for tiny untrained models) with the
        EC2-VAE it belongs to (``vae``, default: the shipped one) and its ``generation.json``."""
        latent = default_checkpoint("latent") if path_or_name is None else path_or_name
        model = SongModel.from_pretrained(vae, latent, device)
        generation = LatentGenerationConfig() if str(latent) == "debug" else LatentGenerationConfig.load(latent)
        return cls(model, generation)

    @property
    def device(self) -> torch.device:
        return self.model.device

    def _settings(self, temperature: float | None, generation: LatentGenerationConfig | None) -> LatentGenerationConfig:
        return (generation or self.generation).override(temperature=temperature)

    def _draw(
        self,
        base: TuneLatents,
        targets: Sequence[int],
        pattern: np.ndarray,
        known_pattern: np.ndarray,
        known_rhythm: np.ndarray,
        functions: np.ndarray,
        controls: DecodeControls,
        settings: LatentGenerationConfig,
        order: str,
        seed: int,
        num_samples: int,
    ) -> list[np.ndarray]:
        """Tokens (W, 32) of ``num_samples`` variations, variation i from seed + i: drawn together in one batch
        (SongModel.generate_many), each what it would be alone."""
        job = SongJob(
            base,
            targets,
            pattern,
            known_pattern,
            known_rhythm,
            functions,
            controls,
            seeded_generator(seed, self.device),
            float(settings.temperature),
            order,
            settings.decode_temperature,
            settings.candidates,
        )
        jobs = [replace(job, generator=seeded_generator(seed + i, self.device)) for i in range(int(num_samples))]
        return self.model.generate_many(jobs)


class SongPipeline(_SongPipelineBase):
    """A chord progression (and optionally a rhythm and chord functions) -> a new tune of 8..32 bars."""

    @torch.no_grad()
    def __call__(
        self,
        chords: str,
        num_bars: int = 16,
        key: str = "C",
        rhythm: str | None = None,
        functions: str | None = None,
        tempo_bpm: float = 120.0,
        seed: int = 0,
        temperature: float | None = None,
        num_samples: int = 1,
        generation: LatentGenerationConfig | None = None,
    ) -> SongOutput:
        """``rhythm``: a step-grid pattern for every bar (repeats to fill), or None for the model's own;
        ``functions``: "T S D T" (one per bar, repeats), or None to derive them from the chords in ``key``."""
        settings = self._settings(temperature, generation)
        SONG_BARS.check("Bars", num_bars, SongInputError)
        if int(num_bars) % BARS_PER_BLOCK:
            raise SongInputError(f"Bars must be even (whole 2-bar blocks), got {int(num_bars)}")
        TEMPO_BPM.check("Tempo (BPM)", tempo_bpm, SongInputError)
        _checks_common(seed, settings.temperature, num_samples)
        num_bars, seed = int(num_bars), int(seed)
        scale = scale_pitch_classes(key)  # checks the key
        progression = parse_progression(chords, num_bars, STEPS_PER_BAR_44)
        per_bar = parse_functions(functions, num_bars) if functions and functions.strip() else None
        blocks = num_bars // BARS_PER_BLOCK
        steps = blocks * WINDOW_STEPS
        zeros = torch.zeros(blocks, self.model.vae.config.z_pitch), torch.zeros(blocks, self.model.vae.config.z_rhythm)
        base = TuneLatents(
            np.full((blocks, WINDOW_STEPS), REST, np.int64),
            progression.chroma(steps).reshape(blocks, WINDOW_STEPS, 12),
            *zeros,
        )
        if rhythm is not None and str(rhythm).strip():
            pattern = rhythm_classes(rhythm, num_bars).reshape(blocks, WINDOW_STEPS)
            known_pattern = np.ones(blocks, bool)
        else:
            pattern, known_pattern = np.full((blocks, WINDOW_STEPS), SILENCE), np.zeros(blocks, bool)
        fn = self.model.functions(progression, key, blocks, per_bar)
        controls = settings.controls(scale)
        sheets = []
        drawn = self._draw(
            base,
            range(blocks),
            pattern,
            known_pattern,
            np.zeros(blocks, bool),
            fn,
            controls,
            settings,
            "left_to_right",
            seed,
            num_samples,
        )
        for i, tokens in enumerate(drawn):
            sheets.append(_sheet(tokens, progression, key, tempo_bpm, f"Song {i + 1} (seed {seed + i})"))
        return SongOutput(sheets, [seed + i for i in range(int(num_samples))], list(range(blocks)))


class ContinuePipeline(_SongPipelineBase):
    """A tune -> the same tune followed by ``num_bars`` new bars of its own meter (at most 16 blocks in all: 32 bars of
    4/4, 64 of 2/4)."""

    @torch.no_grad()
    def __call__(
        self,
        sheet: LeadSheet,
        num_bars: int = 8,
        chords: str | None = None,
        rhythm: str | None = None,
        key: str | None = None,
        seed: int = 0,
        temperature: float | None = None,
        num_samples: int = 1,
        generation: LatentGenerationConfig | None = None,
    ) -> SongOutput:
        """``chords`` for the new bars (default: the tune's own progression again from its first bar);
        ``rhythm`` for the new bars (default: the model's own); ``key`` (default: the tune's)."""
        check_tune(sheet)
        have = block_count(sheet)
        room = MAX_BLOCKS - have
        if room <= 0:
            raise SongInputError(
                f"The tune already has {have * BARS_PER_BLOCK} bars, the most a song can have ({MAX_SONG_BARS})"
            )
        new = blocks_for_bars(sheet, num_bars, room)  # bars of the tune's own meter (a 2/4 reel's bars are short)
        settings = self._settings(temperature, generation)
        _checks_common(seed, settings.temperature, num_samples)
        key = key or estimate_key(sheet)
        scale = scale_pitch_classes(key)
        blocks = have + new
        old_steps = have * WINDOW_STEPS
        if chords is not None and str(chords).strip():
            spb = sheet.melody.steps_per_bar  # typed chords go one per bar of the tune's own meter
            added = parse_progression(chords, -(-new * WINDOW_STEPS // spb), spb).shifted(old_steps)
        else:
            added = _repeat_progression(sheet.chords, old_steps, new * WINDOW_STEPS)
        progression = ChordProgression(list(sheet.chords.chords) + list(added.chords))
        source = self.model.encode(sheet)
        zeros_p = torch.zeros(new, source.z_pitch.shape[1], device=source.z_pitch.device)
        zeros_r = torch.zeros(new, source.z_rhythm.shape[1], device=source.z_rhythm.device)
        base = TuneLatents(
            np.concatenate([source.tokens, np.full((new, WINDOW_STEPS), REST, np.int64)]),
            progression.chroma(blocks * WINDOW_STEPS).reshape(blocks, WINDOW_STEPS, 12),
            torch.cat([source.z_pitch, zeros_p]),
            torch.cat([source.z_rhythm, zeros_r]),
        )
        pattern = np.concatenate([tokens_to_rhythm(source.tokens), np.full((new, WINDOW_STEPS), SILENCE)])
        known_pattern = np.arange(blocks) < have
        if rhythm is not None and str(rhythm).strip():
            pattern[have:] = rhythm_classes(rhythm, new * BARS_PER_BLOCK).reshape(new, WINDOW_STEPS)
            known_pattern[:] = True
        known_rhythm = np.arange(blocks) < have
        fn = self.model.functions(progression, key, blocks)
        controls = settings.controls(scale, _range_of(sheet))
        targets = list(range(have, blocks))
        sheets = []
        drawn = self._draw(
            base,
            targets,
            pattern,
            known_pattern,
            known_rhythm,
            fn,
            controls,
            settings,
            "left_to_right",
            seed,
            num_samples,
        )
        for tokens in drawn:
            title = sheet.title or "Tune"  # what changed is the caller's to say (the studio keeps a version line)
            sheets.append(_sheet(tokens, progression, key, sheet.melody.tempo_bpm, title, sheet.melody.time_signature))
        return SongOutput(sheets, [seed + i for i in range(int(num_samples))], targets)


class InfillPipeline(_SongPipelineBase):
    """A tune and some of its 2-bar blocks -> the tune with those blocks rewritten (the others unchanged)."""

    @torch.no_grad()
    def __call__(
        self,
        sheet: LeadSheet,
        blocks: Sequence[int],
        rhythm: dict[int, str] | None = None,
        keep_rhythm: bool = True,
        key: str | None = None,
        seed: int = 0,
        temperature: float | None = None,
        num_samples: int = 1,
        generation: LatentGenerationConfig | None = None,
    ) -> SongOutput:
        """``blocks``: 0-based block indices to rewrite (not all). ``rhythm``: {block: 2-bar pattern} for blocks that
        get a new drawn rhythm; the other chosen blocks keep their rhythm (``keep_rhythm``) or get the model's."""
        check_tune(sheet)
        count = block_count(sheet)
        targets = parse_blocks(blocks, count)
        settings = self._settings(temperature, generation)
        _checks_common(seed, settings.temperature, num_samples)
        key = key or estimate_key(sheet)
        scale = scale_pitch_classes(key)
        base = self.model.encode(sheet)
        pattern = tokens_to_rhythm(base.tokens)
        known_pattern = np.ones(count, bool)
        known_rhythm = np.ones(count, bool)
        for block in targets:
            if rhythm and block in rhythm and rhythm[block]:
                pattern[block] = rhythm_classes(rhythm[block], BARS_PER_BLOCK)
                known_rhythm[block] = False
            elif not keep_rhythm:
                known_pattern[block] = known_rhythm[block] = False
        if rhythm:
            stray = sorted(set(rhythm) - set(targets))
            if stray:
                raise SongInputError(
                    f"A rhythm was given for block(s) {', '.join(str(b) for b in stray)} (counted from 0), "
                    "which are not selected"
                )
        fn = self.model.functions(sheet.chords, key, count)
        controls = settings.controls(scale, _range_of(sheet))
        sheets = []
        drawn = self._draw(
            base, targets, pattern, known_pattern, known_rhythm, fn, controls, settings, "outside_in", seed, num_samples
        )
        for tokens in drawn:
            title = sheet.title or "Tune"
            sheets.append(_sheet(tokens, sheet.chords, key, sheet.melody.tempo_bpm, title, sheet.melody.time_signature))
        return SongOutput(sheets, [seed + i for i in range(int(num_samples))], targets)


def parse_blocks(blocks, count: int) -> list[int]:
    """Checked, sorted, unique 0-based block indices (a list of ints or "2,3"): some but not all of ``count``."""
    if isinstance(blocks, str):
        items = [b for b in blocks.replace(" ", ",").split(",") if b]
        try:
            blocks = [int(b) for b in items]
        except ValueError:
            raise SongInputError(f"Blocks must be numbers separated by commas, like 2,3 (got '{blocks}')") from None
    if blocks is None or isinstance(blocks, (int, float)) and not isinstance(blocks, bool):
        blocks = [] if blocks is None else [blocks]
    chosen = []
    for b in blocks:
        _check("Block", b, 0, max(count - 1, 0), integer=True)
        chosen.append(int(b))
    chosen = sorted(set(chosen))
    if not chosen:
        raise SongInputError("No block selected: choose the 2-bar block(s) to rewrite")
    if len(chosen) == count:
        raise SongInputError(
            f"All {count} blocks are selected: infill rewrites some blocks from the others. "
            "Leave at least one unselected (or make a new song)"
        )
    return chosen


def _repeat_progression(progression: ChordProgression, start: int, length: int) -> ChordProgression:
    """The progression's own chords from step 0, repeated, laid over steps start..start+length."""
    chords = [c for c in progression.chords if c.start < start]
    if not chords:
        return ChordProgression([])
    period = start
    out: list[Chord] = []
    for offset in range(0, length, period):
        for c in chords:
            lo, hi = start + offset + c.start, min(start + offset + min(c.end, period), start + length)
            if lo < hi:
                out.append(Chord(c.symbol, lo, hi, c.pitch_classes, c.bass))
    return ChordProgression(out)
