"""The voice infiller: a four-voice window with some (voice, step) cells masked -> a token for every cell.

Coconet's idea (Huang et al., 2017: orderless infilling of masked voices, sampled by repeatedly masking and
redrawing) on the studio's style windows: four tracks of 32 sixteenth steps in EC2-VAE's 130 tokens
(engine.music.representation). One model fills any mask, so it writes three voices under a given melody (Arrange),
redraws a single voice, or writes everything.

Conditions: the style, the window's chords (chroma per beat, as the style GAN's), and the last bar before the window
(``context`` steps of all four voices, known), so consecutive windows join up. Each step is one position of a
bidirectional transformer: its four cells' embeddings (token, or HIDDEN) are joined into one vector, so attention runs
over 48 positions, not 192, which is what lets it train on two CPU cores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from engine.music.constants import NUM_PITCH_TOKENS, TRACKS, WINDOW_STEPS

HIDDEN = NUM_PITCH_TOKENS  # the input token of a cell to fill


@dataclass(frozen=True)
class VoiceInfillConfig:
    num_styles: int = 7
    tracks: int = TRACKS
    steps: int = WINDOW_STEPS
    context: int = WINDOW_STEPS // 2  # the last steps of the window before that the model reads (one bar)
    dim: int = 128
    layers: int = 4
    heads: int = 4
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> VoiceInfillConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @classmethod
    def debug(cls) -> VoiceInfillConfig:
        return cls(dim=32, layers=1, heads=2, dropout=0.0)


class VoiceInfiller(nn.Module):
    """tokens (B, 4, 32) with HIDDEN cells, previous (B, 4, 32), chords (B, 8, 12), styles (B,) -> logits
    (B, 4, 32, 130) for every cell of the window."""

    def __init__(self, config: VoiceInfillConfig):
        super().__init__()
        self.config = config
        d, tracks = config.dim, config.tracks
        cell = d // tracks
        self.cell = nn.Embedding(NUM_PITCH_TOKENS + 1, cell)
        self.track = nn.Parameter(torch.zeros(tracks, cell))
        self.join = nn.Linear(tracks * cell, d)
        self.position = nn.Parameter(torch.randn(config.context + config.steps, d) * 0.02)  # context, then window
        self.style = nn.Embedding(config.num_styles, d)
        self.chord = nn.Linear(12, d)
        layer = nn.TransformerEncoderLayer(
            d, config.heads, 4 * d, config.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, tracks * NUM_PITCH_TOKENS)

    def forward(
        self, tokens: torch.Tensor, previous: torch.Tensor, chords: torch.Tensor, styles: torch.Tensor
    ) -> torch.Tensor:
        batch, tracks, steps = tokens.shape
        context = self.config.context
        both = torch.cat([previous[..., previous.shape[2] - context :], tokens], dim=2)  # (B, 4, context + 32)
        cells = self.cell(both) + self.track[None, :, None, :]  # (B, 4, context + 32, cell)
        x = self.join(cells.permute(0, 2, 1, 3).reshape(batch, context + steps, -1))  # (B, context + 32, d)
        beat = chords.shape[1]
        chord = self.chord(chords).repeat_interleave(steps // beat, dim=1)  # (B, 32, d): this window's chords
        x = x + self.position[None] + self.style(styles)[:, None, :]
        x = torch.cat([x[:, :context], x[:, context:] + chord], dim=1)
        y = self.norm(self.encoder(x))[:, context:]  # (B, 32, d): this window's positions
        logits: torch.Tensor = self.out(y).reshape(batch, steps, tracks, NUM_PITCH_TOKENS).permute(0, 2, 1, 3)
        return logits
