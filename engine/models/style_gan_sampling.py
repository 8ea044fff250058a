"""How the style GAN's logits become tokens: step by step, with a repeat penalty on each voice's last pitch, a leap
penalty on the top voice, a key penalty outside the window's key and chord, inside the nucleus (logit processors).
"""

from __future__ import annotations

import torch

from engine.models.sampling import nucleus
from engine.music.constants import HOLD, NUM_PITCH_TOKENS, REST
from engine.music.harmony import DIATONIC_SCALES, beat_pitch_class_counts


def last_onsets(previous: torch.Tensor | None, shape: tuple[int, ...]) -> torch.Tensor:
    """Per window and track (B, tracks), the pitch of the last onset in ``previous`` (B, tracks, steps) tokens, or -1
    where it has none (or there is no previous window)."""
    if previous is None:
        return torch.full(shape, -1, dtype=torch.long)
    steps = torch.arange(previous.shape[-1], device=previous.device)
    struck = previous < HOLD
    where = torch.where(struck, steps, -1).amax(dim=-1)  # (B, T): the last onset's step, -1 for none
    pitch = previous.gather(-1, where.clamp(min=0)[..., None])[..., 0]
    return torch.where(where >= 0, pitch, -1).cpu()


def key_scale(windows: torch.Tensor | None = None, chords: torch.Tensor | None = None) -> torch.Tensor:
    """(B, 12) bool: the diatonic scale that holds most of each window's sounding steps (``windows`` (B, tracks, steps)
    tokens) or of its chords' tones (``chords`` (B, beats, 12) chroma) (ties: the first scale from C)."""
    if windows is not None:
        counts = beat_pitch_class_counts(windows.cpu().numpy()).sum(axis=(1, 2))  # (B, 12)
    else:
        assert chords is not None, "key_scale needs windows or chords"
        counts = chords.float().cpu().numpy().sum(axis=1)
    return torch.as_tensor(DIATONIC_SCALES[(counts @ DIATONIC_SCALES.T).argmax(axis=1)] > 0)


def key_offsets(key: torch.Tensor, chords: torch.Tensor | None, steps: int, penalty: float) -> torch.Tensor:
    """Logit offsets (B, steps, 130): -``penalty`` for the pitches whose pitch class is neither in the window's ``key``
    (B, 12) nor in the chord at that step (``chords`` (B, beats, 12) chroma, or None), 0 elsewhere (HOLD, REST too)."""
    allowed = key[:, None, :].expand(-1, steps, -1)
    if chords is not None:
        allowed = allowed | (chords.detach().cpu().float().repeat_interleave(steps // chords.shape[1], dim=1) > 0)
    pitch_classes = torch.arange(HOLD) % 12  # tokens 0..127 are pitches
    out = torch.zeros(key.shape[0], steps, NUM_PITCH_TOKENS)
    out[..., :HOLD] = (~allowed[..., pitch_classes]).float() * -penalty
    return out


def bass_downbeat_offsets(chords: torch.Tensor, tracks: int, steps: int, steps_per_bar: int) -> torch.Tensor:
    """Logit offsets (B, tracks, steps, 130) that make the lowest voice (the last track) strike a tone of the chord at
    each bar's first step: every other token there (other pitches, HOLD, REST) is lowered by 1e4; 0 elsewhere, and
    where the chord is empty ("N.C."). ``chords``: (B, beats, 12) chroma per beat."""
    batch = chords.shape[0]
    per_step = chords.detach().cpu().float().repeat_interleave(steps // chords.shape[1], dim=1) > 0  # (B, S, 12)
    out = torch.zeros(batch, tracks, steps, NUM_PITCH_TOKENS)
    pitch_classes = torch.arange(HOLD) % 12
    for step in range(0, steps, steps_per_bar):
        tones = per_step[:, step]  # (B, 12)
        allowed = torch.zeros(batch, NUM_PITCH_TOKENS, dtype=torch.bool)
        allowed[:, :HOLD] = tones[:, pitch_classes]
        out[:, -1, step] = torch.where(tones.any(dim=1, keepdim=True) & ~allowed, -1e4, 0.0)
    return out


def draw_in_order(
    logits: torch.Tensor,
    gumbel: torch.Tensor | None,
    temperature: float,
    top_p: float,
    penalty: float,
    last: torch.Tensor,
    leap_penalty: float = 0.0,
    leap_cap: int = 10,
) -> torch.Tensor:
    """Tokens (B, tracks, steps) drawn step by step from logits (B, tracks, steps, 130), each track's logit for the
    pitch of its last onset (``last`` (B, tracks), -1: none yet) lowered by ``penalty``, and the top voice's (track 0)
    for every pitch by ``leap_penalty`` per semitone beyond a whole tone from it (up to ``leap_cap``), before the
    nucleus is taken; ``gumbel`` (the same shape as logits) samples at ``temperature``, None takes the most likely
    token."""
    last = last.to(logits.device)
    tokens = torch.empty(logits.shape[:-1], dtype=torch.long, device=logits.device)
    if leap_penalty > 0:  # row p + 1: the top voice's offsets after pitch p; row 0 (no pitch yet): none
        pitches = torch.arange(HOLD, device=logits.device)  # tokens 0..127 are pitches
        leaps = torch.zeros(HOLD + 1, NUM_PITCH_TOKENS, dtype=logits.dtype, device=logits.device)
        leaps[1:, :HOLD] = -leap_penalty * ((pitches[:, None] - pitches[None, :]).abs() - 2).clamp(min=0, max=leap_cap)
    for step in range(logits.shape[2]):
        row = logits[:, :, step].clone()
        known = last >= 0
        row.scatter_add_(-1, last.clamp(min=0)[..., None], torch.where(known, -penalty, 0.0)[..., None].to(row))
        if leap_penalty > 0:
            row[:, 0] += leaps[last[:, 0] + 1]
        if gumbel is not None:
            row = (nucleus(row, top_p) if top_p < 1.0 else row) / temperature + gumbel[:, :, step]
        token = row.argmax(dim=-1)
        tokens[:, :, step] = token
        last = torch.where(token < HOLD, token, last)
    return tokens


def clean_tokens(tokens: torch.Tensor) -> torch.Tensor:
    """Tokens (..., steps) with every HOLD that follows a REST, or opens the window, made a REST."""
    tokens = tokens.clone()
    for step in range(tokens.shape[-1]):
        orphan = tokens[..., step] == HOLD
        if step > 0:
            orphan &= tokens[..., step - 1] == REST
        tokens[..., step] = torch.where(orphan, torch.full_like(tokens[..., step], REST), tokens[..., step])
    return tokens
