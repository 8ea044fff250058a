"""``make bench``: studio latency, renderer comparison and memory, printed as JSON.

1. Starts the studio (``app.py``) on a free port with the shipped checkpoint, as a user would.
2. Click-to-audio: calls the Compose button's API (``/compose``) through gradio_client for an
   8-bar rhythm and fetches the returned WAV as the page's audio player does (kept-alive
   connection); p50/p95 over N calls. Beside it, plain ``Client.predict``, which also
   downloads the MIDI and opens a new connection per file.
3. Renders one 8-bar MIDI with our warm synth, midi2audio and pretty_midi.fluidsynth, same
   SoundFont, side by side.
4. In headless chromium (when installed): click on Generate until the WAV has arrived
   (bench/browser_latency.py), as a person on the page waits for it.
5. Peak RSS (VmHWM) of the studio process at the end.

6. Song tab: Continue 8 -> 16 bars and Infill of 2 blocks through the API, until the audio
   has arrived (bench/song_bench.py).
7. Emotion tab: one 16-bar melody for the sad corner through the API until its audio has
   arrived, and the ABC model's characters per second in-process (bench/emotion_bench.py).
8. Player audio: the 8-bar piece in each player format (Opus, MP3, WAV): bytes, encode time and
   distances to the WAV (bench/audio_codecs.py).
9. Load: 32 concurrent gradio_client clients composing 8 bars (and fetching the audio) for 60 s
   (``--load-seconds``, 0 skips; ``--load-clients``), on a fresh studio for each configuration side by side: one
   request at a time (``--max-batch 1``) and batched (the default): errors, p50/p95, calls/s, the studio's VmRSS
   and generated-file bytes (its own fresh GRADIO_TEMP_DIR) at start and end (bench/load_bench.py).
10. Style tab: a 4-bar four-track piece by MusAE, and an 8-bar one by the style GAN over typed chords, through
    the API until its audio has arrived (bench/style_bench.py; each skipped without its checkpoint).
12. Arrange: 8 bars harmonised (``/arrange_suggest``) and arranged as English folk (``/arrange``) through Gradio's
    HTTP API in one session until the audio has arrived, and the same through gradio_client (bench/arrange_bench.py;
    skipped without the GAN or the chord suggester).
11. Library: what keeping each result (MIDI and player audio copied, the row committed) adds to a Compose click,
    in process, with and without a library side by side (bench/library_bench.py).

Targets on 2-core CPUs: p50 <= 300 ms; our render >= 3x faster than midi2audio; RSS <= 1.5 GB;
Continue and Infill p50 <= 400 ms each; an emotion melody p50 <= 1.0 s; under load batched: no errors, the
studio's memory grows by 10% at most, throughput at least 3x one-at-a-time's and p95 <= 4 s;
a 4-bar MusAE piece p50 <= 500 ms, an 8-bar GAN piece p50 <= 400 ms;
keeping a result in the library adds at most 30 ms a click (p95); 8 bars harmonised and arranged p50 <= 800 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.stats import free_port, percentile, player_audio, wait_for

ROOT = Path(__file__).resolve().parents[1]
RHYTHM_8_BARS = "|".join(["x...x...x.x.x...", "x.......x..x.x..", "x.x.x.x.x...x...", "x...x...x......."] * 2)
CHORDS = "C Am F G"


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the high-water mark of the process's resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def compose_arguments(seed: int = 1) -> list:
    """The 12 inputs of the Compose button (``/compose``) for the 8-bar bench rhythm (no feeling: the last two)."""
    return [RHYTHM_8_BARS, CHORDS, 8, "C", 120, "Acoustic Grand Piano", "Acoustic Grand Piano", seed, 0.5, 1, False, ""]


def _wav_url(result: tuple) -> str:
    """The URL of variation 1's audio for the player (Ogg Opus by default) in a /compose reply."""
    return player_audio(result, "/compose")["url"]


def click_to_audio(url: str, calls: int) -> dict:
    """Press Generate through the API and time until the audio is on the client.

    As the page does: the job goes through gradio_client (queue, SSE), then the
    player's audio of variation 1 (Ogg Opus by default) is fetched over a kept-alive
    HTTP connection, the way the browser's audio player fetches it. The MIDI, the WAV
    download and the piano roll arrive in the same reply but are not needed to play.
    Also reports the player file's size and, for comparison, the WAV download's.
    """
    import httpx
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    times, sizes, wav_sizes, suffix = [], [], [], ""
    with httpx.Client(timeout=30) as http:
        for i in range(-2, calls):  # two warm-up calls: lazy imports and caches
            started = time.perf_counter()
            result = client.predict(*compose_arguments(seed=max(i, 0)), api_name="/compose")
            audio = http.get(_wav_url(result))
            audio.raise_for_status()
            elapsed = (time.perf_counter() - started) * 1000
            if not audio.content.startswith((b"OggS", b"ID3", b"\xff\xfb", b"\xff\xf3", b"RIFF")):
                raise RuntimeError("the audio fetched for /compose is not an Ogg, MP3 or WAV file")
            if i >= 0:
                times.append(elapsed)
                sizes.append(len(audio.content))
                suffix = Path(player_audio(result, "/compose")["path"]).suffix
                wavs = [v for v in result if isinstance(v, dict) and str(v.get("path", "")).endswith(".wav")]
                wav_sizes += [int(wavs[-1]["size"])] if wavs and wavs[-1].get("size") else []
    return {
        "calls": calls,
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "mean_ms": round(statistics.mean(times), 1),
        "player_audio": suffix,
        "player_audio_bytes": int(statistics.median(sizes)),
        "wav_download_bytes": int(statistics.median(wav_sizes)) if wav_sizes else None,
    }


def predict_with_downloads(url: str, calls: int) -> dict:
    """``Client.predict`` with its defaults: it also downloads every returned file (WAV and MIDI).

    gradio_client opens a new connection per file and hashes each one, so this
    is slower than what the page does; reported beside click-to-audio.
    """
    from gradio_client import Client

    client = Client(url, verbose=False)
    times = []
    for i in range(-1, calls):
        started = time.perf_counter()
        result = client.predict(*compose_arguments(seed=max(i, 0)), api_name="/compose")
        if i >= 0:
            times.append((time.perf_counter() - started) * 1000)
    downloaded = [v for v in result if isinstance(v, str) and Path(v).is_file()]
    return {
        "calls": calls,
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "files_downloaded": sorted(Path(v).suffix for v in downloaded),
    }


def render_comparison(checkpoint: str) -> dict:
    from bench.render_compare import compare_renderers
    from engine.pipelines.compose import ComposePipeline
    from engine.render.export import leadsheet_to_pretty_midi, save_midi

    sheet = ComposePipeline.from_pretrained(checkpoint)(RHYTHM_8_BARS, CHORDS, 8, seed=1).samples[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = save_midi(leadsheet_to_pretty_midi(sheet, 0, 0), Path(tmp) / "bench.mid")
        return compare_renderers(path, repeats=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "ec2vae"))
    parser.add_argument("--load-seconds", type=float, default=60.0, help="length of the load test (0 skips it)")
    parser.add_argument("--load-clients", type=int, default=32, help="concurrent clients in the load test")
    args = parser.parse_args(argv)
    checkpoint = args.checkpoint if (Path(args.checkpoint) / "model.safetensors").exists() else "debug"

    port = free_port()
    # A fresh folder for the studio's uploads, Gradio's cache and its results, so the load test can measure them.
    temp_dir = Path(tempfile.mkdtemp(prefix="cadenza_bench_gradio_"))
    library_dir = Path(tempfile.mkdtemp(prefix="cadenza_bench_library_"))
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", GRADIO_TEMP_DIR=str(temp_dir))
    log_path = library_dir / "studio.log"
    with open(log_path, "wb") as log_file:
        studio = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--checkpoint", checkpoint]
            # the bench's pieces never reach the user's library (nor the swept cache, which the studio refuses to use)
            + ["--data-dir", str(library_dir)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    report: dict = {"checkpoint": checkpoint, "cpu_count": os.cpu_count()}
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, studio)
        from bench.load_bench import wait_for_warm_up

        wait_for_warm_up(log_path)  # app.py warms up beside the starting server: time a quiet studio
        from gradio_client import Client

        report["click_to_audio_8_bars"] = click_to_audio(url, args.calls)
        report["predict_with_all_downloads_8_bars"] = predict_with_downloads(url, max(5, args.calls // 2))
        client = Client(url, verbose=False)
        try:
            from bench.explore_bench import grid_latency  # the 2-D map (latent exploration), when present
        except ImportError:
            grid_latency = None
        if grid_latency is not None:
            report["explore_grid_5x5"] = grid_latency(client)
        from bench.song_bench import song_latency

        report["song"] = song_latency(url, calls=max(5, args.calls // 2))
        from bench.emotion_bench import emotion_latency

        report["emotion_16_bars"] = emotion_latency(url, calls=max(5, args.calls // 2))
        from bench.style_bench import style_gan_latency, style_latency

        report["style_4_bars"] = style_latency(url, calls=max(5, args.calls // 2))
        report["style_gan_8_bars"] = style_gan_latency(url, calls=max(5, args.calls // 2))
        from bench.arrange_bench import arrange_latency

        report["arrange_8_bars"] = arrange_latency(url, RHYTHM_8_BARS, CHORDS, calls=max(5, args.calls // 2))
        from bench import browser_latency

        if browser_latency.available():
            report["browser_click_to_wav_8_bars"] = browser_latency.browser_click_to_audio(url)
        else:
            report["browser_click_to_wav_8_bars"] = "skipped: chromium or Playwright missing (make test installs them)"
        report["studio_peak_rss_mb"] = round(peak_rss_mb(studio.pid), 1)
    finally:
        studio.terminate()
        try:
            studio.wait(timeout=20)
        except subprocess.TimeoutExpired:
            studio.kill()
        shutil.rmtree(temp_dir, ignore_errors=True)
        shutil.rmtree(library_dir, ignore_errors=True)
    if args.load_seconds > 0:  # a fresh studio per configuration: its memory and files colour no other figure
        from bench.load_bench import load_comparison

        report["load"] = load_comparison(checkpoint, clients=args.load_clients, seconds=args.load_seconds)
    report["render"] = render_comparison(checkpoint)
    from bench.library_bench import library_save_cost

    report["library_save"] = library_save_cost(checkpoint, RHYTHM_8_BARS, CHORDS, calls=args.calls)
    from bench.emotion_bench import model_speed

    emotion_checkpoint = ROOT / "checkpoints" / "abc_emotion"
    report["emotion_model"] = model_speed(
        str(emotion_checkpoint) if (emotion_checkpoint / "config.json").exists() else "debug"
    )
    from bench.audio_codecs import codec_report

    report["player_audio_codecs"] = codec_report()
    report["targets"] = {
        "click_to_audio_p50_le_300ms": report["click_to_audio_8_bars"]["p50_ms"] <= 300,
        "player_audio_8_bars_le_300kb": report["click_to_audio_8_bars"]["player_audio_bytes"] <= 300 * 1024,
        "render_ge_3x_midi2audio": report["render"].get("speedup_vs_midi2audio", 0) >= 3,
        "rss_le_1_5_gb": report["studio_peak_rss_mb"] <= 1536,
    }
    if "explore_grid_5x5" in report:
        report["targets"]["explore_grid_p50_le_1_5s"] = report["explore_grid_5x5"]["p50_ms"] <= 1500
    report["targets"]["song_continue_p50_le_400ms"] = report["song"]["continue_8_to_16_bars"]["p50_ms"] <= 400
    report["targets"]["song_infill_p50_le_400ms"] = report["song"]["infill_2_blocks_of_16_bars"]["p50_ms"] <= 400
    report["targets"]["emotion_16_bars_p50_le_1s"] = report["emotion_16_bars"]["p50_ms"] <= 1000
    if "p50_ms" in report.get("style_4_bars", {}):
        report["targets"]["style_4_bars_p50_le_500ms"] = report["style_4_bars"]["p50_ms"] <= 500
    if "p50_ms" in report.get("style_gan_8_bars", {}):
        report["targets"]["style_gan_8_bars_p50_le_400ms"] = report["style_gan_8_bars"]["p50_ms"] <= 400
    report["targets"]["library_save_p95_le_30ms"] = report["library_save"]["save_ms_per_click_p95"] <= 30
    if "load" in report:
        report["targets"].update({f"load_{name}": met for name, met in report["load"]["targets"].items()})
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
