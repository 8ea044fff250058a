"""Arrange latency (``make bench``): 8 bars harmonised and arranged through the API, until the audio is here.

A 2-bar melody is composed first (``/compose``, 8 bars) and uploaded; then each call asks ``/arrange_suggest`` for
its chords and ``/arrange`` for an English folk arrangement over them, and fetches the player's audio: the time from
the first call to the audio on the client, render included. Target on 2-core CPUs: p50 <= 800 ms. Skipped without
the style GAN or the chord suggester.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.stats import percentile, player_audio

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def arrange_latency(url: str, rhythm: str, chords: str, calls: int = 10) -> dict:
    """p50/p95/mean milliseconds of suggest + arrange (8 bars, English folk) until the audio has been fetched."""
    if not all((CHECKPOINTS / name / "config.json").exists() for name in ("stylegan", "harmonizer")):
        return {"skipped": "no checkpoints/stylegan or checkpoints/harmonizer: Arrange is unavailable"}
    import httpx
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, download_files=False)
    composed = client.predict(
        rhythm, chords, 8, "C", 120, "Flute", "Acoustic Grand Piano", 0, 0.8, 1, api_name="/compose"
    )
    midi = next(v for v in composed if isinstance(v, dict) and str(v.get("path", "")).endswith(".mid"))
    with httpx.Client(timeout=60) as http:
        data = http.get(midi["url"])
        data.raise_for_status()
        path = Path(tempfile.mkdtemp(prefix="cadenza_bench_arrange_")) / "melody.mid"
        path.write_bytes(data.content)
        melody = handle_file(str(path))
        times = []
        for i in range(-2, calls):  # two warm-up calls
            started = time.perf_counter()
            suggested = client.predict("Upload MIDI", melody, 8, None, 0, api_name="/arrange_suggest")
            text = suggested[1]
            result = client.predict(
                "Upload MIDI",
                melody,
                8,
                None,
                text,
                "English folk",
                max(i, 0),
                None,
                None,
                None,
                None,
                api_name="/arrange",
            )
            http.get(player_audio(result, "/arrange")["url"]).raise_for_status()
            if i >= 0:
                times.append((time.perf_counter() - started) * 1000)
    return {
        "calls": calls,
        "bars": 8,
        "style": "English folk",
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "mean_ms": round(statistics.mean(times), 1),
    }
