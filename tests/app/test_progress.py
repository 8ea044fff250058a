"""Long jobs tell the page their stages: each service reports what it is doing, and each tab hands the stages to
Gradio's progress bar."""

from __future__ import annotations

import gradio as gr
import pytest

from app.services import Studio
from app.services.common import report_stage, stages
from app.tabs.compose import ComposeTab
from app.tabs.emotion import EmotionTab
from app.tabs.song import SongTab
from app.tabs.style import StyleTab


class FakeProgress:
    """Records what a handler tells its ``gr.Progress``."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def __call__(self, fraction, desc=None, **_):
        self.calls.append((fraction, desc))


@pytest.fixture(scope="module")
def tabs(tmp_path_factory):
    studio = Studio.load("debug", device="cpu", cache_dir=tmp_path_factory.mktemp("progress"))
    with gr.Blocks():
        return ComposeTab(studio).build(), EmotionTab(studio).build(), SongTab(studio).build(), StyleTab(studio).build()


def test_stages_reach_only_the_listener_of_the_running_job():
    heard: list[tuple[float, str]] = []
    report_stage(0.5, "nobody listens")  # outside a job: nothing happens, nothing raises
    with stages(lambda f, t: heard.append((f, t))):
        report_stage(0.25, "drawing")
        report_stage(7.0, "past the end")  # clipped to 0..1
    report_stage(0.9, "after the job")
    assert heard == [(0.25, "drawing"), (1.0, "past the end")]
    with stages(lambda f, t: 1 / 0):
        report_stage(0.1, "a broken listener never breaks the job")


def test_every_tab_reports_its_stages(tabs):
    compose, emotion, song, style = tabs
    progress = FakeProgress()
    compose.generate(
        "x...x...x...x...|x...x...x...x...", "C G", 2, "C", 120, "Flute", None, 0, 0.8, 2, progress=progress
    )
    texts = [t for _, t in progress.calls]
    assert texts[0] == "drawing 2 melodies" and (not compose.studio.has_audio or "rendering the audio" in texts)
    progress = FakeProgress()
    emotion.generate("Q1", 8, 0, None, 3, progress=progress)
    texts = [t for _, t in progress.calls]
    assert texts[0] == "drawing 3 tunes"  # the three variations are drawn together
    assert "engraving the scores and rendering the audio" in texts
    fractions = [f for f, _ in progress.calls]
    assert fractions == sorted(fractions)  # the bar only moves forward
    progress = FakeProgress()
    style.generate(style.service.styles[0], 2, 0, progress=progress)
    assert progress.calls[0][1].startswith("drawing 2 bars of")
    progress = FakeProgress()
    song.new_song("C G Am F", 8, "C", "", 120, False, None, 0, 0.5, None, progress=progress)
    assert progress.calls[0][1] == "writing 8 bars"


def test_emotion_draws_one_tune_at_a_time_with_the_same_music(tabs):
    """Drawing the variations one by one (to report each) gives what one call for all of them gave."""
    service = tabs[1].service
    together = service.pipeline(valence=0.5, arousal=0.5, num_bars=8, seed=4, num_samples=3).samples
    one_by_one = service.generate((0.5, 0.5), 8, 4, None, 3)
    assert [r.abc for r in one_by_one] == [t.abc for t in together]
