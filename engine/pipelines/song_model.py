"""The shared work of the song pipelines: EC2-VAE + the latent sequence model over a tune's 2-bar blocks.

A tune is a run of 2-bar *blocks* (EC2-VAE windows of 32 sixteenth steps, 4/4), at most 16 (32 bars).
:class:`SongModel` encodes a tune's blocks, builds the chord conditions (chroma and chord functions per beat),
fills the unknown latents one block at a time, and decodes them under the studio's controls
(engine.pipelines.decoding).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch

from engine.io.sources import SourceError, prepare_source
from engine.models.device import resolve_device
from engine.models.ec2vae import EC2VAE, EC2VAEConfig
from engine.models.latent import (
    LatentBatch,
    LatentModelConfig,
    LatentSequenceModel,
    beat_chroma,
)
from engine.models.registry import load_ec2vae, load_latent_model, weights_fingerprint
from engine.music import ChordProgression, LeadSheet
from engine.music.constants import BEATS_PER_WINDOW, STEPS_PER_BAR_44, STEPS_PER_BEAT, WINDOW_STEPS
from engine.music.errors import CadenzaInputError
from engine.music.limits import SONG_BARS, check_number
from engine.music.representation import (
    melody_to_tokens,
    onsets_to_rhythm,
    parse_rhythm_pattern,
)
from engine.music.tonality import functions_per_step
from engine.paths import default_checkpoint
from engine.pipelines.decoding import DecodeControls, decode_windows, first_and_last_pitch, join_cost

log = logging.getLogger(__name__)

BARS_PER_BLOCK = WINDOW_STEPS // STEPS_PER_BAR_44  # 2
MAX_SONG_BARS = SONG_BARS.high  # 32
MIN_SONG_BARS = SONG_BARS.low  # 8
MAX_BLOCKS = MAX_SONG_BARS // BARS_PER_BLOCK  # 16


class SongInputError(CadenzaInputError):
    """A tune, block choice or number the song pipelines cannot use."""


def _check(name: str, value, low: float, high: float, integer: bool = False) -> None:
    check_number(name, value, low, high, integer, error=SongInputError)


@dataclass
class TuneLatents:
    """A tune as blocks: tokens (W, 32), per-step chroma (W, 32, 12), posterior means z_pitch (W, Zp), z_rhythm
    (W, Zr)."""

    tokens: np.ndarray
    chroma: np.ndarray
    z_pitch: torch.Tensor
    z_rhythm: torch.Tensor

    @property
    def num_blocks(self) -> int:
        return len(self.tokens)


def block_count(sheet: LeadSheet) -> int:
    return -(-sheet.melody.num_steps // WINDOW_STEPS)


def meter_text(sheet: LeadSheet) -> str:
    num, den = sheet.melody.time_signature
    return f"{num}/{den}"


def blocks_for_bars(sheet: LeadSheet, bars: int, room_blocks: int, name: str = "Bars to add") -> int:
    """How many 32-step blocks ``bars`` bars of the tune's own meter make (a 2/4 reel's 8 bars are 2 blocks, a 4/4
    tune's 8 bars 4), at least one and at most ``room_blocks``. Refuses, in the tune's own bars, a count that makes no
    whole number of blocks or does not fit."""
    spb = sheet.melody.steps_per_bar or STEPS_PER_BAR_44
    per = WINDOW_STEPS // math.gcd(WINDOW_STEPS, spb)  # the fewest bars of this meter that make whole blocks
    most = room_blocks * WINDOW_STEPS // spb
    _check(name, bars, per, max(per, most - most % per), integer=True)
    if int(bars) * spb % WINDOW_STEPS:
        if spb == STEPS_PER_BAR_44:
            raise SongInputError(f"{name} must be even (whole 2-bar blocks), got {int(bars)}")
        raise SongInputError(
            f"{name} must make whole 2-bar blocks of 4/4 (32 sixteenths): in {meter_text(sheet)} that is a multiple "
            f"of {per} bars, got {int(bars)}"
        )
    return int(bars) * spb // WINDOW_STEPS


def prepare_tune(sheet: LeadSheet, start_bar: int = 0, num_bars: int | None = None) -> LeadSheet:
    """The part of a tune the song pipelines use: whole blocks from ``start_bar`` (after the pickup), at most
    32 bars (see engine.io.sources.prepare_source, whose rules these are)."""
    try:
        return prepare_source(sheet, start_bar, num_bars, max_bars=MAX_SONG_BARS)
    except SourceError as err:
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
            f"{name} starts with a pickup; cut it to start on a downbeat (engine.io.sources.prepare_source)"
        )
    if melody.num_steps % WINDOW_STEPS:
        raise SongInputError(
            f"{name} is {melody.num_steps} steps long, not a whole number of 2-bar blocks ({WINDOW_STEPS} steps each)"
        )
    if not 1 <= melody.num_steps // WINDOW_STEPS <= MAX_BLOCKS:
        raise SongInputError(
            f"{name} has {melody.num_steps // WINDOW_STEPS} blocks of 2 bars; "
            f"a song has 1 to {MAX_BLOCKS} ({MAX_SONG_BARS} bars)"
        )


def rhythm_classes(rhythm: str, num_bars: int) -> np.ndarray:
    """Rhythm classes (num_bars * 16,) of a step-grid pattern ("x..." bars joined by "|"), repeated to fill."""
    onsets = parse_rhythm_pattern(rhythm, STEPS_PER_BAR_44)
    pattern_bars = len(onsets) // STEPS_PER_BAR_44
    if pattern_bars > num_bars:
        raise SongInputError(f"The rhythm has {pattern_bars} bars but only {num_bars} were asked for")
    return onsets_to_rhythm(np.resize(onsets, num_bars * STEPS_PER_BAR_44))


@dataclass(frozen=True)
class SongJob:
    """The arguments of one :meth:`SongModel.generate` call, so several can run as one batch."""

    base: TuneLatents
    targets: Sequence[int]
    rhythm: np.ndarray
    known_pattern: np.ndarray
    known_rhythm: np.ndarray
    functions: np.ndarray
    controls: DecodeControls
    generator: torch.Generator
    temperature: float
    order: str
    decode_temperature: float = 0.0
    candidates: int | None = None

    def batch_key(self, default_candidates: int) -> tuple | None:
        """Jobs with equal keys share a batch; None: this job runs alone. Sharing needs the same blocks, unknowns and
        settings (every row of a batch is filled at the same positions) and greedy decoding (a sampled decode draws
        from one generator for all rows)."""
        if self.decode_temperature > 0:
            return None
        given = self.known_pattern[sorted(int(t) for t in self.targets)]
        return (
            self.base.num_blocks,
            tuple(sorted(int(t) for t in self.targets)),
            self.known_pattern.tobytes(),
            np.asarray(self.known_rhythm, bool).tobytes(),
            bool(given.all()),
            float(self.temperature),
            self.order,
            self.candidates if self.candidates is not None else default_candidates,
            self.controls.repeat_penalty,
        )


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
        cls,
        vae: str | Path | None = None,
        latent: str | Path | None = None,
        device: str | torch.device | None = None,
    ) -> SongModel:
        """Load the two checkpoints (default: the shipped ones), checking the latent model belongs to this EC2-VAE,
        or "debug" for tiny untrained ones."""
        resolved = resolve_device(device)
        vae = default_checkpoint("ec2vae") if vae is None else vae
        latent = default_checkpoint("latent") if latent is None else latent
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
        """Chord-function classes per beat (W, 8): from the chords in ``key``, or ``per_bar`` (one class per bar) when
        given."""
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
        batch = self._latent_rows(
            z_pitch, z_rhythm, known_pitch, known_rhythm, rhythm, known_pattern, chroma, functions, rows
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
        candidates: int | None = None,
    ) -> np.ndarray:
        """New tokens (W, 32) for the ``targets`` blocks (others as in ``base``): ``candidates`` samples (None: this
        model's), the one joining its neighbours best kept. ``rhythm`` (W, 32) is forced on target blocks where
        ``known_pattern``. ``temperature`` scales the latent sampling, ``decode_temperature`` the decoder's
        (0: greedy)."""
        job = SongJob(
            base, targets, rhythm, known_pattern, known_rhythm, functions, controls, generator, temperature, order
        )
        return self.generate_many([replace(job, decode_temperature=decode_temperature, candidates=candidates)])[0]

    def generate_many(self, jobs: Sequence[SongJob]) -> list[np.ndarray]:
        """:meth:`generate` for several jobs: those that can share a batch (the same blocks, unknowns and settings,
        greedy decoding) are sampled and decoded together, each drawing from its own generator, so each gets the
        tokens it would get alone; the others run one by one."""
        results: list[np.ndarray | None] = [None] * len(jobs)
        groups: dict[object, list[int]] = {}
        for index, job in enumerate(jobs):
            groups.setdefault(job.batch_key(self.candidates) or ("alone", index), []).append(index)
        for indices in groups.values():
            for index, tokens in zip(indices, self._generate_together([jobs[i] for i in indices])):
                results[index] = tokens
        return [r for r in results if r is not None]

    def _generate_together(self, jobs: Sequence[SongJob]) -> list[np.ndarray]:
        """Jobs of one batch key (or a single job): one latent batch, one decoder batch."""
        first = jobs[0]
        w = first.base.num_blocks
        targets = sorted(int(t) for t in first.targets)
        known_p = np.ones(w, bool)
        known_p[targets] = False
        k = self.candidates if first.candidates is None else first.candidates
        filled = [
            self._latent_rows(
                job.base.z_pitch,
                job.base.z_rhythm,
                known_p,
                job.known_rhythm,
                job.rhythm,
                job.known_pattern,
                job.base.chroma,
                job.functions,
                k,
            )
            for job in jobs
        ]
        names = [f.name for f in fields(LatentBatch)]
        batch = (
            filled[0] if len(jobs) == 1 else LatentBatch(*(torch.cat([getattr(b, n) for b in filled]) for n in names))
        )
        groups = [(job.generator, k) for job in jobs]
        z_p, z_r = self.latent.sample(
            batch,
            generator=groups[0][0] if len(jobs) == 1 else groups,
            temperature=first.temperature,
            order=first.order,
        )
        # Decode every candidate's target blocks in one batch: (jobs * k * len(targets), ...).
        zp = z_p[:, targets].reshape(-1, z_p.shape[-1])
        zr = z_r[:, targets].reshape(-1, z_r.shape[-1])
        chroma = np.concatenate([np.tile(job.base.chroma[targets], (k, 1, 1)) for job in jobs])
        controls = [job.controls for job in jobs for _ in range(k * len(targets))]
        given_rhythms: list[np.ndarray | None] = []
        for index, job in enumerate(jobs):
            given = np.tile(job.rhythm[targets], (k, 1)) if np.all(job.known_pattern[targets]) else None
            if given is None and job.known_pattern[targets].any():
                # Some blocks have a given rhythm, some not: decode the rhythm, then put the given ones back.
                rows = slice(index * k * len(targets), (index + 1) * k * len(targets))
                _, decoded = self.vae.decode_rhythm(zr[rows].to(self.device))
                given = decoded.cpu().numpy()
                mask = np.tile(job.known_pattern[targets], k)
                given[mask] = np.tile(job.rhythm[targets], (k, 1))[mask]
            given_rhythms.append(given)
        # The batch key makes them alike: all given, or none
        given_all = (
            np.concatenate([g for g in given_rhythms if g is not None]) if given_rhythms[0] is not None else None
        )
        tokens, _ = decode_windows(
            self.vae, zp, zr, chroma, given_all, controls, first.decode_temperature, first.generator
        )
        tokens = tokens.reshape(len(jobs), k, len(targets), WINDOW_STEPS)
        return [self._best(job, targets, tokens[index], k) for index, job in enumerate(jobs)]

    def _latent_rows(
        self,
        z_pitch: torch.Tensor,
        z_rhythm: torch.Tensor,
        known_pitch: np.ndarray,
        known_rhythm: np.ndarray,
        rhythm: np.ndarray,
        known_pattern: np.ndarray,
        chroma: np.ndarray,
        functions: np.ndarray,
        rows: int,
    ) -> LatentBatch:
        """``rows`` copies of one tune's latent-model inputs (arguments as :meth:`fill`'s)."""
        device = self.latent.device
        w = len(known_pitch)

        def rep(array, dtype=None) -> torch.Tensor:
            t = array if isinstance(array, torch.Tensor) else torch.as_tensor(np.asarray(array), dtype=dtype)
            return t.to(device).unsqueeze(0).expand(rows, *t.shape).clone()

        return LatentBatch(
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

    def _best(self, job: SongJob, targets: list[int], tokens: np.ndarray, k: int) -> np.ndarray:
        """The candidate (of ``tokens`` (k, targets, 32)) whose target blocks join their neighbours best."""
        best, best_cost = None, np.inf
        for c in range(k):
            candidate = job.base.tokens.copy()
            candidate[targets] = tokens[c]
            cost = self._joins(candidate, targets, job.controls.scale)
            if cost < best_cost:
                best, best_cost = candidate, cost
        assert best is not None  # at least one candidate, and join costs are finite
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
