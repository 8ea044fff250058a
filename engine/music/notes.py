"""Plain music objects: the only things that cross the engine/app boundary.

Time is counted in sixteenth-note *steps* from the start of the piece (step 0 is
the first sounded step, which is a downbeat unless ``pickup_steps`` > 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from engine.music.constants import STEPS_PER_BEAT


@dataclass(frozen=True)
class Note:
    """One melody note: MIDI pitch, onset step (inclusive) and end step (exclusive)."""

    pitch: int
    start: int
    end: int
    velocity: int = 90

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Chord:
    """A chord symbol sounding from ``start`` to ``end`` (steps).

    ``pitch_classes`` is filled by :func:`engine.music.chords.make_chord` so that the
    chroma never needs the symbol parser again; it is empty for "N.C.".
    """

    symbol: str
    start: int
    end: int
    pitch_classes: tuple[int, ...] = ()
    bass: int | None = None


@dataclass
class ChordProgression:
    """Chords laid out in time; gaps and "N.C." chords give zero chroma."""

    chords: list[Chord] = field(default_factory=list)

    def chroma(self, num_steps: int, offset: int = 0) -> np.ndarray:
        """Per-step 12-d chroma, shape (num_steps, 12), float32, for steps offset..offset+num_steps."""
        out = np.zeros((num_steps, 12), dtype=np.float32)
        for chord in self.chords:
            lo = max(chord.start - offset, 0)
            hi = min(chord.end - offset, num_steps)
            if hi <= lo:
                continue
            for pc in chord.pitch_classes:
                out[lo:hi, pc] = 1.0
        return out

    def at(self, step: int) -> Chord | None:
        """The chord sounding at ``step``, or None."""
        for chord in self.chords:
            if chord.start <= step < chord.end:
                return chord
        return None

    def shifted(self, steps: int) -> ChordProgression:
        return ChordProgression([replace(c, start=c.start + steps, end=c.end + steps) for c in self.chords])

    def symbols_per_bar(self, steps_per_bar: int, num_bars: int) -> list[str]:
        """The chord at each bar's downbeat ("N.C." where none), for display."""
        out = []
        for bar in range(num_bars):
            chord = self.at(bar * steps_per_bar)
            out.append(chord.symbol if chord else "N.C.")
        return out


@dataclass
class Melody:
    """A monophonic melody on a sixteenth-note grid.

    ``num_steps`` is the length of the piece in steps (notes end at or before it).
    ``pickup_steps`` is the length of an anacrusis before the first downbeat.
    ``tempo_changes``: (step, BPM) after step 0, where a file read had a tempo map (``tempo_bpm`` is the tempo at
    step 0); the models work on the steady grid of steps, the MIDI written keeps the map.
    """

    notes: list[Note] = field(default_factory=list)
    num_steps: int = 0
    tempo_bpm: float = 120.0
    time_signature: tuple[int, int] = (4, 4)
    pickup_steps: int = 0
    key: str | None = None
    tempo_changes: tuple[tuple[int, float], ...] = ()

    @property
    def steps_per_bar(self) -> int:
        num, den = self.time_signature
        return num * 16 // den

    @property
    def seconds_per_step(self) -> float:
        return 60.0 / self.tempo_bpm / STEPS_PER_BEAT

    @property
    def duration_seconds(self) -> float:
        return self.num_steps * self.seconds_per_step

    def onset_steps(self) -> list[int]:
        return [n.start for n in self.notes]

    def cropped(self, start: int, num_steps: int) -> Melody:
        """The part of the melody in [start, start+num_steps), re-based to step 0."""
        end = start + num_steps
        notes = [
            Note(n.pitch, n.start - start, min(n.end, end) - start, n.velocity)
            for n in self.notes
            if start <= n.start < end
        ]
        tempo = self.tempo_bpm
        for step, bpm in self.tempo_changes:
            if step <= start:
                tempo = bpm  # the tempo in effect where the part starts
        changes = tuple((step - start, bpm) for step, bpm in self.tempo_changes if start < step < end)
        return replace(self, notes=notes, num_steps=num_steps, pickup_steps=0, tempo_bpm=tempo, tempo_changes=changes)

    def tempo_range(self) -> tuple[float, float]:
        """The slowest and fastest tempo of the melody (BPM)."""
        tempi = [self.tempo_bpm, *(bpm for _, bpm in self.tempo_changes)]
        return min(tempi), max(tempi)


@dataclass
class Part:
    """A track of the user's file kept as it is (its accompaniment), on the step grid; it covers steps
    0..``until`` of the tune it came with (bars added later get chords from the chord symbols)."""

    name: str
    program: int
    is_drum: bool
    notes: list[Note] = field(default_factory=list)
    until: int = 0

    def cropped(self, start: int, num_steps: int) -> Part:
        end = start + num_steps
        notes = [
            Note(n.pitch, n.start - start, min(n.end, end) - start, n.velocity)
            for n in self.notes
            if start <= n.start < end
        ]
        return replace(self, notes=notes, until=max(0, min(self.until, end) - start))


@dataclass
class LeadSheet:
    """A melody with its chords: what MIDI/ABC reading returns and the pipelines produce."""

    melody: Melody
    chords: ChordProgression = field(default_factory=ChordProgression)
    title: str = ""
    # What reading a file changed or left out, in words for the user ("stopped at bar 5: ...").
    reading_notes: list[str] = field(default_factory=list)
    # The file's other tracks, kept as they are when the user asks for its own accompaniment (else none).
    parts: list[Part] = field(default_factory=list)

    def cropped(self, start: int, num_steps: int) -> LeadSheet:
        chords = [
            replace(c, start=max(c.start, start) - start, end=min(c.end, start + num_steps) - start)
            for c in self.chords.chords
            if c.end > start and c.start < start + num_steps
        ]
        return LeadSheet(
            self.melody.cropped(start, num_steps),
            ChordProgression(chords),
            self.title,
            list(self.reading_notes),
            [part.cropped(start, num_steps) for part in self.parts],
        )
