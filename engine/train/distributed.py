"""Data-parallel training: under torchrun (any number of machines) or spawned here (``--procs``).

* ``torchrun --nnodes N --nproc_per_node M -m engine.train MODEL ...`` sets RANK, WORLD_SIZE,
  LOCAL_RANK, MASTER_ADDR and MASTER_PORT in every process; :func:`torchrun_context` joins
  that group (NCCL on GPUs, gloo on CPUs) and gives each process its rank and device.
* ``--procs P`` on one machine: :func:`spawn` starts P CPU workers itself (gloo over
  loopback), each with one thread; the shortcut for a small CPU box.
Either way every rank takes ``batch[rank::world]`` of each batch, DDP averages the
gradients, and rank 0 alone validates, logs and saves.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Rank:
    """Where one training process stands: its rank, the world size and its device."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """True inside a process that torchrun (torch.distributed.run) started."""
    return "TORCHELASTIC_RUN_ID" in os.environ or (
        "RANK" in os.environ and "WORLD_SIZE" in os.environ and "LOCAL_RANK" in os.environ
    )


@contextmanager
def torchrun_context(device_name: str = "auto") -> Iterator[Rank]:
    """Join torchrun's process group for the duration of the block -> this process's Rank."""
    import torch.distributed as dist

    from engine.models.device import resolve_device

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield Rank(dist.get_rank(), dist.get_world_size(), device)
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    """A TCP port free on the loopback interface now (for the spawned workers' rendezvous)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _exit_with_launcher(poll_seconds: float = 2.0) -> None:
    """Stop this worker when the launching process dies (e.g. it was killed with SIGTERM):
    an orphaned worker would otherwise go on training and writing into the same folder."""
    launcher = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != launcher:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-launcher").start()


def _spawned_worker(
    index: int, fn: Callable[..., Any], procs: int, port: int, threads: int | None, args: tuple
) -> None:
    import torch.distributed as dist

    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    _exit_with_launcher()
    torch.set_num_threads(threads or 1)
    dist.init_process_group("gloo", rank=index, world_size=procs)
    try:
        fn(*args, Rank(index, procs, torch.device("cpu")))
    finally:
        dist.destroy_process_group()


def spawn(fn: Callable[..., Any], procs: int, args: tuple, threads: int | None = None) -> None:
    """Run ``fn(*args, rank)`` in ``procs`` CPU processes joined by gloo over loopback; waits for all."""
    import torch.multiprocessing as mp

    mp.spawn(_spawned_worker, args=(fn, procs, free_port(), threads, args), nprocs=procs, join=True)


def barrier(rank: Rank) -> None:
    """Wait for every rank (no-op when training alone)."""
    if rank.world > 1:
        import torch.distributed as dist

        dist.barrier()


def wrap_model(model: torch.nn.Module, rank: Rank) -> torch.nn.Module:
    """The module to call for training: DDP around ``model`` when there are several ranks."""
    if rank.world == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if rank.device.type == "cuda":
        return DistributedDataParallel(model, device_ids=[rank.device.index])
    return DistributedDataParallel(model)
