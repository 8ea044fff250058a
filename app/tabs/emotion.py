"""The Emotion tab: choose a feeling on the valence-arousal pad, get tunes in ABC that sound like it.

:class:`EmotionTab` builds the components (inside the caller's ``gr.Tab``) and wires the
events. As in the other tabs, handlers are plain methods of the component values, so tests
call them directly; they never raise: bad input becomes a message in the status line and the
results on screen stay as they were. All engine work goes through ``studio.emotion``
(:class:`app.services.emotion.EmotionService`).

Put the dot on the pad (``app.components.emotion_pad``; the presets Happy/Tense/Sad/Calm move it to a
corner), choose the length, seed, instrument and number of variations, press Generate. Each
variation shows its title and template figures, the ABC (copyable), the engraved score, the
audio, and downloads: ABC, MIDI, MusicXML and WAV. The model's own ABC (before the template)
is folded under each.

API name (gradio_client):

* ``/emotion``: feeling, bars, seed, instrument, variations, in that order.
  ``feeling`` is the pad's value: ``"valence,arousal"`` (each -1..1, e.g. ``"-0.7,-0.4"``),
  or a quadrant (``"Q1"``..``"Q4"``, or ``"happy"``, ``"tense"``, ``"sad"``, ``"calm"``: its
  corner); ``bars`` 8..32; ``seed`` 0 or more (variation i uses seed + i - 1); ``instrument``
  a melody instrument name (e.g. ``"Flute"``); ``variations`` 1..4.
  Returns the status (HTML), then for each of the 4 variation boxes: title (Markdown), final
  ABC, raw ABC, audio (Opus by default), files (.abc, .mid, .musicxml, .wav). The scores follow in a
  chained private event once the browser has the audio (app.components.audio_first).
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

import gradio as gr

from app import api_inputs as ai
from app.components import status
from app.components.audio_first import WAIT_FOR_AUDIO_JS
from app.components.control_report import report_html
from app.components.emotion_pad import feeling_help, feeling_panel, set_point_js
from app.components.open_in import open_in_arrange_button
from app.components.progress import PROGRESS, progress_listener
from app.services import Studio
from app.services.common import InputError, stages
from app.services.emotion import (
    EMOTION_MAX_BARS,
    EMOTION_MAX_VARIATIONS,
    EMOTION_MIN_BARS,
    PRESETS,
    EmotionResult,
    feeling_line,
)
from engine.io.abc_text import played_measures

log = logging.getLogger("cadenza.emotion")

DEFAULT_POINT = "0.70,0.70"  # happy, off the corner: the pad shows the dot inside the square
DEFAULT_BARS = 16
DEFAULT_VARIATIONS = 1
PRESET_ICONS = {"Q1": "😊", "Q2": "😠", "Q3": "😢", "Q4": "😌"}

EMOTION_CSS = """
#cz-emotion-presets button { min-width: max-content !important; }
.cz-score { overflow-x: auto; background: white; border-radius: 8px; padding: 6px; }
.cz-score svg { display: block; width: 100%; height: auto; max-width: 100%; }
.cz-score-none { color: var(--body-text-color-subdued); font-size: 13px; padding: 12px; }
.cz-emotion-var h3 { margin: 0 0 0.1em 0; }
.cz-emotion-details p { margin: 0; font-size: 13px; color: var(--body-text-color-subdued); }
"""


def error_markdown(message: str, what: str = "Can't write the tune yet") -> str:
    return status.error_markdown(message, what)


def _random_seed() -> int:
    return random.randint(0, 99_999)


def score_html(svg: str, timing: dict | None = None) -> str:
    """The engraved score for the page (a note when verovio could not draw it). ``timing`` (steps per bar, pickup
    steps, seconds per step) lets the page light the bar the audio is playing."""
    if not svg:
        return (
            "<div class='cz-score-none'>The score could not be drawn for this tune "
            "(its audio and files are fine).</div>"
        )
    data = ""
    if timing:
        data = " " + " ".join(
            f"data-{key}='{value}'" if isinstance(value, str) else f"data-{key}='{float(value):g}'"
            for key, value in timing.items()
        )
    return f"<div class='cz-score'{data}>{svg}</div>"


def score_timing(result: EmotionResult) -> dict:
    """The playback cursor's timing of a tune's score: its steps per bar, pickup and seconds per step, and the written
    measure of each bar as played ("bars": "0,1,0,1,2" for |:A B:|C; the audio plays repeats, the score writes them
    once)."""
    melody = result.sheet.melody
    timing: dict = {"spb": melody.steps_per_bar, "pickup": melody.pickup_steps, "sps": melody.seconds_per_step}
    order = played_measures(result.abc) if result.abc else None
    if order is not None:
        timing["bars"] = ",".join(str(i) for i in order)
    return timing


class EmotionTab:
    """Components and handlers of the Emotion tab (build inside a ``gr.Tab``)."""

    def __init__(self, studio: Studio):
        self.studio = studio
        self.service = studio.emotion
        self.instruments = studio.melody_instruments()
        self.boxes: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ layout

    @property
    def arrange_sources(self) -> list[tuple[gr.Button, gr.File]]:
        """(an "Open in Arrange" button, the MIDI file it opens) of each result here."""
        return [(box["to_arrange"], box["files"]) for box in self.boxes]

    def build(self) -> EmotionTab:
        gr.Markdown(
            "Choose a **feeling** and the model writes melodies in **ABC** notation that sound like it. "
            "Click or drag on the pad (**valence** left to right: unpleasant to pleasant; **arousal** bottom to "
            "top: calm to excited), or press a preset, then **Generate**. Read the score, copy the ABC, "
            "listen, and download ABC, MIDI, MusicXML or WAV.",
            elem_classes=["cz-intro"],
        )
        if not self.service.available:
            gr.Markdown(
                error_markdown(
                    "this server has no ABC emotion model (checkpoints/abc_emotion); Compose, "
                    "Explore and Song still work",
                    "The Emotion tab is unavailable",
                )
            )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                self.panel = feeling_panel(feeling_line, DEFAULT_POINT, elem_id="cz-emotion-pad", show_help=None)
                self.pad = self.panel.pad
                with gr.Row(elem_id="cz-emotion-presets", elem_classes=["cz-presets"]):
                    self.preset_buttons = {
                        q: gr.Button(f"{PRESET_ICONS[q]} {label}", size="sm", elem_id=f"cz-emotion-{q.lower()}")
                        for q, (label, _value) in PRESETS.items()
                    }
                feeling_help("cz-emotion-pad")
            with gr.Column(scale=2, min_width=280):
                self.bars = ai.Slider(
                    EMOTION_MIN_BARS,
                    EMOTION_MAX_BARS,
                    value=DEFAULT_BARS,
                    step=1,
                    label="Bars",
                    elem_id="cz-emotion-bars",
                )
                with gr.Row(equal_height=True):
                    # Any value reaches the service (app.api_inputs), whose check names the field and its range
                    # in the status line (Gradio's own check would refuse a negative seed with a pop-up).
                    self.seed = ai.Number(0, precision=0, label="Seed", elem_id="cz-emotion-seed", min_width=100)
                    self.dice = gr.Button("🎲 Random", size="sm", min_width=90, scale=0, elem_id="cz-emotion-dice")
                self.instrument = ai.Dropdown(
                    self.instruments,
                    value="Flute" if "Flute" in self.instruments else self.instruments[0],
                    label="Melody instrument",
                    elem_id="cz-emotion-instrument",
                )
                self.variations = ai.Slider(
                    1,
                    EMOTION_MAX_VARIATIONS,
                    value=DEFAULT_VARIATIONS,
                    step=1,
                    label="Variations",
                    elem_id="cz-emotion-variations",
                )
                self.generate_button = gr.Button(
                    "🎼 Generate", variant="primary", size="lg", elem_id="cz-emotion-generate"
                )

        self.status = gr.Markdown("", elem_id="cz-emotion-status")
        self.pending_scores = gr.State(None)  # the scores (SVG) the chained event draws; None: keep those shown
        for index in range(1, EMOTION_MAX_VARIATIONS + 1):
            self.boxes.append(self._variation_box(index))
        self._wire()
        return self

    @staticmethod
    def _variation_box(index: int) -> dict[str, Any]:
        """One variation's panel (hidden until filled): title, score, audio, files, ABC, the model's ABC."""
        with gr.Column(
            visible=False, variant="panel", elem_id=f"cz-emotion-var{index}", elem_classes=["cz-emotion-var"]
        ) as column:
            title = gr.Markdown(f"### Variation {index}", elem_id=f"cz-emotion-title{index}")
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=360):
                    score = gr.HTML("", elem_id=f"cz-emotion-score{index}", label="Score")
                with gr.Column(scale=2, min_width=280):
                    audio = gr.Audio(
                        type="filepath",
                        label=f"Variation {index}",
                        interactive=False,
                        elem_id=f"cz-emotion-audio{index}",
                        buttons=["download"],
                    )
                    files = gr.File(
                        label="Downloads: ABC, MIDI, MusicXML, WAV",
                        file_count="multiple",
                        interactive=False,
                        elem_id=f"cz-emotion-files{index}",
                    )
                    report = gr.HTML("", elem_id=f"cz-emotion-report{index}", label="Control report")
                    to_arrange = open_in_arrange_button(f"cz-emotion-to-arrange{index}")
            abc = gr.Code(
                "",
                label="ABC (copy it into any ABC tool)",
                lines=6,
                max_lines=16,
                interactive=False,
                wrap_lines=True,
                buttons=["copy", "download"],
                elem_id=f"cz-emotion-abc{index}",
            )
            with gr.Accordion("The model's own ABC (before the template set tempo, mode and register)", open=False):
                raw = gr.Code(
                    "",
                    label="Raw ABC",
                    lines=4,
                    max_lines=12,
                    interactive=False,
                    wrap_lines=True,
                    buttons=["copy"],
                    elem_id=f"cz-emotion-raw{index}",
                )
        return {
            "column": column,
            "title": title,
            "score": score,
            "audio": audio,
            "files": files,
            "abc": abc,
            "raw": raw,
            "report": report,
            "to_arrange": to_arrange,
        }

    # ------------------------------------------------------------------ events

    @property
    def generate_inputs(self) -> list:
        """In the documented API order: feeling, bars, seed, instrument, variations."""
        return [self.pad, self.bars, self.seed, self.instrument, self.variations]

    @property
    def generate_outputs(self) -> list:
        """Everything Generate fills except the scores, which follow in a chained event (audio first)."""
        outs: list = [self.status, self.pending_scores]
        for box in self.boxes:
            outs += [box["column"], box["title"], box["abc"], box["raw"], box["audio"], box["files"], box["report"]]
        return outs

    @property
    def score_outputs(self) -> list:
        return [box["score"] for box in self.boxes]

    def _wire(self) -> None:
        quick = dict(queue=False, show_progress="hidden", api_visibility="private")  # UI plumbing, not API
        for q, button in self.preset_buttons.items():
            # The dot moves in the browser (no round trip); the pad's change event then describes the point.
            v, a = (float(x) for x in PRESETS[q][1].split(","))
            button.click(None, None, self.pad, js=set_point_js(v, a), **quick)
        self.dice.click(_random_seed, None, self.seed, **quick)
        self.generate_button.click(
            self.generate,
            self.generate_inputs,
            self.generate_outputs,
            api_name="emotion",
            # Several people's requests at once, drawn in shared batches (app/services/emotion.py's batcher)
            concurrency_limit=self.studio.emotion.concurrency,
            show_progress="full",
            show_progress_on=[self.status],
        ).then(None, js=WAIT_FOR_AUDIO_JS, **quick).then(
            self.draw_scores, [self.pending_scores], self.score_outputs, **quick
        )

    # ------------------------------------------------------------------ handlers

    def _only_status(self, message: str) -> dict:
        """Bad input: the message; every result on screen stays (and its score)."""
        return {self.status: message, self.pending_scores: None}

    def generate(
        self,
        feeling: Any,
        bars: Any,
        seed: Any,
        instrument: Any,
        variations: Any,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """The Generate button (API ``/emotion``): a dict {component: update}; never raises."""
        started = time.perf_counter()
        try:
            with stages(progress_listener(progress)):
                results = self.service.generate(
                    feeling, bars, seed, instrument, variations, self.studio.session_of(request)
                )
        except InputError as err:
            return self._only_status(error_markdown(str(err)))
        except Exception as err:  # noqa: BLE001 - the page must survive anything
            log.exception("emotion generation failed")
            return self._only_status(status.crash_markdown("writing the tune", err))
        return self._results_update(results, time.perf_counter() - started)

    def _results_update(self, results: list[EmotionResult], seconds: float) -> dict:
        first = results[0]
        tempos = ", ".join(str(r.tempo_bpm) for r in results)
        note = "" if self.studio.has_audio else " · <i>audio unavailable on this server</i>"
        message = (
            f"{len(results)} tune{'s' if len(results) != 1 else ''} · {status.md_escape(first.summary.prompt_text)} · "
            f"{first.num_bars} bars · {tempos} BPM · "
            f"{seconds:.1f} s{note}"
        ) + status.kept_note([r.kept for r in results])
        out: dict = {
            self.status: status.ok_markdown(message),
            self.pending_scores: [(r.svg, score_timing(r)) for r in results],
        }
        for index, box in enumerate(self.boxes):
            if index < len(results):
                r = results[index]
                out[box["column"]] = gr.Column(visible=True)
                out[box["title"]] = (
                    f"### {status.md_escape(r.title)}\n{status.md_escape(r.details)} · {status.md_escape(r.instrument)}"
                )
                out[box["abc"]] = r.abc
                out[box["raw"]] = r.abc_raw
                out[box["audio"]] = r.audio_file
                out[box["files"]] = r.paths
                out[box["report"]] = report_html(r.report)
            else:
                out[box["column"]] = gr.Column(visible=False)
                out[box["audio"]] = None
                out[box["files"]] = None
                out[box["report"]] = ""
        return out

    @property
    def restore_outputs(self) -> list:
        """What a reload fills: the results (as Generate does) and the inputs that made them."""
        return [*self.generate_outputs, self.pad, self.bars, self.seed, self.instrument, self.variations]

    def restore(self, shown: Any = None, request: gr.Request | None = None) -> dict:
        """At page load: the owner's latest Emotion take from the library, its tunes (ABC, score, audio, files) and
        the inputs that made them, as they were; nothing when they have none or the tab already shows tunes
        (``shown``: their pending scores). Never raises."""
        if shown:
            return {self.status: gr.skip()}
        try:
            take = self.studio.library.latest_take(self.studio.session_of(request), "emotion")
            results = self.service.reopen(take) if take is not None else []
        except Exception:  # noqa: BLE001 - the page loads without it
            log.exception("restoring the Emotion take failed")
            return {self.status: gr.skip()}
        if not results:
            return {self.status: gr.skip()}
        out = self._results_update(results, 0.0)
        first = results[0]
        out[self.status] = status.ok_markdown(
            f"Welcome back: your last take from the Library, {len(results)} "
            f"{status.md_escape(first.summary.prompt_text)} tune{'s' if len(results) != 1 else ''}, as it was"
        )
        out.update(
            {
                self.pad: f"{first.summary.valence:.2f},{first.summary.arousal:.2f}",
                self.bars: first.num_bars or gr.skip(),
                self.seed: first.seed,
                self.instrument: first.instrument if first.instrument in self.instruments else gr.skip(),
                self.variations: len(results),
            }
        )
        return out

    def draw_scores(self, pending: list | None) -> list:
        """The scores of the tunes Generate just wrote, one per box; never raises. None keeps the scores shown."""
        if not isinstance(pending, list):
            return [gr.skip() for _ in self.boxes]
        scores = [item if isinstance(item, tuple) else (item, None) for item in pending]
        return [score_html(*scores[i]) if i < len(scores) else "" for i in range(len(self.boxes))]


def build_emotion_tab(studio: Studio) -> EmotionTab:
    """Build the Emotion tab's contents in the current Blocks context."""
    return EmotionTab(studio).build()
