"""MusAE: an adversarial autoencoder over four-track windows whose latent prior is a mixture of styles.

After Valenti, Carta and Bacciu (ECAI 2020), smaller so it trains on two CPU cores:

* **Encoder**: each step's four tokens are embedded (one token table, plus a track embedding),
  side by side, and read by a 2-layer bidirectional GRU; its last states give ``z`` (and, in the
  VAE baseline, a log-variance).
* **Decoder**: one GRU per track, autoregressive over the 32 steps, fed at every step with ``z``,
  the style code (one-hot) and the track's previous token; 130 logits per step. Or, with ``joint``,
  one GRU for all four tracks (:class:`JointDecoder`), each track hearing every track's past and the
  tracks above it at the same step.
* **Prior** (:meth:`MusAE.prior_sample`): a Gaussian mixture with one component per style. The
  component means sit on a circle of radius ``prior_radius`` in the first two latent dimensions
  (zero in the others); every component has unit variance, so the other dimensions keep room
  for the music (the paper's small variance elsewhere would leave two dimensions to encode it).
* **Critic** (:class:`LatentCritic`): a 2-layer MLP on z with one head per style, scoring encoder
  codes against samples of their style's component (WGAN-GP), so each style's windows fill their own
  component. The style code is the window's label: every training window has one.

``kind="vae"`` makes the baseline: the same encoder and decoder, with a Gaussian posterior and a
KL term to N(0, I) instead of the critic.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.models.sampling import nucleus, range_mask, range_offsets
from engine.music.constants import HOLD, NUM_PITCH_TOKENS, REST, WINDOW_STEPS

START = NUM_PITCH_TOKENS  # the decoder's first input token (no token before the window)


@dataclass
class MusAEConfig:
    kind: str = "musae"  # "musae" (adversarial, mixture prior) or "vae" (the baseline)
    num_styles: int = 7
    tracks: int = 4
    steps: int = WINDOW_STEPS
    embed: int = 48
    hidden: int = 256
    z_dims: int = 96
    critic_hidden: int = 256
    prior_radius: float = 4.0
    # One decoder for all four tracks (see :class:`JointDecoder`) instead of one GRU per track: every track hears
    # every track's past and the tracks above it at the same step.
    joint: bool = False
    joint_hidden: int = 512
    # Per style and track, [lowest, highest] MIDI pitch the training windows strike there (widened by the
    # transposition interval; None: the track never plays in that style): decoding stays inside. Sampled at
    # temperature 1 from the whole distribution, 0.3% of the onsets fell outside (a bass on A8).
    pitch_ranges: list | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MusAEConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @classmethod
    def debug(cls, kind: str = "musae", num_styles: int = 7) -> MusAEConfig:
        return cls(kind=kind, num_styles=num_styles, embed=8, hidden=16, z_dims=8, critic_hidden=16, joint_hidden=16)


class MusAE(nn.Module):
    """Encoder, per-track decoders and the style-mixture prior (the critic is separate: :class:`LatentCritic`)."""

    ranges: torch.Tensor | None  # a buffer (or None): the pitch ranges per style and track
    prior_means: torch.Tensor  # a buffer (num_styles, z_dims)

    def __init__(self, config: MusAEConfig):
        super().__init__()
        if config.kind not in ("musae", "vae"):
            raise ValueError(f"kind must be 'musae' or 'vae', not {config.kind!r}")
        self.config = config
        c = config
        self.tokens = nn.Embedding(NUM_PITCH_TOKENS + 1, c.embed)  # + START
        self.track = nn.Parameter(torch.zeros(c.tracks, c.embed))
        self.encoder = nn.GRU(c.tracks * c.embed, c.hidden, num_layers=2, batch_first=True, bidirectional=True)
        self.to_z = nn.Linear(4 * c.hidden, c.z_dims * (2 if c.kind == "vae" else 1))
        if c.joint:
            self.joint = JointDecoder(c)
        else:
            self.decoders = nn.ModuleList(
                nn.GRU(c.embed + c.z_dims + c.num_styles, c.hidden, batch_first=True) for _ in range(c.tracks)
            )
            self.init_state = nn.ModuleList(nn.Linear(c.z_dims + c.num_styles, c.hidden) for _ in range(c.tracks))
            self.outputs = nn.ModuleList(nn.Linear(c.hidden, NUM_PITCH_TOKENS) for _ in range(c.tracks))
        if c.pitch_ranges is not None:  # from the config, so not saved with the weights
            self.register_buffer("ranges", range_mask(c.pitch_ranges, c.num_styles, c.tracks), persistent=False)
        else:
            self.ranges = None
        angles = torch.arange(c.num_styles, dtype=torch.float32) * 2 * math.pi / c.num_styles
        means = torch.zeros(c.num_styles, c.z_dims)
        means[:, 0], means[:, 1] = c.prior_radius * torch.cos(angles), c.prior_radius * torch.sin(angles)
        self.register_buffer("prior_means", means)

    # ------------------------------------------------------------------ encode
    def encode(self, windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """windows (B, tracks, steps) -> (z or mu (B, z_dims), logvar (B, z_dims) for the VAE, else None)."""
        x = self.tokens(windows) + self.track[None, :, None, :]  # (B, T, S, E)
        b, t, s, e = x.shape
        x = x.permute(0, 2, 1, 3).reshape(b, s, t * e)
        _, h = self.encoder(x)  # (layers * 2, B, H)
        h = torch.cat([h[-2], h[-1], h[0], h[1]], dim=1)  # both directions of both layers
        out = self.to_z(h)
        if self.config.kind == "vae":
            mu, logvar = out.chunk(2, dim=1)
            return mu, logvar.clamp(-8, 8)
        return out, None

    # ------------------------------------------------------------------ decode
    def _style_code(self, style: torch.Tensor) -> torch.Tensor:
        """A one-hot code from style indices (B,), or style weights (B, num_styles) as they are (a blend, for
        morphs)."""
        if style.is_floating_point():
            return style
        return F.one_hot(style, self.config.num_styles).float()

    def decode_logits(self, z: torch.Tensor, style: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, tracks, steps, 130) for ``windows`` given z (B, z_dims) and style (B,)."""
        cond = torch.cat([z, self._style_code(style)], dim=1)  # (B, Z + K)
        if self.config.joint:
            return self.joint.logits(cond, windows)
        b = z.shape[0]
        start = torch.full((b, self.config.tracks, 1), START, dtype=torch.long, device=z.device)
        previous = torch.cat([start, windows[:, :, :-1]], dim=2)
        out = []
        for t, (gru, init, head) in enumerate(zip(self.decoders, self.init_state, self.outputs)):
            inputs = torch.cat([self.tokens(previous[:, t]), cond[:, None, :].expand(-1, self.config.steps, -1)], dim=2)
            states, _ = gru(inputs, torch.tanh(init(cond))[None])
            out.append(head(states))
        return torch.stack(out, dim=1)

    @torch.no_grad()
    def decode(
        self,
        z: torch.Tensor,
        style: torch.Tensor,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
        top_p: float = 1.0,
    ) -> torch.Tensor:
        """Windows (B, tracks, steps) decoded from z and style (indices (B,) or weights (B, num_styles)): greedy at
        temperature 0, else sampled; inside the style's pitch ranges when the config has them (a blend: the union)."""
        self.eval()
        cond = torch.cat([z, self._style_code(style)], dim=1)
        offsets = range_offsets(self.ranges, style) if self.ranges is not None else None  # (B, tracks, 130)
        if self.config.joint:
            return self.joint.sample(cond, temperature, generator, top_p, offsets)
        b = z.shape[0]
        windows = torch.full((b, self.config.tracks, self.config.steps), REST, dtype=torch.long, device=z.device)
        for t, (gru, init, head) in enumerate(zip(self.decoders, self.init_state, self.outputs)):
            state = torch.tanh(init(cond))[None]
            token = torch.full((b,), START, dtype=torch.long, device=z.device)
            for step in range(self.config.steps):
                inputs = torch.cat([self.tokens(token), cond], dim=1)[:, None, :]
                output, state = gru(inputs, state)
                logits = head(output[:, 0])
                if offsets is not None:
                    logits = logits + offsets[:, t]
                if step == 0:
                    logits[:, HOLD] = -math.inf  # a window cannot start by holding a note
                if temperature <= 0:
                    token = logits.argmax(dim=1)
                else:
                    token = torch.multinomial(F.softmax(logits / temperature, dim=1), 1, generator=generator)[:, 0]
                windows[:, t, step] = token
        return windows

    # ------------------------------------------------------------------ prior
    def prior_sample(
        self, style: torch.Tensor, generator: torch.Generator | None = None, scale: float = 1.0
    ) -> torch.Tensor:
        """z (B, z_dims) from the style components ``style`` (B,) of the mixture (the VAE: N(0, I) for every style);
        ``scale`` below 1 draws from each component narrowed to that standard deviation (truncation, as BigGAN's)."""
        noise = scale * torch.randn(
            style.shape[0], self.config.z_dims, generator=generator, device=self.prior_means.device
        )
        if self.config.kind == "vae":
            return noise
        return self.prior_means[style] + noise

    def forward(self, windows: torch.Tensor, style: torch.Tensor) -> dict[str, torch.Tensor | None]:
        """Reconstruction logits and the code: {"logits", "z", "mu", "logvar"} (mu/logvar only for the VAE)."""
        z, logvar = self.encode(windows)
        out = {"mu": z, "logvar": logvar}
        if logvar is not None and self.training:
            z = z + torch.randn_like(z) * torch.exp(0.5 * logvar)
        out["z"] = z
        out["logits"] = self.decode_logits(z, style, windows)
        return out


class JointDecoder(nn.Module):
    """All four tracks from one GRU over the steps (``MusAEConfig.joint``).

    The GRU reads, at each step, the four tokens of the step before (embedded side by side), z and the style
    code, so every voice knows what every voice has played. At each step the tracks are then drawn in order,
    each track's head reading the GRU's state and the tokens the tracks above it have just drawn (zeros for
    the others): an inner voice can move with the melody and hold with the bass. With one GRU per track and
    only z between them, decoded samples of English folk put their three accompanying voices on different
    chords and rhythms, and the style judge heard them as a string quartet.
    """

    def __init__(self, config: MusAEConfig):
        super().__init__()
        c = config
        self.config = config
        self.tokens = nn.Embedding(NUM_PITCH_TOKENS + 1, c.embed)  # its own table: the encoder's may stay frozen
        self.init = nn.Linear(c.z_dims + c.num_styles, c.joint_hidden)
        self.gru = nn.GRU(c.tracks * c.embed + c.z_dims + c.num_styles, c.joint_hidden, batch_first=True)
        self.mix = nn.ModuleList(nn.Linear(c.joint_hidden + c.tracks * c.embed, c.hidden) for _ in range(c.tracks))
        self.heads = nn.ModuleList(nn.Linear(c.hidden, NUM_PITCH_TOKENS) for _ in range(c.tracks))

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Tokens (B, tracks, S) -> (B, S, tracks * embed), the tracks side by side."""
        x: torch.Tensor = self.tokens(tokens)
        b, t, s, e = x.shape
        return x.permute(0, 2, 1, 3).reshape(b, s, t * e)

    def _head(self, track: int, states: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
        """Logits (..., 130) of ``track`` from GRU states (..., H) and this step's tokens embedded (..., tracks * E),
        of which only the tracks above ``track`` are read."""
        e = self.config.embed
        above = torch.cat([current[..., : track * e], torch.zeros_like(current[..., track * e :])], dim=-1)
        logits: torch.Tensor = self.heads[track](torch.tanh(self.mix[track](torch.cat([states, above], dim=-1))))
        return logits

    def logits(self, cond: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, tracks, steps, 130) of ``windows`` (B, tracks, steps) given cond (B, Z + K)."""
        b, _, s = windows.shape
        start = torch.full_like(windows[:, :, :1], START)
        previous = self._embed(torch.cat([start, windows[:, :, :-1]], dim=2))  # (B, S, T * E)
        states, _ = self.gru(
            torch.cat([previous, cond[:, None, :].expand(-1, s, -1)], dim=2), torch.tanh(self.init(cond))[None]
        )
        current = self._embed(windows.clamp(max=NUM_PITCH_TOKENS - 1))
        return torch.stack([self._head(t, states, current) for t in range(self.config.tracks)], dim=1)

    @torch.no_grad()
    def sample(
        self,
        cond: torch.Tensor,
        temperature: float,
        generator: torch.Generator | None,
        top_p: float = 1.0,
        offsets: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Windows (B, tracks, steps) from cond (B, Z + K): greedy at temperature 0, else sampled (from the nucleus
        ``top_p`` when below 1); ``offsets`` (B, tracks, 130) are added to the logits (pitch ranges)."""
        c, b = self.config, cond.shape[0]
        windows = torch.full((b, c.tracks, c.steps), REST, dtype=torch.long, device=cond.device)
        state = torch.tanh(self.init(cond))[None]
        previous = torch.full((b, c.tracks, 1), START, dtype=torch.long, device=cond.device)
        for step in range(c.steps):
            output, state = self.gru(torch.cat([self._embed(previous)[:, 0], cond], dim=1)[:, None, :], state)
            current = torch.full((b, c.tracks, 1), REST, dtype=torch.long, device=cond.device)
            for t in range(c.tracks):
                logits = self._head(t, output[:, 0], self._embed(current)[:, 0])
                if offsets is not None:
                    logits = logits + offsets[:, t]
                if step == 0:
                    logits[:, HOLD] = -math.inf  # a window cannot start by holding a note
                if temperature <= 0:
                    token = logits.argmax(dim=1)
                else:
                    logits = logits / temperature
                    if top_p < 1.0:
                        logits = nucleus(logits, top_p)
                    token = torch.multinomial(F.softmax(logits, dim=1), 1, generator=generator)[:, 0]
                current[:, t, 0] = token
            windows[:, :, step] = current[:, :, 0]
            previous = current
        return windows


class LatentCritic(nn.Module):
    """WGAN critic on z with one output head per style: the head of a code's style scores it, high for samples
    of that style's prior component, low for encoder codes.

    One head per style (rather than the style one-hot appended to z) makes the condition strong: with the
    one-hot, the critic learnt to match the codes to the mixture as a whole long before it told styles apart.
    """

    def __init__(self, config: MusAEConfig):
        super().__init__()
        self.config = config
        self.net = nn.Sequential(
            nn.Linear(config.z_dims, config.critic_hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(config.critic_hidden, config.critic_hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(config.critic_hidden, config.num_styles),
        )

    def forward(self, z: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Scores (B,) of codes z (B, z_dims) by the heads of their styles (B,)."""
        scores: torch.Tensor = self.net(z)
        return scores.gather(1, style[:, None])[:, 0]


def kl_per_dimension(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per latent dimension (z_dims,), in nats, averaged over the batch (mu, logvar
    (B, z_dims))."""
    return (-0.5 * (1 + logvar - mu**2 - logvar.exp())).mean(0)


def free_bits_kl(mu: torch.Tensor, logvar: torch.Tensor, free_bits: float) -> torch.Tensor:
    """The VAE's KL term with free bits: each dimension's KL counts as at least ``free_bits`` nats, so pushing a
    dimension below that gains nothing (and the decoder keeps a reason to read the code)."""
    return kl_per_dimension(mu, logvar).clamp(min=free_bits).sum()


def per_track_accuracy(logits: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
    """Share of steps right per track, (tracks,), of teacher-forced logits (B, T, S, 130)."""
    return (logits.argmax(-1) == windows).float().mean(dim=(0, 2))
