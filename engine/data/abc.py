"""Training data of the ABC emotion model: ABC collections -> cleaned tunes with EMusicGen's rough labels.

Every tune of every .abc file under the data folders is cleaned (engine.io.abc_text) and parsed
once with music21 (slow: about 0.1 s a tune, so the result is cached as JSON lines). A tune is
kept when music21 reads notes from it. Its labels are made as EMusicGen makes them:
* valence: the mode of music21's key analysis of the notes (major -> positive, minor -> negative).
  The K: field's mode is kept beside it (``mode``) but not used: the Essen collection writes most of
  its minor and modal songs with major key signatures and accidentals, so by K: fields only 699 of
  13,693 tunes are minor (74 of them low-arousal), against 3,127 by analysis. The analysis is rough
  too (it calls Nottingham's "Abacus", in G with a strain in E minor, e minor): rough labels, as
  EMusicGen's are;
* arousal: the standard deviation of its MIDI pitches, split at the corpus median
  (above -> high arousal);
giving Russell quadrants Q1 (+V +A, happy), Q2 (-V +A, tense), Q3 (-V -A, sad), Q4 (+V -A, calm).
"""

from __future__ import annotations

import json
import logging
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.io.abc_text import clean_tune, key_field_mode, split_tunes

log = logging.getLogger(__name__)


@dataclass
class LabelledTune:
    source: str  # "file.abc#index"
    title: str
    text: str  # cleaned ABC: X, M, L, K, body
    meter: str
    key: str
    bars: int
    notes: int
    pitch_mean: float
    pitch_sd: float
    mode: str  # from the K: field: "major" or "minor"
    analysed_mode: str  # music21's key analysis: "major" or "minor"
    quadrant: str = ""  # filled once the corpus median of pitch_sd is known


def _analyse(args: tuple[str, str, str]) -> dict | None:
    """Parse one cleaned tune with music21 -> its features, or None when music21 reads no notes."""
    source, title, text = args
    from music21 import converter

    from engine.io.abc import as_abc21

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = converter.parse(as_abc21(text), format="abc")
            pitches = [p.midi for n in score.flatten().notes for p in n.pitches]
            if len(pitches) < 8:
                return None
            key = score.analyze("key")
            # music21's parse union: ABC reads as a Score (an Opus has no .parts: it raises, caught below)
            parts = score.parts if score.parts else [score]  # type: ignore[union-attr]
            bars = len(parts[0].getElementsByClass("Measure")) or 1
    except Exception:  # music21 raises many kinds for broken ABC: the tune is left out
        return None
    header = dict(line.split(":", 1) for line in text.splitlines()[1:4])
    return asdict(
        LabelledTune(
            source,
            title,
            text,
            header["M"],
            header["K"],
            int(bars),
            len(pitches),
            float(np.mean(pitches)),
            float(np.std(pitches)),
            key_field_mode(header["K"]),
            str(key.mode),
        )
    )


def abc_files(folders: list[str | Path]) -> list[Path]:
    files = []
    for folder in folders:
        folder = Path(folder)
        files += sorted(folder.rglob("*.abc")) if folder.is_dir() else [folder]
    return files


def label_corpus(
    folders: list[str | Path], cache: str | Path, workers: int = 2, limit: int | None = None
) -> list[LabelledTune]:
    """Every usable tune under ``folders`` with its features and quadrant (cached in ``cache``, JSON lines)."""
    cache = Path(cache)
    if cache.exists():
        rows = [json.loads(line) for line in cache.read_text().splitlines()]
    else:
        jobs = []
        for path in abc_files(folders):
            for index, tune in enumerate(split_tunes(path.read_text(errors="replace"))):
                cleaned = clean_tune(tune)
                jobs.append((f"{path.parent.name}/{path.name}#{index}", tune.title, cleaned.text()))
        jobs = jobs[:limit] if limit else jobs
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = [row for row in pool.map(_analyse, jobs, chunksize=16) if row is not None]
        log.info("%d of %d tunes read by music21", len(rows), len(jobs))
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text("".join(json.dumps(row) + "\n" for row in rows))
    median = float(np.median([row["pitch_sd"] for row in rows]))
    tunes = []
    for row in rows:
        row["quadrant"] = quadrant_of(row["analysed_mode"] == "major", row["pitch_sd"] > median)
        tunes.append(LabelledTune(**row))
    return tunes


def quadrant_of(positive_valence: bool, high_arousal: bool) -> str:
    """Russell quadrant of a valence sign and an arousal level."""
    if high_arousal:
        return "Q1" if positive_valence else "Q2"
    return "Q4" if positive_valence else "Q3"
