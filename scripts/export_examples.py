"""Export the example tunes that ship with the studio (assets/examples/*.mid).

One-off and re-runnable (the output is deterministic):

    .venv/bin/python scripts/export_examples.py

Every tune comes from the corpus bundled with music21 (public-domain folk tunes,
songs and chorales), is cut to at most 16 bars after its pickup and written as a
two-track MIDI file (track 0 melody, track 1 block chords where the source has
harmony) with engine.render.export, plus assets/examples/examples.json (the
index engine.io.examples reads) and assets/examples/README.md (titles, sources,
licence). The studio never touches music21's corpus at run time: it reads the
MIDI files written here.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.io.abc import read_abc_file  # noqa: E402
from engine.io.midi import read_midi  # noqa: E402
from engine.music import Chord, ChordProgression, LeadSheet, Melody, Note  # noqa: E402
from engine.music.chords import make_chord, recognize_chord  # noqa: E402
from engine.render.export import leadsheet_to_pretty_midi, save_midi  # noqa: E402

OUT = ROOT / "assets" / "examples"
MAX_BARS = 16
STEPS_PER_BAR = 16

# title, file stem, corpus path, how to read it, tune selector, tempo, key, description
EXAMPLES = [
    dict(
        title="Cuckoo's Nest",
        file="cuckoos_nest",
        corpus="nottingham-dataset/reelsa-c.abc",
        kind="abc",
        select="Cuckoo's Nest",
        tempo=100.0,
        key="D",
        description="Hornpipe (traditional, Scottish/English), from the Nottingham Music Database; "
        "chord symbols from the source",
    ),
    dict(
        title="Jeanie with the Light Brown Hair",
        file="jeanie_light_brown_hair",
        corpus="leadSheet/fosterBrownHair.mxl",
        kind="leadsheet",
        tempo=76.0,
        key="F",
        description="Song by Stephen Foster (1854); lead sheet with chord symbols from the source",
    ),
    dict(
        title="Passion Chorale (BWV 244.62)",
        file="passion_chorale",
        corpus="bach/bwv244.62.mxl",
        kind="chorale",
        tempo=66.0,
        key="Am",
        description="'Wenn ich einmal soll scheiden', chorale harmonised by J. S. Bach; soprano melody, "
        "chords recognised beat by beat from all four voices",
    ),
    dict(
        title="Jesu, meine Freude (BWV 227.1)",
        file="jesu_meine_freude",
        corpus="bach/bwv227.1.mxl",
        kind="chorale",
        tempo=66.0,
        key="Em",
        description="Chorale harmonised by J. S. Bach; soprano melody, "
        "chords recognised beat by beat from all four voices",
    ),
    dict(
        title="Hänschen klein",
        file="haenschen_klein",
        corpus="essenFolksong/dva0.abc",
        kind="abc",
        select="Haenschen klein ging allein",
        tempo=108.0,
        key="G",
        description="German children's song, from the Essen Folksong Collection; "
        "melody only (the source has no chords)",
    ),
    dict(
        title="The Little Girl of My Heart",
        file="little_girl_of_my_heart",
        corpus="oneills1850/0001-0050.abc",
        kind="abc",
        select="The Little Girl of my Heart",
        hyphens_are_slurs=True,
        tempo=72.0,
        key="D",
        description="Irish slow air, from O'Neill's Music of Ireland (1903); melody only (the source has no chords)",
    ),
]


def corpus_path(relative: str) -> Path:
    import music21

    return Path(music21.__file__).resolve().parent / "corpus" / relative


def abc_block(path: Path, title: str) -> str:
    """The text of one tune (from its X: line to the next) of a multi-tune ABC file."""
    text = path.read_text(encoding="latin-1")
    blocks = re.split(r"(?m)^(?=X:)", text)
    for block in blocks:
        if re.search(rf"(?m)^T:\s*{re.escape(title)}\s*$", block):
            return block
    raise SystemExit(f"'{title}' not found in {path}")


def read_abc_tune(path: Path, title: str, hyphens_are_slurs: bool = False) -> LeadSheet:
    """One tune of an ABC file via engine.io.abc.read_abc_file.

    ``hyphens_are_slurs``: the transcription writes '-' (an ABC tie) between notes of
    different pitches to mean a slur; those hyphens are removed from the music lines.
    """
    block = abc_block(path, title)
    if hyphens_are_slurs:
        block = "\n".join(
            line if re.match(r"^[A-Za-z]:", line) else line.replace("-", "") for line in block.splitlines()
        )
    with tempfile.TemporaryDirectory() as tmp:
        single = Path(tmp) / "tune.abc"
        single.write_text(block, encoding="utf-8")
        sheets = read_abc_file(single)
    if not sheets:
        raise SystemExit(f"music21 could not read '{title}' from {path}")
    return sheets[0]


def _measure_pickup(score) -> int:
    measures = score.parts[0].getElementsByClass("Measure")
    if measures and measures[0].duration.quarterLength * 4 < STEPS_PER_BAR:
        return int(round(measures[0].duration.quarterLength * 4))
    return 0


def _part_notes(part) -> list[Note]:
    """Notes of one voice (ties merged, grace notes dropped), in steps."""
    notes: list[Note] = []
    for element in part.flatten().notes:
        if element.duration.isGrace or not hasattr(element, "pitch"):
            continue
        start = int(round(float(element.offset) * 4))
        end = start + max(1, int(round(float(element.quarterLength) * 4)))
        if element.tie is not None and element.tie.type in ("stop", "continue") and notes and notes[-1].end == start:
            notes[-1] = replace(notes[-1], end=end)
        else:
            notes.append(Note(element.pitch.midi, start, end))
    return notes


def read_leadsheet_score(path: Path) -> LeadSheet:
    """A MusicXML lead sheet: melody notes and ChordSymbols (held until the next one)."""
    from music21 import converter, harmony

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = converter.parse(str(path))
    part = score.parts[0]
    notes = _part_notes(part)
    marks = []
    for element in part.flatten().getElementsByClass(harmony.ChordSymbol):
        symbol = re.sub(r"^([A-G])-", r"\1b", element.figure).replace("/B-", "/Bb").replace("/E-", "/Eb")
        marks.append((int(round(float(element.offset) * 4)), symbol))
    num_steps = max(n.end for n in notes)
    chords = [
        make_chord(sym, start, marks[i + 1][0] if i + 1 < len(marks) else num_steps)
        for i, (start, sym) in enumerate(marks)
    ]
    return LeadSheet(Melody(notes, num_steps, 120.0, (4, 4), _measure_pickup(score)), ChordProgression(chords))


def read_chorale(path: Path, segment: int = 4) -> LeadSheet:
    """Soprano melody; one chord symbol per beat recognised from the pitch classes of all voices."""
    from music21 import converter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = converter.parse(str(path))
    voices = [_part_notes(part) for part in score.parts]
    melody = voices[0]
    num_steps = max(n.end for n in melody)
    pickup = _measure_pickup(score)
    shift = (segment - pickup % segment) % segment  # beats start at the first downbeat
    num_segments = (num_steps + shift + segment - 1) // segment
    weights = np.zeros((num_segments, 12))
    for voice in voices:
        for n in voice:
            for step in range(n.start, n.end):
                weights[(step + shift) // segment, n.pitch % 12] += 1.0
    chords: list[Chord] = []
    for seg in range(num_segments):
        symbol = recognize_chord(weights[seg])
        lo, hi = max(seg * segment - shift, 0), min((seg + 1) * segment - shift, num_steps)
        if hi <= lo or symbol == "N.C.":
            continue
        if chords and chords[-1].symbol == symbol and chords[-1].end == lo:
            chords[-1] = replace(chords[-1], end=hi)
        else:
            chords.append(make_chord(symbol, lo, hi))
    return LeadSheet(Melody(melody, num_steps, 120.0, (4, 4), pickup), ChordProgression(chords))


def monophonic(notes: list[Note]) -> list[Note]:
    """One note per onset (the last written wins), each ending by the next onset."""
    by_start: dict[int, Note] = {}
    for n in sorted(notes, key=lambda n: n.start):
        by_start[n.start] = n
    ordered = [by_start[s] for s in sorted(by_start)]
    return [
        replace(n, end=min(n.end, ordered[i + 1].start) if i + 1 < len(ordered) else n.end)
        for i, n in enumerate(ordered)
    ]


def trim(sheet: LeadSheet, tempo: float, key: str, title: str) -> LeadSheet:
    """Pickup + at most MAX_BARS bars, ending on a bar line; chords clipped to the same span."""
    melody = sheet.melody
    pickup = melody.pickup_steps
    notes = monophonic(melody.notes)
    first = notes[0].start
    if first > 0:  # leading rests: drop whole empty bars; a partly empty first bar becomes a pickup
        bar_start = pickup + (first - pickup) // STEPS_PER_BAR * STEPS_PER_BAR if first >= pickup else 0
        pickup = (bar_start + STEPS_PER_BAR - first) % STEPS_PER_BAR if first >= pickup else pickup - first
        notes = [replace(n, start=n.start - first, end=n.end - first) for n in notes]
        chords = ChordProgression(
            [replace(c, start=max(c.start - first, 0), end=c.end - first) for c in sheet.chords.chords if c.end > first]
        )
        sheet = LeadSheet(sheet.melody, chords, sheet.title)
    last = max(n.end for n in notes)
    bars = min(MAX_BARS, -(-(last - pickup) // STEPS_PER_BAR))
    end = pickup + bars * STEPS_PER_BAR
    notes = [replace(n, end=min(n.end, end)) for n in notes if n.start < end]
    chords = [replace(c, end=min(c.end, end)) for c in sheet.chords.chords if c.start < end and c.pitch_classes]
    return LeadSheet(Melody(notes, end, tempo, (4, 4), pickup, key), ChordProgression(chords), title)


def padded_pickup(sheet: LeadSheet) -> LeadSheet:
    """The pickup as the end of a whole first bar of rests (how engine.io.midi.read_midi recognises it)."""
    pickup = sheet.melody.pickup_steps
    if not pickup:
        return sheet
    lead = STEPS_PER_BAR - pickup
    melody = sheet.melody
    notes = [replace(n, start=n.start + lead, end=n.end + lead) for n in melody.notes]
    shifted = replace(melody, notes=notes, num_steps=melody.num_steps + lead, pickup_steps=0)
    return LeadSheet(shifted, sheet.chords.shifted(lead), sheet.title)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    index = []
    for spec in EXAMPLES:
        path = corpus_path(spec["corpus"])
        if spec["kind"] == "abc":
            sheet = read_abc_tune(path, spec["select"], spec.get("hyphens_are_slurs", False))
        elif spec["kind"] == "leadsheet":
            sheet = read_leadsheet_score(path)
        else:
            sheet = read_chorale(path)
        sheet = trim(sheet, spec["tempo"], spec["key"], spec["title"])
        midi_path = save_midi(leadsheet_to_pretty_midi(padded_pickup(sheet), 0, 0), OUT / f"{spec['file']}.mid")
        back = read_midi(midi_path, melody_track=0)
        assert [(n.pitch, n.start, n.end) for n in back.melody.notes] == [
            (n.pitch, n.start, n.end) for n in sheet.melody.notes
        ], spec["title"]
        assert back.melody.pickup_steps == sheet.melody.pickup_steps, spec["title"]
        bars = (sheet.melody.num_steps - sheet.melody.pickup_steps) // STEPS_PER_BAR
        index.append(
            dict(
                title=spec["title"],
                file=midi_path.name,
                source=f"music21 corpus: {spec['corpus']}",
                description=spec["description"],
                bars=bars,
                pickup_steps=sheet.melody.pickup_steps,
                chords=bool(sheet.chords.chords),
                tempo_bpm=spec["tempo"],
                key=spec["key"],
            )
        )
        print(
            f"{midi_path.relative_to(ROOT)}: {spec['title']}, {bars} bars, {len(sheet.melody.notes)} notes, "
            f"{len(sheet.chords.chords)} chords, {midi_path.stat().st_size} bytes"
        )
    (OUT / "examples.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_readme(index)
    return 0


def write_readme(index: list[dict]) -> None:
    lines = [
        "# Example tunes",
        "",
        "Short melodies the Explore tab (and `engine.io.examples`) offers as sources. They were",
        "exported once from the corpus that ships with [music21](https://web.mit.edu/music21/)",
        "by `scripts/export_examples.py` (re-runnable; the output is deterministic): each is cut to",
        "at most 16 bars of 4/4 after its pickup and written as a two-track MIDI file, track 0 the",
        "melody and track 1 block chords where the source has harmony. `examples.json` is the index",
        "that `engine.io.examples` reads; the studio never reads music21's corpus at run time.",
        "A pickup is written as the end of a first bar of rests, which is how",
        "`engine.io.midi.read_midi` recognises it.",
        "",
        "| Title | File | Bars | Chords | Source in the music21 corpus | Notes |",
        "|---|---|---|---|---|---|",
    ]
    for item in index:
        lines.append(
            f"| {item['title']} | `{item['file']}` | {item['bars']} | {'yes' if item['chords'] else 'no'} | "
            f"`{item['source'].split(': ', 1)[1]}` | {item['description']} |"
        )
    lines += [
        "",
        "## Licence",
        "",
        "The music is in the public domain: traditional folk tunes (the Nottingham Music Database,",
        "the Essen Folksong Collection, O'Neill's *Music of Ireland*, 1903), a song by Stephen Foster",
        "(1854) and chorales harmonised by J. S. Bach (1685-1750). The encodings come from the music21",
        "corpus, which music21 distributes with the permission of their encoders (see music21's",
        "`corpus/license.txt`); these files keep only the notes and chord symbols.",
        "",
    ]
    (OUT / "README.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
