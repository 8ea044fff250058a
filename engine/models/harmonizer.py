"""The chord suggester: a melody's chord slots (key-relative features) -> a chord class per slot.

A small bidirectional GRU reads the whole melody at once, so a slot's chord can depend on what comes before and
after it (the cadence at a phrase's end, a note that resolves in the next slot). Features and classes are those of
:mod:`engine.music.chord_vocab`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from engine.music.chord_vocab import NUM_CLASSES, NUM_FEATURES


@dataclass(frozen=True)
class HarmonizerConfig:
    num_features: int = NUM_FEATURES
    num_classes: int = NUM_CLASSES
    hidden: int = 160
    layers: int = 2
    dropout: float = 0.25

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> HarmonizerConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @classmethod
    def debug(cls) -> HarmonizerConfig:
        return cls(hidden=16, layers=1, dropout=0.0)


class ChordSuggester(nn.Module):
    """Slot features (B, S, num_features) and lengths (B,) -> chord-class logits (B, S, num_classes)."""

    def __init__(self, config: HarmonizerConfig):
        super().__init__()
        self.config = config
        self.inp = nn.Sequential(nn.Linear(config.num_features, config.hidden), nn.GELU(), nn.Dropout(config.dropout))
        self.rnn = nn.GRU(
            config.hidden,
            config.hidden,
            num_layers=config.layers,
            batch_first=True,
            bidirectional=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.out = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(2 * config.hidden, config.num_classes))

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.inp(features)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        y, _ = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=features.shape[1])
        logits: torch.Tensor = self.out(y)
        return logits
