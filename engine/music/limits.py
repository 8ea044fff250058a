"""What the studio accepts, defined once: bars, tempo, seed, temperature and counts, read by the engine and the app.

Every number that reaches the engine from a user or an API call is checked with :func:`check_number`
(or a range's :meth:`IntRange.check` / :meth:`FloatRange.check`), which names the argument and its range.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import cast

from engine.music.errors import CadenzaInputError


def check_number(
    name: str,
    value: object,
    low: float,
    high: float,
    integer: bool = False,
    error: type[CadenzaInputError] = CadenzaInputError,
) -> None:
    """Raise ``error`` naming ``name`` unless value is a finite (whole, if ``integer``) number in [low, high]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or (integer and not float(value).is_integer())
    ):
        raise error(f"{name} must be {'a whole number' if integer else 'a number'} (got {value!r})")
    real = cast(float, value)  # a numbers.Real: typeshed's numeric tower neither compares with float nor has __int__
    if not low <= real <= high:
        shown = (int(low), int(high), int(real)) if integer else (f"{low:g}", f"{high:g}", f"{float(real):g}")
        raise error(f"{name} must be between {shown[0]} and {shown[1]} (got {shown[2]})")


@dataclass(frozen=True)
class IntRange:
    """Whole numbers from ``low`` to ``high`` (both included)."""

    low: int
    high: int

    def check(self, name: str, value: object, error: type[CadenzaInputError] = CadenzaInputError) -> int:
        """``value`` as an int; raises ``error`` naming ``name`` and this range otherwise."""
        check_number(name, value, self.low, self.high, integer=True, error=error)
        whole: int = int(value)  # type: ignore[call-overload]  # checked: a whole real number
        return whole


@dataclass(frozen=True)
class FloatRange:
    """Numbers from ``low`` to ``high`` (both included)."""

    low: float
    high: float

    def check(self, name: str, value: object, error: type[CadenzaInputError] = CadenzaInputError) -> float:
        """``value`` as a float; raises ``error`` naming ``name`` and this range otherwise."""
        check_number(name, value, self.low, self.high, error=error)
        return float(value)  # type: ignore[arg-type]  # checked: a finite real number


SEED = IntRange(0, 2**31 - 1)
TEMPO_BPM = FloatRange(20.0, 300.0)
TEMPERATURE = FloatRange(0.0, 3.0)  # what the pipelines accept (command line, Python API)
# The studio's temperature sliders stop at 2 (beyond it the melodies wander off the chords); Compose starts at 0.1.
COMPOSE_TEMPERATURE = FloatRange(0.1, 2.0)
SONG_TEMPERATURE = FloatRange(0.0, 2.0)
VARIATIONS = IntRange(1, 8)  # melodies per call (Compose, Song)

# Bars a user can ask for, per task.
COMPOSE_BARS = IntRange(2, 16)
EXPLORE_BARS = IntRange(2, 16)  # a source is cut to at most 16 bars (8 windows of 4/4)
SONG_BARS = IntRange(8, 32)  # a new song; a song holds at most 16 blocks of 2 bars
STYLE_BARS = IntRange(2, 16)  # even: 2-bar windows
EMOTION_BARS = IntRange(8, 32)
HARMONIZE_BARS = IntRange(1, 32)  # a melody given chords (Arrange): at most 32 bars
CHORD_ALTERNATIVES = IntRange(1, 5)  # choices shown per chord slot
EMOTION_VARIATIONS = IntRange(1, 4)
STYLE_VARIATIONS = IntRange(1, 4)

# Explore: interpolation steps (end points included), the map's size, the cells a morph may join.
INTERPOLATION_STEPS = IntRange(2, 12)
MAP_SIZE = IntRange(2, 7)
MAX_MORPH_CELLS = 64
STYLE_MORPH_STEPS = IntRange(2, 12)

# Song: the bars one Continue adds (the song's own length caps it too: at most 32 bars in all).
CONTINUE_BARS = IntRange(2, 16)
