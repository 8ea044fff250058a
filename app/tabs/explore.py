"""The Explore tab: the latent space between two melodies A and B.

:class:`ExploreTab` builds the components (inside the caller's ``gr.Tab``) and wires
the events. As in the Compose tab, handlers are plain methods of the component
values, so tests call them directly; they never raise: bad input (a broken MIDI
file, an unknown chord...) becomes a message in the section's status line and the
previous results stay on screen. All engine work goes through ``studio.explore``
(:class:`app.services.explore.ExploreService`).

Sections: sources A and B (example / uploaded MIDI with track and start bar / the
last melody composed), decoding chords, **1** the interpolation path A -> B,
**2** the 2-D pitch x rhythm map (``app.components.latent_map``: click a cell to hear it, draw
or pick a path and export the morph), **3** analogies (A's tune with B's rhythm, B's
tune with A's rhythm, A re-harmonised).

API names (gradio_client): ``/explore_map``, ``/explore_interpolate``,
``/explore_cell``, ``/explore_morph``, ``/explore_analogy``, ``/explore_source_a``,
``/explore_source_b``, ``/explore_tracks_a``, ``/explore_tracks_b``.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import gradio as gr

from app import api_inputs as ai
from app.components import latent_map as lm
from app.components import status
from app.components.control_report import report_html
from app.components.open_in import open_in_arrange_button
from app.services import Studio
from app.services.common import MAX_UPLOAD_BYTES, InputError, brief, check_chords, flag
from app.services.explore import (
    ANALOGY_CHORD_MODES,
    ANALOGY_OWN,
    CHORD_MODES,
    CHORDS_FROM_A,
    CHORDS_TYPED,
    EXPLORE_MAX_BARS,
    EXPLORE_MAX_GRID,
    EXPLORE_MAX_STEPS,
    EXPLORE_MIN_BARS,
    EXPLORE_MIN_GRID,
    EXPLORE_MIN_STEPS,
    SOURCE_EXAMPLE,
    SOURCE_KINDS,
    SOURCE_LAST,
    SOURCE_UPLOAD,
    ExploreMap,
    ExploreSource,
)

log = logging.getLogger("cadenza.explore")

DEFAULT_BARS = 4
DEFAULT_STEPS = 5
DEFAULT_SIZE = 5
DEFAULT_TYPED_CHORDS = "C Am F G"
DEFAULT_REHARMONISE = "Am F C G"
SIDES = ("A", "B")

EXPLORE_CSS = """
.cz-source { gap: 6px !important; }
.cz-source-preview svg { width: 100%; height: 84px; display: block; border-radius: 6px; \
background: var(--background-fill-secondary); }
.cz-source-status p { margin: 0; font-size: 13px; }
.cz-source-status .cz-bad { color: var(--color-red-600, #dc2626); font-weight: 600; }
.cz-source-status .cz-ok { color: var(--body-text-color); }
#cz-x-chord-status .cz-ok { color: var(--color-green-600, #16a34a); }
#cz-x-chord-status .cz-bad { color: var(--color-red-600, #dc2626); font-weight: 600; }
.cz-x-section h3 { margin: 0.2em 0 0.1em 0; }
.cz-x-upload { min-height: 0 !important; }
"""


def error_markdown(message: str, what: str = "Can't explore yet") -> str:
    return status.error_markdown(message, what)


_md_escape = status.md_escape
crash_markdown = status.crash_markdown
ok_markdown = status.ok_markdown
kept_note = status.kept_note


def source_status_markdown(source: ExploreSource | None, error: str | None = None) -> str:
    if error is not None:
        return f"<span class='cz-bad'>⚠️ {_md_escape(brief(error))}</span>"
    return f"<span class='cz-ok'>✓ {_md_escape(source.summary)}</span>" if source else ""


def _empty_preview(text: str = "nothing to show") -> str:
    return (
        "<div class='cz-source-empty' "
        "style='height:84px;display:flex;align-items:center;justify-content:center;opacity:.6'>"
        f"{_md_escape(text)}</div>"
    )


def _map_selection(map_value: Any, size: int) -> lm.MapSelection:
    """The map's value read strictly (API callers send it as text); a malformed one is an input error."""
    try:
        return lm.check_map_value(map_value, size)
    except ValueError as err:
        raise InputError(str(err)) from None


class ExploreTab:
    """Components and handlers of the Explore tab (build inside a ``gr.Tab``).

    ``last_sheet`` is the Compose tab's ``gr.State`` holding the last composed
    LeadSheet (the "Last composed" source); without it the tab makes its own.
    """

    def __init__(self, studio: Studio, last_sheet: gr.State | None = None):
        self.studio = studio
        self.service = studio.explore
        self.examples = self.service.examples()
        self.instruments = studio.melody_instruments()
        self._last_sheet = last_sheet
        self.sides: dict[str, dict[str, Any]] = {}
        self.analogy_boxes: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ layout

    @property
    def arrange_sources(self) -> list[tuple[gr.Button, gr.File]]:
        """(an "Open in Arrange" button, the MIDI file it opens) of each result here."""
        return [(self.interp_to_arrange, self.interp_midi), (self.morph_to_arrange, self.morph_midi)]

    def build(self) -> ExploreTab:
        self.last_sheet = self._last_sheet if self._last_sheet is not None else gr.State(None)
        defaults = dict(zip(SIDES, self.service.default_examples()))
        gr.Markdown(
            "Bring two melodies **A** and **B** and explore the space between them: hear the path from A to B, "
            "move **pitch** and **rhythm** separately on a 2-D map, and make *A's tune with B's rhythm*. "
            "Pieces are handled in 2-bar windows (up to 16 bars).",
            elem_classes=["cz-intro"],
        )
        with gr.Row(equal_height=False):
            for side in SIDES:
                self.sides[side] = self._source_column(side, defaults.get(side))

        with gr.Row(equal_height=True):
            self.bars = ai.Slider(
                EXPLORE_MIN_BARS,
                EXPLORE_MAX_BARS,
                value=DEFAULT_BARS,
                step=2,
                label="Bars used",
                info="from each start bar (whole 2-bar windows); the longer of A and B is cut to the shorter",
                elem_id="cz-x-bars",
                scale=3,
            )
            self.instrument = ai.Dropdown(
                self.instruments,
                value="Acoustic Grand Piano" if "Acoustic Grand Piano" in self.instruments else self.instruments[0],
                label="Melody instrument",
                elem_id="cz-x-instrument",
                scale=1,
                min_width=180,
            )
        with gr.Row(equal_height=True):
            self.chords_mode = ai.Radio(
                list(CHORD_MODES),
                value=CHORDS_FROM_A,
                label="Chords for decoding (interpolation and map)",
                elem_id="cz-x-chords-mode",
                scale=2,
            )
            with gr.Column(scale=3, min_width=260):
                self.chords_text = gr.Textbox(
                    DEFAULT_TYPED_CHORDS,
                    label="Typed progression",
                    max_lines=1,
                    elem_id="cz-x-chords",
                    info="used with “Typed progression”: one chord per bar (C Am F G), | for several in a bar",
                )
                self.chord_status = gr.Markdown(
                    self._chord_status_md(DEFAULT_TYPED_CHORDS), elem_id="cz-x-chord-status"
                )

        # 1. interpolation
        with gr.Group(elem_classes=["cz-x-section"]):
            gr.Markdown("### 1 · Hear the path A → B")
        with gr.Row(equal_height=True):
            self.steps = ai.Slider(
                EXPLORE_MIN_STEPS,
                EXPLORE_MAX_STEPS,
                value=DEFAULT_STEPS,
                step=1,
                label="Steps (A, …, B)",
                elem_id="cz-x-steps",
                scale=3,
            )
            self.interp_button = gr.Button(
                "🎧 Interpolate A → B", variant="primary", elem_id="cz-x-interpolate", scale=1
            )
        self.interp_status = gr.Markdown("", elem_id="cz-x-interp-status")
        with gr.Row(visible=False, elem_id="cz-x-interp-results") as self.interp_results:  # shown with the first result
            with gr.Column(scale=3):
                self.interp_plot = gr.Plot(label="Path A → B", elem_id="cz-x-interp-roll")
            with gr.Column(scale=2, min_width=260):
                self.interp_audio = gr.Audio(
                    type="filepath",
                    label="Path A → B",
                    interactive=False,
                    elem_id="cz-x-interp-audio",
                    buttons=["download"],
                )
                self.interp_midi = gr.File(
                    label="MIDI", interactive=False, elem_id="cz-x-interp-midi", file_types=[".mid"]
                )
                self.interp_report = gr.HTML("", elem_id="cz-x-interp-report", label="Control report")
                self.interp_to_arrange = open_in_arrange_button("cz-x-interp-to-arrange")

        # 2. the 2-D map
        with gr.Group(elem_classes=["cz-x-section"]):
            gr.Markdown("### 2 · The pitch × rhythm map")
        with gr.Row(equal_height=True):
            self.size = ai.Slider(
                EXPLORE_MIN_GRID,
                EXPLORE_MAX_GRID,
                value=DEFAULT_SIZE,
                step=1,
                label="Map size (rows × columns)",
                elem_id="cz-x-size",
                scale=2,
            )
            self.cell_chords = gr.Checkbox(
                False,
                label="Chords in the cells' audio",
                elem_id="cz-x-cell-chords",
                scale=1,
                info="off: the melody alone (faster); MIDI files always hold the chords",
            )
            self.build_button = gr.Button("🗺️ Build map", variant="primary", elem_id="cz-x-build", scale=1)
        self.map_status = gr.Markdown("", elem_id="cz-x-map-status")
        self.map_state = gr.State(None)  # ExploreMap of this session
        with gr.Row(equal_height=False):
            with gr.Column(scale=7, min_width=480):
                self.map = lm.latent_map(elem_id="cz-latent-map")
            with gr.Column(scale=4, min_width=300, variant="panel", elem_id="cz-x-cell"):
                self.cell_title = gr.Markdown("**Click a cell** of the map to hear it.", elem_id="cz-x-cell-title")
                self.cell_audio = gr.Audio(
                    type="filepath",
                    label="Cell",
                    interactive=False,
                    autoplay=True,
                    elem_id="cz-x-cell-audio",
                    buttons=["download"],
                )
                self.cell_plot = gr.Plot(label="Cell piano roll", elem_id="cz-x-cell-roll")
                self.cell_midi = gr.File(
                    label="Cell MIDI", interactive=False, elem_id="cz-x-cell-midi", file_types=[".mid"]
                )
        with gr.Row(equal_height=True):
            gr.Markdown(
                "**Morph:** draw a path on the map (✎ *Draw morph path*) or pick a preset there, then export it "
                "as one piece. An empty path follows the diagonal.",
                elem_classes=["cz-small-note"],
            )
            self.morph_button = gr.Button("🔀 Export morph", elem_id="cz-x-morph", scale=0, min_width=160)
        self.morph_status = gr.Markdown("", elem_id="cz-x-morph-status")
        with gr.Row(visible=False, elem_id="cz-x-morph-results") as self.morph_results:
            with gr.Column(scale=3):
                self.morph_plot = gr.Plot(label="Morph", elem_id="cz-x-morph-roll")
            with gr.Column(scale=2, min_width=260):
                self.morph_audio = gr.Audio(
                    type="filepath", label="Morph", interactive=False, elem_id="cz-x-morph-audio", buttons=["download"]
                )
                self.morph_midi = gr.File(
                    label="Morph MIDI", interactive=False, elem_id="cz-x-morph-midi", file_types=[".mid"]
                )
                self.morph_report = gr.HTML("", elem_id="cz-x-morph-report", label="Control report")
                self.morph_to_arrange = open_in_arrange_button("cz-x-morph-to-arrange")

        # 3. analogies
        with gr.Group(elem_classes=["cz-x-section"]):
            gr.Markdown("### 3 · Analogies")
        with gr.Row(equal_height=True):
            self.analogy_chords = ai.Radio(
                list(ANALOGY_CHORD_MODES),
                value=ANALOGY_OWN,
                label="Chords for the swaps",
                elem_id="cz-x-analogy-chords",
                scale=2,
            )
            with gr.Column(scale=2):
                self.reharm_text = gr.Textbox(
                    DEFAULT_REHARMONISE, label="New chords for A", max_lines=1, elem_id="cz-x-reharm"
                )
                self.reharm_status = gr.Markdown(
                    self._chord_status_md(DEFAULT_REHARMONISE), elem_id="cz-x-reharm-status"
                )
            self.analogy_button = gr.Button("🔁 Make analogies", variant="primary", elem_id="cz-x-analogy", scale=1)
        self.analogy_status = gr.Markdown("", elem_id="cz-x-analogy-status")
        with gr.Row(visible=False, elem_id="cz-x-analogy-results") as self.analogy_results:
            for index, heading in enumerate(
                ("A's tune, B's rhythm", "B's tune, A's rhythm", "A re-harmonised"), start=1
            ):
                with gr.Column(variant="panel", min_width=300, elem_id=f"cz-x-an{index}"):
                    title = gr.Markdown(f"#### {heading}")
                    audio = gr.Audio(
                        type="filepath",
                        label=heading,
                        interactive=False,
                        elem_id=f"cz-x-an{index}-audio",
                        buttons=["download"],
                    )
                    plot = gr.Plot(label="Piano roll", elem_id=f"cz-x-an{index}-roll")
                    midi = gr.File(label="MIDI", interactive=False, elem_id=f"cz-x-an{index}-midi", file_types=[".mid"])
                    report = gr.HTML("", elem_id=f"cz-x-an{index}-report", label="Control report")
                self.analogy_boxes.append(
                    {"title": title, "audio": audio, "plot": plot, "midi": midi, "report": report}
                )

        self._wire()
        return self

    def _source_column(self, side: str, example: str | None) -> dict[str, Any]:
        s = side.lower()
        initial = None
        error = None
        if example is not None:
            try:
                initial = self.service.load_source(side, SOURCE_EXAMPLE, example, bars=DEFAULT_BARS)
            except Exception as err:  # noqa: BLE001 - the page must build anyway
                log.exception("could not read the default example for %s", side)
                error = str(err)
        with gr.Column(variant="panel", elem_classes=["cz-source"], elem_id=f"cz-x-{s}"):
            gr.Markdown(f"### Melody {side}")
            kind = ai.Radio(
                list(SOURCE_KINDS), value=SOURCE_EXAMPLE, label=f"Source of {side}", elem_id=f"cz-x-{s}-kind"
            )
            example_box = ai.Dropdown(self.examples, value=example, label="Example tune", elem_id=f"cz-x-{s}-example")
            file = ai.File(
                label=f"MIDI file (.mid, up to {MAX_UPLOAD_BYTES // 2**20} MB)",
                file_types=[".mid", ".midi"],
                type="filepath",
                height=110,
                elem_id=f"cz-x-{s}-file",
                elem_classes=["cz-x-upload"],
            )
            with gr.Row():
                track = ai.Dropdown(
                    [],
                    value=None,
                    label="Melody track",
                    allow_custom_value=True,
                    elem_id=f"cz-x-{s}-track",
                    info="filled after an upload",
                    scale=2,
                )
                start = ai.Number(
                    0,
                    precision=0,
                    minimum=0,
                    maximum=10_000,
                    label="Start bar",
                    elem_id=f"cz-x-{s}-start",
                    info="0 = first full bar",
                    scale=1,
                    min_width=110,
                )
            preview = gr.HTML(
                initial.svg if initial else _empty_preview(),
                elem_id=f"cz-x-{s}-preview",
                elem_classes=["cz-source-preview"],
            )
            status = gr.Markdown(
                source_status_markdown(initial, error), elem_id=f"cz-x-{s}-status", elem_classes=["cz-source-status"]
            )
        return {
            "kind": kind,
            "example": example_box,
            "file": file,
            "track": track,
            "start": start,
            "preview": preview,
            "status": status,
        }

    @staticmethod
    def _chord_status_md(text: str | None) -> str:
        check = check_chords(text)
        if check.ok:
            return f"<span class='cz-ok'>✓ {_md_escape(check.message)}</span>"
        return f"<span class='cz-bad'>✗ {_md_escape(check.message)}</span>"

    # ------------------------------------------------------------------ inputs/outputs

    def source_inputs(self, side: str) -> list:
        box = self.sides[side]
        return [box["kind"], box["example"], box["file"], box["track"], box["start"]]

    @property
    def map_inputs(self) -> list:
        return [
            *self.source_inputs("A"),
            *self.source_inputs("B"),
            self.bars,
            self.chords_mode,
            self.chords_text,
            self.size,
            self.instrument,
            self.cell_chords,
            self.last_sheet,
        ]

    @property
    def map_outputs(self) -> list:
        return [
            self.map_status,
            self.map,
            self.map_state,
            self.cell_title,
            self.cell_audio,
            self.cell_plot,
            self.cell_midi,
        ]

    @property
    def interpolate_inputs(self) -> list:
        return [
            *self.source_inputs("A"),
            *self.source_inputs("B"),
            self.bars,
            self.chords_mode,
            self.chords_text,
            self.steps,
            self.instrument,
            self.last_sheet,
        ]

    @property
    def interpolate_outputs(self) -> list:
        return [
            self.interp_status,
            self.interp_results,
            self.interp_audio,
            self.interp_plot,
            self.interp_midi,
            self.interp_report,
        ]

    @property
    def analogy_inputs(self) -> list:
        return [
            *self.source_inputs("A"),
            *self.source_inputs("B"),
            self.bars,
            self.analogy_chords,
            self.reharm_text,
            self.instrument,
            self.last_sheet,
        ]

    @property
    def analogy_outputs(self) -> list:
        outs: list = [self.analogy_status, self.analogy_results]
        for box in self.analogy_boxes:
            outs += [box["title"], box["audio"], box["plot"], box["midi"], box["report"]]
        return outs

    @property
    def cell_outputs(self) -> list:
        return [self.cell_title, self.cell_audio, self.cell_plot, self.cell_midi]

    @property
    def morph_outputs(self) -> list:
        return [
            self.morph_status,
            self.morph_results,
            self.morph_audio,
            self.morph_plot,
            self.morph_midi,
            self.morph_report,
        ]

    # ------------------------------------------------------------------ events

    def _wire(self) -> None:
        quick = dict(show_progress="hidden", trigger_mode="always_last")
        plumbing = dict(quick, api_visibility="private")  # page events, not API verbs
        for side in SIDES:
            box = self.sides[side]
            s = side.lower()
            preview_inputs = [*self.source_inputs(side), self.bars, self.last_sheet]
            preview_outputs = [box["preview"], box["status"]]
            preview = partial(self.preview_source, side)
            box["file"].upload(
                partial(self.upload_file, side),
                [box["file"], box["start"], self.bars],
                [box["kind"], box["track"], box["preview"], box["status"]],
                api_name=f"explore_tracks_{s}",
                **quick,
            )
            box["file"].clear(
                partial(self.clear_file, side), None, [box["track"], box["preview"], box["status"]], **plumbing
            )
            box["example"].input(
                lambda: SOURCE_EXAMPLE, None, box["kind"], queue=False, show_progress="hidden", api_visibility="private"
            )
            # .input, not .change: a source set by the page itself (an upload, "Open in" from the Library) comes with
            # its own preview; a change event would race it and could show the source before its file arrived.
            box["kind"].input(preview, preview_inputs, preview_outputs, api_name=f"explore_source_{s}", **quick)
            for trigger in (box["example"].change, box["track"].input, box["start"].change):
                trigger(preview, preview_inputs, preview_outputs, **plumbing)
        self.bars.change(
            self.preview_both,
            [*self.source_inputs("A"), *self.source_inputs("B"), self.bars, self.last_sheet],
            [self.sides[s][k] for s in SIDES for k in ("preview", "status")],
            **plumbing,
        )
        self.last_sheet.change(
            self.refresh_last_composed,
            [*self.source_inputs("A"), *self.source_inputs("B"), self.bars, self.last_sheet],
            [self.sides[s][k] for s in SIDES for k in ("preview", "status")],
            **plumbing,
        )
        # The typed progression's check is also the API's chord check (/check_chords: text -> status line).
        self.chords_text.change(
            self._chord_status_md,
            [self.chords_text],
            self.chord_status,
            queue=False,
            show_progress="hidden",
            api_name="check_chords",
        )
        self.chords_text.input(
            lambda: CHORDS_TYPED, None, self.chords_mode, queue=False, show_progress="hidden", api_visibility="private"
        )
        self.reharm_text.change(
            self._chord_status_md,
            [self.reharm_text],
            self.reharm_status,
            queue=False,
            show_progress="hidden",
            api_visibility="private",
        )

        busy = dict(concurrency_limit=1, show_progress="minimal")
        self.interp_button.click(
            self.interpolate,
            self.interpolate_inputs,
            self.interpolate_outputs,
            api_name="explore_interpolate",
            show_progress_on=[self.interp_status],
            **busy,
        )
        self.build_button.click(
            self.build_map,
            self.map_inputs,
            self.map_outputs,
            api_name="explore_map",
            show_progress_on=[self.map_status],
            **busy,
        )
        self.map.cell_click(
            self.play_cell,
            [self.map, self.map_state],
            self.cell_outputs,
            api_name="explore_cell",
            concurrency_limit=None,
            show_progress="hidden",
            trigger_mode="always_last",
        )
        self.morph_button.click(
            self.export_morph,
            [self.map, self.map_state, self.instrument],
            self.morph_outputs,
            api_name="explore_morph",
            show_progress_on=[self.morph_status],
            **busy,
        )
        self.analogy_button.click(
            self.analogy,
            self.analogy_inputs,
            self.analogy_outputs,
            api_name="explore_analogy",
            show_progress_on=[self.analogy_status],
            **busy,
        )

    # ------------------------------------------------------------------ source handlers

    def _load(self, side: str, kind, example, file, track, start, bars, last_sheet) -> ExploreSource:
        return self.service.load_source(side, kind, example, file, track, start, bars, last_sheet)

    def preview_source(
        self, side: str, kind, example, file=None, track=None, start=0, bars=DEFAULT_BARS, last_sheet=None
    ):
        """(preview HTML, status) for one source; never raises."""
        try:
            source = self._load(side, kind, example, file, track, start, bars, last_sheet)
        except InputError as err:
            return _empty_preview("nothing read"), source_status_markdown(None, str(err))
        except Exception as err:  # noqa: BLE001
            log.exception("reading source %s failed", side)
            return _empty_preview("nothing read"), source_status_markdown(
                None, f"Could not read this source ({type(err).__name__})"
            )
        return source.svg, source_status_markdown(source)

    def preview_both(
        self,
        kind_a,
        example_a,
        file_a,
        track_a,
        start_a,
        kind_b,
        example_b,
        file_b,
        track_b,
        start_b,
        bars,
        last_sheet=None,
    ):
        pa = self.preview_source("A", kind_a, example_a, file_a, track_a, start_a, bars, last_sheet)
        pb = self.preview_source("B", kind_b, example_b, file_b, track_b, start_b, bars, last_sheet)
        return (*pa, *pb)

    def refresh_last_composed(
        self,
        kind_a,
        example_a,
        file_a,
        track_a,
        start_a,
        kind_b,
        example_b,
        file_b,
        track_b,
        start_b,
        bars,
        last_sheet=None,
    ):
        """Compose made a new melody: refresh the previews of the sides that use "Last composed" only."""
        out: list = []
        for side, values in (
            ("A", (kind_a, example_a, file_a, track_a, start_a)),
            ("B", (kind_b, example_b, file_b, track_b, start_b)),
        ):
            if values[0] == SOURCE_LAST:
                out += self.preview_source(side, *values, bars, last_sheet)
            else:
                out += [gr.skip(), gr.skip()]
        return tuple(out)

    def upload_file(self, side: str, file, start, bars):
        """A file was uploaded for ``side``: choose Upload, list its tracks, preview the guessed melody track."""
        try:
            tracks = self.service.upload_tracks(file)
        except InputError as err:
            return (
                SOURCE_UPLOAD,
                gr.Dropdown(choices=[], value=None),
                _empty_preview("nothing read"),
                source_status_markdown(None, str(err)),
            )
        except Exception as err:  # noqa: BLE001
            log.exception("listing the tracks of an upload failed")
            return (
                SOURCE_UPLOAD,
                gr.Dropdown(choices=[], value=None),
                _empty_preview("nothing read"),
                source_status_markdown(None, f"Could not read this file ({type(err).__name__})"),
            )
        preview, status = self.preview_source(side, SOURCE_UPLOAD, None, file, tracks.default, start, bars)
        return SOURCE_UPLOAD, gr.Dropdown(choices=tracks.choices, value=tracks.default), preview, status

    @staticmethod
    def clear_file(side: str):
        return (
            gr.Dropdown(choices=[], value=None),
            _empty_preview("no file"),
            source_status_markdown(None, f"No MIDI file for {side}"),
        )

    def _both(self, values: list, bars, last_sheet) -> tuple[ExploreSource, ExploreSource]:
        a = self._load("A", *values[:5], bars, last_sheet)
        b = self._load("B", *values[5:10], bars, last_sheet)
        return a, b

    # ------------------------------------------------------------------ action handlers

    def interpolate(
        self,
        kind_a,
        example_a,
        file_a=None,
        track_a=None,
        start_a=0,
        kind_b=SOURCE_EXAMPLE,
        example_b=None,
        file_b=None,
        track_b=None,
        start_b=0,
        bars=DEFAULT_BARS,
        chords_mode=CHORDS_FROM_A,
        chords_text="",
        steps=DEFAULT_STEPS,
        instrument=None,
        last_sheet=None,
        request: gr.Request | None = None,
    ) -> dict:
        """The Interpolate button: one audio/roll/MIDI of the whole path A -> B; never raises."""
        try:
            a, b = self._both(
                [kind_a, example_a, file_a, track_a, start_a, kind_b, example_b, file_b, track_b, start_b],
                bars,
                last_sheet,
            )
            clip, sheets = self.service.interpolate(
                a, b, steps, chords_mode, chords_text, instrument, self.studio.session_of(request)
            )
        except InputError as err:
            return {self.interp_status: error_markdown(str(err), "Can't interpolate yet")}
        except Exception as err:  # noqa: BLE001
            log.exception("interpolation failed")
            return {self.interp_status: crash_markdown("interpolating", err)}
        seconds = clip.sheet.melody.duration_seconds
        message = (
            f"{len(sheets)} steps from <b>{_md_escape(a.title)}</b> to <b>{_md_escape(b.title)}</b> · "
            f"{clip.notes} notes · {seconds:.0f} s"
        )
        return self._clip_outputs(
            clip,
            message,
            self.interp_status,
            self.interp_results,
            self.interp_audio,
            self.interp_plot,
            self.interp_midi,
            self.interp_report,
        )

    def _clip_outputs(self, clip, message: str, status, results, audio, plot, midi, report) -> dict:
        """Updates that show one rendered piece: status line, its result row, audio, piano roll, MIDI and control
        report."""
        return {
            status: ok_markdown(message + self._no_audio_note() + kept_note([clip.kept])),
            results: gr.Row(visible=True),
            audio: clip.audio_file,
            plot: clip.figure,
            midi: clip.midi_path,
            report: report_html(clip.report),
        }

    def build_map(
        self,
        kind_a,
        example_a,
        file_a=None,
        track_a=None,
        start_a=0,
        kind_b=SOURCE_EXAMPLE,
        example_b=None,
        file_b=None,
        track_b=None,
        start_b=0,
        bars=DEFAULT_BARS,
        chords_mode=CHORDS_FROM_A,
        chords_text="",
        size=DEFAULT_SIZE,
        instrument=None,
        cell_chords=False,
        last_sheet=None,
        request: gr.Request | None = None,
    ) -> dict:
        """The Build map button (API ``/explore_map``): decode, draw and render every cell; never raises."""
        try:
            a, b = self._both(
                [kind_a, example_a, file_a, track_a, start_a, kind_b, example_b, file_b, track_b, start_b],
                bars,
                last_sheet,
            )
            with_chords = flag("Chords in the cells' audio (cell_chords)", cell_chords)
            explore_map = self.service.build_map(
                a, b, size, chords_mode, chords_text, instrument, with_chords, self.studio.session_of(request)
            )
        except InputError as err:
            return {self.map_status: error_markdown(str(err), "Can't build the map")}
        except Exception as err:  # noqa: BLE001
            log.exception("building the map failed")
            return {self.map_status: crash_markdown("building the map", err)}
        n = explore_map.size
        status = ok_markdown(
            f"{n}×{n} map · {n * n} cells · {explore_map.bars:g} bars each · {_md_escape(explore_map.chords_label)} · "
            f"built in {explore_map.seconds:.1f} s"
            + (
                ""
                if explore_map.prerendered or not self.studio.has_audio
                else " · cells are rendered when first clicked"
            )
            + self._no_audio_note()
            + "<br><small>rows: pitch A → B · columns: rhythm A → B · click a cell to hear it</small>"
        )
        return {
            self.map_status: status,
            self.map: gr.HTML(
                value=lm.map_value(size=n),
                **lm.map_update_props(explore_map.widget_cells(), explore_map.a_title, explore_map.b_title),
            ),
            self.map_state: explore_map,
            self.cell_title: "**Click a cell** of the map to hear it.",
            self.cell_audio: None,
            self.cell_plot: None,
            self.cell_midi: None,
        }

    def play_cell(self, map_value, explore_map, evt: gr.EventData | None = None) -> dict:
        """A click on a map cell (API ``/explore_cell`` with value ``{"cell": [row, col]}``); never raises."""
        try:
            if not isinstance(explore_map, ExploreMap):
                raise InputError("Build the map first (press Build map)")
            row = col = None
            data = getattr(evt, "_data", None) if evt is not None else None
            if isinstance(data, dict) and "row" in data and "col" in data:
                row, col = data["row"], data["col"]
            else:
                selection = _map_selection(map_value, explore_map.size)
                if selection.cell is None:
                    raise InputError("Click a cell of the map")
                row, col = selection.cell
            clip = self.service.cell_clip(explore_map, row, col)
        except InputError as err:
            return {self.cell_title: error_markdown(str(err), "Can't play that cell")}
        except Exception as err:  # noqa: BLE001
            log.exception("playing a cell failed")
            return {self.cell_title: crash_markdown("playing the cell", err)}
        return {
            self.cell_title: f"**{_md_escape(clip.title)}** · {clip.notes} notes",
            self.cell_audio: clip.audio_file,
            self.cell_plot: clip.figure,
            self.cell_midi: clip.midi_path,
        }

    def export_morph(self, map_value, explore_map, instrument=None, request: gr.Request | None = None) -> dict:
        """The Export morph button: the path drawn on the map (or the diagonal) as one piece; never raises."""
        try:
            if not isinstance(explore_map, ExploreMap):
                raise InputError("Build the map first (press Build map), then choose a path through it")
            selection = _map_selection(map_value, explore_map.size)
            path = selection.path
            note = ""
            if not path:
                path = lm.preset_path(lm.DIAGONAL, explore_map.size)
                note = " (no path drawn: the diagonal)"
            clip = self.service.morph(explore_map, path, instrument, self.studio.session_of(request))
        except InputError as err:
            return {self.morph_status: error_markdown(str(err), "Can't export the morph")}
        except Exception as err:  # noqa: BLE001
            log.exception("morph export failed")
            return {self.morph_status: crash_markdown("exporting the morph", err)}
        message = (
            f"Morph through {len(path)} cells{note} · {clip.notes} notes · {clip.sheet.melody.duration_seconds:.0f} s"
        )
        return self._clip_outputs(
            clip,
            message,
            self.morph_status,
            self.morph_results,
            self.morph_audio,
            self.morph_plot,
            self.morph_midi,
            self.morph_report,
        )

    def analogy(
        self,
        kind_a,
        example_a,
        file_a=None,
        track_a=None,
        start_a=0,
        kind_b=SOURCE_EXAMPLE,
        example_b=None,
        file_b=None,
        track_b=None,
        start_b=0,
        bars=DEFAULT_BARS,
        analogy_chords=ANALOGY_OWN,
        reharm_text=DEFAULT_REHARMONISE,
        instrument=None,
        last_sheet=None,
        request: gr.Request | None = None,
    ) -> dict:
        """The Make analogies button: A pitch + B rhythm, B pitch + A rhythm, A re-harmonised; never raises."""
        try:
            a, b = self._both(
                [kind_a, example_a, file_a, track_a, start_a, kind_b, example_b, file_b, track_b, start_b],
                bars,
                last_sheet,
            )
            clips = self.service.analogy(a, b, analogy_chords, reharm_text, instrument, self.studio.session_of(request))
        except InputError as err:
            return {self.analogy_status: error_markdown(str(err), "Can't make the analogies")}
        except Exception as err:  # noqa: BLE001
            log.exception("analogy failed")
            return {self.analogy_status: crash_markdown("making the analogies", err)}
        out: dict = {
            self.analogy_status: ok_markdown(
                f"<b>{_md_escape(a.title)}</b> and <b>{_md_escape(b.title)}</b>: pitch and rhythm swapped, and A under "
                f"{_md_escape((reharm_text or '').strip())}"
                + self._no_audio_note()
                + kept_note([clip.kept for clip in clips])
            ),
            self.analogy_results: gr.Row(visible=True),
        }
        for box, clip in zip(self.analogy_boxes, clips):
            out[box["title"]] = f"#### {_md_escape(clip.title)}\n{clip.notes} notes"
            out[box["audio"]] = clip.audio_file
            out[box["plot"]] = clip.figure
            out[box["midi"]] = clip.midi_path
            out[box["report"]] = report_html(clip.report)
        return out

    @property
    def restore_outputs(self) -> list:
        """What a reload fills: the result areas of interpolation, the map's morph and the analogies."""
        return [*self.interpolate_outputs, *self.morph_outputs, *self.analogy_outputs]

    def restore(self, request: gr.Request | None = None) -> dict:
        """At page load: the owner's latest Explore take from the library (an interpolation, a morph or the
        analogies), shown where it was made, as it was; nothing when they have none. Never raises."""
        try:
            take = self.studio.library.latest_take(self.studio.session_of(request), "explore")
            clips = self.service.reopen(take) if take is not None else []
        except Exception:  # noqa: BLE001 - the page loads without it
            log.exception("restoring the Explore take failed")
            return {self.interp_status: gr.skip()}
        if take is None or not clips:
            return {self.interp_status: gr.skip()}
        asked = take.controls
        action = asked.get("action")
        welcome = "Welcome back: your last {} from the Library, as it was"
        if action in ("analogy", "reharmonise"):
            out: dict = {
                self.analogy_status: ok_markdown(welcome.format("analogies") + kept_note([c.kept for c in clips])),
                self.analogy_results: gr.Row(visible=True),
            }
            for box, clip in zip(self.analogy_boxes, clips):
                out[box["title"]] = f"#### {_md_escape(clip.title)}\n{clip.notes} notes"
                out[box["audio"]] = clip.audio_file
                out[box["plot"]] = clip.figure
                out[box["midi"]] = clip.midi_path
                out[box["report"]] = report_html(clip.report)
            return out
        clip = clips[-1]
        message = welcome.format("morph" if action == "morph" else "interpolation") + f": {_md_escape(clip.title)}"
        where = self.morph_outputs if action == "morph" else self.interpolate_outputs
        return self._clip_outputs(clip, message, *where)

    def _no_audio_note(self) -> str:
        return "" if self.studio.has_audio else " · <i>audio unavailable on this server</i>"


def build_explore_tab(studio: Studio, last_sheet: gr.State | None = None) -> ExploreTab:
    """Build the Explore tab's contents in the current Blocks context."""
    return ExploreTab(studio, last_sheet).build()
