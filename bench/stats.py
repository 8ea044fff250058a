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


def http_api_call(http, url: str, api_name: str, data: list, session_hash: str) -> list:
    """One call of Gradio's HTTP API (``POST {url}gradio_api/call/{api_name}``, then its event stream) in the
    session ``session_hash``, as curl or the page's own client would make it; the outputs, or RuntimeError naming
    the endpoint and what the server said.

    Why not gradio_client here: it checks for new stream messages every 50 ms (a sleep in its loop), which added
    about 0.14 s to every call of a one-line Gradio app on this machine; that is the client's, not the studio's."""
    import json

    started = http.post(f"{url}gradio_api/call/{api_name}", json={"data": data, "session_hash": session_hash})
    started.raise_for_status()
    event_id = started.json()["event_id"]
    event = None
    with http.stream("GET", f"{url}gradio_api/call/{api_name}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = line.split(":", 1)[1].strip()
                if event == "error":
                    raise RuntimeError(f"/{api_name} failed: {payload[:300]}")
                return json.loads(payload)
    raise RuntimeError(f"/{api_name} ended without a result")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(url: str, process, timeout: float = 180.0) -> None:
    """Until ``url`` answers (raises when the studio ``process`` exits first or ``timeout`` seconds pass)."""
    import time
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the studio exited with code {process.returncode} before it served {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the studio did not answer at {url} within {timeout:.0f} s")
