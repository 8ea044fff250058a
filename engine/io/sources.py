"""Sources: a MIDI or ABC file (or a LeadSheet) -> the part of it a model reads.

A piece is cut into whole 32-step windows starting at a chosen bar after the pickup, at most
``max_bars`` bars (16 for Explore, 32 for songs). A last window that is at least half full is kept
and padded with rests. Windows are always 32 steps: in 3/4 or 6/8 a window covers 2 2/3 bars and
does not line up with bar lines (the models were trained on 4/4), and "16 bars" then means 16 bars
of the piece's own meter (192 steps of 3/4 = 6 windows).
"""

from __future__ import annotations

from pathlib import Path

from engine.io.abc import read_abc_file
from engine.io.midi import TrackInfo, list_tracks, read_midi, read_midi_bytes
from engine.music import LeadSheet
from engine.music.constants import STEPS_PER_BAR_44, WINDOW_STEPS
from engine.music.errors import CadenzaInputError
from engine.music.limits import EXPLORE_BARS, check_number


class SourceError(CadenzaInputError):
    """A source (file, track, start bar, length) that cannot be read or holds nothing usable."""


def _check_number(name: str, value: object, low: float, high: float, integer: bool = False) -> None:
    check_number(name, value, low, high, integer, error=SourceError)


def _check_sheet(sheet: object, name: str) -> None:
    if not isinstance(sheet, LeadSheet):
        raise SourceError(f"{name} must be a melody (a LeadSheet), not {type(sheet).__name__}")
    if not sheet.melody.notes:
        raise SourceError(f"{name} has no notes")


def _name(sheet: LeadSheet, fallback: str) -> str:
    return sheet.title.strip() or fallback


def source_tracks(source: bytes | str | Path) -> list[TrackInfo]:
    """The tracks of an uploaded MIDI file, for choosing the melody (same checks as :func:`read_source`)."""
    return list_tracks(read_midi_bytes(source))


def read_source(
    source: bytes | str | Path,
    melody_track: int | None = None,
    start_bar: int = 0,
    num_bars: int | None = None,
    title: str = "",
    max_bars: int = EXPLORE_BARS.high,
    keep_parts: bool = False,
) -> LeadSheet:
    """A MIDI file (path or bytes; a path may also be an .abc file, its first tune) cut by :func:`prepare_source`
    (``keep_parts``: with the file's other tracks, see :func:`read_piece`).

    Raises MidiReadError / SourceError (both CadenzaInputError) with a readable
    message for every kind of bad file: missing, empty, not MIDI, damaged or truncated,
    over the size limit, too many tracks (midi_io.MAX_TRACKS) or notes, drums only, no notes.
    """
    return prepare_source(read_piece(source, melody_track, title, keep_parts=keep_parts), start_bar, num_bars, max_bars)


def read_piece(
    source: bytes | str | Path,
    melody_track: int | None = None,
    title: str = "",
    from_start: bool = False,
    keep_parts: bool = False,
) -> LeadSheet:
    """The whole piece in a MIDI file (path or bytes) or an .abc file (its first tune), as read: pickup and all
    bars (see :func:`read_source` for the errors); ``from_start``: a file the studio wrote, read back from its first
    step; ``keep_parts``: the file's other tracks come along (see engine.io.midi.read_midi)."""
    if isinstance(source, (str, Path)) and Path(source).suffix.lower() == ".abc":
        path = Path(source)
        if not path.is_file():
            raise SourceError(f"ABC file not found: {path}")
        try:
            sheets = read_abc_file(path)
        except Exception as err:  # music21 raises many kinds for broken ABC
            raise SourceError(f"The ABC file {path.name} could not be read ({type(err).__name__}: {err})") from None
        if not sheets:
            raise SourceError(f"The ABC file {path.name} holds no tune with notes")
        sheet = sheets[0]
        sheet.title = title or sheet.title or path.stem
        return sheet
    data = read_midi_bytes(source)  # size, header, track and note limits are checked by read_midi
    if melody_track is not None:
        _check_number("Melody track", melody_track, 0, 65_535, integer=True)
        melody_track = int(melody_track)
    default_title = Path(source).stem if isinstance(source, (str, Path)) else ""
    return read_midi(
        data,
        melody_track=melody_track,
        title=title or default_title,
        one_meter=True,
        from_start=from_start,
        keep_parts=keep_parts,
    )


def cut_note(whole: LeadSheet, used: LeadSheet, start_bar: int = 0) -> str | None:
    """What part of ``whole`` (as read) ``used`` (as prepared from ``start_bar``) keeps, when it is not all of it:
    "used bars 1-64 of the 80 bars of 'Reel' (2/4)"; None when the whole piece is used."""
    melody = whole.melody
    spb = melody.steps_per_bar or STEPS_PER_BAR_44
    total = max(0, -(-(melody.num_steps - melody.pickup_steps) // spb))
    kept = -(-used.melody.num_steps // spb)
    if start_bar == 0 and kept >= total and not melody.pickup_steps:
        return None
    num, den = melody.time_signature
    parts = [
        f"used bars {start_bar + 1}-{min(total, start_bar + kept)} of the {total} bars of '{_name(whole, 'the piece')}'"
    ]
    parts[0] += f" ({num}/{den})" if spb != STEPS_PER_BAR_44 else ""
    if melody.pickup_steps:
        parts.append("the pickup before bar 1 left out")
    return "; ".join(parts)


def prepare_source(
    sheet: LeadSheet, start_bar: int = 0, num_bars: int | None = None, max_bars: int = EXPLORE_BARS.high
) -> LeadSheet:
    """The part of ``sheet`` that exploration uses: whole 32-step windows from ``start_bar``.

    ``start_bar`` counts the piece's bars from 0, after the pickup (bar 0 starts at the
    first downbeat). ``num_bars`` (2..``max_bars``, default ``max_bars``: 16 for Explore,
    32 for songs) is rounded down to whole windows;
    in 4/4 a window is 2 bars. A final window at least half full is kept and padded
    with rests. Chords, tempo, key, meter and title are kept; the pickup is dropped.
    Idempotent: a prepared sheet comes back unchanged. Raises SourceError when
    the start bar is past the end or the span holds no notes.
    """
    _check_sheet(sheet, f"'{_name(sheet, 'The source')}'" if isinstance(sheet, LeadSheet) else "The source")
    _check_number("Start bar", start_bar, 0, 100_000, integer=True)
    if num_bars is not None:
        _check_number("Bars", num_bars, 2, max_bars, integer=True)
    melody = sheet.melody
    steps_per_bar = melody.steps_per_bar
    if steps_per_bar <= 0:
        raise SourceError(f"The time signature {melody.time_signature} has no whole steps per bar")
    bars_after_pickup = max(0, -(-(melody.num_steps - melody.pickup_steps) // steps_per_bar))
    if start_bar >= bars_after_pickup:
        raise SourceError(
            f"Start bar {int(start_bar)} is past the end of '{_name(sheet, 'the piece')}': "
            f"it has {bars_after_pickup} bar(s) "
            f"after the pickup, so the start bar must be between 0 and {max(bars_after_pickup - 1, 0)} "
            f"(at most {max_bars} bars are used from there)"
        )
    start = melody.pickup_steps + int(start_bar) * steps_per_bar
    full, part = divmod(melody.num_steps - start, WINDOW_STEPS)
    available = full + (1 if part >= WINDOW_STEPS // 2 or full == 0 else 0)
    wanted = max_bars if num_bars is None else int(num_bars)
    max_windows = max_bars * STEPS_PER_BAR_44 // WINDOW_STEPS
    num_windows = min(available, max(1, wanted * steps_per_bar // WINDOW_STEPS), max_windows)
    cropped = sheet.cropped(start, num_windows * WINDOW_STEPS)
    if not cropped.melody.notes:
        raise SourceError(
            f"There are no notes in the {num_windows * WINDOW_STEPS // steps_per_bar} bar(s) "
            f"of '{_name(sheet, 'the piece')}' "
            f"from start bar {int(start_bar)}: choose another start bar or track"
        )
    return cropped
