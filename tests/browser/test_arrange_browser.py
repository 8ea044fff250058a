"""End-to-end Arrange: compose a melody, open it in Arrange from its result, accept the suggested chords (one
alternative clicked), arrange it as English folk, hear it, download the MIDI: its top track is the composed melody
note for note. And a melody played on a MIDI keyboard (a stand-in Web MIDI input), recorded, arranged, kept."""

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

    page.locator("#cz-to-arrange1").click()  # under the variation: to Arrange, where its chords are suggested
    expect(page.locator("#cz-arr-status")).to_contain_text("Chords for", timeout=60_000)
    expect(page.locator("#cz-arr-status")).to_contain_text("cadenza")  # the composed file's name
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


# A stand-in for the browser's Web MIDI: one input whose messages the test sends with their own time stamps.
FAKE_WEB_MIDI = """
window.__keyboard = {name: 'Test keyboard', onmidimessage: null};
Object.defineProperty(navigator, 'requestMIDIAccess', {
  configurable: true,
  value: () => Promise.resolve({inputs: new Map([['k', window.__keyboard]]), outputs: new Map(), onstatechange: null}),
});
window.__play = (events) => events.forEach(([status, pitch, velocity, at]) =>
  window.__keyboard.onmidimessage({data: new Uint8Array([status, pitch, velocity]), timeStamp: at}));
"""


def test_a_melody_played_on_a_midi_keyboard_is_arranged_note_for_note(browser, studio_url, tmp_path):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    context.add_init_script(FAKE_WEB_MIDI)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(studio_url)
        page.get_by_role("tab", name="Arrange").click()
        page.locator("#cz-arr-keyboard-tempo input").fill("120")
        page.locator("#cz-arr-keyboard .cz-kbd-record").click()
        expect(page.locator("#cz-arr-keyboard .cz-kbd-readout")).to_contain_text("Recording from Test keyboard")
        # at 120 BPM a sixteenth is 125 ms: C E G quarters, then a half-note C, played a little unevenly
        events = []
        for pitch, on, off in ((60, 2000, 2470), (64, 2510, 2990), (67, 3000, 3480), (72, 3495, 4480)):
            events += [[0x90, pitch, 90, on], [0x80, pitch, 0, off]]
        page.evaluate("(events) => window.__play(events)", events)
        page.locator("#cz-arr-keyboard .cz-kbd-stop").click()
        expect(page.locator("#cz-arr-status")).to_contain_text("Chords for", timeout=60_000)
        page.locator("#cz-arr-arrange").click()
        expect(page.locator("#cz-arr-status")).to_contain_text("English folk", timeout=120_000)
        arranged = _download(page, "#cz-arr-midi", tmp_path, "played.mid")
        assert [(p, s) for p, s, _ in _notes(arranged.instruments[0])] == [(60, 0.0), (64, 0.5), (67, 1.0), (72, 1.5)]
    finally:
        context.close()


def test_without_web_midi_the_keyboard_is_hidden(browser, studio_url):
    context = browser.new_context()
    context.add_init_script("delete Navigator.prototype.requestMIDIAccess; delete navigator.requestMIDIAccess;")
    page = context.new_page()
    try:
        page.goto(studio_url)
        page.get_by_role("tab", name="Arrange").click()
        expect(page.locator("#cz-arr-suggest")).to_be_visible(timeout=60_000)
        expect(page.locator(".cz-arr-keyboard").first).to_be_hidden()
        expect(page.locator("#cz-arr-keyboard-tempo")).to_be_hidden()
    finally:
        context.close()
