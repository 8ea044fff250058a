"""The studio as `python app.py` runs it, with its library: owners kept apart through the API, pieces kept
across a restart, and a `kill -9` during a generation that leaves no half piece and loses none before it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from gradio_client import Client  # noqa: E402

from app.library import Library  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
GRID = "x...x...x...x...|x.....x...x....."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``python app.py --checkpoint debug`` on a free port, over ``data`` with two users."""

    def __init__(self, tmp: Path, data: Path, auth_file: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, "GRADIO_TEMP_DIR": str(tmp / "gradio"), "XDG_DATA_HOME": str(tmp / "xdg")}
        self.log = open(tmp / f"server_{self.port}.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "app.py", "--checkpoint", "debug", "--no-warmup", "--port", str(self.port)]
            + ["--data-dir", str(data), "--auth-file", str(auth_file)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(self.url, timeout=5):
                    break
            except OSError:
                assert self.proc.poll() is None, (tmp / f"server_{self.port}.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the studio did not start"
                time.sleep(0.3)

    def client(self, user: str, password: str) -> Client:
        return Client(self.url, auth=(user, password), verbose=False, download_files=False)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _list(client: Client, query: str = "") -> list[dict]:
    status, rows = client.predict(query, "All", False, api_name="/library_list")
    assert "cz-okay" in status, status
    return rows


def test_owners_restart_and_a_kill_9_during_a_generation(tmp_path: Path) -> None:
    data = tmp_path / "data"
    auth = tmp_path / "users.txt"
    auth.write_text("# two users\nann:pw-ann\nben:pw-ben\n")
    server = Server(tmp_path, data, auth)
    try:
        ann, ben = server.client("ann", "pw-ann"), server.client("ben", "pw-ben")
        made = ann.predict(grid_value=GRID, chords_text="C G7", num_bars=2, variations=2, api_name="/compose")
        assert "cz-okay" in made[0] and "kept in your Library" in made[0], made[0]
        mine = _list(ann)
        assert len(mine) == 2 and {row["tab"] for row in mine} == {"compose"}
        # ben sees none of ann's pieces and can do nothing with their ids
        assert _list(ben) == []
        for endpoint, args in (
            ("/library_get", (mine[0]["id"],)),
            ("/library_rename", (mine[0]["id"], "ben was here")),
            ("/library_delete", (mine[0]["id"],)),
        ):
            answer = ben.predict(*args, api_name=endpoint)
            assert "cz-error" in answer[0] and "No piece with id" in answer[0], answer[0]
        # bad ids and titles get a message naming what is wrong
        for piece_id in ("../../etc/passwd", "x" * 10_000, "", mine[0]["id"].upper()):
            answer = ann.predict(piece_id, api_name="/library_get")
            assert "cz-error" in answer[0] and "No piece with id" in answer[0], answer[0]
        answer = ann.predict(mine[0]["id"], "t" * 5000, api_name="/library_rename")
        assert "cz-error" in answer[0] and "title" in answer[0]
        got = ann.predict(mine[0]["id"], api_name="/library_get")
        assert got[1]["title"] == mine[0]["title"] and "owner" not in got[1]
        assert ".mid" in {Path(f["path"] if isinstance(f, dict) else f).suffix for f in got[2]}
        deleted = ann.predict(mine[1]["id"], api_name="/library_delete")
        assert "cz-okay" in deleted[0] and deleted[1]["deleted"] is True
        answer = ann.predict(mine[1]["id"], api_name="/library_get")
        assert "No piece with id" in answer[0]  # a deleted id reads as missing
        # a generation killed half way: no half piece, none lost
        job = ann.submit(grid_value=GRID, chords_text="C Am F G", num_bars=16, variations=4, api_name="/compose")
        time.sleep(1.15)
        server.stop(signal.SIGKILL)
        del job
    except BaseException:
        server.stop(signal.SIGKILL)
        raise
    library = Library(data)
    report = library.check()
    assert report.hidden == []  # every committed piece has all its files
    kept = library.list("user:ann")
    assert mine[0]["id"] in {p.id for p in kept} and mine[1]["id"] not in {p.id for p in kept}
    assert len(kept) in (1, 2, 3, 4, 5)  # the first piece plus any of the killed generation's that were committed
    for piece in kept:
        assert all(path.is_file() and path.stat().st_size > 0 for path in piece.files.values())
    assert not [p for p in library.files_dir.rglob(".tmp-*")]
    library.close()
    # a restart keeps everything
    server = Server(tmp_path, data, auth)
    try:
        again = _list(server.client("ann", "pw-ann"))
        assert [row["id"] for row in again] == [p.id for p in kept]
        assert _list(server.client("ben", "pw-ben")) == []
    finally:
        server.stop()
