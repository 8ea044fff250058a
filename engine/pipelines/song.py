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
for chord tones and a penalty on repeating the previous pitch (CHORD_TONE_BIAS,
REPEAT_PENALTY). Of ``candidates`` samples per
variation, the one that joins its neighbours with the smallest leaps is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.chords import parse_progression
from engine.device import resolve_device
from engine.errors import CadenzaInputError
from engine.models.checkpoint import load_ec2vae, load_latent_model, weights_fingerprint
from engine.models.ec2vae import EC2VAE, EC2VAEConfig
from engine.models.latent import (
    BEATS_PER_WINDOW,
    STEPS_PER_BEAT,
    LatentBatch,
    LatentModelConfig,
    LatentSequenceModel,
    beat_chroma,
)
from engine.music import Chord, ChordProgression, LeadSheet, Melody
from engine.pipelines.decoding import DecodeControls, decode_windows, first_and_last_pitch, join_cost
from engine.representation import (
    SILENCE,
    STEPS_PER_BAR_44,
    WINDOW_STEPS,
    melody_to_tokens,
    onsets_to_rhythm,
    parse_rhythm_pattern,
    tokens_to_notes,
    tokens_to_rhythm,
)
from engine.tonality import estimate_key, functions_per_step, parse_functions, scale_pitch_classes
from engine.validation import check_number

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VAE = ROOT / "checkpoints" / "ec2vae"
DEFAULT_LATENT = ROOT / "checkpoints" / "latent"
BARS_PER_BLOCK = WINDOW_STEPS // STEPS_PER_BAR_44  # 2
MAX_BLOCKS = 16
MAX_SONG_BARS = MAX_BLOCKS * BARS_PER_BLOCK  # 32
MIN_SONG_BARS = 8
MAX_SAMPLES = 8
# How the latent model's tunes are decoded, chosen on held-out Nottingham tunes (see checkpoints/latent/README.md):
# latent sampling at temperature 0.5; a logit bonus of 1.0 for chord tones at onsets (0.71 -> 0.75-0.76 of note time
# on chord tones; real tunes 0.79-0.81) and a penalty of 2.0 on repeating the previous pitch (the decoder repeats notes
# even from real tunes' latents: 0.155 of intervals against 0.117; with the latent model 0.20 -> 0.10-0.12).
DEFAULT_TEMPERATURE = 0.5
CHORD_TONE_BIAS = 1.0
REPEAT_PENALTY = 2.0


class SongInputError(CadenzaInputError):
    """A tune, block choice or number the song pipelines cannot use."""


def _check(name: str, value, low: float, high: float, integer: bool = False) -> None:
    check_number(name, value, low, high, integer, error=SongInputError)


@dataclass
class SongOutput:
    leadsheets: list[LeadSheet]
    seeds: list[int] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)  # the blocks written (new or rewritten), 0-based


@dataclass
class TuneLatents:
    """A tune as blocks: tokens (W, 32), per-step chroma (W, 32, 12), posterior means z_pitch (W, Zp), z_rhythm (W, Zr)."""

    tokens: np.ndarray
    chroma: np.ndarray
    z_pitch: torch.Tensor
    z_rhythm: torch.Tensor

    @property
    def num_blocks(self) -> int:
        return len(self.tokens)


def block_count(sheet: LeadSheet) -> int:
    return -(-sheet.melody.num_steps // WINDOW_STEPS)


def prepare_tune(sheet: LeadSheet, start_bar: int = 0, num_bars: int | None = None) -> LeadSheet:
    """The part of a tune the song pipelines use: whole blocks from ``start_bar`` (after the pickup), at most
    32 bars (see engine.pipelines.explore.prepare_source, whose rules these are)."""
    from engine.pipelines.explore import ExploreInputError, prepare_source

    try:
        return prepare_source(sheet, start_bar, num_bars, max_bars=MAX_SONG_BARS)
    except ExploreInputError as err:
        raise SongInputError(str(err)) from None


def check_tune(sheet: LeadSheet, name: str = "The tune") -> None:
    """A song's tune must be a LeadSheet of whole blocks (32 steps; 2 bars of 4/4) from a downbeat, at most 16 blocks.

    Other meters are accepted: a block is still 32 sixteenths, which then crosses bar lines (the latent
    model saw such windows in the 3/4 and 6/8 tunes it was trained on)."""
    if not isinstance(sheet, LeadSheet):
        raise SongInputError(f"{name} must be a melody (a LeadSheet), not {type(sheet).__name__}")
    melody = sheet.melody
    if not melody.notes:
        raise SongInputError(f"{name} has no notes")
    if melody.pickup_steps:
        raise SongInputError(
            f"{name} starts with a pickup; cut it to start on a downbeat (engine.pipelines.explore.prepare_source)"
        )
    if melody.num_steps % WINDOW_STEPS:
        raise SongInputError(
            f"{name} is {melody.num_steps} steps long, not a whole number of 2-bar blocks ({WINDOW_STEPS} steps each)"
        )
    if not 1 <= melody.num_steps // WINDOW_STEPS <= MAX_BLOCKS:
        raise SongInputError(
            f"{name} has {melody.num_steps // WINDOW_STEPS} blocks of 2 bars; a song has 1 to {MAX_BLOCKS} ({MAX_SONG_BARS} bars)"
        )


def rhythm_classes(rhythm: str, num_bars: int) -> np.ndarray:
    """Rhythm classes (num_bars * 16,) of a step-grid pattern ("x..." bars joined by "|"), repeated to fill."""
    onsets = parse_rhythm_pattern(rhythm, STEPS_PER_BAR_44)
    pattern_bars = len(onsets) // STEPS_PER_BAR_44
    if pattern_bars > num_bars:
        raise SongInputError(f"The rhythm has {pattern_bars} bars but only {num_bars} were asked for")
    return onsets_to_rhythm(np.resize(onsets, num_bars * STEPS_PER_BAR_44))


class SongModel:
    """EC2-VAE + the latent sequence model, and the work the song pipelines share. Plain class, not a Module."""

    def __init__(self, vae: EC2VAE, latent: LatentSequenceModel, candidates: int = 4):
        if latent.config.z_pitch != vae.config.z_pitch or latent.config.z_rhythm != vae.config.z_rhythm:
            raise ValueError("the latent model was made for another EC2-VAE (latent sizes differ)")
        self.vae = vae.eval()
        self.latent = latent.eval()
        self.candidates = candidates

    @classmethod
    def from_pretrained(
        cls, vae: str | Path = DEFAULT_VAE, latent: str | Path = DEFAULT_LATENT, device: str | None = None
    ) -> SongModel:
        """Load the two checkpoints (checking the latent model belongs to this EC2-VAE), or "debug" for tiny untrained ones."""
        resolved = resolve_device(device)
        if str(vae) == "debug" or str(latent) == "debug":
            return cls.debug(resolved)
        vae_model = load_ec2vae(vae, resolved)
        latent_model, meta = load_latent_model(latent, resolved)
        expected = meta.get("vae", {}).get("fingerprint")
        if expected and expected != weights_fingerprint(vae):
            raise ValueError(
                f"{latent} was trained on the latents of another EC2-VAE (weights {expected}, "
                f"{vae} has {weights_fingerprint(vae)}): retrain it with --vae {vae}"
            )
        return cls(vae_model, latent_model)

    @classmethod
    def debug(cls, device: torch.device | str = "cpu") -> SongModel:
        """Tiny untrained models (the "debug" EC2-VAE of every pipeline, seed 0): every code path, no checkpoint."""
        torch.manual_seed(0)
        vae = EC2VAE(EC2VAEConfig.debug()).to(device)
        latent = LatentSequenceModel(LatentModelConfig.debug(vae.config.z_pitch, vae.config.z_rhythm)).to(device)
        return cls(vae, latent)

    @property
    def device(self) -> torch.device:
        return self.vae.device

    # ------------------------------------------------------------------ tunes and conditions
    @torch.no_grad()
    def encode(self, sheet: LeadSheet) -> TuneLatents:
        """Posterior means of every block of a (checked) tune."""
        steps = block_count(sheet) * WINDOW_STEPS
        tokens = melody_to_tokens(sheet.melody, 0, steps).reshape(-1, WINDOW_STEPS)
        chroma = sheet.chords.chroma(steps).reshape(-1, WINDOW_STEPS, 12)
        mu_p, _, mu_r, _ = self.vae.encode(
            torch.from_numpy(tokens).to(self.device), torch.from_numpy(chroma).to(self.device)
        )
        return TuneLatents(tokens, chroma, mu_p, mu_r)

    @staticmethod
    def functions(
        progression: ChordProgression, key: str, num_blocks: int, per_bar: Sequence[int] | None = None
    ) -> np.ndarray:
        """Chord-function classes per beat (W, 8): from the chords in ``key``, or ``per_bar`` (one class per bar) when given."""
        steps = num_blocks * WINDOW_STEPS
        if per_bar is not None:
            per_beat = np.repeat(np.asarray(per_bar, dtype=np.int64), STEPS_PER_BAR_44 // STEPS_PER_BEAT)[
                : steps // STEPS_PER_BEAT
            ]
        else:
            per_beat = functions_per_step(progression, key, steps, 0, STEPS_PER_BEAT)
        return per_beat.reshape(num_blocks, BEATS_PER_WINDOW)

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def fill(
        self,
        z_pitch: torch.Tensor,
        z_rhythm: torch.Tensor,
        known_pitch: np.ndarray,
        known_rhythm: np.ndarray,
        rhythm: np.ndarray,
        known_pattern: np.ndarray,
        chroma: np.ndarray,
        functions: np.ndarray,
        generator: torch.Generator,
        temperature: float,
        order: str,
        rows: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``rows`` samples of one tune's unknown latents -> z_pitch (rows, W, Zp), z_rhythm (rows, W, Zr).

        z_* (W, Z) (any values where unknown); known_* (W,) bool; rhythm (W, 32) classes;
        chroma (W, 32, 12) per step; functions (W, 8).
        """
        device = self.latent.device
        w = len(known_pitch)

        def rep(array, dtype=None) -> torch.Tensor:
            t = array if isinstance(array, torch.Tensor) else torch.as_tensor(np.asarray(array), dtype=dtype)
            return t.to(device).unsqueeze(0).expand(rows, *t.shape).clone()

        batch = LatentBatch(
            rep(z_pitch.float()),
            rep(z_rhythm.float()),
            rep(beat_chroma(chroma.astype(np.float32))),
            rep(functions, torch.int64),
            rep(rhythm, torch.int64),
            rep(known_pitch, torch.bool),
            rep(known_rhythm, torch.bool),
            rep(known_pattern, torch.bool),
            torch.ones(rows, w, dtype=torch.bool, device=device),
        )
        return self.latent.sample(batch, generator=generator, temperature=temperature, order=order)

    def generate(
        self,
        base: TuneLatents,
        targets: Sequence[int],
        rhythm: np.ndarray,
        known_pattern: np.ndarray,
        known_rhythm: np.ndarray,
        functions: np.ndarray,
        controls: DecodeControls,
        generator: torch.Generator,
        temperature: float,
        order: str,
        decode_temperature: float = 0.0,
    ) -> np.ndarray:
        """New tokens (W, 32) for the ``targets`` blocks (others as in ``base``): ``candidates`` samples, the one
        joining its neighbours best kept. ``rhythm`` (W, 32) is forced on target blocks where ``known_pattern``.
        ``temperature`` scales the latent sampling, ``decode_temperature`` the decoder's (0: greedy)."""
        w = base.num_blocks
        targets = sorted(int(t) for t in targets)
        known_p = np.ones(w, bool)
        known_p[targets] = False
        k = self.candidates
        z_p, z_r = self.fill(
            base.z_pitch,
            base.z_rhythm,
            known_p,
            known_rhythm,
            rhythm,
            known_pattern,
            base.chroma,
            functions,
            generator,
            temperature,
            order,
            rows=k,
        )
        # Decode every candidate's target blocks in one batch: (k * len(targets), ...).
        zp = z_p[:, targets].reshape(-1, z_p.shape[-1])
        zr = z_r[:, targets].reshape(-1, z_r.shape[-1])
        chroma = np.tile(base.chroma[targets], (k, 1, 1))
        forced = np.all(known_pattern[targets])
        given = np.tile(rhythm[targets], (k, 1)) if forced else None
        if given is None and known_pattern[targets].any():
            # Some blocks have a given rhythm, some not: decode the rhythm, then put the given ones back.
            _, decoded = self.vae.decode_rhythm(zr.to(self.device))
            given = decoded.cpu().numpy()
            mask = np.tile(known_pattern[targets], k)
            given[mask] = np.tile(rhythm[targets], (k, 1))[mask]
        tokens, _ = decode_windows(self.vae, zp, zr, chroma, given, controls, decode_temperature, generator)
        tokens = tokens.reshape(k, len(targets), WINDOW_STEPS)
        best, best_cost = None, np.inf
        for c in range(k):
            candidate = base.tokens.copy()
            candidate[targets] = tokens[c]
            cost = self._joins(candidate, targets, controls.scale)
            if cost < best_cost:
                best, best_cost = candidate, cost
        return best

    @staticmethod
    def _joins(tokens: np.ndarray, targets: Sequence[int], scale: tuple[int, ...]) -> float:
        """Summed join cost of the target blocks with whatever sounds before and after each."""
        cost = 0.0
        for t in targets:
            before = next(
                (
                    first_and_last_pitch(tokens[j])[1]
                    for j in range(t - 1, -1, -1)
                    if first_and_last_pitch(tokens[j])[1] is not None
                ),
                None,
            )
            after = next(
                (
                    first_and_last_pitch(tokens[j])[0]
                    for j in range(t + 1, len(tokens))
                    if first_and_last_pitch(tokens[j])[0] is not None
                ),
                None,
            )
            cost += join_cost(tokens[t], before, after if t + 1 not in targets else None, scale)
        return cost


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


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
    melody = Melody(tokens_to_notes(flat), len(flat), float(tempo), tuple(time_signature), 0, key)
    return LeadSheet(melody, progression, title)


def _checks_common(seed, temperature, num_samples) -> None:
    _check("Seed", seed, 0, 2**31 - 1, integer=True)
    _check("Temperature", temperature, 0, 3)
    _check("Variations", num_samples, 1, MAX_SAMPLES, integer=True)


class _SongPipelineBase:
    def __init__(self, model: SongModel):
        self.model = model

    @classmethod
    def from_pretrained(
        cls, vae: str | Path = DEFAULT_VAE, latent: str | Path = DEFAULT_LATENT, device: str | None = None
    ):
        """Load EC2-VAE and the latent model ("debug" for tiny untrained ones)."""
        return cls(SongModel.from_pretrained(vae, latent, device))

    @staticmethod
    def _controls(key: str, pitch_range: tuple[int, int]) -> DecodeControls:
        return DecodeControls(
            pitch_range=pitch_range,
            scale=scale_pitch_classes(key),
            chord_tone_bias=CHORD_TONE_BIAS,
            repeat_penalty=REPEAT_PENALTY,
        )


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
        temperature: float = DEFAULT_TEMPERATURE,
        num_samples: int = 1,
    ) -> SongOutput:
        """``rhythm``: a step-grid pattern for every bar (repeats to fill), or None for the model's own;
        ``functions``: "T S D T" (one per bar, repeats), or None to derive them from the chords in ``key``."""
        _check("Bars", num_bars, MIN_SONG_BARS, MAX_SONG_BARS, integer=True)
        if int(num_bars) % BARS_PER_BLOCK:
            raise SongInputError(f"Bars must be even (whole 2-bar blocks), got {int(num_bars)}")
        _check("Tempo (BPM)", tempo_bpm, 20, 300)
        _checks_common(seed, temperature, num_samples)
        num_bars, seed = int(num_bars), int(seed)
        scale = scale_pitch_classes(key)  # checks the key
        progression = parse_progression(chords, num_bars, STEPS_PER_BAR_44)
        per_bar = parse_functions(functions, num_bars) if functions and functions.strip() else None
        blocks = num_bars // BARS_PER_BLOCK
        steps = blocks * WINDOW_STEPS
        zeros = torch.zeros(blocks, self.model.vae.config.z_pitch), torch.zeros(blocks, self.model.vae.config.z_rhythm)
        base = TuneLatents(
            np.full((blocks, WINDOW_STEPS), 129, np.int64),
            progression.chroma(steps).reshape(blocks, WINDOW_STEPS, 12),
            *zeros,
        )
        if rhythm is not None and str(rhythm).strip():
            pattern = rhythm_classes(rhythm, num_bars).reshape(blocks, WINDOW_STEPS)
            known_pattern = np.ones(blocks, bool)
        else:
            pattern, known_pattern = np.full((blocks, WINDOW_STEPS), SILENCE), np.zeros(blocks, bool)
        fn = self.model.functions(progression, key, blocks, per_bar)
        controls = self._controls(key, (55, 88))
        sheets = []
        for i in range(int(num_samples)):
            tokens = self.model.generate(
                base,
                range(blocks),
                pattern,
                known_pattern,
                np.zeros(blocks, bool),
                fn,
                controls,
                _generator(seed + i),
                float(temperature),
                "left_to_right",
            )
            sheets.append(_sheet(tokens, progression, key, tempo_bpm, f"Song {i + 1} (seed {seed + i})"))
        return SongOutput(sheets, [seed + i for i in range(int(num_samples))], list(range(blocks)))


class ContinuePipeline(_SongPipelineBase):
    """A tune -> the same tune followed by ``num_bars`` new bars (at most 32 bars in all)."""

    @torch.no_grad()
    def __call__(
        self,
        sheet: LeadSheet,
        num_bars: int = 8,
        chords: str | None = None,
        rhythm: str | None = None,
        key: str | None = None,
        seed: int = 0,
        temperature: float = DEFAULT_TEMPERATURE,
        num_samples: int = 1,
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
        _check("Bars to add", num_bars, BARS_PER_BLOCK, room * BARS_PER_BLOCK, integer=True)
        if int(num_bars) % BARS_PER_BLOCK:
            raise SongInputError(f"Bars to add must be even (whole 2-bar blocks), got {int(num_bars)}")
        _checks_common(seed, temperature, num_samples)
        key = key or estimate_key(sheet)
        scale = scale_pitch_classes(key)
        new = int(num_bars) // BARS_PER_BLOCK
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
            np.concatenate([source.tokens, np.full((new, WINDOW_STEPS), 129, np.int64)]),
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
        controls = self._controls(key, _range_of(sheet))
        targets = list(range(have, blocks))
        sheets = []
        for i in range(int(num_samples)):
            tokens = self.model.generate(
                base,
                targets,
                pattern,
                known_pattern,
                known_rhythm,
                fn,
                controls,
                _generator(seed + i),
                float(temperature),
                "left_to_right",
            )
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
        temperature: float = DEFAULT_TEMPERATURE,
        num_samples: int = 1,
    ) -> SongOutput:
        """``blocks``: 0-based block indices to rewrite (not all). ``rhythm``: {block: 2-bar pattern} for blocks that
        get a new drawn rhythm; the other chosen blocks keep their rhythm (``keep_rhythm``) or get the model's."""
        check_tune(sheet)
        count = block_count(sheet)
        targets = parse_blocks(blocks, count)
        _checks_common(seed, temperature, num_samples)
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
                    f"A rhythm was given for block(s) {', '.join(str(b) for b in stray)} (counted from 0), which are not selected"
                )
        fn = self.model.functions(sheet.chords, key, count)
        controls = self._controls(key, _range_of(sheet))
        sheets = []
        for i in range(int(num_samples)):
            tokens = self.model.generate(
                base,
                targets,
                pattern,
                known_pattern,
                known_rhythm,
                fn,
                controls,
                _generator(seed + i),
                float(temperature),
                "outside_in",
            )
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
