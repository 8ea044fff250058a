"""The Song tab: grow a melody into a whole tune, two bars at a time.

:class:`SongTab` builds the components (inside the caller's ``gr.Tab``) and wires
the events. As in the other tabs, handlers are plain methods of the component
values, so tests call them directly; they never raise: bad input becomes a message
in the status line and everything else (timeline, audio, roll, MIDI, the current
version and the history) stays as it was. All engine work goes through
``studio.song`` (:class:`app.services.song.SongService`).

Start a song from chords (New song) or load one (an example, an uploaded MIDI, the
last composed melody), then grow it (Continue), rewrite the blocks selected on the
timeline (``app.components.song_timeline``; Infill, with their own rhythm, one drawn on the
2-bar grid or the model's) and step back (Undo, up to MAX_HISTORY versions).

API names (gradio_client; gr.State inputs are kept per client session, so call
``/song_new`` or ``/song_load`` first):

* ``/song_new``: chords, bars, key, functions, tempo, rhythm from the grid (bool), grid, seed, temperature, instrument
* ``/song_load``: source, example, file, track, start bar, bars, instrument
* ``/song_continue``: bars to add, chords for the new bars, seed, temperature, instrument
* ``/song_infill``: selected blocks (0-based list), rhythm mode ("keep" | "grid" | "model"), grid, seed,
  temperature, instrument
* ``/song_undo``: instrument
* ``/song_tracks``: file (an uploaded MIDI) -> source, its tracks (the guessed melody track chosen), status

Each returns: status, version line, timeline, audio, MIDI file; the piano roll follows in a chained
event once the browser has the audio (app.components.audio_first).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import gradio as gr

from app import api_inputs as ai
from app.components import song_timeline as st
from app.components import status
from app.components import step_grid as sg
from app.components.audio_first import WAIT_FOR_AUDIO_JS
from app.components.control_report import report_html
from app.components.open_in import open_in_arrange_button
from app.components.progress import PROGRESS, progress_listener
from app.services import Studio
from app.services.common import MAX_UPLOAD_BYTES, InputError, check_chords, flag, stages
from app.services.explore import SOURCE_EXAMPLE, SOURCE_UPLOAD
from app.services.song import (
    MAX_ADD_BARS,
    MAX_SONG_BARS,
    MAX_SONG_TEMPERATURE,
    MAX_SONG_TEMPO,
    MIN_ADD_BARS,
    MIN_SONG_BARS,
    MIN_SONG_TEMPERATURE,
    MIN_SONG_TEMPO,
    RHYTHM_GRID,
    RHYTHM_KEEP,
    RHYTHM_MODEL,
    SONG_NEW,
    SONG_SOURCES,
    SongResult,
    SongVersion,
    blocks_text,
    parse_selection,
    push_version,
)

log = logging.getLogger("cadenza.song")

DEFAULT_CHORDS = "C Am F G"
DEFAULT_BARS = 16
DEFAULT_ADD_BARS = 4
DEFAULT_TEMPO = 110
GRID_BARS = 2  # the infill rhythm is drawn for one 2-bar block
RHYTHM_CHOICES = [("Keep their rhythm", RHYTHM_KEEP), ("From the grid", RHYTHM_GRID), ("The model's own", RHYTHM_MODEL)]
GRID_PRESETS = ("Quarter notes", "Eighth notes", "Syncopated", "Call & answer", "Clear")

SONG_CSS = """
#cz-song-chord-status .cz-ok, #cz-song-continue-status .cz-ok { color: var(--color-green-600, #16a34a); }
#cz-song-chord-status .cz-bad, #cz-song-continue-status .cz-bad { color: var(--color-red-600, #dc2626); \
font-weight: 600; }
#cz-song-chord-status p, #cz-song-continue-status p { margin: 0; font-size: 13px; }
#cz-song-version { font-size: 15px; }
#cz-song-version .cz-song-undo-count { color: var(--body-text-color-subdued); font-size: 13px; }
.cz-song-panel h4 { margin: 0 0 0.2em 0; }
.cz-song-upload { min-height: 0 !important; }
"""


def error_markdown(message: str, what: str = "Can't make the song yet") -> str:
    return status.error_markdown(message, what)


_md_escape = status.md_escape
crash_markdown = status.crash_markdown
ok_markdown = status.ok_markdown


def version_markdown(version: SongVersion | None, earlier: int = 0) -> str:
    """The version line: 'Version 3 · infilled blocks 2, 3 · 16 bars' and how many versions Undo can go back."""
    if version is None:
        return "No song yet."
    undo = (
        f" <span class='cz-song-undo-count'>({earlier} earlier version{'s' if earlier != 1 else ''} to undo)</span>"
        if earlier
        else ""
    )
    return f"<b>{_md_escape(version.line)}</b>{undo}"


def chord_status_markdown(text: str | None, optional: bool = False) -> str:
    """The ✓/✗ line under a chord text box (an empty optional box is fine)."""
    if optional and not (text or "").strip():
        return "<span class='cz-ok'>✓ empty: the song's own chords again</span>"
    check = check_chords(text)
    if check.ok:
        return f"<span class='cz-ok'>✓ {_md_escape(check.message)}</span>"
    return f"<span class='cz-bad'>✗ {_md_escape(check.message)}</span>"


def _random_seed() -> int:
    return random.randint(0, 99_999)


class SongTab:
    """Components and handlers of the Song tab (build inside a ``gr.Tab``).

    ``last_sheet`` is the Compose tab's ``gr.State`` holding the last composed
    LeadSheet (the "Last composed" source); without it the tab makes its own.
    """

    def __init__(self, studio: Studio, last_sheet: gr.State | None = None):
        self.studio = studio
        self.service = studio.song
        self.examples = self.service.examples()
        self.keys = studio.keys()
        self.instruments = studio.melody_instruments()
        self._last_sheet = last_sheet

    # ------------------------------------------------------------------ layout

    @property
    def arrange_sources(self) -> list[tuple[gr.Button, gr.File]]:
        """(an "Open in Arrange" button, the MIDI file it opens) of each result here."""
        return [(self.to_arrange, self.midi)]

    def build(self) -> SongTab:
        self.last_sheet = self._last_sheet if self._last_sheet is not None else gr.State(None)
        gr.Markdown(
            "Grow a melody into a **whole tune** (8 to 32 bars) made of **2-bar blocks**. "
            "**1** Start from chords (*New song*) or load a tune. **2** *Continue* it with more bars. "
            "**3** Click blocks on the timeline and press *Infill selected* to rewrite just them: every other "
            "block stays note for note. *Undo* steps back. Change the seed (🎲) for another take.",
            elem_classes=["cz-intro"],
        )
        if not self.service.available:
            gr.Markdown(
                error_markdown(
                    "this server has no latent sequence model (checkpoints/latent); Compose and Explore still work",
                    "The Song tab is unavailable",
                )
            )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, variant="panel", elem_id="cz-song-start", elem_classes=["cz-song-panel"]):
                self.source = ai.Radio(list(SONG_SOURCES), value=SONG_NEW, label="Start from", elem_id="cz-song-source")
                self._new_song_box()
                self._load_box()
            with gr.Column(scale=2, min_width=300):
                self.bars = ai.Slider(
                    MIN_SONG_BARS,
                    MAX_SONG_BARS,
                    value=DEFAULT_BARS,
                    step=2,
                    label="Bars",
                    info="a new song's length; for a loaded tune, the most bars taken from the start bar",
                    elem_id="cz-song-bars",
                )
                self.instrument = ai.Dropdown(
                    self.instruments,
                    value="Flute" if "Flute" in self.instruments else self.instruments[0],
                    label="Melody instrument",
                    elem_id="cz-song-instrument",
                )
                with gr.Row(equal_height=True):
                    self.seed = ai.Number(
                        0,
                        precision=0,
                        minimum=0,
                        maximum=99_999_999,
                        label="Seed",
                        elem_id="cz-song-seed",
                        min_width=100,
                    )
                    self.dice = gr.Button("🎲 Random", size="sm", min_width=90, scale=0, elem_id="cz-song-dice")
                self.temperature = ai.Slider(
                    MIN_SONG_TEMPERATURE,
                    MAX_SONG_TEMPERATURE,
                    value=self.studio.song.default_temperature,
                    step=0.05,
                    label="Temperature",
                    info="low = safe, high = adventurous",
                    elem_id="cz-song-temperature",
                )
                with gr.Row():
                    self.new_button = gr.Button("🎼 New song", variant="primary", elem_id="cz-song-new")
                    self.load_button = gr.Button("📂 Load", variant="secondary", elem_id="cz-song-load")

        self.status = gr.Markdown("", elem_id="cz-song-status")
        self.version_line = gr.Markdown(version_markdown(None), elem_id="cz-song-version")
        self.timeline = st.song_timeline(elem_id="cz-song-timeline")
        self.current = gr.State(None)  # SongVersion on screen
        self.history = gr.State([])  # earlier SongVersions, oldest first (at most MAX_HISTORY)
        self.pending_roll = gr.State(None)  # the SongResult whose piano roll the chained event draws

        with gr.Row(equal_height=False):
            with gr.Column(scale=2, variant="panel", min_width=280, elem_classes=["cz-song-panel"]):
                gr.Markdown("#### ➕ Continue")
                self.add_bars = ai.Slider(
                    MIN_ADD_BARS,
                    MAX_ADD_BARS,
                    value=DEFAULT_ADD_BARS,
                    step=2,
                    label="Bars to add",
                    elem_id="cz-song-add-bars",
                )
                self.continue_chords = gr.Textbox(
                    "",
                    label="Chords for the new bars (optional)",
                    max_lines=1,
                    placeholder="empty: the song's own progression again",
                    elem_id="cz-song-continue-chords",
                )
                self.continue_status = gr.Markdown(
                    chord_status_markdown("", optional=True), elem_id="cz-song-continue-status"
                )
                self.continue_button = gr.Button("➕ Continue", variant="primary", elem_id="cz-song-continue")
            with gr.Column(scale=3, variant="panel", min_width=360, elem_classes=["cz-song-panel"]):
                gr.Markdown("#### ✏️ Infill the selected blocks")
                self.rhythm_mode = ai.Radio(
                    RHYTHM_CHOICES,
                    value=RHYTHM_KEEP,
                    label="Rhythm of the rewritten blocks",
                    elem_id="cz-song-rhythm-mode",
                )
                self.grid = sg.step_grid(sg.preset_pattern("Call & answer", GRID_BARS), elem_id="cz-song-grid")
                with gr.Row(elem_classes=["cz-presets"]):
                    self.grid_presets = {name: gr.Button(name, size="sm", min_width=60) for name in GRID_PRESETS}
                with gr.Row():
                    self.infill_button = gr.Button("✏️ Infill selected", variant="primary", elem_id="cz-song-infill")
                    self.undo_button = gr.Button(
                        "↩️ Undo", variant="secondary", elem_id="cz-song-undo", scale=0, min_width=110
                    )

        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                self.roll = gr.Plot(
                    label="Piano roll (block numbers on top; amber: the blocks just written)", elem_id="cz-song-roll"
                )
            with gr.Column(scale=2, min_width=280):
                self.audio = gr.Audio(
                    type="filepath",
                    label="The whole song",
                    interactive=False,
                    elem_id="cz-song-audio",
                    buttons=["download"],
                )
                self.midi = gr.File(label="MIDI", interactive=False, elem_id="cz-song-midi", file_types=[".mid"])
                self.to_arrange = open_in_arrange_button("cz-song-to-arrange")
                self.report = gr.HTML("", elem_id="cz-song-report", label="Control report")

        self._wire()
        return self

    def _new_song_box(self) -> None:
        """Chords, key, tempo, functions and rhythm of a new song (shown for "New song from chords")."""
        with gr.Column(visible=True) as self.new_box:
            with gr.Row():
                with gr.Column(scale=3, min_width=240):
                    self.chords = gr.Textbox(
                        DEFAULT_CHORDS,
                        label="Chords",
                        max_lines=2,
                        elem_id="cz-song-chords",
                        info="one chord per bar (C Am F G), | for several in a bar; repeats to fill",
                    )
                    self.chord_status = gr.Markdown(
                        chord_status_markdown(DEFAULT_CHORDS), elem_id="cz-song-chord-status"
                    )
                self.key = ai.Dropdown(
                    self.keys,
                    value="C" if "C" in self.keys else self.keys[0],
                    label="Key",
                    elem_id="cz-song-key",
                    scale=1,
                    min_width=90,
                )
            with gr.Row():
                self.functions = gr.Textbox(
                    "",
                    label="Chord functions (optional)",
                    max_lines=1,
                    elem_id="cz-song-functions",
                    placeholder="e.g. T S D T",
                    scale=2,
                    info="one letter per bar: T tonic, S subdominant, D dominant, O other; empty: from the chords",
                )
                self.tempo = ai.Slider(
                    MIN_SONG_TEMPO,
                    MAX_SONG_TEMPO,
                    value=DEFAULT_TEMPO,
                    step=1,
                    label="Tempo (BPM)",
                    elem_id="cz-song-tempo",
                    scale=2,
                )
            self.new_rhythm = gr.Checkbox(
                False, label="Use the 2-bar rhythm grid (Infill panel) for every two bars", elem_id="cz-song-new-rhythm"
            )

    def _load_box(self) -> None:
        """Example, upload (track) and start bar of a loaded tune (shown for the other sources)."""
        with gr.Column(visible=False) as self.load_box:
            self.example = ai.Dropdown(
                self.examples,
                value=self.examples[0] if self.examples else None,
                label="Example tune",
                elem_id="cz-song-example",
            )
            self.file = ai.File(
                label=f"MIDI file (.mid, up to {MAX_UPLOAD_BYTES // 2**20} MB)",
                file_types=[".mid", ".midi"],
                type="filepath",
                height=110,
                elem_id="cz-song-file",
                elem_classes=["cz-song-upload"],
            )
            with gr.Row():
                self.track = ai.Dropdown(
                    [],
                    value=None,
                    label="Melody track",
                    allow_custom_value=True,
                    elem_id="cz-song-track",
                    info="filled after an upload",
                    scale=2,
                )
                self.start = ai.Number(
                    0,
                    precision=0,
                    minimum=0,
                    maximum=10_000,
                    label="Start bar",
                    elem_id="cz-song-start-bar",
                    info="0 = first full bar",
                    scale=1,
                    min_width=110,
                )
            self.keep_accompaniment = gr.Checkbox(
                False,
                label="Keep the file's accompaniment",
                info="its other tracks play as they are, instead of chords from the symbols read in them",
                elem_id="cz-song-keep-accompaniment",
            )

    # ------------------------------------------------------------------ inputs/outputs

    @property
    def new_inputs(self) -> list:
        return [
            self.chords,
            self.bars,
            self.key,
            self.functions,
            self.tempo,
            self.new_rhythm,
            self.grid,
            self.seed,
            self.temperature,
            self.instrument,
            self.current,
            self.history,
        ]

    @property
    def load_inputs(self) -> list:
        return [
            self.source,
            self.example,
            self.file,
            self.track,
            self.start,
            self.bars,
            self.instrument,
            self.last_sheet,
            self.current,
            self.history,
            self.keep_accompaniment,  # last: clients from before it keep working
        ]

    @property
    def continue_inputs(self) -> list:
        return [
            self.add_bars,
            self.continue_chords,
            self.seed,
            self.temperature,
            self.instrument,
            self.current,
            self.history,
        ]

    @property
    def infill_inputs(self) -> list:
        return [
            self.timeline,
            self.rhythm_mode,
            self.grid,
            self.seed,
            self.temperature,
            self.instrument,
            self.current,
            self.history,
        ]

    @property
    def undo_inputs(self) -> list:
        return [self.instrument, self.current, self.history]

    @property
    def outputs(self) -> list:
        """What every action fills: on bad input only the status changes."""
        return [
            self.status,
            self.version_line,
            self.timeline,
            self.audio,
            self.midi,
            self.report,
            self.current,
            self.history,
            self.pending_roll,
        ]

    # ------------------------------------------------------------------ events

    def _wire(self) -> None:
        quick = dict(queue=False, show_progress="hidden", api_visibility="private")  # UI plumbing, not API
        self.source.change(self.show_source, [self.source], [self.new_box, self.load_box], **quick)
        self.example.input(lambda: SOURCE_EXAMPLE, None, self.source, **quick)
        self.chords.change(chord_status_markdown, [self.chords], self.chord_status, **quick)
        self.continue_chords.change(optional_chord_status, [self.continue_chords], self.continue_status, **quick)
        self.dice.click(_random_seed, None, self.seed, **quick)
        for name, button in self.grid_presets.items():
            # Fixed patterns set in the browser: a late server reply could overwrite the user's next clicks.
            button.click(None, None, self.grid, js=f"() => {json.dumps(sg.preset_pattern(name, GRID_BARS))}", **quick)
        # Also the API's track list for an upload (/song_tracks: file -> source, tracks, status).
        self.file.upload(
            self.upload_file,
            [self.file],
            [self.source, self.track, self.status],
            show_progress="hidden",
            api_name="song_tracks",
        )
        self.file.clear(lambda: gr.Dropdown(choices=[], value=None), None, self.track, **quick)

        busy = dict(concurrency_limit=1, show_progress="full", show_progress_on=[self.status])
        actions = (
            (self.new_button, self.new_song, self.new_inputs, "song_new"),
            (self.load_button, self.load, self.load_inputs, "song_load"),
            (self.continue_button, self.continue_song, self.continue_inputs, "song_continue"),
            (self.infill_button, self.infill, self.infill_inputs, "song_infill"),
            (self.undo_button, self.undo, self.undo_inputs, "song_undo"),
        )
        for button, handler, inputs, api_name in actions:
            # Audio first; the piano roll is drawn by a chained event once the browser has the audio.
            button.click(handler, inputs, self.outputs, api_name=api_name, **busy).then(
                None, js=WAIT_FOR_AUDIO_JS, **quick
            ).then(self.draw_roll, [self.pending_roll], self.roll, **quick)

    # ------------------------------------------------------------------ UI helpers

    @staticmethod
    def show_source(kind: str | None):
        """Show the new-song inputs or the source inputs for the chosen start."""
        new = (kind or SONG_NEW) == SONG_NEW
        return gr.Column(visible=new), gr.Column(visible=not new)

    def upload_file(self, file):
        """A file was uploaded: choose Upload, list its tracks (the melody guessed); never raises."""
        try:
            tracks = self.service.upload_tracks(file)
        except InputError as err:
            return SOURCE_UPLOAD, gr.Dropdown(choices=[], value=None), error_markdown(str(err), "Can't read this file")
        except Exception as err:  # noqa: BLE001
            log.exception("listing the tracks of an upload failed")
            return SOURCE_UPLOAD, gr.Dropdown(choices=[], value=None), crash_markdown("reading the file", err)
        message = f"{len(tracks.choices)} track{'s' if len(tracks.choices) != 1 else ''} read; press <b>Load</b>"
        return SOURCE_UPLOAD, gr.Dropdown(choices=tracks.choices, value=tracks.default), ok_markdown(message)

    def select_blocks(self, selection: Any, current: SongVersion | None):
        """Set the timeline's selection from Python (0-based blocks; a list or "1,2" text); never raises."""
        try:
            chosen = parse_selection(selection)
        except InputError as err:
            return gr.skip(), error_markdown(str(err), "Can't select those blocks")
        count = current.num_blocks if isinstance(current, SongVersion) else 0
        return gr.HTML(value=st.selection_value(chosen, count)), gr.skip()

    # ------------------------------------------------------------------ action handlers

    def _only_status(self, message: str) -> dict:
        """Bad input: the message, and everything else left as it was."""
        out = {component: gr.skip() for component in self.outputs}
        out[self.status] = message
        out[self.pending_roll] = None  # keep the roll on screen
        return out

    @staticmethod
    def draw_roll(pending: SongResult | None):
        """The piano roll of the result an action just put on the page (None: keep the one shown); never raises."""
        if not isinstance(pending, SongResult):
            return gr.skip()
        try:
            return pending.figure()
        except Exception:  # noqa: BLE001 - a missing roll must not break the page
            log.exception("song piano roll failed")
            return gr.skip()

    def _shown(self, result: SongResult, version: SongVersion, history: list, message: str, selected=()) -> dict:
        """Updates that put a version of the song on the page."""
        note = "" if self.studio.has_audio else " · <i>audio unavailable on this server</i>"
        return {
            self.status: ok_markdown(
                message + note + reading_note(result.sheet.reading_notes) + status.kept_note([result.kept])
            ),
            self.version_line: version_markdown(version, len(history)),
            self.timeline: st.timeline_update(result.widget_blocks(), selected),
            self.audio: result.audio_file,
            self.pending_roll: result,
            self.midi: result.midi_path,
            self.report: report_html(result.report),
            self.current: version,
            self.history: history,
        }

    def restore(self, current: Any = None, request: gr.Request | None = None) -> dict:
        """At page load: the owner's latest song from the library, with its versions to undo, as it was; nothing
        when they have none, or when a song is already on the page (``current``). Never raises."""
        if isinstance(current, SongVersion):
            return {self.status: gr.skip()}
        try:
            return self._from_library(self.studio.session_of(request), None, "Welcome back: “{}”, version {}")
        except Exception:  # noqa: BLE001 - the page loads without it
            log.exception("restoring the song failed")
            return {self.status: gr.skip()}

    def reopen(self, piece_id: Any, request: gr.Request | None = None) -> dict:
        """Library's "Open in Song" on a song: that song as it was, with its versions to undo; the next action adds
        its next version. Never raises."""
        try:
            return self._from_library(self.studio.session_of(request), piece_id, "Opened “{}”, version {}")
        except InputError as err:
            return {self.status: error_markdown(str(err), "Can't open the song")}
        except Exception as err:  # noqa: BLE001 - the page must survive anything
            log.exception("opening the song failed")
            return {self.status: status.crash_markdown("opening the song", err)}

    def _from_library(self, session: str | None, piece_id: Any, message: str) -> dict:
        """A song of the library on the page (its latest versions to undo; None: the owner's latest song)."""
        found = self.studio.library.latest_song(session, piece_id=piece_id)
        if found is None:
            if piece_id is not None:
                raise InputError("That song's versions could not be read back from the library")
            return {self.status: gr.skip()}  # (an empty dict would read as one output value)
        piece, versions = found
        number, action, sheet = versions[-1]
        result = self.service.present(sheet, [], None, session, f"cadenza_song_v{number}.mid", keep=False)
        self.studio.keeper.continue_song(session, piece.id)  # the next action adds its next version
        history = [SongVersion(n, a, s) for n, a, s in versions[:-1]]
        version = SongVersion(number, action, sheet)
        text = message.format(_md_escape(piece.title), number) + ", from your Library"
        return self._shown(result, version, history, text)

    def _act(
        self,
        what: str,
        doing: str,
        run: Callable[[str], SongResult],
        action: Callable[[SongResult], str],
        current: SongVersion | None,
        history: list | None,
        selected=(),
        progress: Any = None,
    ) -> dict:
        """Run one action (``run(file_name)``); on success the result becomes the new version. Never raises."""
        started = time.perf_counter()
        current = current if isinstance(current, SongVersion) else None
        number = current.number + 1 if current else 1
        try:
            with stages(progress_listener(progress)):
                result = run(f"cadenza_song_v{number}.mid")
        except InputError as err:
            return self._only_status(error_markdown(str(err), f"Can't {what}"))
        except Exception as err:  # noqa: BLE001 - the page must survive anything
            log.exception("song action failed: %s", what)
            return self._only_status(crash_markdown(doing, err))
        version = SongVersion(number, action(result), result.sheet, result.changed)
        melody = result.sheet.melody
        message = (
            f"{_md_escape(version.action[:1].upper() + version.action[1:])} · {result.num_bars} bars · "
            f"{len(result.blocks)} blocks · {result.num_notes} notes · key {_md_escape(result.key)} · "
            f"{melody.tempo_bpm:g} BPM · {time.perf_counter() - started:.1f} s"
        )
        return self._shown(result, version, push_version(history, current), message, selected)

    def new_song(
        self,
        chords,
        bars,
        key,
        functions,
        tempo,
        use_grid,
        grid,
        seed,
        temperature,
        instrument,
        current=None,
        history=None,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """The New song button (API ``/song_new``); never raises."""

        def run(file_name: str) -> SongResult:
            rhythm = sg.to_rhythm(grid, GRID_BARS) if flag("Use the rhythm grid (use_grid)", use_grid) else None
            return self.service.new_song(
                chords,
                bars,
                key,
                rhythm,
                functions,
                tempo,
                seed,
                temperature,
                instrument,
                self.studio.session_of(request),
                file_name,
            )

        return self._act(
            "make the song", "making the song", run, lambda r: "new song", current, history, progress=progress
        )

    def load(
        self,
        kind,
        example,
        file=None,
        track=None,
        start=0,
        bars=DEFAULT_BARS,
        instrument=None,
        last_sheet=None,
        current=None,
        history=None,
        keep_accompaniment=False,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """The Load button (API ``/song_load``); ``keep_accompaniment``: an upload's other tracks play as they are.
        Never raises."""

        def run(file_name: str) -> SongResult:
            return self.service.load(
                kind,
                example,
                file,
                track,
                start,
                bars,
                last_sheet,
                instrument,
                self.studio.session_of(request),
                file_name,
                keep_accompaniment,
            )

        return self._act(
            "load the tune",
            "loading the tune",
            run,
            lambda r: f"loaded {r.sheet.title}",
            current,
            history,
            progress=progress,
        )

    def continue_song(
        self,
        add_bars,
        chords,
        seed,
        temperature,
        instrument,
        current=None,
        history=None,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """The Continue button (API ``/song_continue``); never raises."""
        sheet = current.sheet if isinstance(current, SongVersion) else None

        def run(file_name: str) -> SongResult:
            return self.service.continue_song(
                sheet, add_bars, chords, seed, temperature, instrument, self.studio.session_of(request), file_name
            )

        def action(result: SongResult) -> str:
            return f"continued by {len(result.changed) * 2} bars"

        return self._act("continue the song", "continuing the song", run, action, current, history, progress=progress)

    def infill(
        self,
        selection,
        rhythm_mode,
        grid,
        seed,
        temperature,
        instrument,
        current=None,
        history=None,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """The Infill selected button (API ``/song_infill``; the selection is 0-based); never raises.

        The selection stays on the timeline, so pressing again (another seed) rewrites the same blocks."""
        sheet = current.sheet if isinstance(current, SongVersion) else None
        rhythm = sg.to_rhythm(grid, GRID_BARS) if rhythm_mode == RHYTHM_GRID else None

        def run(file_name: str) -> SongResult:
            return self.service.infill(
                sheet,
                selection,
                rhythm_mode,
                rhythm,
                seed,
                temperature,
                instrument,
                self.studio.session_of(request),
                file_name,
            )

        def action(result: SongResult) -> str:
            return f"infilled block{'s' if len(result.changed) > 1 else ''} {blocks_text(result.changed)}"

        selected = parse_selection_quiet(selection)
        return self._act("infill", "rewriting the blocks", run, action, current, history, selected, progress=progress)

    def undo(self, instrument, current=None, history=None, request: gr.Request | None = None) -> dict:
        """The Undo button (API ``/song_undo``): back to the previous version; never raises."""
        if not isinstance(current, SongVersion):
            return self._only_status(
                error_markdown("There is no song yet: press New song (or load a tune) first", "Nothing to undo")
            )
        if not history:
            return self._only_status(error_markdown(f"{current.line} is the first version", "Nothing to undo"))
        previous = history[-1]
        try:
            result = self.service.present(
                previous.sheet,
                previous.changed,
                instrument,
                self.studio.session_of(request),
                f"cadenza_song_v{previous.number}.mid",
                f"undo: back to version {previous.number}",
            )
        except InputError as err:
            return self._only_status(error_markdown(str(err), "Can't undo"))
        except Exception as err:  # noqa: BLE001
            log.exception("undo failed")
            return self._only_status(crash_markdown("undoing", err))
        message = f"Undid version {current.number} ({_md_escape(current.action)}): back to version {previous.number}"
        return self._shown(result, previous, list(history[:-1]), message)


def reading_note(notes: list[str]) -> str:
    """What reading the file changed or left out, for the status line (HTML; "" when nothing)."""
    return "".join(f"<br>ℹ️ {_md_escape(n[:1].upper() + n[1:])}" for n in notes)


def optional_chord_status(text: str | None) -> str:
    """The status line of the optional chords for Continue."""
    return chord_status_markdown(text, optional=True)


def parse_selection_quiet(selection: Any) -> list[int]:
    """The selection to keep on the timeline after an infill ([] when unreadable); never raises."""
    try:
        return parse_selection(selection)
    except InputError:
        return []


def build_song_tab(studio: Studio, last_sheet: gr.State | None = None) -> SongTab:
    """Build the Song tab's contents in the current Blocks context."""
    return SongTab(studio, last_sheet).build()
