"""The style GAN's conditioning: chords and the previous window as channels, MidiNet's conditioner, the chord skip."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.music.constants import BEATS_PER_WINDOW, HOLD, NUM_PITCH_TOKENS, REST, WINDOW_STEPS

if TYPE_CHECKING:  # the config's module builds these layers: imported for the annotations only
    from engine.models.style_gan import StyleGANConfig


def chords_at(chords: torch.Tensor | None, batch: int, resolution: int, device: torch.device) -> torch.Tensor:
    """Chord chroma per beat (B, 8, 12) (or None: no chords) as channels at a time resolution, with a flag
    channel (1 where the window has chords): (B, 13, resolution)."""
    if chords is None:
        return torch.zeros(batch, 13, resolution, device=device)
    x = chords.float().transpose(1, 2)  # (B, 12, 8)
    if resolution < BEATS_PER_WINDOW:
        x = F.avg_pool1d(x, BEATS_PER_WINDOW // resolution)
    elif resolution > BEATS_PER_WINDOW:
        x = x.repeat_interleave(resolution // BEATS_PER_WINDOW, dim=2)
    flag = (chords.flatten(1) > 0).any(dim=1).float()[:, None, None].expand(-1, 1, resolution)
    return torch.cat([x, flag], dim=1)


def has_previous(previous: torch.Tensor | None, batch: int, device: torch.device) -> torch.Tensor:
    """(B,) float: 1 where a previous window is given and is not all REST."""
    if previous is None:
        return torch.zeros(batch, device=device)
    return (previous != REST).flatten(1).any(dim=1).float()


class PreviousConditioner(nn.Module):
    """MidiNet's conditioner: the previous window's tokens -> feature maps at time resolution 32, 16, 8 and 4."""

    def __init__(self, config: StyleGANConfig):
        super().__init__()
        c = config
        self.tokens = nn.Embedding(NUM_PITCH_TOKENS, c.cond_embed)
        self.track = nn.Parameter(torch.zeros(c.tracks, c.cond_embed))
        self.first = nn.Conv1d(c.tracks * c.cond_embed, c.cond_channels, 3, padding=1)
        self.down = nn.ModuleList(nn.Conv1d(c.cond_channels, c.cond_channels, 4, stride=2, padding=1) for _ in range(3))

    def forward(self, previous: torch.Tensor) -> list[torch.Tensor]:
        """previous (B, tracks, 32) long -> [(B, C, 32), (B, C, 16), (B, C, 8), (B, C, 4)]."""
        x = self.tokens(previous) + self.track[None, :, None, :]  # (B, T, S, E)
        b, t, s, e = x.shape
        x = F.leaky_relu(self.first(x.permute(0, 1, 3, 2).reshape(b, t * e, s)), 0.2)
        maps = [x]
        for conv in self.down:
            x = F.leaky_relu(conv(x), 0.2)
            maps.append(x)
        return maps


class ChordSkip(nn.Module):
    """A skip from the chord condition to the pitch logits: a learned gain per track on every pitch token whose pitch
    class is in the step's chord. Through the convolutions alone the chords were learned slowly: after 2,400 steps,
    25-29% of onsets were chord tones with the chords given, 21% without (real windows: 95%, over the every-pitch-class
    chroma of that run)."""

    def __init__(self, tracks: int, gain: float = 1.0):
        super().__init__()
        self.gain = nn.Parameter(torch.full((tracks,), gain))

    def forward(self, chords: torch.Tensor) -> torch.Tensor:
        """chords (B, 8, 12) chroma per beat -> logit bias (B, tracks, 32, 130): ``gain`` on chord tones' pitch tokens,
        0 on other pitches, on HOLD and REST, and everywhere in a window without chords."""
        per_step = chords.float().repeat_interleave(WINDOW_STEPS // chords.shape[1], dim=1)  # (B, 32, 12)
        pitches = per_step[..., torch.arange(HOLD, device=chords.device) % 12]  # (B, 32, 128)
        tokens = F.pad(pitches, (0, NUM_PITCH_TOKENS - HOLD))
        return self.gain[None, :, None, None] * tokens[:, None]
