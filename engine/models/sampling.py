"""Sampling helpers shared by the generators that draw one token at a time (the style GAN, MusAE)."""

from __future__ import annotations

import torch

from engine.music.constants import HOLD, NUM_PITCH_TOKENS

MASK = -1e4  # a logit that softmax turns into 0 (finite: -inf turns 0 * inf into NaN in some losses)


def nucleus(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Logits (..., tokens) with every token outside the nucleus (the most likely tokens whose probabilities add up
    to ``top_p``; the most likely one always stays) set to MASK."""
    probs, order = logits.softmax(-1).sort(dim=-1, descending=True)
    outside = probs.cumsum(-1) - probs >= top_p  # the mass before a token already reaches top_p
    return logits.masked_fill(outside.scatter(-1, order, outside), MASK)


def range_mask(pitch_ranges: list, num_styles: int, tracks: int) -> torch.Tensor:
    """(num_styles, tracks, 130) logit offsets: 0 for HOLD, REST and the pitches in the style's range for the track,
    MASK for the others (every pitch of a track with no range: it never plays in that style). ``pitch_ranges``: per
    style, per track, [lowest, highest] MIDI pitch or None (engine.data.style.pitch_ranges)."""
    mask = torch.full((num_styles, tracks, NUM_PITCH_TOKENS), MASK)
    mask[..., HOLD:] = 0.0
    for style, per_track in enumerate(pitch_ranges[:num_styles]):
        for track, limits in enumerate(per_track[:tracks]):
            if limits is not None:
                mask[style, track, int(limits[0]) : int(limits[1]) + 1] = 0.0
    return mask


def range_offsets(ranges: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """The offsets (B, tracks, 130) of :func:`range_mask`'s ``ranges`` for styles (B,), or for blends given as style
    weights (B, num_styles): the union of the ranges of the styles in the blend."""
    if style.is_floating_point():
        inside = ((style[:, :, None, None] > 0) & (ranges[None] == 0)).any(dim=1)  # (B, tracks, 130)
        return (~inside).float() * MASK
    return ranges[style]
