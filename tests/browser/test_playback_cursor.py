"""The playback cursor follows the audio: a line on the Compose roll at the bar playing, the bar lit on the Emotion
score. The audio's time is set from the page (headless chromium does not play sound)."""

from __future__ import annotations

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = pytest.mark.browser

SET_TIME = """([id, t]) => {
  const find = (root) => {
    const direct = root.querySelector('audio');
    if (direct) return direct;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const a = find(el.shadowRoot); if (a) return a; }
    return null;
  };
  const audio = find(document.getElementById(id));
  if (!audio) return false;
  audio.currentTime = t;
  return true;
}"""


def test_a_cursor_on_the_compose_roll_follows_the_audio(page, studio):
    if not studio.has_audio:
        pytest.skip("no synthesizer: no audio to follow")
    page.locator("#cz-generate").click()
    page.locator("#cz-roll1 .js-plotly-plot").first.wait_for(state="visible", timeout=120_000)
    tempo = float(page.locator("#cz-tempo input[type=number]").input_value())
    bar_seconds = 4 * 60 / tempo
    page.wait_for_function(f"() => ({SET_TIME})(['cz-audio1', 0])", timeout=60_000)  # the player has its audio
    page.evaluate(f"({SET_TIME})(['cz-audio1', {1.5 * bar_seconds}])")
    cursor = page.locator("#cz-roll1 .cz-cursor")
    expect(cursor).to_be_visible(timeout=10_000)
    assert abs(float(cursor.get_attribute("data-bar")) - 2.5) < 0.1  # half way through bar 2
    page.evaluate(f"({SET_TIME})(['cz-audio1', {2.25 * bar_seconds}])")
    page.wait_for_function(
        "() => Math.abs(Number(document.querySelector('#cz-roll1 .cz-cursor').dataset.bar) - 3.25) < 0.1"
    )


def test_the_bar_playing_is_lit_on_the_emotion_score(page, studio):
    if not studio.has_audio or studio.emotion.pipeline is None:
        pytest.skip("no synthesizer or no emotion model")
    page.get_by_role("tab", name="Emotion").click()
    page.locator("#cz-emotion-generate").click()
    page.locator("#cz-emotion-score1 g.measure").first.wait_for(state="attached", timeout=120_000)
    page.wait_for_function(f"() => ({SET_TIME})(['cz-emotion-audio1', 0])", timeout=60_000)
    score = page.locator("#cz-emotion-score1 .cz-score")
    sps, pickup, spb = (float(score.get_attribute(f"data-{k}")) for k in ("sps", "pickup", "spb"))
    seconds = (pickup + spb * 1.5) * sps  # half way through the second full bar
    page.evaluate(f"({SET_TIME})(['cz-emotion-audio1', {seconds}])")
    lit = page.locator("#cz-emotion-score1 g.measure.cz-now")
    expect(lit).to_have_count(1, timeout=10_000)
    index = page.evaluate(
        "() => [...document.querySelectorAll('#cz-emotion-score1 g.measure')]"
        ".findIndex((m) => m.classList.contains('cz-now'))"
    )
    assert index == (2 if pickup else 1)
