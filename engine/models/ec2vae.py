"""EC2-VAE (Yang et al., ISMIR 2019): disentangled pitch and rhythm latents.

Shapes use B = batch, T = steps (32), P = 130 melody tokens, R = 3 rhythm classes,
C = 12 chroma.

* Encoder: bidirectional GRU over [melody one-hot ; chord chroma] -> q(z_pitch), q(z_rhythm).
* Rhythm decoder: GRU from z_rhythm -> onset / hold / rest per step.
* Pitch decoder: 2-layer GRU fed [previous token ; rhythm at this step ; z_pitch ; z_rhythm ;
  chord] -> 130 classes per step.

Both decoders run as one fused ``nn.GRU`` call when teacher-forced (fast on CPU)
and step by step, with the same weights, when free-running.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.music.constants import NUM_PITCH_TOKENS, NUM_RHYTHM_CLASSES, WINDOW_STEPS


@dataclass
class EC2VAEConfig:
    """Constructor arguments; stored in the checkpoint's config.json."""

    encoder_hidden: int = 512
    decoder_hidden: int = 512
    z_pitch: int = 128
    z_rhythm: int = 128
    num_steps: int = WINDOW_STEPS
    num_tokens: int = NUM_PITCH_TOKENS
    chord_dims: int = 12
    num_rhythm: int = NUM_RHYTHM_CLASSES

    @classmethod
    def debug(cls) -> EC2VAEConfig:
        """A tiny model for tests: every code path, seconds on a CPU."""
        return cls(encoder_hidden=32, decoder_hidden=32, z_pitch=16, z_rhythm=16)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EC2VAEOutput:
    pitch_logits: torch.Tensor  # (B, T, P)
    rhythm_logits: torch.Tensor  # (B, T, R)
    mu_pitch: torch.Tensor  # (B, Zp)
    logvar_pitch: torch.Tensor
    mu_rhythm: torch.Tensor  # (B, Zr)
    logvar_rhythm: torch.Tensor


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) averaged over batch and latent dimensions."""
    return 0.5 * torch.mean(mu.pow(2) + logvar.exp() - 1.0 - logvar)


def sample_from_logits(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
    """(B, K) logits -> (B,) indices; temperature 0 means greedy."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = F.softmax(logits / temperature, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


class EC2VAE(nn.Module):
    def __init__(self, config: EC2VAEConfig):
        super().__init__()
        self.config = c = config
        self.encoder = nn.GRU(c.num_tokens + c.chord_dims, c.encoder_hidden, batch_first=True, bidirectional=True)
        self.to_pitch_posterior = nn.Linear(2 * c.encoder_hidden, 2 * c.z_pitch)
        self.to_rhythm_posterior = nn.Linear(2 * c.encoder_hidden, 2 * c.z_rhythm)

        self.rhythm_init = nn.Linear(c.z_rhythm, c.decoder_hidden)
        self.rhythm_gru = nn.GRU(c.num_rhythm + c.z_rhythm, c.decoder_hidden, batch_first=True)
        self.rhythm_out = nn.Linear(c.decoder_hidden, c.num_rhythm)

        z_all = c.z_pitch + c.z_rhythm
        self.pitch_init = nn.Linear(z_all, 2 * c.decoder_hidden)
        self.pitch_gru = nn.GRU(
            c.num_tokens + c.num_rhythm + z_all + c.chord_dims, c.decoder_hidden, num_layers=2, batch_first=True
        )
        self.pitch_out = nn.Linear(c.decoder_hidden, c.num_tokens)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # ----------------------------------------------------------------- encoder
    def encode(
        self, melody: torch.Tensor, chords: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """melody (B, T) int tokens, chords (B, T, C) -> mu_p, logvar_p (B, Zp), mu_r, logvar_r (B, Zr)."""
        x = torch.cat([F.one_hot(melody, self.config.num_tokens).float(), chords], dim=-1)  # (B, T, P+C)
        _, h = self.encoder(x)  # h: (2, B, H)
        h = torch.cat([h[0], h[1]], dim=-1)  # (B, 2H)
        mu_p, logvar_p = self.to_pitch_posterior(h).chunk(2, dim=-1)
        mu_r, logvar_r = self.to_rhythm_posterior(h).chunk(2, dim=-1)
        return mu_p, logvar_p, mu_r, logvar_r

    # ----------------------------------------------------------- rhythm decoder
    def _rhythm_inputs(self, prev_rhythm_onehot: torch.Tensor, z_rhythm: torch.Tensor) -> torch.Tensor:
        steps = prev_rhythm_onehot.shape[1]
        return torch.cat([prev_rhythm_onehot, z_rhythm.unsqueeze(1).expand(-1, steps, -1)], dim=-1)

    def decode_rhythm(
        self,
        z_rhythm: torch.Tensor,
        target: torch.Tensor | None = None,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """z_rhythm (B, Zr) -> (logits (B, T, R), rhythm classes (B, T)).

        With ``target`` (B, T) the decoder is teacher-forced; otherwise it feeds back its own
        choices (greedy when temperature is 0).
        """
        c = self.config
        h = torch.tanh(self.rhythm_init(z_rhythm)).unsqueeze(0)  # (1, B, H)
        if target is not None:
            prev = F.one_hot(target, c.num_rhythm).float()
            prev = torch.cat([torch.zeros_like(prev[:, :1]), prev[:, :-1]], dim=1)  # shift right
            out, _ = self.rhythm_gru(self._rhythm_inputs(prev, z_rhythm), h)
            logits = self.rhythm_out(out)
            return logits, target
        batch = z_rhythm.shape[0]
        prev = torch.zeros(batch, 1, c.num_rhythm, device=z_rhythm.device)
        all_logits, choices = [], []
        for _ in range(c.num_steps):
            out, h = self.rhythm_gru(self._rhythm_inputs(prev, z_rhythm), h)
            logits = self.rhythm_out(out[:, 0])  # (B, R)
            choice = sample_from_logits(logits, temperature, generator)
            all_logits.append(logits)
            choices.append(choice)
            prev = F.one_hot(choice, c.num_rhythm).float().unsqueeze(1)
        return torch.stack(all_logits, 1), torch.stack(choices, 1)

    # ------------------------------------------------------------ pitch decoder
    def _pitch_inputs(
        self, prev_tokens: torch.Tensor, rhythm: torch.Tensor, z: torch.Tensor, chords: torch.Tensor
    ) -> torch.Tensor:
        steps = prev_tokens.shape[1]
        return torch.cat([prev_tokens, rhythm, z.unsqueeze(1).expand(-1, steps, -1), chords], dim=-1)

    def decode_pitch(
        self,
        z_pitch: torch.Tensor,
        z_rhythm: torch.Tensor,
        rhythm: torch.Tensor,
        chords: torch.Tensor,
        target: torch.Tensor | None = None,
        temperature: float = 0.0,
        logit_bias: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        repeat_penalty: float = 0.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (logits (B, T, P), tokens (B, T)).

        rhythm: (B, T) classes or (B, T, R) probabilities; chords (B, T, C).
        ``target`` (B, T) teacher-forces; otherwise tokens are fed back, sampled at
        ``temperature`` after adding ``logit_bias`` (B, T, P) (use -inf to forbid tokens)
        and subtracting ``repeat_penalty`` from the pitch of the previous note (at onsets).
        """
        c = self.config
        if rhythm.dim() == 2:
            rhythm = F.one_hot(rhythm, c.num_rhythm).float()
        z = torch.cat([z_pitch, z_rhythm], dim=-1)
        h = torch.tanh(self.pitch_init(z)).view(-1, 2, c.decoder_hidden).transpose(0, 1).contiguous()  # (2, B, H)
        if target is not None:
            prev = F.one_hot(target, c.num_tokens).float()
            prev = torch.cat([torch.zeros_like(prev[:, :1]), prev[:, :-1]], dim=1)
            out, _ = self.pitch_gru(self._pitch_inputs(prev, rhythm, z, chords), h)
            return self.pitch_out(out), target
        batch = z.shape[0]
        prev = torch.zeros(batch, 1, c.num_tokens, device=z.device)
        last_pitch = torch.full((batch,), -1, dtype=torch.long, device=z.device)
        all_logits, tokens = [], []
        for t in range(c.num_steps):
            out, h = self.pitch_gru(self._pitch_inputs(prev, rhythm[:, t : t + 1], z, chords[:, t : t + 1]), h)
            logits = self.pitch_out(out[:, 0])  # (B, P)
            biased = logits if logit_bias is None else logits + logit_bias[:, t]
            if repeat_penalty:
                rows = torch.nonzero(last_pitch >= 0).flatten()
                biased = biased.clone()
                biased[rows, last_pitch[rows]] -= repeat_penalty
            token = sample_from_logits(biased, temperature, generator)
            all_logits.append(logits)
            tokens.append(token)
            last_pitch = torch.where(token < 128, token, last_pitch)
            prev = F.one_hot(token, c.num_tokens).float().unsqueeze(1)
        return torch.stack(all_logits, 1), torch.stack(tokens, 1)

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        melody: torch.Tensor,
        chords: torch.Tensor,
        rhythm: torch.Tensor,
        teacher_forcing: bool = True,
        sample_latent: bool = True,
    ) -> EC2VAEOutput:
        """Training pass. melody (B, T) tokens, chords (B, T, C), rhythm (B, T) classes."""
        mu_p, logvar_p, mu_r, logvar_r = self.encode(melody, chords)
        if sample_latent:
            z_p = mu_p + torch.randn_like(mu_p) * torch.exp(0.5 * logvar_p)
            z_r = mu_r + torch.randn_like(mu_r) * torch.exp(0.5 * logvar_r)
        else:
            z_p, z_r = mu_p, mu_r
        if teacher_forcing:
            rhythm_logits, _ = self.decode_rhythm(z_r, target=rhythm)
            pitch_logits, _ = self.decode_pitch(z_p, z_r, rhythm, chords, target=melody)
        else:
            # Free-running: the pitch decoder sees the rhythm decoder's probabilities,
            # so gradients flow from pitch errors into the rhythm path, as in the paper.
            rhythm_logits, _ = self.decode_rhythm(z_r)
            pitch_logits, _ = self.decode_pitch(z_p, z_r, F.softmax(rhythm_logits, -1), chords)
        return EC2VAEOutput(pitch_logits, rhythm_logits, mu_p, logvar_p, mu_r, logvar_r)

    @torch.no_grad()
    def reconstruct(self, melody: torch.Tensor, chords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean, greedy decode, no teacher forcing -> (tokens (B, T), rhythm (B, T))."""
        mu_p, _, mu_r, _ = self.encode(melody, chords)
        _, rhythm = self.decode_rhythm(mu_r)
        _, tokens = self.decode_pitch(mu_p, mu_r, rhythm, chords)
        return tokens, rhythm


def ec2vae_loss(
    out: EC2VAEOutput, melody: torch.Tensor, rhythm: torch.Tensor, kl_weight: float = 0.1
) -> dict[str, torch.Tensor]:
    """Pitch CE + rhythm CE + kl_weight * (KL_pitch + KL_rhythm), each averaged (reference code's reduction)."""
    pitch_ce = F.cross_entropy(out.pitch_logits.reshape(-1, out.pitch_logits.shape[-1]), melody.reshape(-1))
    rhythm_ce = F.cross_entropy(out.rhythm_logits.reshape(-1, out.rhythm_logits.shape[-1]), rhythm.reshape(-1))
    kl_p = kl_to_standard_normal(out.mu_pitch, out.logvar_pitch)
    kl_r = kl_to_standard_normal(out.mu_rhythm, out.logvar_rhythm)
    total = pitch_ce + rhythm_ce + kl_weight * (kl_p + kl_r)
    return {"loss": total, "pitch_ce": pitch_ce, "rhythm_ce": rhythm_ce, "kl_pitch": kl_p, "kl_rhythm": kl_r}
