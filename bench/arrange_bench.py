"""Arrange latency (``make bench``): 8 bars harmonised and arranged through the API, until the audio is here.

A melody is composed first (``/compose``, 8 bars) and uploaded once, as the page's upload box does; then each call
asks ``/arrange_suggest`` for its chords and ``/arrange`` for an English folk arrangement over them, and fetches the
player's audio: the time from the first request to the audio on the client, render included. The calls go through
Gradio's HTTP API in one session (bench.stats.http_api_call); the same flow through gradio_client, whose message
loop sleeps 50 ms at a time, is reported beside it. Target on 2-core CPUs: p50 <= 800 ms (HTTP API). Skipped
without the style GAN or the chord suggester.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.stats import http_api_call, percentile, player_audio

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def _figures(times: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "mean_ms": round(statistics.mean(times), 1),
    }


def arrange_latency(url: str, rhythm: str, chords: str, calls: int = 10) -> dict:
    """p50/p95/mean milliseconds of suggest + arrange (8 bars, English folk) until the audio has been fetched: through
    the HTTP API (``http_api``: suggest and arrange; ``arrange_only``: the arrange call alone) and gradio_client."""
    if not all((CHECKPOINTS / name / "config.json").exists() for name in ("stylegan", "harmonizer")):
        return {"skipped": "no checkpoints/stylegan or checkpoints/harmonizer: Arrange is unavailable"}
    import httpx
    from gradio_client import Client, handle_file

    session = uuid.uuid4().hex
    with httpx.Client(timeout=60) as http:
        composed = http_api_call(
            http,
            url,
            "compose",
            [rhythm, chords, 8, "C", 120, "Flute", "Acoustic Grand Piano", 0, 0.8, 1, False, ""],
            session,
        )
        midi = next(v for v in composed if isinstance(v, dict) and str(v.get("path", "")).endswith(".mid"))
        data = http.get(midi["url"])
        data.raise_for_status()
        uploaded = http.post(f"{url}gradio_api/upload", files={"files": ("melody.mid", data.content)})
        uploaded.raise_for_status()
        melody = {"path": uploaded.json()[0], "orig_name": "melody.mid", "meta": {"_type": "gradio.FileData"}}

        def arrange_call(text: str, seed: int) -> list:
            args = ["Upload MIDI", melody, 8, None, text, "English folk", seed, None, None, None, None]
            return http_api_call(http, url, "arrange", args, session)

        both, alone = [], []
        for i in range(-2, calls):  # two warm-up calls
            started = time.perf_counter()
            suggested = http_api_call(http, url, "arrange_suggest", ["Upload MIDI", melody, 8, None, 0], session)
            result = arrange_call(suggested[1], max(i, 0))
            http.get(player_audio(result, "/arrange")["url"]).raise_for_status()
            middle = time.perf_counter()
            result = arrange_call(suggested[1], max(i, 0) + 1000)
            http.get(player_audio(result, "/arrange")["url"]).raise_for_status()
            if i >= 0:
                both.append((middle - started) * 1000)
                alone.append((time.perf_counter() - middle) * 1000)

        client = Client(url, verbose=False, download_files=False)
        path = Path(tempfile.mkdtemp(prefix="cadenza_bench_arrange_")) / "melody.mid"
        path.write_bytes(data.content)
        upload = handle_file(str(path))
        with_client = []
        for i in range(-1, max(3, calls // 2)):
            started = time.perf_counter()
            text = client.predict("Upload MIDI", upload, 8, None, 0, api_name="/arrange_suggest")[1]
            result = client.predict(
                "Upload MIDI",
                upload,
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
                with_client.append((time.perf_counter() - started) * 1000)
    return {
        "calls": calls,
        "bars": 8,
        "style": "English folk",
        **_figures(both),
        "arrange_only": _figures(alone),
        "gradio_client": {"calls": len(with_client), **_figures(with_client)},
    }
