"""Sampling helpers shared by the generators that draw one token at a time (the style GAN, MusAE)."""

from __future__ import annotations

import torch

MASK = -1e4  # a logit that softmax turns into 0 (finite: -inf turns 0 * inf into NaN in some losses)


def nucleus(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Logits (..., tokens) with every token outside the nucleus (the most likely tokens whose probabilities add up
    to ``top_p``; the most likely one always stays) set to MASK."""
    probs, order = logits.softmax(-1).sort(dim=-1, descending=True)
    outside = probs.cumsum(-1) - probs >= top_p  # the mass before a token already reaches top_p
    return logits.masked_fill(outside.scatter(-1, order, outside), MASK)
