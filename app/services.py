"""The studio's only door into the engine.

:class:`Studio` holds the loaded compose pipeline and the warm synthesizer
(constructed once by ``app.py``; no module-level model globals) and turns UI
inputs (plain strings and numbers) into :class:`ComposeResult` objects holding a
LeadSheet, its audio, its piano-roll figure and a MIDI file on disk. The Gradio
layer (``app/compose_tab.py``) never imports the engine.

Bad user input raises :class:`engine.errors.CadenzaInputError` (re-exported
here as :data:`InputError`) with a message that can be shown as-is.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.chords import parse_chord_symbol, split_progression_text
from engine.errors import CadenzaInputError
from engine.music import LeadSheet
from engine.pipelines.compose import KEYS as _PIPELINE_KEYS
from engine.pipelines.compose import ComposePipeline
from engine.render.audio import get_synthesizer, render_leadsheet
from engine.render.export import leadsheet_to_pretty_midi, save_midi
from engine.render.instruments import (
    ACCOMPANIMENT_INSTRUMENTS,
    DEFAULT_ACCOMPANIMENT_INSTRUMENT,
    DEFAULT_MELODY_INSTRUMENT,
    MELODY_INSTRUMENTS,
    NO_ACCOMPANIMENT,
    accompaniment_program_for,
    program_for,
)
from engine.render.pianoroll import piano_roll_figure

log = logging.getLogger("cadenza.studio")

InputError = CadenzaInputError

KEYS: list[str] = list(_PIPELINE_KEYS)

MIN_BARS, MAX_BARS = 2, 16
MIN_TEMPO, MAX_TEMPO = 40.0, 240.0
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.1, 2.0
MAX_VARIATIONS = 4
MAX_SEED = 2**31 - 1

DEFAULT_INSTRUMENT = DEFAULT_MELODY_INSTRUMENT
DEFAULT_ACCOMPANIMENT = DEFAULT_ACCOMPANIMENT_INSTRUMENT


def melody_instruments() -> list[str]:
    """Melody instrument names, in display order."""
    return list(MELODY_INSTRUMENTS)


def accompaniment_choices() -> list[str]:
    """Accompaniment names, "None (melody only)" first."""
    return [NO_ACCOMPANIMENT] + [name for name in ACCOMPANIMENT_INSTRUMENTS if name != NO_ACCOMPANIMENT]


# ---------------------------------------------------------------- results


@dataclass
class ComposeResult:
    """One generated variation, ready for the UI."""

    variation: int  # 1-based
    seed: int
    sheet: LeadSheet
    figure: Any  # plotly Figure
    midi_path: str
    audio: tuple[int, np.ndarray] | None = None  # (sample_rate, int16 (N, 2)); None without a synth
    instrument: str = ""
    accompaniment: str = ""

    @property
    def title(self) -> str:
        return f"Variation {self.variation} · seed {self.seed}"

    @property
    def num_notes(self) -> int:
        return len(self.sheet.melody.notes)


@dataclass
class ChordCheck:
    """Result of validating the chord text box."""

    ok: bool
    message: str
    bar_labels: list[str] = field(default_factory=list)  # one label per bar of the progression text


def check_chords(text: str | None) -> ChordCheck:
    """Validate a progression text without composing; never raises."""
    try:
        bars = split_progression_text(text or "")
        for bar in bars:
            for symbol in bar:
                parse_chord_symbol(symbol)
    except CadenzaInputError as err:
        return ChordCheck(False, str(err))
    except Exception as err:  # noqa: BLE001 - validation must never break the page
        log.exception("chord validation failed")
        return ChordCheck(False, f"Could not read the chords ({type(err).__name__})")
    labels = [" ".join(bar) for bar in bars]
    return ChordCheck(True, f"{len(labels)} bar{'s' if len(labels) != 1 else ''}: " + " | ".join(labels), labels)


# ---------------------------------------------------------------- validation helpers


def _number(name: str, value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise CadenzaInputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise CadenzaInputError(f"{name} must be a finite number, got {value!r}")
    return out


def _int_in(name: str, value: Any, lo: int, hi: int) -> int:
    out = _number(name, value)
    if out != int(out):
        raise CadenzaInputError(f"{name} must be a whole number, got {value!r}")
    if not lo <= out <= hi:
        raise CadenzaInputError(f"{name} must be between {lo} and {hi}, got {int(out)}")
    return int(out)


def _float_in(name: str, value: Any, lo: float, hi: float) -> float:
    out = _number(name, value)
    if not lo <= out <= hi:
        raise CadenzaInputError(f"{name} must be between {lo:g} and {hi:g}, got {out:g}")
    return out


def check_num_bars(num_bars: Any) -> int:
    return _int_in("Number of bars", num_bars, MIN_BARS, MAX_BARS)


# ---------------------------------------------------------------- the studio


class Studio:
    """Engine services for the UI: one instance per app, shared by all sessions.

    ``pipeline`` is a ``ComposePipeline`` (anything with its call signature);
    ``synthesizer`` an ``engine.render.audio.Synthesizer`` or None (then results
    have no audio). Generated files go to per-session folders under ``cache_dir``.
    """

    def __init__(self, pipeline: Any, synthesizer: Any | None = None, cache_dir: str | Path | None = None):
        self.pipeline = pipeline
        self.synthesizer = synthesizer
        root = Path(cache_dir) if cache_dir is not None else Path(tempfile.gettempdir()) / "cadenza_studio"
        root.mkdir(parents=True, exist_ok=True)
        self.cache_dir = Path(tempfile.mkdtemp(prefix="run_", dir=root))
        # This run's files go when the studio is garbage-collected or the process exits.
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.cache_dir), True)
        self._sessions: dict[str, Path] = {}
        self._sessions_lock = threading.Lock()
        self._model_lock = threading.Lock()  # the model is not assumed thread-safe

    # -- construction ---------------------------------------------------------------

    @classmethod
    def load(
        cls,
        checkpoint: str = "checkpoints/ec2vae",
        device: str | None = None,
        cache_dir: str | Path | None = None,
        with_audio: bool = True,
    ) -> "Studio":
        """Build the pipeline (``checkpoint`` may be "debug") and the warm synthesizer.

        When no synthesizer can be started (FluidSynth or SoundFont missing) the
        studio still works, without audio, and logs why.
        """
        if device in (None, "", "auto"):
            device = None
        pipeline = ComposePipeline.from_pretrained(checkpoint, device=device)
        synthesizer = None
        if with_audio:
            try:
                synthesizer = get_synthesizer()
            except Exception as err:  # AudioBackendError / RuntimeError (no SoundFont)
                log.warning("Audio disabled: %s", err)
        return cls(pipeline, synthesizer, cache_dir=cache_dir)

    def warm_up(self) -> None:
        """Pay one-off costs (music21 import, first synth render) before the first user does."""
        try:
            check_chords("C Am F G")
            self.compose("x...x...x...x...|x...x...x...x...", "C G", 2, seed=0)
        except Exception:  # noqa: BLE001 - warm-up is best effort
            log.exception("warm-up failed (the studio still starts)")

    # -- sessions --------------------------------------------------------------------

    def session_dir(self, session_id: str | None = None) -> Path:
        """The folder holding one browser session's generated files (created on demand)."""
        key = session_id or "_shared"
        with self._sessions_lock:
            path = self._sessions.get(key)
            if path is None or not path.is_dir():
                path = Path(tempfile.mkdtemp(prefix="session_", dir=self.cache_dir))
                self._sessions[key] = path
            return path

    def close_session(self, session_id: str | None) -> None:
        """Delete a session's files (called when the browser tab closes)."""
        with self._sessions_lock:
            path = self._sessions.pop(session_id or "_shared", None)
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)

    # -- choices ---------------------------------------------------------------------

    @staticmethod
    def keys() -> list[str]:
        return list(KEYS)

    @staticmethod
    def melody_instruments() -> list[str]:
        return melody_instruments()

    @staticmethod
    def accompaniment_choices() -> list[str]:
        return accompaniment_choices()

    @staticmethod
    def check_chords(text: str | None) -> ChordCheck:
        return check_chords(text)

    @staticmethod
    def check_num_bars(num_bars: Any) -> int:
        return check_num_bars(num_bars)

    @property
    def has_audio(self) -> bool:
        return self.synthesizer is not None

    # -- compose ---------------------------------------------------------------------

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
    ) -> list[ComposeResult]:
        """Generate ``variations`` melodies for a rhythm pattern and chord progression.

        ``rhythm`` is the step-grid string ("x..." bars joined by "|"). Variation
        ``i`` (1-based) uses seed ``seed + i - 1`` (the pipeline's convention), so
        any variation can be recreated alone. Raises :class:`CadenzaInputError`
        for bad input.
        """
        num_bars = check_num_bars(num_bars)
        tempo = _float_in("Tempo (BPM)", tempo, MIN_TEMPO, MAX_TEMPO)
        temperature = _float_in("Temperature", temperature, MIN_TEMPERATURE, MAX_TEMPERATURE)
        variations = _int_in("Number of variations", variations, 1, MAX_VARIATIONS)
        seed = _int_in("Seed", seed, 0, MAX_SEED - MAX_VARIATIONS)
        key = (key or "").strip()
        if key not in KEYS:
            raise CadenzaInputError(f"Unknown key '{key}'. Choose one of: {', '.join(KEYS)}")
        if not isinstance(rhythm, str) or not rhythm.strip():
            raise CadenzaInputError("The rhythm is empty: click some cells of the step grid")
        if not isinstance(chords, str) or not chords.strip():
            raise CadenzaInputError("The chord progression is empty: type chords such as 'C Am F G'")
        try:
            program = program_for(instrument)
        except ValueError as err:
            raise CadenzaInputError(str(err)) from None
        try:
            acc_program = accompaniment_program_for(accompaniment)
        except ValueError as err:
            raise CadenzaInputError(str(err)) from None

        out_dir = self.session_dir(session_id)
        with self._model_lock:
            output = self.pipeline(
                rhythm=rhythm,
                chords=chords,
                num_bars=num_bars,
                key=key,
                tempo_bpm=tempo,
                seed=seed,
                temperature=temperature,
                num_samples=variations,
            )
        sheets = list(output.leadsheets)
        seeds = list(getattr(output, "seeds", None) or [seed + i for i in range(len(sheets))])
        results: list[ComposeResult] = []
        for index, (sheet, var_seed) in enumerate(zip(sheets, seeds), start=1):
            if not sheet.title:
                sheet.title = f"Variation {index} (seed {var_seed})"
            results.append(self._package(sheet, index, var_seed, program, acc_program, out_dir, instrument, accompaniment))
        return results

    def _package(
        self,
        sheet: LeadSheet,
        index: int,
        seed: int,
        program: int,
        acc_program: int | None,
        out_dir: Path,
        instrument: str,
        accompaniment: str | None,
    ) -> ComposeResult:
        midi = leadsheet_to_pretty_midi(sheet, program=program, accompaniment_program=acc_program)
        midi_path = save_midi(midi, out_dir / f"cadenza_var{index}_seed{seed}.mid")
        figure = piano_roll_figure(sheet, title=f"Variation {index} · seed {seed}")
        audio = None
        if self.synthesizer is not None:
            audio = render_leadsheet(sheet, program=program, accompaniment_program=acc_program, synthesizer=self.synthesizer)
        return ComposeResult(
            variation=index,
            seed=seed,
            sheet=sheet,
            figure=figure,
            midi_path=str(midi_path),
            audio=audio,
            instrument=instrument,
            accompaniment=accompaniment or NO_ACCOMPANIMENT,
        )
