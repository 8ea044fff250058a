"""Click-to-audio as a person sees it: Generate pressed in headless chromium, until the WAV has arrived.

The page's own clock does the timing: a capturing click listener on the Generate
button, and the browser's Resource Timing entries for the ``/queue/join`` request
and the variation's WAV (whose ``responseEnd`` is when the last byte arrived). The
piece is the "Folk reel in D" starting point (8 bars, 112 BPM, fiddle over steel
guitar), one variation, a new seed per press (the same seed would hit the cache).
Called by ``python -m bench`` when chromium and Playwright are installed (``make
test`` installs both); also runnable alone against a running studio::

    python -m bench.browser_latency http://127.0.0.1:7860/ [presses]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys

CHROMIUM = os.environ.get("CADENZA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

_INSTALL_CLICK_CLOCK = """() => {
    performance.setResourceTimingBufferSize(100000);
    window.__czClicks = [];
    document.querySelector('#cz-generate').addEventListener('click', () => window.__czClicks.push(performance.now()), \
true);
}"""
_WAV_ARRIVED = """() => {
    const click = window.__czClicks[window.__czClicks.length - 1];
    return performance.getEntriesByType('resource').some(e => /[.](ogg|mp3|wav)$/.test(e.name) && e.startTime > click \
&& e.responseEnd > 0);
}"""
_TIMINGS = """() => {
    const click = window.__czClicks[window.__czClicks.length - 1];
    const entries = performance.getEntriesByType('resource').filter(e => e.startTime > click);
    const join = entries.find(e => e.name.includes('/queue/join'));
    const wav = entries.find(e => /[.](ogg|mp3|wav)$/.test(e.name));
    return {request_sent: join ? join.startTime - click : null, wav_requested: wav.startTime - click, \
wav_received: wav.responseEnd - click};
}"""


def available() -> bool:
    """Whether chromium and Playwright are installed."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def browser_click_to_audio(url: str, presses: int = 12, warm_up: int = 2) -> dict:
    """Median ms from the click on Generate to: the request sent, the WAV requested, the WAV received."""
    from playwright.sync_api import sync_playwright

    rows: list[dict] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(url)
            page.locator("#cz-generate").wait_for()
            page.get_by_role("button", name="Folk reel in D").click()
            page.wait_for_timeout(800)
            variations = page.locator("#cz-variations input[type=number]")
            variations.fill("1")
            variations.press("Enter")
            page.evaluate(_INSTALL_CLICK_CLOCK)
            for press in range(warm_up + presses):
                seed = page.locator("#cz-seed input[type=number]")
                seed.fill(str(1000 + press))
                seed.press("Tab")
                page.wait_for_timeout(300)
                page.locator("#cz-generate").click()
                page.wait_for_function(_WAV_ARRIVED, timeout=60_000)
                if press >= warm_up:
                    rows.append(page.evaluate(_TIMINGS))
                page.wait_for_timeout(300)
        finally:
            browser.close()
    received = [r["wav_received"] for r in rows]
    return {
        "presses": presses,
        "piece": "Folk reel in D: 8 bars, 112 BPM, 1 variation",
        "request_sent_p50_ms": _median([r["request_sent"] for r in rows if r["request_sent"] is not None]),
        "wav_requested_p50_ms": _median([r["wav_requested"] for r in rows]),
        "wav_received_p50_ms": _median(received),
        "wav_received_max_ms": round(max(received), 1),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    url = argv[0] if argv else "http://127.0.0.1:7860/"
    print(json.dumps(browser_click_to_audio(url, presses=int(argv[1]) if len(argv) > 1 else 12), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
