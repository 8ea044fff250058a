"""What a studio's worker process (the engraver's) does at start: leave when the studio does.

A worker started with ``spawn`` waits on a pipe from the studio. When the studio is stopped with SIGTERM (systemd,
``kill``, the benchmarks) or SIGKILL, Python's exit handlers never run, and the worker outlived it: each restart left
one more idle process of about 90 MB. :func:`leave_with_parent`, run as the pool's initializer, watches the parent's
pid from a daemon thread and ends the worker once the parent is gone. This module must stay light: the worker imports
it before anything else.
"""

from __future__ import annotations

import os
import threading

CHECK_EVERY_S = 1.0


def leave_with_parent(check_every_s: float = CHECK_EVERY_S) -> None:
    """Start a daemon thread that ends this process (``os._exit``) once its parent process has gone (it is then
    adopted by another, so ``os.getppid()`` changes)."""
    parent = os.getppid()

    def watch() -> None:
        stop = threading.Event()
        while not stop.wait(check_every_s):
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="cadenza-leave-with-parent", daemon=True).start()
