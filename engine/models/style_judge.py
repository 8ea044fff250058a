"""The style judge: which style a four-track 2-bar window is in (a classifier trained on real windows only).

It judges every style generator (MusAE, the style GAN), so it is deliberately not built like
them: a convolutional network over time. Each step's four tokens are embedded (token embedding
shared by the tracks, plus a learned track embedding), the four track vectors are concatenated,
three dilated 1-D convolutions read 1, 2 and 4 steps apart, and mean- and max-pooling over the
window feed a linear layer with one logit per style.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.music.constants import NUM_PITCH_TOKENS


@dataclass
class StyleJudgeConfig:
    num_styles: int = 7
    tracks: int = 4
    embed: int = 32
    channels: int = 128
    dropout: float = 0.2

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> StyleJudgeConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @classmethod
    def debug(cls, num_styles: int = 7) -> StyleJudgeConfig:
        return cls(num_styles=num_styles, embed=8, channels=16)


class StyleJudge(nn.Module):
    """Windows (B, tracks, steps) of tokens -> style logits (B, num_styles)."""

    def __init__(self, config: StyleJudgeConfig):
        super().__init__()
        self.config = config
        self.tokens = nn.Embedding(NUM_PITCH_TOKENS, config.embed)
        self.track = nn.Parameter(torch.zeros(config.tracks, config.embed))
        width = config.tracks * config.embed
        self.convs = nn.ModuleList(
            nn.Conv1d(width if i == 0 else config.channels, config.channels, kernel_size=3, dilation=d, padding=d)
            for i, d in enumerate((1, 2, 4))
        )
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(2 * config.channels, config.num_styles)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """windows: (B, tracks, steps) long -> logits (B, num_styles)."""
        x = self.tokens(windows) + self.track[None, :, None, :]  # (B, T, S, E)
        b, t, s, e = x.shape
        x = x.permute(0, 1, 3, 2).reshape(b, t * e, s)  # tracks side by side as channels, time last
        for conv in self.convs:
            x = F.gelu(conv(x)) + (x if x.shape[1] == conv.out_channels else 0)
        pooled = torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)
        logits: torch.Tensor = self.out(self.dropout(pooled))
        return logits

    @torch.no_grad()
    def predict(self, windows: torch.Tensor) -> torch.Tensor:
        """The most likely style index per window, (B,)."""
        self.eval()
        logits: torch.Tensor = self(windows)
        return logits.argmax(dim=1)
