"""The studio's only door into the engine.

:class:`Studio` holds the loaded compose pipeline and the warm synthesizer
(constructed once by ``app.py``; no module-level model globals) and turns UI
inputs (plain strings and numbers) into :class:`ComposeResult` objects holding a
LeadSheet, its audio and a MIDI file on disk (``Studio.piano_roll`` draws the
figure separately: the page shows it after the audio). Its
:class:`ExploreService` (``studio.explore``) does the same for the Explore tab:
sources A and B, interpolation, the 2-D pitch x rhythm map, morphs and analogies,
with an ``ExplorePipeline`` that shares the compose pipeline's model. The Gradio
layer (``app/compose_tab.py``, ``app/explore_tab.py``) never imports the engine.

Bad user input raises :class:`engine.errors.CadenzaInputError` (re-exported
here as :data:`InputError`) with a message that can be shown as-is.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.chords import parse_chord_symbol, split_progression_text
from engine.errors import CadenzaInputError
from engine.examples import list_examples as _list_examples
from engine.examples import load_example as _load_example
from engine.midi_io import MAX_MIDI_BYTES, guess_melody_track
from engine.music import LeadSheet
from engine.pipelines.compose import KEYS as _PIPELINE_KEYS
from engine.pipelines.compose import ComposePipeline
from engine.pipelines.explore import MAX_GRID as EXPLORE_MAX_GRID
from engine.pipelines.explore import MAX_MORPH_CELLS
from engine.pipelines.explore import MAX_STEPS as EXPLORE_MAX_STEPS
from engine.pipelines.explore import MIN_GRID as EXPLORE_MIN_GRID
from engine.pipelines.explore import MIN_STEPS as EXPLORE_MIN_STEPS
from engine.pipelines.explore import ExplorePipeline, prepare_source, read_source, source_tracks
from engine.render.audio import get_synthesizer, render_leadsheet, render_leadsheets
from engine.render.export import leadsheet_to_pretty_midi, save_midi, write_wav
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
from engine.render.svg_roll import pitch_span, svg_mini_roll

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
    have no audio). ``explore_pipeline`` defaults to an ``ExplorePipeline`` around
    ``pipeline.model`` (shared weights); ``studio.explore`` serves the Explore tab.
    Generated files go to per-session folders under ``cache_dir``.
    """

    def __init__(
        self,
        pipeline: Any,
        synthesizer: Any | None = None,
        cache_dir: str | Path | None = None,
        explore_pipeline: Any | None = None,
    ):
        self.pipeline = pipeline
        self.synthesizer = synthesizer
        if explore_pipeline is None and getattr(pipeline, "model", None) is not None:
            # The same EC2-VAE serves both tabs: one copy of the weights in memory.
            explore_pipeline = ExplorePipeline(pipeline.model)
        self.explore = ExploreService(explore_pipeline, self)
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
        try:
            self.explore.warm_up()
        except Exception:  # noqa: BLE001
            log.exception("explore warm-up failed (the studio still starts)")

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

    @staticmethod
    def piano_roll(sheet: LeadSheet, title: str = "") -> Any:
        """The plotly piano roll of a lead sheet (chords marked)."""
        return piano_roll_figure(sheet, title=title)

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
            midi = leadsheet_to_pretty_midi(sheet, program=program, accompaniment_program=acc_program)
            midi_path = save_midi(midi, out_dir / f"cadenza_var{index}_seed{var_seed}.mid")
            results.append(ComposeResult(index, var_seed, sheet, str(midi_path), None, instrument, accompaniment or NO_ACCOMPANIMENT))
        if self.synthesizer is not None:
            # All variations at once: the synth's engines take one each (one alone is cut in time).
            rate, audios = render_leadsheets(sheets, program=program, accompaniment_program=acc_program, synthesizer=self.synthesizer)
            for result, audio in zip(results, audios):
                result.audio = (rate, audio)
        return results


# ================================================================ explore (latent space between two melodies)


MAX_UPLOAD_BYTES = MAX_MIDI_BYTES  # also the studio's upload limit (launch(max_file_size=...))

SOURCE_EXAMPLE, SOURCE_UPLOAD, SOURCE_LAST = "Example", "Upload MIDI", "Last composed"
SOURCE_KINDS: tuple[str, ...] = (SOURCE_EXAMPLE, SOURCE_UPLOAD, SOURCE_LAST)
CHORDS_FROM_A, CHORDS_FROM_B, CHORDS_TYPED = "A's chords", "B's chords", "Typed progression"
CHORD_MODES: tuple[str, ...] = (CHORDS_FROM_A, CHORDS_FROM_B, CHORDS_TYPED)
ANALOGY_OWN, ANALOGY_RHYTHM = "The tune's own chords", "The rhythm source's chords"
ANALOGY_CHORD_MODES: tuple[str, ...] = (ANALOGY_OWN, ANALOGY_RHYTHM)

EXPLORE_MIN_BARS, EXPLORE_MAX_BARS = 2, 16
DEFAULT_EXAMPLES = ("Cuckoo's Nest", "Hänschen klein")
# Map cells are pre-rendered (clicks then play at once) while the map's audio stays
# under this many seconds in all; beyond it (big maps of long pieces) a cell renders on its first click.
PRERENDER_AUDIO_SECONDS = 320.0
CELL_TAIL_SECONDS = 0.5


@dataclass
class ExploreSource:
    """A melody A or B as the pipeline will use it (whole 2-bar windows), with its preview."""

    side: str
    sheet: LeadSheet
    summary: str  # one line: title, bars, notes, key, tempo
    svg: str  # small piano roll

    @property
    def title(self) -> str:
        return self.sheet.title


@dataclass
class TrackChoices:
    """The tracks of an uploaded MIDI file for a dropdown: (label, index) pairs and the guessed melody."""

    choices: list[tuple[str, int]]
    default: int | None


@dataclass
class ExploreClip:
    """One result that is heard, seen and downloadable."""

    title: str
    sheet: LeadSheet
    figure: Any  # plotly Figure
    midi_path: str
    audio: Any = None  # (sample_rate, int16 array), a WAV path, or None without a synth
    notes: int = 0


@dataclass
class MapCell:
    row: int
    col: int
    title: str
    sheet: LeadSheet
    midi_path: str
    wav_path: str | None
    svg: str

    @property
    def notes(self) -> int:
        return len(self.sheet.melody.notes)


@dataclass
class ExploreMap:
    """A built 2-D map: cells[i][j] = pitch step i, rhythm step j (kept in the session's gr.State)."""

    size: int
    cells: list[list[MapCell]]
    a_title: str
    b_title: str
    bars: float
    chords_label: str
    folder: str
    program: int
    accompaniment_program: int | None
    seconds: float = 0.0
    prerendered: bool = True

    @property
    def sheets(self) -> list[list[LeadSheet]]:
        return [[cell.sheet for cell in row] for row in self.cells]

    def cell(self, row: Any, col: Any) -> MapCell:
        try:
            r, c = int(row), int(col)
        except (TypeError, ValueError):
            raise CadenzaInputError(f"Choose a cell of the map (got row {row!r}, column {col!r})") from None
        if not (0 <= r < self.size and 0 <= c < self.size):
            raise CadenzaInputError(f"There is no cell ({r + 1}, {c + 1}) in this {self.size}×{self.size} map")
        return self.cells[r][c]

    def widget_cells(self) -> list[list[dict]]:
        """What the map widget draws: rows of {svg, title, notes}."""
        return [[{"svg": c.svg, "title": f"{c.title} · {c.notes} notes", "notes": c.notes} for c in row] for row in self.cells]


def _bars_text(sheet: LeadSheet) -> str:
    spb = sheet.melody.steps_per_bar or 16
    bars = sheet.melody.num_steps / spb
    return f"{bars:g} bar{'s' if bars != 1 else ''}" if float(bars).is_integer() else f"{bars:.1f} bars"


def _slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "_" for ch in text)
    return "_".join(part for part in out.split("_") if part)[:40] or "melody"


def _file_path(file: Any) -> Path | bytes | None:
    """A gr.File value (path string, dict with 'path', object with .name) or raw bytes."""
    if file is None or file == "":
        return None
    if isinstance(file, (bytes, bytearray, memoryview)):
        return bytes(file)
    if isinstance(file, dict):
        file = file.get("path") or file.get("name")
    elif not isinstance(file, (str, Path)) and hasattr(file, "name"):
        file = file.name
    if not isinstance(file, (str, Path)) or not str(file):
        raise CadenzaInputError(f"Could not read the uploaded file ({type(file).__name__})")
    return Path(file)


class ExploreService:
    """Explore-tab services: sources, interpolation, the 2-D map, morphs and analogies.

    Built by :class:`Studio` around an :class:`ExplorePipeline` that shares the compose
    pipeline's model (and the studio's model lock, synthesizer and session folders).
    Every method raises :class:`CadenzaInputError` with a message for bad input.
    """

    def __init__(self, pipeline: Any, studio: "Studio"):
        self.pipeline = pipeline
        self.studio = studio

    # -- choices ---------------------------------------------------------------------

    @staticmethod
    def examples() -> list[str]:
        try:
            return _list_examples()
        except Exception:  # noqa: BLE001 - a missing index must not break the page
            log.exception("could not list the example tunes")
            return []

    def default_examples(self) -> tuple[str | None, str | None]:
        titles = self.examples()
        if not titles:
            return None, None
        a = DEFAULT_EXAMPLES[0] if DEFAULT_EXAMPLES[0] in titles else titles[0]
        rest = [t for t in titles if t != a]
        b = DEFAULT_EXAMPLES[1] if DEFAULT_EXAMPLES[1] in rest else (rest[0] if rest else a)
        return a, b

    # -- sources ---------------------------------------------------------------------

    @staticmethod
    def _check_upload(file: Any) -> Path | bytes:
        source = _file_path(file)
        if source is None:
            raise CadenzaInputError("No MIDI file uploaded yet: drop a .mid file on the upload box")
        size = len(source) if isinstance(source, bytes) else (source.stat().st_size if source.is_file() else -1)
        if size < 0:
            raise CadenzaInputError("The uploaded file is gone from the server; upload it again")
        if size > MAX_UPLOAD_BYTES:
            raise CadenzaInputError(
                f"The file is too large: {size / 2**20:.2f} MB; the upload limit is {MAX_UPLOAD_BYTES / 2**20:.0f} MB. "
                "Export just the melody (a few bars) and try again"
            )
        if size == 0:
            raise CadenzaInputError("The uploaded file is empty (0 bytes)")
        return source

    def upload_tracks(self, file: Any) -> TrackChoices:
        """Tracks of an uploaded MIDI file: 'name · N notes · mean pitch' labels and the guessed melody track."""
        source = self._check_upload(file)
        tracks = source_tracks(source if isinstance(source, bytes) else source.read_bytes())
        if not tracks:
            raise CadenzaInputError("The MIDI file has no notes (no track holds any)")
        choices = []
        for t in tracks:
            if t.is_drum:
                detail = f"drums, {t.num_notes} notes"
            elif t.num_notes == 0:
                detail = "no notes"
            else:
                detail = f"{t.num_notes} notes, mean pitch {t.mean_pitch:.0f}" + (f", chords ×{t.polyphony:.1f}" if t.polyphony >= 1.5 else "")
            choices.append((f"{t.index}: {t.name} ({detail})", t.index))
        try:
            default = guess_melody_track(tracks)
        except CadenzaInputError:
            default = None
        return TrackChoices(choices, default)

    @staticmethod
    def check_bars(bars: Any) -> int:
        value = _int_in("Bars", bars, EXPLORE_MIN_BARS, EXPLORE_MAX_BARS)
        return value - value % 2  # whole 2-bar windows

    def load_source(
        self,
        side: str,
        kind: str | None,
        example: str | None = None,
        file: Any = None,
        track: Any = None,
        start_bar: Any = 0,
        bars: Any = 4,
        last_sheet: LeadSheet | None = None,
    ) -> ExploreSource:
        """Melody ``side`` ("A"/"B") from an example title, an uploaded MIDI (track, start bar) or the
        last composed melody, cut to ``bars`` bars from ``start_bar``; raises CadenzaInputError."""
        num_bars = self.check_bars(bars)
        start = _int_in(f"Start bar of {side}", 0 if start_bar in (None, "") else start_bar, 0, 10_000)
        kind = (kind or SOURCE_EXAMPLE).strip()
        if kind == SOURCE_EXAMPLE:
            if not example:
                raise CadenzaInputError(f"Choose an example tune for {side}")
            sheet = prepare_source(_load_example(str(example)), start, num_bars)
        elif kind == SOURCE_UPLOAD:
            source = self._check_upload(file)
            melody_track = None
            if track not in (None, ""):
                melody_track = _int_in(f"Melody track of {side}", track if not isinstance(track, str) else track.split(":")[0], 0, 65_535)
            if isinstance(source, bytes):
                title = f"Upload {side}"
                data = source
            else:
                title = source.stem or f"Upload {side}"
                data = source.read_bytes()  # bytes: any extension is read as MIDI (never as ABC)
            sheet = read_source(data, melody_track=melody_track, start_bar=start, num_bars=num_bars, title=title)
        elif kind == SOURCE_LAST:
            if not isinstance(last_sheet, LeadSheet):
                raise CadenzaInputError(
                    f"Nothing composed yet for {side}: make a melody in the Compose tab first, or choose an example or upload"
                )
            sheet = prepare_source(last_sheet, start, num_bars)
            sheet.title = last_sheet.title or "Last composed melody"
        else:
            raise CadenzaInputError(f"Unknown source '{kind}' for {side}: choose one of {', '.join(SOURCE_KINDS)}")
        if not sheet.title:
            sheet.title = f"Melody {side}"
        melody = sheet.melody
        summary = (
            f"{sheet.title} · {_bars_text(sheet)} from bar {start} · {len(melody.notes)} notes"
            + (f" · key {melody.key}" if melody.key else "")
            + f" · {melody.tempo_bpm:g} BPM"
            + (f" · {melody.time_signature[0]}/{melody.time_signature[1]}" if tuple(melody.time_signature) != (4, 4) else "")
        )
        svg = svg_mini_roll(sheet, 480, 84, title=f"{side}: {sheet.title}", css_class="cz-roll cz-source-roll")
        return ExploreSource(side, sheet, summary, svg)

    # -- helpers ---------------------------------------------------------------------

    def _chords(self, mode: str | None, text: str | None) -> tuple[str, str]:
        """(pipeline chords argument, label) for the decoding-chords radio and text box."""
        mode = (mode or CHORDS_FROM_A).strip()
        if mode == CHORDS_FROM_A:
            return "a", "A's chords"
        if mode == CHORDS_FROM_B:
            return "b", "B's chords"
        if mode != CHORDS_TYPED:
            raise CadenzaInputError(f"Unknown chord choice '{mode}': choose one of {', '.join(CHORD_MODES)}")
        check = check_chords(text)
        if not check.ok:
            raise CadenzaInputError(check.message)
        typed = (text or "").strip()
        if typed.lower() in ("a", "b"):  # a typed chord, not "A's/B's chords"
            typed = typed.upper()
        return typed, f"chords {' | '.join(check.bar_labels)}"

    @staticmethod
    def _programs(instrument: str | None, with_chords: bool = True) -> tuple[int, int | None]:
        try:
            program = program_for(instrument or DEFAULT_INSTRUMENT)
        except ValueError as err:
            raise CadenzaInputError(str(err)) from None
        return program, (accompaniment_program_for(DEFAULT_ACCOMPANIMENT) if with_chords else None)

    @staticmethod
    def _joined_figure(sheet: LeadSheet, title: str, part_steps: list[int], labels: list[str]):
        """Piano roll of pieces joined end to end, with a line and a label per piece."""
        figure = piano_roll_figure(sheet, title=title)
        spb = sheet.melody.steps_per_bar or 16
        shapes, notes = [], []
        start = 0
        for index, (steps, label) in enumerate(zip(part_steps, labels)):
            if index:
                x = start / spb + 1.0
                shapes.append(dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                                   line=dict(color="#f59e0b", width=2)))  # fmt: skip
            notes.append(dict(x=(start + steps / 2) / spb + 1.0, y=1.0, xref="x", yref="paper", yanchor="bottom",
                              text=label, showarrow=False, font=dict(size=10, color="#b45309")))  # fmt: skip
            start += steps
        figure.update_layout(shapes=list(figure.layout.shapes or ()) + shapes,
                             annotations=list(figure.layout.annotations or ()) + notes)  # fmt: skip
        return figure

    def _clip(self, sheet: LeadSheet, title: str, file_name: str, out_dir: Path, program: int, acc: int | None,
              figure=None) -> ExploreClip:  # fmt: skip
        midi_path = save_midi(leadsheet_to_pretty_midi(sheet, program=program, accompaniment_program=acc), out_dir / file_name)
        audio = None
        if self.studio.synthesizer is not None:
            audio = render_leadsheet(sheet, program=program, accompaniment_program=acc, synthesizer=self.studio.synthesizer)
        if figure is None:
            figure = piano_roll_figure(sheet, title=title)
        return ExploreClip(title, sheet, figure, str(midi_path), audio, len(sheet.melody.notes))

    # -- interpolation ---------------------------------------------------------------

    def interpolate(self, a: ExploreSource, b: ExploreSource, steps: Any = 5, chords_mode: str | None = CHORDS_FROM_A,
                    chords_text: str | None = "", instrument: str | None = DEFAULT_INSTRUMENT,
                    session_id: str | None = None) -> tuple[ExploreClip, list[LeadSheet]]:  # fmt: skip
        """The path A -> B in ``steps`` (2..12) spherical-interpolation steps, joined into one piece."""
        steps = _int_in("Steps", steps, EXPLORE_MIN_STEPS, EXPLORE_MAX_STEPS)
        chords, label = self._chords(chords_mode, chords_text)
        program, acc = self._programs(instrument)
        with self.studio._model_lock:
            sheets = self.pipeline.interpolate(a.sheet, b.sheet, steps, chords)
        title = f"{a.title} → {b.title}: {steps} steps ({label})"
        joined = self.pipeline.morph(sheets, title=title)
        lengths = [s.melody.num_steps for s in sheets]
        labels = ["A"] + [str(k + 1) for k in range(1, steps - 1)] + ["B"]
        figure = self._joined_figure(joined, title, lengths, labels)
        out_dir = self.studio.session_dir(session_id)
        return self._clip(joined, title, f"cadenza_path_{steps}_steps.mid", out_dir, program, acc, figure), sheets

    # -- the 2-D map -----------------------------------------------------------------

    def build_map(self, a: ExploreSource, b: ExploreSource, size: Any = 5, chords_mode: str | None = CHORDS_FROM_A,
                  chords_text: str | None = "", instrument: str | None = DEFAULT_INSTRUMENT, cell_chords: bool = False,
                  session_id: str | None = None) -> ExploreMap:  # fmt: skip
        """The size x size pitch/rhythm map: every cell decoded, drawn (SVG) and, while the map's audio
        stays under PRERENDER_AUDIO_SECONDS, rendered to a mono WAV in the session folder so a click plays
        at once (melody only unless ``cell_chords``). A cell's MIDI (with chords) is written on its first click."""
        started = time.perf_counter()
        size = _int_in("Map size", size, EXPLORE_MIN_GRID, EXPLORE_MAX_GRID)
        chords, label = self._chords(chords_mode, chords_text)
        program, acc = self._programs(instrument, with_chords=bool(cell_chords))
        with self.studio._model_lock:
            grid = self.pipeline.grid(a.sheet, b.sheet, size, chords)
        session = self.studio.session_dir(session_id)
        for old in session.glob("map_*"):  # one map per session on disk: the previous one goes
            shutil.rmtree(old, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(prefix="map_", dir=session))
        span = pitch_span([s for row in grid for s in row])
        seconds = grid[0][0].melody.duration_seconds + CELL_TAIL_SECONDS
        prerender = self.studio.synthesizer is not None and size * size * seconds <= PRERENDER_AUDIO_SECONDS
        cells: list[list[MapCell]] = []
        for i, row in enumerate(grid):
            out_row = []
            for j, sheet in enumerate(row):
                title = sheet.title or f"Cell {i + 1}, {j + 1}"
                svg = svg_mini_roll(sheet, 150, 60, title=title, pitch_range=span, css_class="cz-roll cz-cell-roll")
                # The MIDI is written when the cell is first clicked (cell_clip): most never are.
                midi_path = folder / f"cadenza_map_r{i + 1}c{j + 1}.mid"
                out_row.append(MapCell(i, j, title, sheet, str(midi_path), None, svg))
            cells.append(out_row)
        if prerender:
            self._render_cells([cell for row in cells for cell in row], folder, program, acc)
        bars = grid[0][0].melody.num_steps / (grid[0][0].melody.steps_per_bar or 16)
        return ExploreMap(size, cells, a.title, b.title, bars, label, str(folder), program, acc,
                          time.perf_counter() - started, prerender)  # fmt: skip

    def _render_cells(self, cells: list[MapCell], folder: Path, program: int, acc: int | None) -> None:
        """Render cells (the synth's engines share them) to mono WAVs in ``folder``; sets ``cell.wav_path``."""
        if self.studio.synthesizer is None or not cells:
            return
        rate, audios = render_leadsheets([cell.sheet for cell in cells], program=program, accompaniment_program=acc,
                                         tail_seconds=CELL_TAIL_SECONDS, synthesizer=self.studio.synthesizer)  # fmt: skip
        for cell, audio in zip(cells, audios):
            # Mono: a cell is a short preview, and half the bytes reach the browser sooner.
            mono = ((audio[:, 0].astype(np.int32) + audio[:, 1]) // 2).astype(np.int16) if audio.ndim == 2 else audio
            cell.wav_path = str(write_wav(folder / f"cadenza_map_r{cell.row + 1}c{cell.col + 1}.wav", mono, rate))

    def cell_clip(self, explore_map: ExploreMap, row: Any, col: Any) -> ExploreClip:
        """A map cell ready to play: its WAV (rendered now if the map was too big to pre-render), roll and MIDI."""
        if not isinstance(explore_map, ExploreMap):
            raise CadenzaInputError("Build the map first (press Build map)")
        cell = explore_map.cell(row, col)
        if cell.wav_path is None or not Path(cell.wav_path).is_file():
            folder = Path(explore_map.folder)
            folder.mkdir(parents=True, exist_ok=True)
            self._render_cells([cell], folder, explore_map.program, explore_map.accompaniment_program)
        if not Path(cell.midi_path).is_file():
            chords_program = accompaniment_program_for(DEFAULT_ACCOMPANIMENT)  # the MIDI always holds the chords
            save_midi(leadsheet_to_pretty_midi(cell.sheet, program=explore_map.program, accompaniment_program=chords_program), cell.midi_path)
        title = f"Cell ({cell.row + 1}, {cell.col + 1}): {cell.title}"
        return ExploreClip(title, cell.sheet, piano_roll_figure(cell.sheet, title=title, height=260), cell.midi_path, cell.wav_path, cell.notes)

    def morph(self, explore_map: ExploreMap, path: list[tuple[int, int]], instrument: str | None = None,
              session_id: str | None = None) -> ExploreClip:  # fmt: skip
        """The cells along ``path`` [(row, col), ...] joined into one piece (audio with chords, roll, MIDI)."""
        if not isinstance(explore_map, ExploreMap):
            raise CadenzaInputError("Build the map first (press Build map), then choose a path through it")
        if not path:
            raise CadenzaInputError("The morph path is empty: draw one on the map (Draw morph path) or pick a preset")
        if len(path) > MAX_MORPH_CELLS:
            raise CadenzaInputError(f"The path has {len(path)} cells; the limit is {MAX_MORPH_CELLS}")
        cells = self.pipeline.path_cells(explore_map.sheets, [tuple(p) for p in path])
        program, acc = self._programs(instrument) if instrument else (explore_map.program, accompaniment_program_for(DEFAULT_ACCOMPANIMENT))
        route = " → ".join(f"({r + 1},{c + 1})" for r, c in path)
        title = f"Morph through {len(path)} cells: {route}" if len(path) <= 12 else f"Morph through {len(path)} cells"
        joined = self.pipeline.morph(cells, title=title)
        figure = self._joined_figure(joined, title, [c.melody.num_steps for c in cells], [f"{r + 1},{c + 1}" for r, c in path])
        out_dir = self.studio.session_dir(session_id)
        return self._clip(joined, title, f"cadenza_morph_{len(path)}_cells.mid", out_dir, program, acc, figure)

    # -- analogy ---------------------------------------------------------------------

    def analogy(self, a: ExploreSource, b: ExploreSource, chords_mode: str | None = ANALOGY_OWN,
                reharmonise_text: str | None = "", instrument: str | None = DEFAULT_INSTRUMENT,
                session_id: str | None = None) -> list[ExploreClip]:  # fmt: skip
        """[A's pitch with B's rhythm, B's pitch with A's rhythm, A re-harmonised under ``reharmonise_text``]."""
        mode = (chords_mode or ANALOGY_OWN).strip()
        if mode not in ANALOGY_CHORD_MODES:
            raise CadenzaInputError(f"Unknown chord choice '{mode}': choose one of {', '.join(ANALOGY_CHORD_MODES)}")
        chords = "pitch" if mode == ANALOGY_OWN else "rhythm"
        check = check_chords(reharmonise_text)
        if not check.ok:
            raise CadenzaInputError(f"New chords for A: {check.message}")
        program, acc = self._programs(instrument)
        with self.studio._model_lock:
            ab = self.pipeline.analogy(a.sheet, b.sheet, chords)
            ba = self.pipeline.analogy(b.sheet, a.sheet, chords)
            re_a = self.pipeline.reharmonise(a.sheet, reharmonise_text.strip())
        out_dir = self.studio.session_dir(session_id)
        return [
            self._clip(ab, f"A's tune, B's rhythm: {ab.title}", "cadenza_a_pitch_b_rhythm.mid", out_dir, program, acc),
            self._clip(ba, f"B's tune, A's rhythm: {ba.title}", "cadenza_b_pitch_a_rhythm.mid", out_dir, program, acc),
            self._clip(re_a, f"A re-harmonised: {re_a.title}", "cadenza_a_reharmonised.mid", out_dir, program, acc),
        ]

    def warm_up(self) -> None:
        """Read the default examples and build a tiny map (imports, caches); best effort."""
        first, second = self.default_examples()
        if first is None:
            return
        a = self.load_source("A", SOURCE_EXAMPLE, first, bars=2)
        b = self.load_source("B", SOURCE_EXAMPLE, second, bars=2)
        with self.studio._model_lock:
            self.pipeline.grid(a.sheet, b.sheet, 2, "a")
