"""Record the style data's pitch ranges in a style model's checkpoint (``python -m engine.train.pitch_ranges DIR``).

The MusAE and style GAN trainers record, per style and track, the pitches the training windows strike
(engine.data.style.pitch_ranges), and decoding stays inside them. This writes them into the
``config.json`` of a checkpoint trained before its trainer did, from the same training split and
transposition interval as its training config; the weights are untouched. ``training.pitch_ranges_added``
says so in the config.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.data.style import StyleSplit, pitch_ranges
from engine.paths import STYLE_CACHE


def record_pitch_ranges(checkpoint: str | Path, data: str | Path) -> list:
    """Write the pitch ranges of ``data``'s training split into ``checkpoint``/config.json; returns them."""
    path = Path(checkpoint) / "config.json"
    meta = json.loads(path.read_text())
    split = StyleSplit.load(str(data))
    if list(meta.get("styles", [])) != list(split.names):
        raise ValueError(f"{checkpoint} knows the styles {meta.get('styles')}, the data {split.names}")
    training = meta.setdefault("training", {})
    low, high = int(training.get("transpose_low", -5)), int(training.get("transpose_high", 6))
    ranges = pitch_ranges(split.windows[split.train_mask], split.styles[split.train_mask], len(split.names), low, high)
    meta["config"]["pitch_ranges"] = ranges
    training["pitch_ranges_added"] = f"python -m engine.train.pitch_ranges (data {data}, transposition {low}..{high})"
    path.write_text(json.dumps(meta, indent=2) + "\n")
    return ranges


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.train.pitch_ranges", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a MusAE or style GAN checkpoint folder")
    parser.add_argument("--data", default=str(STYLE_CACHE), help="the style cache it was trained on")
    args = parser.parse_args(argv)
    ranges = record_pitch_ranges(args.checkpoint, args.data)
    print(f"{args.checkpoint}/config.json: pitch ranges of {len(ranges)} styles recorded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
