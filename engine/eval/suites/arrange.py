"""Arrangements measured against real four-part settings of the same melodies (engine.pipelines.arrange).

* **chorales**: the held-out Bach chorales in 4/4 (the harmony data's split), their first ``bars`` bars: the soprano
  arranged as a Bach chorale over the chord suggester's chords, beside Bach's own alto, tenor and bass;
* **folk**: held-out Nottingham tunes in 4/4 or 2/4, their first ``bars`` bars: the melody arranged as English folk
  over the tune's own chords, beside the accompaniment built from those chords (engine.data.style, the style models'
  English folk);
* **styles**: a few of those melodies arranged in each of the seven styles over suggested chords.

Figures (engine.eval.metrics.voices): the style judge's share of 2-bar windows heard in the asked style, the melody
kept note for note, the lower voices' chord-tone share (against the chords each was written over), parallel fifths
and octaves per 100 voice-pair moves, the voice-crossing share and, for chorales, the share of beats whose chord is
Bach's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.data.harmony import chorale_sheet, read_chorale
from engine.data.style import built_accompaniment, corpus_root
from engine.eval.metrics.voices import (
    beat_chord_match,
    lower_chord_tone_share,
    melody_kept,
    parallels_per_100_moves,
    voice_crossing_share,
)
from engine.io.corpus import is_validation, music_files, read_tunes
from engine.music import LeadSheet
from engine.music.multitrack import voice_tokens
from engine.music.notes import ChordProgression, Note
from engine.music.representation import tokens_to_notes
from engine.pipelines.arrange import WINDOW, Arrangement, ArrangePipeline, arrangeable
from engine.pipelines.harmonize import melody_for_chords

DATA = "the Nottingham MIDI folder for --data (folk); the Bach chorales come with the music21 package"
ARRANGE_FIGURES = (
    "judge_in_style",
    "melody_kept",
    "lower_chord_tones",
    "parallels_per_100",
    "voice_crossing",
    "beat_chords",
)


def _tokens(voices: list[list[Note]], end: int, offset: int) -> np.ndarray:
    """(4, steps) tokens of four voices cut at ``end`` and moved ``offset`` steps later, in whole 2-bar windows."""
    steps = -(-(end + offset) // WINDOW) * WINDOW
    cut = [[(n.start + offset, min(n.end, end) + offset, n.pitch) for n in v if n.start < end] for v in voices]
    return np.stack([voice_tokens(notes, steps) for notes in cut])


def _judged(pipe: ArrangePipeline, tokens: np.ndarray, style: str) -> float:
    """The share of a piece's 2-bar windows the judge hears in ``style``."""
    count = tokens.shape[1] // WINDOW
    windows = torch.as_tensor(tokens.reshape(4, count, WINDOW).transpose(1, 0, 2).copy(), device=pipe.device)
    verdicts = pipe.gan.judge(windows).argmax(1).tolist()
    return float(np.mean([pipe.styles[v] == style for v in verdicts]))


def _figures(
    pipe: ArrangePipeline, tokens: np.ndarray, style: str, chords: ChordProgression, offset: int
) -> dict[str, float | None]:
    return {
        "judge_in_style": _judged(pipe, tokens, style),
        "lower_chord_tones": lower_chord_tone_share(tokens, chords, offset),
        "parallels_per_100": parallels_per_100_moves(tokens),
        "voice_crossing": voice_crossing_share(tokens),
    }


def _arranged(arrangement: Arrangement, pipe: ArrangePipeline, melody: list[Note]) -> dict[str, float | None]:
    figures = _figures(pipe, arrangement.tokens, arrangement.style, arrangement.chords, arrangement.offset)
    figures["melody_kept"] = float(melody_kept(arrangement.tokens, melody, arrangement.offset))
    return figures


def _means(rows: list[dict[str, float | None]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for figure in ARRANGE_FIGURES:
        values = [v for row in rows if (v := row.get(figure)) is not None]
        if values:
            out[figure] = round(float(np.mean(values)), 4)
    return out


def chorale_rows(pipe: ArrangePipeline, bars: int, seed: int, limit: int | None) -> tuple[list, list]:
    """(arranged, real) figures of the held-out 4/4 chorales."""
    arranged: list[dict[str, float | None]] = []
    real: list[dict[str, float | None]] = []
    paths = [p for p in sorted((corpus_root() / "bach").glob("bwv*.mxl")) if is_validation(p.name)]
    for path in paths:
        if limit is not None and len(arranged) >= limit:
            break
        chorale = read_chorale(str(path))
        sheet = chorale_sheet(str(path))
        if chorale is None or sheet is None or chorale.time_signature != (4, 4):
            continue
        tune = arrangeable(melody_for_chords(chorale.soprano, bars))
        out = pipe(tune, "Bach chorale", seed=seed)
        arrangement = out.samples[0]
        end = tune.num_steps
        bach = _tokens(chorale.voices, end, arrangement.offset)
        row = _arranged(arrangement, pipe, tune.notes)
        width = min(bach.shape[1], arrangement.tokens.shape[1])
        row["beat_chords"] = beat_chord_match(arrangement.tokens[:, :width], bach[:, :width])
        arranged.append(row)
        real.append(_figures(pipe, bach, "Bach chorale", sheet.chords, arrangement.offset))
    return arranged, real


def folk_tunes(data: str | Path, limit: int) -> list[LeadSheet]:
    """Held-out Nottingham tunes in 4/4 or 2/4."""
    tunes = []
    for path in music_files(data):
        for name, sheet in read_tunes(path):
            if is_validation(name) and sheet.melody.time_signature in ((4, 4), (2, 4)) and sheet.chords.chords:
                tunes.append(sheet)
        if len(tunes) >= limit:
            break
    return tunes[:limit]


def folk_rows(pipe: ArrangePipeline, tunes: list[LeadSheet], bars: int, seed: int) -> tuple[list, list]:
    """(arranged, real) figures of Nottingham tunes as English folk over their own chords."""
    arranged: list[dict[str, float | None]] = []
    real: list[dict[str, float | None]] = []
    for sheet in tunes:
        tune = arrangeable(melody_for_chords(sheet, bars))
        chords = ChordProgression([c for c in sheet.chords.chords if c.start < tune.num_steps])
        arrangement = pipe(tune, "English folk", seed=seed, chords=chords).samples[0]
        arranged.append(_arranged(arrangement, pipe, tune.notes))
        built = built_accompaniment(LeadSheet(tune, chords))
        voices = [tokens_to_notes(row) for row in built]
        folk = _tokens(voices, tune.num_steps, arrangement.offset)
        real.append(_figures(pipe, folk, "English folk", chords, arrangement.offset))
    return arranged, real


def evaluate_arrange(
    data: str | Path | None,
    checkpoint: str | Path | None = None,
    harmonizer: str | Path | None = None,
    bars: int = 8,
    max_pieces: int = 24,
    style_tunes: int = 4,
    seed: int = 0,
    device: str = "cpu",
    music21: bool = True,
    infiller: str | Path | None = None,
) -> dict[str, Any]:
    """Every figure of the module docstring: arranged and real, per set (``music21``: with the chorales).
    ``infiller``: the voice infiller's checkpoint (None: the shipped one; "": the style GAN writes)."""
    started = time.time()
    pipe = ArrangePipeline.from_pretrained(checkpoint, device=device, harmonizer=harmonizer, infiller=infiller)
    writers = {style: pipe.writer_for(style) for style in pipe.styles}
    result: dict[str, Any] = {"bars": bars, "seed": seed, "writer": pipe.writer, "writers": writers}
    if music21:
        arranged, real = chorale_rows(pipe, bars, seed, max_pieces)
        result["chorales"] = {"pieces": len(arranged), "arranged": _means(arranged), "real": _means(real)}
    if data is not None:
        tunes = folk_tunes(data, max_pieces)
        arranged, real = folk_rows(pipe, tunes, bars, seed)
        result["folk"] = {"pieces": len(arranged), "arranged": _means(arranged), "real": _means(real)}
        per_style = {}
        for style in pipe.styles:
            shares = [
                _judged(pipe, pipe(arrangeable(melody_for_chords(s, bars)), style, seed=seed).samples[0].tokens, style)
                for s in tunes[:style_tunes]
            ]
            per_style[style] = round(float(np.mean(shares)), 4) if shares else None
        result["styles"] = {"tunes": min(style_tunes, len(tunes)), "judge_in_style": per_style}
    result["seconds"] = round(time.time() - started, 1)
    return result
