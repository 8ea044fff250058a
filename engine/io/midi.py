"""MIDI files -> LeadSheet.

Two layouts are understood:
* Nottingham: track 0 melody, track 1 block chords;
* anything else: the melody track is chosen (by the caller, or the most
  melodic-looking non-drum track), reduced to one voice (highest note wins at
  each onset), and chords are recognised beat by beat from the other tracks.

Times are quantised to sixteenth steps from MIDI ticks, so tempo changes do not
move notes; the tempo map is kept on the Melody (``tempo_changes``) with the meter after any pickup.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.music import Chord, ChordProgression, LeadSheet, Melody, Note, Part
from engine.music.chords import make_chord, recognize_chord
from engine.music.errors import MidiReadError

MAX_MIDI_BYTES = 4 * 1024 * 1024


MAX_NOTES = 50_000


MAX_TRACKS = 64


MAX_STEPS = 16 * 512  # 512 bars of 4/4


@dataclass(frozen=True)
class TrackInfo:
    """What the UI shows when a user picks a track."""

    index: int
    name: str
    program: int
    is_drum: bool
    num_notes: int
    mean_pitch: float
    polyphony: float  # mean number of notes sounding at an onset


def read_midi_bytes(source: bytes | str | Path) -> bytes:
    """The bytes of a MIDI source (a path or bytes), refusing missing and oversized files before reading them."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise MidiReadError(f"MIDI file not found: {path}")
        size = path.stat().st_size
        if size > MAX_MIDI_BYTES:
            raise MidiReadError(f"MIDI file is {size / 1e6:.1f} MB; the limit is {MAX_MIDI_BYTES / 1e6:.0f} MB")
        return path.read_bytes()
    if not isinstance(source, (bytes, bytearray, memoryview)):
        raise MidiReadError(f"A MIDI source must be a file path or bytes, not {type(source).__name__}")
    return bytes(source)


def _load_pretty_midi(source: bytes | str | Path):
    import pretty_midi

    data = read_midi_bytes(source)
    if not data:
        raise MidiReadError("The MIDI file is empty (0 bytes)")
    if len(data) > MAX_MIDI_BYTES:
        raise MidiReadError(f"MIDI file is {len(data) / 1e6:.1f} MB; the limit is {MAX_MIDI_BYTES / 1e6:.0f} MB")
    if not data.startswith(b"MThd"):
        raise MidiReadError("This is not a MIDI file (it does not start with the 'MThd' header)")
    check_track_count(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as err:  # mido/pretty_midi raise many kinds for broken files
        if "largest tick" in str(err):  # pretty_midi refuses files longer than 10^7 ticks
            raise MidiReadError(
                "The MIDI file is too long to read (over 10 million ticks); use a shorter excerpt"
            ) from None
        raise MidiReadError(
            f"The MIDI file is damaged or truncated and could not be read ({type(err).__name__}: {err})"
        ) from None
    total = sum(len(inst.notes) for inst in pm.instruments)
    if total > MAX_NOTES:
        raise MidiReadError(f"The MIDI file has {total:,} notes; the limit is {MAX_NOTES:,}")
    return pm


def load_pretty_midi(source: bytes | str | Path):
    """A checked ``pretty_midi.PrettyMIDI`` (size, header, track and note limits; MidiReadError naming the problem)."""
    return _load_pretty_midi(source)


def check_track_count(data: bytes) -> None:
    """Reject a file whose header announces more than MAX_TRACKS tracks, before parsing it."""
    if len(data) >= 12 and data.startswith(b"MThd"):
        tracks = int.from_bytes(data[10:12], "big")
        if tracks > MAX_TRACKS:
            raise MidiReadError(
                f"The MIDI file has {tracks} tracks; the limit is {MAX_TRACKS}. "
                "Export just the melody (and its accompaniment) and try again"
            )


def _steps_of(pm, time: float) -> int:
    return int(round(pm.time_to_tick(time) * 4 / pm.resolution))


def _polyphony(notes) -> float:
    if not notes:
        return 0.0
    onsets: dict[float, int] = {}
    for n in notes:
        key = round(n.start, 3)
        onsets[key] = onsets.get(key, 0) + 1
    return float(np.mean(list(onsets.values())))


def list_tracks(source: bytes | str | Path) -> list[TrackInfo]:
    """Tracks of a MIDI file, for choosing the melody."""
    pm = _load_pretty_midi(source)
    return [_track_info(i, inst) for i, inst in enumerate(pm.instruments)]


def _track_info(index: int, inst) -> TrackInfo:
    pitches = [n.pitch for n in inst.notes]
    return TrackInfo(
        index=index,
        name=inst.name or f"Track {index + 1}",
        program=inst.program,
        is_drum=inst.is_drum,
        num_notes=len(inst.notes),
        mean_pitch=float(np.mean(pitches)) if pitches else 0.0,
        polyphony=_polyphony(inst.notes),
    )


def guess_melody_track(tracks: list[TrackInfo]) -> int:
    """Index of the most melody-like track: pitched, mostly one note at a time, high, busy."""
    candidates = [t for t in tracks if not t.is_drum and t.num_notes >= 4]
    if not candidates:
        candidates = [t for t in tracks if not t.is_drum and t.num_notes > 0]
    if not candidates:
        raise MidiReadError("The MIDI file has no pitched notes (only drums or nothing at all)")
    return max(candidates, key=lambda t: t.mean_pitch - 12.0 * (t.polyphony - 1.0) + 2.0 * np.log1p(t.num_notes)).index


def _skyline(onsets: dict[int, tuple[int, int, int]], limit: int) -> list[Note]:
    """One voice from {onset step: (pitch, end step, velocity)}: notes end at the next onset at the latest."""
    steps = sorted(onsets)
    notes = []
    for i, start in enumerate(steps):
        pitch, end, velocity = onsets[start]
        next_start = steps[i + 1] if i + 1 < len(steps) else limit
        end = max(start + 1, min(end, next_start, limit))
        notes.append(Note(pitch, start, end, velocity))
    return notes


def read_midi(
    source: bytes | str | Path,
    melody_track: int | None = None,
    title: str = "",
    one_meter: bool = False,
    from_start: bool = False,
    keep_parts: bool = False,
) -> LeadSheet:
    """Read a MIDI file (path or bytes) into a LeadSheet (see module doc).

    ``one_meter`` (the studio's reading of a user's file): the tune stops where the meter first changes to bars of
    another length, and ``reading_notes`` says where and why (the corpus readers keep the whole tune).
    ``from_start`` (a file the studio wrote, read back): step 0 is the file's start, rests before the first note
    kept; a short first bar is still the pickup. ``keep_parts``: the other tracks come along as they are
    (``LeadSheet.parts``), to be played instead of chords from the recognised symbols.

    Raises MidiReadError with a readable message for empty, non-MIDI, damaged,
    oversized, drum-only or note-less files, or a bad ``melody_track``.
    """
    pm = _load_pretty_midi(source)
    tracks = [_track_info(i, inst) for i, inst in enumerate(pm.instruments)]
    if melody_track is None:
        melody_track = guess_melody_track(tracks)
    elif not 0 <= melody_track < len(tracks):
        raise MidiReadError(
            f"Track {melody_track} does not exist: this file has {len(tracks)} track(s) (0..{len(tracks) - 1})"
        )
    melody_inst = pm.instruments[melody_track]
    if melody_inst.is_drum or not melody_inst.notes:
        raise MidiReadError(
            f"Track {melody_track} ('{tracks[melody_track].name}') has no pitched notes to use as a melody"
        )

    first_step = _steps_of(pm, min(n.start for n in melody_inst.notes))
    # Bars: downbeats from the time signatures (pretty_midi handles changes).
    downbeats = sorted({_steps_of(pm, t) for t in pm.get_downbeats()})
    bar_start = max([d for d in downbeats if d <= first_step], default=first_step)
    next_downbeat = min([d for d in downbeats if d > first_step], default=first_step)
    pickup = 0 if bar_start == first_step else next_downbeat - first_step
    origin = first_step if pickup else bar_start
    signatures = sorted(pm.time_signature_changes, key=lambda ts: ts.time)
    short_first_bar = False
    if len(signatures) >= 2:
        # A pickup written as a short first bar (1/4 or 2/4 before 4/4, as notation programs and our own export
        # write it): the meter is the one after it, and the tune starts at its first note (``from_start``: at the
        # short bar's start).
        first, second = signatures[0], signatures[1]
        first_bar = first.numerator * 16 // first.denominator
        first_at, second_at = _steps_of(pm, first.time), _steps_of(pm, second.time)
        if second_at - first_at == first_bar and first_bar < second.numerator * 16 // second.denominator:
            if from_start:
                pickup, origin, short_first_bar = second_at - first_at, first_at, True
            elif first_at <= first_step < second_at:
                pickup, origin, short_first_bar = second_at - first_step, first_step, True
            if short_first_bar:
                signatures = signatures[1:]
    if from_start and not short_first_bar:
        pickup, origin = 0, 0  # the file's own start: rests before the first note kept

    last_step = max(_steps_of(pm, n.end) for n in melody_inst.notes) - origin
    if last_step > MAX_STEPS:
        raise MidiReadError(f"The melody is {last_step // 16} bars long; the limit is {MAX_STEPS // 16} bars")
    num_steps = max(last_step, 1)
    ts = signatures[0] if signatures else None
    time_signature = (ts.numerator, ts.denominator) if ts else (4, 4)
    reading_notes: list[str] = []
    if one_meter:
        num_steps = _stop_at_meter_change(pm, signatures, origin, pickup, num_steps, reading_notes)

    onsets: dict[int, tuple[int, int, int]] = {}
    for n in melody_inst.notes:
        start = _steps_of(pm, n.start) - origin
        end = _steps_of(pm, n.end) - origin
        if start < 0 or start >= num_steps:
            continue
        if start not in onsets or n.pitch > onsets[start][0]:
            onsets[start] = (n.pitch, end, n.velocity)
    notes = _skyline(onsets, num_steps)

    tempo, tempo_changes = _tempo_map(pm, origin, num_steps)
    if tempo_changes:
        low, high = min(tempo, *(b for _, b in tempo_changes)), max(tempo, *(b for _, b in tempo_changes))
        reading_notes.append(
            f"its tempo changes between {low:g} and {high:g} BPM: the MIDI you download keeps them; the models work on "
            "a steady grid of sixteenths"
        )
    key = None
    if pm.key_signature_changes:
        import pretty_midi

        key = (
            pretty_midi.key_number_to_key_name(pm.key_signature_changes[0].key_number)
            .replace(" Major", "")
            .replace(" minor", "m")
        )
    melody = Melody(notes, num_steps, round(tempo, 2), time_signature, pickup, key, tempo_changes)

    others = [inst for i, inst in enumerate(pm.instruments) if i != melody_track and not inst.is_drum]
    chords = _recognise_chords(pm, others, origin, num_steps, align=pickup)
    parts = _parts(pm, melody_track, origin, num_steps) if keep_parts else []
    return LeadSheet(melody, chords, title, reading_notes, parts)


def _parts(pm, melody_track: int, origin: int, num_steps: int) -> list[Part]:
    """Every track but the melody, as it is, on the tune's step grid (notes starting in 0..num_steps)."""
    parts = []
    for index, inst in enumerate(pm.instruments):
        if index == melody_track:
            continue
        notes = []
        for n in inst.notes:
            start, end = _steps_of(pm, n.start) - origin, _steps_of(pm, n.end) - origin
            if 0 <= start < num_steps:
                notes.append(Note(n.pitch, start, max(start + 1, min(end, num_steps)), n.velocity))
        if notes:
            parts.append(Part(inst.name or f"Track {index + 1}", inst.program, inst.is_drum, notes, num_steps))
    return parts


def _stop_at_meter_change(pm, signatures, origin: int, pickup: int, num_steps: int, notes: list[str]) -> int:
    """The steps of the tune up to its first change to a meter with bars of another length (the studio's models
    work in one meter: bars of 3/4 read on a 4/4 grid would put every bar line in the wrong place); says so in
    ``notes``."""
    if not signatures:
        return num_steps
    main = signatures[0].numerator * 16 // signatures[0].denominator
    for change in signatures[1:]:
        at = _steps_of(pm, change.time) - origin
        if at <= 0 or at >= num_steps:
            continue
        if change.numerator * 16 // change.denominator != main:
            bar = (at - pickup) // main + 1
            first = signatures[0]
            notes.append(
                f"stopped at bar {bar}: the meter changes there from {first.numerator}/{first.denominator} to "
                f"{change.numerator}/{change.denominator}, and the models work in one meter; "
                f"the {bar - 1} bars before it are loaded"
            )
            return at
    return num_steps


def _tempo_map(pm, origin: int, num_steps: int) -> tuple[float, tuple[tuple[int, float], ...]]:
    """The tempo at the tune's first step and its later changes (step, BPM), rounded to 0.01 BPM."""
    times, tempi = pm.get_tempo_changes()
    if not len(tempi):
        return 120.0, ()
    tempo = float(tempi[0])
    changes: list[tuple[int, float]] = []
    for time, bpm in zip(times, tempi):
        step = _steps_of(pm, float(time)) - origin
        bpm = round(float(bpm), 2)
        if step <= 0:
            tempo = bpm
        elif step < num_steps and bpm != (changes[-1][1] if changes else tempo):
            changes.append((step, bpm))
    return tempo, tuple(changes)


def _recognise_chords(
    pm, instruments, origin: int, num_steps: int, align: int = 0, segment: int = 4
) -> ChordProgression:
    """Chord symbols per beat (``segment`` steps) from the pitch classes sounding in other tracks.

    Segments are aligned so that one starts at step ``align`` (the first downbeat).
    """
    if not instruments:
        return ChordProgression([])
    # Work in a frame shifted so that beats fall on multiples of ``segment``.
    shift = (segment - align % segment) % segment
    origin -= shift
    num_steps += shift
    num_segments = (num_steps + segment - 1) // segment
    weights = np.zeros((num_segments, 12))
    for inst in instruments:
        for n in inst.notes:
            lo = _steps_of(pm, n.start) - origin
            hi = _steps_of(pm, n.end) - origin
            lo, hi = max(lo, 0), min(hi, num_steps)
            for seg in range(lo // segment, (hi - 1) // segment + 1 if hi > lo else lo // segment):
                overlap = min(hi, (seg + 1) * segment) - max(lo, seg * segment)
                if overlap > 0:
                    weights[seg, n.pitch % 12] += overlap
    chords: list[Chord] = []
    for seg in range(num_segments):
        symbol = recognize_chord(weights[seg])
        lo, hi = max(seg * segment - shift, 0), min((seg + 1) * segment, num_steps) - shift
        if hi <= lo:
            continue
        if chords and chords[-1].symbol == symbol and chords[-1].end == lo:
            chords[-1] = Chord(symbol, chords[-1].start, hi, chords[-1].pitch_classes, chords[-1].bass)
        else:
            chords.append(make_chord(symbol, lo, hi))
    return ChordProgression([c for c in chords if c.pitch_classes])
