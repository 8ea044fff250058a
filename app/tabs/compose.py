"""The Compose tab: draw a rhythm, type chords, get melodies.

:class:`ComposeTab` builds the components (inside the caller's ``gr.Tab``) and
wires the events. Its handler methods are plain functions of the component
values, so tests call them directly (e.g. ``tab.generate(...)``) without a
browser; they never raise for bad input but return a status message.

**Feeling (optional)**: the accordion holds the feeling pad (``app.components.emotion_pad``,
``cz-compose-pad``). Setting a point suggests settings (a private event): the key's
parallel major/minor in the feeling's mode, the middle of its tempo range, a progression
in that mode (only while the chord box holds a preset progression: typed chords win) and
a denser or sparser rhythm by arousal (only while the grid is empty or a preset: a drawn
rhythm wins). With **Use this feeling** ticked, Generate also gives the melodies the
feeling's register (whole octaves), loudness and articulation.

API ``/compose`` inputs, in order: grid, chords, bars, key, tempo, instrument,
accompaniment, seed, temperature, variations, then (optional, added last so older
callers keep working) use feeling (bool, default False) and feeling ("valence,arousal",
each -1..1, or a quadrant Q1..Q4; default none).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from app import api_inputs as ai
from app.components import status
from app.components import step_grid as sg
from app.components.audio_first import WAIT_FOR_AUDIO_JS
from app.components.control_report import report_html
from app.components.emotion_pad import feeling_panel
from app.components.open_in import open_in_arrange_button
from app.components.progress import PROGRESS, progress_listener
from app.services import Studio
from app.services.common import NO_ACCOMPANIMENT, InputError, flag, stages
from app.services.compose import (
    MAX_TEMPERATURE,
    MAX_TEMPO,
    MAX_VARIATIONS,
    MIN_TEMPERATURE,
    MIN_TEMPO,
    ComposeResult,
    same_progression,
    short_chords,
    transpose_chords,
)
from app.services.emotion import articulation_words, check_feeling, feeling_line, parse_point, register_words

log = logging.getLogger("cadenza.compose")

# Label -> (chord text, key). The label names the progression in roman numerals.
PROGRESSIONS: dict[str, tuple[str, str]] = {
    "I–vi–IV–V (pop, C)": ("C Am F G", "C"),
    "I–V–vi–IV (axis, G)": ("G D Em C", "G"),
    "ii–V–I (jazz, C)": ("Dm7 G7 Cmaj7 Cmaj7", "C"),
    "I–vi–ii–V (turnaround, F)": ("F Dm Gm C7", "F"),
    "12-bar blues (C)": ("C7 F7 C7 C7 F7 F7 C7 C7 G7 F7 C7 G7", "C"),
    "Minor i–VI–III–VII (Am)": ("Am F C G", "Am"),
    "Andalusian i–VII–VI–V (Am)": ("Am G F E", "Am"),
    "Folk I–IV–V–I (D)": ("D G A D", "D"),
    "Pachelbel canon (D)": ("D A Bm F#m G D G A", "D"),
    "Two chords per bar (C)": ("C Am | F G | C Em | F G7", "C"),
}
CUSTOM_PROGRESSION = "(custom)"
# (mode, excited?) -> the preset progression a feeling suggests (moved to the suggested key).
FEELING_PROGRESSIONS: dict[tuple[str, bool], str] = {
    ("major", True): "Folk I–IV–V–I (D)",
    ("major", False): "I–vi–IV–V (pop, C)",
    ("minor", True): "Andalusian i–VII–VI–V (Am)",
    ("minor", False): "Minor i–VI–III–VII (Am)",
}
# Arousal -> rhythm preset: denser when excited, sparser when calm or sad.
DENSE_RHYTHM, MEDIUM_RHYTHM, SPARSE_RHYTHM = "Eighth notes", "Call & answer", "Ballad"
FEELING_HINT = (
    "Click the pad: Compose suggests a key, tempo, chords and rhythm for the feeling (your own chords and "
    "drawn rhythm are kept). Tick **Use this feeling** to also give the melody its register, loudness and "
    "articulation."
)


@dataclass(frozen=True)
class StartingPoint:
    """A clickable example that fills every input."""

    label: str
    preset: str
    num_bars: int
    chords: str
    key: str
    tempo: int
    instrument: str
    accompaniment: str


STARTING_POINTS: list[StartingPoint] = [
    StartingPoint("🎻 Folk reel in D", "Folk reel", 8, "D G D A D G A D", "D", 112, "Fiddle", "Steel Guitar"),
    StartingPoint("🎹 Pop ballad (I–vi–IV–V)", "Ballad", 4, "C Am F G", "C", 76, "Electric Piano", "Strings"),
    StartingPoint(
        "🎷 Swing ii–V–I", "Dotted / swing-ish", 4, "Dm7 G7 Cmaj7 Cmaj7", "C", 132, "Alto Sax", "Electric Piano"
    ),
    StartingPoint("🌙 Minor groove", "Syncopated", 8, "Am F C G", "Am", 96, "Vibraphone", "Warm Pad"),
]

DEFAULT_CHORDS = "C Am F G"
DEFAULT_TEMPO = 110


def _pick(name: str, choices: list[str], default: Any) -> Any:
    return name if name in choices else default


def _random_seed() -> int:
    return random.randint(0, 99_999)


def error_markdown(message: str) -> str:
    return status.error_markdown(message, "Can't compose yet")


class ComposeTab:
    """Components and handlers of the Compose tab (build inside a ``gr.Tab``)."""

    def __init__(self, studio: Studio):
        self.studio = studio
        self.keys = studio.keys()
        self.instruments = studio.melody_instruments()
        self.accompaniments = studio.accompaniment_choices()
        self.variation_boxes: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ layout

    @property
    def arrange_sources(self) -> list[tuple[gr.Button, gr.File]]:
        """(an "Open in Arrange" button, the MIDI file it opens) of each result here."""
        return [(box["to_arrange"], box["midi"]) for box in self.variation_boxes]

    def build(self) -> ComposeTab:
        default_instrument = _pick("Flute", self.instruments, self.instruments[0])
        default_acc = _pick("Acoustic Grand Piano", self.accompaniments, self.accompaniments[0])

        gr.Markdown(
            "Draw a **rhythm** on the grid (each cell is a sixteenth note, each row a bar), "
            "type a **chord progression**, then press **Generate**. The model writes a melody "
            "that plays exactly your rhythm over your chords.",
            elem_classes=["cz-intro"],
        )
        with gr.Row(elem_classes=["cz-examples"]):
            gr.Markdown("**Start from:**", elem_classes=["cz-examples-label"])
            self.example_buttons = [gr.Button(sp.label, size="sm", variant="secondary") for sp in STARTING_POINTS]

        initial_check = self.studio.check_chords(DEFAULT_CHORDS)
        self.grid = sg.step_grid(sg.DEFAULT_PATTERN, chords=initial_check.bar_labels)
        with gr.Row(equal_height=True):
            self.bars = ai.Slider(
                sg.MIN_BARS,
                sg.MAX_BARS,
                value=sg.DEFAULT_BARS,
                step=1,
                label="Bars",
                elem_id="cz-bars",
                scale=1,
                min_width=200,
            )
            with gr.Column(scale=3):
                gr.Markdown("Rhythm presets", elem_classes=["cz-small-label"])
                with gr.Row(elem_classes=["cz-presets"]):
                    self.preset_buttons = {
                        name: gr.Button(name, size="sm", min_width=60, elem_classes=["cz-preset"])
                        for name in sg.PRESET_NAMES
                    }

        with gr.Row():
            with gr.Column(scale=3):
                self.progression = ai.Dropdown(
                    [CUSTOM_PROGRESSION, *PROGRESSIONS],
                    value="I–vi–IV–V (pop, C)",
                    label="Common progressions",
                    elem_id="cz-progression",
                )
                self.chords = gr.Textbox(
                    DEFAULT_CHORDS,
                    label="Chords",
                    info="One chord per bar (C Am F G); use | to put several chords in a bar (C Am | F G). "
                    "The progression repeats to fill the bars.",
                    elem_id="cz-chords",
                    max_lines=2,
                )
                self.chord_status = gr.Markdown(self._chord_status_md(initial_check), elem_id="cz-chord-status")
            with gr.Column(scale=2):
                with gr.Row():
                    self.key = ai.Dropdown(
                        self.keys, value=_pick("C", self.keys, self.keys[0]), label="Key", elem_id="cz-key"
                    )
                    self.tempo = ai.Slider(
                        MIN_TEMPO, MAX_TEMPO, value=DEFAULT_TEMPO, step=1, label="Tempo (BPM)", elem_id="cz-tempo"
                    )
                with gr.Row():
                    self.instrument = ai.Dropdown(
                        self.instruments, value=default_instrument, label="Melody instrument", elem_id="cz-instrument"
                    )
                    self.accompaniment = ai.Dropdown(
                        self.accompaniments, value=default_acc, label="Accompaniment", elem_id="cz-accompaniment"
                    )

        with gr.Row(equal_height=True):
            with gr.Row(scale=2):
                self.seed = ai.Number(
                    0, precision=0, minimum=0, maximum=99_999_999, label="Seed", elem_id="cz-seed", min_width=100
                )
                self.dice = gr.Button("🎲 Random", size="sm", min_width=90, scale=0, elem_id="cz-dice")
            self.temperature = ai.Slider(
                MIN_TEMPERATURE,
                MAX_TEMPERATURE,
                value=self.studio.compose_service.default_temperature,
                step=0.05,
                label="Temperature",
                info="low = safe, high = adventurous",
                scale=2,
                elem_id="cz-temperature",
            )
            self.variations = ai.Slider(
                1, MAX_VARIATIONS, value=2, step=1, label="Variations", scale=1, elem_id="cz-variations"
            )

        self._feeling_box()
        self.generate_button = gr.Button("🎼 Generate", variant="primary", size="lg", elem_id="cz-generate")
        self.status = gr.Markdown("", elem_id="cz-status")

        self.last_sheet = gr.State(None)  # LeadSheet of variation 1 (other tabs read it)
        self.last_sheets = gr.State([])  # every variation's LeadSheet
        # Set by Generate: the sheets whose piano rolls are still to draw (None: keep the rolls on screen).
        self.pending_rolls = gr.State(None)

        with gr.Row(elem_classes=["cz-results"]):
            for index in range(1, MAX_VARIATIONS + 1):
                with gr.Column(visible=False, variant="panel", min_width=320, elem_id=f"cz-var{index}") as column:
                    title = gr.Markdown(f"### Variation {index}")
                    # The player gets compressed audio (Opus by default); the WAV is a download below.
                    audio = gr.Audio(
                        type="filepath",
                        label=f"Variation {index}",
                        autoplay=False,
                        interactive=False,
                        elem_id=f"cz-audio{index}",
                        buttons=["download"],
                    )
                    plot = gr.Plot(label="Piano roll", elem_id=f"cz-roll{index}")
                    with gr.Row():
                        midi = gr.File(label="MIDI", interactive=False, elem_id=f"cz-midi{index}", file_types=[".mid"])
                        wav = gr.File(label="WAV", interactive=False, elem_id=f"cz-wav{index}", file_types=[".wav"])
                    to_arrange = open_in_arrange_button(f"cz-to-arrange{index}")
                    report = gr.HTML("", elem_id=f"cz-report{index}", label="Control report")
                self.variation_boxes.append(
                    {
                        "column": column,
                        "title": title,
                        "audio": audio,
                        "plot": plot,
                        "midi": midi,
                        "wav": wav,
                        "report": report,
                        "to_arrange": to_arrange,
                    }
                )

        self._wire()
        return self

    def _feeling_box(self) -> None:
        """The optional feeling: the pad, "Use this feeling" and the line saying what was suggested."""
        with gr.Accordion("Feeling (optional)", open=False, elem_id="cz-compose-feeling"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=2, min_width=300):
                    self.feeling = feeling_panel(feeling_line, "", elem_id="cz-compose-pad", show_help="folded")
                with gr.Column(scale=3, min_width=280):
                    self.use_feeling = gr.Checkbox(
                        False,
                        label="Use this feeling",
                        elem_id="cz-compose-use-feeling",
                        info="Generate also moves the melody's register and sets its loudness "
                        "and articulation (the tempo and key are the ones above)",
                    )
                    self.feeling_note = gr.Markdown(FEELING_HINT, elem_id="cz-compose-feeling-note")

    @staticmethod
    def _chord_status_md(check) -> str:
        if check.ok:
            return f"<span class='cz-ok'>✓ {status.md_escape(check.message)}</span>"
        return f"<span class='cz-bad'>✗ {status.md_escape(check.message)}</span>"

    # ------------------------------------------------------------------ events

    @property
    def generate_inputs(self) -> list:
        return [
            self.grid,
            self.chords,
            self.bars,
            self.key,
            self.tempo,
            self.instrument,
            self.accompaniment,
            self.seed,
            self.temperature,
            self.variations,
            self.use_feeling,
            self.feeling.pad,  # last: callers from before the feeling keep working
        ]

    @property
    def generate_outputs(self) -> list:
        """Everything Generate fills except the piano rolls, which follow in a second event
        (drawing a plotly figure in the browser holds up the audio download, so audio goes first)."""
        outs: list = [self.status, self.last_sheet, self.last_sheets, self.pending_rolls]
        for box in self.variation_boxes:
            outs += [box["column"], box["title"], box["audio"], box["midi"], box["wav"], box["report"]]
        return outs

    @property
    def roll_outputs(self) -> list:
        return [box["plot"] for box in self.variation_boxes]

    def _wire(self) -> None:
        quick = dict(queue=False, show_progress="hidden")
        plumbing = dict(quick, api_visibility="private")  # page events, not API verbs
        # The grid's own edits happen in the browser; so do the bars slider and the fixed presets
        # (a server reply landing after the user's next clicks would overwrite them).
        self.bars.change(None, [self.grid, self.bars], self.grid, js=sg.RESIZE_JS, **plumbing)
        for name, button in self.preset_buttons.items():
            if name == sg.RANDOM_PRESET:
                button.click(partial(self.apply_preset, name), [self.bars], self.grid, **plumbing)
            else:
                button.click(None, [self.bars], self.grid, js=sg.preset_js(name), **plumbing)
        self.chords.change(self.validate_chords, [self.chords], [self.chord_status, self.grid], **plumbing)
        self.progression.input(self.choose_progression, [self.progression], [self.chords, self.key], **plumbing)
        self.chords.input(lambda: CUSTOM_PROGRESSION, None, self.progression, **plumbing)
        self.dice.click(_random_seed, None, self.seed, **plumbing)
        self.feeling.pad.change(
            self.suggest_feeling,
            [self.feeling.pad, self.key, self.chords, self.grid, self.bars],
            [self.key, self.tempo, self.chords, self.progression, self.grid, self.feeling_note],
            trigger_mode="always_last",
            **plumbing,
        )
        for sp, button in zip(STARTING_POINTS, self.example_buttons):
            button.click(
                partial(self.load_starting_point, sp),
                None,
                [
                    self.grid,
                    self.bars,
                    self.chords,
                    self.key,
                    self.tempo,
                    self.instrument,
                    self.accompaniment,
                    self.progression,
                ],
                **plumbing,
            )
        self.generate_button.click(
            self.generate,
            self.generate_inputs,
            self.generate_outputs,
            api_name="compose",
            # Several people's requests at once, decoded as one batch (app/services/compose.py's batcher)
            concurrency_limit=self.studio.compose_service.concurrency,
            show_progress="full",
            show_progress_on=[self.status],
            scroll_to_output=True,
        ).then(None, js=WAIT_FOR_AUDIO_JS, **plumbing).then(
            self.draw_rolls, [self.pending_rolls], self.roll_outputs, api_name="compose_rolls", **quick
        )

    # ------------------------------------------------------------------ handlers

    @staticmethod
    def apply_preset(name: str, num_bars: float | None) -> str:
        return sg.preset_pattern(name, sg.clamp_bars(num_bars))

    def validate_chords(self, text: str | None):
        check = self.studio.check_chords(text)
        grid_update = gr.HTML(chords=check.bar_labels) if check.ok else gr.skip()
        return self._chord_status_md(check), grid_update

    @staticmethod
    def choose_progression(label: str):
        if label not in PROGRESSIONS:
            return gr.skip(), gr.skip()
        text, key = PROGRESSIONS[label]
        return text, key

    def suggest_feeling(self, point: Any, key: str | None, chords: str | None, grid: str | None, bars: Any):
        """Settings for the pad's point: key, tempo, chords (only over a preset progression), progression label,
        rhythm (only over an empty or preset grid) and the note saying what changed; never raises."""
        skip = (gr.skip(),) * 5
        point_ = parse_point(point)
        if point_ is None:
            return (*skip, FEELING_HINT)
        try:
            settings = self.studio.compose_service.feeling_settings(point_, key if key in self.keys else "C")
        except Exception:  # noqa: BLE001 - a suggestion must never break the page
            log.exception("feeling suggestion failed")
            return (*skip, gr.skip())
        summary = settings.summary
        said = [f"key **{settings.key}**", f"**{settings.tempo} BPM**"]
        kept = []
        new_chords, label = gr.skip(), gr.skip()
        if settings.mode is None:
            said[0] = f"key **{settings.key}** (kept: near the middle the mode is the model's own)"
        elif any(same_progression(chords, text) for text, _ in PROGRESSIONS.values()):
            label_ = FEELING_PROGRESSIONS[(settings.mode, settings.arousal >= 0)]
            text, preset_key = PROGRESSIONS[label_]
            new_chords = transpose_chords(text, preset_key, settings.key)
            label = label_ if settings.key == preset_key else CUSTOM_PROGRESSION
            said.append(f"chords **{new_chords}** ({label_.split(' (')[0]})")
        else:
            kept.append("your chords")
        new_grid = gr.skip()
        if self._grid_is_preset(grid):
            name = self.rhythm_for(settings.arousal)
            new_grid = sg.preset_pattern(name, sg.clamp_bars(bars))
            said.append(f"rhythm **{name}**")
        else:
            kept.append("your rhythm")
        t = summary.template
        note = (
            f"For **{summary.prompt_text}**: "
            + " · ".join(said)
            + (f" (kept {' and '.join(kept)})" if kept else "")
            + f". With *Use this feeling*: {register_words(t.register_shift)}, {summary.loudness_text}, "
            f"{articulation_words(t.articulation)}."
        )
        return settings.key, settings.tempo, new_chords, label, new_grid, note

    @staticmethod
    def rhythm_for(arousal: float) -> str:
        """The rhythm preset for a feeling: denser when excited, sparser when calm or sad."""
        if arousal >= 0.33:
            return DENSE_RHYTHM
        return SPARSE_RHYTHM if arousal <= -0.33 else MEDIUM_RHYTHM

    @staticmethod
    def _grid_is_preset(grid: str | None) -> bool:
        """Whether the grid is empty or still one of the fixed presets (a drawn rhythm is never replaced)."""
        pattern = sg.normalize_pattern(grid)
        if sg.count_onsets(pattern) == 0:
            return True
        bars = sg.num_bars_of(pattern)
        return any(pattern == sg.preset_pattern(name, bars) for name in sg.PRESETS)

    def load_starting_point(self, sp: StartingPoint):
        progression = next(
            (label for label, (text, _) in PROGRESSIONS.items() if text == sp.chords), CUSTOM_PROGRESSION
        )
        return (
            sg.preset_pattern(sp.preset, sp.num_bars),
            sp.num_bars,
            sp.chords,
            _pick(sp.key, self.keys, self.keys[0]),
            sp.tempo,
            _pick(sp.instrument, self.instruments, self.instruments[0]),
            _pick(sp.accompaniment, self.accompaniments, NO_ACCOMPANIMENT),
            progression,
        )

    def generate(
        self,
        grid_value: str | None,
        chords_text: str | None,
        num_bars: Any,
        key: str | None,
        tempo: Any,
        instrument: str | None,
        accompaniment: str | None,
        seed: Any,
        temperature: Any,
        variations: Any,
        use_feeling: Any = False,
        feeling: Any = None,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """What the Generate button calls: a dict {component: update}; never raises.

        With ``use_feeling`` the melodies take the feeling's (the pad's point) register, loudness and
        articulation. On bad input only the status is updated (previous results stay visible).
        """
        started = time.perf_counter()
        try:
            emotion = None
            chosen = not (feeling is None or (isinstance(feeling, str) and not feeling.strip()))
            if chosen:
                check_feeling(feeling)  # a feeling sent must be readable even while unused
            if flag("Use this feeling (use_feeling)", use_feeling):
                if not chosen:
                    raise InputError(
                        "'Use this feeling' is on but no feeling is chosen: click the pad under Feeling "
                        "(optional), or untick it"
                    )
                emotion = feeling
            bars = self.studio.check_num_bars(num_bars)
            rhythm = sg.to_rhythm(grid_value, bars)
            if sg.count_onsets(rhythm) == 0:
                raise InputError("The rhythm grid is empty: click at least one cell to place a note onset")
            with stages(progress_listener(progress)):
                results = self.studio.compose(
                    rhythm=rhythm,
                    chords=chords_text or "",
                    num_bars=bars,
                    key=key or "",
                    tempo=tempo,
                    instrument=instrument or "",
                    accompaniment=accompaniment,
                    seed=0 if seed is None else seed,
                    temperature=temperature,
                    variations=variations,
                    session_id=self.studio.session_of(request),
                    emotion=emotion,
                )
        except InputError as err:
            return {self.status: error_markdown(str(err)), self.pending_rolls: None}
        except Exception as err:  # noqa: BLE001 - the page must survive anything
            log.exception("compose failed")
            return {
                self.status: "<div class='cz-status cz-error'>❌ <b>Something went wrong while composing</b> "
                f"({type(err).__name__}). The details are in the server log; "
                "try other settings or press Generate again.</div>",
                self.pending_rolls: None,
            }
        return self._results_update(results, rhythm, bars, time.perf_counter() - started)

    @property
    def restore_outputs(self) -> list:
        """What a reload fills: the results (as Generate does) and the inputs that made them."""
        return [
            *self.generate_outputs,
            self.grid,
            self.bars,
            self.chords,
            self.progression,
            self.key,
            self.tempo,
            self.instrument,
            self.accompaniment,
            self.seed,
            self.temperature,
            self.variations,
        ]

    def restore(self, shown: Any = None, request: gr.Request | None = None) -> dict:
        """At page load: the owner's latest Compose take from the library, its variations and the inputs that made
        them, as they were; nothing when they have none or the tab already shows a take (``shown``: its sheets).
        The feeling pad is left alone (moving it suggests a key, tempo and chords): the status names the feeling.
        Never raises."""
        if shown:
            return {self.status: gr.skip()}
        try:
            take = self.studio.library.latest_take(self.studio.session_of(request), "compose")
            results = self.studio.compose_service.reopen(take) if take is not None else []
        except Exception:  # noqa: BLE001 - the page loads without it
            log.exception("restoring the Compose take failed")
            return {self.status: gr.skip()}
        if take is None or not results:
            return {self.status: gr.skip()}
        asked = take.controls
        rhythm, chords = str(asked.get("rhythm", "")), str(asked.get("chords", ""))
        bars = int(asked.get("num_bars", sg.DEFAULT_BARS))
        out = self._results_update(results, rhythm, bars, 0.0)
        feeling = results[0].feeling
        out[self.status] = status.ok_markdown(
            f"Welcome back: your last take from the Library, {len(results)} variation"
            f"{'s' if len(results) != 1 else ''} over {status.md_escape(short_chords(chords))}, as it was"
            + (
                f" (with the feeling {status.md_escape(feeling.prompt_text)}: tick *Use this feeling* and click "
                "the pad there to use it again)"
                if feeling is not None
                else ""
            )
        )
        progression = next((label for label, (text, _) in PROGRESSIONS.items() if text == chords), CUSTOM_PROGRESSION)
        out.update(
            {
                self.grid: gr.HTML(value=rhythm, chords=self.studio.check_chords(chords).bar_labels),
                self.bars: bars,
                self.chords: chords,
                self.progression: progression,
                self.key: _pick(str(asked.get("key")), self.keys, gr.skip()),
                self.tempo: asked.get("tempo", gr.skip()),
                self.instrument: _pick(str(asked.get("instrument")), self.instruments, gr.skip()),
                self.accompaniment: _pick(str(asked.get("accompaniment")), self.accompaniments, gr.skip()),
                self.seed: results[0].seed,
                self.temperature: asked.get("temperature", gr.skip()),
                self.variations: len(results),
            }
        )
        return out

    def draw_rolls(self, sheets: list | None) -> list:
        """Piano rolls for the sheets Generate just made (one per variation box); never raises.

        ``None`` (Generate failed or was not run) leaves every roll as it is.
        """
        if not sheets:
            return [gr.skip() for _ in self.variation_boxes]
        rolls: list = []
        for index, _box in enumerate(self.variation_boxes):
            if index >= len(sheets):
                rolls.append(None)
                continue
            try:
                rolls.append(
                    self.studio.piano_roll(sheets[index], title=sheets[index].title or f"Variation {index + 1}")
                )
            except Exception:  # noqa: BLE001 - a missing roll must not break the page
                log.exception("piano roll failed")
                rolls.append(gr.skip())
        return rolls

    def _results_update(self, results: list[ComposeResult], rhythm: str, bars: int, seconds: float) -> dict:
        first = results[0]
        melody = first.sheet.melody
        out: dict = {
            self.status: (
                f"<div class='cz-status cz-okay'>✅ {len(results)} variation{'s' if len(results) != 1 else ''} · "
                f"{bars} bars · {sg.count_onsets(rhythm)} notes · key {status.md_escape(melody.key or '?')} · "
                f"{melody.tempo_bpm:g} BPM"
                + (
                    f" · feeling {status.md_escape(first.feeling.prompt_text)} "
                    f"({register_words(first.feeling.template.register_shift)})"
                    if first.feeling is not None
                    else ""
                )
                + f" · {seconds:.1f} s"
                + ("" if self.studio.has_audio else " · <i>audio unavailable on this server</i>")
                + status.kept_note([r.kept for r in results])
                + "</div>"
            ),
            self.last_sheet: first.sheet,
            self.last_sheets: [r.sheet for r in results],
            self.pending_rolls: [r.sheet for r in results],
        }
        for index, box in enumerate(self.variation_boxes):
            if index < len(results):
                r = results[index]
                out[box["column"]] = gr.Column(visible=True)
                out[box["title"]] = (
                    f"### {r.title}\n{status.md_escape(r.instrument)}"
                    + (f" + {status.md_escape(r.accompaniment)}" if r.accompaniment != NO_ACCOMPANIMENT else "")
                    + f" · {r.num_notes} notes"
                    + (f" · feeling: {status.md_escape(r.feeling.prompt_text)}" if r.feeling is not None else "")
                )
                out[box["audio"]] = r.audio_file
                out[box["midi"]] = r.midi_path
                out[box["wav"]] = r.wav_path
                out[box["report"]] = report_html(r.report)
            else:
                out[box["column"]] = gr.Column(visible=False)
                out[box["audio"]] = None
                out[box["midi"]] = None
                out[box["wav"]] = None
                out[box["report"]] = ""
        return out


def build_compose_tab(studio: Studio) -> ComposeTab:
    """Build the Compose tab's contents in the current Blocks context."""
    return ComposeTab(studio).build()
