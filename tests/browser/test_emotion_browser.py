"""End-to-end Emotion tab: click the sad corner of the pad, Generate, read the ABC and the score, hear it,
download the MIDI (slow and minor); a bad input through the page; the Compose pad's suggestions.

Run with ``pytest -m browser`` (fixtures in conftest.py start the studio with the debug models and a
headless /usr/bin/chromium). Set CADENZA_EMOTION_SCREENSHOT to a path to save a full-page screenshot
once the tune is on the page.
"""

from __future__ import annotations

import os
import re

import pretty_midi
import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = pytest.mark.browser

PAD = "#cz-emotion-pad"


def open_emotion(page) -> None:
    page.get_by_role("tab", name="Emotion").click()
    page.locator(f"{PAD} .cz-pad").wait_for(state="visible")


def click_pad(page, pad: str, x: float, y: float) -> None:
    """Click the pad at (x, y), fractions of its square from the top-left corner (0..1)."""
    square = page.locator(f"{pad} .cz-pad")
    square.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # an accordion that just opened may still be moving the pad
    box = square.bounding_box()
    page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)


def download(page, selector: str, tmp_path):
    link = page.locator(selector).first
    link.wait_for(state="visible", timeout=60_000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_sad_corner_generate_read_listen_and_download(page, tmp_path):
    open_emotion(page)
    click_pad(page, PAD, 0.01, 0.99)  # the bottom-left corner: snaps to (-1, -1)
    expect(page.locator(f"{PAD} .cz-pad-readout")).to_contain_text("valence −1.00 · arousal −1.00")
    line = page.locator(f"{PAD}-line")
    expect(line).to_contain_text("sad")
    expect(line).to_contain_text("minor")
    expect(line).to_contain_text("one octave down")

    page.locator("#cz-emotion-generate").click()
    page.locator("#cz-emotion-status .cz-okay").wait_for(timeout=120_000)
    expect(page.locator("#cz-emotion-status")).to_contain_text("sad")
    expect(page.locator("#cz-emotion-title1")).to_contain_text("Variation 1 · sad")

    abc = page.locator("#cz-emotion-abc1").inner_text()
    assert "T:Cadenza emotion: sad" in abc and re.search(r"Q:1/4=\d+", abc) and re.search(r"K:[A-G][#b]?m\b", abc)
    page.locator("#cz-emotion-score1 .cz-score svg").first.wait_for(timeout=60_000)  # engraved after the audio
    audio = page.locator("#cz-emotion-audio1 audio[src]").first
    audio.wait_for(state="attached", timeout=60_000)
    assert audio.get_attribute("src")
    # The player has loaded a recording of the tune (16 slow bars: well over ten seconds).
    page.wait_for_function("(a) => a.duration > 10", arg=audio.element_handle(), timeout=60_000)

    if os.environ.get("CADENZA_EMOTION_SCREENSHOT"):
        page.screenshot(path=os.environ["CADENZA_EMOTION_SCREENSHOT"], full_page=True)

    midi = download(page, '#cz-emotion-files1 a[download$=".mid"]', tmp_path)
    pm = pretty_midi.PrettyMIDI(str(midi))
    _, tempi = pm.get_tempo_changes()
    assert tempi[0] < 70
    assert pm.key_signature_changes and pm.key_signature_changes[0].key_number >= 12  # a minor key
    for suffix in (".abc", ".musicxml", ".wav"):
        assert page.locator(f'#cz-emotion-files1 a[download$="{suffix}"]').count() == 1, suffix


def test_preset_moves_the_dot_and_a_bad_seed_only_changes_the_status(page):
    open_emotion(page)
    page.locator("#cz-emotion-q2").click()
    expect(page.locator(f"{PAD} .cz-pad-readout")).to_contain_text("valence −1.00 · arousal +1.00")
    expect(page.locator(f"{PAD}-line")).to_contain_text("tense")
    page.locator("#cz-emotion-generate").click()
    page.locator("#cz-emotion-status .cz-okay").wait_for(timeout=120_000)
    abc = page.locator("#cz-emotion-abc1").inner_text()
    assert "tense" in abc
    # the score is engraved after the audio has loaded (a chained event): wait for it before the bad seed
    page.locator("#cz-emotion-score1 .cz-score svg").first.wait_for(state="attached", timeout=60_000)

    seed = page.locator("#cz-emotion-seed input")
    seed.fill("-5")
    seed.press("Enter")
    page.locator("#cz-emotion-generate").click()
    error = page.locator("#cz-emotion-status .cz-error")
    error.wait_for(timeout=60_000)
    expect(error).to_contain_text("Seed must be between 0")
    expect(error).to_contain_text("got -5")
    assert page.locator("#cz-emotion-abc1").inner_text() == abc  # the tune stays
    assert page.locator("#cz-emotion-var1").is_visible()
    assert page.locator("#cz-emotion-score1 .cz-score svg").count() >= 1


def test_the_emotion_api(studio_url):
    """``/emotion`` through gradio_client, as a benchmark calls it: inputs in the documented order."""
    from gradio_client import Client

    client = Client(studio_url, verbose=False, download_files=False)
    result = client.predict("Q3", 8, 0, "Flute", 1, api_name="/emotion")
    assert len(result) == 1 + 4 * 6 and "cz-okay" in result[0]
    assert "K:" in result[2] and "Q:1/4=" in result[2]  # variation 1: title, ABC, raw ABC, audio, files, control report
    assert str(result[4]["path"]).endswith(".ogg") and "Tempo range" in result[6]
    assert sorted(str(f.get("path", f) if isinstance(f, dict) else f).rsplit(".", 1)[-1] for f in result[5]) == [
        "abc",
        "mid",
        "musicxml",
        "wav",
    ]
    bad = client.predict("1.5,0", 8, 0, "Flute", 1, api_name="/emotion")
    assert "Valence must be between -1 and 1, got 1.5" in bad[0]


def test_compose_pad_suggests_settings(page):
    page.locator("#cz-compose-feeling").get_by_text("Feeling (optional)").click()
    page.locator("#cz-compose-pad .cz-pad").wait_for(state="visible")
    click_pad(page, "#cz-compose-pad", 0.01, 0.99)  # sad
    note = page.locator("#cz-compose-feeling-note")
    expect(note).to_contain_text("For sad", timeout=30_000)
    expect(page.locator("#cz-chords textarea")).to_have_value("Cm Ab Eb Bb")  # the default preset, moved to C minor
    expect(page.locator("#cz-key input")).to_have_value("Cm")
    expect(page.locator("#cz-compose-pad-line")).to_contain_text("one octave down")
