"""End-to-end Library: two variations and a song kept across a reload and a server restart, opened in other
tabs, and unseen from a second browser.

Its own studio (debug models) over a data folder of its own, relaunched on the same port for the restart
(the browser keeps its owner token per origin). Set CADENZA_LIBRARY_SCREENSHOT to save the Library tab.
"""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import _wait_for_http, free_port

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = pytest.mark.browser


class LibraryStudio:
    """The studio with a library over ``data``; ``restart`` closes it and serves a fresh one on the same port."""

    def __init__(self, tmp_path_factory):
        self.data = tmp_path_factory.mktemp("library_data")
        self.cache = tmp_path_factory.mktemp("library_cache")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.demo = None
        self.start()

    def start(self) -> None:
        from app.library import Library
        from app.services import Studio
        from app.studio import build_studio, launch_kwargs

        studio = Studio.load("debug", device="cpu", cache_dir=self.cache, library=Library(self.data))
        self.demo = build_studio(studio)
        self.demo.queue(default_concurrency_limit=1).launch(
            server_name="127.0.0.1",
            server_port=self.port,
            prevent_thread_lock=True,
            quiet=True,
            ssr_mode=False,
            **launch_kwargs(),
        )
        _wait_for_http(self.url)

    def restart(self) -> None:
        self.demo.close()
        self.demo.cz_library.studio.keeper.library.close()
        self.start()


@pytest.fixture
def served(tmp_path_factory):
    studio = LibraryStudio(tmp_path_factory)
    try:
        yield studio
    finally:
        studio.demo.close()


def _open(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.locator("#cz-step-grid .cz-cell").first.wait_for(state="visible", timeout=60_000)
    return context, page


def _library_rows(page, expected: int) -> list[str]:
    """The Library tab's rows (" | "-joined cells) once it lists ``expected`` pieces."""
    page.get_by_role("tab", name="📚 Library").click()
    page.locator("#cz-lib-refresh").click()
    want = "Nothing here yet" if expected == 0 else f"{expected} piece{'s' if expected != 1 else ''}"
    expect(page.locator("#cz-lib-status")).to_contain_text(want, timeout=30_000)
    rows = page.locator("#cz-lib-table [role=row]").filter(has=page.locator("[role=gridcell]"))
    expect(rows).to_have_count(expected)
    return [" | ".join(c.inner_text() for c in row.locator("[role=gridcell]").all()) for row in rows.all()]


def _click_row(page, text: str) -> None:
    page.locator('#cz-lib-table [role=gridcell][data-col="1"]', has_text=text).first.click()
    page.locator("#cz-lib-details").wait_for(state="visible")


def _compose_is_back(page) -> None:
    """Compose shows the take made before the reload: both variations, their audio and rolls, and its seed."""
    expect(page.locator("#cz-status")).to_contain_text("Welcome back", timeout=60_000)
    expect(page.locator("#cz-var2")).to_be_visible()
    expect(page.locator("#cz-var2")).to_contain_text("seed 8")
    page.locator("#cz-audio2 audio[src]").first.wait_for(state="attached")
    expect(page.locator("#cz-roll2 .js-plotly-plot")).to_have_count(1, timeout=30_000)
    expect(page.locator("#cz-seed input")).to_have_value("7")


def test_pieces_survive_reload_and_restart_and_open_in_other_tabs(browser, served):
    context, page = _open(browser, served.url)
    try:
        page.locator("#cz-seed input").fill("7")
        page.locator("#cz-generate").click()  # 2 variations by default: seeds 7 and 8
        status = page.locator("#cz-status .cz-status").first
        status.wait_for(timeout=120_000)
        assert "kept in your Library" in status.inner_text(), status.inner_text()
        page.get_by_role("tab", name="Song").click()
        page.locator("#cz-song-new").click()
        page.locator("#cz-song-status .cz-okay").wait_for(timeout=120_000)

        page.reload()
        page.locator("#cz-step-grid .cz-cell").first.wait_for(state="visible", timeout=60_000)
        _compose_is_back(page)
        page.get_by_role("tab", name="Song").click()  # the song is back as it was, ready to grow
        expect(page.locator("#cz-song-status")).to_contain_text("Welcome back", timeout=60_000)
        expect(page.locator("#cz-song-version")).to_contain_text("Version 1")
        rows = _library_rows(page, 3)
        assert sum("Compose" in r for r in rows) == 2 and sum("Song" in r for r in rows) == 1

        served.restart()
        page.reload()
        page.locator("#cz-step-grid .cz-cell").first.wait_for(state="visible", timeout=60_000)
        _compose_is_back(page)
        assert _library_rows(page, 3) == rows  # the same pieces, in the same order, after a restart

        # the song in Explore as A
        _click_row(page, "Song")
        page.locator("#cz-lib-open-explore-a").click()
        expect(page.locator("#cz-x-a-status")).to_contain_text("Song over C - Am - F - G", timeout=60_000)
        # Compose's variation 2 (seed 8) in Song
        page.get_by_role("tab", name="📚 Library").click()
        _click_row(page, "seed 8")
        page.locator("#cz-lib-open-song").click()
        expect(page.locator("#cz-song-status")).to_contain_text("seed 8", timeout=120_000)
        if os.environ.get("CADENZA_LIBRARY_SCREENSHOT"):
            page.get_by_role("tab", name="📚 Library").click()
            _click_row(page, "Song")
            page.screenshot(path=os.environ["CADENZA_LIBRARY_SCREENSHOT"], full_page=True)
    finally:
        context.close()
    other, page2 = _open(browser, served.url)
    try:
        assert _library_rows(page2, 0) == []
    finally:
        other.close()
