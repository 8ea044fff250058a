"""The Style tab: pick a style and hear new four-part music in it; morph one style into another; move an upload.

Layout and wiring only (the work is app/services/style.py). Three verbs, each with an API name:
``/style_generate`` (style, bars, seed, four instruments, then the generator "MusAE" or "GAN" and
the GAN's chord progression: both last and optional, so clients written before the GAN keep
working and get MusAE), ``/style_morph`` (style A, style B, steps, seed, four instruments) and
``/style_transfer`` (MIDI file, target style, strength, four instruments); morph and transfer are
MusAE's alone. Every result shows its audio, a four-track MIDI and WAV, the judge's verdict per
2-bar window and which generator wrote it, and then (after the audio, in a chained event) the
multitrack piano roll. Choosing a style sets the four instruments to ones that fit it (you can
change them); the chord box shows while the GAN is chosen.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import gradio as gr

from app import api_inputs as ai
from app.components.audio_first import WAIT_FOR_AUDIO_JS
from app.components.open_in import open_in_arrange_button
from app.components.progress import PROGRESS, progress_listener
from app.components.status import crash_markdown, error_markdown, kept_note, md_escape, ok_markdown
from app.services import Studio
from app.services.common import InputError, melody_instruments, stages
from app.services.style import (
    GAN,
    MORPH_MAX_STEPS,
    MORPH_MIN_STEPS,
    MUSAE,
    STYLE_MAX_BARS,
    STYLE_MIN_BARS,
    STYLE_MODELS,
    STYLE_OWN,
    StyleResult,
)

log = logging.getLogger("cadenza.style")


VERDICT_CSS = """
.cz-verdicts { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.cz-verdict { padding: 1px 8px; border-radius: 10px; border: 1px solid var(--border-color-primary); \
white-space: nowrap; }
.cz-verdict.cz-yes { border-color: var(--color-green-300, #86efac); }
.cz-verdict.cz-no { border-color: var(--color-red-300, #fca5a5); }
.cz-verdict b { color: var(--body-text-color-subdued); font-weight: 600; }
"""


def verdict_html(result: StyleResult) -> str:
    """The judge's verdict per window, and how many windows are in the style asked for: one chip per 2-bar window,
    wrapping inside the panel however many windows there are."""
    chips = "".join(
        f"<span class='cz-verdict {'cz-yes' if v == a else 'cz-no'}' data-window='{i}' title='asked: {md_escape(a)}'>"
        f"<b>bars {2 * i + 1}-{2 * i + 2}</b> {'✓' if v == a else '✗'} {md_escape(v)}</span>"
        for i, (a, v) in enumerate(zip(result.asked, result.verdicts))
    )
    hits = sum(v == a for v, a in zip(result.verdicts, result.asked))
    return (
        f"<div class='cz-report'><b>Style judge</b> on the {md_escape(result.model)} piece: "
        f"{hits} of {len(result.verdicts)} windows heard as asked<div class='cz-verdicts'>{chips}</div></div>"
    )


class StyleTab:
    """Builds the tab (``build``) and holds its components and handlers."""

    def __init__(self, studio: Studio):
        self.studio = studio
        self.service = studio.style

    @property
    def arrange_sources(self) -> list[tuple[gr.Button, gr.File]]:
        """(an "Open in Arrange" button, the MIDI file it opens) of each result here."""
        return [(self.to_arrange, self.midi)]

    def build(self) -> StyleTab:
        styles = self.service.styles
        first = styles[0] if styles else None
        service = self.service
        notes = []
        if not service.available:
            notes.append(
                "**The Style tab is unavailable:** no MusAE model and no style GAN were found (see README, *Styles*)."
            )
        elif not service.musae_available:
            notes.append(
                "**MusAE is unavailable** (no model in checkpoints/musae, see README, *Styles*): the GAN writes the "
                "pieces; Morph and Transfer need MusAE."
            )
        elif not service.gan_available:
            notes.append("**The GAN is unavailable** (no model in checkpoints/stylegan): MusAE writes the pieces.")
        gr.Markdown(
            "Pick a **style** and hear new four-part music in it, written by one of two generators: **MusAE** (an "
            "adversarial autoencoder whose latent space holds one region per style) or the **GAN** (a style GAN that "
            "writes 2 bars at a time, each following the 2 before, and can follow a **chord progression** you type). "
            "**Morph** walks from one style to another and **Transfer** moves an uploaded MIDI file (2 to 4 voices) "
            "toward a style: both always use MusAE. A style judge, trained on real music only, says which style it "
            "hears in every 2-bar window." + "".join(f"\n\n{note}" for note in notes),
        )
        with gr.Row(equal_height=True):
            self.style = ai.Dropdown(styles, value=first, label="Style", elem_id="cz-style-style", scale=2)
            self.bars = ai.Slider(
                STYLE_MIN_BARS, STYLE_MAX_BARS, value=4, step=2, label="Bars", elem_id="cz-style-bars", scale=2
            )
            self.seed = ai.Number(0, precision=0, label="Seed", elem_id="cz-style-seed", scale=1, min_width=100)
            self.dice = gr.Button("🎲", elem_id="cz-style-dice", scale=0, min_width=50)
            self.generate_button = gr.Button("🎼 Generate", variant="primary", elem_id="cz-style-generate", scale=1)
        with gr.Row(equal_height=True):
            missing = [
                name for name, here in ((MUSAE, service.musae_available), (GAN, service.gan_available)) if not here
            ]
            self.model = ai.Radio(
                list(STYLE_MODELS),
                value=service.default_model,
                label="Generator",
                elem_id="cz-style-model",
                info=("unavailable here: " + ", ".join(missing)) if missing else "MusAE or the style GAN",
                scale=1,
                min_width=200,
            )
            self.chords = gr.Textbox(
                "",
                label="Chord progression (GAN only, optional)",
                placeholder="C G Am F",
                max_lines=1,
                info="one chord per bar, repeated to fill the bars; | for several in a bar; empty: no chords",
                elem_id="cz-style-chords",
                visible=service.default_model == GAN,
                scale=3,
            )
        with gr.Accordion("Instruments (one per track, top voice first)", open=False):
            with gr.Row():
                names = [STYLE_OWN, *melody_instruments()]
                self.instruments = [
                    ai.Dropdown(names, value=STYLE_OWN, label=f"Track {i + 1}", elem_id=f"cz-style-inst{i + 1}")
                    for i in range(4)
                ]
        with gr.Row(equal_height=True):
            self.style_b = ai.Dropdown(
                styles, value=styles[-1] if styles else None, label="Morph to style", elem_id="cz-style-b", scale=2
            )
            self.steps = ai.Slider(
                MORPH_MIN_STEPS,
                MORPH_MAX_STEPS,
                value=5,
                step=1,
                label="Morph steps (2-bar windows)",
                elem_id="cz-style-steps",
                scale=2,
            )
            self.morph_button = gr.Button("🔀 Morph", elem_id="cz-style-morph", scale=1)
        with gr.Row(equal_height=True):
            self.upload = ai.File(
                label="MIDI with 2 to 4 voices", file_types=[".mid", ".midi"], elem_id="cz-style-upload", scale=2
            )
            self.strength = ai.Slider(
                0,
                1,
                value=0.8,
                step=0.05,
                label="Transfer strength (toward the style above)",
                elem_id="cz-style-strength",
                scale=2,
            )
            self.transfer_button = gr.Button("➡️ Transfer", elem_id="cz-style-transfer", scale=1)
        self.status = gr.HTML("", elem_id="cz-style-status")
        self.pending_roll = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                self.roll = gr.Plot(label="Four tracks (one colour each)", elem_id="cz-style-roll")
            with gr.Column(scale=2, min_width=280):
                self.audio = gr.Audio(
                    type="filepath", label="Style", interactive=False, elem_id="cz-style-audio", buttons=["download"]
                )
                with gr.Row():
                    self.midi = gr.File(label="MIDI (four tracks)", interactive=False, elem_id="cz-style-midi")
                    self.wav = gr.File(label="WAV", interactive=False, elem_id="cz-style-wav")
                self.verdict = gr.HTML("", elem_id="cz-style-verdict")
                self.to_arrange = open_in_arrange_button("cz-style-to-arrange")
        self._wire()
        return self

    @property
    def outputs(self) -> list:
        return [self.status, self.audio, self.midi, self.wav, self.verdict, self.pending_roll]

    def _wire(self) -> None:
        quick = dict(queue=False, show_progress="hidden", api_visibility="private")  # UI plumbing, not API
        busy = dict(concurrency_limit=1, show_progress="full", show_progress_on=[self.status])
        # Only the user's own choice of style sets its instruments (.input): a piece brought back at a reload keeps
        # the instruments it was played with.
        self.style.input(self.default_instruments, [self.style], self.instruments, **quick)
        self.model.change(self.chords_box, [self.model], [self.chords], **quick)
        self.dice.click(lambda: random.randint(0, 99_999), None, self.seed, **quick)
        for button, handler, inputs, name in (
            (
                self.generate_button,
                self.generate,
                [self.style, self.bars, self.seed, *self.instruments, self.model, self.chords],
                "style_generate",
            ),
            (
                self.morph_button,
                self.morph,
                [self.style, self.style_b, self.steps, self.seed, *self.instruments],
                "style_morph",
            ),
            (
                self.transfer_button,
                self.transfer,
                [self.upload, self.style, self.strength, *self.instruments],
                "style_transfer",
            ),
        ):
            # Generate admits several people's requests at once: the GAN decodes those that arrive together as one batch
            # (MusAE's still take turns on the model lock); morph and transfer one at a time.
            limit = {"concurrency_limit": self.service.concurrency} if name == "style_generate" else {}
            button.click(handler, inputs, self.outputs, api_name=name, **{**busy, **limit}).then(
                None, js=WAIT_FOR_AUDIO_JS, **quick
            ).then(self.draw_roll, [self.pending_roll], [self.roll], **quick)

    # ------------------------------------------------------------------ handlers

    def default_instruments(self, style: Any) -> list:
        """The instruments that fit a style, one per track (unknown style: unchanged)."""
        if style not in self.service.styles:
            return [gr.skip()] * 4
        return list(self.service.instruments_for(style, None))

    @staticmethod
    def chords_box(model: Any) -> Any:
        """The chord box shows while the GAN is chosen (MusAE takes no chords)."""
        return gr.Textbox(visible=model == GAN)

    def _run(self, action: str, call, progress: Any = None) -> dict:
        try:
            with stages(progress_listener(progress)):
                result = call()
        except InputError as err:
            return {self.status: error_markdown(str(err), f"Can't {action}"), self.pending_roll: None}
        except Exception as err:  # noqa: BLE001 - the page must survive anything
            log.exception("style %s failed", action)
            return {self.status: crash_markdown(action, err), self.pending_roll: None}
        note = "" if self.studio.has_audio else " · <i>audio unavailable on this server</i>"
        return {
            self.status: ok_markdown(
                f"{md_escape(result.title)} · {', '.join(md_escape(i) for i in result.instruments)}{note}"
                + kept_note([result.kept])
            ),
            self.audio: result.audio_file,
            self.midi: result.midi_path,
            self.wav: result.wav_path,
            self.verdict: verdict_html(result),
            self.pending_roll: result,
        }

    def generate(
        self,
        style,
        bars,
        seed,
        inst1=None,
        inst2=None,
        inst3=None,
        inst4=None,
        model=None,
        chords=None,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """The Generate button (API ``/style_generate``): ``model`` "MusAE" or "GAN" (None: the tab's default),
        ``chords`` the GAN's progression (ignored by MusAE); never raises."""
        return self._run(
            "write the piece",
            lambda: self.service.generate(
                style,
                bars,
                seed,
                [inst1, inst2, inst3, inst4],
                self.studio.session_of(request),
                model=model,
                chords=chords,
            ),
            progress=progress,
        )

    def morph(
        self,
        style_a,
        style_b,
        steps,
        seed,
        inst1=None,
        inst2=None,
        inst3=None,
        inst4=None,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """The Morph button (API ``/style_morph``); never raises."""
        return self._run(
            "morph the styles",
            lambda: self.service.morph(
                style_a, style_b, steps, seed, [inst1, inst2, inst3, inst4], self.studio.session_of(request)
            ),
            progress=progress,
        )

    def transfer(
        self,
        file,
        target,
        strength,
        inst1=None,
        inst2=None,
        inst3=None,
        inst4=None,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """The Transfer button (API ``/style_transfer``); never raises."""
        return self._run(
            "transfer the piece",
            lambda: self.service.transfer(
                file, target, strength, [inst1, inst2, inst3, inst4], self.studio.session_of(request)
            ),
            progress=progress,
        )

    @property
    def restore_outputs(self) -> list:
        """What a reload fills: the result (as Generate does) and the inputs that made it."""
        return [
            *self.outputs,
            self.style,
            self.style_b,
            self.bars,
            self.steps,
            self.seed,
            self.model,
            self.chords,
            self.strength,
            *self.instruments,
        ]

    def restore(self, shown: Any = None, request: gr.Request | None = None) -> dict:
        """At page load: the owner's latest Style piece from the library and the inputs that made it, as they were;
        nothing when they have none or the tab already shows a piece (``shown``: the piece on the page). Never
        raises."""
        if shown is not None:
            return {self.status: gr.skip()}
        try:
            take = self.studio.library.latest_take(self.studio.session_of(request), "style")
            result = self.service.reopen(take) if take is not None else None
        except Exception:  # noqa: BLE001 - the page loads without it
            log.exception("restoring the Style piece failed")
            return {self.status: gr.skip()}
        if take is None or result is None:
            return {self.status: gr.skip()}
        asked = take.controls
        styles = self.service.styles

        def known(value: Any) -> Any:
            return value if value in styles else gr.skip()

        out: dict = {
            self.status: ok_markdown(f"Welcome back: your last piece from the Library, {md_escape(result.title)}"),
            self.audio: result.audio_file,
            self.midi: result.midi_path,
            self.wav: result.wav_path,
            self.verdict: verdict_html(result) if result.verdicts else "",
            self.pending_roll: result,
            self.model: result.model if result.model in STYLE_MODELS else gr.skip(),
        }
        for dropdown, name in zip(self.instruments, result.instruments):
            out[dropdown] = name if name in self.studio.melody_instruments() else gr.skip()
        action = asked.get("action")
        if action == "generate":
            out.update(
                {
                    self.style: known(asked.get("style")),
                    self.bars: asked.get("num_bars", gr.skip()),
                    self.seed: asked.get("seed", gr.skip()),
                    self.chords: asked.get("chords") or "",
                }
            )
        elif action == "morph":
            out.update(
                {
                    self.style: known(asked.get("style_a")),
                    self.style_b: known(asked.get("style_b")),
                    self.steps: asked.get("steps", gr.skip()),
                    self.seed: asked.get("seed", gr.skip()),
                }
            )
        elif action == "transfer":
            out.update({self.style: known(asked.get("style")), self.strength: asked.get("strength", gr.skip())})
        return out

    def draw_roll(self, pending: StyleResult | None) -> Any:
        """The multitrack roll of the result just heard (chained after the audio)."""
        if pending is None:
            return gr.skip()
        try:
            return pending.figure()
        except Exception:  # noqa: BLE001
            log.exception("style piano roll failed")
            return gr.skip()
