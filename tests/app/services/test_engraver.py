"""The engraver runs score-writing jobs on a worker process (or a thread) and survives the worker's death."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

from app.services.engraver import Engraver
from engine.render.multitrack import piece_to_musicxml, write_musicxml
from tests.app.services.engraver_jobs import die_unless_on_a_thread, fail, where_am_i


def four_voices(steps: int = 32) -> np.ndarray:
    tokens = np.full((4, steps), 129, dtype=np.int64)  # 129: hold
    for voice, pitch in enumerate((72, 64, 55, 48)):
        tokens[voice, ::8] = pitch + np.arange(steps // 8) % 3
    return tokens


def test_on_a_thread_jobs_run_in_this_process():
    engraver = Engraver(in_process=False)
    assert not engraver.in_process
    assert engraver.submit(where_am_i).result(timeout=30) == os.getpid()
    with pytest.raises(ValueError, match="no such chord"):
        engraver.submit(fail, "no such chord").result(timeout=30)
    engraver.close()


def test_in_process_the_score_is_the_same_and_written_elsewhere(tmp_path):
    engraver = Engraver(in_process=True)
    try:
        assert b"Warm-up" in engraver.warm().result(timeout=60)
        assert engraver.submit(where_am_i).result(timeout=30) != os.getpid()
        tokens = four_voices()
        path = engraver.submit(write_musicxml, tmp_path / "a.musicxml", tokens).result(timeout=60)
        here = piece_to_musicxml(tokens)
        there = path.read_bytes()
        # Identical apart from music21's per-run object ids and the encoding date.
        strip = re.compile(rb'\sid="[^"]*"|<encoding-date>[^<]*</encoding-date>')
        assert strip.sub(b"", there) == strip.sub(b"", here)
        with pytest.raises(ValueError, match="bad bar"):
            engraver.submit(fail, "bad bar").result(timeout=30)
        assert engraver.in_process  # an error in a job is the job's, not the worker's
    finally:
        engraver.close()


def test_when_the_worker_dies_the_job_and_the_next_run_on_a_thread():
    engraver = Engraver(in_process=True)
    try:
        assert engraver.submit(die_unless_on_a_thread).result(timeout=60) == "engraved on a thread"
        assert not engraver.in_process
        assert engraver.submit(where_am_i).result(timeout=30) == os.getpid()
    finally:
        engraver.close()


def _gone(pid: int) -> bool:
    """Whether a process has ended (no such process, or a zombie nobody has reaped yet)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_the_worker_leaves_when_the_studio_is_killed():
    """A studio stopped by SIGKILL (or SIGTERM: no exit handlers run either way) leaves no engraving process behind."""
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import time\n"
        "from app.services.engraver import Engraver\n"
        "from tests.app.services.engraver_jobs import where_am_i\n"
        "print('worker', Engraver(in_process=True).submit(where_am_i).result(timeout=120), flush=True)\n"
        "time.sleep(600)\n"
    )
    studio = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        # Libraries may print on import (pyfluidsynth names the library it found): the worker's line is marked
        line = next(line for line in studio.stdout if line.startswith("worker "))
        worker = int(line.split()[1])
        assert worker != studio.pid and not _gone(worker)
    finally:
        studio.send_signal(signal.SIGKILL)
        studio.wait(30)
    deadline = time.monotonic() + 20
    while not _gone(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _gone(worker)
