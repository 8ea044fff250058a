"""The Library tab's service: a session's own pieces listed, played, renamed, starred, deleted (with undo),
downloaded, and opened in another tab.

Every call names the session; :class:`app.services.keeper.Keeper` says who owns it, and the library
(:mod:`app.library.store`) refuses everything about another owner's pieces exactly as it refuses an id that
does not exist. Files leave the library only as copies in the session's own cache folder (with readable
names), so the library's folder is never served to the page.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.library import Library, LibraryError, Piece
from app.services.common import InputError, Shared, check_chords
from engine.io.midi import load_pretty_midi
from engine.io.sources import read_piece, read_source
from engine.music import LeadSheet
from engine.music.limits import COMPOSE_BARS
from engine.render.export import CHORDS_TRACK_NAME, write_wav

log = logging.getLogger("cadenza.library")

TAB_NAMES = {
    "compose": "Compose",
    "explore": "Explore",
    "song": "Song",
    "emotion": "Emotion",
    "style": "Style",
    "arrange": "Arrange",
}
MIDI_NAMES = ("melody.mid", "song.mid", "piece.mid")  # the stored MIDI of each tab's pieces


@dataclass
class PieceFiles:
    """A piece's files copied for the page: the player's audio, the MIDI and every file to download."""

    audio: str | None
    midi: str | None
    downloads: list[str]


@dataclass
class ComposeInputs:
    """What "Open in Compose" puts on the page: the rhythm grid, the chords, bars, key and tempo."""

    rhythm: str
    chords: str
    chord_labels: list[str]
    num_bars: int
    key: str | None
    tempo: float
    note: str  # what was taken and what was left out


@dataclass
class KeptTake:
    """The pieces one click made (a take: Compose's variations, Explore's analogies), in the order they were made,
    each with its files copied for the page."""

    pieces: list[Piece]
    files: list[PieceFiles]

    @property
    def controls(self) -> dict[str, Any]:
        """The first piece's controls (what was asked; each piece adds its own seed or variation)."""
        return self.pieces[0].controls


def kept_melody(midi: str | Path, title: str = "", parts_until: Any = None) -> LeadSheet:
    """A melody the studio wrote, read back from its MIDI file (its first track, from its first step).

    ``parts_until``: the tune kept its file's own accompaniment over its first ``parts_until`` steps; those tracks
    come back as its parts (the studio's block chords over the bars added after them are not a part)."""
    if not isinstance(parts_until, int) or parts_until <= 0:
        return read_piece(Path(midi).read_bytes(), melody_track=0, title=title, from_start=True)
    sheet = read_piece(Path(midi).read_bytes(), melody_track=0, title=title, from_start=True, keep_parts=True)
    sheet.parts = [
        replace(part, until=parts_until)
        for part in sheet.parts
        if not (part.name == CHORDS_TRACK_NAME and all(n.start >= parts_until for n in part.notes))
    ]
    return sheet


def file_title(title: str, limit: int = 60) -> str:
    """A title as a file name people can read ("Song over C - Am - F - G"): letters, digits, spaces and a few marks
    kept, anything else (slashes, bars, quotes) becomes "-"; "piece" when nothing is left."""
    out = "".join(ch if ch.isalnum() or ch in " -_.,()'&+#" else "-" for ch in title)
    out = " ".join(out.split()).strip(" .-")[:limit].strip(" .-")
    return out or "piece"


def when_text(timestamp: float, now: float | None = None) -> str:
    """A creation time as people read it: "just now", "5 min ago", "14:05", "3 Dec 14:05"."""
    now = time.time() if now is None else now
    age = now - timestamp
    if age < 60:
        return "just now"
    if age < 3600:
        return f"{int(age // 60)} min ago"
    local, today = time.localtime(timestamp), time.localtime(now)
    if local[:3] == today[:3]:
        return time.strftime("%H:%M", local)
    return time.strftime("%-d %b %H:%M", local)


def piece_midi(piece: Piece) -> Path | None:
    """The piece's MIDI file (None when it has none)."""
    for name in MIDI_NAMES:
        if name in piece.files:
            return piece.files[name]
    return None


def sheet_to_rhythm_and_chords(sheet: LeadSheet, max_bars: int = COMPOSE_BARS.high) -> ComposeInputs:
    """A melody as the Compose tab's inputs: one "x"/"." per sixteenth (bars joined by "|") and the chords of each
    bar ("C G | Am"), at most ``max_bars`` bars. Only 4/4 fits the step grid: any other meter is refused."""
    melody = sheet.melody
    if melody.steps_per_bar != 16:
        num, den = melody.time_signature
        raise InputError(f"Compose's step grid is in 4/4; this piece is in {num}/{den}: open it in Song or Explore")
    total = max(1, -(-melody.num_steps // 16))
    bars = min(total, max_bars)
    if bars < COMPOSE_BARS.low:
        bars = COMPOSE_BARS.low
    cells = ["."] * (bars * 16)
    for step in melody.onset_steps():
        if 0 <= step < len(cells):
            cells[step] = "x"
    rhythm = "|".join("".join(cells[b * 16 : (b + 1) * 16]) for b in range(bars))
    labels = []
    for bar in range(bars):
        lo, hi = bar * 16, (bar + 1) * 16
        symbols = [c.symbol for c in sorted(sheet.chords.chords, key=lambda c: c.start) if c.start < hi and c.end > lo]
        merged = [s for i, s in enumerate(symbols) if i == 0 or s != symbols[i - 1]]
        labels.append(" ".join(merged) or "N.C.")
    chords = " | ".join(labels) if any(" " in label for label in labels) else " ".join(labels)
    note = f"{bars} bars" + (
        f" (the first {bars} of {total}: Compose writes at most {max_bars})" if total > bars else ""
    )
    return ComposeInputs(rhythm, chords, labels, bars, melody.key, float(melody.tempo_bpm), note)


class LibraryService:
    """The Library tab's service, over the studio's :class:`Shared` resources (its keeper holds the library)."""

    def __init__(self, shared: Shared):
        self.shared = shared
        # (session, piece, version) -> its WAV rendered once: clicking a row again does not render it again
        self._wavs: dict[tuple[str | None, str, int], str] = {}

    @property
    def library(self) -> Library:
        if self.shared.keeper.library is None:
            raise InputError("This studio keeps no library (it was started without one)")
        return self.shared.keeper.library

    @property
    def available(self) -> bool:
        return self.shared.keeper.library is not None

    def _owner(self, session_id: str | None) -> str:
        if not session_id:
            raise InputError("No session: reload the page")
        return self.shared.keeper.owner_of(session_id)

    def _call(self, action: Any) -> Any:
        try:
            return action()
        except LibraryError as err:
            raise InputError(str(err)) from None

    # -- listing ----------------------------------------------------------------------------

    def pieces(
        self, session_id: str | None, query: Any = "", tab: Any = None, starred_only: Any = False
    ) -> list[Piece]:
        """The session owner's pieces, newest change first; ``query`` matches titles and tabs."""
        owner = self._owner(session_id)
        tab_key = None
        if tab not in (None, "", "All"):
            names = {v.lower(): k for k, v in TAB_NAMES.items()}
            if not isinstance(tab, str) or tab.lower() not in names:
                raise InputError(f"Unknown tab {tab!r}: choose All or one of {', '.join(TAB_NAMES.values())}")
            tab_key = names[tab.lower()]
        if not isinstance(starred_only, bool):
            raise InputError(f"Starred only must be true or false, got {starred_only!r}")
        return self._call(lambda: self.library.list(owner, query, tab_key, starred_only))

    def usage(self, session_id: str | None) -> tuple[int, int]:
        """(bytes the session owner's pieces take, their quota)."""
        owner = self._owner(session_id)
        return self.library.usage(owner), self.library.quota_bytes

    def get(self, session_id: str | None, piece_id: Any) -> Piece:
        """One of the owner's pieces with its history."""
        owner = self._owner(session_id)
        return self._call(lambda: self.library.get(owner, piece_id))

    # -- changes ----------------------------------------------------------------------------

    def rename(self, session_id: str | None, piece_id: Any, title: Any) -> Piece:
        owner = self._owner(session_id)
        return self._call(lambda: self.library.rename(owner, piece_id, title))

    def star(self, session_id: str | None, piece_id: Any, starred: bool = True) -> Piece:
        owner = self._owner(session_id)
        return self._call(lambda: self.library.star(owner, piece_id, starred))

    def delete(self, session_id: str | None, piece_id: Any) -> Piece:
        owner = self._owner(session_id)
        return self._call(lambda: self.library.delete(owner, piece_id))

    def undelete(self, session_id: str | None, piece_id: Any) -> Piece:
        owner = self._owner(session_id)
        return self._call(lambda: self.library.undelete(owner, piece_id))

    # -- files ------------------------------------------------------------------------------

    def files(self, session_id: str | None, piece_id: Any, version: Any = None) -> PieceFiles:
        """Copies of a piece's files (the newest version, or ``version``) in the session's cache, named after the
        piece ("morning_tune.mid"), for the page's player and downloads."""
        piece = self.get(session_id, piece_id)
        chosen = piece.latest
        if version not in (None, ""):
            numbers = {v.number: v for v in piece.history}
            if not isinstance(version, int) or version not in numbers:
                raise InputError(f"{piece.title} has versions 1 to {piece.num_versions}, not {version!r}")
            chosen = numbers[version]
        folder = self.shared.take_dir(session_id)
        stem = file_title(piece.title)
        out: dict[str, str] = {}
        for name, path in sorted(chosen.files.items()):
            target = folder / f"{stem}{Path(name).suffix}"
            if target.exists():  # two files with one suffix: keep the stored name's stem too
                target = folder / f"{stem}_{Path(name).stem}{Path(name).suffix}"
            shutil.copyfile(path, target)
            out[name] = str(target)
        audio = next((p for n, p in out.items() if n.startswith("audio.")), None)
        midi = next((out[n] for n in MIDI_NAMES if n in out), None)
        downloads = [p for n, p in out.items() if not n.startswith("audio.")] + ([audio] if audio else [])
        key = (session_id, piece.id, chosen.number)
        wav = self._wavs.get(key)
        if (wav is None or not Path(wav).is_file()) and midi is not None:
            wav = self._wav(midi, folder / f"{stem}.wav")
            if wav is not None:
                self._wavs[key] = wav
        # only files that are there as the page gets them (a session's folder can go while a reload restores it)
        present = [path for path in downloads + ([wav] if wav else []) if Path(path).is_file()]
        return PieceFiles(
            audio if audio and Path(audio).is_file() else None, midi if midi and Path(midi).is_file() else None, present
        )

    def _wav(self, midi: str, path: Path) -> str | None:
        """The WAV of a piece, rendered again from its MIDI (the library keeps the MIDI and the player's audio, not
        the ten-times-larger WAV); None without a synthesizer or when the MIDI does not render (logged)."""
        synthesizer = self.shared.synthesizer
        if synthesizer is None:
            return None
        try:
            audio = synthesizer.render(load_pretty_midi(Path(midi).read_bytes()))
            return str(write_wav(path, audio, synthesizer.sample_rate))
        except Exception:  # noqa: BLE001 - the other files still download
            log.exception("could not render the WAV of %s", midi)
            return None

    def midi_copy(self, session_id: str | None, piece_id: Any) -> str:
        """A copy of the piece's MIDI in the session's cache, named after the piece (for another tab's upload box)."""
        piece = self.get(session_id, piece_id)
        midi = piece_midi(piece)
        if midi is None:
            raise InputError(f"“{piece.title}” has no MIDI file to open")
        target = self.shared.take_dir(session_id) / f"{file_title(piece.title)}.mid"
        shutil.copyfile(midi, target)
        return str(target)

    def latest_song(
        self, session_id: str | None, versions: int = 20, piece_id: Any = None
    ) -> tuple[Piece, list[tuple[int, str, LeadSheet]]] | None:
        """The owner's most recent song (or their song ``piece_id``) and its last ``versions`` versions as (number,
        what made it, tune), oldest first; None when they have no song (or it cannot be read back). An id that is
        not one of their songs is an :class:`InputError`."""
        if not self.available or not session_id:
            return None
        if piece_id is None:
            songs = self.library.list(self.shared.keeper.owner_of(session_id), tab="song", limit=1)
            if not songs:
                return None
            piece_id = songs[0].id
        piece = self.get(session_id, piece_id)
        if piece.tab != "song":
            raise InputError(f"“{piece.title}” is a {TAB_NAMES.get(piece.tab, piece.tab)} piece, not a song")
        out = []
        for version in piece.history[-versions:]:
            midi = version.files.get("song.mid")
            if midi is None:
                continue
            sheet = kept_melody(midi, piece.title, version.controls.get("parts_until"))
            out.append((version.number, version.note or "kept", sheet))
        return (piece, out) if out else None

    def latest_take(self, session_id: str | None, tab: str, look_back: int = 24) -> KeptTake | None:
        """The owner's most recent take in ``tab``: the newest piece made there and the others of the same click
        (same "take" control; pieces kept before takes were recorded come back alone), oldest first, with copies
        of their files; None without a library, a session or such a piece, or when the newest take was made in this
        very session (a click that finished before the page's restore did: it is on the page already, and the restore
        must not cover its status)."""
        if not self.available or not session_id:
            return None
        owner = self.shared.keeper.owner_of(session_id)
        recent = sorted(self.library.list(owner, tab=tab, limit=look_back), key=lambda p: p.created, reverse=True)
        if not recent:
            return None
        take = recent[0].controls.get("take")
        if self.shared.made_in_session(session_id, take):
            return None
        chosen = [p for p in recent if take is not None and p.controls.get("take") == take] or recent[:1]
        chosen.sort(key=lambda p: (p.created, p.controls.get("variation", 0)))
        return KeptTake(chosen, [self.files(session_id, p.id) for p in chosen])

    def compose_inputs(self, session_id: str | None, piece_id: Any) -> ComposeInputs:
        """What "Open in Compose" puts on the page: a Compose piece's own rhythm and chords; any other piece's
        melody rhythm and chords read from its MIDI."""
        piece = self.get(session_id, piece_id)
        controls = piece.controls
        if (
            piece.tab == "compose"
            and isinstance(controls.get("rhythm"), str)
            and isinstance(controls.get("chords"), str)
        ):
            bars = int(controls.get("num_bars", COMPOSE_BARS.low))
            return ComposeInputs(
                controls["rhythm"],
                controls["chords"],
                check_chords(controls["chords"]).bar_labels,
                bars,
                controls.get("key"),
                float(controls.get("tempo", 120.0)),
                f"{bars} bars, as composed",
            )
        midi = piece_midi(piece)
        if midi is None:
            raise InputError(f"“{piece.title}” has no MIDI file to open")
        sheet = read_source(midi.read_bytes(), title=piece.title)
        return sheet_to_rhythm_and_chords(sheet)
