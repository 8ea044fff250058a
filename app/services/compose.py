"""The Compose tab's service: a rhythm and a chord progression in, melodies out.

:class:`ComposeService` turns the tab's inputs (plain strings and numbers) into
:class:`ComposeResult` objects holding a LeadSheet, its audio and a MIDI file in
the session's folder (``Studio.piano_roll`` draws the figure separately: the page
shows it after the audio). The tab reaches it through ``Studio.compose``.

A **feeling** (a point of the valence-arousal plane, see :mod:`app.services.emotion`) can
steer a melody: :meth:`ComposeService.feeling_settings` suggests a key (the parallel
major/minor) and a tempo for it, and ``compose(..., emotion=(v, a))`` applies the emotion
template's register shift (whole octaves), loudness and articulation to the melodies.
:func:`transpose_chords` and :func:`same_progression` let the tab move a preset progression
into the suggested key without touching chords the user typed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.services.common import (
    DEFAULT_ACCOMPANIMENT,
    DEFAULT_INSTRUMENT,
    KEYS,
    MAX_SEED,
    NO_ACCOMPANIMENT,
    InputError,
    Shared,
    accompaniment_program,
    check_chords,
    choice,
    float_in,
    int_in,
    melody_program,
    report_stage,
)
from app.services.emotion import FeelingSummary, check_feeling, describe_point, express
from app.services.keeper import NOT_KEPT, Kept, audio_name
from app.services.library import KeptTake, kept_melody
from engine.eval.report import melody_report
from engine.music import LeadSheet
from engine.music.chords import parse_progression, split_progression_text
from engine.music.limits import COMPOSE_BARS, COMPOSE_TEMPERATURE, TEMPO_BPM
from engine.music.representation import parse_rhythm_pattern
from engine.music.tonality import parse_key, pitch_class_of
from engine.pipelines.batching import MicroBatcher
from engine.pipelines.compose import ComposeRequest
from engine.render.audio import render_leadsheets
from engine.render.export import leadsheet_to_pretty_midi, save_midi, write_wav

log = logging.getLogger("cadenza.compose")

MIN_BARS, MAX_BARS = COMPOSE_BARS.low, COMPOSE_BARS.high
MIN_TEMPO, MAX_TEMPO = TEMPO_BPM.low, TEMPO_BPM.high
MIN_TEMPERATURE, MAX_TEMPERATURE = COMPOSE_TEMPERATURE.low, COMPOSE_TEMPERATURE.high
MAX_VARIATIONS = 4  # result slots on the page (the engine draws up to VARIATIONS.high)


@dataclass
class ComposeResult:
    """One generated variation, ready for the UI."""

    variation: int  # 1-based
    seed: int
    sheet: LeadSheet
    midi_path: str
    audio: tuple[int, np.ndarray] | None = None  # (sample_rate, int16 (N, 2)); None without a synth
    instrument: str = ""
    accompaniment: str = ""
    feeling: FeelingSummary | None = None  # the feeling applied (None: none)
    audio_file: str | None = None  # the audio for the page's player (Opus by default); None without a synth
    wav_path: str | None = None  # the same audio as a WAV download
    report: dict[str, Any] = field(default_factory=dict)  # what was asked and what came out (engine.eval.report)
    kept: Kept = NOT_KEPT  # its piece in the owner's library, and the status line saying so

    @property
    def title(self) -> str:
        """ "Variation N · seed S" for the result's heading."""
        return f"Variation {self.variation} · seed {self.seed}"

    @property
    def num_notes(self) -> int:
        """Number of melody notes."""
        return len(self.sheet.melody.notes)


def short_chords(chords: str, limit: int = 4) -> str:
    """The first ``limit`` chords of a progression text for a title: "C G Am F …"."""
    symbols = chords.replace("|", " ").split()
    return " ".join(symbols[:limit]) + (" …" if len(symbols) > limit else "")


def check_num_bars(num_bars: Any) -> int:
    """The number of bars to compose, a whole number in MIN_BARS..MAX_BARS."""
    return int_in("Number of bars", num_bars, MIN_BARS, MAX_BARS)


# ---------------------------------------------------------------- a feeling's settings

_SHARPS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLATS = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_FLAT_KEYS = {"F", "Bb", "Eb", "Ab", "Dm", "Gm", "Cm", "Fm", "Bbm", "Ebm", "Abm"}
_ROOT = re.compile(r"^([A-Ga-g])([#b]?)(.*)$")


def _pitch_class(letter: str, accidental: str) -> int:
    return pitch_class_of(letter + accidental)


def key_tonic(key: str) -> int:
    """The tonic pitch class of a key name ("Am" -> 9, "Eb" -> 3)."""
    return parse_key(key)[0]


def parallel_key(key: str, mode: str | None) -> str:
    """The key on the same tonic in ``mode`` ("major"/"minor"; None keeps the key): "C" + minor -> "Cm"."""
    key = (key or "").strip()
    if key not in KEYS:
        raise InputError(f"Unknown key '{key}'. Choose one of: {', '.join(KEYS)}")
    tonic = key[:-1] if key.endswith("m") else key
    if mode is None:
        return key
    return tonic + "m" if mode == "minor" else tonic


def _transpose_symbol(symbol: str, semitones: int, names: tuple[str, ...]) -> str:
    """One chord symbol moved by ``semitones`` (the root and any bass after "/"); "N.C." stays."""
    head, slash, bass = symbol.partition("/")
    match = _ROOT.match(head)
    if match is None:
        return symbol
    out = names[(_pitch_class(match.group(1), match.group(2)) + semitones) % 12] + match.group(3)
    bass_match = _ROOT.match(bass) if slash else None
    if bass_match is not None:
        out += (
            "/" + names[(_pitch_class(bass_match.group(1), bass_match.group(2)) + semitones) % 12] + bass_match.group(3)
        )
    return out


def transpose_chords(text: str, from_key: str, to_key: str) -> str:
    """A progression written in ``from_key`` moved to ``to_key``'s tonic, spelled with the target key's flats or
    sharps; the "|" bar layout is kept ("Am F C G" from Am to Dm -> "Dm Bb F C")."""
    semitones = (key_tonic(to_key) - key_tonic(from_key)) % 12
    names = _FLATS if to_key in _FLAT_KEYS else _SHARPS
    return " ".join(
        token if token == "|" else _transpose_symbol(token, semitones, names)
        for token in text.replace("|", " | ").split()
    )


def _shape(text: str) -> tuple | None:
    """A progression with its roots counted from the first chord's root: equal shapes are transpositions."""
    try:
        bars = split_progression_text(text or "")
    except InputError:
        return None
    first = None
    out = []
    for bar in bars:
        chords = []
        for symbol in bar:
            head, _, bass = symbol.partition("/")
            match = _ROOT.match(head)
            if match is None:
                chords.append(symbol)
                continue
            pc = _pitch_class(match.group(1), match.group(2))
            first = pc if first is None else first
            bass_match = _ROOT.match(bass) if bass else None
            bass_pc = (
                None if bass_match is None else (_pitch_class(bass_match.group(1), bass_match.group(2)) - first) % 12
            )
            chords.append(((pc - first) % 12, match.group(3), bass_pc))
        out.append(tuple(chords))
    return tuple(out)


def same_progression(text: str | None, preset: str) -> bool:
    """Whether ``text`` is ``preset`` in some key (so a suggestion may replace it: typed chords are never replaced)."""
    shape = _shape(text or "")
    return shape is not None and shape == _shape(preset)


@dataclass(frozen=True)
class FeelingSettings:
    """What Compose suggests for a feeling: key, tempo, the template's mode and the point's arousal."""

    key: str
    tempo: int
    mode: str | None
    summary: FeelingSummary

    @property
    def arousal(self) -> float:
        return self.summary.arousal


class ComposeService:
    """Compose-tab service around a ``ComposePipeline`` (anything with its call signature).

    Built by :class:`app.services.Studio` with the studio's :class:`Shared` resources
    (synthesizer, model lock, session folders).
    """

    def __init__(self, pipeline: Any, shared: Shared):
        self.pipeline = pipeline
        self.shared = shared
        # People pressing Generate together share the model's work (ComposePipeline.run_many): each gets what it
        # would get alone. A pipeline without run_many (an older or a test one) is called one request at a time.
        self.batcher: MicroBatcher[ComposeRequest, Any] | None = None
        if callable(getattr(pipeline, "run_many", None)) and shared.max_batch > 1:
            self.batcher = MicroBatcher(pipeline.run_many, shared.max_batch, lock=shared.model_lock)

    @property
    def concurrency(self) -> int:
        """How many Compose requests the page's queue lets in at once (the batch size; 1 without batching)."""
        return self.shared.max_batch if self.batcher is not None else 1

    @property
    def default_temperature(self) -> float:
        """The temperature the page starts on: the model's own (its generation config; 0.5 for the shipped models,
        where the melodies move most like real tunes: checkpoints/latent/README.md)."""
        generation = getattr(self.pipeline, "generation", None)
        return float(generation.temperature) if generation is not None else 0.5

    @staticmethod
    def feeling_settings(feeling: Any, key: str | None) -> FeelingSettings:
        """The settings a feeling suggests: the parallel major/minor of ``key``'s tonic in the template's mode
        (``key`` kept near the middle of the pad, where the mode is the model's own) and the middle of the
        template's tempo range (within MIN_TEMPO..MAX_TEMPO)."""
        valence, arousal = check_feeling(feeling)
        summary = describe_point(valence, arousal)
        mode = summary.template.mode
        tempo = int(min(MAX_TEMPO, max(MIN_TEMPO, summary.middle_tempo)))
        return FeelingSettings(parallel_key(key or "", mode), tempo, mode, summary)

    def compose(
        self,
        rhythm: str,
        chords: str,
        num_bars: int,
        key: str = "C",
        tempo: float = 120.0,
        instrument: str = DEFAULT_INSTRUMENT,
        accompaniment: str | None = DEFAULT_ACCOMPANIMENT,
        seed: int = 0,
        temperature: float = 0.8,
        variations: int = 1,
        session_id: str | None = None,
        emotion: Any = None,
    ) -> list[ComposeResult]:
        """Generate ``variations`` melodies for a rhythm pattern and chord progression.

        ``rhythm`` is the step-grid string ("x..." bars joined by "|"). Variation
        ``i`` (1-based) uses seed ``seed + i - 1`` (the pipeline's convention), so
        any variation can be recreated alone. ``emotion``: None, or a feeling
        ((valence, arousal), a pad value "v,a" or a quadrant name) whose template's
        register shift, loudness and articulation the melodies take (the tempo and
        key stay the ones given). Raises :class:`InputError` for bad input.
        """
        num_bars = check_num_bars(num_bars)
        tempo = float_in("Tempo (BPM)", tempo, MIN_TEMPO, MAX_TEMPO)
        temperature = float_in("Temperature", temperature, MIN_TEMPERATURE, MAX_TEMPERATURE)
        variations = int_in("Number of variations", variations, 1, MAX_VARIATIONS)
        seed = int_in("Seed", seed, 0, MAX_SEED - MAX_VARIATIONS)
        key = choice("key", key, KEYS)
        if not isinstance(rhythm, str) or not rhythm.strip():
            raise InputError("The rhythm is empty: click some cells of the step grid")
        if not isinstance(chords, str) or not chords.strip():
            raise InputError("The chord progression is empty: type chords such as 'C Am F G'")
        program = melody_program(instrument)
        acc_program = accompaniment_program(accompaniment)
        feeling = describe_point(*check_feeling(emotion)) if emotion is not None else None
        # Only with a feeling: pipelines written before the register shift keep working without one.
        extra = {"register_shift": feeling.template.register_shift} if feeling is not None else {}

        out_dir = self.shared.take_dir(session_id)
        report_stage(0.1, f"drawing {variations} melod{'ies' if variations != 1 else 'y'}")
        if self.batcher is not None:
            ahead = self.batcher.waiting
            if ahead:  # Gradio's queue shows the place in line up to here; this is the wait for the model itself
                report_stage(
                    0.1, f"with {ahead} other request{'s' if ahead != 1 else ''} for the model: drawing together"
                )
            request = ComposeRequest(rhythm, chords, num_bars, key, tempo, seed, temperature, variations, **extra)
            output = self.batcher(request)
        else:
            with self.shared.model_lock:
                output = self.pipeline(
                    rhythm=rhythm,
                    chords=chords,
                    num_bars=num_bars,
                    key=key,
                    tempo_bpm=tempo,
                    seed=seed,
                    temperature=temperature,
                    num_samples=variations,
                    **extra,
                )
        sheets = list(output.samples)
        if feeling is not None:
            for sheet in sheets:
                express(sheet, feeling.template)
        seeds = list(getattr(output, "seeds", None) or [seed + i for i in range(len(sheets))])
        results: list[ComposeResult] = []
        for index, (sheet, var_seed) in enumerate(zip(sheets, seeds), start=1):
            if not sheet.title:
                sheet.title = f"Variation {index} (seed {var_seed})"
            midi = leadsheet_to_pretty_midi(sheet, program=program, accompaniment_program=acc_program)
            midi_path = save_midi(midi, out_dir / f"cadenza_var{index}_seed{var_seed}.mid")
            results.append(
                ComposeResult(
                    index, var_seed, sheet, str(midi_path), None, instrument, accompaniment or NO_ACCOMPANIMENT, feeling
                )
            )
        drawn = np.flatnonzero(np.resize(parse_rhythm_pattern(rhythm), int(num_bars) * 16)).tolist()
        for result in results:
            result.report = melody_report(result.sheet, drawn_onsets=drawn, key=key, tempo_bpm=tempo)
        synthesizer = self.shared.synthesizer
        if synthesizer is not None:
            report_stage(0.6, "rendering the audio")
            # All variations at once: the synth's engines take one each (one alone is cut in time).
            rate, audios = render_leadsheets(
                sheets, program=program, accompaniment_program=acc_program, synthesizer=synthesizer
            )
            stems = [out_dir / f"cadenza_var{r.variation}_seed{r.seed}" for r in results]
            players = self.shared.player_files(audios, rate, stems)
            for result, audio, player, stem in zip(results, audios, players, stems):
                result.audio, result.audio_file = (rate, audio), player
                result.wav_path = (
                    player if player.endswith(".wav") else str(write_wav(stem.with_suffix(".wav"), audio, rate))
                )
        asked = {
            "rhythm": rhythm,
            "chords": chords,
            "num_bars": num_bars,
            "key": key,
            "tempo": tempo,
            "instrument": instrument,
            "accompaniment": accompaniment or NO_ACCOMPANIMENT,
            "temperature": temperature,
            "feeling": None if feeling is None else [feeling.valence, feeling.arousal],
            "take": out_dir.name,  # the click that made it: a reload brings the whole take back
        }
        for result in results:
            result.kept = self.shared.keeper.keep(
                session_id,
                "compose",
                f"Melody in {key} over {short_chords(chords)} · seed {result.seed}",
                {"melody.mid": result.midi_path, audio_name(result.audio_file): result.audio_file},
                {**asked, "seed": result.seed, "variation": result.variation},
                ("ec2vae", "latent"),
            )
        return results

    def reopen(self, take: KeptTake) -> list[ComposeResult]:
        """A kept take as it was made, from its library files (no model runs): each variation's melody read back from
        its MIDI over the chords that were asked, with its report, audio and downloads."""
        results: list[ComposeResult] = []
        for piece, files in zip(take.pieces, take.files):
            controls = piece.controls
            if files.midi is None:
                continue
            seed, variation = int(controls.get("seed", 0)), int(controls.get("variation", len(results) + 1))
            sheet = kept_melody(files.midi, f"Variation {variation} (seed {seed})")
            bars = int(controls.get("num_bars", 1))
            try:  # the chords as typed (the MIDI holds only their voicing)
                sheet.chords = parse_progression(str(controls.get("chords", "")), bars, 16)
            except Exception:  # noqa: BLE001 - then the chords read from the accompaniment stay
                log.warning("reopening %s: its chords %r do not parse", piece.id, controls.get("chords"))
            feeling = controls.get("feeling")
            result = ComposeResult(
                variation,
                seed,
                sheet,
                files.midi,
                None,
                str(controls.get("instrument", "")),
                str(controls.get("accompaniment", NO_ACCOMPANIMENT)),
                describe_point(*feeling) if isinstance(feeling, list) and len(feeling) == 2 else None,
                files.audio,
                next((f for f in files.downloads if f.endswith(".wav")), None),
                kept=Kept(piece.id, f"In your library as “{piece.title}”"),
            )
            rhythm = controls.get("rhythm")
            drawn = (
                np.flatnonzero(np.resize(parse_rhythm_pattern(rhythm), bars * 16)).tolist()
                if isinstance(rhythm, str)
                else None
            )
            result.report = melody_report(
                sheet, drawn_onsets=drawn, key=controls.get("key"), tempo_bpm=controls.get("tempo")
            )
            results.append(result)
        return results

    def warm_up(self) -> None:
        """Check chords and compose one short melody (music21 import, first synth render); errors go to the caller."""
        check_chords("C Am F G")
        self.compose("x...x...x...x...|x...x...x...x...", "C G", 2, seed=0)
