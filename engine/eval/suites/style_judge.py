"""The style judge on real windows: its accuracy overall, balanced over styles, and per style."""

from __future__ import annotations

import numpy as np
import torch

from engine.models.style_judge import StyleJudge


def per_style_accuracy(
    model: StyleJudge, windows: np.ndarray, styles: np.ndarray, names: list[str], device: torch.device, batch: int = 512
) -> dict:
    """{"overall": acc, "per_style": {name: acc}, "counts": {name: n}} of the judge on ``windows`` (N, 4, 32)."""
    batches: list[np.ndarray] = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(windows), batch):
            batches.append(
                model(torch.as_tensor(windows[start : start + batch], device=device)).argmax(1).cpu().numpy()
            )
    predicted = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    per_style = {
        name: round(float((predicted[styles == i] == i).mean()), 4)
        for i, name in enumerate(names)
        if (styles == i).any()
    }
    return {
        "overall": round(float((predicted == styles).mean()), 4) if len(styles) else 0.0,
        "balanced": round(float(np.mean(list(per_style.values()))), 4) if per_style else 0.0,
        "per_style": per_style,
        "counts": {name: int((styles == i).sum()) for i, name in enumerate(names)},
    }
