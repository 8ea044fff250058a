"""Latency of the Explore tab's 2-D map through the studio's API (``/explore_map``).

A 5x5 map between two 2-bar melodies (two shipped examples): each call reads both
sources, encodes them, decodes the 25 cells, draws their SVG piano rolls and renders
every cell's audio to WAV, exactly what the Build map button does. Called by
``python -m bench`` (target: p50 <= 1.5 s on 2-core CPUs); also runnable alone
against a running studio::

    python -m bench.explore_bench http://127.0.0.1:7860/
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from bench.stats import percentile

EXAMPLE_A = "Cuckoo's Nest"
EXAMPLE_B = "Hänschen klein"
SIZE = 5
BARS = 2


def map_arguments(size: int = SIZE, bars: int = BARS, example_a: str = EXAMPLE_A, example_b: str = EXAMPLE_B) -> dict:
    """Keyword arguments of ``/explore_map`` for two examples (no uploads)."""
    return dict(
        kind_a="Example",
        example_a=example_a,
        file_a=None,
        track_a=None,
        start_a=0,
        kind_b="Example",
        example_b=example_b,
        file_b=None,
        track_b=None,
        start_b=0,
        bars=bars,
        chords_mode="A's chords",
        chords_text="",
        size=size,
        instrument="Acoustic Grand Piano",
        cell_chords=False,
    )


def grid_latency(client, calls: int = 10, size: int = SIZE, bars: int = BARS) -> dict:
    """p50/p95 milliseconds of ``/explore_map`` for a ``size`` x ``size`` map of ``bars``-bar melodies."""
    args = map_arguments(size, bars)
    for _ in range(2):  # warm-up: lazy imports, example cache, first renders
        client.predict(**args, api_name="/explore_map")
    times: list[float] = []
    result = None
    for _ in range(calls):
        started = time.perf_counter()
        result = client.predict(**args, api_name="/explore_map")
        times.append((time.perf_counter() - started) * 1000)
    status, map_value = result[0], result[1]
    if isinstance(map_value, dict):  # the map comes back as an update: {"value": ..., "props": {"cells": ...}}
        map_value = map_value.get("value")
    built = f"{size * size} cells" in str(status)
    try:
        reported_size = json.loads(map_value).get("size")
    except (TypeError, ValueError):
        reported_size = None
    return {
        "calls": calls,
        "cells": size * size,
        "bars": bars,
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "mean_ms": round(statistics.mean(times), 1),
        "built": bool(built and reported_size == size),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from gradio_client import Client

    client = Client(argv[0] if argv else "http://127.0.0.1:7860/", verbose=False)
    print(json.dumps(grid_latency(client, calls=int(argv[1]) if len(argv) > 1 else 10), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
