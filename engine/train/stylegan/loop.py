"""The style GAN's training loop (:func:`train_stylegan`): the updates, the log and the checkpoints.

Per generator step: ``critic_steps`` critic updates on fresh real batches against generated
windows under the same conditions (Wasserstein loss, gradient penalty ``gp_weight`` = 10, plus
``ac_weight`` x the style head's cross-entropy on the real windows), then one generator update
(engine.train.stylegan.losses). Adam (lr 1e-4, betas 0.5/0.9) for both; the generator's chord
skip and rest gate learn at rates of their own.

The first log row of a run (and of each resumed start) holds its settings and the metrics of the
held-out real windows; every epoch adds the losses and the report (engine.train.stylegan.report).
The best epoch (by the report's score) is saved to ``out``, the last to ``out/last``; ``--resume``
continues from ``out/train_state.pt``.
"""

from __future__ import annotations

import json
import math
import time
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from engine.data.style import pitch_ranges
from engine.eval.metrics.musegan import window_metrics
from engine.models.device import resolve_device
from engine.models.style_critic import StyleCritic
from engine.models.style_gan import StyleGANConfig, StyleGenerator
from engine.models.wgan import gradient_penalty
from engine.music.constants import NUM_PITCH_TOKENS
from engine.pipelines.style_gan import StyleGANGenerationConfig
from engine.train.common import RunFolder
from engine.train.stylegan.config import StyleGANTrainConfig
from engine.train.stylegan.data import StyleGANData, to_tensors
from engine.train.stylegan.losses import (
    STEP_LOSS_FORM,
    chord_share_loss,
    rest_rate_loss,
    scale_share_loss,
    stepwise_loss,
)
from engine.train.stylegan.report import GAP_FIGURES, load_judge_if_present, metric_gap, sample_report


def _parameter_groups(
    generator: StyleGenerator,
) -> tuple[list[torch.nn.Parameter], list[torch.nn.Parameter], list[torch.nn.Parameter]]:
    """The generator's parameters as (body, chord skip, rest gate), each in registration order."""
    named = list(generator.named_parameters())
    return (
        [p for n, p in named if not n.startswith(("chord_skip.", "bar_gate."))],
        [p for n, p in named if n.startswith("chord_skip.")],
        [p for n, p in named if n.startswith("bar_gate.")],
    )


def generator_optimizer(
    generator: StyleGenerator, cfg: StyleGANTrainConfig, with_gate: bool = True
) -> torch.optim.Adam:
    """Adam over the generator: the body at ``lr``, the chord skip's gains at ``chord_skip_lr`` and, when there is
    one (and ``with_gate``), the rest gate in a third group at ``gate_lr``: a generator trained before the gate had two
    groups, so its optimizer state still loads (see :func:`resume_generator`)."""
    body, skip, gate = _parameter_groups(generator)
    groups: list[dict[str, Any]] = [{"params": body}, {"params": skip, "lr": cfg.chord_skip_lr}]
    opt = torch.optim.Adam(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    if gate and with_gate:
        opt.add_param_group({"params": gate, "lr": cfg.gate_lr})
    return opt


def resume_generator(generator: StyleGenerator, cfg: StyleGANTrainConfig, state: dict[str, Any]) -> torch.optim.Adam:
    """Load a training state's generator and its optimizer; returns the optimizer. A state saved before the rest gate
    existed may be resumed with one: the gate starts fresh (nearly shut), everything else as saved."""
    result = generator.load_state_dict(state["generator"], strict=False)
    unknown = [k for k in result.missing_keys if not k.startswith("bar_gate.")] + list(result.unexpected_keys)
    if unknown:
        raise ValueError(f"the training state does not fit this generator: {unknown}")
    gate_is_new = bool(result.missing_keys)
    opt = generator_optimizer(generator, cfg, with_gate=not gate_is_new)
    opt.load_state_dict(state["generator_optimizer"])
    if gate_is_new:
        opt.add_param_group({"params": _parameter_groups(generator)[2], "lr": cfg.gate_lr})
    return opt


def train_stylegan(cfg: StyleGANTrainConfig) -> dict[str, Any]:
    """Train, report sample metrics each epoch, save the best and the last; returns the best epoch's figures."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = resolve_device(cfg.device)
    data = StyleGANData(cfg.data)
    names = data.names
    ranges = pitch_ranges(
        data.split.windows[data.split.train_mask],
        data.split.styles[data.split.train_mask],
        len(names),
        cfg.transpose_low,
        cfg.transpose_high,
    )
    model_cfg = cfg.model_config(StyleGANConfig.debug(len(names)), num_styles=len(names), pitch_ranges=ranges)
    generator, critic = StyleGenerator(model_cfg).to(device), StyleCritic(model_cfg).to(device)
    g_opt = generator_optimizer(generator, cfg)
    d_opt = torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr, betas=(cfg.beta1, cfg.beta2))
    judge, judge_styles = load_judge_if_present(cfg.judge, device)
    held_out = data.held_out(cfg.eval_samples, cfg.seed)
    real_metrics = {names[i]: window_metrics(b["windows"]) for i, b in held_out.items() if len(b["windows"])}
    run = RunFolder(cfg.out, "stylegan", StyleGANGenerationConfig())
    start_epoch, best_since = 0, 1
    best: dict[str, Any] = {"score": -math.inf}
    state = run.load_state(device, cfg.resume)
    if state is not None:
        g_opt = resume_generator(generator, cfg, state)
        critic.load_state_dict(state["critic"])
        d_opt.load_state_dict(state["critic_optimizer"])
        start_epoch, best = int(state["epoch"]), json.loads(state["best"])
        best_since = int(state.get("best_since", 1))
        if cfg.restart_best:  # the epochs before were trained (and scored) under another recipe
            best, best_since = {"score": -math.inf}, start_epoch + 1
        rng = np.random.default_rng(cfg.seed + start_epoch)
        torch.manual_seed(cfg.seed + start_epoch)
    # Each (re)start's settings and the real windows' figures to compare with.
    run.log(
        {
            "run_start": start_epoch + 1,
            "epochs": cfg.epochs,
            "critic_steps": cfg.critic_steps,
            "lr": cfg.lr,
            "critic_lr": cfg.critic_lr,
            "ac_weight": cfg.ac_weight,
            "chord_weight": cfg.chord_weight,
            "chord_skip_lr": cfg.chord_skip_lr,
            "sample_temperature": StyleGANGenerationConfig().temperature,
            "sample_top_p": StyleGANGenerationConfig().top_p,
            "chord_loss": "share per track" if cfg.chord_share_per_track else "share",
            "restart_best": cfg.restart_best,
            "scale_weight": cfg.scale_weight,
            "step_weight": cfg.step_weight,
            "step_loss": STEP_LOSS_FORM,
            "bar_gate": model_cfg.bar_gate,
            "rest_weight": cfg.rest_weight if model_cfg.bar_gate else 0.0,
            "gate_lr": cfg.gate_lr if model_cfg.bar_gate else None,
            "chord_condition": "triads per half bar",
            "judge": judge is not None,
            "previous_share": round(float(data.has_previous.mean()), 4),
            "real_metrics": real_metrics,
        }
    )
    training = {
        "data_counts": data.split.counts,
        "train_windows": int(data.split.train_mask.sum()),
        "val_windows": int(data.split.val_mask.sum()),
    }
    started = time.time()
    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        generator.train()
        critic.train()
        sums: dict[str, list[float]] = {
            k: []
            for k in (
                "critic_loss",
                "wasserstein",
                "gp",
                "ac_real",
                "ac_real_accuracy",
                "generator_loss",
                "ac_fake",
                "chord_share_loss",
                "scale_loss",
                "step_loss",
                "rest_loss",
                "confidence",
            )
        }
        bar = tqdm(range(cfg.steps_per_epoch), desc=f"epoch {epoch}/{cfg.epochs}", unit="step")
        for _ in bar:
            critic.requires_grad_(True)
            for _ in range(cfg.critic_steps):
                b = to_tensors(data.batch(rng, cfg.batch_size, cfg), device)
                with torch.no_grad():
                    logits, gate = generator.forward_with_gate(
                        generator.sample_noise(cfg.batch_size), b["styles"], b["chords"], b["previous"]
                    )
                    fake = generator.relaxed(logits, cfg.tau, gate)
                real = F.one_hot(b["windows"], NUM_PITCH_TOKENS).float()
                real_score, real_style = critic(real, b["chords"], b["previous"])
                fake_score, _ = critic(fake, b["chords"], b["previous"])
                gp = gradient_penalty(partial(critic.score, chords=b["chords"], previous=b["previous"]), real, fake)
                ac_real = F.cross_entropy(real_style, b["styles"])
                wasserstein = real_score.mean() - fake_score.mean()
                loss = -wasserstein + cfg.gp_weight * gp + cfg.ac_weight * ac_real
                d_opt.zero_grad()
                loss.backward()
                d_opt.step()
            sums["critic_loss"].append(loss.item())
            sums["wasserstein"].append(wasserstein.item())
            sums["gp"].append(gp.item())
            sums["ac_real"].append(ac_real.item())
            sums["ac_real_accuracy"].append((real_style.argmax(1) == b["styles"]).float().mean().item())
            critic.requires_grad_(False)  # the generator's update needs gradients through the critic, not for it
            b = to_tensors(data.batch(rng, cfg.batch_size, cfg), device)
            logits, gate = generator.forward_with_gate(
                generator.sample_noise(cfg.batch_size), b["styles"], b["chords"], b["previous"]
            )
            fake_score, fake_style = critic(generator.relaxed(logits, cfg.tau, gate), b["chords"], b["previous"])
            ac_fake = F.cross_entropy(fake_style, b["styles"])
            chord_loss = chord_share_loss(logits, b["chords"], b["chord_share"])
            scale_loss = scale_share_loss(logits, b["windows"])
            step_loss = stepwise_loss(logits, b["windows"]) if cfg.step_weight else logits.new_zeros(())
            rest_loss = (
                rest_rate_loss(logits, gate, b["windows"], b["styles"]) if gate is not None else logits.new_zeros(())
            )
            g_loss = (
                -fake_score.mean()
                + cfg.ac_weight * ac_fake
                + cfg.chord_weight * chord_loss
                + cfg.scale_weight * scale_loss
                + cfg.step_weight * step_loss
                + cfg.rest_weight * rest_loss
            )
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            sums["generator_loss"].append(g_loss.item())
            sums["ac_fake"].append(ac_fake.item())
            sums["chord_share_loss"].append(chord_loss.item())
            sums["scale_loss"].append(scale_loss.item())
            sums["step_loss"].append(step_loss.item())
            sums["rest_loss"].append(rest_loss.item())
            sums["confidence"].append(logits.detach().softmax(-1).amax(-1).mean().item())  # near 1: argmax ~ sampling
            bar.set_postfix(w=f"{np.mean(sums['wasserstein'][-20:]):.3f}", ac=f"{np.mean(sums['ac_fake'][-20:]):.3f}")
        critic.requires_grad_(True)
        losses = {k: round(float(np.mean(v)), 4) for k, v in sums.items()}
        if not all(math.isfinite(v) for v in losses.values()):
            raise RuntimeError(f"training diverged at epoch {epoch}: {losses}")
        report = sample_report(generator, held_out, names, device, cfg.seed, judge, judge_styles)
        gap = metric_gap(report["metrics"], real_metrics)
        score = round((report["judge_balanced"] or 0.0) - gap, 4)
        row = {
            "epoch": epoch,
            "step": epoch * cfg.steps_per_epoch,
            "elapsed_s": round(time.time() - started, 1),
            **losses,
            "judge_balanced": report["judge_balanced"],
            "metric_gap": gap,
            "score": score,
            "chord_tone_share": report["chord_tone_share_mean"],
            "judge_accuracy": report["judge_accuracy"],
            "diversity": report["diversity"],
            "metrics": report["metrics"],
        }
        print(json.dumps({k: v for k, v in row.items() if k not in ("metrics", "diversity")}), flush=True)
        run.log(row)
        metadata = {
            "styles": names,
            "evaluation": {**report, "metric_gap": gap, "score": score, "real_metrics": real_metrics},
            "training": {
                **cfg.record(),
                "epoch": epoch,
                "step": row["step"],
                "best_since": best_since,
                "step_loss": STEP_LOSS_FORM,
                "metric_gap_figures": [name if scale == 1 else f"{name} / {scale:g}" for name, scale in GAP_FIGURES],
                **training,
            },
        }
        run.save_last(generator, metadata)
        if score > best["score"]:
            best = {
                "epoch": epoch,
                "step": row["step"],
                "score": score,
                "judge_balanced": report["judge_balanced"],
                "metric_gap": gap,
            }
            run.save_best(generator, metadata)
        run.save_state(
            {
                "generator": generator.state_dict(),
                "critic": critic.state_dict(),
                "generator_optimizer": g_opt.state_dict(),
                "critic_optimizer": d_opt.state_dict(),
                "epoch": epoch,
                "best": json.dumps(best),
                "best_since": best_since,
            }
        )
    return best
