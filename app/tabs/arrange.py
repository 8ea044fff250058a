"""The Arrange tab: chords suggested for the user's own melody, and the melody arranged in any of the seven styles.

Layout and wiring only (the work is app/services/arrange.py). The melody is the last one composed or a track of an
uploaded MIDI file (the Library's "Open in Arrange", and the one under every other tab's result, put a piece there).
**Suggest chords** fills the chord box bar by bar and lists each bar's alternatives: clicking one puts it in the box
(in the browser, no round trip); the box stays the user's to edit. **Arrange** writes three lower voices in the chosen
style under the melody, which stays on top note for note, and gives audio, the multitrack roll with the chords (after
the audio), a four-track MIDI, MusicXML (four staves) and WAV, with the style judge's verdict per 2-bar window.
**Redraw** draws one lower voice again and keeps the others.
API names: ``/arrange_suggest`` and ``/arrange``.
"""

from __future__ import annotations

import html
import logging
import random
from typing import Any

import gradio as gr

from app import api_inputs as ai
from app.components.audio_first import WAIT_FOR_AUDIO_JS
from app.components.midi_keyboard import midi_keyboard
from app.components.progress import PROGRESS, progress_listener
from app.components.status import crash_markdown, error_markdown, kept_note, md_escape, ok_markdown
from app.services import Studio
from app.services.arrange import SOURCE_LAST, SOURCE_UPLOAD, SOURCES, VOICE_NAMES, ArrangeResult, Suggestion
from app.services.common import InputError, melody_instruments, stages
from app.services.style import STYLE_OWN

log = logging.getLogger("cadenza.arrange")

ARRANGE_CSS = """
.cz-alts { display: flex; flex-wrap: wrap; gap: 6px; }
.cz-alt-bar { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 2px 6px; }
.cz-alt-bar b { color: var(--body-text-color-subdued); font-weight: 600; margin-right: 4px; }
.cz-alt { cursor: pointer; border: none; background: var(--button-secondary-background-fill); border-radius: 6px; \
padding: 1px 6px; margin: 1px; }
.cz-alt:hover { background: var(--button-secondary-background-fill-hover); }
"""

# Clicking an alternative writes it into its bar (and slot) of the chord box, as the user would type it.
ALTERNATIVES_JS = """
() => {
  document.addEventListener('click', (event) => {
    const button = event.target.closest('.cz-alt');
    if (!button) return;
    const box = document.querySelector('#cz-arr-chords textarea, #cz-arr-chords input');
    if (!box) return;
    const bar = Number(button.dataset.bar), slot = Number(button.dataset.slot), slots = Number(button.dataset.slots);
    const bars = box.value.split('|').map((b) => b.trim().split(/\\s+/).filter(Boolean));
    while (bars.length <= bar) bars.push([]);
    let chords = bars[bar];
    if (chords.length !== slots) {
      const given = chords;
      chords = Array.from({length: slots}, (_, i) => given[Math.min(i, given.length - 1)] || 'N.C.');
    }
    chords[slot] = button.dataset.chord;
    bars[bar] = chords.every((c) => c === chords[0]) ? [chords[0]] : chords;
    box.value = bars.map((b) => b.join(' ')).join(' | ');
    box.dispatchEvent(new Event('input', {bubbles: true}));
  });
}
"""


def alternatives_html(suggestion: Suggestion | None) -> str:
    """Each bar's alternatives as buttons (best first, with its probability)."""
    if suggestion is None:
        return ""
    bars = []
    for bar, slots in enumerate(suggestion.alternatives):
        buttons = []
        for slot, options in enumerate(slots):
            for symbol, probability in options:
                buttons.append(
                    f"<button class='cz-alt' data-bar='{bar}' data-slot='{slot}' data-slots='{len(slots)}' "
                    f"data-chord='{html.escape(symbol)}' title='{probability:.0%}'>{html.escape(symbol)}</button>"
                )
            if slot + 1 < len(slots):
                buttons.append("·")
        bars.append(f"<span class='cz-alt-bar'><b>{bar + 1}</b>{''.join(buttons)}</span>")
    return (
        f"<div class='cz-report'><b>Alternatives</b> (key {html.escape(suggestion.key)}; click one to put it in its "
        f"bar, most likely first)<div class='cz-alts'>{''.join(bars)}</div></div>"
    )


def verdict_html(result: ArrangeResult) -> str:
    """The judge's verdict per 2-bar window of the arrangement."""
    style = result.arrangement.style
    chips = "".join(
        f"<span class='cz-verdict {'cz-yes' if v == style else 'cz-no'}'><b>bars {2 * i + 1}-{2 * i + 2}</b> "
        f"{'✓' if v == style else '✗'} {md_escape(v)}</span>"
        for i, v in enumerate(result.verdicts)
    )
    hits = sum(v == style for v in result.verdicts)
    return (
        f"<div class='cz-report'><b>Style judge</b>: {hits} of {len(result.verdicts)} windows heard as "
        f"{md_escape(style)}<div class='cz-verdicts'>{chips}</div></div>"
    )


class ArrangeTab:
    """Builds the tab (``build``) and holds its components and handlers."""

    def __init__(self, studio: Studio, last_sheet: gr.State | None = None):
        self.studio = studio
        self.service = studio.arrange
        self.last_sheet = last_sheet if last_sheet is not None else gr.State(None)

    def build(self) -> ArrangeTab:
        styles = self.service.styles
        gr.Markdown(
            "Give **your melody** (the last one you composed, a MIDI file, or play it on a MIDI keyboard) and "
            "Cadenza suggests **chords** for it, bar by bar, with alternatives to click; then it **arranges** it in "
            "one of seven styles: your melody stays on top note for note, three lower voices are written under it "
            "over the chords in the box."
            + (
                ""
                if self.service.available
                else "\n\n**Arrange is unavailable on this server** (it needs checkpoints/stylegan and "
                "checkpoints/harmonizer)."
            )
        )
        with gr.Row(equal_height=True):
            self.source = ai.Radio(list(SOURCES), value=SOURCE_LAST, label="Melody", elem_id="cz-arr-source", scale=2)
            self.file = ai.File(label="MIDI file", file_types=[".mid", ".midi"], elem_id="cz-arr-file", scale=2)
            self.track = ai.Number(
                None, precision=0, label="Melody track (blank: guessed)", elem_id="cz-arr-track", scale=1
            )
            self.bars = ai.Slider(
                1, 32, value=16, step=1, label="Bars (from the start)", elem_id="cz-arr-bars", scale=2
            )
        # Hidden by the widget itself where the browser has no Web MIDI.
        with gr.Group(elem_classes=["cz-arr-keyboard"]):
            with gr.Row(equal_height=True):
                self.keyboard = midi_keyboard("cz-arr-keyboard")
                self.keyboard_tempo = ai.Number(
                    100,
                    precision=0,
                    minimum=30,
                    maximum=300,
                    label="Tempo of your playing (BPM): notes snap to sixteenths at it",
                    elem_id="cz-arr-keyboard-tempo",
                    scale=0,
                    min_width=220,
                )
        with gr.Row(equal_height=True):
            self.suggest_button = gr.Button("🎹 Suggest chords", elem_id="cz-arr-suggest", scale=1)
            self.chords = gr.Textbox(
                "",
                label="Chords (yours to edit)",
                placeholder="press Suggest chords, or type: G C | D G ...",
                info="one chord per bar from bar 1; | between bars; several in a bar: C Am | F G; empty: suggested",
                elem_id="cz-arr-chords",
                max_lines=3,
                scale=4,
            )
        self.alternatives = gr.HTML("", elem_id="cz-arr-alternatives")
        with gr.Row(equal_height=True):
            self.style = ai.Dropdown(
                styles,
                value="English folk" if "English folk" in styles else (styles[0] if styles else None),
                label="Style",
                elem_id="cz-arr-style",
                scale=2,
            )
            self.seed = ai.Number(0, precision=0, label="Seed", elem_id="cz-arr-seed", scale=1, min_width=100)
            self.dice = gr.Button("🎲", elem_id="cz-arr-dice", scale=0, min_width=50)
            self.arrange_button = gr.Button("🎻 Arrange", variant="primary", elem_id="cz-arr-arrange", scale=1)
        with gr.Accordion("Instruments (your melody first)", open=False):
            with gr.Row():
                names = [STYLE_OWN, *melody_instruments()]
                self.instruments = [
                    ai.Dropdown(names, value=STYLE_OWN, label=f"Track {i + 1}", elem_id=f"cz-arr-inst{i + 1}")
                    for i in range(4)
                ]
        with gr.Row(equal_height=True):
            self.voice = ai.Dropdown(
                [VOICE_NAMES[v] for v in (1, 2, 3)], value=VOICE_NAMES[3], label="Voice", elem_id="cz-arr-voice"
            )
            self.redraw_button = gr.Button("🔁 Redraw this voice", elem_id="cz-arr-redraw")
        self.status = gr.HTML("", elem_id="cz-arr-status")
        self.melody = gr.State(None)  # the melody read for the chords shown (a LeadSheet)
        self.current = gr.State(None)  # the arrangement on the page (an ArrangeResult)
        self.pending_roll = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                self.roll = gr.Plot(label="Four tracks with the chords", elem_id="cz-arr-roll")
            with gr.Column(scale=2, min_width=280):
                self.audio = gr.Audio(
                    type="filepath",
                    label="Arrangement",
                    interactive=False,
                    elem_id="cz-arr-audio",
                    buttons=["download"],
                )
                with gr.Row():
                    self.midi = gr.File(label="MIDI (four tracks)", interactive=False, elem_id="cz-arr-midi")
                    self.musicxml = gr.File(label="MusicXML (four staves)", interactive=False, elem_id="cz-arr-xml")
                    self.wav = gr.File(label="WAV", interactive=False, elem_id="cz-arr-wav")
                self.verdict = gr.HTML("", elem_id="cz-arr-verdict")
        self._wire()
        return self

    @property
    def result_outputs(self) -> list:
        return [
            self.status,
            self.audio,
            self.midi,
            self.musicxml,
            self.wav,
            self.verdict,
            self.pending_roll,
            self.current,
        ]

    def _wire(self) -> None:
        quick = dict(queue=False, show_progress="hidden", api_visibility="private")
        busy = dict(concurrency_limit=1, show_progress="full", show_progress_on=[self.status])
        self.dice.click(lambda: random.randint(0, 99_999), None, self.seed, **quick)
        self._wire_keyboard()
        self.style.input(self.default_instruments, [self.style], self.instruments, **quick)
        self.suggest_button.click(
            self.suggest,
            [self.source, self.file, self.last_sheet, self.bars, self.track, self.seed],
            [self.status, self.chords, self.alternatives, self.melody],
            api_name="arrange_suggest",
            **busy,
        )
        self.arrange_button.click(
            self.arrange,
            [
                self.source,
                self.file,
                self.last_sheet,
                self.bars,
                self.track,
                self.chords,
                self.style,
                self.seed,
                *self.instruments,
            ],
            [*self.result_outputs, self.melody],
            api_name="arrange",
            **busy,
        ).then(None, js=WAIT_FOR_AUDIO_JS, **quick).then(self.draw_roll, [self.pending_roll], [self.roll], **quick)
        self.redraw_button.click(
            self.redraw,
            [self.current, self.melody, self.voice, self.seed, *self.instruments],
            self.result_outputs,
            api_visibility="private",
            **busy,
        ).then(None, js=WAIT_FOR_AUDIO_JS, **quick).then(self.draw_roll, [self.pending_roll], [self.roll], **quick)

    def _wire_keyboard(self) -> None:
        """A take played on a MIDI keyboard becomes a MIDI file in the upload box, and its chords are suggested."""
        self.keyboard.change(
            self.take_played,
            [self.keyboard, self.keyboard_tempo],
            [self.source, self.file, self.track, self.status],
            queue=False,
            api_visibility="private",
        ).success(
            self.suggest,
            [self.source, self.file, self.last_sheet, self.bars, self.track, self.seed],
            [self.status, self.chords, self.alternatives, self.melody],
            show_progress="full",
            show_progress_on=[self.status],
            api_visibility="private",
        )

    def take_played(self, take: Any, tempo: Any, request: gr.Request | None = None) -> tuple:
        """The take played on the keyboard, as a MIDI file in the upload box; raises gr.Error (a message, nothing on
        the page changed) for an empty or damaged take."""
        try:
            path, note = self.service.played_file(take, tempo, self.studio.session_of(request))
        except InputError as err:
            raise gr.Error(str(err)) from None
        return SOURCE_UPLOAD, path, None, ok_markdown(f"Played melody: {md_escape(note)}; suggesting its chords")

    def open_from(self, button: gr.Button, files: gr.File, tabs: gr.Tabs) -> None:
        """Another tab's "Open in Arrange": ``button`` puts the MIDI in ``files`` (a file or several: the first MIDI)
        in the upload box, shows this tab and suggests the melody's chords."""
        button.click(
            self.open_result,
            [files],
            [tabs, self.source, self.file, self.track, self.status],
            queue=False,
            api_visibility="private",
        ).success(
            self.suggest,
            [self.source, self.file, self.last_sheet, self.bars, self.track, self.seed],
            [self.status, self.chords, self.alternatives, self.melody],
            show_progress="full",
            show_progress_on=[self.status],
            api_visibility="private",
        )

    # ------------------------------------------------------------------ handlers

    @staticmethod
    def open_result(files: Any) -> tuple:
        """A result's MIDI into the upload box, and this tab shown; raises gr.Error (a message on the page, nothing
        changed) when there is no MIDI to open yet."""
        paths = files if isinstance(files, list) else [files]
        midi = next(
            (str(p) for p in paths if isinstance(p, str) and p.lower().endswith((".mid", ".midi"))),
            None,
        )
        if midi is None:
            raise gr.Error("Nothing to open in Arrange yet: make a piece here first (Arrange reads its MIDI file)")
        return (
            gr.Tabs(selected="arrange"),
            SOURCE_UPLOAD,
            midi,
            None,
            ok_markdown("Opened in Arrange: suggesting its chords"),
        )

    def default_instruments(self, style: Any) -> list:
        if style not in self.service.styles:
            return [gr.skip()] * 4
        return list(self.service.instruments_for(style, None))

    def suggest(
        self, source, file=None, last_sheet=None, bars=16, track=None, seed=0, request=None, progress: Any = PROGRESS
    ) -> tuple:
        """Suggest chords (API ``/arrange_suggest``): the chord box, the alternatives and the melody read; never
        raises (bad input: only the status changes)."""
        try:
            with stages(progress_listener(progress)):
                sheet, note = self.service.melody(source, file, last_sheet, bars, track)
                suggestion = self.service.suggest(sheet, seed)
        except InputError as err:
            return error_markdown(str(err), "Can't suggest chords"), gr.skip(), gr.skip(), gr.skip()
        except Exception as err:  # noqa: BLE001 - the page must survive anything
            log.exception("chord suggestion failed")
            return crash_markdown("suggesting chords", err), gr.skip(), gr.skip(), gr.skip()
        message = (
            f"Chords for {md_escape(sheet.title)} ({md_escape(note)}), key {md_escape(suggestion.key)}: edit "
            "them or click an alternative, then Arrange"
        )
        return ok_markdown(message), suggestion.text, alternatives_html(suggestion), sheet

    def arrange(
        self,
        source,
        file=None,
        last_sheet=None,
        bars=16,
        track=None,
        chords="",
        style=None,
        seed=0,
        inst1=None,
        inst2=None,
        inst3=None,
        inst4=None,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """The Arrange button (API ``/arrange``); never raises."""
        try:
            with stages(progress_listener(progress)):
                sheet, note = self.service.melody(source, file, last_sheet, bars, track)
                result = self.service.arrange(
                    sheet, chords, style, seed, [inst1, inst2, inst3, inst4], self.studio.session_of(request)
                )
        except InputError as err:
            return {self.status: error_markdown(str(err), "Can't arrange"), self.pending_roll: None}
        except Exception as err:  # noqa: BLE001
            log.exception("arranging failed")
            return {self.status: crash_markdown("arranging", err), self.pending_roll: None}
        out = self._shown(result, note)
        out[self.melody] = sheet
        return out

    def redraw(
        self,
        current,
        melody,
        voice,
        seed,
        inst1=None,
        inst2=None,
        inst3=None,
        inst4=None,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """Redraw one lower voice of the arrangement on the page; never raises."""
        try:
            if not isinstance(current, ArrangeResult) or melody is None:
                raise InputError("Arrange a melody first: then one of its voices can be drawn again")
            number = next((k for k, name in VOICE_NAMES.items() if name == voice), None)
            if number is None:
                raise InputError(f"Unknown voice {voice!r}: choose one of {', '.join(VOICE_NAMES.values())}")
            with stages(progress_listener(progress)):
                result = self.service.arrange(
                    melody,
                    current.chords_text,
                    current.arrangement.style,
                    seed,
                    [inst1, inst2, inst3, inst4],
                    self.studio.session_of(request),
                    voice=number,
                    keep=current,
                )
        except InputError as err:
            return {self.status: error_markdown(str(err), "Can't redraw the voice"), self.pending_roll: None}
        except Exception as err:  # noqa: BLE001
            log.exception("redrawing a voice failed")
            return {self.status: crash_markdown("redrawing the voice", err), self.pending_roll: None}
        return self._shown(result, "")

    def _shown(self, result: ArrangeResult, note: str) -> dict:
        audio_note = "" if self.studio.has_audio else " · <i>audio unavailable on this server</i>"
        return {
            self.status: ok_markdown(
                f"{md_escape(result.title)}"
                + (f" · {md_escape(note)}" if note else "")
                + f" · chords {md_escape(result.chords_text)} · {', '.join(md_escape(i) for i in result.instruments)}"
                + audio_note
                + kept_note([result.kept])
            ),
            self.audio: result.audio_file,
            self.midi: result.midi_path,
            self.musicxml: result.musicxml_path,
            self.wav: result.wav_path,
            self.verdict: verdict_html(result),
            self.pending_roll: result,
            self.current: result,
        }

    @property
    def restore_outputs(self) -> list:
        """What a reload fills: the arrangement shown (as Arrange does) and the style, chords and seed that made it."""
        return [*self.result_outputs, self.style, self.chords, self.seed, *self.instruments]

    def restore(self, shown: Any = None, request: gr.Request | None = None) -> dict:
        """At page load: the owner's latest arrangement from the library, as it was (to hear, see and download; a
        voice is redrawn after the melody is arranged again); nothing when they have none or one is on the page.
        Never raises."""
        if shown is not None:
            return {self.status: gr.skip()}
        try:
            take = self.studio.library.latest_take(self.studio.session_of(request), "arrange")
            result = self.service.reopen(take) if take is not None else None
        except Exception:  # noqa: BLE001 - the page loads without it
            log.exception("restoring the arrangement failed")
            return {self.status: gr.skip()}
        if result is None:
            return {self.status: gr.skip()}
        out = self._shown(result, "")
        out[self.status] = ok_markdown(
            f"Welcome back: your last arrangement from the Library, {md_escape(result.title)}"
        )
        out[self.current] = None  # its melody is not on the page: Arrange it again to redraw a voice
        out[self.style] = result.arrangement.style if result.arrangement.style in self.service.styles else gr.skip()
        out[self.chords] = result.chords_text
        out[self.seed] = result.seed
        for dropdown, name in zip(self.instruments, result.instruments):
            out[dropdown] = name if name in melody_instruments() else gr.skip()
        return out

    def draw_roll(self, pending: ArrangeResult | None) -> Any:
        """The multitrack roll of the arrangement just heard (chained after the audio)."""
        if pending is None:
            return gr.skip()
        try:
            return pending.figure()
        except Exception:  # noqa: BLE001
            log.exception("arrangement roll failed")
            return gr.skip()
