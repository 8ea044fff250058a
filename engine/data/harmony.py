"""The chord suggester's data: melodies with the chords real musicians put under them, as chord slots.

Three sources, each tune cut into slots by :mod:`engine.music.chord_vocab` and described in its own key:

* the **Nottingham** tunes (MIDI: a melody track and a chord track);
* the **O'Neill** and **Ryan's Mammoth** tunes of the music21 corpus that carry chord symbols (ABC ``"G"``): read,
  but music21's copies hold none (of their 3,068 tunes two have quoted letters, and those are accents and fingerings
  that music21 reads as annotations, so no tune comes from them);
* the **Bach chorales** of the music21 corpus: the soprano is the melody, and the chord of each slot is the one the
  four voices sound as it starts, on its first eighth (the bass weighing more).

Keys come from the melody alone (its key signature when it names one, else Krumhansl-Kessler on its notes), as they
will for a user's melody. Tunes are split into training and held-out ones by name (``engine.io.corpus``), stably.
"""

from __future__ import annotations

import logging
import re
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.io.abc import read_abc_text
from engine.io.corpus import is_validation, music_files, read_tunes
from engine.music import LeadSheet
from engine.music.chord_vocab import NO_CHORD, QUALITIES, chord_slots, melody_key, slot_features, slot_labels
from engine.music.chords import make_chord, recognize_chord
from engine.music.notes import Chord, ChordProgression, Melody, Note

log = logging.getLogger(__name__)

MIN_SLOTS = 4
CHORALE_ONSET_STEPS = 2  # the sonority on a slot's first eighth: passing notes come on the off-beats
ABC_COLLECTIONS = ("oneills1850", "ryansMammoth")
_CHORD_IN_ABC = re.compile(r'"[A-G][#b]?(?:m|min|maj|dim|aug|sus|7|6|9|\+|o)*[0-9]*(?:/[A-G][#b]?)?"')


@dataclass
class HarmonyTune:
    """One tune as the suggester sees it: its slots' features (S, F), their chord classes (S,) and its key."""

    name: str
    source: str
    key: str
    features: np.ndarray
    labels: np.ndarray
    sheet: LeadSheet | None = None  # the tune itself, when read for an evaluation (the cache keeps slots only)

    @property
    def held_out(self) -> bool:
        return is_validation(self.name)


def tune_of(name: str, source: str, sheet: LeadSheet) -> HarmonyTune | None:
    """A tune's slots, or None when it has fewer than MIN_SLOTS slots or no chords at all."""
    if not sheet.melody.notes or not sheet.chords.chords:
        return None
    key = melody_key(sheet.melody)
    slots = chord_slots(sheet.melody)
    if len(slots) < MIN_SLOTS:
        return None
    labels = slot_labels(sheet, key, slots)
    if np.mean(labels == NO_CHORD) > 0.5:
        return None
    return HarmonyTune(name, source, key, slot_features(sheet.melody, key, slots), labels, sheet)


def _wanted(name: str, held_out: bool | None) -> bool:
    """Whether to read the tune ``name``: every one (None), or only the held-out (True) or training (False) ones."""
    return held_out is None or is_validation(name) == held_out


def _nottingham_file(path: str, held_out: bool | None = None) -> list[HarmonyTune]:
    tunes = []
    for name, sheet in read_tunes(Path(path)):
        tune = tune_of(name, "nottingham", sheet) if _wanted(name, held_out) else None
        if tune is not None:
            tunes.append(tune)
    return tunes


def abc_tunes_with_chords(text: str, min_chords: int = 4) -> list[str]:
    """The tunes (each "X:" header to the next) of an ABC collection that carry at least ``min_chords`` chord
    symbols in their notes."""
    tunes = re.split(r"(?m)^(?=X:)", text)
    out = []
    for tune in tunes:
        if not tune.startswith("X:"):
            continue
        body = "\n".join(line for line in tune.splitlines() if not re.match(r"^[A-Za-z]:", line))
        if len(_CHORD_IN_ABC.findall(body)) >= min_chords:
            out.append(tune)
    return out


def _abc_file(path: str, held_out: bool | None = None) -> list[HarmonyTune]:
    tunes = []
    text = Path(path).read_text(encoding="latin-1")
    for index, abc in enumerate(abc_tunes_with_chords(text)):
        if not _wanted(f"{Path(path).name}#{index}", held_out):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sheet = read_abc_text(abc)
        except Exception as err:  # noqa: BLE001 - one unreadable tune must not stop the data
            log.debug("skipping tune %d of %s: %s", index, path, err)
            continue
        tune = tune_of(f"{Path(path).name}#{index}", Path(path).parent.name, sheet)
        if tune is not None:
            tunes.append(tune)
    return tunes


@dataclass
class Chorale:
    """A four-part chorale: each voice's notes (soprano first) on the sixteenth grid, its meter and pickup."""

    name: str
    voices: list[list[Note]]
    time_signature: tuple[int, int]
    pickup_steps: int

    @property
    def num_steps(self) -> int:
        return max(n.end for voice in self.voices for n in voice)

    @property
    def soprano(self) -> Melody:
        return Melody(
            self.voices[0], self.num_steps, time_signature=self.time_signature, pickup_steps=self.pickup_steps
        )


def read_chorale(path: str) -> Chorale | None:
    """A chorale of the music21 corpus (None for a file without four parts or without a soprano)."""
    from music21 import converter, meter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = converter.parse(path)
    parts = list(getattr(score, "parts", []))
    if len(parts) != 4:
        return None
    signature = score.recurse().getElementsByClass(meter.TimeSignature).first()
    num, den = (signature.numerator, signature.denominator) if signature is not None else (4, 4)
    bar_steps = int(round(float(signature.barDuration.quarterLength) * 4)) if signature is not None else 16
    voices: list[list[Note]] = []
    for part in parts:
        notes = []
        for element in part.stripTies().recurse().notes:
            start = int(round(float(element.getOffsetInHierarchy(part)) * 4))
            end = start + max(1, int(round(float(element.quarterLength) * 4)))
            pitch = max(p.midi for p in element.pitches)
            notes.append(Note(pitch, start, end))
        voices.append(sorted(notes, key=lambda n: n.start))
    if not voices[0]:
        return None
    first_full = next(
        (
            int(round(float(m.offset) * 4))
            for m in parts[0].getElementsByClass("Measure")
            if m.duration.quarterLength * 4 == bar_steps
        ),
        0,
    )
    return Chorale(Path(path).name, voices, (num, den), first_full % bar_steps)


def chorale_sheet(path: str) -> LeadSheet | None:
    """A Bach chorale as a lead sheet: the soprano, and per chord slot the chord the four voices sound (None for a
    file without four parts)."""
    chorale = read_chorale(path)
    if chorale is None:
        return None
    voices, melody = chorale.voices, chorale.soprano
    chords: list[Chord] = []
    for slot in chord_slots(melody):
        # Bach changes chord on nearly every beat: the slot's chord is the one sounding as it starts (passing notes
        # later in the slot would read as sevenths, suspensions and added notes)
        start, end = slot.start, min(slot.end, slot.start + CHORALE_ONSET_STEPS)
        weights = np.zeros(12)
        for voice in voices:
            for note in voice:
                overlap = min(note.end, end) - max(note.start, start)
                if overlap > 0:
                    weights[note.pitch % 12] += overlap
        bass = next((n for n in voices[3] if n.start <= start < n.end), None)
        if bass is not None:
            weights[bass.pitch % 12] += 0.5 * (end - start)
        symbol = recognize_chord(weights, suffixes=QUALITIES)
        if symbol != "N.C.":
            chords.append(make_chord(symbol, slot.start, slot.end))
    return LeadSheet(melody, ChordProgression(chords), Path(path).stem)


def _chorale_file(path: str, held_out: bool | None = None) -> list[HarmonyTune]:
    if not _wanted(Path(path).name, held_out):
        return []
    try:
        sheet = chorale_sheet(path)
    except Exception as err:  # noqa: BLE001
        log.debug("skipping %s: %s", path, err)
        return []
    tune = None if sheet is None else tune_of(Path(path).name, "bach", sheet)
    return [] if tune is None else [tune]


def corpus_jobs(
    nottingham: str | Path | None, corpus: Path | None, max_files: int | None = None, held_out: bool | None = None
) -> list[tuple]:
    """(reader, path, held_out) for every file of the three sources (``corpus``: music21's corpus folder; None leaves
    the music21 sources out); ``held_out``: read every tune (None) or only the held-out (True) or training ones."""
    jobs: list[tuple] = []
    if nottingham is not None:
        jobs += [(_nottingham_file, str(p)) for p in music_files(nottingham)[:max_files]]
    if corpus is not None:
        for collection in ABC_COLLECTIONS:
            jobs += [(_abc_file, str(p)) for p in sorted((corpus / collection).glob("*.abc"))[:max_files]]
        chorales = sorted((corpus / "bach").glob("bwv*.mxl"))[:max_files]
        jobs += [(_chorale_file, str(p)) for p in chorales]
    return [(reader, path, held_out) for reader, path in jobs]


def _run(job: tuple) -> list[HarmonyTune]:
    reader, path, held_out = job
    tunes: list[HarmonyTune] = reader(path, held_out)
    return tunes


def read_harmony_tunes(jobs: list[tuple], workers: int = 2) -> list[HarmonyTune]:
    """Every tune of ``jobs`` (see :func:`corpus_jobs`), read ``workers`` files at a time."""
    if workers <= 1:
        return [tune for job in jobs for tune in _run(job)]
    with ProcessPoolExecutor(workers) as pool:
        return [tune for tunes in pool.map(_run, jobs, chunksize=4) for tune in tunes]


def save_harmony_cache(tunes: list[HarmonyTune], path: str | Path) -> Path:
    """All tunes in one .npz: features and labels concatenated, with each tune's name, source, key and length."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        features=np.concatenate([t.features for t in tunes]),
        labels=np.concatenate([t.labels for t in tunes]),
        lengths=np.array([len(t.labels) for t in tunes]),
        names=np.array([t.name for t in tunes]),
        sources=np.array([t.source for t in tunes]),
        keys=np.array([t.key for t in tunes]),
    )
    return path


def load_harmony_cache(path: str | Path) -> list[HarmonyTune]:
    """The tunes of a cache written by :func:`save_harmony_cache`."""
    with np.load(path) as data:  # each key read decompresses its whole array: read each once
        arrays = {key: data[key] for key in ("features", "labels", "lengths", "names", "sources", "keys")}
    bounds = np.concatenate([[0], np.cumsum(arrays["lengths"])])
    return [
        HarmonyTune(
            str(arrays["names"][i]),
            str(arrays["sources"][i]),
            str(arrays["keys"][i]),
            arrays["features"][bounds[i] : bounds[i + 1]],
            arrays["labels"][bounds[i] : bounds[i + 1]],
        )
        for i in range(len(arrays["lengths"]))
    ]
