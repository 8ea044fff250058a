"""End-to-end Arrange: compose a melody, take it to Arrange, accept the suggested chords (one alternative clicked),
arrange it as English folk, hear it, download the MIDI: its top track is the composed melody note for note."""

from __future__ import annotations

import re

import pretty_midi
import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = pytest.mark.browser


def _download(page, selector: str, tmp_path, name: str) -> pretty_midi.PrettyMIDI:
    link = page.locator(f"{selector} a[download]").first
    link.wait_for(state="visible")
    with page.expect_download() as info:
        link.click()
    path = tmp_path / name
    info.value.save_as(path)
    return pretty_midi.PrettyMIDI(str(path))


def _notes(instrument: pretty_midi.Instrument) -> list[tuple[int, float, float]]:
    return [(n.pitch, round(n.start, 3), round(n.end, 3)) for n in sorted(instrument.notes, key=lambda n: n.start)]


def test_compose_then_arrange_keeps_the_melody_note_for_note(page, tmp_path):
    page.locator("#cz-generate").click()
    page.locator("#cz-status .cz-status").first.wait_for(timeout=120_000)
    composed = _download(page, "#cz-midi1", tmp_path, "composed.mid")
    melody = next(inst for inst in composed.instruments if inst.name.lower() == "melody")

    page.get_by_role("tab", name="Arrange").click()
    page.locator("#cz-arr-suggest").click()
    expect(page.locator("#cz-arr-status")).to_contain_text("Chords for", timeout=60_000)
    box = page.locator("#cz-arr-chords textarea")
    suggested = box.input_value()
    assert suggested.count("|") >= 1, suggested
    # an alternative clicked goes into its bar of the box
    second = page.locator(".cz-alt[data-bar='0'][data-slot='0']").nth(1)
    chosen = second.get_attribute("data-chord")
    second.click()
    expect(box).to_have_value(re.compile(rf"^{re.escape(chosen)}(\s|\||$)"))

    page.locator("#cz-arr-arrange").click()
    expect(page.locator("#cz-arr-status")).to_contain_text("English folk", timeout=120_000)
    page.locator("#cz-arr-audio audio[src]").first.wait_for(state="attached")
    page.locator("#cz-arr-roll .js-plotly-plot").first.wait_for(state="visible", timeout=60_000)
    expect(page.locator("#cz-arr-verdict")).to_contain_text("windows heard as English folk")
    arranged = _download(page, "#cz-arr-midi", tmp_path, "arranged.mid")
    assert len(arranged.instruments) >= 2
    assert _notes(arranged.instruments[0]) == _notes(melody)  # the top track is the composed melody
