"""The library store: owners kept apart, versions, search, quota, and a crash that leaves no half piece."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.library import Library, LibraryError, LibraryFull
from app.library.__main__ import main as library_cli

ROOT = Path(__file__).resolve().parents[3]


def _files(tmp_path: Path, name: str = "take", size: int = 100) -> dict[str, Path]:
    folder = tmp_path / "cache" / name
    folder.mkdir(parents=True, exist_ok=True)
    midi, audio = folder / "a.mid", folder / "a.ogg"
    midi.write_bytes(b"MThd" + os.urandom(size))
    audio.write_bytes(os.urandom(size * 2))
    return {"melody.mid": midi, "audio.ogg": audio}


@pytest.fixture
def library(tmp_path: Path, database_url: str | None) -> Library:
    """A library on each database the studio runs on: SQLite, then PostgreSQL (tests/app/library/conftest.py)."""
    lib = Library(tmp_path / "data", database_url=database_url)
    yield lib
    lib.close()


def test_save_list_get_round_trip(library: Library, tmp_path: Path) -> None:
    files = _files(tmp_path)
    piece = library.save("alice", "compose", "Variation 1", files, {"chords": "C G", "seed": 3}, {"ec2vae": "abc"})
    assert len(piece.id) == 32 and piece.num_versions == 1
    assert piece.controls == {"chords": "C G", "seed": 3}
    assert piece.latest.fingerprints == {"ec2vae": "abc"}
    for name, source in files.items():
        assert piece.files[name].read_bytes() == source.read_bytes()
        assert piece.files[name].resolve().is_relative_to(library.data_dir)
    # the library's copy does not change when the cache's file is rewritten in place
    files["melody.mid"].write_bytes(b"changed")
    assert library.get("alice", piece.id).files["melody.mid"].read_bytes() != b"changed"
    assert [p.id for p in library.list("alice")] == [piece.id]


def test_owners_never_see_each_others_pieces(library: Library, tmp_path: Path) -> None:
    mine = library.save("alice", "emotion", "Happy tune", _files(tmp_path))
    assert library.list("bob") == []
    for action in (
        lambda: library.get("bob", mine.id),
        lambda: library.rename("bob", mine.id, "stolen"),
        lambda: library.star("bob", mine.id),
        lambda: library.delete("bob", mine.id),
        lambda: library.save("bob", "song", "x", _files(tmp_path, "b"), piece_id=mine.id),
    ):
        with pytest.raises(LibraryError, match="No piece with id"):
            action()
    # a foreign id reads exactly like an id that does not exist
    with pytest.raises(LibraryError) as foreign:
        library.get("bob", mine.id)
    with pytest.raises(LibraryError) as missing:
        library.get("bob", "0" * 32)
    assert str(foreign.value).replace(mine.id, "ID") == str(missing.value).replace("0" * 32, "ID")
    assert library.get("alice", mine.id).title == "Happy tune"


@pytest.mark.parametrize("bad", ["../../etc/passwd", "x" * 5000, "", None, 7, "A" * 32, "0" * 31])
def test_bad_piece_ids_are_refused_by_name(library: Library, bad: object) -> None:
    with pytest.raises(LibraryError, match="No piece with id"):
        library.get("alice", bad)


def test_versions_keep_the_whole_history(library: Library, tmp_path: Path) -> None:
    song = library.save("alice", "song", "My song", _files(tmp_path, "v1"), {"bars": 4}, note="new song")
    library.save(
        "alice", "song", "My song", _files(tmp_path, "v2", 200), {"bars": 8}, piece_id=song.id, note="continued"
    )
    latest = library.get("alice", song.id)
    assert latest.num_versions == 2 and [v.note for v in latest.history] == ["new song", "continued"]
    assert latest.controls == {"bars": 8}
    assert latest.history[0].files["melody.mid"].is_file() and latest.history[1].files["melody.mid"].is_file()
    assert latest.history[0].files["melody.mid"].read_bytes() != latest.history[1].files["melody.mid"].read_bytes()
    assert len(library.list("alice")) == 1


def test_rename_star_delete_undelete_and_search(library: Library, tmp_path: Path) -> None:
    a = library.save("alice", "compose", "Morning", _files(tmp_path, "a"))
    time.sleep(0.01)
    b = library.save("alice", "emotion", "100% happy_tune", _files(tmp_path, "b"))
    assert [p.id for p in library.list("alice")] == [b.id, a.id]  # newest first
    assert [p.id for p in library.list("alice", "morn")] == [a.id]
    assert [p.id for p in library.list("alice", "EMOTION")] == [b.id]  # the tab matches too
    assert [p.id for p in library.list("alice", "100%")] == [b.id]  # % and _ are literal
    assert library.list("alice", "1_0") == []
    assert [p.id for p in library.list("alice", tab="compose")] == [a.id]
    assert library.rename("alice", a.id, "  Evening\n ").title == "Evening"
    assert library.star("alice", a.id).starred
    assert [p.id for p in library.list("alice", starred_only=True)] == [a.id]
    library.delete("alice", a.id)
    assert [p.id for p in library.list("alice")] == [b.id]
    with pytest.raises(LibraryError):
        library.get("alice", a.id)
    assert library.undelete("alice", a.id).title == "Evening"
    assert {p.id for p in library.list("alice")} == {a.id, b.id}


@pytest.mark.parametrize("title", ["", "   ", "x" * 121, 5, None])
def test_bad_titles_are_refused(library: Library, tmp_path: Path, title: object) -> None:
    piece = library.save("alice", "compose", "ok", _files(tmp_path))
    with pytest.raises(LibraryError, match="title"):
        library.rename("alice", piece.id, title)
    assert library.get("alice", piece.id).title == "ok"


def test_quota_says_when_full_and_purges_deleted_pieces_first(tmp_path: Path, database_url: str | None) -> None:
    lib = Library(tmp_path / "data", quota_bytes=1000, database_url=database_url)
    first = lib.save("alice", "compose", "one", _files(tmp_path, "1", 200))  # 604 bytes
    with pytest.raises(LibraryFull, match="Your library is full"):
        lib.save("alice", "compose", "two", _files(tmp_path, "2", 200))
    lib.save("bob", "compose", "bob's", _files(tmp_path, "3", 200))  # quota is per owner
    lib.delete("alice", first.id)
    second = lib.save("alice", "compose", "two", _files(tmp_path, "2", 200))  # purges the deleted piece
    assert [p.id for p in lib.list("alice")] == [second.id]
    assert not (lib.files_dir / first.files["melody.mid"].relative_to(lib.files_dir)).exists()
    lib.close()


def test_check_hides_rows_with_missing_files_and_removes_unfinished_folders(library: Library, tmp_path: Path) -> None:
    keep = library.save("alice", "compose", "keep", _files(tmp_path, "k"))
    broken = library.save("alice", "compose", "broken", _files(tmp_path, "b"))
    broken.files["audio.ogg"].unlink()
    owner_dir = keep.files["melody.mid"].parents[2]
    (owner_dir / ".tmp-abc").mkdir()
    (owner_dir / ("f" * 32) / "v1").mkdir(parents=True)  # files placed, row never committed
    (keep.files["melody.mid"].parents[1] / "v2").mkdir()  # a second version whose row never committed
    report = library.check()
    assert report.hidden == [broken.id]
    assert len(report.removed_folders) == 3
    assert [p.id for p in library.list("alice")] == [keep.id]
    assert library.check().clean


_WRITER = """
import sys, os, time
from pathlib import Path
from app.library import Library
lib = Library(sys.argv[1])
src = Path(sys.argv[2])
i = 0
while True:
    i += 1
    lib.save("alice", "song", f"take {i}", {"melody.mid": src / "a.mid", "audio.ogg": src / "big.bin"})
    print(i, flush=True)
"""


def test_kill_9_during_saves_leaves_no_half_piece(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.mid").write_bytes(b"MThd" + os.urandom(100))
    (src / "big.bin").write_bytes(os.urandom(3 * 2**20))  # copying takes a while: the kill lands mid-copy often
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(data), str(src)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    saved = 0
    assert proc.stdout is not None
    while saved < 5:
        line = proc.stdout.readline()
        assert line, "the writer stopped"
        saved = int(line)
    time.sleep(0.013)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lib = Library(data)
    report = lib.check()
    assert report.hidden == []  # no committed row lost its files
    pieces = lib.list("alice")
    assert len(pieces) >= saved  # every save that returned is kept
    for piece in pieces:
        assert piece.files["audio.ogg"].read_bytes() == (src / "big.bin").read_bytes()
    assert not [p for p in lib.files_dir.rglob("*") if p.name.startswith(".tmp-")]
    lib.close()


def test_cli_lists_every_piece_as_json(library: Library, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = library.save("alice", "compose", "A", _files(tmp_path, "a"))
    b = library.save("bob", "emotion", "B", _files(tmp_path, "b"))
    database = [] if library.engine.dialect.name == "sqlite" else ["--database", library.engine.url.render_as_string()]
    assert library_cli(["list", "--data-dir", str(library.data_dir), "--json", *database]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["id"], r["owner"], r["title"], r["tab"]) for r in rows} == {
        (a.id, "alice", "A", "compose"),
        (b.id, "bob", "B", "emotion"),
    }
    assert all(Path(path).is_file() for r in rows for path in r["files"].values())
    assert all(isinstance(r["created"], float) for r in rows)
    assert library_cli(["list", "--data-dir", str(tmp_path / "nowhere")]) == 2


def test_reassign_and_a_stable_browser_secret(library: Library, tmp_path: Path) -> None:
    early = library.save("session:abc", "compose", "made before the page said who", _files(tmp_path))
    assert library.reassign("session:abc", "browser:tok") == 1
    assert library.get("browser:tok", early.id).files["melody.mid"].is_file()
    assert library.list("session:abc") == []
    secret = library.browser_secret()
    assert len(secret) >= 32 and Library(library.data_dir).browser_secret() == secret
    assert oct((library.data_dir / "browser_secret").stat().st_mode & 0o777) == "0o600"


def test_two_processes_adding_versions_to_one_piece_never_share_a_number(
    tmp_path: Path, database_url: str | None
) -> None:
    if database_url is None:
        pytest.skip("across processes SQLite relies on the version's primary key: the second writer's save fails")
    import threading

    first = Library(tmp_path / "data", database_url=database_url)
    second = Library(tmp_path / "data", database_url=database_url)  # its own engine and lock: another process
    piece = first.save("alice", "song", "one song", _files(tmp_path, "0"))
    errors: list[BaseException] = []

    def add(lib: Library, name: str) -> None:
        try:
            for i in range(8):
                lib.save("alice", "song", "one song", _files(tmp_path, f"{name}{i}"), piece_id=piece.id)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=add, args=(lib, name)) for lib, name in ((first, "a"), (second, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    history = first.get("alice", piece.id).history
    assert [v.number for v in history] == list(range(1, 18))
    assert all(all(path.is_file() for path in v.files.values()) for v in history)
    first.close()
    second.close()


def test_the_start_check_leaves_young_folders_to_the_process_placing_them(library: Library, tmp_path: Path) -> None:
    keep = library.save("alice", "compose", "keep", _files(tmp_path, "k"))
    placing = keep.files["melody.mid"].parents[1] / "v2"  # another process is placing version 2 right now
    placing.mkdir()
    assert library.check(min_age_s=600).clean and placing.is_dir()
    old = time.time() - 3600
    os.utime(placing, (old, old))  # an hour later it is still there: that process died
    assert library.check(min_age_s=600).removed_folders == [str(placing.relative_to(library.data_dir))]


def test_a_database_url_that_is_not_one_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a database URL"):
        Library(tmp_path / "data", database_url="postgres ql:/nowhere")
