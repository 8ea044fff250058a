"""A small transformer language model over ABC text, prompted with an emotion quadrant (EMusicGen-style).

Tokens are ABC's own units, not characters: a whole header line (``A:Q3``, ``B:16``, ``M:6/8``,
``K:Am``), a note or rest with its accidental, octave marks, duration, tie and the space after
it (``^c'3/2- ``), a bar line or repeat (``:|``, ``[1``), a tuplet sign or a line break; anything
else falls back to single characters. A tune is then fewer tokens than characters (the model
card gives the measured ratio), so the model trains and samples faster on a CPU than a
character model of the same size.

A training text is ``A:<quadrant>\\nB:<bars>\\nM:..\\nL:..\\nK:..\\n<body>`` followed by the end
token. Generation is prompted with the first lines (at least ``A:`` and ``B:``) and samples the
rest; :meth:`AbcLanguageModel.generate` can blend the next-token logits of two prompts (two
quadrants) with a weight, for feelings between two quadrants.

Shapes: B batch, T tokens, D model width, V vocabulary.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
_TOKEN = re.compile(
    r"(?P<field>^[A-Za-z]:[^\n]*)"
    # a note or rest with its duration, a tie, and the space after it (beaming): "^c'3/2- "
    r"|(?P<note>(?:\^\^|\^|__|_|=)?[A-Ga-gzx][,']*(?:\d*/+\d*|\d+)?-? ?)"
    r"|(?P<bar>[|:\]\[]+\d? ?)"
    r"|(?P<tuplet>\(\d ?)"
    r"|(?P<char>[\s\S])",
    re.M,
)
FALLBACK_CHARS = [chr(c) for c in range(32, 127)] + ["\n"]


def split_tokens(text: str) -> list[str]:
    """ABC text -> its tokens (see the module docstring); ``"".join`` gives the text back."""
    return [m.group(0) for m in _TOKEN.finditer(text)]


@dataclass
class AbcTokenizer:
    """Token strings <-> ids. Ids 0..2 are pad, bos, eos; every printable character has an id, so any text encodes."""

    vocab: list[str]
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {token: i for i, token in enumerate(self.vocab)}

    @classmethod
    def build(cls, texts: list[str], min_count: int = 3, reserved: tuple[str, ...] = ()) -> AbcTokenizer:
        """A vocabulary of the specials, every single character, the ``reserved`` tokens (e.g. every prompt,
        seen or not) and each token seen ``min_count`` times."""
        counts = Counter(token for text in texts for token in split_tokens(text))
        frequent = sorted(
            (t for t, n in counts.items() if n >= min_count and t not in FALLBACK_CHARS and t not in reserved),
            key=lambda t: (-counts[t], t),
        )
        return cls([PAD, BOS, EOS] + FALLBACK_CHARS + list(reserved) + frequent)

    def __len__(self) -> int:
        return len(self.vocab)

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def bos_id(self) -> int:
        return 1

    @property
    def eos_id(self) -> int:
        return 2

    def encode(self, text: str, bos: bool = True, eos: bool = False) -> list[int]:
        ids = [self.bos_id] if bos else []
        for token in split_tokens(text):
            if token in self.index:
                ids.append(self.index[token])
            else:  # an unseen token: spelled out character by character
                ids.extend(self.index.get(ch, self.index["?"]) for ch in token)
        if eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids: list[int]) -> str:
        return "".join(self.vocab[i] for i in ids if i > self.eos_id)


@dataclass
class AbcModelConfig:
    """Constructor arguments; stored in the checkpoint's config.json (with the vocabulary)."""

    vocab_size: int = 512
    d_model: int = 256
    layers: int = 4
    heads: int = 4
    context: int = 384
    dropout: float = 0.1

    @classmethod
    def debug(cls, vocab_size: int) -> AbcModelConfig:
        return cls(vocab_size=vocab_size, d_model=32, layers=1, heads=2, context=256, dropout=0.0)

    def to_dict(self) -> dict:
        return asdict(self)


class Block(nn.Module):
    def __init__(self, c: AbcModelConfig):
        super().__init__()
        self.heads = c.heads
        self.context = c.context
        self.norm1 = nn.LayerNorm(c.d_model)
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.proj = nn.Linear(c.d_model, c.d_model)
        self.norm2 = nn.LayerNorm(c.d_model)
        self.mlp = nn.Sequential(nn.Linear(c.d_model, 4 * c.d_model), nn.GELU(), nn.Linear(4 * c.d_model, c.d_model))
        self.dropout = nn.Dropout(c.dropout)
        self.attn_dropout = c.dropout

    def forward(self, x: torch.Tensor, cache: dict[str, torch.Tensor] | None = None, offset: int = 0) -> torch.Tensor:
        """x (B, T, D) at positions ``offset``..; with ``cache`` ({"k", "v"}: (B, H, context, D/H) buffers holding
        the earlier positions, written in place) T may be 1."""
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(d, dim=-1)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))  # (B, H, T, d/H)
        if cache is not None:
            if "k" not in cache:  # room for the whole context: written in place, not copied again at every token
                shape = (b, self.heads, self.context, d // self.heads)
                cache["k"], cache["v"] = k.new_zeros(shape), v.new_zeros(shape)
            cache["k"][:, :, offset : offset + t] = k
            cache["v"][:, :, offset : offset + t] = v
            k, v = cache["k"][:, :, : offset + t], cache["v"][:, :, : offset + t]
        causal = cache is None or t > 1
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=causal, dropout_p=self.attn_dropout if self.training else 0.0
        )
        x = x + self.dropout(self.proj(y.transpose(1, 2).reshape(b, t, d)))
        mlp: torch.Tensor = self.dropout(self.mlp(self.norm2(x)))
        return x + mlp


class AbcLanguageModel(nn.Module):
    def __init__(self, config: AbcModelConfig):
        super().__init__()
        self.config = c = config
        self.tokens = nn.Embedding(c.vocab_size, c.d_model)
        self.positions = nn.Embedding(c.context, c.d_model)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.norm = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.head.weight = self.tokens.weight  # tied: fewer parameters to ship
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    @property
    def device(self) -> torch.device:
        return self.tokens.weight.device

    def forward(
        self, ids: torch.Tensor, caches: list[dict[str, torch.Tensor]] | None = None, offset: int = 0
    ) -> torch.Tensor:
        """ids (B, T) -> logits (B, T, V); with ``caches`` (one dict per block) ids continue from position
        ``offset``."""
        t = ids.shape[1]
        if offset + t > self.config.context:
            raise ValueError(f"at most {self.config.context} tokens, got {offset + t}")
        x = self.tokens(ids) + self.positions(torch.arange(offset, offset + t, device=ids.device))
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i], offset)
        logits: torch.Tensor = self.head(self.norm(x))
        return logits

    def loss(self, ids: torch.Tensor, pad_id: int = 0) -> torch.Tensor:
        """Mean next-token cross entropy (nats) over the non-pad targets of ids (B, T)."""
        logits = self(ids[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), ignore_index=pad_id)

    @torch.no_grad()
    def generate(
        self,
        prompts: list[list[int]],
        weights: list[float],
        max_tokens: int,
        generator: torch.Generator,
        *,
        temperature: float,
        top_k: int,
        top_p: float,
        allowed: Callable[[list[int]], Sequence[int] | None] | None = None,
        stop: Callable[[list[int]], bool] | None = None,
        guidance: float = 0.0,
        boost: Callable[[list[int]], tuple[Collection[int], float] | None] | None = None,
    ) -> list[int]:
        """Sample one continuation shared by all ``prompts``: at every step the next-token logits of the
        prompts are mixed with ``weights`` (summing to 1; a prompt may have weight 0), one token is drawn
        (top-k, then top-p, at ``temperature``) and appended to every prompt. ``allowed(tokens_so_far)`` may
        restrict the next token to some ids (None: any). Stops at the end token, after ``max_tokens``, when the
        context is full, or when ``stop(tokens_so_far)`` says so.

        ``guidance`` g > 0 (see :func:`guided_log_probs`) steers toward what tells the weighted prompts apart
        from all the prompts given: log p(x | c) + g (log p(x | c) - log p(x)), with p(x) the even mixture of
        every prompt's next-token distribution (classifier-free guidance with the model's own prompts as the
        unconditional: the model is not retrained). ``boost(tokens_so_far)`` may name ids whose log-probability is
        raised by a value (before the temperature)."""
        job = GenerationJob(
            prompts, weights, max_tokens, generator, temperature, top_k, top_p, allowed, stop, guidance, boost
        )
        return self.generate_many([job])[0]

    @torch.no_grad()
    def generate_many(self, jobs: Sequence[GenerationJob]) -> list[list[int]]:
        """:meth:`generate` for several jobs (several people's tunes, or one person's variations): jobs whose prompts
        all have one length are decoded as one batch, one row per prompt, each drawing from its own generator, so
        each gets the tokens it would get alone; a job whose own prompts differ in length runs alone."""
        results: list[list[int]] = [[] for _ in jobs]
        groups: dict[object, list[int]] = {}
        for index, job in enumerate(jobs):
            lengths = {len(p) for p in job.prompts}
            groups.setdefault(lengths.pop() if len(lengths) == 1 else ("alone", index), []).append(index)
        for indices in groups.values():
            for index, tokens in zip(indices, self._generate_together([jobs[i] for i in indices])):
                results[index] = tokens
        return results

    def _generate_together(self, jobs: Sequence[GenerationJob]) -> list[list[int]]:
        """Jobs whose prompts have one length (or a single job): one KV cache, one forward pass per step; a job that
        has finished feeds padding until the last one finishes."""
        self.eval()
        device = self.device
        spans, start = [], 0
        for job in jobs:
            spans.append(slice(start, start + len(job.prompts)))
            start += len(job.prompts)
        mixes = [torch.tensor(job.weights, dtype=torch.float32, device=device) for job in jobs]
        step_all = self._prompt_stepper([p for job in jobs for p in job.prompts])
        logits = step_all(None)
        outs: list[list[int]] = [[] for _ in jobs]
        done = [job.max_tokens <= 0 for job in jobs]
        for step in range(max(job.max_tokens for job in jobs)):
            fed = []
            for index, job in enumerate(jobs):
                if not done[index] and step >= job.max_tokens:
                    done[index] = True
                if done[index]:
                    fed += [0] * len(job.prompts)  # padding: its rows are no longer read
                    continue
                token = self._next_token(job, logits[spans[index]], mixes[index], outs[index])
                longest = max(len(p) for p in job.prompts) + step
                if token == 2 or longest + 1 >= self.config.context:  # end token, or the context is full
                    done[index] = True
                else:
                    outs[index].append(token)
                    done[index] = job.stop is not None and job.stop(outs[index])
                fed += [token] * len(job.prompts)
            if all(done):
                break
            logits = step_all(fed)
        return outs

    @staticmethod
    def _next_token(job: GenerationJob, logits: torch.Tensor, mix: torch.Tensor, out: list[int]) -> int:
        """One job's next token from its prompts' logits (P, V): mixed (guided), raised, restricted, drawn."""
        mixed = guided_log_probs(logits, mix, job.guidance) if job.guidance > 0 else (mix[:, None] * logits).sum(0)
        raised = job.boost(out) if job.boost is not None else None
        if raised is not None and raised[0]:
            mixed = mixed.clone()
            mixed[list(raised[0])] += raised[1]
        mixed = mixed / max(job.temperature, 1e-6)
        permitted = job.allowed(out) if job.allowed is not None else None
        if permitted is not None:
            mask = torch.full_like(mixed, -math.inf)
            mask[list(permitted)] = 0.0
            mixed = mixed + mask
        return _sample_top(mixed, job.top_k, job.top_p, job.generator)

    def _prompt_stepper(self, prompts: list[list[int]]) -> Callable[[list[int] | None], torch.Tensor]:
        """A function that feeds the next token of each prompt (a list, one per prompt; None: the prompts themselves)
        and returns their next-token logits (P, V). Prompts of one length run as one batch (the quadrant prompts
        are: one token each); otherwise one by one."""
        device = self.device
        if len({len(p) for p in prompts}) == 1:
            cache: list[dict[str, torch.Tensor]] = [{} for _ in self.blocks]
            offset = [0]

            def batched(tokens: list[int] | None) -> torch.Tensor:
                ids = torch.tensor(prompts, device=device) if tokens is None else torch.tensor(tokens)[:, None]
                logits: torch.Tensor = self(ids.to(device), cache, offset[0])[:, -1]
                offset[0] += ids.shape[1]
                return logits

            return batched
        caches: list[list[dict[str, torch.Tensor]]] = [[{} for _ in self.blocks] for _ in prompts]
        lengths = [len(p) for p in prompts]

        def one_by_one(tokens: list[int] | None) -> torch.Tensor:
            if tokens is None:
                return torch.stack(
                    [self(torch.tensor([p], device=device), caches[i])[0, -1] for i, p in enumerate(prompts)]
                )
            logits = torch.stack(
                [
                    self(torch.tensor([[token]], device=device), caches[i], lengths[i])[0, -1]
                    for i, token in enumerate(tokens)
                ]
            )
            for i in range(len(lengths)):
                lengths[i] += 1
            return logits

        return one_by_one


@dataclass
class GenerationJob:
    """The arguments of one :meth:`AbcLanguageModel.generate` call, so several can run as one batch."""

    prompts: list[list[int]]
    weights: list[float]
    max_tokens: int
    generator: torch.Generator
    temperature: float
    top_k: int
    top_p: float
    allowed: Callable[[list[int]], Sequence[int] | None] | None = None
    stop: Callable[[list[int]], bool] | None = None
    guidance: float = 0.0
    boost: Callable[[list[int]], tuple[Collection[int], float] | None] | None = None


def guided_log_probs(logits: torch.Tensor, weights: torch.Tensor, guidance: float) -> torch.Tensor:
    """Guided next-token log-probabilities (V,) from the prompts' logits (P, V) and their weights (P,).

    The conditional is the weighted mix of the prompts' log-probabilities; the unconditional log p(x) is the log
    of the even mixture of all P distributions (each prompt equally likely). The difference is the model's own
    log p(c | x) - log p(c): guidance g samples from p(x | c) p(c | x)^g, so tokens that make the asked prompt
    more recognisable gain and tokens every prompt likes equally keep their odds."""
    log_probs = F.log_softmax(logits.float(), -1)
    conditional = (weights[:, None] * log_probs).sum(0)
    unconditional = torch.logsumexp(log_probs, 0) - math.log(log_probs.shape[0])
    return conditional + guidance * (conditional - unconditional)


def _sample_top(logits: torch.Tensor, top_k: int, top_p: float, generator: torch.Generator) -> int:
    """One id from logits (V,): the ``top_k`` best, then the smallest set holding ``top_p`` of their probability."""
    values, ids = torch.topk(logits, min(top_k, int(torch.isfinite(logits).sum()), logits.shape[-1]))
    probs = F.softmax(values, -1)
    keep = torch.cumsum(probs, -1) - probs < top_p  # always keeps the first
    probs = torch.where(keep, probs, torch.zeros_like(probs))
    # Drawn on the generator's device (the model's, as the pipelines make it): the same seed, the same tune.
    choice = torch.multinomial((probs / probs.sum()).to(generator.device), 1, generator=generator)
    return int(ids[int(choice.item())])
