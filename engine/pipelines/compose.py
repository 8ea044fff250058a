"""Compose: a drawn rhythm + a chord progression -> melodies (EC2-VAE).

How the controls are honoured:
* rhythm: the pitch decoder is fed the requested rhythm (onset at every drawn
  step, the note held until the next onset) and its output is masked so that
  onsets happen exactly there and nowhere else; z_rhythm comes from encoding a
  placeholder melody with that rhythm, as in EC2-VAE's rhythm transfer;
* chords: the decoder is chord-conditioned (12-d chroma per step);
* key: out-of-scale pitches get a logit penalty (soft, so chromatic chord tones survive);
* seed: variation i uses seed + i, so the same seed gives the same music.

Where the latents come from: with the latent sequence model (checkpoints/latent, the
default) the windows' latents are sampled one window after another, each given the
windows before it, the drawn rhythm, the chords and their functions in the key
(engine.pipelines.song.SongModel), so the melody moves like a tune; ``temperature``
scales that sampling and the decoder decodes greedily. Without it (``latent=None``)
each window's pitch latent is drawn from EC2-VAE's prior N(0, I) and decoded at
``temperature``, as before. Of a few candidates the one that joins best is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from engine.models.device import resolve_device
from engine.models.ec2vae import EC2VAE
from engine.models.latent import LatentSequenceModel
from engine.models.registry import load_ec2vae
from engine.music import ChordProgression, LeadSheet, Melody
from engine.music.chords import parse_progression
from engine.music.constants import HOLD, ONSET, REST, STEPS_PER_BAR_44, SUSTAIN, WINDOW_STEPS
from engine.music.errors import CadenzaInputError, RhythmPatternError
from engine.music.limits import COMPOSE_BARS, SEED, TEMPERATURE, TEMPO_BPM, VARIATIONS
from engine.music.representation import onsets_to_rhythm, parse_rhythm_pattern, tokens_to_notes
from engine.music.tonality import KEYS, functions_from_chroma, scale_pitch_classes
from engine.paths import default_checkpoint
from engine.pipelines.base import PipelineOutput, seeded_generator
from engine.pipelines.decoding import (
    DecodeControls,
    EC2VAEGenerationConfig,
    LatentGenerationConfig,
    MelodyGenerationConfig,
    decode_windows,
    join_cost,
)
from engine.pipelines.song_model import SongJob, SongModel, TuneLatents

log = logging.getLogger(__name__)


def _checked_scale(key: str) -> tuple[int, ...]:
    """Pitch classes of a key such as "G" or "F#m" (one of KEYS); raises CadenzaInputError for unknown keys."""
    if key not in KEYS:
        raise CadenzaInputError(f"Unknown key '{key}': choose one of {', '.join(KEYS)}")
    return scale_pitch_classes(key)


@dataclass
class ComposeOutput(PipelineOutput[LeadSheet]):
    """``samples``: one melody (a LeadSheet) per variation, variation i drawn with ``seeds[i]``."""


@dataclass(frozen=True)
class ComposeRequest:
    """The arguments of one :class:`ComposePipeline` call, so several can run as one batch (``run_many``)."""

    rhythm: str
    chords: str
    num_bars: int
    key: str = "C"
    tempo_bpm: float = 120.0
    seed: int = 0
    temperature: float | None = None
    num_samples: int = 1
    register_shift: int = 0
    generation: MelodyGenerationConfig | None = None


@dataclass(frozen=True)
class _Prepared:
    """A checked request as the model's conditions: rhythm classes (T,), chroma (T, 12), T whole windows."""

    settings: MelodyGenerationConfig
    rhythm_classes: np.ndarray
    chroma: np.ndarray
    scale: tuple[int, ...]
    functions: np.ndarray | None
    progression: ChordProgression
    num_steps: int
    seed: int
    num_samples: int
    register_shift: int
    tempo_bpm: float
    key: str

    def leadsheet(self, tokens: np.ndarray, index: int) -> LeadSheet:
        """Variation ``index`` (0-based) from its tokens (T,): the asked steps, moved by the register shift."""
        notes = [
            replace(n, pitch=_octave_into_range(n.pitch + self.register_shift))
            for n in tokens_to_notes(tokens[: self.num_steps])
        ]
        melody = Melody(notes, self.num_steps, self.tempo_bpm, (4, 4), 0, self.key)
        return LeadSheet(melody, self.progression, title=f"Variation {index + 1} (seed {self.seed + index})")


class ComposePipeline:
    """Rhythm + chords + key -> melodies. Inference only; one ``__call__``."""

    def __init__(
        self,
        model: EC2VAE,
        latent: LatentSequenceModel | None = None,
        generation: MelodyGenerationConfig | None = None,
    ):
        """``latent``: a LatentSequenceModel for the pitch latents (None: EC2-VAE's prior). ``generation``: the
        sampling settings (default: the latent model's, or the prior's without it; see engine.pipelines.decoding)."""
        self.model = model.eval()
        if generation is None:
            generation = LatentGenerationConfig() if latent is not None else EC2VAEGenerationConfig()
        self.generation = generation
        self.song_model = SongModel(model, latent, generation.candidates) if latent is not None else None

    @classmethod
    def from_pretrained(
        cls,
        path_or_name: str | Path | None = None,
        device: str | None = None,
        latent: str | Path | None = default_checkpoint("latent"),
    ) -> ComposePipeline:
        """Load the EC2-VAE folder (default: the shipped one) and the latent sequence model ``latent``
        ("debug": tiny untrained ones); the sampling settings come from the latent model's ``generation.json``
        (the EC2-VAE's without one).

        With ``latent=None``, or when the default latent folder is missing or was trained on another
        EC2-VAE's latents (e.g. beside a freshly trained EC2-VAE), Compose draws from the prior (logged).
        A latent folder named explicitly must exist and match.
        """
        resolved = resolve_device(device)
        path = default_checkpoint("ec2vae") if path_or_name is None else path_or_name
        if str(path) == "debug":
            song = SongModel.debug(resolved)
            return cls(song.vae, song.latent)
        if latent is None:
            return cls(load_ec2vae(path, resolved), generation=EC2VAEGenerationConfig.load(path))
        is_default = Path(latent).resolve() == default_checkpoint("latent").resolve()
        try:
            song = SongModel.from_pretrained(path, latent, resolved)
        except (FileNotFoundError, ValueError) as err:
            if not is_default:
                raise
            log.warning("Compose draws pitch latents from the prior: %s", err)
            return cls(load_ec2vae(path, resolved), generation=EC2VAEGenerationConfig.load(path))
        return cls(song.vae, song.latent, LatentGenerationConfig.load(latent))

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def latent(self) -> LatentSequenceModel | None:
        """The latent sequence model the windows' latents come from (None: EC2-VAE's prior)."""
        return None if self.song_model is None else self.song_model.latent

    # ------------------------------------------------------------------ checks
    @staticmethod
    def validate(
        rhythm: str, num_bars: int, tempo_bpm: float, seed: int, temperature: float, num_samples: int
    ) -> np.ndarray:
        """Check every argument; returns the onset mask (num_bars * 16,). Raises CadenzaInputError."""
        COMPOSE_BARS.check("Bars", num_bars)
        TEMPO_BPM.check("Tempo (BPM)", tempo_bpm)
        SEED.check("Seed", seed)
        TEMPERATURE.check("Temperature", temperature)
        VARIATIONS.check("Variations", num_samples)
        onsets = parse_rhythm_pattern(rhythm, STEPS_PER_BAR_44)
        pattern_bars = len(onsets) // STEPS_PER_BAR_44
        if pattern_bars > num_bars:
            raise RhythmPatternError(f"The rhythm has {pattern_bars} bars but only {num_bars} were asked for")
        # A shorter pattern repeats, like a drum loop.
        return np.resize(onsets, int(num_bars) * STEPS_PER_BAR_44)

    # --------------------------------------------------------------- inference
    def __call__(
        self,
        rhythm: str,
        chords: str,
        num_bars: int,
        key: str = "C",
        tempo_bpm: float = 120.0,
        seed: int = 0,
        temperature: float | None = None,
        num_samples: int = 1,
        register_shift: int = 0,
        generation: MelodyGenerationConfig | None = None,
    ) -> ComposeOutput:
        """Melodies whose onsets are exactly the 'x' steps of ``rhythm`` over ``chords``; ``register_shift``
        (-24, -12, 0, 12 or 24 semitones) moves the finished melody by whole octaves (an emotion's register).
        ``temperature`` (None: the generation config's) and ``generation`` override this pipeline's settings."""
        request = ComposeRequest(
            rhythm, chords, num_bars, key, tempo_bpm, seed, temperature, num_samples, register_shift, generation
        )
        result = self.run_many([request])[0]
        if isinstance(result, CadenzaInputError):
            raise result
        return result

    @torch.no_grad()
    def run_many(self, requests: Sequence[ComposeRequest]) -> list[ComposeOutput | CadenzaInputError]:
        """Several calls as one batch (requests from different people arriving together): with the latent model, the
        melodies of every request are sampled and decoded in shared batches (engine.pipelines.song_model's
        ``generate_many``), each drawing from its own seed's generator, so each request gets exactly the melodies it
        would get alone. A request with bad input gets its own error in its place; the others still run."""
        prepared: list[_Prepared | CadenzaInputError] = []
        for request in requests:
            try:
                prepared.append(self._prepare(request))
            except CadenzaInputError as err:
                prepared.append(err)
        draws = [(p, p.seed + i) for p in prepared if isinstance(p, _Prepared) for i in range(p.num_samples)]
        if self.song_model is not None:
            jobs = [self._latent_job(p, seeded_generator(seed, self.device)) for p, seed in draws]
            tokens = [t.reshape(-1) for t in self.song_model.generate_many(jobs)]
        else:
            tokens = [
                self.sample_tokens(
                    p.rhythm_classes,
                    p.chroma,
                    p.scale,
                    p.settings.temperature,
                    seeded_generator(seed, self.device),
                    p.functions,
                    p.settings,
                )
                for p, seed in draws
            ]
        melodies = iter(tokens)
        outputs: list[ComposeOutput | CadenzaInputError] = []
        for p in prepared:
            if isinstance(p, CadenzaInputError):
                outputs.append(p)
                continue
            sheets = [p.leadsheet(next(melodies), index) for index in range(p.num_samples)]
            outputs.append(ComposeOutput(sheets, [p.seed + i for i in range(p.num_samples)]))
        return outputs

    def _prepare(self, request: ComposeRequest) -> _Prepared:
        """A request checked (raises CadenzaInputError) and turned into the model's conditions."""
        settings = (request.generation or self.generation).override(temperature=request.temperature)
        onsets = self.validate(
            request.rhythm, request.num_bars, request.tempo_bpm, request.seed, settings.temperature, request.num_samples
        )
        if request.register_shift not in (-24, -12, 0, 12, 24):
            raise CadenzaInputError(
                "Register shift must be a whole number of octaves from -24 to 24 semitones "
                f"(got {request.register_shift!r})"
            )
        num_bars = int(request.num_bars)
        scale = _checked_scale(request.key)
        progression = parse_progression(request.chords, num_bars, STEPS_PER_BAR_44)
        num_steps = num_bars * STEPS_PER_BAR_44
        padded = -(-num_steps // WINDOW_STEPS) * WINDOW_STEPS  # odd bar counts: pad to whole windows
        onset_mask = np.zeros(padded, dtype=bool)
        onset_mask[:num_steps] = onsets
        chroma = progression.chroma(padded)
        functions = SongModel.functions(progression, request.key, padded // WINDOW_STEPS) if self.song_model else None
        return _Prepared(
            settings,
            onsets_to_rhythm(onset_mask),
            chroma,
            scale,
            functions,
            progression,
            num_steps,
            int(request.seed),
            int(request.num_samples),
            int(request.register_shift),
            float(request.tempo_bpm),
            request.key,
        )

    @torch.no_grad()
    def sample_tokens(
        self,
        rhythm: np.ndarray,
        chroma: np.ndarray,
        scale: tuple[int, ...],
        temperature: float,
        generator: torch.Generator,
        functions: np.ndarray | None = None,
        generation: MelodyGenerationConfig | None = None,
    ) -> np.ndarray:
        """Melody tokens (T,) for rhythm classes (T,) and chroma (T, 12), T a multiple of 32.

        ``scale`` holds the pitch classes that get no penalty (all 12 for none); ``functions`` (W, 8)
        the chord-function classes per beat (default: read from the chroma, see
        engine.music.tonality.functions_from_chroma).
        """
        num_windows = len(rhythm) // WINDOW_STEPS
        windows_rhythm = rhythm.reshape(num_windows, WINDOW_STEPS)
        windows_chroma = chroma.reshape(num_windows, WINDOW_STEPS, 12)
        settings = generation or self.generation
        controls = settings.controls(scale)
        if self.song_model is not None:
            job = self._song_job(windows_rhythm, windows_chroma, controls, temperature, generator, functions, settings)
            return self.song_model.generate_many([job])[0].reshape(-1)
        return self._sample_from_prior(
            windows_rhythm, windows_chroma, controls, temperature, generator, settings.candidates
        )

    def _latent_job(self, p: _Prepared, generator: torch.Generator) -> SongJob:
        """One melody of a prepared request as the latent model's job (what :meth:`sample_tokens` would run)."""
        num_windows = len(p.rhythm_classes) // WINDOW_STEPS
        return self._song_job(
            p.rhythm_classes.reshape(num_windows, WINDOW_STEPS),
            p.chroma.reshape(num_windows, WINDOW_STEPS, 12),
            p.settings.controls(p.scale),
            p.settings.temperature,
            generator,
            p.functions,
            p.settings,
        )

    def _song_job(
        self,
        rhythm: np.ndarray,
        chroma: np.ndarray,
        controls: DecodeControls,
        temperature: float,
        generator: torch.Generator,
        functions: np.ndarray | None,
        settings: MelodyGenerationConfig,
    ) -> SongJob:
        """Every window of a tune to fill: rhythm (W, 32) classes, chroma (W, 32, 12)."""
        song = self.song_model
        assert song is not None  # called only with the latent model
        w = len(rhythm)
        if functions is None:
            functions = functions_from_chroma(chroma)
        zeros = torch.zeros(w, song.vae.config.z_pitch), torch.zeros(w, song.vae.config.z_rhythm)
        base = TuneLatents(np.full((w, WINDOW_STEPS), REST, np.int64), chroma, *zeros)
        # The drawn rhythm is known as a pattern; its latent is sampled (a placeholder melody's would carry false
        # pitch).
        return SongJob(
            base,
            range(w),
            rhythm,
            np.ones(w, bool),
            np.zeros(w, bool),
            functions,
            controls,
            generator,
            float(temperature),
            "left_to_right",
            settings.decode_temperature,
            settings.candidates,
        )

    def _sample_from_prior(
        self,
        windows_rhythm: np.ndarray,
        windows_chroma: np.ndarray,
        controls: DecodeControls,
        temperature: float,
        generator: torch.Generator,
        candidates: int,
    ) -> np.ndarray:
        model, device, k = self.model, self.device, candidates
        cfg = model.config
        num_windows = len(windows_rhythm)
        scale = controls.scale
        placeholder = torch.from_numpy(np.stack([self._placeholder_melody(r, scale) for r in windows_rhythm])).to(
            device
        )
        chroma_t = torch.from_numpy(windows_chroma).to(device)
        _, _, z_rhythm, _ = model.encode(placeholder, chroma_t)  # (W, Zr): posterior means

        # All windows x candidates in one batch: (W*K, ...).
        z_pitch = torch.randn(num_windows * k, cfg.z_pitch, generator=generator, device=generator.device).to(device)
        z_r = z_rhythm.repeat_interleave(k, 0)
        tokens, _ = decode_windows(
            model,
            z_pitch,
            z_r,
            np.repeat(windows_chroma, k, 0),
            np.repeat(windows_rhythm, k, 0),
            controls,
            temperature,
            generator,
        )
        tokens = tokens.reshape(num_windows, k, WINDOW_STEPS)

        chosen, last_pitch = [], None
        for w in range(num_windows):
            scores = [join_cost(tokens[w, j], last_pitch, None, scale) for j in range(k)]
            best = tokens[w, int(np.argmin(scores))]
            chosen.append(best)
            pitches = best[best < HOLD]
            if len(pitches):
                last_pitch = int(pitches[-1])
        return np.concatenate(chosen)

    @staticmethod
    def _placeholder_melody(rhythm: np.ndarray, scale: tuple[int, ...]) -> np.ndarray:
        """A melody with the requested rhythm (one repeated pitch) to encode z_rhythm from."""
        tonic = 60 + scale[0] if 60 + scale[0] <= 71 else 48 + scale[0]
        tokens = np.where(rhythm == ONSET, tonic, np.where(rhythm == SUSTAIN, HOLD, REST))
        return tokens.astype(np.int64)


def _octave_into_range(pitch: int) -> int:
    """A MIDI pitch moved by octaves into 0..127."""
    while pitch < 0:
        pitch += 12
    while pitch > 127:
        pitch -= 12
    return pitch


def chords_for_display(progression: ChordProgression, num_bars: int) -> list[str]:
    return progression.symbols_per_bar(STEPS_PER_BAR_44, num_bars)
