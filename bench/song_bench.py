"""Latency of the Song tab's Continue and Infill through the studio's API (``/song_continue``, ``/song_infill``).

* Continue 8 -> 16 bars: an 8-bar song is made first (``/song_new``, not timed), then the
  timed call adds 8 bars: the latent model fills 4 blocks, EC2-VAE decodes them, the
  timeline is redrawn and the whole 16 bars are rendered to audio, which is then
  fetched as the page's player fetches it.
* Infill of 2 blocks: on that 16-bar song, blocks 2 and 3 are rewritten and the song
  re-rendered; again until the audio is on the client.
Called by ``python -m bench`` (target: p50 <= 400 ms each on 2-core CPUs); also runnable
alone against a running studio::

    python -m bench.song_bench http://127.0.0.1:7860/
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from bench.stats import percentile

CHORDS = "C Am F G"
INSTRUMENT = "Acoustic Grand Piano"
RHYTHM = "x...x...x.x.x...|x.......x..x.x.."  # a drawn rhythm: every bar has notes, whatever the model


def new_song_arguments(bars: int, seed: int = 1) -> list:
    """Inputs of ``/song_new``: chords, bars, key, functions, tempo, rhythm from the grid, grid, seed, temperature,
    instrument."""
    return [CHORDS, bars, "C", "", 120, True, RHYTHM, seed, 0.5, INSTRUMENT]


def _audio_url(result: tuple) -> str:
    audio = result[3]
    if isinstance(audio, dict) and audio.get("url"):
        return audio["url"]
    raise RuntimeError(f"no audio in the reply: status {str(result[0])[:200]}")


def _summary(times: list[float]) -> dict:
    return {
        "calls": len(times),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "mean_ms": round(statistics.mean(times), 1),
    }


def song_latency(url: str, calls: int = 10) -> dict:
    """p50/p95 of Continue (8 -> 16 bars) and of Infill (2 blocks of 16 bars), each until the audio has arrived."""
    import httpx
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    continue_times, infill_times = [], []
    with httpx.Client(timeout=30) as http:
        for i in range(-2, calls):  # two warm-up rounds
            client.predict(*new_song_arguments(8, seed=max(i, 0) + 1), api_name="/song_new")
            started = time.perf_counter()
            result = client.predict(8, "", max(i, 0), 0.5, INSTRUMENT, api_name="/song_continue")
            http.get(_audio_url(result)).raise_for_status()
            elapsed = (time.perf_counter() - started) * 1000
            if "16 bars" not in str(result[1]):
                raise RuntimeError(f"/song_continue did not make 16 bars: {str(result[0])[:300]}")
            started = time.perf_counter()
            result = client.predict([2, 3], "keep", "", max(i, 0), 0.5, INSTRUMENT, api_name="/song_infill")
            http.get(_audio_url(result)).raise_for_status()
            infilled = (time.perf_counter() - started) * 1000
            if i >= 0:
                continue_times.append(elapsed)
                infill_times.append(infilled)
    return {"continue_8_to_16_bars": _summary(continue_times), "infill_2_blocks_of_16_bars": _summary(infill_times)}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    url = argv[0] if argv else "http://127.0.0.1:7860/"
    print(json.dumps(song_latency(url, calls=int(argv[1]) if len(argv) > 1 else 10), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
