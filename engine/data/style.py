"""Four-track, 2-bar windows in named styles, for the style judge and the style generators (MusAE, the style GAN).

Every window is four monophonic tracks of 32 sixteenth steps in EC2-VAE's 130 tokens (pitch onset,
HOLD, REST; engine.music.representation), track 0 the highest voice and track 3 the lowest. Windows
start at every bar line after the pickup (hop of one bar) and span 32 steps whatever the meter,
as the EC2-VAE data does (in 3/4 a window covers two bars and two thirds).

Styles and what fills the four tracks:

* **Bach chorale** (music21 corpus ``bach``, four parts): soprano, alto, tenor, bass.
* **Palestrina mass** (``palestrina``, Humdrum, 4-6 voices): the highest, the lowest and the two
  voices nearest the middle; note values halved (4/2 read as 4/4, as modern editions do), else a
  2-bar window would hold a handful of whole notes.
* **Monteverdi madrigal** (``monteverdi``, five voices): four of five (the highest, the lowest, the middle one
  and the one above it: the fourth voice from the top is dropped).
* **Trecento** (``trecento``, two or three voices): the top voice on track 0, the lowest on track 3,
  a middle one on track 1; the rest silent.
* **String quartet** (``haydn``, ``mozart``, ``beethoven`` movements with exactly four parts):
  violin I, violin II, viola, cello (double stops: the top note).
* **English folk** (the shipped Nottingham MIDI: melody and chords): the melody, then two inner
  voices and a bass built from the chord symbols (the chord tones nearest below the melody's
  register, and the root in the bass), each held for the chord's length.
* **Irish folk** (O'Neill's 1850 collection, ABC): the melody alone; the other three tracks rest.

A piece's voices are ranked by mean pitch. Parsing with music21 is slow, so
:func:`build_style_cache` parses every file once (two processes) and writes one ``.npz`` of
windows with their style and piece names (the train/validation split is a seeded hash of the
piece, engine.io.corpus.is_validation). Transposition (-5..+6) happens when batches are drawn
(:func:`transpose_windows`).
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine.io.corpus import is_validation
from engine.music import LeadSheet
from engine.music.constants import HOLD, TRACKS, WINDOW_STEPS
from engine.music.multitrack import STYLES, choose_voices, piece_windows, transpose_windows, voice_tokens

log = logging.getLogger(__name__)


CACHE_VERSION = 1


@dataclass(frozen=True)
class Source:
    """Where one style's pieces come from: files of the music21 corpus (globs) or a data folder, and how to read
    them."""

    style: str
    globs: tuple[str, ...]
    time_scale: float = 1.0  # multiply note values (0.5: 4/2 read as 4/4)
    min_parts: int = 1
    max_parts: int = 8
    exact_parts: int | None = None


def corpus_root() -> Path:
    """The music21 package's corpus folder."""
    import music21

    return Path(music21.__file__).parent / "corpus"


SOURCES = (
    Source("Bach chorale", ("bach/*.mxl", "bach/*.xml"), exact_parts=4),
    Source("Palestrina mass", ("palestrina/*.krn",), time_scale=0.5, min_parts=4),
    Source("Monteverdi madrigal", ("monteverdi/*.mxl",), min_parts=4),
    Source("Trecento", ("trecento/*.xml", "trecento/*.mxl"), min_parts=2, max_parts=3),
    Source("String quartet", ("haydn/**/*.mxl", "mozart/**/*.mxl", "beethoven/**/*.mxl"), exact_parts=4),
)


def read_score_windows(
    path: str, time_scale: float = 1.0, min_parts: int = 1, max_parts: int = 8, exact_parts: int | None = None
) -> np.ndarray:
    """The windows of one score file music21 reads (MusicXML, Humdrum, ABC); empty when it has the wrong number
    of parts or cannot be read."""
    from music21 import converter, meter, stream

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = converter.parse(path)
            parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
            if (exact_parts and len(parts) != exact_parts) or not min_parts <= len(parts) <= max_parts:
                return np.zeros((0, TRACKS, WINDOW_STEPS), dtype=np.int64)
            signature = score.recurse().getElementsByClass(meter.TimeSignature).first()
            bar_quarters = float(signature.barDuration.quarterLength) if signature is not None else 4.0
            scale = 4 * time_scale  # steps per quarter
            total = int(round(float(score.highestTime) * scale))
            voices = []
            for part in parts:
                notes = []
                for element in part.stripTies().recurse().notes:
                    start = float(element.getOffsetInHierarchy(part)) * scale
                    end = start + float(element.quarterLength) * scale
                    top = max(p.midi for p in element.pitches)
                    notes.append((int(round(start)), int(round(end)), top))
                voices.append(voice_tokens(notes, total))
            measures = list(parts[0].getElementsByClass(stream.Measure))
            starts = [
                int(round(float(m.offset) * scale))
                for m in measures
                if abs(float(m.duration.quarterLength) - bar_quarters) < 1e-6
            ]  # full bars only (no pickup)
    except Exception as err:  # noqa: BLE001 - one unreadable file must not stop the cache
        log.warning("skipping %s: %s", path, err)
        return np.zeros((0, TRACKS, WINDOW_STEPS), dtype=np.int64)
    return piece_windows(choose_voices(voices), starts)


def nottingham_windows(path: str) -> np.ndarray:
    """English folk: a Nottingham tune's melody with two inner voices and a bass from its chords."""
    from engine.io.midi import read_midi

    try:
        sheet = read_midi(path)
    except Exception as err:  # noqa: BLE001
        log.warning("skipping %s: %s", path, err)
        return np.zeros((0, TRACKS, WINDOW_STEPS), dtype=np.int64)
    melody = sheet.melody
    starts = list(range(melody.pickup_steps, melody.num_steps, max(1, melody.steps_per_bar)))
    return piece_windows(list(built_accompaniment(sheet)), starts)


def built_accompaniment(sheet: LeadSheet) -> np.ndarray:
    """A tune's melody (track 0) over two inner voices and a bass built from its chords: (4, steps) tokens. The
    inner voices are the two highest chord tones below the melody's lowest note (within an octave and a half), the
    bass the chord's slash bass, else its lowest pitch class counted from C (the root only for chords on C to E: the
    cache the style models were trained on was built so), between C2 and B2."""
    melody = sheet.melody
    total = melody.num_steps
    lead = voice_tokens([(n.start, n.end, n.pitch) for n in melody.notes], total)
    low = min((n.pitch for n in melody.notes), default=60)
    alto, tenor, bass = [], [], []
    for chord in sheet.chords.chords:
        pcs = list(chord.pitch_classes)
        if not pcs:
            continue
        root = chord.bass if chord.bass is not None else pcs[0]
        below = sorted((p for p in range(low - 18, low) if p % 12 in pcs), reverse=True)
        if len(below) >= 2:
            alto.append((chord.start, chord.end, below[0]))
            tenor.append((chord.start, chord.end, below[1]))
        bass.append((chord.start, chord.end, 36 + (root - 36) % 12))
    return np.stack([lead, voice_tokens(alto, total), voice_tokens(tenor, total), voice_tokens(bass, total)])


def abc_melody_windows(path: str) -> np.ndarray:
    """Irish folk: every tune of an ABC file, melody alone on track 0."""
    from engine.io.abc import read_abc_file

    try:
        sheets = read_abc_file(path)
    except Exception as err:  # noqa: BLE001
        log.warning("skipping %s: %s", path, err)
        return np.zeros((0, TRACKS, WINDOW_STEPS), dtype=np.int64)
    out = []
    for sheet in sheets:
        melody = sheet.melody
        if melody.steps_per_bar <= 0:  # a meter shorter than a sixteenth (e.g. 1/32): no bars to start at
            continue
        lead = voice_tokens([(n.start, n.end, n.pitch) for n in melody.notes], melody.num_steps)
        starts = list(range(melody.pickup_steps, melody.num_steps, melody.steps_per_bar))
        windows = piece_windows([lead, None, None, None], starts)
        if len(windows):
            out.append(windows)
    return np.concatenate(out) if out else np.zeros((0, TRACKS, WINDOW_STEPS), dtype=np.int64)


def _jobs(nottingham: Path | None, max_files: int | None) -> list[tuple[str, str, str, dict]]:
    """(style, piece name, path, reader kwargs) for every file of every style."""
    root = corpus_root()
    jobs = []
    for source in SOURCES:
        files = sorted({p for pattern in source.globs for p in root.glob(pattern)})[:max_files]
        kwargs = {
            "time_scale": source.time_scale,
            "min_parts": source.min_parts,
            "max_parts": source.max_parts,
            "exact_parts": source.exact_parts,
        }
        jobs += [(source.style, str(p.relative_to(root)), str(p), {"reader": "score", **kwargs}) for p in files]
    if nottingham is not None:
        files = sorted(nottingham.glob("*.mid"))[:max_files]
        jobs += [("English folk", f"nottingham/{p.name}", str(p), {"reader": "nottingham"}) for p in files]
    files = sorted((root / "oneills1850").glob("*.abc"))[:max_files]
    jobs += [("Irish folk", f"oneills1850/{p.name}", str(p), {"reader": "abc"}) for p in files]
    return jobs


def _run(job: tuple[str, str, str, dict]) -> tuple[str, str, np.ndarray]:
    style, name, path, kwargs = job
    kwargs = dict(kwargs)
    reader = kwargs.pop("reader")
    try:
        if reader == "score":
            windows = read_score_windows(path, **kwargs)
        elif reader == "nottingham":
            windows = nottingham_windows(path)
        else:
            windows = abc_melody_windows(path)
    except Exception as err:  # noqa: BLE001 - one odd file (say a meter of no length) must not lose the whole run
        log.warning("skipping %s: %s", path, err)
        windows = np.zeros((0, TRACKS, WINDOW_STEPS), dtype=np.int64)
    return style, name, windows


def build_style_cache(
    out: str | Path, nottingham: str | Path | None = None, processes: int = 2, max_files: int | None = None
) -> dict:
    """Parse every style's files (``processes`` at once) into ``out`` (.npz: windows (N, 4, 32) int16, style (N,),
    piece (N,) indices, and the names) and return per-style counts of pieces and windows."""
    jobs = _jobs(Path(nottingham) if nottingham else None, max_files)
    results = []
    with Pool(processes) as pool:
        for result in tqdm(pool.imap(_run, jobs, chunksize=4), total=len(jobs), desc="style data", unit="file"):
            results.append(result)
    pieces = sorted({(style, name) for style, name, w in results if len(w)})
    piece_index = {key: i for i, key in enumerate(pieces)}
    windows = [w for _, _, w in results if len(w)]
    styles = np.concatenate([np.full(len(w), STYLES.index(s)) for s, _, w in results if len(w)])
    piece_ids = np.concatenate([np.full(len(w), piece_index[(s, n)]) for s, n, w in results if len(w)])
    stacked = np.concatenate(windows).astype(np.int16)
    counts = {
        style: {"pieces": sum(1 for s, _ in pieces if s == style), "windows": int((styles == i).sum())}
        for i, style in enumerate(STYLES)
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        windows=stacked,
        style=styles.astype(np.int8),
        piece=piece_ids.astype(np.int32),
        piece_names=np.array([f"{s}|{n}" for s, n in pieces]),
        styles=np.array(STYLES),
        meta=np.array(json.dumps({"version": CACHE_VERSION, "counts": counts})),
    )
    return counts


def pitch_ranges(windows: np.ndarray, styles: np.ndarray, num_styles: int, low: int, high: int) -> list:
    """Per style and track, [lowest + low, highest + high] of the pitches struck in ``windows`` (N, tracks, 32) (the
    transposition interval widens them as training did), clipped to MIDI 0..127; None for a track with no note in that
    style. The generators' pitch_ranges (StyleGANConfig, MusAEConfig)."""
    out = []
    for style in range(num_styles):
        chosen = windows[styles == style]
        per_track = []
        for track in range(windows.shape[1]):
            onsets = chosen[:, track][chosen[:, track] < HOLD] if len(chosen) else np.zeros(0)
            per_track.append(
                [max(0, int(onsets.min()) + low), min(127, int(onsets.max()) + high)] if len(onsets) else None
            )
        out.append(per_track)
    return out


BUILD_COMMAND = "python -m engine.data style --nottingham DIR --out data_cache/style_windows.npz"


def load_style_cache(path: str | Path) -> dict:
    """The arrays :func:`build_style_cache` wrote (windows as int64). A missing cache is a FileNotFoundError that names
    the command building it (parsing the corpus takes about 25 minutes on two cores)."""
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"No style cache at {path}: build it once with `{BUILD_COMMAND}` (DIR: the Nottingham MIDI folder, for "
            "English folk; about 25 minutes on two cores, with a progress bar)"
        )
    with np.load(path, allow_pickle=False) as data:
        out = {key: data[key] for key in data.files}
    out["windows"] = out["windows"].astype(np.int64)
    out["meta"] = json.loads(str(out["meta"]))
    return out


def split_by_piece(cache: dict, fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, held out) over the cache's windows, by piece name."""
    held = np.array([is_validation(str(name), fraction) for name in cache["piece_names"]])
    val = held[cache["piece"]]
    return ~val, val


@dataclass
class StyleSplit:
    """A style cache split by piece, with style-balanced, transposed training batches (both style trainers use it)."""

    names: list[str]
    windows: np.ndarray  # (N, 4, 32) tokens
    styles: np.ndarray  # (N,) style indices
    train_mask: np.ndarray
    val_mask: np.ndarray

    @classmethod
    def load(cls, path: str | Path) -> StyleSplit:
        cache = load_style_cache(path)
        train_mask, val_mask = split_by_piece(cache)
        split = cls(
            [str(s) for s in cache["styles"]], cache["windows"], cache["style"].astype(np.int64), train_mask, val_mask
        )
        split.counts = cache["meta"]["counts"]
        return split

    def __post_init__(self) -> None:
        self.by_style = [np.flatnonzero(self.train_mask & (self.styles == i)) for i in range(len(self.names))]
        self.present = [i for i, idx in enumerate(self.by_style) if len(idx)]
        self.counts: dict = {}

    def batch(self, rng: np.random.Generator, size: int, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
        """(windows (size, 4, 32), style labels (size,)): every style drawn equally often, each window transposed by a
        random interval in low..high semitones."""
        labels = rng.choice(self.present, size=size)
        picks = np.array([rng.choice(self.by_style[label]) for label in labels])
        return transpose_windows(self.windows[picks], rng.integers(low, high + 1, size=size)), labels
