"""The Style tab's service: a style in, four-part music out (audio, multitrack roll, MIDI, the judge's verdict).

:class:`StyleService` (``studio.style``) runs two generators under the shared model lock, each
with the same style judge: ``engine.pipelines.style.StylePipeline`` (MusAE) and
``engine.pipelines.style_gan.StyleGANPipeline`` (the style GAN). ``generate`` (a style, bars,
seed, the generator, and for the GAN an optional chord progression) uses either; ``morph``
(style A to style B in N steps, one piece) and ``transfer`` (an uploaded MIDI with 2..4 voices
moved toward a style) are MusAE's alone (they walk its latent space; the GAN has no encoder).
Either generator may be missing (None): its verbs then say it is unavailable, and the other
keeps working. Every result is a :class:`StyleResult`: the four tracks' tokens, a four-track MIDI
file with an instrument per track (defaults that fit the style), the player's audio and a WAV, the
multitrack piano roll (drawn on demand), the judge's verdict per window and the generator that
wrote it. Bad input raises :data:`InputError` naming the argument.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.services.common import (
    MAX_SEED,
    InputError,
    Shared,
    check_chords,
    check_upload,
    choice,
    float_in,
    int_in,
    melody_program,
    report_stage,
)
from app.services.keeper import NOT_KEPT, Kept, audio_name
from app.services.library import KeptTake
from engine.io.multitrack import midi_windows
from engine.music.chords import parse_progression
from engine.music.limits import STYLE_BARS, STYLE_MORPH_STEPS
from engine.paths import default_checkpoint
from engine.pipelines.batching import MicroBatcher
from engine.pipelines.style_gan import StyleGANRequest
from engine.render.export import write_wav
from engine.render.multitrack import TRACK_NAMES, midi_to_piece, piece_to_midi, style_instruments
from engine.render.pianoroll import multitrack_roll_figure

log = logging.getLogger("cadenza.style")

STYLE_MIN_BARS, STYLE_MAX_BARS = STYLE_BARS.low, STYLE_BARS.high
MORPH_MIN_STEPS, MORPH_MAX_STEPS = STYLE_MORPH_STEPS.low, STYLE_MORPH_STEPS.high
STYLE_TEMPO = 96.0
# The instrument dropdowns' first choice and starting value: so an API call that leaves inst1..inst4 out hears the
# style's own instruments, not those of the style the page happened to open on.
STYLE_OWN = "The style's own"
MUSAE, GAN = "MusAE", "GAN"
STYLE_MODELS = (MUSAE, GAN)  # the generator choice; MusAE first: the default of API clients that do not name one


def check_model(value: Any) -> str:
    """The generator choice: "MusAE" or "GAN" (case and surrounding spaces ignored; None or "": MusAE). Anything else
    is an input error naming the choices."""
    if value is None or value == "":
        return MUSAE
    if isinstance(value, str):
        for name in STYLE_MODELS:
            if value.strip().lower() == name.lower():
                return name
    return choice("generator", value, STYLE_MODELS)  # raises: "Unknown generator ...: choose one of MusAE, GAN"


def check_style_chords(value: Any) -> str | None:
    """The GAN's chord progression: None for none (None or blank text), else the text, checked symbol by symbol as
    Compose checks it (an input error naming the first unknown symbol)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"Chords must be text such as 'C G Am F', got {type(value).__name__}")
    if not value.replace("|", " ").replace(",", " ").strip():  # blank, or bar lines alone: no chords given
        return None
    checked = check_chords(value)
    if not checked.ok:
        raise InputError(f"Chords: {checked.message}")
    return value.strip()


@dataclass
class StyleResult:
    """One piece ready for the page: heard, seen, downloadable and judged."""

    title: str
    tokens: np.ndarray  # (4, steps)
    asked: list[str]
    verdicts: list[str]
    instruments: tuple[str, ...]
    midi_path: str
    audio_file: str | None = None
    wav_path: str | None = None
    report: dict[str, Any] = field(default_factory=dict)
    model: str = MUSAE  # the generator that wrote it
    chords: str | None = None  # the progression it was asked over (the GAN's typed chords), None for none
    tempo: float = STYLE_TEMPO  # of its audio (the playback cursor follows it)
    kept: Kept = NOT_KEPT  # its piece in the owner's library, and the status line saying so

    @property
    def agreement(self) -> float:
        return sum(v == a for v, a in zip(self.verdicts, self.asked)) / max(len(self.verdicts), 1)

    def figure(self) -> Any:
        """The multitrack piano roll (plotly), one colour per track: drawn on demand, after the audio."""
        names = [f"{TRACK_NAMES[i]}: {name}" for i, name in enumerate(self.instruments)]
        progression = None
        if self.chords:
            bars = self.tokens.shape[1] // 16
            progression = parse_progression(self.chords, bars, 16)
        return multitrack_roll_figure(self.tokens, names, self.title, chords=progression, tempo_bpm=self.tempo)


class StyleService:
    """The Style tab's verbs. ``pipeline`` is a StylePipeline (MusAE) and ``gan_pipeline`` a StyleGANPipeline, each
    or both None (then the tab says which is unavailable)."""

    def __init__(self, pipeline: Any | None, shared: Shared, gan_pipeline: Any | None = None):
        self.pipeline = pipeline
        self.gan_pipeline = gan_pipeline
        self.shared = shared
        # The GAN's pieces for people pressing Generate together are drawn as one batch (StyleGANPipeline.run_many),
        # each what it would be alone.
        self.gan_batcher: MicroBatcher[StyleGANRequest, Any] | None = None
        if callable(getattr(gan_pipeline, "run_many", None)) and shared.max_batch > 1:
            self.gan_batcher = MicroBatcher(gan_pipeline.run_many, shared.max_batch, lock=shared.model_lock)

    @property
    def concurrency(self) -> int:
        """How many Generate requests the page's queue lets in at once (the GAN's batch size; 1 without batching)."""
        return self.shared.max_batch if self.gan_batcher is not None else 1

    @property
    def available(self) -> bool:
        """Whether any generator is here (else the whole tab is unavailable)."""
        return self.pipeline is not None or self.gan_pipeline is not None

    @property
    def musae_available(self) -> bool:
        return self.pipeline is not None

    @property
    def gan_available(self) -> bool:
        return self.gan_pipeline is not None

    @property
    def default_model(self) -> str:
        """The generator the tab starts on: MusAE, or the GAN when only it is here."""
        return GAN if self.pipeline is None and self.gan_pipeline is not None else MUSAE

    @property
    def styles(self) -> list[str]:
        """The style names (the judge's: both generators know the same ones, checked when they load)."""
        for pipeline in (self.pipeline, self.gan_pipeline):
            if pipeline is not None:
                return list(pipeline.styles)
        return []

    def _ready(self, model: str = MUSAE) -> Any:
        """The pipeline of ``model``, or an input error saying it is unavailable."""
        if model == GAN:
            if self.gan_pipeline is None:
                other = "; choose MusAE to generate" if self.pipeline is not None else ""
                raise InputError(
                    f"The style GAN is unavailable: no GAN model at {default_checkpoint('stylegan')} "
                    f"(train one: python -m engine.train stylegan){other}"
                )
            return self.gan_pipeline
        if self.pipeline is None:
            if self.gan_pipeline is not None:  # the GAN can still write pieces: say so
                raise InputError(
                    f"MusAE is unavailable: no MusAE model at {default_checkpoint('musae')} (train one: see README); "
                    "choose the GAN to generate (morph and transfer need MusAE)"
                )
            raise InputError(
                f"The Style tab is unavailable: no MusAE model at {default_checkpoint('musae')} (train one: see README)"
            )
        return self.pipeline

    def _style(self, name: str, value: Any) -> str:
        return choice(name, value, self.styles)

    def instruments_for(self, style: str, instruments: list[Any] | None) -> tuple[str, ...]:
        """Four instrument names: those given (each checked), else (None, "" or STYLE_OWN) the style's defaults."""
        defaults = style_instruments(style)
        if not instruments:
            return defaults
        if len(instruments) != 4:
            raise InputError(f"Instruments: give one per track (4), got {len(instruments)}")
        out = []
        for index, (value, default) in enumerate(zip(instruments, defaults), start=1):
            name = default if value in (None, "", STYLE_OWN) else value
            if not isinstance(name, str):
                raise InputError(f"Instrument of track {index} must be an instrument name, got {value!r}")
            melody_program(name)  # raises naming the unknown instrument
            out.append(name)
        return tuple(out)

    def generate(
        self,
        style: Any,
        bars: Any = 4,
        seed: Any = 0,
        instruments: list[Any] | None = None,
        session_id: str | None = None,
        model: Any = None,
        chords: Any = None,
    ) -> StyleResult:
        """``bars`` (even, 2..16) bars of four-part music in ``style`` by ``model`` ("MusAE" or "GAN"; None: the
        default, MusAE unless only the GAN is here); ``chords``
        (a progression such as "C G Am F", or None) conditions the GAN and is ignored by MusAE (which has no chord
        input: the tab hides the box for it)."""
        model = self.default_model if model is None or model == "" else check_model(model)
        pipeline = self._ready(model)
        style = self._style("style", style)
        bars = int_in("Bars", bars, STYLE_MIN_BARS, STYLE_MAX_BARS)
        if bars % 2:
            raise InputError(f"Bars must be even (the model writes 2-bar windows), got {bars}")
        seed = int_in("Seed", 0 if seed in (None, "") else seed, 0, MAX_SEED)  # a cleared box: 0
        progression = check_style_chords(chords) if model == GAN else None
        names = self.instruments_for(style, instruments)
        report_stage(0.1, f"drawing {bars} bars of {style}")
        if model == GAN and self.gan_batcher is not None:
            output = self.gan_batcher(StyleGANRequest(style, bars, seed, chords=progression))
        else:
            with self.shared.model_lock:
                output = (
                    pipeline(style, bars, seed, chords=progression) if model == GAN else pipeline(style, bars, seed)
                )
        piece = output.samples[0]
        title = f"{model}: {style} · {bars} bars · seed {seed}"
        if progression:
            shown = " ".join(progression.split())
            title += f" · chords {shown if len(shown) <= 40 else shown[:37] + '...'}"  # a long progression shown cut
        stem = (
            f"cadenza_style_seed{seed}" if model == MUSAE else f"cadenza_style_gan_seed{seed}"
        )  # neither overwrites the other
        asked = {"action": "generate", "style": style, "num_bars": bars, "seed": seed, "chords": progression}
        return self._present(piece, title, names, stem, session_id, model=model, controls=asked)

    def morph(
        self,
        style_a: Any,
        style_b: Any,
        steps: Any = 5,
        seed: Any = 0,
        instruments: list[Any] | None = None,
        session_id: str | None = None,
    ) -> StyleResult:
        """From style A to style B in ``steps`` 2-bar windows (2..12), one piece."""
        self._ready(MUSAE)  # the morph walks MusAE's latent space: no GAN morph
        a, b = self._style("style A", style_a), self._style("style B", style_b)
        steps = int_in("Morph steps", steps, MORPH_MIN_STEPS, MORPH_MAX_STEPS)
        seed = int_in("Seed", 0 if seed in (None, "") else seed, 0, MAX_SEED)
        names = self.instruments_for(b, instruments)
        report_stage(0.1, f"morphing {a} into {b}")
        with self.shared.model_lock:
            piece = self.pipeline.morph(a, b, steps, seed).samples[0]
        asked = {"action": "morph", "style_a": a, "style_b": b, "steps": steps, "seed": seed}
        return self._present(
            piece,
            f"{MUSAE}: {a} → {b} · {steps} steps · seed {seed}",
            names,
            f"cadenza_morph_seed{seed}",
            session_id,
            controls=asked,
        )

    def transfer(
        self,
        file: Any,
        target: Any,
        strength: Any = 0.8,
        instruments: list[Any] | None = None,
        session_id: str | None = None,
    ) -> StyleResult:
        """An uploaded MIDI file with 2..4 voices moved ``strength`` (0..1) toward ``target``."""
        self._ready(MUSAE)  # transfer encodes the piece: MusAE only (the GAN has no encoder)
        target = self._style("target style", target)
        strength = float_in("Strength", strength, 0.0, 1.0)
        source = check_upload(file)
        names = self.instruments_for(target, instruments)
        windows, tempo = midi_windows(source)  # 2..4 voices, else an error naming the count
        report_stage(0.1, f"moving the piece toward {target}")
        with self.shared.model_lock:
            piece = self.pipeline.transfer(windows, target, strength).samples[0]
        asked = {"action": "transfer", "style": target, "strength": strength}
        return self._present(
            piece,
            f"{MUSAE}: Upload → {target} · strength {strength:.2f}",
            names,
            "cadenza_transfer",
            session_id,
            tempo,
            controls=asked,
        )

    def _present(
        self,
        piece: Any,
        title: str,
        names: tuple[str, ...],
        stem: str,
        session_id: str | None,
        tempo: float = STYLE_TEMPO,
        model: str = MUSAE,
        controls: dict[str, Any] | None = None,
    ) -> StyleResult:
        programs = tuple(melody_program(n) for n in names)
        pm = piece_to_midi(piece.tokens, tempo, programs)
        out_dir = self.shared.take_dir(session_id)
        midi_path = out_dir / f"{stem}.mid"
        pm.write(str(midi_path))
        result = StyleResult(
            title, piece.tokens, list(piece.asked), list(piece.verdicts), names, str(midi_path), model=model
        )
        result.chords = (controls or {}).get("chords") or None
        result.tempo = float(tempo)
        result.report = {
            "generator": model,
            "styles_asked": result.asked,
            "judge_verdicts": result.verdicts,
            "agreement": round(result.agreement, 4),
        }
        synthesizer = self.shared.synthesizer
        if synthesizer is not None:
            report_stage(0.7, "rendering the audio")
            audio = synthesizer.render(pm)
            result.audio_file = self.shared.player_files([audio], synthesizer.sample_rate, [out_dir / stem])[0]
            result.wav_path = str(write_wav(out_dir / f"{stem}.wav", audio, synthesizer.sample_rate))
        result.kept = self.shared.keeper.keep(
            session_id,
            "style",
            title,
            {"piece.mid": str(midi_path), audio_name(result.audio_file): result.audio_file},
            {
                **(controls or {}),
                "model": model,
                "instruments": list(names),
                "tempo": tempo,
                # what a reload needs to show it again as it was: its length, the styles asked and heard
                "steps": int(piece.tokens.shape[1]),
                "asked": result.asked,
                "verdicts": result.verdicts,
                "take": out_dir.name,
            },
            ("musae" if model == MUSAE else "stylegan", "style_judge"),
        )
        return result

    def reopen(self, take: KeptTake) -> StyleResult | None:
        """A kept piece as it was made, from its library files (no model runs): its four tracks read back from its
        MIDI, the judge's verdicts as they were, its audio and downloads; None when it cannot be read."""
        piece, files = take.pieces[-1], take.files[-1]
        controls = piece.controls
        if files.midi is None:
            return None
        steps = controls.get("steps")
        tokens, tempo = midi_to_piece(files.midi, int(steps) if isinstance(steps, int) else None)
        names = controls.get("instruments")
        result = StyleResult(
            piece.title,
            tokens,
            [str(v) for v in controls.get("asked", [])],
            [str(v) for v in controls.get("verdicts", [])],
            tuple(str(n) for n in names) if isinstance(names, list) and len(names) == 4 else style_instruments(""),
            files.midi,
            files.audio,
            next((f for f in files.downloads if f.endswith(".wav")), None),
            model=str(controls.get("model", MUSAE)),
            chords=controls.get("chords") or None,
            tempo=float(controls.get("tempo", tempo)),
            kept=Kept(piece.id, f"In your library as “{piece.title}”"),
        )
        result.report = {
            "generator": result.model,
            "styles_asked": result.asked,
            "judge_verdicts": result.verdicts,
            "agreement": round(result.agreement, 4),
        }
        return result

    def warm_up(self) -> None:
        """One short piece per generator here (first decode, first chord parse, first render); errors go to the
        caller."""
        if self.pipeline is not None and self.styles:
            self.generate(self.styles[0], 2, 0)
        if self.gan_pipeline is not None and self.styles:
            self.generate(self.styles[0], 2, 0, model=GAN, chords="C G")
