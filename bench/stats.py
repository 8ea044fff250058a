"""Small statistics shared by the benchmarks."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``values``, nearest rank (no interpolation)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# What the page's players fetch: Ogg Opus by default (--player-audio mp3|wav for the others).
PLAYER_SUFFIXES = (".ogg", ".mp3", ".wav")


def player_audio(result: tuple | list, endpoint: str) -> dict:
    """The first audio file (its FileData dict: path, url, size) in an API reply; the player's file comes before any
    WAV download in every reply. Raises RuntimeError naming ``endpoint`` when there is none."""
    for value in result:
        if isinstance(value, dict) and str(value.get("path", "")).endswith(PLAYER_SUFFIXES) and value.get("url"):
            return value
    raise RuntimeError(f"{endpoint} returned no audio: {[str(v)[:120] for v in result][:4]}")
