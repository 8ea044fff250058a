"""Train MusAE, or its VAE baseline (``python -m engine.train musae [--baseline vae]``).

Data: the style cache (engine.data.style), split by piece like the style judge's. Batches
draw every style equally often and transpose each window by -5..+6 semitones.

* MusAE, per step: the batch is encoded once; ``critic_steps`` critic updates (WGAN-GP, lambda 10)
  on those codes (detached) against fresh samples of each window's style component, then one
  autoencoder update: reconstruction cross-entropy plus the regularisation weight (annealed
  0 -> ``reg_weight`` over the first ``anneal`` share of the steps) times minus the critic's score
  of the codes. Several critic updates per step matter: with one, the encoder outran the critic
  and its codes drifted far from the prior (norm ~20 outside the two style dimensions).
* VAE: reconstruction plus the KL weight (annealed the same way to the same value) times the KL
  to N(0, I), each dimension's KL held at least at ``free_bits`` nats (Kingma et al. 2016), so the
  autoregressive decoder cannot learn to ignore the code (without it the KL fell to 0.002).
* A new decoder on a trained encoder (``--decoder-from DIR``, with ``--joint`` for MusAEConfig.joint):
  DIR's token table and encoder are frozen, so its codes and their fit to the prior stay as they
  are, and only reconstruction is trained (no critic).
Each epoch: held-out reconstruction accuracy, teacher-forced on every held-out window and greedy
(decoded from the code alone) on a fixed sample, per track and mean; and how well the held-out
codes fit the prior: ``prior_fit`` (mean squared distance to their style's component mean per
dimension: 1.0 when they fill it as its samples do) and ``component_accuracy`` (share nearest to
their own style's component); the best epoch (greedy mean)
is saved with its figures, the last in ``out/last``; ``--resume`` continues.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from engine.data.style import StyleSplit, pitch_ranges
from engine.models.device import resolve_device
from engine.models.musae import (
    LatentCritic,
    MusAE,
    MusAEConfig,
    free_bits_kl,
    kl_per_dimension,
    per_track_accuracy,
)
from engine.models.wgan import gradient_penalty
from engine.paths import STYLE_CACHE, default_checkpoint
from engine.pipelines.style import MusAEGenerationConfig
from engine.train.common import STYLE_CACHE_HELP, RunFolder, TrainConfig, model_field


@dataclass(kw_only=True)
class MusAETrainConfig(TrainConfig[MusAEConfig]):
    """MusAE's (and its VAE baseline's) training settings (``python -m engine.train musae``)."""

    data: str = field(default=str(STYLE_CACHE), metadata={"help": STYLE_CACHE_HELP})
    out: str = str(default_checkpoint("musae"))
    epochs: int = 18
    batch_size: int = 64
    lr: float = 1e-3
    steps_per_epoch: int = field(default=400, metadata={"help": "autoencoder updates per epoch"})
    # The shipped run's (epochs 6-18): at 1e-4 with one update the critic fell behind.
    critic_lr: float = field(default=1e-3, metadata={"help": "the critic's learning rate (MusAE)"})
    critic_steps: int = field(default=5, metadata={"help": "critic updates per autoencoder update (MusAE)"})
    reg_weight: float = field(default=1.0, metadata={"help": "final weight of the critic (MusAE) or KL (VAE) term"})
    free_bits: float = field(default=0.25, metadata={"help": "least KL per latent dimension, nats (VAE)"})
    anneal: float = field(default=0.3, metadata={"help": "share of the steps over which the reg weight rises from 0"})
    gp_weight: float = field(default=10.0, metadata={"help": "the critic's gradient penalty weight (WGAN-GP)"})
    greedy_sample: int = field(default=256, metadata={"help": "held-out windows decoded greedily each epoch"})
    # Train a new decoder from scratch on this MusAE checkpoint's frozen encoder: its token table, encoder and so
    # its codes and prior fit stay as they are, so no critic is needed.
    decoder_from: str = field(
        default="",
        metadata={
            "help": "train a new decoder on this MusAE checkpoint's frozen encoder (no critic: the codes stay as "
            "they are)"
        },
    )
    model: MusAEConfig = model_field(
        MusAEConfig,
        help="MusAE's config",
        fixed=("num_styles", "tracks", "steps", "pitch_ranges"),
        kind={"flag": "baseline", "choices": ("musae", "vae"), "help": "vae: the same encoder and decoder as a VAE"},
        embed={"help": "token embedding size"},
        hidden={"help": "GRU units of the encoder and the per-track decoders"},
        z_dims={"help": "latent size"},
        critic_hidden={"help": "units of the critic's layers"},
        prior_radius={"help": "distance of the style components' means from the origin"},
        joint={"help": "one joint decoder for all tracks (MusAEConfig.joint), not one per track"},
        joint_hidden={"help": "GRU units of the joint decoder"},
    )

    def record(self) -> dict[str, Any]:
        """The settings as config.json records them, with the model's "baseline", "joint" and "z_dims" (0: the
        model config's default)."""
        z_dims = self.model_changes().get("z_dims", 0)
        return {**super().record(), "baseline": self.model.kind, "z_dims": z_dims, "joint": self.model.joint}


def held_out_accuracy(
    model: MusAE,
    windows: np.ndarray,
    styles: np.ndarray,
    device: torch.device,
    greedy_sample: int,
    seed: int = 0,
    batch: int = 256,
) -> dict:
    """Teacher-forced accuracy on all ``windows`` and greedy accuracy on a fixed sample: per track and mean."""
    model.eval()
    if len(windows) == 0:
        empty = {"per_track": [], "mean": 0.0}
        return {
            "latent": {"prior_fit": 0.0, "component_accuracy": 0.0},
            "teacher_forced": empty,
            "greedy": {**empty, "windows": 0},
        }
    forced, fit, nearest = [], [], []
    means = model.prior_means if model.config.kind == "musae" else torch.zeros_like(model.prior_means)
    with torch.no_grad():
        for start in range(0, len(windows), batch):
            w = torch.as_tensor(windows[start : start + batch], device=device)
            s = torch.as_tensor(styles[start : start + batch], device=device)
            z, _ = model.encode(w)
            forced.append(per_track_accuracy(model.decode_logits(z, s, w), w).cpu().numpy() * len(w))
            fit.append(((z - means[s]) ** 2).mean(1).cpu().numpy())
            nearest.append((torch.cdist(z, means).argmin(1) == s).cpu().numpy())
        pick = np.random.default_rng(seed).permutation(len(windows))[:greedy_sample]
        w = torch.as_tensor(windows[pick], device=device)
        z, _ = model.encode(w)
        greedy = (
            (model.decode(z, torch.as_tensor(styles[pick], device=device)) == w).float().mean(dim=(0, 2)).cpu().numpy()
        )
    forced = np.sum(forced, axis=0) / max(len(windows), 1)
    latent = {
        "prior_fit": round(float(np.concatenate(fit).mean()), 4),
        "component_accuracy": round(float(np.concatenate(nearest).mean()), 4),
    }
    return {
        "latent": latent,
        "teacher_forced": {"per_track": [round(float(x), 4) for x in forced], "mean": round(float(forced.mean()), 4)},
        "greedy": {
            "per_track": [round(float(x), 4) for x in greedy],
            "mean": round(float(greedy.mean()), 4),
            "windows": int(len(pick)),
        },
    }


ENCODER_KEYS = ("tokens.", "track", "encoder.", "to_z.", "prior_means")  # what a window's code depends on


def new_decoder_model(directory: str, names: list[str], joint: bool = False, pitch_ranges: list | None = None) -> MusAE:
    """The MusAE in ``directory`` with everything the codes depend on (token table, track embedding, encoder, to_z)
    kept and frozen, and a new decoder, untrained: ``joint`` (MusAEConfig.joint) or one per track."""
    from engine.models.registry import load_musae

    base, meta = load_musae(directory)
    if list(meta.get("styles", [])) != list(names):
        raise ValueError(f"{directory} knows the styles {meta.get('styles')}, the data {names}")
    model = MusAE(MusAEConfig.from_dict({**base.config.to_dict(), "joint": joint, "pitch_ranges": pitch_ranges}))
    encoder = {k: v for k, v in base.state_dict().items() if k.startswith(ENCODER_KEYS)}
    missing, unexpected = model.load_state_dict(encoder, strict=False)
    if unexpected or any(key.startswith(ENCODER_KEYS) for key in missing):
        raise ValueError(f"{directory} does not match: missing {missing}, unexpected {unexpected}")
    for module in (model.encoder, model.to_z):
        module.requires_grad_(False)
    model.tokens.requires_grad_(False)
    model.track.requires_grad_(False)
    return model


def train_musae(cfg: MusAETrainConfig) -> dict[str, Any]:
    """Train, validate each epoch, save the best; returns the best epoch's figures."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = resolve_device(cfg.device)
    data = StyleSplit.load(cfg.data)
    names, windows, styles, train_mask, val_mask = data.names, data.windows, data.styles, data.train_mask, data.val_mask
    # The pitches each style's tracks strike in training (widened by the transposition): decoding stays inside them.
    ranges = pitch_ranges(windows[train_mask], styles[train_mask], len(names), cfg.transpose_low, cfg.transpose_high)
    model_cfg = cfg.model_config(
        MusAEConfig.debug(cfg.model.kind, len(names)), num_styles=len(names), pitch_ranges=ranges
    )
    if cfg.decoder_from:
        model = new_decoder_model(cfg.decoder_from, names, model_cfg.joint, model_cfg.pitch_ranges).to(device)
    else:
        model = MusAE(model_cfg).to(device)
    critic = LatentCritic(model_cfg).to(device) if model_cfg.kind == "musae" and not cfg.decoder_from else None
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)
    critic_opt = (
        torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr, betas=(0.5, 0.9)) if critic is not None else None
    )
    run = RunFolder(cfg.out, "musae", MusAEGenerationConfig())
    start_epoch: int = 0
    best: dict[str, Any] = {"val": {"greedy": {"mean": -1.0}}}
    state = run.load_state(device, cfg.resume)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        for group in optimizer.param_groups:  # a resumed run may lower the rate: the one asked for, not the saved one
            group["lr"] = cfg.lr
        if critic is not None and critic_opt is not None and "critic" in state:  # else (another run's): a fresh one
            critic.load_state_dict(state["critic"])
            critic_opt.load_state_dict(state["critic_optimizer"])
        start_epoch, best = int(state["epoch"]), json.loads(state["best"])
        rng = np.random.default_rng(cfg.seed + start_epoch)
    val_windows, val_styles = windows[val_mask], styles[val_mask]
    total = cfg.epochs * cfg.steps_per_epoch
    # Each (re)start's settings, so the model card can tell a resumed run's phases.
    run.log(
        {
            "run_start": start_epoch + 1,
            "epochs": cfg.epochs,
            "reg_weight": cfg.reg_weight,
            "critic_steps": cfg.critic_steps if critic is not None else None,
            "critic_lr": cfg.critic_lr if critic is not None else None,
            "free_bits": cfg.free_bits if critic is None and not cfg.decoder_from else None,
            "lr": cfg.lr,
            "decoder_from": cfg.decoder_from or None,
            "joint": model_cfg.joint,
        }
    )
    started = time.time()
    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        model.train()
        sums: dict[str, list[float]] = {"recon": [], "reg": [], "critic": []}
        bar = tqdm(range(cfg.steps_per_epoch), desc=f"epoch {epoch}/{cfg.epochs}", unit="batch")
        for index in bar:
            step = (epoch - 1) * cfg.steps_per_epoch + index
            weight = cfg.reg_weight * min(1.0, step / max(1.0, cfg.anneal * total))
            windows_batch, labels = data.batch(rng, cfg.batch_size, cfg.transpose_low, cfg.transpose_high)
            batch = torch.as_tensor(windows_batch, device=device)
            style = torch.as_tensor(labels, device=device)
            result = model(batch, style)
            recon = F.cross_entropy(result["logits"].reshape(-1, result["logits"].shape[-1]), batch.reshape(-1))
            if critic is not None and critic_opt is not None:
                fake = result["z"].detach()
                for _ in range(cfg.critic_steps):  # the critic catches up on this batch's codes first
                    real = model.prior_sample(style)
                    critic_loss = (
                        critic(fake, style).mean()
                        - critic(real, style).mean()
                        + cfg.gp_weight * gradient_penalty(partial(critic, style=style), real, fake)
                    )
                    critic_opt.zero_grad()
                    critic_loss.backward()
                    critic_opt.step()
                sums["critic"].append(critic_loss.item())
                reg = -critic(result["z"], style).mean()
            elif cfg.decoder_from:
                reg = kl = recon.new_zeros(())  # the frozen encoder's codes keep their prior fit
            else:
                mu, logvar = result["mu"], result["logvar"]
                reg = free_bits_kl(mu, logvar, cfg.free_bits)
                kl = kl_per_dimension(mu, logvar).sum()
            loss = recon + weight * reg
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            sums["recon"].append(recon.item())
            sums["reg"].append(reg.item() if critic is not None else kl.item())  # the VAE's true KL
            bar.set_postfix(recon=f"{np.mean(sums['recon'][-20:]):.3f}")
        val = held_out_accuracy(model, val_windows, val_styles, device, cfg.greedy_sample, cfg.seed)
        row = {
            "epoch": epoch,
            "step": epoch * cfg.steps_per_epoch,
            "elapsed_s": round(time.time() - started, 1),
            "recon_loss": round(float(np.mean(sums["recon"])), 4),
            "reg": round(float(np.mean(sums["reg"])), 4),
            "critic_loss": round(float(np.mean(sums["critic"])), 4) if sums["critic"] else None,
            "reg_weight": round(weight, 4),
            "val_teacher_forced": val["teacher_forced"]["mean"],
            **{f"val_{k}": v for k, v in val["latent"].items()},
            "val_greedy": val["greedy"]["mean"],
            "val_greedy_per_track": val["greedy"]["per_track"],
        }
        run.log(row, echo=True)
        training = {
            **cfg.record(),
            "epoch": epoch,
            "step": row["step"],
            "data_counts": data.counts,
            "train_windows": int(train_mask.sum()),
            "val_windows": int(val_mask.sum()),
        }
        metadata = {"styles": names, "validation": val, "training": training}
        run.save_last(model, metadata)  # greedy reconstruction is not all: the last epoch is kept too
        if val["greedy"]["mean"] > best["val"]["greedy"]["mean"]:
            best = {"epoch": epoch, "step": row["step"], "val": val}
            run.save_best(model, metadata)
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": epoch,
            "best": json.dumps(best),
        }
        if critic is not None and critic_opt is not None:
            state.update(critic=critic.state_dict(), critic_optimizer=critic_opt.state_dict())
        run.save_state(state)
    if math.isfinite(best["val"]["greedy"]["mean"]):
        return best
    raise RuntimeError("training produced no finite validation figure")
