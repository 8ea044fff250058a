"""EMusicGen's template for a feeling, continuous over the valence-arousal plane, and the prompt it gives the model.

The four quadrants' EMusicGen values sit at the corners (+-1, +-1) and are interpolated bilinearly: tempo range
(BPM), register shift (rounded to whole octaves), loudness (dB, as MIDI velocity) and articulation (share of each
note's length that sounds: short at high arousal); mode: major for valence > ``MODE_ZONE``, minor below
-``MODE_ZONE``, the model's own between (the K: field is rewritten to the parallel mode, as EMusicGen does). Within
``BLEND_ZONE`` of an axis the model is prompted with the two quadrants on either side, their next-token logits mixed
in proportion to the distance.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import torch

from engine.io.abc_text import parse_key_field
from engine.music import Note

QUADRANT_NAMES = {"Q1": "happy", "Q2": "tense", "Q3": "sad", "Q4": "calm"}


# Where each quadrant sits on the (valence, arousal) plane, and EMusicGen's template for it.
CORNERS = {"Q1": (1.0, 1.0), "Q2": (-1.0, 1.0), "Q3": (-1.0, -1.0), "Q4": (1.0, -1.0)}


ANCHORS = {  # tempo range (BPM), mode, register shift (semitones), loudness (dB)
    "Q1": ((160, 184), "major", 0, 5.0),
    "Q2": ((184, 228), "minor", -24, 10.0),
    "Q3": ((40, 69), "minor", -12, 0.0),
    "Q4": ((40, 69), "major", 0, 0.0),
}


BLEND_ZONE = 0.25


MODE_ZONE = 0.1


BASE_VELOCITY = 80


@dataclass(frozen=True)
class EmotionTemplate:
    """What the template sets for one point of the plane."""

    valence: float
    arousal: float
    tempo_range: tuple[float, float]
    mode: str | None  # "major", "minor", or None: the model's own
    register_shift: int  # semitones
    loudness_db: float
    articulation: float  # share of each note's written length that sounds

    def tempo(self, generator: torch.Generator) -> int:
        """A tempo drawn in the range (EMusicGen draws at random in the quadrant's range)."""
        lo, hi = self.tempo_range
        return int(round(lo + (hi - lo) * float(torch.rand((), generator=generator, device=generator.device))))

    def express(self, notes: list[Note]) -> list[Note]:
        """The notes with this template's loudness (velocity) and articulation (sounding share of each length)."""
        velocity = self.velocity
        return [
            Note(n.pitch, n.start, n.start + max(1, int(round((n.end - n.start) * self.articulation))), velocity)
            for n in notes
        ]

    @property
    def velocity(self) -> int:
        # FluidSynth's loudness follows velocity roughly as 40 log10(v): +x dB is a velocity factor of 10^(x/40).
        return int(max(1, min(127, round(BASE_VELOCITY * 10 ** (self.loudness_db / 40)))))


def _bilinear(valence: float, arousal: float, value: Callable[[str], float]) -> float:
    """Bilinear interpolation of ``value(quadrant)`` between the corners of the plane."""
    u, w = (valence + 1) / 2, (arousal + 1) / 2  # 0..1 from negative to positive
    return (1 - u) * (1 - w) * value("Q3") + u * (1 - w) * value("Q4") + (1 - u) * w * value("Q2") + u * w * value("Q1")


def template_at(valence: float, arousal: float) -> EmotionTemplate:
    """The template for a point (each coordinate -1..1); at a corner it is EMusicGen's for that quadrant."""
    lo = round(_bilinear(valence, arousal, lambda q: ANCHORS[q][0][0]), 2)
    hi = round(_bilinear(valence, arousal, lambda q: ANCHORS[q][0][1]), 2)
    mode = "major" if valence > MODE_ZONE else "minor" if valence < -MODE_ZONE else None
    # Whole octaves: a shift by other intervals would only move the tune to another key.
    shift = 12 * int(round(_bilinear(valence, arousal, lambda q: ANCHORS[q][2]) / 12))
    loudness = _bilinear(valence, arousal, lambda q: ANCHORS[q][3])
    articulation = 0.85 - 0.15 * arousal  # legato when calm or sad, detached when excited
    return EmotionTemplate(valence, arousal, (lo, hi), mode, shift, round(loudness, 2), round(articulation, 3))


def prompt_weights(valence: float, arousal: float) -> dict[str, float]:
    """The quadrant(s) that prompt the model and their logit weights (see the module docstring)."""
    own = quadrant_of_point(valence, arousal)
    distances = {"valence": abs(valence), "arousal": abs(arousal)}
    axis = min(distances, key=distances.__getitem__)
    if distances[axis] >= BLEND_ZONE:
        return {own: 1.0}
    # The quadrant across the nearer axis.
    other = quadrant_of_point(-valence if axis == "valence" else valence, -arousal if axis == "arousal" else arousal)
    if other == own:  # on the axis itself: lean to the positive side's partner
        other = quadrant_of_point(
            valence - 1e-9 if axis == "valence" else valence, arousal - 1e-9 if axis == "arousal" else arousal
        )
    weight_own = 0.5 + distances[axis] / (2 * BLEND_ZONE)
    return {own: round(weight_own, 4), other: round(1 - weight_own, 4)} if other != own else {own: 1.0}


def prompt_mode(weights: dict[str, float]) -> str | None:
    """The mode of the key the model writes in: that of the prompt quadrants' valence (Q1/Q4 major, Q2/Q3 minor),
    or None (the model's choice) when they straddle the valence axis."""
    modes = {"major" if q in ("Q1", "Q4") else "minor" for q in weights}
    return modes.pop() if len(modes) == 1 else None


def quadrant_of_point(valence: float, arousal: float) -> str:
    if arousal >= 0:
        return "Q1" if valence >= 0 else "Q2"
    return "Q4" if valence >= 0 else "Q3"


def set_mode(abc: str, mode: str) -> str:
    """The tune with every K: field in ``mode`` ("major" or "minor") on the same tonic (EMusicGen's parallel-mode
    rewrite: notes without accidentals follow the new key signature)."""

    def rewrite(match: re.Match[str]) -> str:
        parsed = parse_key_field(match.group(1))
        if parsed is None:
            return match.group(0)
        tonic = parsed[0]
        return f"K:{tonic}{'m' if mode == 'minor' else ''}"

    return re.sub(r"^K:([^\n]*)$", rewrite, abc, flags=re.M)
