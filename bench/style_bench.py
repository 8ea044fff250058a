"""Style tab latency (``make bench``): pieces through ``/style_generate`` until their audio is here.

* ``style_latency``: a 4-bar four-track piece by MusAE; skipped (with the reason in the report) when no MusAE
  checkpoint ships: MusAE is then unavailable.
* ``style_gan_latency``: an 8-bar piece by the style GAN over a typed progression (target p50 <= 400 ms); skipped
  likewise when ``checkpoints/stylegan`` is missing.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.stats import percentile, player_audio

STYLE = "Bach chorale"
GAN_CHORDS = "C G Am F"
CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def _latency(url: str, calls: int, bars: int, extra: tuple) -> dict:
    """p50/p95/mean milliseconds of ``/style_generate`` (STYLE, ``bars``, seed, ``extra``), from the call until the
    player's audio has been fetched (two warm-up calls first; call i uses seed i)."""
    import httpx
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    times = []
    with httpx.Client(timeout=60) as http:
        for i in range(-2, calls):  # two warm-up calls
            started = time.perf_counter()
            result = client.predict(STYLE, bars, max(i, 0), *extra, api_name="/style_generate")
            http.get(player_audio(result, "/style_generate")["url"]).raise_for_status()
            if i >= 0:
                times.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "mean_ms": round(statistics.mean(times), 1),
    }


def style_latency(url: str, calls: int = 10) -> dict:
    """p50/p95 milliseconds from pressing Generate (MusAE, 4 bars, four tracks) until the audio is on the client."""
    if not (CHECKPOINTS / "musae" / "config.json").exists():
        return {"skipped": "no checkpoints/musae: MusAE is unavailable"}
    # The generator is left out, as clients written before the GAN send it: they get MusAE.
    return {"calls": calls, "bars": 4, "style": STYLE, **_latency(url, calls, 4, (None, None, None, None))}


def style_gan_latency(url: str, calls: int = 10) -> dict:
    """p50/p95 milliseconds from pressing Generate (the GAN, 8 bars over GAN_CHORDS) until the audio is on the
    client."""
    if not (CHECKPOINTS / "stylegan" / "config.json").exists():
        return {"skipped": "no checkpoints/stylegan: the style GAN is unavailable"}
    return {
        "calls": calls,
        "bars": 8,
        "style": STYLE,
        "generator": "GAN",
        "chords": GAN_CHORDS,
        **_latency(url, calls, 8, (None, None, None, None, "GAN", GAN_CHORDS)),
    }
