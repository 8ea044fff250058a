"""End-to-end Style tab (debug models): choose a style, generate, hear it, see four coloured tracks, morph to
another style, download the MIDI and find four tracks in it; choose the GAN, type chords, generate and hear it, and
a bad chord gets a message while the piece stays; an odd number of bars or a bad chord through the API gets a message.

Run with ``pytest -m browser`` (fixtures in conftest.py).
"""

from __future__ import annotations

import pretty_midi
import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = pytest.mark.browser


def choose(page, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_choose_generate_hear_see_morph_and_download(page, tmp_path):
    page.get_by_role("tab", name="Style").click()
    choose(page, "cz-style-style", "String quartet")
    page.get_by_text("Instruments (one per track, top voice first)").click()
    expect(page.locator("#cz-style-inst4 input")).to_have_value("Cello")  # instruments follow the style
    page.locator("#cz-style-generate").click()
    page.locator("#cz-style-status .cz-okay").wait_for(timeout=120_000)
    expect(page.locator("#cz-style-status")).to_contain_text("String quartet")
    expect(page.locator("#cz-style-verdict")).to_contain_text("Style judge")
    audio = page.locator("#cz-style-audio audio[src]").first
    audio.wait_for(state="attached", timeout=60_000)
    page.wait_for_function("(a) => a.duration > 2", arg=audio.element_handle(), timeout=60_000)
    legend = page.locator("#cz-style-roll .legend .traces")
    expect(legend).to_have_count(4, timeout=60_000)  # four tracks, one colour each

    choose(page, "cz-style-b", "Irish folk")
    page.locator("#cz-style-morph").click()
    expect(page.locator("#cz-style-status")).to_contain_text("String quartet → Irish folk", timeout=120_000)
    link = page.locator('#cz-style-midi a[download$=".mid"]').first
    link.wait_for(state="visible", timeout=60_000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert len(pretty_midi.PrettyMIDI(str(path)).instruments) == 4


def test_choose_the_gan_type_chords_generate_and_hear_it(page):
    page.get_by_role("tab", name="Style").click()
    chords = page.locator("#cz-style-chords textarea, #cz-style-chords input").first
    expect(chords).to_be_hidden()  # MusAE takes no chords
    page.locator("#cz-style-model").get_by_label("GAN").check()
    expect(chords).to_be_visible()
    expect(chords).to_have_attribute("placeholder", "C G Am F")
    choose(page, "cz-style-style", "Irish folk")
    chords.fill("C G Am F")
    page.locator("#cz-style-generate").click()
    expect(page.locator("#cz-style-status")).to_contain_text("GAN: Irish folk", timeout=120_000)
    expect(page.locator("#cz-style-status")).to_contain_text("chords C G Am F")
    expect(page.locator("#cz-style-verdict")).to_contain_text("Style judge on the GAN piece")
    audio = page.locator("#cz-style-audio audio[src]").first
    audio.wait_for(state="attached", timeout=60_000)
    page.wait_for_function("(a) => a.duration > 2", arg=audio.element_handle(), timeout=60_000)
    expect(page.locator("#cz-style-roll .legend .traces")).to_have_count(4, timeout=60_000)
    heard = audio.get_attribute("src")

    chords.fill("C H7 F")
    page.locator("#cz-style-generate").click()
    expect(page.locator("#cz-style-status .cz-error")).to_contain_text("Unknown chord symbol 'H7'", timeout=60_000)
    assert page.locator("#cz-style-audio audio[src]").first.get_attribute("src") == heard  # the piece stays
    expect(page.locator("#cz-style-verdict")).to_contain_text("on the GAN piece")


def test_odd_bars_or_a_bad_chord_through_the_api_get_a_message(studio_url):
    from gradio_client import Client

    client = Client(studio_url, verbose=False, download_files=False)
    result = client.predict("Trecento", 3, 0, None, None, None, None, api_name="/style_generate")
    assert "Bars must be even" in result[0]
    result = client.predict("Trecento", 4, 0, None, None, None, None, "GAN", "C Zz", api_name="/style_generate")
    assert "Unknown chord symbol 'Zz'" in result[0]
