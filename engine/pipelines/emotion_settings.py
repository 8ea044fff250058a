"""How the ABC emotion model samples (checkpoints/abc_emotion/generation.json): EMusicGen's sampling, the grammar's
keys, the draw and check, and the steering toward the asked feeling (see engine.pipelines.emotion)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.pipelines.base import GenerationConfig


@dataclass(frozen=True)
class EmotionGenerationConfig(GenerationConfig):
    """How the ABC model samples (checkpoints/abc_emotion/generation.json).

    EMusicGen's sampling (``temperature`` 1.2, ``top_k`` 8, ``top_p`` 0.8) inside the token grammar, in keys of at
    most ``max_key_accidentals`` sharps or flats (transposition taught the model keys like D#m, which folk players
    rarely read and whose melodies it writes worse); the draw and check: up to ``max_attempts`` draws of a tune, a tune
    that plays one bar more than ``max_bar_repeats`` times in a row (or misses the asked mode) drawn again. The
    steering (``guidance``, ``guidance_against``, ``keep_mode_third``, ``home_emphasis``): see the module docstring.
    """

    temperature: float = 1.2
    top_k: int = 8
    top_p: float = 0.8
    max_key_accidentals: int = 4
    max_attempts: int = 6
    max_bar_repeats: int = 3
    end_on_tonic: bool = False  # the tune's last note is the key's tonic (a cadence the key analysis hears)
    keep_mode_third: bool = False  # never the other mode's third (A natural in F minor): the mode stays the asked one
    # Guidance toward the asked quadrant against the prompts of guidance_against (AbcLanguageModel.generate); 0: none.
    guidance: float = 0.0
    # "all": against the four quadrants' mixture; "opposite": against the quadrant across both axes (half the cost)
    guidance_against: str = "all"
    home_emphasis: float = 0.0  # log-probability added to notes on the key's tonic and fifth

    def __post_init__(self) -> None:
        if self.guidance_against not in ("all", "opposite"):
            raise ValueError(f"guidance_against is 'all' or 'opposite', not {self.guidance_against!r}")
        if self.guidance < 0:
            raise ValueError(f"guidance must be >= 0, not {self.guidance}")


OPPOSITE = {"Q1": "Q3", "Q2": "Q4", "Q3": "Q1", "Q4": "Q2"}  # across both axes: the feeling least like it
