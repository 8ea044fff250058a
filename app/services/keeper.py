"""Every result goes to its owner's library as it is made: who the owner of a session is, and the saving itself.

A browser session's **owner** is the signed-in user name when the studio runs with ``--auth``
(``"user:NAME"``), else the random token the browser keeps (``"browser:TOKEN"``, registered by the page
when it loads, see :meth:`Keeper.register`); a client that never loaded the page (the API) owns what it
makes in that session only (``"session:HASH"``).

:meth:`Keeper.keep` never raises: a result that could not be kept still reaches the user, with a note
saying why it is not in the library (full, or an error, logged).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.library import Library, LibraryError, LibraryFull

log = logging.getLogger("cadenza.library")

_TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Kept:
    """What happened to a result: its piece id in the library (None: not kept) and a line for the status."""

    piece_id: str | None
    note: str


NOT_KEPT = Kept(None, "")


def new_token() -> str:
    """A browser's owner token: 128 random bits as 32 hex digits."""
    return secrets.token_hex(16)


def audio_name(path: str | Path | None, stem: str = "audio") -> str:
    """The library's name for an audio file: ``stem`` with the file's own suffix ("audio.ogg")."""
    return stem + (Path(path).suffix if path else "")


def folder_fingerprint(folder: str | Path) -> str:
    """A short fingerprint of a checkpoint folder: SHA-256 over its weights and configs (names and bytes)."""
    path = Path(folder)
    if not path.is_dir():
        return str(folder)  # "debug" or a missing folder: the name says it
    digest = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".json") and p.is_file()):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


class Keeper:
    """Saves results into ``library`` (None: the studio keeps nothing) for their session's owner."""

    def __init__(self, library: Library | None = None, checkpoints: Mapping[str, str | Path] | None = None):
        self.library = library
        # family -> checkpoint folder ("debug" for the tiny models); fingerprinted on first use, not at start-up
        # (hashing every shipped checkpoint reads tens of MB before the page can open)
        self.checkpoints = dict(checkpoints or {})
        self._fingerprints: dict[str, str] = {}
        self._owners: dict[str, str] = {}
        self._songs: dict[str, str] = {}  # session -> the library piece its current song is kept in
        self._lock = threading.Lock()
        self._secret = secrets.token_urlsafe(32)  # without a library: tokens read until this process ends

    @property
    def enabled(self) -> bool:
        return self.library is not None

    def fingerprint(self, family: str) -> str:
        """The fingerprint of ``family``'s checkpoint folder (computed once), "unknown" when the studio has none."""
        if family not in self._fingerprints:
            folder = self.checkpoints.get(family)
            self._fingerprints[family] = "unknown" if folder is None else folder_fingerprint(folder)
        return self._fingerprints[family]

    # -- owners -----------------------------------------------------------------------------

    def register(self, session_id: str | None, token: Any = None, username: str | None = None) -> str:
        """Record whose session this is; returns the browser's token (a new one when ``token`` is not one).

        Pieces the session made before (a click faster than the page's load event) go to the owner."""
        token = token if isinstance(token, str) and _TOKEN.match(token) else new_token()
        owner = f"user:{username}" if username else f"browser:{token}"
        if session_id:
            with self._lock:
                self._owners[session_id] = owner
            if self.library is not None:
                try:
                    self.library.reassign(f"session:{session_id}", owner)
                except Exception:  # noqa: BLE001 - the page still loads; those pieces stay with the session
                    log.exception("library: could not hand a session's pieces to their owner")
        return token

    def browser_secret(self) -> str:
        """The key the browser's owner token is encrypted with: the library's (stable across restarts), else one
        for this process."""
        if self.library is not None:
            return self.library.browser_secret()
        return self._secret

    def sign_in(self, session_id: str | None, username: str | None) -> None:
        """With ``--auth``, the signed-in user owns the session (API calls included)."""
        if session_id and username:
            with self._lock:
                self._owners[session_id] = f"user:{username}"

    def owner_of(self, session_id: str | None) -> str:
        """The owner of a session's pieces (see the module docstring)."""
        with self._lock:
            owner = self._owners.get(session_id or "")
        return owner or f"session:{session_id or 'none'}"

    def forget(self, session_id: str | None) -> None:
        """Drop a closed session's records (its pieces stay in the library)."""
        with self._lock:
            self._owners.pop(session_id or "", None)
            self._songs.pop(session_id or "", None)

    # -- saving -----------------------------------------------------------------------------

    def keep(
        self,
        session_id: str | None,
        tab: str,
        title: str,
        files: Mapping[str, str | Path | None],
        controls: Mapping[str, Any],
        families: tuple[str, ...] = (),
        piece_id: str | None = None,
        note: str = "",
    ) -> Kept:
        """Save one result (``files``: stored name -> path; None entries are left out); never raises.

        Nothing is kept without a session (the warm-up, scripts calling the services directly)."""
        if self.library is None or not session_id:
            return NOT_KEPT
        present = {name: path for name, path in files.items() if path is not None}
        fingerprints = {family: self.fingerprint(family) for family in families}
        try:
            piece = self.library.save(
                self.owner_of(session_id), tab, title, present, controls, fingerprints, piece_id=piece_id, note=note
            )
        except LibraryFull as err:
            return Kept(None, f"Not kept in your library: {err}")
        except LibraryError as err:
            log.warning("library: could not keep a %s result: %s", tab, err)
            return Kept(None, f"Not kept in your library: {err}")
        except Exception:  # noqa: BLE001 - the result still reaches the user
            log.exception("library: could not keep a %s result", tab)
            return Kept(None, "Not kept in your library: the library could not be written (see the server log)")
        version = f" (version {piece.num_versions})" if piece.num_versions > 1 else ""
        return Kept(piece.id, f"Kept in your library as “{piece.title}”{version}")

    def keep_song(
        self,
        session_id: str | None,
        title: str,
        files: Mapping[str, str | Path | None],
        controls: Mapping[str, Any],
        note: str,
        new_song: bool,
    ) -> Kept:
        """Keep a song version: a new piece for a new or loaded song, else the next version of the session's song."""
        key = session_id or ""
        with self._lock:
            piece_id = None if new_song else self._songs.get(key)
        kept = self.keep(session_id, "song", title, files, controls, ("ec2vae", "latent"), piece_id, note)
        if kept.piece_id is None and piece_id is not None and self.library is not None:
            # the song's piece went (deleted in the Library): keep this version as a new piece
            kept = self.keep(session_id, "song", title, files, controls, ("ec2vae", "latent"), None, note)
        if kept.piece_id is not None:
            with self._lock:
                self._songs[key] = kept.piece_id
        return kept

    def continue_song(self, session_id: str | None, piece_id: str) -> None:
        """Make ``piece_id`` the song the session's next versions are kept in (a song opened from the library)."""
        with self._lock:
            self._songs[session_id or ""] = piece_id
