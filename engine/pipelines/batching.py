"""Micro-batching: calls for one model from many threads, run together as one batch.

The studio's models decode step by step with small matrices: on these CPUs a batch of sixteen melodies costs about
three times one melody (``ComposePipeline.run_many``: 0.73 s for 16 requests against 2.47 s one by one), so when several
people press Generate at once they should share the work. :class:`MicroBatcher` gives each caller its own answer:

* A caller hands in its request and blocks. If no batch is running, it becomes the *leader*: it waits ``window_s``
  for others to arrive, takes up to ``max_batch`` waiting requests (oldest first) and runs them with ``run``; the
  others wait. Requests that arrive while a batch runs make up the next one, so under load the window is the time the
  previous batch took and nobody waits for a timer.
* ``run`` returns one result per request, in order; a result that is an exception is raised in its own caller only
  (bad input in one request never fails the others). An exception raised by ``run`` itself reaches every caller of
  that batch.
* ``lock`` (e.g. the studio's model lock) is held while a batch runs.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

DEFAULT_MAX_BATCH = 16  # requests decoded together at most (Compose: 16 cost 3.4x one on these CPUs)
# How long an idle model waits for company before it decodes a lone request (requests arriving while a batch runs make
# up the next one without waiting): a few milliseconds, nothing a person notices.
DEFAULT_WINDOW_S = 0.003

Request = TypeVar("Request")
Result = TypeVar("Result")


@dataclass
class _Waiting(Generic[Request]):
    request: Request
    done: bool = False
    outcome: Any = None  # the result, or the exception to raise


@dataclass
class BatchStats:
    """How the batches went: how many ran of each size (for ``make bench`` and the logs)."""

    sizes: Counter = field(default_factory=Counter)

    @property
    def batches(self) -> int:
        return sum(self.sizes.values())

    @property
    def requests(self) -> int:
        return sum(size * count for size, count in self.sizes.items())

    @property
    def mean_size(self) -> float:
        return self.requests / self.batches if self.batches else 0.0


class MicroBatcher(Generic[Request, Result]):
    """``batcher(request)`` -> that request's result, run in a batch with whatever other requests arrive with it.

    ``run(requests) -> results`` (one per request, in order; an exception in place of a result is raised in its
    caller); ``max_batch`` requests at most per batch; ``window_s`` seconds the leader waits for company before an
    idle model starts; ``lock`` held around each ``run``.
    """

    def __init__(
        self,
        run: Callable[[list[Request]], Sequence[Result | BaseException]],
        max_batch: int = 16,
        window_s: float = DEFAULT_WINDOW_S,
        lock: Any | None = None,
    ):
        if max_batch < 1 or window_s < 0:
            raise ValueError(f"max_batch must be >= 1 and window_s >= 0 (got {max_batch}, {window_s})")
        self._run = run
        self.max_batch = max_batch
        self.window_s = window_s
        self._lock = lock
        self._state = threading.Condition()
        self._waiting: list[_Waiting[Request]] = []
        self._running = False
        self.stats = BatchStats()

    def __call__(self, request: Request) -> Result:
        mine = _Waiting(request)
        with self._state:
            self._waiting.append(mine)
        while True:
            with self._state:
                while not mine.done and self._running:
                    self._state.wait()
                if mine.done:
                    break
                self._running = True  # this caller leads the next batch
            self._lead()
        if isinstance(mine.outcome, BaseException):
            raise mine.outcome
        return mine.outcome  # type: ignore[no-any-return]  # the result run gave for this request

    @property
    def waiting(self) -> int:
        """Requests handed in and not yet answered (the running batch's included)."""
        with self._state:
            return len(self._waiting)

    def _lead(self) -> None:
        """Wait for company, run one batch, hand out its results, let the next leader go."""
        batch: list[_Waiting[Request]] = []
        outcomes: Sequence[Any] = []
        try:
            if self.window_s:
                time.sleep(self.window_s)
            with self._state:
                batch = self._waiting[: self.max_batch]
            try:
                with self._lock if self._lock is not None else nullcontext():
                    outcomes = self._run([w.request for w in batch])
                if len(outcomes) != len(batch):
                    raise RuntimeError(f"a batch of {len(batch)} requests gave {len(outcomes)} results")
            except BaseException as err:  # noqa: BLE001 - every caller of this batch must hear it
                outcomes = [err] * len(batch)
        finally:
            with self._state:
                for waiting, outcome in zip(batch, outcomes):
                    waiting.outcome, waiting.done = outcome, True
                done = {id(w) for w in batch}
                self._waiting = [w for w in self._waiting if id(w) not in done]
                if batch:
                    self.stats.sizes[len(batch)] += 1
                self._running = False
                self._state.notify_all()
