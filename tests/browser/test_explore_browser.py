"""End-to-end Explore tab: upload two MIDI files, build the 2-D map, click a cell, hear it, download its MIDI.

Run with ``pytest -m browser`` (fixtures in conftest.py start the studio with the
debug model and a headless /usr/bin/chromium). Set CADENZA_EXPLORE_SCREENSHOT to
a path to save a full-page screenshot once the map is built and a cell played.
"""

from __future__ import annotations

import os

import pretty_midi
import pytest

from tests.conftest import TUNE_CHORDS, make_nottingham_midi

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

MAP = "#cz-latent-map"
# B: a different tune with a different rhythm (dotted figures, long notes), same chords.
B_NOTES = [
    (72, 0, 6),
    (71, 6, 8),
    (69, 8, 16),
    (67, 16, 18),
    (69, 18, 20),
    (71, 20, 32),
    (74, 32, 38),
    (72, 38, 40),
    (71, 40, 44),
    (69, 44, 48),
    (67, 48, 64),
]


@pytest.fixture
def tunes(tmp_path):
    a = tmp_path / "tune_a.mid"
    b = tmp_path / "tune_b.mid"
    a.write_bytes(make_nottingham_midi())
    b.write_bytes(make_nottingham_midi(B_NOTES, TUNE_CHORDS))
    bad = tmp_path / "not_really.mid"
    bad.write_bytes(b"This is a text file with a .mid name, not a MIDI file.\n" * 8)
    big = tmp_path / "huge.mid"
    big.write_bytes(make_nottingham_midi() + b"\0" * (5 * 2**20))  # over the 4 MB upload limit
    return {"a": a, "b": b, "bad": bad, "big": big}


def open_explore(page) -> None:
    page.get_by_role("tab", name="Explore").click()
    page.locator("#cz-x-build").wait_for(state="visible")


def upload(page, side: str, path) -> None:
    page.locator(f"#cz-x-{side}-kind").get_by_label("Upload MIDI").check()
    page.locator(f"#cz-x-{side}-file input[type=file]").set_input_files(str(path))


def wait_source_ok(page, side: str, text: str) -> str:
    status = page.locator(f"#cz-x-{side}-status")
    status.get_by_text(text).wait_for(timeout=60_000)
    page.locator(f"#cz-x-{side}-status .cz-ok").wait_for()
    page.locator(f"#cz-x-{side}-preview svg").wait_for(state="attached")
    return status.inner_text()


def build_map(page) -> None:
    page.locator("#cz-x-build").click()
    page.locator("#cz-x-map-status .cz-okay").wait_for(timeout=120_000)


def test_upload_two_midis_build_map_click_cell_download(page, tunes, tmp_path):
    open_explore(page)
    upload(page, "a", tunes["a"])
    assert "tune_a" in wait_source_ok(page, "a", "tune_a")
    upload(page, "b", tunes["b"])
    status_b = wait_source_ok(page, "b", "tune_b")
    assert "11 notes" in status_b, status_b
    # the track dropdown holds the guessed melody track
    assert "melody" in page.locator("#cz-x-b-track input").first.input_value()

    build_map(page)
    assert "25 cells" in page.locator("#cz-x-map-status").inner_text()
    cells = page.locator(f"{MAP} .cz-map-cell")
    assert cells.count() == 25
    assert page.locator(f"{MAP} .cz-map-cell svg").count() == 25
    assert "tune_a" in page.locator(f"{MAP} .cz-map-xaxis").inner_text()

    cell = page.locator(f'{MAP} .cz-map-cell[data-row="1"][data-col="3"]')
    cell.click()
    page.locator(f'{MAP} .cz-map-cell.cz-selected[data-row="1"][data-col="3"]').wait_for()
    page.locator("#cz-x-cell-title").get_by_text("(2, 4)").wait_for(timeout=60_000)
    page.locator("#cz-x-cell-audio audio[src]").first.wait_for(state="attached", timeout=60_000)
    page.locator("#cz-x-cell-roll .js-plotly-plot").first.wait_for(state="visible")

    if os.environ.get("CADENZA_EXPLORE_SCREENSHOT"):
        page.screenshot(path=os.environ["CADENZA_EXPLORE_SCREENSHOT"], full_page=True)

    link = page.locator("#cz-x-cell-midi a[download]").first
    link.wait_for(state="visible")
    assert link.get_attribute("download") == "cadenza_map_r2c4.mid"
    with page.expect_download() as info:
        link.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    pm = pretty_midi.PrettyMIDI(str(path))
    # melody + chords (the untrained debug model may decode an empty melody; the chords are always there)
    assert sum(len(inst.notes) for inst in pm.instruments) > 0
    # 4 bars at 120 BPM from the uploads (A's tempo)
    assert pm.get_end_time() == pytest.approx(8.0, abs=0.1)

    # a preset path, then the morph export
    page.locator(MAP).get_by_role("button", name="Rhythm, then pitch").click()
    page.locator(f"{MAP} .cz-map-readout[data-path-length='9']").wait_for()
    assert page.locator(f"{MAP} .cz-map-cell.cz-in-path").count() == 9
    page.locator("#cz-x-morph").click()
    page.locator("#cz-x-morph-status .cz-okay").wait_for(timeout=60_000)
    assert "9 cells" in page.locator("#cz-x-morph-status").inner_text()
    page.locator("#cz-x-morph-audio audio[src]").first.wait_for(state="attached")


def test_bad_upload_shows_message_and_map_still_builds(page, tunes):
    open_explore(page)
    # over the size limit: the server refuses the upload (launch(max_file_size=4 MB)) and says so
    upload(page, "b", tunes["big"])
    page.get_by_text("exceed the maximum allowed size").first.wait_for(timeout=30_000)
    page.locator("#cz-x-b-status .cz-bad").get_by_text("No MIDI file").wait_for()

    upload(page, "a", tunes["bad"])
    page.locator("#cz-x-a-status .cz-bad").get_by_text("not a MIDI file").wait_for(timeout=60_000)

    page.locator("#cz-x-build").click()
    page.locator("#cz-x-map-status .cz-error").get_by_text("not a MIDI file").wait_for(timeout=60_000)
    assert page.locator(f"{MAP} .cz-map-cell").count() == 0

    # the rest of the page keeps working: good uploads for A and B, then the map builds
    page.locator("#cz-x-a-file").get_by_role("button", name="Clear").click()
    page.locator("#cz-x-a-file input[type=file]").set_input_files(str(tunes["a"]))
    wait_source_ok(page, "a", "tune_a")
    page.locator("#cz-x-b-file input[type=file]").set_input_files(str(tunes["b"]))
    wait_source_ok(page, "b", "tune_b")
    build_map(page)
    assert page.locator(f"{MAP} .cz-map-cell").count() == 25
    page.locator(f'{MAP} .cz-map-cell[data-row="4"][data-col="4"]').click()
    page.locator("#cz-x-cell-audio audio[src]").first.wait_for(state="attached", timeout=60_000)


def test_examples_work_on_first_open(page):
    open_explore(page)
    for side in ("a", "b"):
        page.locator(f"#cz-x-{side}-preview svg").wait_for(state="attached")
    page.locator("#cz-x-interpolate").click()
    page.locator("#cz-x-interp-status .cz-okay").wait_for(timeout=120_000)
    page.locator("#cz-x-interp-audio audio[src]").first.wait_for(state="attached")
    page.locator("#cz-x-analogy").click()
    page.locator("#cz-x-analogy-status .cz-okay").wait_for(timeout=120_000)
    for index in (1, 2, 3):
        page.locator(f"#cz-x-an{index}-audio audio[src]").first.wait_for(state="attached")
        page.locator(f"#cz-x-an{index}-midi a[download]").first.wait_for(state="visible")
