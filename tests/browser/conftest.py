"""Fixtures for browser tests: the studio (debug model) on a free port, and headless chromium.

The studio runs in this pytest process (``launch(prevent_thread_lock=True)``
serves it from a background thread), so fixtures and tests share one Python.
Chromium is the Debian package at /usr/bin/chromium (Playwright cannot
download its own browsers here); set CADENZA_CHROMIUM to use another binary.
The tests mark themselves ``browser`` (``pytest -m "not browser"`` skips them).
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

CHROMIUM = os.environ.get("CADENZA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_http(url: str, timeout: float = 60.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline:
                raise
        time.sleep(0.25)


@pytest.fixture(scope="session")
def studio(tmp_path_factory):
    """The studio services with the tiny untrained "debug" model (and real audio when available)."""
    from app.services import Studio

    return Studio.load("debug", device="cpu", cache_dir=tmp_path_factory.mktemp("studio_cache"))


@pytest.fixture(scope="session")
def studio_url(studio):
    """Base URL of the running studio (127.0.0.1, free port); closed after the session."""
    from app.studio import build_studio, launch_kwargs

    demo = build_studio(studio)
    port = free_port()
    demo.queue(default_concurrency_limit=1).launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
        **launch_kwargs(),
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_http(url)
        yield url
    finally:
        demo.close()


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, studio_url):
    """A fresh page with the studio loaded (downloads allowed)."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(studio_url)
    page.locator("#cz-step-grid .cz-cell").first.wait_for(state="visible", timeout=60_000)
    try:
        yield page
    finally:
        context.close()
