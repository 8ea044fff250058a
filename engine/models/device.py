"""Where the models run: CUDA when available (or asked for), else CPU."""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """'auto'/None -> cuda if available else cpu; otherwise the named device (checked)."""
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "--device cuda was asked for, but torch sees no CUDA GPU (is the CUDA build of torch installed?)"
        )
    return resolved


def use_single_cpu_thread() -> None:
    """Interactive inference: run torch on one CPU thread.

    The decoders step through 32 positions with small matrices, where a second
    thread costs more in synchronisation than it gains, and the web server needs
    the other core: measured here, an 8-bar compose took 50 ms with 1 thread and
    78 ms with 2. Process-wide, so call it once at start-up (the studio does).
    """
    torch.set_num_threads(1)
