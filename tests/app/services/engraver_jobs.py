"""Jobs for the engraver's tests, in a module of their own: a worker process imports a job's module, and this one
imports nothing of the studio (the test module does)."""

from __future__ import annotations

import multiprocessing
import os


def where_am_i() -> int:
    return os.getpid()


def fail(message: str) -> None:
    raise ValueError(message)


def die_unless_on_a_thread() -> str:
    """Kills a worker process (as the OOM killer would); on the studio's own process it answers instead."""
    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return "engraved on a thread"
