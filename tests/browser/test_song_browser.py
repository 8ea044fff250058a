"""End-to-end Song tab: build 16 bars, select a block on the timeline, infill it, check the MIDI, undo.

Run with ``pytest -m browser`` (fixtures in conftest.py start the studio with the
debug model and a headless /usr/bin/chromium). Set CADENZA_SONG_SCREENSHOT to a
path to save a full-page screenshot once the block is infilled.
"""

from __future__ import annotations

import os

import pretty_midi
import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = pytest.mark.browser

TIMELINE = "#cz-song-timeline"
TEMPO = 110  # the tab's default tempo
BAR_SECONDS = 4 * 60 / TEMPO
STEP_SECONDS = BAR_SECONDS / 16


def open_song(page) -> None:
    page.get_by_role("tab", name="Song").click()
    page.locator("#cz-song-new").wait_for(state="visible")


def wait_version(page, text: str) -> None:
    page.locator("#cz-song-version").get_by_text(text).wait_for(timeout=120_000)


def audio_src(page) -> str:
    """The recording in the player (its <audio> sits in the waveform's shadow root, which locators pierce)."""
    audio = page.locator("#cz-song-audio audio[src]").first
    audio.wait_for(state="attached", timeout=60_000)
    return audio.get_attribute("src") or ""


def wait_new_audio(page, old: str) -> None:
    """Until the player holds a different recording than ``old``."""
    expect(page.locator("#cz-song-audio audio[src]").first).not_to_have_attribute("src", old, timeout=60_000)


def download_midi(page, tmp_path, name: str) -> pretty_midi.PrettyMIDI:
    link = page.locator(f'#cz-song-midi a[download="{name}"]').first
    link.wait_for(state="visible", timeout=60_000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}_{info.value.suggested_filename}"
    info.value.save_as(path)
    return pretty_midi.PrettyMIDI(str(path))


def melody_notes(pm: pretty_midi.PrettyMIDI) -> list[tuple[int, int]]:
    """(pitch, onset step) of the melody track's notes."""
    melody = next(inst for inst in pm.instruments if inst.name == "Melody")
    return sorted((n.pitch, round(n.start / STEP_SECONDS)) for n in melody.notes)


def test_new_song_infill_one_block_download_and_undo(page, tmp_path):
    open_song(page)
    page.locator("#cz-song-new").click()
    page.locator("#cz-song-status .cz-okay").wait_for(timeout=120_000)
    wait_version(page, "Version 1 · new song · 16 bars")
    blocks = page.locator(f"{TIMELINE} .cz-block")
    assert blocks.count() == 8
    assert "Block 3 · bars 5–6" in blocks.nth(2).inner_text()
    assert page.locator(f"{TIMELINE} .cz-block svg").count() == 8
    assert page.locator(f"{TIMELINE} .cz-fn-D").count() >= 4  # G is the dominant in every second block
    page.locator("#cz-song-roll .js-plotly-plot").first.wait_for(state="visible")
    before = melody_notes(download_midi(page, tmp_path, "cadenza_song_v1.mid"))

    page.locator(f'{TIMELINE} .cz-block[data-block="2"]').click()
    page.locator(f'{TIMELINE} .cz-block.cz-selected[data-block="2"]').wait_for()
    assert page.locator(f"{TIMELINE} .cz-block.cz-selected").count() == 1
    old_audio = audio_src(page)
    page.locator("#cz-song-infill").click()
    wait_version(page, "Version 2 · infilled block 3 · 16 bars")
    wait_new_audio(page, old_audio)
    # the rewritten block is marked, and stays selected for another take
    page.locator(f'{TIMELINE} .cz-block.cz-changed.cz-selected[data-block="2"]').wait_for()

    if os.environ.get("CADENZA_SONG_SCREENSHOT"):
        page.screenshot(path=os.environ["CADENZA_SONG_SCREENSHOT"], full_page=True)

    pm = download_midi(page, tmp_path, "cadenza_song_v2.mid")
    after = melody_notes(pm)
    block = range(4 * 16, 6 * 16)  # block 3 = bars 5-6, in steps
    assert [n for n in after if n[1] not in block] == [n for n in before if n[1] not in block]
    assert pm.get_end_time() == pytest.approx(16 * BAR_SECONDS, abs=0.2)  # still 16 bars

    page.locator("#cz-song-undo").click()
    wait_version(page, "Version 1 · new song · 16 bars")
    page.locator("#cz-song-status").get_by_text("back to version 1").wait_for()
    assert page.locator(f"{TIMELINE} .cz-block.cz-selected").count() == 0
    assert melody_notes(download_midi(page, tmp_path, "cadenza_song_v1.mid")) == before


def test_infill_with_nothing_selected_says_so(page):
    open_song(page)
    page.locator("#cz-song-new").click()
    wait_version(page, "Version 1")
    expect(page.locator(f"{TIMELINE} .cz-block")).to_have_count(8)  # the timeline drawn (it can lag the version line)
    page.locator("#cz-song-infill").click()
    page.locator("#cz-song-status .cz-error").get_by_text("No block selected").wait_for(timeout=60_000)
    # the song is still there
    expect(page.locator(f"{TIMELINE} .cz-block")).to_have_count(8)
    assert "Version 1" in page.locator("#cz-song-version").inner_text()
