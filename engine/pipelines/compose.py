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
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from engine.chords import parse_progression
from engine.device import resolve_device
from engine.errors import CadenzaInputError, RhythmPatternError
from engine.models.checkpoint import load_ec2vae
from engine.models.ec2vae import EC2VAE
from engine.models.latent import LatentSequenceModel
from engine.music import ChordProgression, LeadSheet, Melody
from engine.pipelines.decoding import DecodeControls, decode_windows, join_cost
from engine.pipelines.song import (
    CHORD_TONE_BIAS,
    DEFAULT_LATENT,
    DEFAULT_TEMPERATURE,
    DEFAULT_VAE,
    REPEAT_PENALTY,
    SongModel,
    TuneLatents,
)
from engine.representation import (
    HOLD,
    STEPS_PER_BAR_44,
    WINDOW_STEPS,
    onsets_to_rhythm,
    parse_rhythm_pattern,
    tokens_to_notes,
)
from engine.tonality import KEYS, NOTE_NAMES, functions_from_chroma  # noqa: F401 (KEYS, NOTE_NAMES re-exported)
from engine.tonality import scale_pitch_classes as _scale_of
from engine.validation import check_number

log = logging.getLogger(__name__)

MIN_BARS, MAX_BARS = 2, 16
MAX_SAMPLES = 8
DEFAULT_CHECKPOINT = DEFAULT_VAE


def scale_pitch_classes(key: str) -> tuple[int, ...]:
    """Pitch classes of a key such as "G" or "F#m" (one of KEYS); raises CadenzaInputError for unknown keys."""
    if key not in KEYS:
        raise CadenzaInputError(f"Unknown key '{key}': choose one of {', '.join(KEYS)}")
    return _scale_of(key)


@dataclass
class ComposeOutput:
    leadsheets: list[LeadSheet]
    seeds: list[int] = field(default_factory=list)


class ComposePipeline:
    """Rhythm + chords + key -> melodies. Inference only; one ``__call__``."""

    def __init__(
        self,
        model: EC2VAE,
        latent: LatentSequenceModel | None = None,
        candidates: int = 4,
        pitch_range: tuple[int, int] = (55, 88),
        chord_tone_bias: float | None = None,
        decode_temperature: float = 0.0,
        repeat_penalty: float | None = None,
    ):
        """``latent``: a LatentSequenceModel for the pitch latents (None: EC2-VAE's prior).

        ``chord_tone_bias``: logit bonus for chord tones at onsets. Sampled from the prior, the
        decoder put 46% of note time on chord tones against 79% in held-out Nottingham tunes, and a
        bonus of 3.0 raised it to 68%. With the latent model a bonus of 1.0 and a penalty of 2.0 on
        repeating the previous pitch (``repeat_penalty``) bring its melodies' statistics to the real
        tunes' (engine.pipelines.song.CHORD_TONE_BIAS, REPEAT_PENALTY; the model card has the figures).
        Defaults: 3.0 and 0 with the prior, those with the latent model.
        """
        self.model = model.eval()
        self.song_model = SongModel(model, latent, candidates) if latent is not None else None
        self.candidates = candidates
        self.pitch_range = pitch_range
        with_latent = latent is not None
        self.chord_tone_bias = (CHORD_TONE_BIAS if with_latent else 3.0) if chord_tone_bias is None else chord_tone_bias
        self.repeat_penalty = (REPEAT_PENALTY if with_latent else 0.0) if repeat_penalty is None else repeat_penalty
        self.decode_temperature = decode_temperature  # with the latent model; 0 decodes greedily

    @classmethod
    def from_pretrained(
        cls,
        path_or_name: str | Path = DEFAULT_CHECKPOINT,
        device: str | None = None,
        latent: str | Path | None = DEFAULT_LATENT,
    ) -> ComposePipeline:
        """Load the EC2-VAE folder and the latent sequence model ``latent`` ("debug": tiny untrained ones).

        With ``latent=None``, or when the default latent folder is missing or was trained on another
        EC2-VAE's latents (e.g. beside a freshly trained EC2-VAE), Compose draws from the prior (logged).
        A latent folder named explicitly must exist and match.
        """
        resolved = resolve_device(device)
        if str(path_or_name) == "debug":
            song = SongModel.debug(resolved)
            return cls(song.vae, song.latent)
        if latent is None:
            return cls(load_ec2vae(path_or_name, resolved))
        is_default = Path(latent).resolve() == Path(DEFAULT_LATENT).resolve()
        try:
            song = SongModel.from_pretrained(path_or_name, latent, resolved)
        except (FileNotFoundError, ValueError) as err:
            if not is_default:
                raise
            log.warning("Compose draws pitch latents from the prior: %s", err)
            return cls(load_ec2vae(path_or_name, resolved))
        return cls(song.vae, song.latent)

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
        check_number("Bars", num_bars, MIN_BARS, MAX_BARS, integer=True)
        check_number("Tempo (BPM)", tempo_bpm, 20, 300)
        check_number("Seed", seed, 0, 2**31 - 1, integer=True)
        check_number("Temperature", temperature, 0, 3)
        check_number("Variations", num_samples, 1, MAX_SAMPLES, integer=True)
        onsets = parse_rhythm_pattern(rhythm, STEPS_PER_BAR_44)
        pattern_bars = len(onsets) // STEPS_PER_BAR_44
        if pattern_bars > num_bars:
            raise RhythmPatternError(f"The rhythm has {pattern_bars} bars but only {num_bars} were asked for")
        # A shorter pattern repeats, like a drum loop.
        return np.resize(onsets, int(num_bars) * STEPS_PER_BAR_44)

    # --------------------------------------------------------------- inference
    @torch.no_grad()
    def __call__(
        self,
        rhythm: str,
        chords: str,
        num_bars: int,
        key: str = "C",
        tempo_bpm: float = 120.0,
        seed: int = 0,
        temperature: float = DEFAULT_TEMPERATURE,
        num_samples: int = 1,
        register_shift: int = 0,
    ) -> ComposeOutput:
        """Melodies whose onsets are exactly the 'x' steps of ``rhythm`` over ``chords``; ``register_shift``
        (-24, -12, 0, 12 or 24 semitones) moves the finished melody by whole octaves (an emotion's register)."""
        onsets = self.validate(rhythm, num_bars, tempo_bpm, seed, temperature, num_samples)
        if register_shift not in (-24, -12, 0, 12, 24):
            raise CadenzaInputError(
                f"Register shift must be a whole number of octaves from -24 to 24 semitones (got {register_shift!r})"
            )
        num_bars, seed, num_samples = int(num_bars), int(seed), int(num_samples)
        scale = scale_pitch_classes(key)
        progression = parse_progression(chords, num_bars, STEPS_PER_BAR_44)

        num_steps = num_bars * STEPS_PER_BAR_44
        padded = -(-num_steps // WINDOW_STEPS) * WINDOW_STEPS  # odd bar counts: pad to whole windows
        onset_mask = np.zeros(padded, dtype=bool)
        onset_mask[:num_steps] = onsets
        rhythm_classes = onsets_to_rhythm(onset_mask)
        chroma = progression.chroma(padded)
        functions = SongModel.functions(progression, key, padded // WINDOW_STEPS) if self.song_model else None

        leadsheets = []
        for index in range(num_samples):
            generator = torch.Generator(device="cpu").manual_seed(seed + index)
            tokens = self.sample_tokens(rhythm_classes, chroma, scale, temperature, generator, functions)
            notes = [
                replace(n, pitch=_octave_into_range(n.pitch + register_shift))
                for n in tokens_to_notes(tokens[:num_steps])
            ]
            melody = Melody(notes, num_steps, float(tempo_bpm), (4, 4), 0, key)
            leadsheets.append(LeadSheet(melody, progression, title=f"Variation {index + 1} (seed {seed + index})"))
        return ComposeOutput(leadsheets, [seed + i for i in range(num_samples)])

    def controls(self, scale: tuple[int, ...]) -> DecodeControls:
        """How this pipeline decodes for a key's ``scale``: its pitch range, chord-tone bonus and repeat penalty."""
        return DecodeControls(
            pitch_range=self.pitch_range,
            scale=scale,
            chord_tone_bias=self.chord_tone_bias,
            repeat_penalty=self.repeat_penalty,
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
    ) -> np.ndarray:
        """Melody tokens (T,) for rhythm classes (T,) and chroma (T, 12), T a multiple of 32.

        ``scale`` holds the pitch classes that get no penalty (all 12 for none); ``functions`` (W, 8)
        the chord-function classes per beat (default: read from the chroma, see
        engine.tonality.functions_from_chroma).
        """
        num_windows = len(rhythm) // WINDOW_STEPS
        windows_rhythm = rhythm.reshape(num_windows, WINDOW_STEPS)
        windows_chroma = chroma.reshape(num_windows, WINDOW_STEPS, 12)
        controls = self.controls(scale)
        if self.song_model is not None:
            return self._sample_with_latent_model(
                windows_rhythm, windows_chroma, controls, temperature, generator, functions
            )
        return self._sample_from_prior(windows_rhythm, windows_chroma, controls, temperature, generator)

    def _sample_with_latent_model(
        self,
        rhythm: np.ndarray,
        chroma: np.ndarray,
        controls: DecodeControls,
        temperature: float,
        generator: torch.Generator,
        functions: np.ndarray | None,
    ) -> np.ndarray:
        song = self.song_model
        w = len(rhythm)
        if functions is None:
            functions = functions_from_chroma(chroma)
        zeros = torch.zeros(w, song.vae.config.z_pitch), torch.zeros(w, song.vae.config.z_rhythm)
        base = TuneLatents(np.full((w, WINDOW_STEPS), 129, np.int64), chroma, *zeros)
        # The drawn rhythm is known as a pattern; its latent is sampled (a placeholder melody's would carry false pitch).
        tokens = song.generate(
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
            self.decode_temperature,
        )
        return tokens.reshape(-1)

    def _sample_from_prior(
        self,
        windows_rhythm: np.ndarray,
        windows_chroma: np.ndarray,
        controls: DecodeControls,
        temperature: float,
        generator: torch.Generator,
    ) -> np.ndarray:
        model, device, k = self.model, self.device, self.candidates
        cfg = model.config
        num_windows = len(windows_rhythm)
        scale = controls.scale
        placeholder = torch.from_numpy(np.stack([self._placeholder_melody(r, scale) for r in windows_rhythm])).to(
            device
        )
        chroma_t = torch.from_numpy(windows_chroma).to(device)
        _, _, z_rhythm, _ = model.encode(placeholder, chroma_t)  # (W, Zr): posterior means

        # All windows x candidates in one batch: (W*K, ...).
        z_pitch = torch.randn(num_windows * k, cfg.z_pitch, generator=generator).to(device)
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
        from engine.representation import ONSET, REST, SUSTAIN

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
