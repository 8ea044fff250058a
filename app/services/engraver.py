"""Scores engraved beside the audio: music21's MusicXML writing on a worker process (or a thread).

Why a process: writing MusicXML with music21 is pure Python (about 0.25 s for an 8-bar, four-staff arrangement).
On a thread it holds the GIL while FluidSynth renders the audio, and the render's Python event loop, which gives the
GIL back at every FluidSynth call, then waits up to a switch interval each time to get it again: the render took
about 0.35 s instead of 0.08 s. Measured in-process (``ArrangeService.arrange``, English folk, 8 bars, 2-core CPU,
5 calls, twice): median 0.84 s with the thread, 0.50-0.55 s with the process.

The process is started with ``spawn`` (not ``fork``: the studio's process has torch's and Gradio's threads) on the
first job, or by :meth:`Engraver.warm`. If it dies, the job and every later one run on a thread instead.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

from app.worker_process import leave_with_parent
from engine.render.multitrack import piece_to_musicxml

log = logging.getLogger("cadenza.engraver")


# The warm-up job: one bar of one note. Jobs must live in light modules (engine.render here), since the worker
# imports a job's module before it runs it; a job from app.services would import every model with it.
WARM_UP_TOKENS = np.array([[60, 129, 129, 129]], dtype=np.int64)


class Engraver:
    """Runs engraving jobs (module-level functions of light modules, with picklable arguments) on one worker process
    (``in_process``) or on a thread.

    :meth:`submit` returns a Future with the job's return value or its exception, whichever way it ran.
    """

    def __init__(self, in_process: bool = False):
        self._threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cadenza-engrave")
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        if in_process:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=leave_with_parent,  # a studio stopped by a signal leaves no worker behind
            )
            weakref.finalize(self, self._pool.shutdown, True, cancel_futures=True)
        weakref.finalize(self, self._threads.shutdown, False)

    @property
    def in_process(self) -> bool:
        """Whether jobs go to the worker process (False once it has died, or when it was never asked for)."""
        return self._pool is not None

    def warm(self) -> Future:
        """Start the worker (if any) and engrave one bar there (music21 imported, its caches filled), so that the
        first user's score is not slower than the rest; the future holds that bar's MusicXML bytes."""
        return self.submit(piece_to_musicxml, WARM_UP_TOKENS, ("Warm-up",))

    def submit(self, work: Callable[..., Any], *args: Any) -> Future:
        """``work(*args)`` on the worker process, or on a thread when there is none or it has died."""
        with self._lock:
            pool = self._pool
        if pool is None:
            return self._threads.submit(work, *args)
        try:
            job = pool.submit(work, *args)
        except (BrokenProcessPool, RuntimeError) as err:  # RuntimeError: the pool was shut down
            self._give_up(err)
            return self._threads.submit(work, *args)
        result: Future = Future()

        def finish(done: Future) -> None:
            error = done.exception()
            if isinstance(error, BrokenProcessPool):
                self._give_up(error)
                again = self._threads.submit(work, *args)
                again.add_done_callback(lambda redone: _copy_outcome(redone, result))
            else:
                _copy_outcome(done, result)

        job.add_done_callback(finish)
        return result

    def _give_up(self, error: BaseException) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            log.warning("the engraving process stopped (%s): scores are engraved on a thread from now on", error)
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the worker and the thread (jobs already running finish; queued ones are cancelled)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            # Waits for the worker to exit: a pool left running is woken through a closed pipe at interpreter exit.
            pool.shutdown(wait=True, cancel_futures=True)
        self._threads.shutdown(wait=False)


def _copy_outcome(source: Future, target: Future) -> None:
    error = source.exception()
    if error is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())
