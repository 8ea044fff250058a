"""Where the models run: CUDA when available (or asked for), else CPU."""

from __future__ import annotations

import torch


def resolve_device(device: str | None = None) -> torch.device:
    """'auto'/None -> cuda if available else cpu; otherwise the named device (checked)."""
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but torch sees no CUDA GPU (is the CUDA build of torch installed?)")
    return resolved
