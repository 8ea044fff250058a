"""The style GAN's critic (AC-GAN: a WGAN-GP score and a style classifier) and its gradient penalty.

One-hot windows (B, 4, 32, 130) (real, or the generator's relaxed samples) are projected per step and track (a linear
map of the one-hot, i.e. an embedding that also accepts soft inputs) and read by convolutions over time down to one
feature per beat (B, C, 8). The **style head** (AC-GAN) reads only these features of the window itself, never the
conditions: the previous window has the same style, and a head allowed to read it would classify the condition rather
than the music. The **score head** concatenates them with the previous window's features (same encoder, zeroed when
there is none), the chord chroma per beat and both flags, and convolves down to one Wasserstein score.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.models.style_gan import StyleGANConfig
from engine.models.style_gan_layers import chords_at, has_previous
from engine.music.constants import BEATS_PER_WINDOW, NUM_PITCH_TOKENS


class StyleCritic(nn.Module):
    """One-hot windows (B, tracks, 32, 130) + conditions -> (Wasserstein score (B,), style logits (B, num_styles))."""

    def __init__(self, config: StyleGANConfig):
        super().__init__()
        self.config = config
        c = config
        w32, w16, w8 = c.critic_widths
        self.project = nn.Linear(NUM_PITCH_TOKENS, c.critic_embed, bias=False)  # an embedding that takes soft inputs
        self.track = nn.Parameter(torch.zeros(c.tracks, c.critic_embed))
        self.encoder = nn.ModuleList(
            [
                nn.Conv1d(c.tracks * c.critic_embed, w32, 3, padding=1),
                nn.Conv1d(w32, w16, 4, stride=2, padding=1),
                nn.Conv1d(w16, w8, 4, stride=2, padding=1),
            ]
        )
        self.style_head = nn.Linear(w8 * BEATS_PER_WINDOW, c.num_styles)
        self.joint = nn.Conv1d(2 * w8 + 13 + 1, c.critic_joint, 3, padding=1)
        self.joint_down = nn.Conv1d(c.critic_joint, c.critic_joint, 4, stride=2, padding=1)
        self.score_head = nn.Linear(c.critic_joint * BEATS_PER_WINDOW // 2, 1)

    def encode(self, onehot: torch.Tensor) -> torch.Tensor:
        """(B, tracks, 32, 130) one-hot (hard or soft) -> features per beat (B, C, 8)."""
        x: torch.Tensor = self.project(onehot) + self.track[None, :, None, :]
        b, t, s, e = x.shape
        x = x.permute(0, 1, 3, 2).reshape(b, t * e, s)
        for conv in self.encoder:
            x = F.leaky_relu(conv(x), 0.2)
        return x

    def forward(
        self, onehot: torch.Tensor, chords: torch.Tensor | None = None, previous: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """onehot (B, tracks, 32, 130); chords (B, 8, 12) or None; previous (B, tracks, 32) tokens or None.
        Returns (scores (B,), style logits (B, num_styles))."""
        b, device = onehot.shape[0], onehot.device
        features = self.encode(onehot)
        style_logits = self.style_head(features.flatten(1))
        flag = has_previous(previous, b, device)
        if previous is None:
            prev_features = torch.zeros_like(features)
        else:
            prev_features = self.encode(F.one_hot(previous, NUM_PITCH_TOKENS).float()) * flag[:, None, None]
        x = torch.cat(
            [
                features,
                prev_features,
                chords_at(chords, b, BEATS_PER_WINDOW, device),
                flag[:, None, None].expand(-1, 1, BEATS_PER_WINDOW),
            ],
            dim=1,
        )
        x = F.leaky_relu(self.joint(x), 0.2)
        x = F.leaky_relu(self.joint_down(x), 0.2)
        return self.score_head(x.flatten(1))[:, 0], style_logits

    def score(
        self, onehot: torch.Tensor, chords: torch.Tensor | None = None, previous: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The Wasserstein scores (B,) alone (what the gradient penalty differentiates)."""
        scores, _ = self.forward(onehot, chords, previous)
        return scores
