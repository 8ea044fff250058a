"""The library of the user's pieces: one SQLite database and a folder of files, per studio data folder.

A **piece** is what a tab made (a Compose variation, a Song, an Emotion tune, a Style piece); it has one
or more **versions** (a song gains one with every continuation, infill or undo), each a folder of files
(MIDI, the player's audio, ABC, ...) with the controls that made it and the checkpoints' fingerprints.
Every row belongs to an **owner** (a browser's random token or a signed-in user name): every public
method takes the owner and never lets one owner list, read, change or delete another's pieces; another
owner's piece reads exactly like a piece that does not exist.

Crash safety: the database runs in WAL mode; a version's files are placed whole before its row is
committed (:func:`app.library.files.place_files`), so a ``kill -9`` at any moment leaves either the whole
version or none of it; :meth:`Library.check`, run at start, removes unfinished folders and hides rows
whose files went missing (reporting both).

The store speaks SQLAlchemy Core: SQLite in the data folder by default, or any database SQLAlchemy reaches by URL
(``database_url``, e.g. ``postgresql+psycopg://user@host/cadenza``), which several studio processes behind a proxy
share (docs/deploy.md). The files stay in ``data_dir/files``, a folder every process must see. Across processes:
adding a version locks its piece's row (``SELECT ... FOR UPDATE``) from reading its number to committing it, and the
start-up check leaves alone folders younger than ``min_age_s`` (another process may be placing them).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.library.files import TMP_PREFIX, place_files, remove_folder

log = logging.getLogger("cadenza.library")

DEFAULT_QUOTA_MB = 1000
MAX_TITLE_CHARS = 120
MAX_QUERY_CHARS = 200
MAX_LIST = 500
TABS = ("compose", "explore", "song", "emotion", "style", "arrange")
_PIECE_ID = re.compile(r"^[0-9a-f]{32}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class LibraryError(ValueError):
    """A library request that cannot be done; the message can be shown to the user as it is."""


class LibraryFull(LibraryError):
    """Saving would take an owner over their quota."""


metadata = sa.MetaData()

pieces = sa.Table(
    "pieces",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False, index=True),
    sa.Column("title", sa.String(MAX_TITLE_CHARS), nullable=False),
    sa.Column("tab", sa.String(16), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Column("starred", sa.Boolean, nullable=False, default=False),
    sa.Column("deleted", sa.Float, nullable=True),  # when it was deleted (undo is possible until it is purged)
    sa.Column("hidden", sa.String(200), nullable=True),  # why the check hid it (its files went missing)
    sa.Column("versions", sa.Integer, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),  # all versions' files
)

versions = sa.Table(
    "versions",
    metadata,
    sa.Column("piece", sa.String(32), sa.ForeignKey("pieces.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("note", sa.String(200), nullable=False),  # "new song", "continued 4 bars", ...
    sa.Column("files", sa.Text, nullable=False),  # JSON: stored name -> bytes
    sa.Column("controls", sa.Text, nullable=False),  # JSON: what the tab was asked
    sa.Column("fingerprints", sa.Text, nullable=False),  # JSON: model family -> checkpoint fingerprint
)


@dataclass
class Version:
    """One version of a piece: its files (stored name -> path on disk), controls and fingerprints."""

    number: int
    created: float
    note: str
    files: dict[str, Path]
    controls: dict[str, Any]
    fingerprints: dict[str, str]


@dataclass
class Piece:
    """A piece as its owner sees it: the newest version's files and controls, and the piece's history."""

    id: str
    owner: str
    title: str
    tab: str
    created: float
    updated: float
    starred: bool
    deleted: bool
    num_versions: int
    bytes: int
    latest: Version
    history: list[Version] = field(default_factory=list)  # oldest first; filled by Library.get

    @property
    def files(self) -> dict[str, Path]:
        return self.latest.files

    @property
    def controls(self) -> dict[str, Any]:
        return self.latest.controls

    def summary(self) -> dict[str, Any]:
        """What scripts and the API see: plain JSON values, file names without the server's folders."""
        return {
            "id": self.id,
            "owner": self.owner,
            "title": self.title,
            "tab": self.tab,
            "created": self.created,
            "updated": self.updated,
            "starred": self.starred,
            "deleted": self.deleted,
            "versions": self.num_versions,
            "bytes": self.bytes,
            "files": sorted(self.latest.files),
            "controls": self.latest.controls,
            "fingerprints": self.latest.fingerprints,
        }


@dataclass
class CheckReport:
    """What :meth:`Library.check` found and did at start."""

    pieces: int = 0
    hidden: list[str] = field(default_factory=list)  # piece ids whose files are missing
    removed_folders: list[str] = field(default_factory=list)  # unfinished or orphaned folders deleted

    @property
    def clean(self) -> bool:
        return not self.hidden and not self.removed_folders


def check_piece_id(piece_id: Any) -> str:
    """``piece_id`` when it is a piece id (32 hex digits); anything else is a :class:`LibraryError` naming it."""
    if isinstance(piece_id, str) and _PIECE_ID.match(piece_id):
        return piece_id
    shown = repr(piece_id) if len(repr(piece_id)) <= 40 else repr(piece_id)[:37] + "..."
    raise LibraryError(f"No piece with id {shown} in your library (ids are 32 hexadecimal digits)")


def check_title(title: Any) -> str:
    """A title as stored: text, control characters dropped, spaces trimmed, 1..MAX_TITLE_CHARS characters."""
    if not isinstance(title, str):
        raise LibraryError(f"A title must be text, got {type(title).__name__}")
    text = _CONTROL_CHARS.sub(" ", title).strip()
    if not text:
        raise LibraryError("A title cannot be empty")
    if len(text) > MAX_TITLE_CHARS:
        raise LibraryError(f"A title has at most {MAX_TITLE_CHARS} characters, got {len(text)}")
    return text


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class Library:
    """The pieces kept under ``data_dir`` (``library.sqlite3`` and ``files/``); see the module docstring.

    ``quota_bytes`` caps each owner's files (deleted pieces included until they are purged: saving into a
    full library purges that owner's deleted pieces first). Safe to share between threads.
    """

    def __init__(
        self, data_dir: str | Path, quota_bytes: int = DEFAULT_QUOTA_MB * 1024 * 1024, database_url: str | None = None
    ):
        if quota_bytes <= 0:
            raise ValueError(f"The library quota must be positive, got {quota_bytes} bytes")
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.files_dir = self.data_dir / "files"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.quota_bytes = int(quota_bytes)
        self.engine = database_engine(database_url, self.data_dir)
        metadata.create_all(self.engine)
        self._write_lock = threading.Lock()  # one writer at a time: quota checks and version numbers stay exact

    # -- paths ----------------------------------------------------------------------------

    def _folder(self, owner: str, piece_id: str, number: int) -> Path:
        """Where a version's files live: by piece id only (ids are random), so a piece can change owner in one row
        update (see :meth:`reassign`)."""
        return self._piece_dir(piece_id) / f"v{number}"

    def _piece_dir(self, piece_id: str) -> Path:
        return self.files_dir / piece_id[:2] / piece_id

    def _version(self, owner: str, row: Any) -> Version:
        folder = self._folder(owner, row.piece, row.number)
        return Version(
            number=row.number,
            created=row.created,
            note=row.note,
            files={name: folder / name for name in json.loads(row.files)},
            controls=json.loads(row.controls),
            fingerprints=json.loads(row.fingerprints),
        )

    # -- writing --------------------------------------------------------------------------

    def save(
        self,
        owner: str,
        tab: str,
        title: str,
        files: Mapping[str, str | Path],
        controls: Mapping[str, Any] | None = None,
        fingerprints: Mapping[str, str] | None = None,
        piece_id: str | None = None,
        note: str = "",
    ) -> Piece:
        """Keep ``files`` (stored name -> path) as a new piece, or as the next version of ``piece_id``.

        The files are placed whole, then the row is committed. Raises :class:`LibraryFull` when the owner's
        files would pass the quota (after purging their deleted pieces), :class:`LibraryError` for a bad tab,
        title, file name or piece id.
        """
        owner = _check_owner(owner)
        if tab not in TABS:
            raise LibraryError(f"Unknown tab {tab!r}: one of {', '.join(TABS)}")
        title = check_title(title)
        if not files:
            raise LibraryError("A piece needs at least one file")
        for name, path in files.items():
            if not _FILE_NAME.match(name):
                raise LibraryError(f"Bad file name {name!r} for the library")
            if not Path(path).is_file():
                raise LibraryError(f"The file {Path(path).name} to keep is missing")
        incoming = sum(Path(p).stat().st_size for p in files.values())
        now = time.time()
        with self._write_lock:
            with self.engine.begin() as db:
                used = self._usage(db, owner)
            if used + incoming > self.quota_bytes:
                self._purge_deleted(owner)
                with self.engine.begin() as db:
                    used = self._usage(db, owner)
                if used + incoming > self.quota_bytes:
                    raise LibraryFull(
                        f"Your library is full: {used / 2**20:.1f} MB of {self.quota_bytes / 2**20:.0f} MB used, and "
                        f"this piece needs {incoming / 2**20:.2f} MB. Delete some pieces to keep new ones"
                    )
            if piece_id is not None:
                piece_id = check_piece_id(piece_id)
            placed: Path | None = None
            try:
                with self.engine.begin() as db:
                    if piece_id is None:
                        piece_id, number = uuid.uuid4().hex, 1
                    else:  # the row stays locked until this version is committed: another process waits its turn
                        number = self._row(db, owner, piece_id, lock=True).versions + 1
                    sizes = place_files(files, self._folder(owner, piece_id, number))
                    placed = self._folder(owner, piece_id, number)
                    size = sum(sizes.values())
                    if number == 1:
                        db.execute(
                            pieces.insert().values(
                                id=piece_id,
                                owner=owner,
                                title=title,
                                tab=tab,
                                created=now,
                                updated=now,
                                starred=False,
                                deleted=None,
                                hidden=None,
                                versions=1,
                                bytes=size,
                            )
                        )
                    else:
                        db.execute(
                            pieces.update()
                            .where(pieces.c.id == piece_id)
                            .values(versions=number, bytes=pieces.c.bytes + size, updated=now, title=title)
                        )
                    db.execute(
                        versions.insert().values(
                            piece=piece_id,
                            number=number,
                            created=now,
                            note=note[:200],
                            files=_json(sizes),
                            controls=_json(dict(controls or {})),
                            fingerprints=_json(dict(fingerprints or {})),
                        )
                    )
            except BaseException:  # the row never committed: its files go too
                if placed is not None:
                    remove_folder(placed)
                raise
        return self.get(owner, piece_id)

    def rename(self, owner: str, piece_id: str, title: Any) -> Piece:
        """Give one of ``owner``'s pieces a new title (the piece is checked before the title)."""
        self.get(owner, piece_id)
        return self._update(owner, piece_id, title=check_title(title))

    def star(self, owner: str, piece_id: str, starred: bool = True) -> Piece:
        """Star (or unstar) one of ``owner``'s pieces."""
        return self._update(owner, piece_id, starred=bool(starred))

    def delete(self, owner: str, piece_id: str) -> Piece:
        """Delete a piece; its files stay until it is purged, so :meth:`undelete` brings it back."""
        return self._update(owner, piece_id, deleted=time.time())

    def undelete(self, owner: str, piece_id: str) -> Piece:
        """Bring back a piece deleted by :meth:`delete` (until it is purged)."""
        return self._update(owner, piece_id, deleted=None, allow_deleted=True)

    def _update(self, owner: str, piece_id: str, allow_deleted: bool = False, **values: Any) -> Piece:
        owner, piece_id = _check_owner(owner), check_piece_id(piece_id)
        with self._write_lock, self.engine.begin() as db:
            self._row(db, owner, piece_id, allow_deleted=allow_deleted)
            db.execute(pieces.update().where(pieces.c.id == piece_id).values(**values))
        return self.get(owner, piece_id, allow_deleted=True)

    def reassign(self, old_owner: str, new_owner: str) -> int:
        """Give every piece of ``old_owner`` to ``new_owner`` (a session that made pieces before its browser said who
        it is); returns how many moved."""
        old_owner, new_owner = _check_owner(old_owner), _check_owner(new_owner)
        if old_owner == new_owner:
            return 0
        with self._write_lock, self.engine.begin() as db:
            moved = db.execute(pieces.update().where(pieces.c.owner == old_owner).values(owner=new_owner))
        return int(moved.rowcount or 0)

    def browser_secret(self) -> str:
        """The key the page's owner tokens are encrypted with in the browser, kept in the data folder so that the
        browsers' tokens still read after a restart (created on first use, readable by this user only)."""
        path = self.data_dir / "browser_secret"
        if not path.is_file():
            temporary = path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32))
            try:
                os.link(temporary, path)  # never replaces a secret another process wrote first
            except FileExistsError:
                pass
            finally:
                temporary.unlink()
        return path.read_text().strip()

    def purge_deleted(self, owner: str | None = None, older_than_s: float = 0.0) -> int:
        """Remove for good the pieces deleted more than ``older_than_s`` seconds ago (all owners when None)."""
        with self._write_lock:
            return self._purge_deleted(owner, older_than_s)

    def _purge_deleted(self, owner: str | None, older_than_s: float = 0.0) -> int:
        cutoff = time.time() - older_than_s
        query = sa.select(pieces.c.id, pieces.c.owner).where(pieces.c.deleted.is_not(None), pieces.c.deleted <= cutoff)
        if owner is not None:
            query = query.where(pieces.c.owner == owner)
        with self.engine.begin() as db:
            doomed = list(db.execute(query))
            for row in doomed:
                db.execute(versions.delete().where(versions.c.piece == row.id))
                db.execute(pieces.delete().where(pieces.c.id == row.id))
        for row in doomed:  # rows first: a crash here leaves orphan folders, which check() removes
            remove_folder(self._piece_dir(row.id))
        return len(doomed)

    # -- reading --------------------------------------------------------------------------

    def _row(self, db: Any, owner: str, piece_id: str, allow_deleted: bool = False, lock: bool = False) -> Any:
        """``owner``'s piece row (``lock``: held until ``db``'s transaction ends, on databases that lock rows)."""
        query = sa.select(pieces).where(pieces.c.id == piece_id, pieces.c.owner == owner, pieces.c.hidden.is_(None))
        row = db.execute(query.with_for_update() if lock else query).first()
        if row is None or (row.deleted is not None and not allow_deleted):
            raise LibraryError(f"No piece with id {piece_id!r} in your library")
        return row

    def _piece(self, db: Any, row: Any, with_history: bool = False) -> Piece:
        rows = db.execute(
            sa.select(versions)
            .where(versions.c.piece == row.id, *(() if with_history else (versions.c.number == row.versions,)))
            .order_by(versions.c.number)
        ).all()
        history = [self._version(row.owner, v) for v in rows]
        return Piece(
            id=row.id,
            owner=row.owner,
            title=row.title,
            tab=row.tab,
            created=row.created,
            updated=row.updated,
            starred=bool(row.starred),
            deleted=row.deleted is not None,
            num_versions=row.versions,
            bytes=row.bytes,
            latest=history[-1],
            history=history if with_history else [],
        )

    def get(self, owner: str, piece_id: Any, allow_deleted: bool = False) -> Piece:
        """One of ``owner``'s pieces with its whole history; another owner's piece is "not in your library"."""
        owner, piece_id = _check_owner(owner), check_piece_id(piece_id)
        with self.engine.connect() as db:
            return self._piece(db, self._row(db, owner, piece_id, allow_deleted), with_history=True)

    def list(
        self,
        owner: str,
        query: Any = "",
        tab: Any = None,
        starred_only: bool = False,
        limit: int = MAX_LIST,
    ) -> list[Piece]:
        """``owner``'s pieces, newest change first: ``query`` matches the title or the tab (case ignored)."""
        owner = _check_owner(owner)
        if query is None:
            query = ""
        if not isinstance(query, str):
            raise LibraryError(f"The search must be text, got {type(query).__name__}")
        if len(query) > MAX_QUERY_CHARS:
            raise LibraryError(f"The search has at most {MAX_QUERY_CHARS} characters, got {len(query)}")
        if tab not in (None, "", *TABS):
            raise LibraryError(f"Unknown tab {tab!r}: one of {', '.join(TABS)}")
        select = sa.select(pieces).where(pieces.c.owner == owner, pieces.c.deleted.is_(None), pieces.c.hidden.is_(None))
        text = query.strip().lower()
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            select = select.where(
                sa.or_(
                    sa.func.lower(pieces.c.title).like(pattern, escape="\\"), pieces.c.tab.like(pattern, escape="\\")
                )
            )
        if tab:
            select = select.where(pieces.c.tab == tab)
        if starred_only:
            select = select.where(pieces.c.starred.is_(True))
        select = select.order_by(pieces.c.updated.desc()).limit(max(1, min(int(limit), MAX_LIST)))
        with self.engine.connect() as db:
            return [self._piece(db, row) for row in db.execute(select).all()]

    def usage(self, owner: str) -> int:
        """Bytes of ``owner``'s files (deleted pieces count until purged)."""
        with self.engine.connect() as db:
            return self._usage(db, _check_owner(owner))

    @staticmethod
    def _usage(db: Any, owner: str) -> int:
        total = db.execute(sa.select(sa.func.coalesce(sa.func.sum(pieces.c.bytes), 0)).where(pieces.c.owner == owner))
        return int(total.scalar_one())

    def all_pieces(self) -> list[Piece]:
        """Every visible piece of every owner, newest first (for ``python -m app.library list`` and backups)."""
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(pieces).where(pieces.c.hidden.is_(None)).order_by(pieces.c.updated.desc())
            ).all()
            return [self._piece(db, row) for row in rows]

    # -- start-up check -------------------------------------------------------------------

    def check(self, min_age_s: float = 0.0) -> CheckReport:
        """Remove unfinished and orphaned folders; hide rows whose files are missing. Run at start. Folders changed
        less than ``min_age_s`` seconds ago are left alone: another studio process sharing the library may be
        placing them (its row not yet committed)."""
        report = CheckReport()
        cutoff = time.time() - min_age_s
        with self._write_lock:
            with self.engine.connect() as db:
                rows = db.execute(sa.select(pieces.c.id, pieces.c.owner, pieces.c.hidden, pieces.c.versions)).all()
                known = {r.id: r.versions for r in rows}
                report.pieces = len(rows)
                for row in rows:
                    if row.hidden is not None:
                        continue
                    for v in db.execute(sa.select(versions).where(versions.c.piece == row.id)).all():
                        folder = self._folder(row.owner, row.id, v.number)
                        missing = [name for name in json.loads(v.files) if not (folder / name).is_file()]
                        if missing:
                            report.hidden.append(row.id)
                            break
            if report.hidden:
                with self.engine.begin() as db:
                    for piece_id in report.hidden:
                        db.execute(
                            pieces.update().where(pieces.c.id == piece_id).values(hidden="files missing at start")
                        )
            for shard in self.files_dir.iterdir() if self.files_dir.is_dir() else []:
                for entry in shard.iterdir() if shard.is_dir() else []:
                    if entry.name.startswith(TMP_PREFIX) or entry.name not in known:
                        if not _changed_since(entry, cutoff):
                            report.removed_folders.append(str(entry.relative_to(self.data_dir)))
                            shutil.rmtree(entry, ignore_errors=True)
                        continue
                    numbers = {f"v{n}" for n in range(1, known[entry.name] + 1)}
                    for folder in entry.iterdir():
                        # unfinished, or placed by a save whose row never committed
                        if folder.name not in numbers and not _changed_since(folder, cutoff):
                            report.removed_folders.append(str(folder.relative_to(self.data_dir)))
                            shutil.rmtree(folder, ignore_errors=True)
        for piece_id in report.hidden:
            log.warning("library: piece %s has missing files; hidden from its owner", piece_id)
        for removed in report.removed_folders:
            log.warning("library: removed the unfinished or orphaned folder %s", removed)
        return report

    def close(self) -> None:
        self.engine.dispose()


def _check_owner(owner: Any) -> str:
    if not isinstance(owner, str) or not owner or len(owner) > 200:
        raise LibraryError("No owner for this request: reload the page")
    return owner


def _changed_since(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime > cutoff
    except FileNotFoundError:  # removed meanwhile by another process
        return True


def database_engine(url: str | None, data_dir: Path) -> sa.Engine:
    """The library's database: ``library.sqlite3`` in ``data_dir`` (None), or the database at ``url`` (any SQLAlchemy
    URL; ``postgresql://`` uses psycopg 3). Raises ValueError naming a URL SQLAlchemy cannot read."""
    if url is None:
        engine = sa.create_engine(f"sqlite:///{data_dir / 'library.sqlite3'}")
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(f"--database {url!r} is not a database URL (e.g. postgresql://user@host/cadenza)") from None
    if parsed.drivername == "postgresql":  # SQLAlchemy's default driver is psycopg2; we ship psycopg 3
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(parsed, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL (readers never wait for the writer; a crash never corrupts the file) and a busy timeout."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
