"""What every pipeline shares: seeded generators on the model's device, dataclass outputs, generation configs.

The contract (the diffusers / audiocraft habit), kept by every pipeline in this package:

* ``Pipeline.from_pretrained(path_or_name, device=None)``: a checkpoint folder, or ``"debug"`` for tiny untrained
  models that run every code path on a CPU in seconds;
* ``pipeline(..., num_bars, seed, num_samples, temperature=None)`` -> a dataclass output whose ``samples`` hold the
  results and ``seeds`` the seed of each (sample i uses seed + i); Explore keeps MusicVAE's verbs (``encode``,
  ``decode``, ``interpolate``, ...), each returning such an output too;
* ``pipeline.generation``: the family's :class:`GenerationConfig` (temperatures, penalties, prior scale), read from
  ``generation.json`` beside the checkpoint's ``config.json`` and overridable per call (``generation=...``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import torch

GENERATION_FILE = "generation.json"

T = TypeVar("T")
C = TypeVar("C", bound="GenerationConfig")


def seeded_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A random generator on ``device`` (the model's) seeded with ``seed``.

    Every draw a pipeline makes goes through one, on the device the model runs on, so the same seed gives the same
    piece run after run on that device (a CUDA generator's stream differs from the CPU's: the same seed gives another,
    equally repeatable, piece there).
    """
    return torch.Generator(device=torch.device(device)).manual_seed(int(seed))


@dataclass
class PipelineOutput(Generic[T]):
    """What a pipeline call returns: ``samples`` (one per variation) and the seed each was drawn with."""

    samples: list[T]
    seeds: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class GenerationConfig:
    """A model family's sampling settings. Subclasses add the fields; ``generation.json`` stores them."""

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Known fields only (JSON lists become tuples where the default is a tuple)."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name in known:
                values[name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def load(cls: type[C], directory: str | Path) -> C:
        """The settings stored beside a checkpoint (``generation.json``), or the defaults when it has none."""
        path = Path(directory) / GENERATION_FILE
        return cls.from_dict(json.loads(path.read_text())) if path.is_file() else cls()

    def save(self, directory: str | Path) -> Path:
        """Write ``generation.json`` into a checkpoint folder."""
        path = Path(directory) / GENERATION_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    def override(self: C, **changes: Any) -> C:
        """A copy with the given fields changed (None leaves a field as it is)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
