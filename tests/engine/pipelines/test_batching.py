"""MicroBatcher: requests from many threads run together, each caller gets its own answer."""

import threading
import time

import pytest

from engine.pipelines.batching import MicroBatcher


def _many(batcher, requests):
    """Every request from its own thread, all released at once; the answers (or errors) in request order."""
    answers: list = [None] * len(requests)
    go = threading.Barrier(len(requests))

    def call(index, request):
        go.wait()
        try:
            answers[index] = batcher(request)
        except Exception as err:  # noqa: BLE001 - the test looks at it
            answers[index] = err

    threads = [threading.Thread(target=call, args=item) for item in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def test_each_caller_gets_its_own_answer_and_requests_share_batches():
    seen: list[list[int]] = []

    def run(batch):
        seen.append(list(batch))
        time.sleep(0.05)  # a model at work: the others arrive meanwhile
        return [x * x for x in batch]

    batcher = MicroBatcher(run, max_batch=4, window_s=0.01)
    assert _many(batcher, list(range(10))) == [x * x for x in range(10)]
    assert sorted(x for batch in seen for x in batch) == list(range(10))  # each request ran once
    assert max(len(b) for b in seen) > 1 and all(len(b) <= 4 for b in seen)
    assert batcher.stats.requests == 10 and batcher.stats.mean_size > 1 and batcher.waiting == 0


def test_a_bad_request_fails_alone_and_a_broken_batch_fails_its_callers():
    def run(batch):
        if "crash" in batch:
            raise RuntimeError("the model broke")
        return [ValueError(f"bad {x}") if x == "bad" else x.upper() for x in batch]

    batcher = MicroBatcher(run, max_batch=8, window_s=0.05)
    answers = _many(batcher, ["a", "bad", "c"])
    assert answers[0] == "A" and answers[2] == "C" and isinstance(answers[1], ValueError)
    assert isinstance(_many(batcher, ["crash"])[0], RuntimeError)
    assert batcher("after") == "AFTER"  # the batcher still works


def test_the_lock_is_held_while_a_batch_runs():
    lock = threading.Lock()
    held: list[bool] = []

    def run(batch):
        held.append(lock.locked())
        return batch

    assert MicroBatcher(run, lock=lock)(1) == 1 and held == [True]


def test_settings_are_checked():
    with pytest.raises(ValueError):
        MicroBatcher(lambda b: b, max_batch=0)
