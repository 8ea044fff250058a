"""Turning EC2-VAE latents into melody tokens under the studio's controls (shared by the pipelines).

* rhythm: when a rhythm is given (onset / hold / rest per step) the pitch decoder is fed it and
  its output is masked so that notes start exactly there; otherwise EC2-VAE's rhythm decoder
  makes one from z_rhythm (greedy) and the same mask applies;
* pitch range: onsets outside ``pitch_range`` are forbidden;
* key: out-of-scale pitches get a logit penalty (soft, so chromatic chord tones survive);
* chords: the decoder is chord-conditioned; ``chord_tone_bias`` adds a bonus to the tones of
  the chord sounding at an onset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engine.models.ec2vae import EC2VAE
from engine.music.constants import HOLD, NUM_PITCH_TOKENS, ONSET, REST, SILENCE, SUSTAIN, WINDOW_STEPS
from engine.pipelines.base import GenerationConfig

CHROMATIC = tuple(range(12))


@dataclass(frozen=True)
class MelodyGenerationConfig(GenerationConfig):
    """How the EC2-VAE family samples melodies (Compose, Song): latent sampling, candidates and decoding bonuses.

    ``temperature`` scales the sampling of the pitch latents (the latent model's, or EC2-VAE's prior decoded at it);
    of ``candidates`` samples the one that joins its neighbours with the smallest leaps is kept; onsets stay in
    ``pitch_range``; pitches outside the key lose ``out_of_key_penalty`` (logits), the chord's tones at an onset gain
    ``chord_tone_bias`` and the previous note's pitch loses ``repeat_penalty``; ``decode_temperature`` samples the
    decoder after the latent model (0: greedy, so a latent means one melody).
    """

    temperature: float = 0.5
    candidates: int = 4
    pitch_range: tuple[int, int] = (55, 88)
    out_of_key_penalty: float = 2.0
    chord_tone_bias: float = 1.0
    repeat_penalty: float = 2.0
    decode_temperature: float = 0.0

    def controls(self, scale: tuple[int, ...], pitch_range: tuple[int, int] | None = None) -> DecodeControls:
        """The decoding controls for a key's ``scale`` (``pitch_range``: this config's unless given)."""
        return DecodeControls(
            pitch_range=pitch_range or self.pitch_range,
            scale=scale,
            out_of_key_penalty=self.out_of_key_penalty,
            chord_tone_bias=self.chord_tone_bias,
            repeat_penalty=self.repeat_penalty,
        )


@dataclass(frozen=True)
class LatentGenerationConfig(MelodyGenerationConfig):
    """The latent sequence model's settings (checkpoints/latent/generation.json), chosen on held-out Nottingham tunes
    (checkpoints/latent/README.md): latent sampling at temperature 0.5; a logit bonus of 1.0 for chord tones at onsets
    (0.71 -> 0.75-0.76 of note time on chord tones; real tunes 0.79-0.81) and a penalty of 2.0 on repeating the
    previous pitch (the decoder repeats notes even from real tunes' latents: 0.155 of intervals against 0.117; with
    the latent model 0.20 -> 0.10-0.12)."""

    chord_tone_bias: float = 1.0
    repeat_penalty: float = 2.0


@dataclass(frozen=True)
class EC2VAEGenerationConfig(MelodyGenerationConfig):
    """Compose without the latent model (checkpoints/ec2vae/generation.json): pitch latents from EC2-VAE's prior
    N(0, I), decoded at ``temperature``. Sampled from the prior, the decoder put 46% of note time on chord tones
    against 79% in held-out Nottingham tunes; a bonus of 3.0 raised it to 68%."""

    chord_tone_bias: float = 3.0
    repeat_penalty: float = 0.0


@dataclass(frozen=True)
class DecodeControls:
    """How latents become notes: allowed pitches, key penalty and chord-tone bonus (logits)."""

    pitch_range: tuple[int, int] = (55, 88)
    scale: tuple[int, ...] = CHROMATIC
    out_of_key_penalty: float = 2.0
    chord_tone_bias: float = 0.0
    repeat_penalty: float = 0.0  # subtracted from the logit of the previous note's pitch at an onset

    def logit_bias(self, rhythm: np.ndarray, chroma: np.ndarray) -> torch.Tensor:
        """(T, 130) additive bias for rhythm classes (T,) and chroma (T, 12): onsets only at ONSET steps
        and within range, HOLD/REST forced elsewhere, key penalty and chord-tone bonus at onsets."""
        bias = np.full((len(rhythm), NUM_PITCH_TOKENS), -np.inf, dtype=np.float32)
        low, high = self.pitch_range
        pitch_bias = np.full(128, -np.inf, dtype=np.float32)
        pitch_bias[low : high + 1] = 0.0
        out_of_key = np.array([p % 12 not in self.scale for p in range(128)])
        pitch_bias[out_of_key & np.isfinite(pitch_bias)] = -self.out_of_key_penalty
        onset = rhythm == ONSET
        bias[onset, :128] = pitch_bias
        if self.chord_tone_bias:
            chord_tones = np.tile(chroma > 0, (1, 11))[:, :128]  # (T, 128): pitch p is a tone of the chord at t
            bias[:, :128] += np.where(onset[:, None] & chord_tones, self.chord_tone_bias, 0.0).astype(np.float32)
        bias[rhythm == SUSTAIN, HOLD] = 0.0
        bias[rhythm == SILENCE, REST] = 0.0
        return torch.from_numpy(bias)


@torch.no_grad()
def decode_windows(
    vae: EC2VAE,
    z_pitch: torch.Tensor,
    z_rhythm: torch.Tensor,
    chroma: np.ndarray,
    rhythm: np.ndarray | None,
    controls: DecodeControls | Sequence[DecodeControls],
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Melody tokens for N windows -> (tokens (N, 32) int64, rhythm classes used (N, 32)).

    z_pitch (N, Zp), z_rhythm (N, Zr), chroma (N, 32, 12); ``rhythm`` (N, 32) classes, or None
    to take the rhythm decoder's (greedy). ``temperature`` 0 decodes pitches greedily. ``controls``: one for every
    window, or one per window (several requests in one batch; their ``repeat_penalty`` must agree).
    """
    per_window = [controls] * len(z_pitch) if isinstance(controls, DecodeControls) else list(controls)
    if len(per_window) != len(z_pitch) or len({c.repeat_penalty for c in per_window}) > 1:
        raise ValueError("decode_windows needs one DecodeControls, or one per window with the same repeat_penalty")
    device = vae.device
    z_pitch, z_rhythm = z_pitch.to(device), z_rhythm.to(device)
    if rhythm is None:
        _, decoded = vae.decode_rhythm(z_rhythm)
        rhythm = decoded.cpu().numpy()
    rhythm = np.asarray(rhythm, dtype=np.int64)
    bias = torch.stack([c.logit_bias(r, ch) for c, r, ch in zip(per_window, rhythm, chroma)]).to(device)
    chroma_t = torch.from_numpy(np.ascontiguousarray(chroma, dtype=np.float32)).to(device)
    rhythm_t = torch.from_numpy(rhythm).to(device)
    _, tokens = vae.decode_pitch(
        z_pitch,
        z_rhythm,
        rhythm_t,
        chroma_t,
        temperature=temperature,
        logit_bias=bias,
        generator=generator,
        repeat_penalty=per_window[0].repeat_penalty if per_window else 0.0,
    )
    return tokens.cpu().numpy(), rhythm


def first_and_last_pitch(tokens: np.ndarray) -> tuple[int | None, int | None]:
    pitches = tokens[tokens < HOLD]
    return (int(pitches[0]), int(pitches[-1])) if len(pitches) else (None, None)


def join_cost(tokens: np.ndarray, before: int | None, after: int | None, scale: tuple[int, ...]) -> float:
    """Lower is better: small leaps into the window (from ``before``) and out of it (to ``after``),
    few out-of-key notes. tokens (T,) of one window or a run of windows."""
    first, last = first_and_last_pitch(tokens)
    if first is None:
        return 0.0
    assert last is not None  # a window with a first pitch has a last one
    cost = 0.0
    if before is not None:
        cost += max(abs(first - before) - 4, 0)
    if after is not None:
        cost += max(abs(last - after) - 4, 0)
    pitches = tokens[tokens < HOLD]
    return cost + 2.0 * sum(int(p) % 12 not in scale for p in pitches)


def windows_of(tokens: np.ndarray) -> np.ndarray:
    """(W*32,) tokens -> (W, 32)."""
    return np.asarray(tokens).reshape(-1, WINDOW_STEPS)
