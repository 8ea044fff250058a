"""Latency of the Emotion tab through the studio's API (``/emotion``), and the ABC model's speed in-process.

* One 16-bar melody for a point of the valence-arousal pad (the sad corner by default), through Gradio's HTTP API
  in one session (gradio_client's figure beside it), until its audio has been fetched as the page's player fetches
  it: the model samples the ABC, the template is applied, music21 reads the tune, the audio is rendered and the ABC,
  MIDI, MusicXML and WAV files are written. Target on 2-core CPUs: p50 <= 1.0 s.
* The model's characters of ABC per second, sampling in this process (one thread).
Called by ``python -m bench``; also runnable alone against a running studio::

    python -m bench.emotion_bench http://127.0.0.1:7860/
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid

from bench.stats import http_api_call, percentile, player_audio

SAD_CORNER = "-1,-1"
INSTRUMENT = "Acoustic Grand Piano"


def emotion_arguments(seed: int, point: str = SAD_CORNER, bars: int = 16) -> list:
    """Inputs of ``/emotion``: the pad's point ("valence,arousal"), bars, seed, instrument, variations."""
    return [point, bars, seed, INSTRUMENT, 1]


def _wav_url(result) -> str:
    """The URL of the tune's audio for the player in an /emotion reply."""
    return player_audio(result, "/emotion")["url"]


def emotion_latency(url: str, calls: int = 10) -> dict:
    """p50/p95 milliseconds from pressing Generate (one 16-bar melody) until its audio is on the client: through
    Gradio's HTTP API in one session (the figure the target checks: bench.stats.http_api_call says why), and the same
    calls through gradio_client beside it."""
    import httpx
    from gradio_client import Client

    session = uuid.uuid4().hex
    times, with_client = [], []
    with httpx.Client(timeout=60) as http:
        for i in range(-2, calls):  # two warm-up calls
            started = time.perf_counter()
            result = http_api_call(http, url, "emotion", emotion_arguments(seed=max(i, 0)), session)
            http.get(_wav_url(result)).raise_for_status()
            if i >= 0:
                times.append((time.perf_counter() - started) * 1000)
        client = Client(url, verbose=False, download_files=False)
        for i in range(max(3, calls // 2)):
            started = time.perf_counter()
            result = client.predict(*emotion_arguments(seed=i), api_name="/emotion")
            http.get(_wav_url(result)).raise_for_status()
            with_client.append((time.perf_counter() - started) * 1000)
    return {
        "calls": calls,
        "bars": 16,
        "point": SAD_CORNER,
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "mean_ms": round(statistics.mean(times), 1),
        "gradio_client": {
            "calls": len(with_client),
            "p50_ms": round(percentile(with_client, 50), 1),
            "p95_ms": round(percentile(with_client, 95), 1),
        },
    }


def model_speed(checkpoint: str, tunes: int = 8) -> dict:
    """Characters of ABC the model writes per second (16 bars, the four quadrants in turn, one thread)."""
    import torch

    from engine.music.constants import QUADRANTS
    from engine.pipelines.emotion import EmotionPipeline

    torch.set_num_threads(1)
    pipe = EmotionPipeline.from_pretrained(checkpoint)
    pipe.sample_abc({"Q1": 1.0}, 16, torch.Generator().manual_seed(0))  # warm-up
    chars, started = 0, time.perf_counter()
    for i in range(tunes):
        chars += len(pipe.sample_abc({QUADRANTS[i % 4]: 1.0}, 16, torch.Generator().manual_seed(i)))
    seconds = time.perf_counter() - started
    return {
        "tunes": tunes,
        "characters_per_second": round(chars / seconds, 1),
        "seconds_per_tune": round(seconds / tunes, 3),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    url = argv[0] if argv else "http://127.0.0.1:7860/"
    print(json.dumps(emotion_latency(url, calls=int(argv[1]) if len(argv) > 1 else 10), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
