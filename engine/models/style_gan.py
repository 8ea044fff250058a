"""The style GAN: a convolutional generator of four-track 2-bar windows in a named style (MidiNet / MuseGAN-like)
with an AC-GAN critic (WGAN-GP score + style classifier).

Shapes (B windows, 4 tracks, 32 sixteenth steps, 8 beats, 130 tokens: engine.music.representation):

* **Conditions**, shared by generator and critic:
  - the style: indices (B,) or weights (B, num_styles) (a blend; the generator embeds it);
  - chords: chroma per beat (B, 8, 12), 1 where a pitch class belongs to the beat's chord;
    all zeros means "no chords" (the model is trained with chords dropped half the time);
  - the previous window: tokens (B, 4, 32) of the 2 bars before (MidiNet's "previous bar"
    condition); an all-REST window means "none" (its features are zeroed by a has-previous flag,
    so "none" is exact, whatever the conditioner makes of silence).
* **Generator** (:class:`StyleGenerator`): noise (B, noise_dims shared + 4 x track_noise_dims,
  MuseGAN's shared and per-track inputs) and the style embedding -> a linear layer to a (C, 4)
  map (time resolution 4 = half bars) -> three transposed convolutions doubling time
  (4 -> 8 -> 16 -> 32). Before every one, and at 32, the chord chroma (pooled or repeated to
  that resolution), its flag, and the previous-window conditioner's feature map at the same
  resolution are concatenated (MidiNet's 2-D conditioner: a mirror of the generator, here
  strided 1-D convolutions over the previous window's embedded tokens). Per-track ("private")
  grouped convolutions with each track's own noise give logits (B, 4, 32, 130): one categorical per
  track and step, so every track is monophonic by construction. Step 0's HOLD logit is masked
  (a window never begins by holding a note it does not contain). With ``bar_gate``, a **rest gate**
  reads each track's private features over each bar and gives the logit (B, 4, 2) of that bar
  resting whole: drawn once per bar, a rest the steps' own draws almost never make together (16
  RESTs in a row).
* **Critic** (:class:`StyleCritic`): one-hot windows (B, 4, 32, 130) (real, or the generator's
  relaxed samples) are projected per step and track (a linear map of the one-hot, i.e. an
  embedding that also accepts soft inputs) and read by convolutions over time down to one
  feature per beat (B, C, 8). The **style head** (AC-GAN) reads only these features of the window
  itself, never the conditions: the previous window has the same style, and a head allowed to
  read it would classify the condition rather than the music. The **score head** concatenates them
  with the previous window's features (same encoder, zeroed when there is none), the chord chroma
  per beat and both flags, and convolves down to one Wasserstein score.

Why a straight-through Gumbel-softmax between them: the generator's output is discrete, so its
argmax has no gradient; feeding the critic the softmax instead lets it separate real from fake by
how peaked the vectors are (real ones are exactly one-hot), whatever the music, and the
WGAN-GP critic does exactly that. The straight-through Gumbel-softmax (Jang et al. 2017) sends
a hard one-hot sample (the same kind of input as a real window) forward and the gradient of
its soft relaxation backward, and being a sample of the categorical rather than its mode, it
trains the whole distribution the generator puts on each step, not only its top token.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.models.draws import Generators, draw_rows
from engine.models.sampling import MASK, nucleus, range_mask, range_offsets
from engine.models.style_gan_layers import ChordSkip, PreviousConditioner, chords_at, has_previous
from engine.models.style_gan_sampling import (
    bass_downbeat_offsets,
    clean_tokens,
    draw_in_order,
    key_offsets,
    key_scale,
    last_onsets,
)
from engine.music.constants import HOLD, NUM_PITCH_TOKENS, REST, STEPS_PER_BAR_44, WINDOW_STEPS
from engine.music.harmony import window_triad_chroma

GATE_START = -5.0  # the rest gate's bias when it is added: sigmoid(-5) = 0.7% of bars resting whole


@dataclass
class StyleGANConfig:
    num_styles: int = 7
    tracks: int = 4
    noise_dims: int = 64  # shared by the tracks
    track_noise_dims: int = 16  # each track's own
    style_dims: int = 16
    gen_widths: tuple[int, int, int, int] = (256, 192, 128, 96)  # channels at time resolution 4, 8, 16, 32
    private_width: int = 64  # per-track channels of the last layers
    cond_embed: int = 16  # token embedding of the previous-window conditioner
    cond_channels: int = 64  # conditioner channels at every resolution
    critic_embed: int = 32
    critic_widths: tuple[int, int, int] = (128, 192, 256)  # channels at time resolution 32, 16, 8
    critic_joint: int = 256  # channels of the score head
    # Per style and track, the lowest and highest MIDI pitch the training windows (transposed) struck, or None for a
    # track that never plays in the style; generation strikes nothing outside (None here: no limit). See RangeMask.
    pitch_ranges: list | None = None
    # A rest gate per track and bar (see StyleGenerator.forward_with_gate); False in checkpoints trained before it.
    bar_gate: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> StyleGANConfig:
        # JSON stores the widths as lists; the dataclass wants tuples.
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in cls.__dataclass_fields__
        }
        return cls(**fields)

    @classmethod
    def debug(cls, num_styles: int = 7) -> StyleGANConfig:
        return cls(
            num_styles=num_styles,
            noise_dims=8,
            track_noise_dims=4,
            style_dims=4,
            gen_widths=(16, 16, 16, 16),
            private_width=8,
            cond_embed=4,
            cond_channels=8,
            critic_embed=4,
            critic_widths=(16, 16, 16),
            critic_joint=16,
        )

    @property
    def noise_size(self) -> int:
        """Length of one noise vector: the shared part, then each track's."""
        return self.noise_dims + self.tracks * self.track_noise_dims


class StyleGenerator(nn.Module):
    """Noise, style, chords and previous window -> logits (B, tracks, 32, 130) (see the module's docstring)."""

    step_mask: torch.Tensor  # a buffer (1, 1, 32, 130)
    bar_gate: nn.Conv1d | None
    ranges: torch.Tensor | None  # a buffer (or None): the pitch ranges per style and track

    def __init__(self, config: StyleGANConfig):
        super().__init__()
        self.config = config
        c = config
        w4, w8, w16, w32 = c.gen_widths
        cond = 13 + c.cond_channels + 1  # chroma + chord flag, previous-window features + its flag
        self.style = nn.Embedding(c.num_styles, c.style_dims)
        self.conditioner = PreviousConditioner(c)
        self.start = nn.Linear(c.noise_dims + c.style_dims, w4 * 4)
        self.start_norm = nn.GroupNorm(1, w4)
        ups, norms = [], []
        for w_in, w_out in ((w4, w8), (w8, w16), (w16, w32)):
            ups.append(nn.ConvTranspose1d(w_in + cond, w_out, 4, stride=2, padding=1))
            norms.append(nn.GroupNorm(1, w_out))  # per-window normalisation: no train/eval gap at batch 1
        self.ups, self.norms = nn.ModuleList(ups), nn.ModuleList(norms)
        self.shared = nn.Conv1d(w32 + cond, w32, 3, padding=1)
        self.shared_norm = nn.GroupNorm(1, w32)
        # Private layers: one group per track, each reading the shared map and its own noise.
        self.private = nn.Conv1d(
            c.tracks * (w32 + c.track_noise_dims), c.tracks * c.private_width, 3, padding=1, groups=c.tracks
        )
        self.out = nn.Conv1d(c.tracks * c.private_width, c.tracks * NUM_PITCH_TOKENS, 1, groups=c.tracks)
        mask = torch.zeros(1, 1, WINDOW_STEPS, NUM_PITCH_TOKENS)
        mask[0, 0, 0, HOLD] = MASK
        self.register_buffer("step_mask", mask, persistent=False)
        # Registered last, so the parameter order of checkpoints trained before it (and their optimizer states) holds.
        self.chord_skip = ChordSkip(c.tracks)
        if c.bar_gate:
            # One logit per track and bar from that track's features averaged over the bar. Starts nearly shut (a bar
            # rests whole with chance 0.7%), so adding it to a trained generator changes little until it learns.
            self.bar_gate = nn.Conv1d(c.tracks * c.private_width, c.tracks, 1, groups=c.tracks)
            nn.init.normal_(self.bar_gate.weight, std=1e-3)
            assert self.bar_gate.bias is not None  # a Conv1d has a bias unless told otherwise
            nn.init.constant_(self.bar_gate.bias, GATE_START)
        else:
            self.bar_gate = None
        # Sampling at temperature 1 from the nucleus still struck pitches no voice of the style ever plays (string
        # quartets at MIDI 1 and 127), where a track's distribution is flat: generation keeps to each track's range.
        if c.pitch_ranges is not None:
            self.register_buffer("ranges", range_mask(c.pitch_ranges, c.num_styles, c.tracks), persistent=False)
        else:
            self.ranges = None

    def style_embedding(self, style: torch.Tensor) -> torch.Tensor:
        """(B, style_dims) from indices (B,) or blend weights (B, num_styles)."""
        if style.is_floating_point():
            return style @ self.style.weight
        embedded: torch.Tensor = self.style(style)
        return embedded

    def sample_noise(self, batch: int, generator: Generators = None) -> torch.Tensor:
        """(batch, noise_size) standard normal noise, drawn on the generator's device (the CPU without one);
        ``generator``: one, or (generator, rows) groups (engine.models.draws)."""
        return draw_rows("randn", (batch, self.config.noise_size), generator, self.style.weight.device)

    def forward(
        self,
        noise: torch.Tensor,
        style: torch.Tensor,
        chords: torch.Tensor | None = None,
        previous: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits (B, tracks, 32, 130).

        noise (B, noise_size); style (B,) or (B, num_styles); chords (B, 8, 12) chroma per beat or None;
        previous (B, tracks, 32) tokens or None (all REST: none).
        """
        return self.forward_with_gate(noise, style, chords, previous)[0]

    def forward_with_gate(
        self,
        noise: torch.Tensor,
        style: torch.Tensor,
        chords: torch.Tensor | None = None,
        previous: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, tracks, 32, 130) as :meth:`forward`, and the rest gate's logits (B, tracks, 2): per track and
        bar, of the whole bar resting (None without ``bar_gate``)."""
        c = self.config
        b, device = noise.shape[0], noise.device
        shared_noise, track_noise = (
            noise[:, : c.noise_dims],
            noise[:, c.noise_dims :].reshape(b, c.tracks, c.track_noise_dims),
        )
        flag = has_previous(previous, b, device)
        if previous is None:
            previous = torch.full((b, c.tracks, WINDOW_STEPS), REST, dtype=torch.long, device=device)
        prev_maps = [m * flag[:, None, None] for m in self.conditioner(previous)]  # exactly zero when there is none

        def conditions(resolution: int, level: int) -> torch.Tensor:
            return torch.cat(
                [
                    chords_at(chords, b, resolution, device),
                    prev_maps[level],
                    flag[:, None, None].expand(-1, 1, resolution),
                ],
                dim=1,
            )

        x = self.start(torch.cat([shared_noise, self.style_embedding(style)], dim=1)).reshape(b, c.gen_widths[0], 4)
        x = F.relu(self.start_norm(x))
        for level, (up, norm) in enumerate(zip(self.ups, self.norms)):
            resolution = 4 * 2**level
            x = F.relu(norm(up(torch.cat([x, conditions(resolution, 3 - level)], dim=1))))
        x = F.relu(self.shared_norm(self.shared(torch.cat([x, conditions(WINDOW_STEPS, 0)], dim=1))))
        per_track = torch.cat(
            [x[:, None].expand(-1, c.tracks, -1, -1), track_noise[:, :, :, None].expand(-1, -1, -1, WINDOW_STEPS)],
            dim=2,
        )  # (B, T, C + N, S)
        x = F.relu(self.private(per_track.reshape(b, -1, WINDOW_STEPS)))
        logits = self.out(x).reshape(b, c.tracks, NUM_PITCH_TOKENS, WINDOW_STEPS).transpose(2, 3)
        if chords is not None:
            logits = logits + self.chord_skip(chords)
        gate = self.bar_gate(F.avg_pool1d(x, STEPS_PER_BAR_44)) if self.bar_gate is not None else None  # (B, T, bars)
        return logits + self.step_mask, gate

    def relaxed(self, logits: torch.Tensor, tau: float = 1.0, gate: torch.Tensor | None = None) -> torch.Tensor:
        """Straight-through Gumbel-softmax samples of logits: hard one-hot (B, tracks, 32, 130) forward, the soft
        relaxation's gradient backward (see the module's docstring). With the rest gate's logits (B, tracks, bars),
        each bar is also drawn resting whole or not (a straight-through Gumbel-sigmoid), and a resting bar's steps
        become RESTs (and a HOLD just after it a REST too: it would hold nothing)."""
        onehot = F.gumbel_softmax(logits, tau=tau, hard=True, dim=-1)
        if gate is None:
            return onehot
        u = torch.rand_like(gate).clamp_(1e-6, 1 - 1e-6)
        soft = torch.sigmoid((gate + torch.log(u) - torch.log1p(-u)) / tau)
        rests = (soft > 0.5).to(soft) - soft.detach() + soft  # (B, T, bars): 1 where the bar rests whole
        return rest_bars(onehot, rests)

    @torch.no_grad()
    def generate(
        self,
        style: torch.Tensor,
        chords: torch.Tensor | None = None,
        previous: torch.Tensor | None = None,
        temperature: float = 0.0,
        generator: Generators = None,
        noise: torch.Tensor | None = None,
        top_p: float = 1.0,
        harmonise: bool = True,
        repeat_penalty: float = 0.0,
        leap_penalty: float = 0.0,
        key_penalty: float = 0.0,
        leap_cap: int = 10,
        gate_drawn: bool = False,
        bass_on_chords: bool = False,
    ) -> torch.Tensor:
        """Windows (B, tracks, 32) of tokens: the most likely token per step (``temperature`` 0) or sampled at
        ``temperature`` from the smallest set of tokens whose probabilities add up to ``top_p`` (nucleus sampling;
        1.0: all). Step 0 is never HOLD, and a HOLD after a rest becomes a rest (it would hold nothing). With
        ``repeat_penalty`` or ``leap_penalty``, steps are drawn in order and each track's logit for the pitch it last
        struck (in this window, or else in ``previous``) is lowered by the first, and the top voice's for each pitch
        by the second per semitone beyond a whole tone from it (0 and 0: every step at once, as trained). With
        ``key_penalty``, the final draw's logits for pitches outside the window's key and outside the chord at that step
        are lowered by it (the key: the diatonic scale that holds most of the sketch's sounding steps, or of the given
        chords; :func:`key_scale`). The leap penalty grows up to ``leap_cap`` semitones beyond a whole tone. Every
        setting defaults to off (the generator as trained); the studio's come from its generation config
        (engine.pipelines.style_gan.StyleGANGenerationConfig). With a rest gate, a bar rests whole where the gate gives
        it over even odds (``gate_drawn``: with the gate's chance instead). ``bass_on_chords``: over chords given by
        the caller, the lowest voice strikes a tone of the bar's chord on each bar's first step
        (:func:`bass_downbeat_offsets`).

        ``harmonise``: a window given no chords is first drawn as a sketch, the triads that fit it are found
        (engine.music.harmony.window_triad_chroma, as the training chords were, but only among the triads of the
        sketch's key) and it is drawn again from the same noise over them (a track silent in the sketch stays
        silent). Each track samples its own token at every step, so
        without a shared harmony the voices clash: tonal distance between tracks 1.88 against the real 1.49 (held-out,
        all styles), 1.59 harmonised. Triads of one key keep the voices in it: at epoch 62, the share of a window's
        onsets in its best diatonic scale rose from 0.86-0.99 to 0.91-1.00 by style (real 0.93-0.99; 300 samples a
        style on seeds the evaluation does not use, against training windows), the judge's accuracy 0.942 to 0.948.
        """
        self.eval()
        b = style.shape[0]
        noise = self.sample_noise(b, generator) if noise is None else noise
        given = (
            torch.zeros(b, dtype=torch.bool, device=noise.device) if chords is None else (chords.flatten(1) > 0).any(1)
        )
        penalties = (repeat_penalty, leap_penalty, leap_cap, gate_drawn)
        if not harmonise or bool(given.all()):
            key = key_scale(chords=chords) if chords is not None and key_penalty > 0 else None
            downbeats = bass_on_chords and chords is not None
            return self._draw(
                noise, style, chords, previous, temperature, generator, top_p, *penalties, key, key_penalty, downbeats
            )
        sketch = self._draw(noise, style, chords, previous, temperature, generator, top_p, *penalties)
        fitted = torch.as_tensor(window_triad_chroma(sketch.cpu().numpy(), in_key=True), device=noise.device)
        chords = fitted if chords is None else torch.where(given[:, None, None], chords.float(), fitted)
        key = key_scale(windows=sketch) if key_penalty > 0 else None
        windows = self._draw(
            noise, style, chords, previous, temperature, generator, top_p, *penalties, key, key_penalty
        )
        # A track the sketch left silent stays silent: the chord skip would otherwise lift chord tones there, and a
        # solo Irish tune got a stray bass note in 0.5% of its bars.
        silent = (sketch == REST).all(dim=2, keepdim=True) & ~given[:, None, None]
        return windows.masked_fill(silent, REST)

    def _draw(
        self,
        noise: torch.Tensor,
        style: torch.Tensor,
        chords: torch.Tensor | None,
        previous: torch.Tensor | None,
        temperature: float,
        generator: Generators,
        top_p: float,
        repeat_penalty: float = 0.0,
        leap_penalty: float = 0.0,
        leap_cap: int = 10,
        gate_drawn: bool = False,
        key: torch.Tensor | None = None,
        key_penalty: float = 0.0,
        bass_downbeats: bool = False,
    ) -> torch.Tensor:
        """One draw of windows (B, tracks, 32) from the given noise and conditions (see :meth:`generate`); ``key``
        (B, 12) bool: the pitch classes of each window's key, those outside it (and outside the chord) lowered by
        ``key_penalty``; ``bass_downbeats``: the lowest voice strikes a chord tone on each bar's first step."""
        logits, gate = self.forward_with_gate(noise, style, chords, previous)
        if self.ranges is not None:  # a blend of styles (weights) may use the union of their ranges
            logits = logits + range_offsets(self.ranges, style)[:, :, None, :]
        if key is not None and key_penalty > 0:
            logits = logits + key_offsets(key, chords, logits.shape[2], key_penalty).to(logits)[:, None]
        if bass_downbeats and chords is not None:
            shape = logits.shape
            logits = logits + bass_downbeat_offsets(chords, shape[1], shape[2], STEPS_PER_BAR_44).to(logits)
        gumbel = None
        if temperature > 0:
            u = _uniform(logits.shape, generator).to(logits.device).clamp_(1e-9, 1 - 1e-9)
            gumbel = -torch.log(-torch.log(u))  # Gumbel-max: argmax(logits / T + gumbel) samples softmax(logits / T)
        if repeat_penalty > 0 or leap_penalty > 0:
            tokens = draw_in_order(
                logits,
                gumbel,
                temperature,
                top_p,
                repeat_penalty,
                last_onsets(previous, logits.shape[:2]),
                leap_penalty,
                leap_cap,
            )
        else:
            if gumbel is not None:
                logits = (nucleus(logits, top_p) if top_p < 1.0 else logits) / temperature + gumbel
            tokens = logits.argmax(dim=-1)
        if gate is not None:  # a bar rests whole where the gate gives it over even odds (gate_drawn: with its chance)
            if temperature > 0 and gate_drawn:
                u = _uniform(gate.shape, generator).to(gate.device)
                rests = u < torch.sigmoid(gate / temperature)
            else:
                rests = gate > 0
            tokens = tokens.masked_fill(rests.repeat_interleave(STEPS_PER_BAR_44, dim=2), REST)
        return clean_tokens(tokens)

    @torch.no_grad()
    def generate_chain(
        self,
        style: torch.Tensor,
        num_windows: int,
        chords: torch.Tensor | None = None,
        previous: torch.Tensor | None = None,
        temperature: float = 0.0,
        generator: Generators = None,
        top_p: float = 1.0,
        repeat_penalty: float = 0.0,
        leap_penalty: float = 0.0,
        key_penalty: float = 0.0,
        leap_cap: int = 10,
        gate_drawn: bool = False,
        bass_on_chords: bool = False,
    ) -> torch.Tensor:
        """``num_windows`` windows, each conditioned on the one before (the first on ``previous``, or none), joined:
        (B, tracks, 32 * num_windows). chords: (B, num_windows, 8, 12) chroma per beat, or None."""
        out = []
        for index in range(num_windows):
            window_chords = chords[:, index] if chords is not None else None
            previous = self.generate(
                style,
                window_chords,
                previous,
                temperature,
                generator,
                top_p=top_p,
                repeat_penalty=repeat_penalty,
                leap_penalty=leap_penalty,
                key_penalty=key_penalty,
                leap_cap=leap_cap,
                gate_drawn=gate_drawn,
                bass_on_chords=bass_on_chords,
            )
            out.append(previous)
        return torch.cat(out, dim=2)


def rest_bars(onehot: torch.Tensor, rests: torch.Tensor) -> torch.Tensor:
    """One-hot (or relaxed) windows (B, tracks, steps, 130) with each bar where ``rests`` (B, tracks, bars) is 1 made
    all REST, and a HOLD on the first step after such a bar made a REST; differentiable in both."""
    tokens = onehot.shape[-1]
    weight = rests.repeat_interleave(STEPS_PER_BAR_44, dim=2)[..., None]  # (B, T, S, 1)
    rest = torch.zeros(tokens, dtype=onehot.dtype, device=onehot.device)
    rest[REST] = 1.0
    out = onehot * (1 - weight) + rest * weight
    # The step after a resting bar: its HOLD (weighted by that bar's rest) moves to REST.
    after = torch.zeros_like(weight[..., 0])  # (B, T, S)
    after[..., STEPS_PER_BAR_44::STEPS_PER_BAR_44] = rests[..., :-1]
    moved = out[..., HOLD] * after
    hold_shift = torch.zeros_like(out)
    hold_shift[..., HOLD] = -moved
    hold_shift[..., REST] = moved
    return out + hold_shift


def _uniform(shape: torch.Size, generator: Generators) -> torch.Tensor:
    """Uniform noise in [0, 1) drawn on the generator's device (the CPU without one); per row group with groups."""
    return draw_rows("rand", shape, generator)
