"""What the tabs' services share: session files, input and chord checks, instruments, uploads.

One :class:`Shared` per studio (built by :class:`app.services.Studio`) is handed to
every tab's service: the warm synthesizer, the model lock and the per-session
folders for generated files. The rest are plain helpers (number and chord checks,
instruments, uploads and their tracks, the example tunes); bad user input raises
:data:`InputError` (:class:`engine.music.errors.CadenzaInputError`) with a message that
can be shown as-is.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.services.engraver import Engraver
from app.services.keeper import Keeper
from engine.io.examples import list_examples, load_example
from engine.io.midi import MAX_MIDI_BYTES, guess_melody_track
from engine.io.sources import source_tracks
from engine.music import LeadSheet
from engine.music.chords import parse_chord_symbol, split_progression_text
from engine.music.errors import CadenzaInputError
from engine.music.limits import SEED
from engine.music.tonality import KEYS as _PIPELINE_KEYS
from engine.pipelines.batching import DEFAULT_MAX_BATCH
from engine.render.encode import DEFAULT_PLAYER_FORMAT, player_format, write_player_audio
from engine.render.instruments import (
    ACCOMPANIMENT_INSTRUMENTS,
    DEFAULT_ACCOMPANIMENT_INSTRUMENT,
    DEFAULT_MELODY_INSTRUMENT,
    MELODY_INSTRUMENTS,
    NO_ACCOMPANIMENT,
    accompaniment_program_for,
    program_for,
)

log = logging.getLogger("cadenza.studio")

InputError = CadenzaInputError

KEYS: list[str] = list(_PIPELINE_KEYS)
MAX_SEED = SEED.high
MAX_UPLOAD_BYTES = MAX_MIDI_BYTES  # also the studio's upload limit (launch(max_file_size=...))

# ---------------------------------------------------------------- shared resources


def default_cache_root() -> Path:
    """Where the studio writes its results by default: a ``cadenza`` folder inside Gradio's upload folder
    (``GRADIO_TEMP_DIR``, else the system temp folder's ``gradio``). Gradio serves files there in place
    instead of copying them into its cache, so each result is stored once and one storage limit covers all."""
    upload = os.environ.get("GRADIO_TEMP_DIR") or str((Path(tempfile.gettempdir()) / "gradio").resolve())
    return Path(upload) / "cadenza"


class Shared:
    """What every tab's service shares, one per studio.

    ``synthesizer`` is an ``engine.render.audio.Synthesizer`` or None (then there is
    no audio); hold ``model_lock`` around every model call (the model is not assumed
    thread-safe). Generated files go to per-session folders under ``cache_dir``, a
    fresh ``run_*`` folder that is deleted when this object is garbage-collected or
    the process exits.
    """

    def __init__(
        self,
        synthesizer: Any | None = None,
        cache_dir: str | Path | None = None,
        player_audio: str = DEFAULT_PLAYER_FORMAT,
        keeper: Keeper | None = None,
        engraver: Engraver | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
    ):
        self.synthesizer = synthesizer
        # Requests for one model that arrive together are decoded as one batch of at most this many (1: one at a
        # time); the tabs of batched models admit as many requests at once (engine.pipelines.batching).
        if not 1 <= int(max_batch) <= 64:
            raise ValueError(f"max_batch must be between 1 and 64, not {max_batch}")
        self.max_batch = int(max_batch)
        # Scores (music21) are written off the request's thread: on a worker process in the served studio.
        self.engraver = engraver if engraver is not None else Engraver()
        # Every result goes to its owner's library as it is made (a Keeper without a library keeps nothing).
        self.keeper = keeper if keeper is not None else Keeper()
        # What the page's players get (Opus by default: a tenth of the WAV); WAV stays a download.
        self.player_format = player_format(player_audio)
        self._encoders = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cadenza-encode")
        self.model_lock = threading.Lock()
        root = Path(cache_dir) if cache_dir is not None else default_cache_root()
        root.mkdir(parents=True, exist_ok=True)
        self.cache_dir = Path(tempfile.mkdtemp(prefix="run_", dir=root))
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.cache_dir), True)
        self._sessions: dict[str, Path] = {}
        self._sessions_lock = threading.Lock()

    def session_dir(self, session_id: str | None = None) -> Path:
        """The folder holding one browser session's generated files (created on demand)."""
        key = session_id or "_shared"
        with self._sessions_lock:
            path = self._sessions.get(key)
            if path is None or not path.is_dir():
                path = Path(tempfile.mkdtemp(prefix="session_", dir=self.cache_dir))
                self._sessions[key] = path
            return path

    def take_dir(self, session_id: str | None = None) -> Path:
        """A new, empty folder for one take's files inside the session's folder.

        Every take gets its own folder, so its files have URLs no earlier take had: the page never plays
        a cached copy of the previous take, and a take's files are never overwritten by the next one."""
        return Path(tempfile.mkdtemp(prefix="take_", dir=self.session_dir(session_id)))

    def made_in_session(self, session_id: str | None, take: Any) -> bool:
        """Whether the take folder called ``take`` (a kept piece's "take" control) was made in this browser session:
        a reload starts a new session, so a take of this one is already on the page."""
        if not isinstance(take, str) or not take or Path(take).name != take:
            return False
        with self._sessions_lock:
            path = self._sessions.get(session_id or "_shared")
        return path is not None and (path / take).is_dir()

    def close_session(self, session_id: str | None) -> None:
        """Delete a session's files (called when the browser tab closes)."""
        with self._sessions_lock:
            path = self._sessions.pop(session_id or "_shared", None)
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)

    def engrave(self, work: Callable[..., Any], *args: Any) -> Future:
        """Run ``work(*args)`` (a picklable module-level function that writes a score) on the engraver, beside the
        audio render (see app.services.engraver); the future's result is its return value (or raises)."""
        return self.engraver.submit(work, *args)

    def player_files(self, audios: Sequence[np.ndarray], sample_rate: int, paths: Sequence[str | Path]) -> list[str]:
        """Each audio (int16 or float, (frames,) or (frames, channels)) written for the page's player in
        ``player_format`` at its path (the suffix becomes the format's), two at a time; returns the paths written."""
        jobs = [
            self._encoders.submit(write_player_audio, path, audio, sample_rate, self.player_format)
            for audio, path in zip(audios, paths)
        ]
        return [str(job.result()) for job in jobs]


# ---------------------------------------------------------------- stages of a long job

# Who hears the stages of the job running in this thread (the page's progress bar), set by the tab around a call.
_STAGE_LISTENER: ContextVar[Callable[[float, str], None] | None] = ContextVar("cadenza_stage", default=None)


def report_stage(fraction: float, text: str) -> None:
    """Tell the page what the job is doing ("drawing tune 2 of 4", "rendering the audio") and how far it is
    (0..1); nothing happens outside a page event. Never raises."""
    listener = _STAGE_LISTENER.get()
    if listener is None:
        return
    try:
        listener(max(0.0, min(1.0, fraction)), text)
    except Exception:  # noqa: BLE001 - a progress bar must never break the job
        log.debug("stage report failed", exc_info=True)


@contextmanager
def stages(listener: Callable[[float, str], None] | None) -> Iterator[None]:
    """Within the block, :func:`report_stage` calls go to ``listener`` (e.g. ``gr.Progress``'s ``(fraction, desc)``)."""
    token = _STAGE_LISTENER.set(listener)
    try:
        yield
    finally:
        _STAGE_LISTENER.reset(token)


# ---------------------------------------------------------------- number checks


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages that quote what was sent."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's digit limit for str()
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def brief(message: str, limit: int = 60) -> str:
    """``message`` with every quoted value longer than ``limit`` characters cut short: a message shown to the
    user never echoes a 5,000-character name or chord whole."""
    return re.sub(rf"'([^'\n]{{{limit + 1},}})'", lambda m: f"'{m[1][: limit - 3]}...'", message)


def number(name: str, value: Any) -> float:
    """``value`` as a finite float; ``name`` labels the field in the error message."""
    if isinstance(value, bool):  # float(True) is 1.0, but true/false is no number
        raise CadenzaInputError(f"{name} must be a number, got {value!r}")
    try:
        out = float(value)
    except OverflowError:  # an int beyond any float (10**400)
        raise CadenzaInputError(f"{name} must be a finite number, got a number too large for it") from None
    except (TypeError, ValueError):
        raise CadenzaInputError(f"{name} must be a number, got {shown(value)}") from None
    if not math.isfinite(out):
        raise CadenzaInputError(f"{name} must be a finite number, got {shown(value)}")
    return out


def int_in(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as a whole number in ``lo..hi`` (inclusive)."""
    out = number(name, value)
    if out != int(out):
        raise CadenzaInputError(f"{name} must be a whole number, got {shown(value)}")
    if not lo <= out <= hi:
        raise CadenzaInputError(f"{name} must be between {lo} and {hi}, got {int(out)}")
    return int(out)


def float_in(name: str, value: Any, lo: float, hi: float) -> float:
    """``value`` as a float in ``lo..hi`` (inclusive)."""
    out = number(name, value)
    if not lo <= out <= hi:
        raise CadenzaInputError(f"{name} must be between {lo:g} and {hi:g}, got {out:g}")
    return out


def choice(name: str, value: Any, choices: Sequence[str], default: str | None = None) -> str:
    """``value`` (surrounding spaces stripped) when it is one of ``choices``; None or "" give ``default``
    when there is one. Anything else is an input error naming the field and the choices
    ("Unknown key 'H': choose one of C, C#, ...")."""
    if default is not None and (value is None or value == ""):
        return default
    text = value.strip() if isinstance(value, str) else None
    if text not in choices:
        raise CadenzaInputError(f"Unknown {name} {shown(value)}: choose one of {', '.join(choices)}")
    return text


def flag(name: str, value: Any) -> bool:
    """A checkbox value: true or false (1 and 0 too); anything else is an input error naming the field."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise CadenzaInputError(f"{name} must be true or false, got {shown(value)}")


# ---------------------------------------------------------------- chords


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
        return ChordCheck(False, brief(str(err)))
    except Exception as err:  # noqa: BLE001 - validation must never break the page
        log.exception("chord validation failed")
        return ChordCheck(False, f"Could not read the chords ({type(err).__name__})")
    labels = [" ".join(bar) for bar in bars]
    return ChordCheck(True, f"{len(labels)} bar{'s' if len(labels) != 1 else ''}: " + " | ".join(labels), labels)


# ---------------------------------------------------------------- instruments

DEFAULT_INSTRUMENT = DEFAULT_MELODY_INSTRUMENT
DEFAULT_ACCOMPANIMENT = DEFAULT_ACCOMPANIMENT_INSTRUMENT


def melody_instruments() -> list[str]:
    """Melody instrument names, in display order."""
    return list(MELODY_INSTRUMENTS)


def accompaniment_choices() -> list[str]:
    """Accompaniment names, "None (melody only)" first."""
    return [NO_ACCOMPANIMENT] + [name for name in ACCOMPANIMENT_INSTRUMENTS if name != NO_ACCOMPANIMENT]


def melody_program(instrument: str | None) -> int:
    """The General MIDI program of a melody instrument name; an unknown name is an input error."""
    try:
        return program_for(instrument)
    except ValueError as err:
        raise CadenzaInputError(str(err)) from None


def accompaniment_program(accompaniment: str | None) -> int | None:
    """The program of an accompaniment name (None: melody only); an unknown name is an input error."""
    try:
        return accompaniment_program_for(accompaniment)
    except ValueError as err:
        raise CadenzaInputError(str(err)) from None


# ---------------------------------------------------------------- uploads and text


def file_path(file: Any) -> Path | bytes | None:
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


def check_upload(file: Any) -> Path | bytes:
    """An uploaded MIDI file (see :func:`file_path`) that exists, is not empty and is under MAX_UPLOAD_BYTES."""
    source = file_path(file)
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


@dataclass
class TrackChoices:
    """The tracks of an uploaded MIDI file for a dropdown: (label, index) pairs and the guessed melody."""

    choices: list[tuple[str, int]]
    default: int | None


def upload_tracks(file: Any) -> TrackChoices:
    """Tracks of an uploaded MIDI file: 'name · N notes · mean pitch' labels and the guessed melody track."""
    source = check_upload(file)
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
            detail = f"{t.num_notes} notes, mean pitch {t.mean_pitch:.0f}" + (
                f", chords ×{t.polyphony:.1f}" if t.polyphony >= 1.5 else ""
            )
        choices.append((f"{t.index}: {t.name} ({detail})", t.index))
    try:
        default = guess_melody_track(tracks)
    except CadenzaInputError:
        default = None
    return TrackChoices(choices, default)


def example_titles() -> list[str]:
    """Titles of the example tunes ([] if they cannot be listed)."""
    try:
        return list_examples()
    except Exception:  # noqa: BLE001 - a missing index must not break the page
        log.exception("could not list the example tunes")
        return []


def example_tune(title: Any) -> LeadSheet:
    """The example tune called ``title`` (case ignored); an unknown title is an input error quoting it briefly."""
    if isinstance(title, str) and len(title) <= 200:
        return load_example(title)
    raise CadenzaInputError(
        f"No example called {shown(title)}: choose one of {', '.join(repr(t) for t in example_titles())}"
    )


def bars_text(sheet: LeadSheet) -> str:
    """The length of a lead sheet in words: "4 bars", "1 bar", "2.5 bars"."""
    spb = sheet.melody.steps_per_bar or 16
    bars = sheet.melody.num_steps / spb
    return f"{bars:g} bar{'s' if bars != 1 else ''}" if float(bars).is_integer() else f"{bars:.1f} bars"


def slug(text: str) -> str:
    """``text`` as a short file-name part: lowercase letters, digits and single underscores ("melody" if empty)."""
    out = "".join(ch.lower() if ch.isalnum() else "_" for ch in text)
    return "_".join(part for part in out.split("_") if part)[:40] or "melody"
