"""Training loop of the ABC emotion model.

    python -m engine.train abc --data DIR [DIR ...] --out checkpoints/abc_emotion

Tunes come from engine.data.abc (cleaned, labelled, cached). Every epoch each training
tune is transposed by a random interval in [low, high] (engine.io.abc_text.transpose_abc: letters
move, the key is respelled with the fewest accidentals), written as
``A:<quadrant>\\nB:<bars>\\nM:..\\nL:..\\nK:..\\n<body>`` and tokenised; batches group tunes of
similar length. Validation after every epoch: mean next-token NLL on held-out tunes
(untransposed) and the same in bits per character of ABC text; the best epoch is saved.
Data-parallel like the other trainers (engine.train.distributed).
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from engine.data.abc import LabelledTune, label_corpus
from engine.io.abc_text import transpose_abc
from engine.io.corpus import is_validation
from engine.models.abc_lm import AbcLanguageModel, AbcModelConfig, AbcTokenizer
from engine.models.feature_judge import FeatureJudge, features_of_row
from engine.music.constants import QUADRANTS
from engine.paths import ABC_CACHE, default_checkpoint
from engine.pipelines.emotion_settings import EmotionGenerationConfig
from engine.train.common import ParallelTrainConfig, RunFolder, launch, model_field
from engine.train.distributed import Rank, barrier, wrap_model

MAX_BARS_FIELD = 64


@dataclass(kw_only=True)
class AbcTrainConfig(ParallelTrainConfig[AbcModelConfig]):
    """The ABC emotion model's training settings (``python -m engine.train abc``)."""

    data: list[str] = field(metadata={"help": "folders (or files) of .abc collections, searched recursively"})
    out: str = str(default_checkpoint("abc_emotion"))
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    transpose_low: int = field(
        default=-5,
        metadata={"help": "each epoch every tune moves by a random interval in LOW..HIGH semitones; 0 0 turns it off"},
    )
    workers: int = field(default=2, metadata={"help": "processes for parsing tunes"})
    weight_decay: float = field(default=0.05, metadata={"help": "AdamW's weight decay"})
    warmup_steps: int = field(default=200, metadata={"help": "steps of linear learning-rate warm-up"})
    cache: str = field(
        default=str(ABC_CACHE),
        metadata={"help": "JSON-lines cache of the parsed, labelled tunes (music21 parsing is slow)"},
    )
    max_tunes: int | None = field(default=None, metadata={"help": "use only the first N tunes (quick runs)"})
    validation_fraction: float = field(default=0.05, metadata={"help": "share of the tunes held out"})
    model: AbcModelConfig = model_field(
        AbcModelConfig,
        help="the ABC language model's config",
        fixed=("vocab_size",),
        d_model={"help": "width of the transformer"},
        layers={"help": "transformer layers"},
        heads={"help": "attention heads"},
        context={"help": "longest tune in tokens (longer ones are left out)"},
        dropout={"help": "dropout rate"},
    )


def tune_text(tune: LabelledTune, semitones: int = 0) -> str:
    """The training text of a tune: A: quadrant, B: bars, then the tune's M, L, K and body (moved by ``semitones``)."""
    lines = tune.text.split("\n")[1:]  # without X:1
    body = "\n".join(lines).strip("\n")
    if semitones:
        body = transpose_abc(body, semitones)
    return f"A:{tune.quadrant}\nB:{min(tune.bars, MAX_BARS_FIELD)}\n{body}\n"


def split_held_out(tunes: list[LabelledTune], fraction: float) -> tuple[list[LabelledTune], list[LabelledTune]]:
    """(training tunes, held-out tunes): a seeded hash of each tune's source decides."""
    train: list[LabelledTune] = []
    val: list[LabelledTune] = []
    for tune in tunes:
        (val if is_validation(tune.source, fraction) else train).append(tune)
    if not val and len(train) > 1:  # a tiny corpus: hold one tune out so validation means something
        val.append(train.pop())
    return train, val


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Indices grouped by similar length (less padding), batches in random order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def _pad(sequences: list[list[int]], pad: int) -> torch.Tensor:
    width = max(len(s) for s in sequences)
    return torch.tensor([s + [pad] * (width - len(s)) for s in sequences], dtype=torch.long)


@torch.no_grad()
def validate(
    model: AbcLanguageModel, tokenizer: AbcTokenizer, texts: list[str], device: torch.device, batch_size: int = 64
) -> dict[str, float]:
    """Mean NLL per token and bits per character of held-out texts."""
    model.eval()
    total_nll, tokens, chars = 0.0, 0, 0
    encoded = [(tokenizer.encode(t, eos=True), len(t)) for t in texts]
    encoded = [(ids, n) for ids, n in encoded if len(ids) <= model.config.context]
    for lo in range(0, len(encoded), batch_size):
        part = encoded[lo : lo + batch_size]
        ids = _pad([ids for ids, _ in part], tokenizer.pad_id).to(device)
        logits = model(ids[:, :-1])
        nll = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), ignore_index=tokenizer.pad_id, reduction="sum"
        )
        total_nll += nll.item()
        tokens += int((ids[:, 1:] != tokenizer.pad_id).sum())
        chars += sum(n for _, n in part)
    return {
        "nll_per_token": total_nll / max(tokens, 1),
        "bits_per_char": total_nll / max(chars, 1) / math.log(2),
        "tokens_per_char": tokens / max(chars, 1),
    }


def load_tunes(cfg: AbcTrainConfig) -> list[LabelledTune]:
    """The cleaned, labelled tunes under ``cfg.data`` (read from ``cfg.cache`` when it holds them)."""
    sources: list[str | Path] = list(cfg.data)
    tunes = label_corpus(sources, cfg.cache, workers=cfg.workers)
    return tunes[: cfg.max_tunes] if cfg.max_tunes else tunes


def train(cfg: AbcTrainConfig) -> dict[str, Any]:
    """Train alone, as ``cfg.procs`` CPU processes, or as one rank of a torchrun job."""

    def summarise(history: list[dict[str, Any]], data: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "best_val_loss": min((r["val_nll_per_token"] for r in history), default=float("inf")),
            "history": history,
        }

    return launch(cfg, lambda device, announce: (load_tunes(cfg),), _train_rank, summarise)


def label_counts(tunes: list[LabelledTune]) -> dict:
    """Tunes per quadrant label."""
    counts: dict[str, int] = {}
    for tune in tunes:
        counts[tune.quadrant] = counts.get(tune.quadrant, 0) + 1
    return dict(sorted(counts.items()))


def source_counts(tunes: list[LabelledTune]) -> dict[str, int]:
    """Tunes per collection folder (e.g. "essenFolksong", "abc" for Nottingham)."""
    counts: dict[str, int] = {}
    for tune in tunes:
        folder = tune.source.split("/")[0]
        counts[folder] = counts.get(folder, 0) + 1
    return dict(sorted(counts.items()))


def _train_rank(cfg: AbcTrainConfig, tunes: list[LabelledTune], where: Rank) -> dict[str, Any]:
    """The loop of one process; rank 0 validates, logs and saves."""
    torch.manual_seed(cfg.seed + where.rank)
    run = RunFolder(cfg.out, "abc_emotion", EmotionGenerationConfig())
    device = where.device
    train_tunes, val_tunes = split_held_out(tunes, cfg.validation_fraction)
    state = run.load_state(device, cfg.resume)
    if state is not None:
        tokenizer = AbcTokenizer(list(state["vocab"]))  # a resumed run keeps the vocabulary it was trained with
    else:
        # The vocabulary covers the transposed texts the model will see (one pass at every interval).
        vocab_texts = [
            tune_text(t, s) for t in train_tunes[:4000] for s in range(cfg.transpose_low, cfg.transpose_high + 1)
        ]
        tokenizer = AbcTokenizer.build(
            [tune_text(t) for t in train_tunes] + vocab_texts, reserved=tuple(f"A:{q}" for q in QUADRANTS)
        )
    model_cfg = cfg.model_config(AbcModelConfig.debug(len(tokenizer)), vocab_size=len(tokenizer))
    model = AbcLanguageModel(model_cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    val_texts = [tune_text(t) for t in val_tunes]
    steps_per_epoch = max(1, len(train_tunes) // cfg.batch_size)
    total = steps_per_epoch * cfg.epochs

    def factor(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        return 0.1 + 0.9 * 0.5 * (
            1 + math.cos(math.pi * min(1.0, (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)))
        )

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    start_epoch, best, history, step = 0, float("inf"), [], 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best, step = int(state["epoch"]), float(state["best"]), int(state["step"])
        history = json.loads(state["history"])
    forward = wrap_model(model, where)
    # The feature judge of engine.evaluate emotion: trained on the same training tunes, checked on the held-out ones.
    judge = FeatureJudge.fit([features_of_row(t) for t in train_tunes], [t.quadrant for t in train_tunes])
    judge_accuracy = judge.accuracy([features_of_row(t) for t in val_tunes], [t.quadrant for t in val_tunes])
    stats = {
        "data": [str(d) for d in cfg.data],
        "tunes": len(tunes),
        "train_tunes": len(train_tunes),
        "val_tunes": len(val_tunes),
        "labels_train": label_counts(train_tunes),
        "labels_val": label_counts(val_tunes),
        "pitch_sd_median": float(np.median([t.pitch_sd for t in tunes])),
        "vocab": len(tokenizer),
        "sources": source_counts(tunes),
        "judge_accuracy_val": round(judge_accuracy, 4),
    }
    if where.is_main:
        params = sum(p.numel() for p in model.parameters())
        print(
            f"data: {len(train_tunes)} training tunes, {len(val_tunes)} held out; labels {stats['labels_train']}; "
            f"vocabulary {len(tokenizer)}; model {params / 1e6:.2f} M parameters; {steps_per_epoch} steps per epoch",
            flush=True,
        )
    started = time.time()
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        epoch_rng = random.Random(cfg.seed * 1009 + epoch)
        shifts = [epoch_rng.randint(cfg.transpose_low, cfg.transpose_high) for _ in train_tunes]
        texts = []
        for tune, shift in zip(train_tunes, shifts):
            try:
                texts.append(tune_text(tune, shift))
            except ValueError:  # a note that cannot be respelled at this interval: the tune as written
                texts.append(tune_text(tune))
        encoded = [tokenizer.encode(t, eos=True) for t in texts]
        encoded = [ids for ids in encoded if len(ids) <= model_cfg.context]
        batches = _batches([len(e) for e in encoded], cfg.batch_size, epoch_rng)[:steps_per_epoch]
        sums, count = 0.0, 0
        bar = tqdm(
            batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch", mininterval=5.0, disable=not where.is_main
        )
        for batch in bar:
            share = batch[where.rank :: where.world] or batch[:1]
            ids = _pad([encoded[i] for i in share], tokenizer.pad_id).to(device)
            logits = forward(ids[:, :-1])
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), ignore_index=tokenizer.pad_id
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            sums, count = sums + loss.item(), count + 1
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        if where.is_main:
            metrics = validate(model, tokenizer, val_texts, device)
            record = {
                "epoch": epoch + 1,
                "step": step,
                "elapsed_s": round(time.time() - started, 1),
                "train_nll_per_token": round(sums / max(count, 1), 4),
                **{f"val_{k}": round(v, 4) for k, v in metrics.items()},
            }
            history.append(record)
            run.log(record, echo=True)
            if metrics["nll_per_token"] < best:
                best = metrics["nll_per_token"]
                training = {
                    "data": stats["data"],
                    "epoch": epoch + 1,
                    "step": step,
                    "data_stats": stats,
                    "batch_size": cfg.batch_size,
                    "lr": cfg.lr,
                    "weight_decay": cfg.weight_decay,
                    "transpose": [cfg.transpose_low, cfg.transpose_high],
                    "processes": where.world,
                }
                run.save_best(
                    model,
                    {
                        "vocab": tokenizer.vocab,
                        "judge": judge.to_dict(),
                        "training": training,
                        "validation": {k: round(v, 4) for k, v in metrics.items()},
                    },
                )
            run.save_state(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch + 1,
                    "best": best,
                    "step": step,
                    "history": json.dumps(history),
                    "vocab": tokenizer.vocab,
                }
            )
        barrier(where)
    return {"best_val_loss": best, "history": history, "data": stats}
