"""Random draws for a batch whose rows belong to different requests, each with its own generator.

When several people's requests are decoded as one batch (engine.pipelines.batching), each must get exactly what it
would get alone, so each draws its noise from its own seed's generator, for its own rows, in the order it would alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

# How a batch's rows draw their randomness: one generator (or None: torch's global one) for every row, or a list of
# (generator, rows) groups in row order.
Generators = torch.Generator | None | Sequence[tuple[torch.Generator | None, int]]


def generator_groups(generator: Generators, rows: int) -> list[tuple[torch.Generator | None, int]]:
    """``generator`` as (generator, rows) groups covering ``rows`` rows (raises ValueError when they do not)."""
    if generator is None or isinstance(generator, torch.Generator):
        return [(generator, rows)]
    groups = list(generator)
    if sum(n for _, n in groups) != rows or any(n <= 0 for _, n in groups):
        raise ValueError(f"generator groups of {[n for _, n in groups]} rows do not cover a batch of {rows}")
    return groups


def draw_rows(
    draw: str, shape: Sequence[int], generator: Generators, device: torch.device | str | None = None
) -> torch.Tensor:
    """``torch.rand`` (``draw`` "rand") or ``torch.randn`` ("randn") of ``shape`` (rows first), each group's rows from
    its own generator and on its device, moved to ``device`` (None: left there)."""
    sample = torch.rand if draw == "rand" else torch.randn
    parts = []
    for group_generator, rows in generator_groups(generator, int(shape[0])):
        where = group_generator.device if group_generator is not None else None
        parts.append(sample((rows, *shape[1:]), generator=group_generator, device=where))
    out = parts[0] if len(parts) == 1 else torch.cat([p.to(parts[0].device) for p in parts])
    return out if device is None else out.to(device)
