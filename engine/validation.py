"""Range checks for numbers that reach the engine straight from a user or an API call."""

from __future__ import annotations

import math
import numbers

from engine.errors import CadenzaInputError


def check_number(
    name: str, value, low: float, high: float, integer: bool = False, error: type[CadenzaInputError] = CadenzaInputError
) -> None:
    """Raise ``error`` naming ``name`` unless value is a finite (whole, if ``integer``) number in [low, high]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or (integer and not float(value).is_integer())
    ):
        raise error(f"{name} must be {'a whole number' if integer else 'a number'} (got {value!r})")
    if not low <= value <= high:
        shown = (int(low), int(high), int(value)) if integer else (f"{low:g}", f"{high:g}", f"{float(value):g}")
        raise error(f"{name} must be between {shown[0]} and {shown[1]} (got {shown[2]})")
