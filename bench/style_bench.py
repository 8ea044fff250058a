"""Style tab latency (``make bench``): a 4-bar four-track piece through ``/style_generate`` until its audio is here.

Skipped (with the reason in the report) when no MusAE checkpoint ships: the Style tab is then unavailable.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.stats import percentile, player_audio

STYLE = "Bach chorale"


def style_latency(url: str, calls: int = 10) -> dict:
    """p50/p95 milliseconds from pressing Generate (4 bars, four tracks) until the audio is on the client."""
    import httpx
    from gradio_client import Client

    if not (Path(__file__).resolve().parents[1] / "checkpoints" / "musae" / "config.json").exists():
        return {"skipped": "no checkpoints/musae: the Style tab is unavailable"}
    client = Client(url, verbose=False, download_files=False)
    times = []
    with httpx.Client(timeout=60) as http:
        for i in range(-2, calls):  # two warm-up calls
            started = time.perf_counter()
            result = client.predict(STYLE, 4, max(i, 0), None, None, None, None, api_name="/style_generate")
            http.get(player_audio(result, "/style_generate")["url"]).raise_for_status()
            if i >= 0:
                times.append((time.perf_counter() - started) * 1000)
    return {"calls": calls, "bars": 4, "style": STYLE, "p50_ms": round(percentile(times, 50), 1),
            "p95_ms": round(percentile(times, 95), 1), "mean_ms": round(statistics.mean(times), 1)}
