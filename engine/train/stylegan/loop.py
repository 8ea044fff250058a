"""Train the style GAN (``python -m engine.train stylegan``): WGAN-GP with an AC-GAN style head.

Data: the style cache (engine.data.style), split by piece like the style judge's. Batches
draw every style equally often and move each window, with its previous window, by one random
interval in -5..+6 semitones. Each real window comes with its conditions:

* **previous window**: the exact 32 steps before it in its piece (:func:`piece_context`). The
  cache keeps windows in order, one per bar, but bars are 16 steps only in 4/4 and 2/2: in 3/4
  and 6/8 windows start 12 steps apart, in 2/4 8, and a window with too few notes is left out,
  so the window two before is the preceding 2 bars for only about half of the cache. The
  preceding steps are therefore rebuilt from the overlapping windows of the same piece (their
  overlaps tell the hop); a window whose 32 steps before are not all covered has none. The
  condition is also dropped (all REST: "none") with probability ``previous_drop``, so the
  generator learns to open a piece too.
* **chords**: the major or minor triads that best fit the window, one per half bar
  (:func:`window_triad_chroma`), as chroma per beat, zeroed with probability ``chord_drop`` so the
  generator also works without chords.
* A note held into a window from before (a HOLD at step 0) is re-struck at step 0 (its pitch is
  known from the windows before) or, where it is not known, the held steps become rests: the
  generator never opens a window with HOLD, and a critic shown real windows that do would tell
  them apart by that alone.

Per generator step: ``critic_steps`` critic updates on fresh real batches against generated
windows under the same conditions (Wasserstein loss, gradient penalty ``gp_weight`` = 10, plus
``ac_weight`` x the style head's cross-entropy on the real windows), then one generator update
(minus the critic's score of its straight-through Gumbel-softmax samples, plus ``ac_weight`` x the
style head's cross-entropy for the style it was asked for, plus ``chord_weight`` x
:func:`chord_share_loss`: each track's expected share of onsets on chord tones against the real
window's track's, on the windows given chords (left to the critic alone, the chords were ignored,
25% of onsets on chord tones after 1,650 steps, chance for a triad), plus ``scale_weight`` x
:func:`scale_share_loss`: the share of its onsets in the diatonic scale that holds most of them
against the real window's, plus ``step_weight`` x :func:`stepwise_loss`: each track's shares of
repeated pitches and of steps of 1-2 semitones between consecutive onsets against the real window's). Adam
(lr 1e-4, betas 0.5/0.9) for both.

Every epoch, on fixed noise and held-out conditions (engine.eval.metrics.musegan): per style, the
style judge's accuracy on ``eval_samples`` windows generated without conditions (when
``judge`` names a checkpoint), MuseGAN's metrics and diversity of those windows, and the share of
onsets on chord tones with and without the held-out windows' chords. The first log row of a
run holds the same metrics of the held-out real windows. The best epoch (judge balanced
accuracy, or 0 without a judge, minus ``metric_gap``: the mean absolute difference of empty-bar
rate, qualified-note rate, used pitch classes / 12 and tonal distance / 4 from the real windows,
over styles and tracks) is saved to ``out``, the last to ``out/last``; ``--resume`` continues.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from engine.data.style import pitch_ranges
from engine.eval.metrics.musegan import window_metrics
from engine.models.device import resolve_device
from engine.models.registry import save_stylegan
from engine.models.style_critic import StyleCritic, gradient_penalty
from engine.models.style_gan import StyleGANConfig, StyleGenerator
from engine.music.constants import NUM_PITCH_TOKENS
from engine.pipelines.style_gan import StyleGANGenerationConfig
from engine.train.stylegan.config import StyleGANTrainConfig
from engine.train.stylegan.data import StyleGANData, _tensor
from engine.train.stylegan.losses import (
    STEP_LOSS_FORM,
    chord_share_loss,
    rest_rate_loss,
    scale_share_loss,
    stepwise_loss,
)
from engine.train.stylegan.report import GAP_FIGURES, load_judge, metric_gap, sample_report


def _parameter_groups(generator: StyleGenerator) -> tuple[list, list, list]:
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
    opt = torch.optim.Adam(
        [{"params": body}, {"params": skip, "lr": cfg.chord_skip_lr}], lr=cfg.lr, betas=(cfg.beta1, cfg.beta2)
    )
    if gate and with_gate:
        opt.add_param_group({"params": gate, "lr": cfg.gate_lr})
    return opt


def resume_generator(generator: StyleGenerator, cfg: StyleGANTrainConfig, state: dict) -> torch.optim.Adam:
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


def train_stylegan(cfg: StyleGANTrainConfig) -> dict:
    """Train, report sample metrics each epoch, save the best and the last; returns the best epoch's figures."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = resolve_device(cfg.device)
    data = StyleGANData(cfg.data)
    names = data.names
    model_cfg = StyleGANConfig.debug(len(names)) if cfg.debug else StyleGANConfig(num_styles=len(names))
    ranges = pitch_ranges(
        data.split.windows[data.split.train_mask],
        data.split.styles[data.split.train_mask],
        len(names),
        cfg.transpose_low,
        cfg.transpose_high,
    )
    model_cfg = StyleGANConfig.from_dict(
        {**model_cfg.to_dict(), "pitch_ranges": ranges, "bar_gate": cfg.bar_gate, **cfg.model_overrides}
    )
    generator, critic = StyleGenerator(model_cfg).to(device), StyleCritic(model_cfg).to(device)
    g_opt = generator_optimizer(generator, cfg)
    d_opt = torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr, betas=(cfg.beta1, cfg.beta2))
    judge, judge_styles = load_judge(cfg.judge, device)
    held_out = data.held_out(cfg.eval_samples, cfg.seed)
    real_metrics = {names[i]: window_metrics(b["windows"]) for i, b in held_out.items() if len(b["windows"])}
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    state_path, log_path = out / "train_state.pt", out / "train_log.jsonl"
    start_epoch, best, best_since = 0, {"score": -math.inf}, 1
    if cfg.resume and state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=True)
        g_opt = resume_generator(generator, cfg, state)
        critic.load_state_dict(state["critic"])
        d_opt.load_state_dict(state["critic_optimizer"])
        start_epoch, best = int(state["epoch"]), json.loads(state["best"])
        best_since = int(state.get("best_since", 1))
        if cfg.restart_best:  # the epochs before were trained (and scored) under another recipe
            best, best_since = {"score": -math.inf}, start_epoch + 1
        rng = np.random.default_rng(cfg.seed + start_epoch)
        torch.manual_seed(cfg.seed + start_epoch)
    with log_path.open("a") as log:  # each (re)start's settings and the real windows' figures to compare with
        log.write(
            json.dumps(
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
            + "\n"
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
                b = _tensor(data.batch(rng, cfg.batch_size, cfg), device)
                with torch.no_grad():
                    logits, gate = generator.forward_with_gate(
                        generator.sample_noise(cfg.batch_size), b["styles"], b["chords"], b["previous"]
                    )
                    fake = generator.relaxed(logits, cfg.tau, gate)
                real = F.one_hot(b["windows"], NUM_PITCH_TOKENS).float()
                real_score, real_style = critic(real, b["chords"], b["previous"])
                fake_score, _ = critic(fake, b["chords"], b["previous"])
                gp = gradient_penalty(critic, real, fake, b["chords"], b["previous"])
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
            b = _tensor(data.batch(rng, cfg.batch_size, cfg), device)
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
        with log_path.open("a") as log:
            log.write(json.dumps(row) + "\n")
        metadata = {
            "styles": names,
            "evaluation": {**report, "metric_gap": gap, "score": score, "real_metrics": real_metrics},
            "training": {
                **asdict(cfg),
                "epoch": epoch,
                "step": row["step"],
                "best_since": best_since,
                "step_loss": STEP_LOSS_FORM,
                "metric_gap_figures": [name if scale == 1 else f"{name} / {scale:g}" for name, scale in GAP_FIGURES],
                **training,
            },
        }
        save_stylegan(generator, out / "last", metadata)
        if score > best["score"]:
            best = {
                "epoch": epoch,
                "step": row["step"],
                "score": score,
                "judge_balanced": report["judge_balanced"],
                "metric_gap": gap,
            }
            save_stylegan(generator, out, metadata)
        torch.save(
            {
                "generator": generator.state_dict(),
                "critic": critic.state_dict(),
                "generator_optimizer": g_opt.state_dict(),
                "critic_optimizer": d_opt.state_dict(),
                "epoch": epoch,
                "best": json.dumps(best),
                "best_since": best_since,
            },
            state_path,
        )
    return best
