"""What keeping every result in the library adds to click-to-audio (the Compose button, 8 bars).

In process, on the shipped checkpoints: the studio composes as the page does, once with a library and once
without, alternating, and the time spent inside the keeper (copying the MIDI and the player's audio into the
library, committing the row) is measured directly on every click. Target: p95 at most 30 ms a click.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench.stats import percentile


def library_save_cost(checkpoint: str, rhythm: str, chords: str, calls: int = 20) -> dict:
    """p50/p95 of the milliseconds a click spends keeping its result, and the click's total with and without."""
    from app.library import Library
    from app.services import Studio

    folder = Path(tempfile.mkdtemp(prefix="cadenza_bench_library_"))
    try:
        with_library = Studio.load(checkpoint, cache_dir=folder / "cache", library=Library(folder / "data"))
        without = Studio(with_library.pipeline, with_library.synthesizer, cache_dir=folder / "cache2")
        keeper = with_library.keeper
        keeper.register("bench", None)
        spent: list[float] = []
        original = keeper.keep

        def timed_keep(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent.append((time.perf_counter() - started) * 1000)

        keeper.keep = timed_keep  # type: ignore[method-assign]
        totals: dict[str, list[float]] = {"with": [], "without": []}
        per_click: list[float] = []
        for call in range(calls + 2):  # two warm-up clicks each
            for name, studio in (("with", with_library), ("without", without)):
                before = len(spent)
                started = time.perf_counter()
                studio.compose(rhythm, chords, 8, seed=call, variations=1, session_id="bench", temperature=0.5)
                elapsed = (time.perf_counter() - started) * 1000
                if call >= 2:
                    totals[name].append(elapsed)
                    if name == "with":
                        per_click.append(sum(spent[before:]))
        kept = len(with_library.keeper.library.list(with_library.keeper.owner_of("bench")))
        return {
            "calls": calls,
            "pieces_kept": kept,
            "save_ms_per_click_p50": round(percentile(per_click, 50), 2),
            "save_ms_per_click_p95": round(percentile(per_click, 95), 2),
            "compose_ms_with_library_p50": round(percentile(totals["with"], 50), 1),
            "compose_ms_without_library_p50": round(percentile(totals["without"], 50), 1),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
