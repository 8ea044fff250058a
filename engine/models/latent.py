"""A transformer over sequences of EC2-VAE latents (AmMGM's second half, made to sample).

A tune is a sequence of W <= 16 two-bar windows. Per window the model reads
* z_pitch and z_rhythm (EC2-VAE posterior means) where they are known, a learned
  "unknown" embedding where they are masked;
* the rhythm itself (onset / hold / rest per step) where it is known but its latent is
  not: a drawn rhythm in Compose, a new rhythm for an infilled block. (EC2-VAE's z_rhythm
  also carries some pitch information: a drawn rhythm encoded on a placeholder pitch has a
  cosine of only 0.70 with the real melody's z_rhythm on Nottingham, so the model samples
  a real-looking z_rhythm for the rhythm instead of using a placeholder's);
* the chords: chroma per beat (8 beats x 12) and chord-function classes per beat
  (tonic / subdominant / dominant / other / none, see engine.music.tonality);
* its position from the start and from the end of the piece (cadences live at the end).
A bidirectional transformer encoder mixes the windows; two mixture-density heads give,
for every window, a mixture of K diagonal Gaussians over z_pitch and over z_rhythm.

Why a mixture density head: AmMGM regresses masked latents with MSE, which returns the
mean of all plausible continuations (a blurred, timid melody) and cannot give two
different answers. The mixture's NLL is trained on masked windows only; sampling picks
a component by its weight, then adds its own spread. Generation fills the masked windows
one at a time (rhythm before pitch), feeding each sample back as known, so the windows
of one sample agree with each other (see :meth:`LatentSequenceModel.sample`).

Shapes: B batch, W windows, Zp / Zr latent sizes, K mixture components, D model width.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.draws import Generators, generator_groups
from engine.music.constants import BEATS_PER_WINDOW, NUM_RHYTHM_CLASSES, STEPS_PER_BEAT, WINDOW_STEPS
from engine.music.tonality import NUM_FUNCTIONS

# The floor on a component's spread: windows that repeat earlier ones encode to identical latents, and without
# a floor their NLL falls without bound and drowns the rest of the loss; 0.05 is far below what the decoder hears.
LOG_SIGMA_MIN, LOG_SIGMA_MAX = -3.0, 2.0


def beat_chroma(chroma):
    """Per-step chroma (..., 32, 12) -> per-beat mean chroma (..., 8, 12) (numpy or torch)."""
    shape = tuple(chroma.shape[:-2]) + (BEATS_PER_WINDOW, STEPS_PER_BEAT, 12)
    return chroma.reshape(shape).mean(-2)


@dataclass
class LatentModelConfig:
    """Constructor arguments; stored in the checkpoint's config.json."""

    z_pitch: int = 128
    z_rhythm: int = 128
    d_model: int = 256
    layers: int = 4
    heads: int = 4
    ff: int = 1024
    dropout: float = 0.1
    max_windows: int = 16
    mixtures: int = 8
    beats: int = BEATS_PER_WINDOW
    steps: int = WINDOW_STEPS

    @classmethod
    def debug(cls, z_pitch: int = 16, z_rhythm: int = 16) -> LatentModelConfig:
        """A tiny model for tests (the debug EC2-VAE's latent sizes)."""
        return cls(z_pitch=z_pitch, z_rhythm=z_rhythm, d_model=32, layers=1, heads=2, ff=64, mixtures=2)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LatentBatch:
    """One batch of window sequences (padded to W).

    z_pitch (B, W, Zp), z_rhythm (B, W, Zr), chroma (B, W, beats, 12) float;
    functions (B, W, beats) int64 in 0..4; rhythm (B, W, 32) int64 classes (onset, hold, rest);
    known_pitch, known_rhythm (the latents), known_pattern (the rhythm classes), valid (B, W) bool.
    """

    z_pitch: torch.Tensor
    z_rhythm: torch.Tensor
    chroma: torch.Tensor
    functions: torch.Tensor
    rhythm: torch.Tensor
    known_pitch: torch.Tensor
    known_rhythm: torch.Tensor
    known_pattern: torch.Tensor
    valid: torch.Tensor

    def to(self, device: torch.device | str) -> LatentBatch:
        return LatentBatch(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))

    def replace(self, **changes: torch.Tensor) -> LatentBatch:
        return LatentBatch(**{f: changes.get(f, getattr(self, f)) for f in self.__dataclass_fields__})


@dataclass
class Mixture:
    """A mixture of K diagonal Gaussians per window: logits (B, W, K), mean and log_sigma (B, W, K, Z)."""

    logits: torch.Tensor
    mean: torch.Tensor
    log_sigma: torch.Tensor

    def nll(self, target: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood per window, in nats per dimension: target (B, W, Z) -> (B, W)."""
        z = target.unsqueeze(-2)  # (B, W, 1, Z)
        log_normal = (
            -0.5 * (((z - self.mean) / self.log_sigma.exp()) ** 2) - self.log_sigma - 0.5 * math.log(2 * math.pi)
        )
        per_component = log_normal.sum(-1) + F.log_softmax(self.logits, -1)  # (B, W, K)
        return -torch.logsumexp(per_component, -1) / target.shape[-1]

    def mode(self) -> torch.Tensor:
        """The mean of the heaviest component: (B, W, Z). The "most likely" latent, for accuracy figures."""
        best = self.logits.argmax(-1)  # (B, W)
        return torch.gather(self.mean, 2, best[..., None, None].expand(-1, -1, 1, self.mean.shape[-1])).squeeze(2)

    def expected(self) -> torch.Tensor:
        """The mixture's mean (B, W, Z): what an MSE regressor would predict."""
        return (F.softmax(self.logits, -1).unsqueeze(-1) * self.mean).sum(-2)

    def sample(self, generator: Generators = None, temperature: float = 1.0) -> torch.Tensor:
        """One draw per window: (B, W, Z). ``temperature`` sharpens the component choice and scales
        the spread (0: the heaviest component's mean). ``generator``: one for all rows, or (generator, rows) groups
        in row order (several requests in one batch, each drawing from its own as it would alone)."""
        if temperature <= 0:
            return self.mode()
        probs = F.softmax(self.logits / temperature, -1)  # (B, W, K)
        draws, start = [], 0
        for group_generator, rows in generator_groups(generator, probs.shape[0]):
            # Drawn on the generator's device (the model's, as the pipelines make it; the CPU without one).
            where = group_generator.device if group_generator is not None else torch.device("cpu")
            part = slice(start, start + rows)
            group_probs, mean = probs[part], self.mean[part]
            flat = group_probs.reshape(-1, probs.shape[-1]).to(where)
            choice = torch.multinomial(flat, 1, generator=group_generator).view(group_probs.shape[:-1]).to(mean.device)
            index = choice[..., None, None].expand(-1, -1, 1, mean.shape[-1])
            picked = torch.gather(mean, 2, index).squeeze(2)
            sigma = torch.gather(self.log_sigma[part], 2, index).squeeze(2).exp()
            noise = torch.randn(picked.shape, generator=group_generator, device=where).to(picked.device)
            draws.append(picked + temperature * sigma * noise)
            start += rows
        return draws[0] if len(draws) == 1 else torch.cat(draws)


class MixtureHead(nn.Module):
    def __init__(self, d_model: int, z_dims: int, mixtures: int):
        super().__init__()
        self.z_dims, self.mixtures = z_dims, mixtures
        self.proj = nn.Linear(d_model, mixtures * (2 * z_dims + 1))

    def forward(self, h: torch.Tensor) -> Mixture:
        """h (B, W, D) -> Mixture."""
        out = self.proj(h)
        k, z = self.mixtures, self.z_dims
        logits = out[..., :k]
        params = out[..., k:].reshape(*h.shape[:-1], k, 2 * z)
        mean, log_sigma = params[..., :z], params[..., z:]
        # A smooth floor (softplus), so a spread pressed against it still gets gradients.
        log_sigma = LOG_SIGMA_MIN + F.softplus(log_sigma - LOG_SIGMA_MIN)
        return Mixture(logits, mean, log_sigma.clamp(max=LOG_SIGMA_MAX))


class LatentSequenceModel(nn.Module):
    def __init__(self, config: LatentModelConfig):
        super().__init__()
        self.config = c = config
        self.pitch_in = nn.Linear(c.z_pitch, c.d_model)
        self.rhythm_in = nn.Linear(c.z_rhythm, c.d_model)
        self.known_pitch_emb = nn.Embedding(2, c.d_model)
        self.known_rhythm_emb = nn.Embedding(2, c.d_model)
        self.pattern_in = nn.Linear(c.steps * NUM_RHYTHM_CLASSES, c.d_model)
        self.known_pattern_emb = nn.Embedding(2, c.d_model)
        self.chord_in = nn.Linear(c.beats * (12 + NUM_FUNCTIONS), c.d_model)
        self.pos_from_start = nn.Embedding(c.max_windows, c.d_model)
        self.pos_from_end = nn.Embedding(c.max_windows, c.d_model)
        self.norm_in = nn.LayerNorm(c.d_model)
        layer = nn.TransformerEncoderLayer(
            c.d_model, c.heads, c.ff, c.dropout, batch_first=True, norm_first=True, activation="gelu"
        )
        self.encoder = nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.norm_out = nn.LayerNorm(c.d_model)
        self.pitch_head = MixtureHead(c.d_model, c.z_pitch, c.mixtures)
        self.rhythm_head = MixtureHead(c.d_model, c.z_rhythm, c.mixtures)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def forward(self, batch: LatentBatch) -> tuple[Mixture, Mixture]:
        """-> (pitch mixture, rhythm mixture), each over (B, W)."""
        c = self.config
        b, w = batch.valid.shape
        if w > c.max_windows:
            raise ValueError(f"at most {c.max_windows} windows, got {w}")
        known_p = batch.known_pitch & batch.valid
        known_r = batch.known_rhythm & batch.valid
        # Unknown latents are zeroed (and flagged), so nothing of a masked target leaks in.
        x = self.pitch_in(batch.z_pitch * known_p[..., None]) + self.known_pitch_emb(known_p.long())
        x = x + self.rhythm_in(batch.z_rhythm * known_r[..., None]) + self.known_rhythm_emb(known_r.long())
        known_rc = batch.known_pattern & batch.valid
        pattern = F.one_hot(batch.rhythm.clamp(0, NUM_RHYTHM_CLASSES - 1), NUM_RHYTHM_CLASSES).float().reshape(b, w, -1)
        x = x + self.pattern_in(pattern * known_rc[..., None]) + self.known_pattern_emb(known_rc.long())
        functions = F.one_hot(batch.functions.clamp(0, NUM_FUNCTIONS - 1), NUM_FUNCTIONS).float()  # (B, W, beats, F)
        chords = torch.cat([batch.chroma, functions], -1).reshape(b, w, -1)
        x = x + self.chord_in(chords)
        lengths = batch.valid.sum(1, keepdim=True)  # (B, 1)
        index = torch.arange(w, device=x.device).expand(b, w)
        from_end = (lengths - 1 - index).clamp(0, c.max_windows - 1)
        x = x + self.pos_from_start(index) + self.pos_from_end(from_end)
        h = self.encoder(self.norm_in(x), src_key_padding_mask=~batch.valid)
        h = self.norm_out(h)
        return self.pitch_head(h), self.rhythm_head(h)

    @torch.no_grad()
    def sample(
        self,
        batch: LatentBatch,
        generator: Generators = None,
        temperature: float = 1.0,
        order: str = "left_to_right",
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fill every unknown latent of the valid windows -> (z_pitch (B, W, Zp), z_rhythm (B, W, Zr)).

        Windows are filled one at a time (``order``: "left_to_right", or "outside_in" which
        alternates between the two ends of each unknown span, so an infill leans on both
        neighbours); within a window the rhythm latent (if unknown) comes first, then the
        pitch latent given it. Known latents come back unchanged. ``generator``: see :meth:`Mixture.sample` (with
        groups, every row of a group must have the same unknowns, so each group draws what it would alone).
        """
        self.eval()
        z_p, z_r = batch.z_pitch.clone(), batch.z_rhythm.clone()
        known_p, known_r = batch.known_pitch.clone() | ~batch.valid, batch.known_rhythm.clone() | ~batch.valid
        for position in self._fill_order(~known_p | ~known_r, order):
            todo_r = ~known_r[:, position]
            if todo_r.any():
                _, rhythm = self(batch.replace(z_pitch=z_p, z_rhythm=z_r, known_pitch=known_p, known_rhythm=known_r))
                draw = _select(rhythm, position).sample(generator, temperature)[:, 0]
                z_r[:, position] = torch.where(todo_r[:, None], draw, z_r[:, position])
                known_r[:, position] = True
            todo_p = ~known_p[:, position]
            if todo_p.any():
                pitch, _ = self(batch.replace(z_pitch=z_p, z_rhythm=z_r, known_pitch=known_p, known_rhythm=known_r))
                draw = _select(pitch, position).sample(generator, temperature)[:, 0]
                z_p[:, position] = torch.where(todo_p[:, None], draw, z_p[:, position])
                known_p[:, position] = True
        return z_p, z_r

    @staticmethod
    def _fill_order(unknown: torch.Tensor, order: str) -> list[int]:
        """Window positions with anything unknown (in any batch row), in filling order."""
        positions = [int(i) for i in torch.nonzero(unknown.any(0)).flatten()]
        if order == "left_to_right" or not positions:
            return positions
        if order != "outside_in":
            raise ValueError(f"unknown fill order '{order}'")
        spans, current = [], [positions[0]]
        for p in positions[1:]:
            if p == current[-1] + 1:
                current.append(p)
            else:
                spans.append(current)
                current = [p]
        spans.append(current)
        out = []
        for span in spans:
            lo, hi = 0, len(span) - 1
            while lo <= hi:
                out.append(span[lo])
                if hi != lo:
                    out.append(span[hi])
                lo, hi = lo + 1, hi - 1
        return out


def _select(mixture: Mixture, position: int) -> Mixture:
    """The mixture of one window position, kept 2-D in (B, 1)."""
    sl = slice(position, position + 1)
    return Mixture(mixture.logits[:, sl], mixture.mean[:, sl], mixture.log_sigma[:, sl])


def latent_loss(pitch: Mixture, rhythm: Mixture, batch: LatentBatch) -> dict[str, torch.Tensor]:
    """Mean NLL (nats per dimension) over the masked, valid windows; pitch and rhythm apart and summed."""
    mask_p = (~batch.known_pitch & batch.valid).float()
    mask_r = (~batch.known_rhythm & batch.valid).float()
    nll_p = (pitch.nll(batch.z_pitch) * mask_p).sum() / mask_p.sum().clamp(min=1.0)
    nll_r = (rhythm.nll(batch.z_rhythm) * mask_r).sum() / mask_r.sum().clamp(min=1.0)
    return {"loss": nll_p + nll_r, "pitch_nll": nll_p, "rhythm_nll": nll_r}
