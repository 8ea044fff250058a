"""ABC files and text -> LeadSheet (music21 reads them; melody and chord symbols, meter, pickup, tempo, key)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from engine.io.abc_text import write_out_repeats
from engine.music import Chord, ChordProgression, LeadSheet, Melody, Note
from engine.music.errors import MidiReadError

# music21 reads ABC as version 1.3 unless a tune says otherwise, and then an accidental holds for one note only; ABC 2.1
# (what abc2midi, abcjs and folk transcriptions follow) carries it to the end of the bar: `^c B c` is c# B c#. Nine
# per cent of the Nottingham tunes rely on that, and so do the tunes the emotion model learned from them.
ABC_VERSION_LINE = "%abc-2.1"


def as_abc21(text: str) -> str:
    """ABC text as music21 must be given it to read it as ABC 2.1 (a version line first, unless the text has one)."""
    return text if text.lstrip().startswith("%abc-") else f"{ABC_VERSION_LINE}\n{text}"


def read_abc_file(path: str | Path) -> list[LeadSheet]:
    """All tunes of an ABC file (music21), melody and chord symbols, as LeadSheets.

    Tunes music21 cannot turn into a melody are skipped.
    """
    from music21 import converter, harmony, stream
    from music21 import note as m21note

    sheets = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = converter.parse(as_abc21(Path(path).read_text(encoding="utf-8", errors="replace")), format="abc")
    scores = parsed.scores if isinstance(parsed, stream.Opus) else [parsed]
    for score in scores:
        try:
            sheets.append(_score_to_leadsheet(score, harmony, m21note))
        except Exception:  # a malformed tune in a big collection: skip it
            continue
    return [s for s in sheets if s.melody.notes]


def parse_abc_score(text: str) -> Any:
    """music21's Score of the first tune of ABC text, as written (repeats not expanded), read as ABC 2.1. Parsing is
    the slow part of reading a tune (about 0.1 s for 16 bars): a caller that needs the tune twice (read and analysed)
    parses once and passes the Score on. Raises MidiReadError when music21 cannot read it."""
    from music21 import converter, stream

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = converter.parse(as_abc21(text), format="abc")
    except Exception as err:  # music21 raises many kinds for broken ABC
        raise MidiReadError(f"The ABC text could not be read ({type(err).__name__}: {err})") from None
    return parsed.scores[0] if isinstance(parsed, stream.Opus) else parsed


def read_abc_text(text: str, as_played: bool = True, score: Any | None = None) -> LeadSheet:
    """The first tune of ABC text as a LeadSheet (tempo from its Q: field; key from music21's reading of K:), its
    repeats written out as played (``as_played``; False: as written, only to check that it reads). ``score``: the
    text's Score from :func:`parse_abc_score` when the caller has it (not changed here), else the text is parsed.

    Raises MidiReadError when music21 cannot read it or it holds no notes."""
    from music21 import converter, harmony, stream
    from music21 import key as m21key
    from music21 import note as m21note
    from music21 import tempo as m21tempo

    if score is None:
        score = parse_abc_score(text)
    try:
        if as_played:
            score = _as_played(score, text, converter, stream)
        sheet = _score_to_leadsheet(score, harmony, m21note)
    except Exception as err:  # music21 raises many kinds for broken ABC
        raise MidiReadError(f"The ABC text could not be read ({type(err).__name__}: {err})") from None
    if not sheet.melody.notes:
        raise MidiReadError("The ABC text holds no notes")
    num, den = sheet.melody.time_signature
    if num <= 0 or den <= 0 or den & (den - 1):
        # music21 can infer a meter such as 53/3 from an irregular first bar, which no MIDI file can hold:
        # the tune's own M: field (else 4/4) instead.
        field = re.search(r"^M:\s*(\d+)/(\d+)", text, re.M)
        meter = (int(field.group(1)), int(field.group(2))) if field else (4, 4)
        sheet.melody.time_signature = meter if meter[1] & (meter[1] - 1) == 0 else (4, 4)
        if sheet.melody.pickup_steps >= sheet.melody.steps_per_bar:
            sheet.melody.pickup_steps = 0
    flat = score.flatten()
    marks = flat.getElementsByClass(m21tempo.MetronomeMark)
    if marks:
        # A tempo in words only ("Lively") has no number: float(None) raises TypeError, as it always has.
        sheet.melody.tempo_bpm = float(marks[0].getQuarterBPM())
    signatures = flat.getElementsByClass(m21key.KeySignature)
    if signatures:
        k = signatures[0].asKey() if not isinstance(signatures[0], m21key.Key) else signatures[0]
        name = k.tonic.name.replace("-", "b")
        sheet.melody.key = name + ("m" if k.mode == "minor" else "")
    return sheet


def _as_played(score, text: str, converter, stream):
    """The score with its repeats written out as a player plays them (``|:`` ``:|``, ``::``, first and second
    endings): the audio, the MIDI and the bar count then agree with the tune. music21 expands them when it has made
    measures, which it does only for a tune with at least two plain bar lines; otherwise the plain repeats are written
    out in the text (engine.io.abc_text.write_out_repeats) and read again, and a tune with numbered endings too is
    read as written."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return score.expandRepeats()
        except Exception:  # noqa: BLE001 - music21's StreamException: no measures to repeat
            pass
        first = re.split(r"\n(?=X:)", text.strip(), maxsplit=1)[0]  # the tune read, not the ones after it
        written_out = write_out_repeats(first) if re.search(r"\|:|:\||::", first) else None
        if written_out is None:
            return score
        parsed = converter.parse(as_abc21(written_out), format="abc")
        return parsed.scores[0] if isinstance(parsed, stream.Opus) else parsed


def _score_to_leadsheet(score, harmony, m21note) -> LeadSheet:
    flat = score.flatten()
    notes: list[Note] = []
    chords: list[Chord] = []
    for element in flat.notesAndRests:
        start = int(round(float(element.offset) * 4))
        end = start + max(1, int(round(float(element.quarterLength) * 4)))
        if isinstance(element, harmony.ChordSymbol):
            pcs = tuple(sorted({p.pitchClass for p in element.pitches}))
            if pcs:
                chords.append(
                    Chord(element.figure, start, end, pcs, element.bass().pitchClass if element.bass() else None)
                )
        elif isinstance(element, m21note.Note):
            tied = element.tie is not None and element.tie.type in ("stop", "continue")
            # ABC writes slurs and ties alike with '-' in some collections: only merge equal pitches.
            if tied and notes and notes[-1].end == start and notes[-1].pitch == element.pitch.midi:
                notes[-1] = Note(notes[-1].pitch, notes[-1].start, end)
            else:
                notes.append(Note(element.pitch.midi, start, end))
    num_steps = max((n.end for n in notes), default=0)
    # Chord symbols last until the next one.
    chords.sort(key=lambda c: c.start)
    chords = [
        Chord(c.symbol, c.start, chords[i + 1].start if i + 1 < len(chords) else num_steps, c.pitch_classes, c.bass)
        for i, c in enumerate(chords)
    ]
    ts = flat.getElementsByClass("TimeSignature")
    time_signature = (ts[0].numerator, ts[0].denominator) if ts else (4, 4)
    steps_per_bar = time_signature[0] * 16 // time_signature[1]
    pickup = 0
    measures = score.parts[0].getElementsByClass("Measure") if score.parts else []
    if measures and measures[0].duration.quarterLength * 4 < steps_per_bar:
        pickup = int(round(measures[0].duration.quarterLength * 4))
    title = score.metadata.title if score.metadata and score.metadata.title else ""
    return LeadSheet(
        Melody(notes, num_steps, 120.0, time_signature, pickup),
        ChordProgression([c for c in chords if c.end > c.start]),
        title,
    )
