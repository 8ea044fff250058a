"""Load: many gradio_client clients pressing Compose at once, and what it costs the server.

``clients`` threads (32 by default), each with its own ``gradio_client.Client`` (its own
session), call ``/compose`` for the 8-bar bench rhythm (one variation, as the click-to-audio
bench) and fetch the player's audio as the page does, again and again for ``seconds``. With
``--max-batch 1`` the studio composes one request at a time (its queue), so the latency is mostly
waiting in line; by default it admits up to 16 at once and decodes those that arrive together as
one batch (app/services/compose.py). :func:`load_comparison` runs both on fresh studios, side by side.

Reported: calls, errors (an exception, a refused or crashed status, or no audio; target 0, with
a few samples), p50/p95 latency, throughput (calls/s), the studio's resident memory (VmRSS of
its process) at the start, when the clients stop and once their sessions have closed (the end; target: grows by
10% at most) and its peak
during it, and the bytes of generated files at the start and end: the studio process's
``GRADIO_TEMP_DIR`` (uploads and Gradio's cache) and, inside it, the studio's own result
folders (``cadenza``).

Called by ``python -m bench`` (``--load-seconds``, ``--load-clients``); also runnable against a
running studio (its PID for the memory, its GRADIO_TEMP_DIR for the storage), or comparing the two
configurations on studios it starts::

    python -m bench.load_bench http://127.0.0.1:7860/ --pid PID --temp-dir DIR --seconds 60
    python -m bench.load_bench --compare checkpoints/ec2vae --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.stats import percentile, player_audio

RHYTHM_8_BARS = "|".join(["x...x...x.x.x...", "x.......x..x.x..", "x.x.x.x.x...x...", "x...x...x......."] * 2)
CALL_TIMEOUT_S = 120.0  # one call, queue included; beyond it the call counts as an error


def compose_kwargs(seed: int) -> dict:
    """The /compose arguments of the 8-bar bench (one variation, no feeling)."""
    return {
        "grid_value": RHYTHM_8_BARS,
        "chords_text": "C Am F G",
        "num_bars": 8,
        "key": "C",
        "tempo": 120,
        "instrument": "Acoustic Grand Piano",
        "accompaniment": "Acoustic Grand Piano",
        "seed": seed,
        "temperature": 0.5,
        "variations": 1,
        "use_feeling": False,
        "feeling": "",
    }


def rss_mb(pid: int) -> float:
    """VmRSS: the process's resident memory now, in MB (NaN when it cannot be read)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def folder_bytes(folder: Path | None) -> int:
    """Bytes of the files under ``folder`` (0 when it is missing; files deleted while walking are skipped)."""
    if folder is None or not folder.is_dir():
        return 0
    total = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            try:
                total += os.stat(os.path.join(root, name), follow_symlinks=False).st_size
            except OSError:
                pass
    return total


def storage(temp_dir: Path | None) -> dict:
    """Generated-file bytes: all of GRADIO_TEMP_DIR, and the studio's own result folders inside it."""
    return {
        "gradio_temp_dir_bytes": folder_bytes(temp_dir),
        "studio_cache_bytes": folder_bytes(temp_dir / "cadenza" if temp_dir else None),
    }


class _Tally:
    """What the client threads report, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times_ms: list[float] = []
        self.errors = 0
        self.samples: list[str] = []

    def ok(self, ms: float) -> None:
        with self.lock:
            self.times_ms.append(ms)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors += 1
            if len(self.samples) < 5:
                self.samples.append(what[:300])


class _Clock:
    """When the clients stop (set once every client is connected)."""

    deadline = float("inf")


def _client_loop(url: str, index: int, clock: _Clock, start: threading.Barrier, tally: _Tally) -> None:
    """One user: a session of its own, Compose and the audio fetch, until the clock's deadline."""
    import httpx
    from gradio_client import Client

    try:
        client = Client(url, verbose=False, download_files=False)
    except Exception as err:  # noqa: BLE001 - a client that cannot connect is an error, and the others still run
        tally.error(f"connect: {type(err).__name__}: {err}")
        start.wait()
        return
    # The page's cookies go with its audio fetches, as a browser's do: behind the replicas' proxy (scripts/
    # serve_replicas.sh) the route cookie sends them to the studio process that made the file.
    with httpx.Client(timeout=CALL_TIMEOUT_S, cookies=client.cookies) as http:
        start.wait()
        call = 0
        while time.monotonic() < clock.deadline:
            started = time.perf_counter()
            try:
                job = client.submit(api_name="/compose", **compose_kwargs(seed=index * 10_000 + call))
                result = job.result(timeout=CALL_TIMEOUT_S)
                if "cz-okay" not in str(result[0]):
                    raise RuntimeError(f"status: {result[0]}")
                audio = http.get(player_audio(result, "/compose")["url"])
                audio.raise_for_status()
                if not audio.content:
                    raise RuntimeError("empty audio")
            except Exception as err:  # noqa: BLE001 - every failure is counted and sampled
                tally.error(f"{type(err).__name__}: {err}")
            else:
                tally.ok((time.perf_counter() - started) * 1000)
            call += 1


def _settled_storage(temp_dir: Path | None, limit_s: float = 60.0) -> dict:
    """The storage once the clients' sessions have closed: Gradio ends a session when its heartbeat stops (some
    seconds after its client leaves), and the studio then deletes that session's files. Polled each second until it
    has not fallen for 20 s (at most ``limit_s``): the "end" figures are what the server keeps, not what the last
    seconds left in flight."""
    stored, steady, waited = storage(temp_dir), 0, 0.0
    while temp_dir is not None and steady < 20 and waited < limit_s:
        time.sleep(1.0)
        waited += 1.0
        now = storage(temp_dir)
        steady = steady + 1 if now["studio_cache_bytes"] >= stored["studio_cache_bytes"] else 0
        stored = now
    return {**stored, "settled_after_s": waited}


def load_test(
    url: str, pid: int | None = None, temp_dir: Path | None = None, clients: int = 32, seconds: float = 60.0
) -> dict:
    """``clients`` concurrent users composing for ``seconds``: errors, latency, throughput, memory and storage."""
    from gradio_client import Client

    warm = Client(url, verbose=False, download_files=False)
    warm.predict(api_name="/compose", **compose_kwargs(seed=0))  # lazy imports and caches before the clock
    rss_start = rss_mb(pid) if pid else float("nan")
    stored_start = storage(temp_dir)
    tally, clock = _Tally(), _Clock()
    start = threading.Barrier(clients + 1, timeout=300)
    peak = rss_start
    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="load-client") as pool:
        futures = [pool.submit(_client_loop, url, index, clock, start, tally) for index in range(clients)]
        while start.n_waiting < clients:  # every client connected (each fetched the config)
            time.sleep(0.05)
        began = time.monotonic()
        clock.deadline = began + seconds
        start.wait()
        while not all(f.done() for f in futures):
            if pid:
                peak = max(peak, rss_mb(pid))
            time.sleep(0.5)
        for future in futures:
            future.result()
    elapsed = time.monotonic() - began
    time.sleep(1.0)  # the last replies' cleanup
    rss_stop, stored_stop = (rss_mb(pid) if pid else float("nan")), storage(temp_dir)
    stored_end = _settled_storage(temp_dir)
    rss_end = rss_mb(pid) if pid else float("nan")
    times = tally.times_ms
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "calls": len(times) + tally.errors,
        "errors": tally.errors,
        "error_samples": tally.samples,
        "p50_ms": round(percentile(times, 50), 1) if times else None,
        "p95_ms": round(percentile(times, 95), 1) if times else None,
        "throughput_calls_per_s": round(len(times) / elapsed, 2) if elapsed > 0 else None,
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_at_stop": round(rss_stop, 1),
        "rss_mb_end": round(rss_end, 1),
        "rss_mb_peak": round(peak, 1),
        "rss_growth_pct": round(100 * (rss_end - rss_start) / rss_start, 1) if rss_start > 0 else None,
        "storage_start": stored_start,
        "storage_at_stop": stored_stop,
        "storage_end": stored_end,
    }


# The two configurations the load test compares, as app.py arguments: the studio as it was (one Compose request at a
# time) and as it ships (requests decoded together, several admitted at once).
CONFIGURATIONS = {"one_at_a_time": ["--max-batch", "1"], "batched": []}


def wait_for_warm_up(log_path: Path, limit_s: float = 120.0) -> None:
    """Until the studio's log says its warm-up is done (app.py runs it beside the starting server), at most
    ``limit_s`` seconds."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if "warm-up done" in log_path.read_text(errors="replace"):
            return
        time.sleep(0.5)


def load_comparison(checkpoint: str, clients: int = 32, seconds: float = 60.0) -> dict:
    """:func:`load_test` on a fresh studio process for each of :data:`CONFIGURATIONS`, one after the other on this
    machine, side by side, with the targets: throughput at least 3x one-at-a-time, p95 <= 4 s, no errors, RSS growth
    <= 10%."""
    import shutil
    import subprocess
    import tempfile

    from bench.stats import free_port, wait_for

    root = Path(__file__).resolve().parents[1]
    report: dict = {}
    for name, extra in CONFIGURATIONS.items():
        port = free_port()
        temp_dir = Path(tempfile.mkdtemp(prefix="cadenza_load_gradio_"))
        library_dir = Path(tempfile.mkdtemp(prefix="cadenza_load_library_"))
        env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", GRADIO_TEMP_DIR=str(temp_dir))
        log_path = temp_dir.parent / f"{temp_dir.name}.log"
        with open(log_path, "wb") as log_file:
            studio = subprocess.Popen(
                [sys.executable, str(root / "app.py"), "--port", str(port), "--checkpoint", checkpoint]
                + ["--data-dir", str(library_dir), *extra],
                cwd=root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_for(url, studio)
            wait_for_warm_up(log_path)  # it runs beside the server at start: the load begins on a quiet machine
            report[name] = {"app_args": extra, **load_test(url, studio.pid, temp_dir, clients, seconds)}
        finally:
            studio.terminate()
            try:
                studio.wait(timeout=20)
            except subprocess.TimeoutExpired:
                studio.kill()
            shutil.rmtree(temp_dir, ignore_errors=True)
            shutil.rmtree(library_dir, ignore_errors=True)
            log_path.unlink(missing_ok=True)
    before, after = report["one_at_a_time"], report["batched"]
    ratio = (after["throughput_calls_per_s"] or 0) / max(before["throughput_calls_per_s"] or 0, 1e-9)
    report["throughput_ratio"] = round(ratio, 2)
    report["targets"] = {
        "throughput_ge_3x": ratio >= 3,
        "p95_le_4s": after["p95_ms"] is not None and after["p95_ms"] <= 4000,
        "no_errors": after["errors"] == 0,
        "rss_growth_le_10pct": after["rss_growth_pct"] is not None and after["rss_growth_pct"] <= 10,
    }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_bench")
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:7860/")
    parser.add_argument("--pid", type=int, default=None, help="the studio's process id (for its memory)")
    parser.add_argument("--temp-dir", type=Path, default=None, help="the studio's GRADIO_TEMP_DIR (for its storage)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--compare",
        metavar="CHECKPOINT",
        default=None,
        help='start a studio per configuration (one at a time, batched) with this EC2-VAE folder (or "debug") and '
        "load each in turn, side by side (the url is then not used)",
    )
    args = parser.parse_args(argv)
    if args.compare:
        print(json.dumps(load_comparison(args.compare, args.clients, args.seconds), indent=2))
        return 0
    print(json.dumps(load_test(args.url, args.pid, args.temp_dir, args.clients, args.seconds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
