"""The Emotion tab's service: a feeling in, tunes in ABC out (score, audio, files).

A **feeling** is a quadrant of Russell's valence-arousal plane (Q1 happy, Q2 tense, Q3 sad,
Q4 calm) or any point (valence, arousal), each -1..1, as the feeling pad sends it (``"v,a"``).
:class:`EmotionService` (``studio.emotion``) runs ``engine.pipelines.emotion.EmotionPipeline``
(under the shared model lock) and makes each tune an :class:`EmotionResult`: the final ABC
(template applied), the model's raw ABC, the engraved score (verovio SVG), audio, and .abc,
.mid, .musicxml and .wav files in the session's folder, with the template's figures.

The point helpers here are shared with Compose's feeling pad: :func:`parse_point` reads a pad
value leniently (clamped, for the live description), :func:`check_feeling` strictly (API input:
out of range is an error), :func:`describe_point` summarises the template at a point and
:func:`express` gives a melody the template's loudness and articulation. Bad input raises
:data:`InputError` with a message that can be shown as-is.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.services.common import (
    DEFAULT_INSTRUMENT,
    MAX_SEED,
    InputError,
    Shared,
    int_in,
    melody_program,
    number,
    report_stage,
)
from app.services.keeper import NOT_KEPT, Kept, audio_name
from app.services.library import KeptTake, kept_melody
from engine.eval.report import emotion_report
from engine.io.abc import read_abc_text
from engine.music import LeadSheet
from engine.music.constants import QUADRANTS
from engine.music.limits import EMOTION_BARS, EMOTION_VARIATIONS
from engine.pipelines.batching import MicroBatcher
from engine.pipelines.emotion import EmotionRequest, EmotionTune
from engine.pipelines.emotion_template import (
    CORNERS,
    QUADRANT_NAMES,
    EmotionTemplate,
    prompt_weights,
    quadrant_of_point,
    template_at,
)
from engine.render.audio import render_leadsheets
from engine.render.export import leadsheet_to_pretty_midi, save_midi, write_wav
from engine.render.score import abc_to_musicxml, abc_to_svg

log = logging.getLogger("cadenza.emotion")

EMOTION_MIN_BARS, EMOTION_MAX_BARS = EMOTION_BARS.low, EMOTION_BARS.high
EMOTION_MAX_VARIATIONS = EMOTION_VARIATIONS.high
SCORE_WIDTH_PX = 900
FILE_KINDS = ("abc", "mid", "musicxml", "wav")  # the downloads of a tune, in the order the page lists them
# Quadrant -> (button label, pad value of its corner): the presets move the dot there.
PRESETS: dict[str, tuple[str, str]] = {
    q: (f"{QUADRANT_NAMES[q].capitalize()} · {q}", f"{CORNERS[q][0]:.2f},{CORNERS[q][1]:.2f}") for q in QUADRANTS
}
_NAMES = {name: q for q, name in QUADRANT_NAMES.items()}
_POINT_HELP = (
    'a quadrant (Q1 happy, Q2 tense, Q3 sad, Q4 calm) or a point "valence,arousal" with each '
    'between -1 and 1 (e.g. "-0.7,-0.4")'
)

# ---------------------------------------------------------------- points


def _quadrant_name(text: str) -> str | None:
    """ "Q3", "q3", "sad", "Q3 sad" -> "Q3" (None when the text names no quadrant)."""
    words = text.replace("(", " ").replace(")", " ").replace("·", " ").split()
    found = {w.upper() for w in words if w.upper() in QUADRANTS} | {
        _NAMES[w.lower()] for w in words if w.lower() in _NAMES
    }
    return found.pop() if len(found) == 1 else None


def read_point(value: Any) -> tuple[Any, Any] | None:
    """The two raw coordinates of a feeling, unchecked; None when empty.

    Takes the pad's ``"v,a"`` text (spaces or ``;`` also separate), JSON ``[v, a]`` or
    ``{"valence": v, "arousal": a}``, a pair, a dict, or a quadrant name (its corner).
    Raises :data:`InputError` when the value is none of these."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip()
        quadrant = _quadrant_name(text)
        if quadrant is not None:
            return CORNERS[quadrant]
        if text[:1] in "Qq" and text[1:2].isdigit():
            raise InputError(
                f"Unknown quadrant {text[:20]!r}: choose one of Q1 (happy), Q2 (tense), Q3 (sad), Q4 (calm)"
            )
        if text[:1] in "[{":
            try:
                value = json.loads(text)
            except ValueError:
                raise InputError(f"Feeling must be {_POINT_HELP}; got {text[:60]!r}") from None
        else:
            value = [part for part in text.replace(";", ",").replace(" ", ",").split(",") if part]
    if isinstance(value, dict):
        if "valence" not in value or "arousal" not in value:
            raise InputError(f"Feeling must be {_POINT_HELP}; the object needs both 'valence' and 'arousal'")
        return value["valence"], value["arousal"]
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[0], value[1]
    raise InputError(f"Feeling must be {_POINT_HELP}; got {str(value)[:60]!r}")


def parse_point(value: Any) -> tuple[float, float] | None:
    """A pad value as (valence, arousal), each clamped to -1..1 and rounded to 2 decimals; None when
    empty or unreadable. Never raises (for the live description, not for generating)."""
    try:
        raw = read_point(value)
        if raw is None:
            return None
        v, a = (number("Valence", raw[0]), number("Arousal", raw[1]))
    except InputError:
        return None
    return tuple(round(min(1.0, max(-1.0, x)), 2) + 0.0 for x in (v, a))  # type: ignore[return-value]


def check_feeling(value: Any) -> tuple[float, float]:
    """A feeling to generate with, as (valence, arousal): strict, an error names what is wrong.

    Out of range is an error here (an API caller sent it), not clamped; rounded to 2 decimals."""
    raw = read_point(value)
    if raw is None:
        raise InputError(f"No feeling chosen: click the pad, press a preset, or give {_POINT_HELP}")
    out = []
    for name, x in zip(("Valence", "Arousal"), raw):
        if isinstance(x, bool):
            raise InputError(f"{name} must be a number between -1 and 1, got {x!r}")
        x = number(name, x)
        if not -1.0 <= x <= 1.0:
            raise InputError(f"{name} must be between -1 and 1, got {x:g}")
        out.append(round(x, 2) + 0.0)
    return out[0], out[1]


# ---------------------------------------------------------------- what a point means


def register_words(shift: int) -> str:
    """A register shift in semitones in words: "one octave down", "home register"."""
    octaves = int(round(shift / 12))
    if octaves == 0:
        return "home register"
    count = {1: "one", 2: "two"}.get(abs(octaves), str(abs(octaves)))
    return f"{count} octave{'s' if abs(octaves) > 1 else ''} {'up' if octaves > 0 else 'down'}"


def articulation_words(share: float) -> str:
    """The share of each note's length that sounds, in words (legato when calm or sad, detached when excited)."""
    if share >= 0.92:
        return "legato"
    if share <= 0.78:
        return "detached"
    return "lightly detached"


@dataclass(frozen=True)
class FeelingSummary:
    """The template at a point and the quadrant(s) prompting the model, for display."""

    valence: float
    arousal: float
    weights: dict[str, float]  # quadrant -> weight, largest first
    template: EmotionTemplate

    @property
    def prompt_text(self) -> str:
        """ "sad" or "sad 70% + tense 30%"."""
        if len(self.weights) == 1:
            return QUADRANT_NAMES[next(iter(self.weights))]
        return " + ".join(f"{QUADRANT_NAMES[q]} {w:.0%}" for q, w in self.weights.items())

    @property
    def tempo_text(self) -> str:
        lo, hi = self.template.tempo_range
        return f"~{lo:.0f}–{hi:.0f} BPM"

    @property
    def mode_text(self) -> str:
        return self.template.mode or "the model's own mode"

    @property
    def loudness_text(self) -> str:
        db = self.template.loudness_db
        return f"{db:+.0f} dB" if round(db) else "0 dB"

    @property
    def line(self) -> str:
        """ "sad 70% + tense 30% · ~52–81 BPM · minor · one octave down · +4 dB · legato"."""
        t = self.template
        return " · ".join(
            [
                self.prompt_text,
                self.tempo_text,
                self.mode_text,
                register_words(t.register_shift),
                self.loudness_text,
                articulation_words(t.articulation),
            ]
        )

    @property
    def middle_tempo(self) -> int:
        """The middle of the tempo range (what Compose suggests)."""
        lo, hi = self.template.tempo_range
        return int(round((lo + hi) / 2))


def describe_point(valence: float, arousal: float) -> FeelingSummary:
    """What the template and the prompt do at a point (each coordinate -1..1)."""
    weights = dict(sorted(prompt_weights(valence, arousal).items(), key=lambda item: -item[1]))
    return FeelingSummary(valence, arousal, weights, template_at(valence, arousal))


def feeling_line(value: Any) -> str:
    """The live line under a pad (HTML): the point and what it means; never raises."""
    point = parse_point(value)
    if point is None:
        return "<span class='cz-pad-none'>No feeling chosen yet: click or drag on the pad.</span>"
    try:
        summary = describe_point(*point)
    except Exception:  # noqa: BLE001 - a description must never break the page
        log.exception("describing the point %r failed", point)
        return "<span class='cz-pad-none'>(could not describe this point)</span>"
    return f"<b>{summary.prompt_text}</b> · " + " · ".join(summary.line.split(" · ")[1:])


def express(sheet: LeadSheet, template: EmotionTemplate) -> LeadSheet:
    """The sheet with the template's loudness and articulation on its melody (EmotionTemplate.express); in place."""
    sheet.melody.notes = template.express(sheet.melody.notes)
    return sheet


# ---------------------------------------------------------------- results


@dataclass
class EmotionResult:
    """One generated tune, ready for the page: read (ABC, score), heard and downloadable."""

    variation: int  # 1-based
    seed: int
    tune: EmotionTune
    summary: FeelingSummary
    svg: str  # the engraved score (all pages), "" when it could not be drawn
    files: dict[str, str] = field(default_factory=dict)  # kind ("abc", "mid", "musicxml", "wav") -> path
    audio: tuple[int, np.ndarray] | None = None  # (sample_rate, int16 (N, 2)); None without a synth
    instrument: str = ""
    num_bars: int = 0  # as asked (the tune may add a pickup)
    audio_file: str | None = None  # the audio for the page's player (Opus by default); None without a synth
    report: dict[str, Any] = field(default_factory=dict)  # asked and measured: features, judge (engine.eval.report)
    kept: Kept = NOT_KEPT  # its piece in the owner's library, and the status line saying so

    @property
    def abc(self) -> str:
        """The final ABC (title, tempo, mode and register of the template)."""
        return self.tune.abc

    @property
    def abc_raw(self) -> str:
        """The model's own ABC, before the template."""
        return self.tune.abc_raw

    @property
    def sheet(self) -> LeadSheet:
        return self.tune.sheet

    @property
    def tempo_bpm(self) -> int:
        return self.tune.tempo_bpm

    @property
    def key(self) -> str:
        return self.sheet.melody.key or "?"

    @property
    def title(self) -> str:
        """ "Variation 1 · sad · seed 3"."""
        return f"Variation {self.variation} · {self.summary.prompt_text} · seed {self.seed}"

    @property
    def details(self) -> str:
        """ "67 BPM (of ~40–69) · key Dm · one octave down · 0 dB · legato · 3/4 · 88 notes"."""
        t = self.summary.template
        num, den = self.sheet.melody.time_signature
        return " · ".join(
            [
                f"{self.tempo_bpm} BPM (of {self.summary.tempo_text.lstrip('~')})",
                f"key {self.key}",
                register_words(t.register_shift),
                self.summary.loudness_text,
                articulation_words(t.articulation),
                f"{num}/{den}",
                f"{len(self.sheet.melody.notes)} notes",
            ]
        )

    @property
    def paths(self) -> list[str]:
        """The files in the page's order (.abc, .mid, .musicxml, .wav)."""
        return [self.files[kind] for kind in FILE_KINDS if kind in self.files]


def score_svg(abc: str, width_px: int = SCORE_WIDTH_PX) -> str:
    """The engraved score of an ABC tune (every page), or "" when verovio cannot draw it (logged)."""
    try:
        return "\n".join(abc_to_svg(abc, width_px=width_px))
    except Exception:  # noqa: BLE001 - the score is a view: the tune still plays and downloads without it
        log.exception("engraving the score failed")
        return ""


class EmotionService:
    """Emotion-tab service around an ``EmotionPipeline`` (None when the model is not loaded: every action
    then says so), with the studio's :class:`Shared` resources (model lock, synthesizer, session folders)."""

    def __init__(self, pipeline: Any | None, shared: Shared):
        self.pipeline = pipeline
        self.shared = shared
        # Tunes for people pressing Generate together (and one person's variations) are drawn round by round in
        # shared batches (EmotionPipeline.run_many), each what it would be alone.
        self.batcher: MicroBatcher[EmotionRequest, Any] | None = None
        if callable(getattr(pipeline, "run_many", None)) and shared.max_batch > 1:
            self.batcher = MicroBatcher(pipeline.run_many, shared.max_batch, lock=shared.model_lock)

    @property
    def concurrency(self) -> int:
        """How many Generate requests the page's queue lets in at once (the batch size; 1 without batching)."""
        return self.shared.max_batch if self.batcher is not None else 1

    @property
    def available(self) -> bool:
        """Whether the ABC emotion model is loaded."""
        return self.pipeline is not None

    def _ready(self) -> None:
        if self.pipeline is None:
            raise InputError(
                "The Emotion tab needs the ABC emotion model (checkpoints/abc_emotion), which is not loaded "
                "on this server; Compose, Explore and Song still work"
            )

    # -- checks ------------------------------------------------------------------------

    @staticmethod
    def check_bars(bars: Any) -> int:
        return int_in("Bars", bars, EMOTION_MIN_BARS, EMOTION_MAX_BARS)

    @staticmethod
    def check_variations(variations: Any) -> int:
        return int_in("Variations", variations, 1, EMOTION_MAX_VARIATIONS)

    @staticmethod
    def check_seed(seed: Any) -> int:
        return int_in("Seed", 0 if seed in (None, "") else seed, 0, MAX_SEED - EMOTION_MAX_VARIATIONS)

    # -- actions -----------------------------------------------------------------------

    def generate(
        self,
        feeling: Any,
        bars: Any = 16,
        seed: Any = 0,
        instrument: str | None = DEFAULT_INSTRUMENT,
        variations: Any = 1,
        session_id: str | None = None,
    ) -> list[EmotionResult]:
        """``variations`` tunes of ``bars`` (8..32) bars for a feeling (see :func:`check_feeling`); variation ``i``
        (1-based) uses seed ``seed + i - 1``. Raises :data:`InputError` for bad input."""
        valence, arousal = check_feeling(feeling)
        bars = self.check_bars(bars)
        seed = self.check_seed(seed)
        variations = self.check_variations(variations)
        if instrument is not None and not isinstance(instrument, str):
            raise InputError(f"Instrument must be an instrument name, got {instrument!r}")
        program = melody_program(instrument or DEFAULT_INSTRUMENT)
        self._ready()
        tunes = []
        if self.batcher is not None:  # every variation at once, with whatever other requests arrive with them
            report_stage(0.0, f"drawing {variations} tune{'s' if variations != 1 else ''}")
            request = EmotionRequest(valence=valence, arousal=arousal, num_bars=bars, seed=seed, num_samples=variations)
            tunes = list(self.batcher(request).samples)
        for index in range(variations if self.batcher is None else 0):  # variation i is seed + i either way
            report_stage(0.8 * index / variations, f"drawing tune {index + 1} of {variations}")
            with self.shared.model_lock:
                output = self.pipeline(
                    valence=valence, arousal=arousal, num_bars=bars, seed=seed + index, num_samples=1
                )
            tunes += list(output.samples)
        summary = describe_point(valence, arousal)
        out_dir = self.shared.take_dir(session_id)
        report_stage(0.8, "engraving the scores and rendering the audio")
        # The MusicXML (music21, pure Python) is written on the engraver's process while this thread draws the scores
        # and renders the audio: on one thread the two took turns (app/services/engraver.py says why).
        scores = [self.shared.engrave(abc_to_musicxml, tune.abc) for tune in tunes]
        results = [
            self._result(index, tune, summary, program, instrument or DEFAULT_INSTRUMENT, out_dir, bars)
            for index, tune in enumerate(tunes, start=1)
        ]
        self._render(results, program, out_dir)
        for result, score in zip(results, scores):
            self._attach_musicxml(result, score, out_dir)
        for result in results:
            result.kept = self.shared.keeper.keep(
                session_id,
                "emotion",
                f"{summary.prompt_text.capitalize()} tune · {bars} bars · seed {result.seed}",
                {
                    "tune.abc": result.files.get("abc"),
                    "melody.mid": result.files.get("mid"),
                    "score.musicxml": result.files.get("musicxml"),
                    audio_name(result.audio_file): result.audio_file,
                },
                {
                    "feeling": [valence, arousal],
                    "num_bars": bars,
                    "seed": result.seed,
                    "instrument": instrument or DEFAULT_INSTRUMENT,
                    "variation": result.variation,
                    "take": out_dir.name,  # the click that made it: a reload brings the whole take back
                    "abc_raw": result.abc_raw,  # the model's own ABC (the file is the final one)
                },
                ("abc_emotion",),
            )
        return results

    def _result(
        self,
        index: int,
        tune: EmotionTune,
        summary: FeelingSummary,
        program: int,
        instrument: str,
        out_dir: Path,
        bars: int,
    ) -> EmotionResult:
        """The tune's score, report and files (.abc, .mid; the .musicxml and the .wav come later)."""
        stem = _stem(out_dir, index, tune.seed)
        files = {"abc": str(_write_text(stem.with_suffix(".abc"), tune.abc))}
        files["mid"] = str(
            save_midi(
                leadsheet_to_pretty_midi(tune.sheet, program=program, accompaniment_program=None),
                stem.with_suffix(".mid"),
            )
        )
        asked = quadrant_of_point(tune.template.valence, tune.template.arousal)
        report = emotion_report(
            tune.sheet, tune.abc, asked, getattr(self.pipeline, "judge", None), tune.template.tempo_range, tune.heard
        )
        return EmotionResult(
            index, tune.seed, tune, summary, score_svg(tune.abc), files, None, instrument, bars, report=report
        )

    def _render(self, results: list[EmotionResult], program: int, out_dir: Path) -> None:
        """Audio for every result at once (the synth's engines take one each): the player's file and the .wav
        download."""
        synthesizer = self.shared.synthesizer
        if synthesizer is None or not results:
            return
        rate, audios = render_leadsheets(
            [r.sheet for r in results], program=program, accompaniment_program=None, synthesizer=synthesizer
        )
        stems = [_stem(out_dir, r.variation, r.seed) for r in results]
        players = self.shared.player_files(audios, rate, stems)
        for result, audio, player, stem in zip(results, audios, players, stems):
            result.audio, result.audio_file = (rate, audio), player
            result.files["wav"] = (
                player if player.endswith(".wav") else str(write_wav(stem.with_suffix(".wav"), audio, rate))
            )

    @staticmethod
    def _attach_musicxml(result: EmotionResult, score: Future, out_dir: Path) -> None:
        """The tune's .musicxml from the engraver's job ``score`` (its bytes); none when music21 could not write it."""
        try:
            xml = _stem(out_dir, result.variation, result.seed).with_suffix(".musicxml")
            xml.write_bytes(score.result())
            result.files["musicxml"] = str(xml)
        except InputError as err:  # music21 reads the tune but cannot always write it (e.g. a note too long): no file
            log.warning("no MusicXML for variation %d: %s", result.variation, err)

    def reopen(self, take: KeptTake) -> list[EmotionResult]:
        """A kept take as it was made, from its library files (no model runs): each tune's ABC, score, report, audio
        and downloads."""
        results: list[EmotionResult] = []
        for piece, files in zip(take.pieces, take.files):
            controls, stored = piece.controls, piece.files
            feeling = controls.get("feeling")
            if "tune.abc" not in stored or files.midi is None or not isinstance(feeling, list) or len(feeling) != 2:
                continue
            abc = stored["tune.abc"].read_text(encoding="utf-8")
            seed, index = int(controls.get("seed", 0)), int(controls.get("variation", len(results) + 1))
            summary = describe_point(float(feeling[0]), float(feeling[1]))
            sheet = kept_melody(files.midi, piece.title)
            if not sheet.melody.key:  # MIDI files name a key only by its signature: the ABC's K: field says it
                sheet.melody.key = read_abc_text(abc).melody.key
            tune = EmotionTune(
                controls.get("abc_raw") or abc,
                abc,
                sheet,
                summary.template,
                round(sheet.melody.tempo_bpm),
                {"valence": summary.valence, "arousal": summary.arousal},
                seed,
            )
            kinds = {".abc": "abc", ".mid": "mid", ".musicxml": "musicxml", ".wav": "wav"}
            copies = {kinds[Path(f).suffix]: f for f in files.downloads if Path(f).suffix in kinds}
            asked = quadrant_of_point(summary.valence, summary.arousal)
            judge = getattr(self.pipeline, "judge", None)
            report = emotion_report(sheet, abc, asked, judge, summary.template.tempo_range)
            result = EmotionResult(
                index,
                seed,
                tune,
                summary,
                score_svg(abc),
                copies,
                None,
                str(controls.get("instrument", DEFAULT_INSTRUMENT)),
                int(controls.get("num_bars", 0)),
                files.audio,
                report,
                Kept(piece.id, f"In your library as “{piece.title}”"),
            )
            results.append(result)
        return results

    def warm_up(self) -> None:
        """One short sad tune (model path, verovio, music21's MusicXML writer, first render); errors go to the
        caller."""
        if self.pipeline is None:
            return
        self.generate("Q3", EMOTION_MIN_BARS, 0, DEFAULT_INSTRUMENT, 1)


def _stem(out_dir: Path, variation: int, seed: int) -> Path:
    """A tune's files' path without suffix."""
    return out_dir / f"cadenza_emotion_var{variation}_seed{seed}"


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
