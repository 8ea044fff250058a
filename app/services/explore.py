"""The Explore tab's service: the latent space between two melodies A and B.

:class:`ExploreService` (``studio.explore``) loads sources A and B (an example
tune, an uploaded MIDI file or the last composed melody), and turns them into the
interpolation path A -> B, the 2-D pitch x rhythm map (cells, clicks and morphs
along a path) and analogies (A's tune with B's rhythm, A re-harmonised). Its
``ExplorePipeline`` shares the compose pipeline's model; each result is an
:class:`ExploreClip` (audio, piano roll and a MIDI file in the session's folder).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.services.common import (
    DEFAULT_ACCOMPANIMENT,
    DEFAULT_INSTRUMENT,
    InputError,
    Shared,
    TrackChoices,
    accompaniment_program,
    bars_text,
    check_chords,
    check_upload,
    choice,
    example_titles,
    example_tune,
    int_in,
    melody_program,
    upload_tracks,
)
from app.services.keeper import NOT_KEPT, Kept, audio_name
from app.services.library import KeptTake, kept_melody
from engine.eval.report import melody_report
from engine.io.sources import prepare_source, read_source
from engine.music import LeadSheet
from engine.music.limits import EXPLORE_BARS, INTERPOLATION_STEPS, MAP_SIZE, MAX_MORPH_CELLS
from engine.render.audio import render_leadsheet, render_leadsheets
from engine.render.export import leadsheet_to_pretty_midi, read_wav, save_midi, write_wav
from engine.render.pianoroll import piano_roll_figure
from engine.render.svg_roll import pitch_span, svg_mini_roll

log = logging.getLogger("cadenza.studio")

SOURCE_EXAMPLE, SOURCE_UPLOAD, SOURCE_LAST = "Example", "Upload MIDI", "Last composed"
SOURCE_KINDS: tuple[str, ...] = (SOURCE_EXAMPLE, SOURCE_UPLOAD, SOURCE_LAST)
CHORDS_FROM_A, CHORDS_FROM_B, CHORDS_TYPED = "A's chords", "B's chords", "Typed progression"
CHORD_MODES: tuple[str, ...] = (CHORDS_FROM_A, CHORDS_FROM_B, CHORDS_TYPED)
ANALOGY_OWN, ANALOGY_RHYTHM = "The tune's own chords", "The rhythm source's chords"
ANALOGY_CHORD_MODES: tuple[str, ...] = (ANALOGY_OWN, ANALOGY_RHYTHM)

EXPLORE_MIN_BARS, EXPLORE_MAX_BARS = EXPLORE_BARS.low, EXPLORE_BARS.high
EXPLORE_MIN_STEPS, EXPLORE_MAX_STEPS = INTERPOLATION_STEPS.low, INTERPOLATION_STEPS.high
EXPLORE_MIN_GRID, EXPLORE_MAX_GRID = MAP_SIZE.low, MAP_SIZE.high
DEFAULT_EXAMPLES = ("Cuckoo's Nest", "Hänschen klein")
# Map cells are pre-rendered (clicks then play at once) while the map's audio stays
# under this many seconds in all; beyond it (big maps of long pieces) a cell renders on its first click.
PRERENDER_AUDIO_SECONDS = 320.0
CELL_TAIL_SECONDS = 0.5


@dataclass
class ExploreSource:
    """A melody A or B as the pipeline will use it (whole 2-bar windows), with its preview."""

    side: str
    sheet: LeadSheet
    summary: str  # one line: title, bars, notes, key, tempo
    svg: str  # small piano roll

    @property
    def title(self) -> str:
        return self.sheet.title


@dataclass
class ExploreClip:
    """One result that is heard, seen and downloadable."""

    title: str
    sheet: LeadSheet
    figure: Any  # plotly Figure
    midi_path: str
    audio: Any = None  # (sample_rate, int16 array), the player's file path (map cells), or None without a synth
    notes: int = 0
    audio_file: str | None = None  # the audio for the page's player (Opus by default); None without a synth
    report: dict[str, Any] = field(default_factory=dict)  # what came out, measured (engine.eval.report)
    kept: Kept = NOT_KEPT  # its piece in the owner's library, and the status line saying so


@dataclass
class MapCell:
    """One cell of the map: its decoded melody, mini roll (SVG), MIDI path, pre-rendered WAV (or None) and the player's
    file, encoded from the WAV when the cell is first clicked (most never are)."""

    row: int
    col: int
    title: str
    sheet: LeadSheet
    midi_path: str
    wav_path: str | None
    svg: str
    audio_path: str | None = None

    @property
    def notes(self) -> int:
        return len(self.sheet.melody.notes)


@dataclass
class ExploreMap:
    """A built 2-D map: cells[i][j] = pitch step i, rhythm step j (kept in the session's gr.State)."""

    size: int
    cells: list[list[MapCell]]
    a_title: str
    b_title: str
    bars: float
    chords_label: str
    folder: str
    program: int
    accompaniment_program: int | None
    seconds: float = 0.0
    prerendered: bool = True

    @property
    def sheets(self) -> list[list[LeadSheet]]:
        """The cells' lead sheets, row by row."""
        return [[cell.sheet for cell in row] for row in self.cells]

    def cell(self, row: Any, col: Any) -> MapCell:
        """Cell (row, col), 0-based; anything else is an input error."""
        try:
            r, c = int(row), int(col)
        except (TypeError, ValueError):
            raise InputError(f"Choose a cell of the map (got row {row!r}, column {col!r})") from None
        if not (0 <= r < self.size and 0 <= c < self.size):
            raise InputError(f"There is no cell ({r + 1}, {c + 1}) in this {self.size}×{self.size} map")
        return self.cells[r][c]

    def widget_cells(self) -> list[list[dict]]:
        """What the map widget draws: rows of {svg, title, notes}."""
        return [
            [{"svg": c.svg, "title": f"{c.title} · {c.notes} notes", "notes": c.notes} for c in row]
            for row in self.cells
        ]


class ExploreService:
    """Explore-tab services: sources, interpolation, the 2-D map, morphs and analogies.

    Built by :class:`app.services.Studio` around an ``ExplorePipeline`` that shares the
    compose pipeline's model, with the studio's :class:`Shared` resources (model lock,
    synthesizer, session folders). Every method raises :class:`InputError` with a
    message for bad input.
    """

    def __init__(self, pipeline: Any, shared: Shared):
        self.pipeline = pipeline
        self.shared = shared

    # -- choices ---------------------------------------------------------------------

    @staticmethod
    def examples() -> list[str]:
        """Titles of the example tunes ([] if they cannot be listed)."""
        return example_titles()

    def default_examples(self) -> tuple[str | None, str | None]:
        """The example titles first shown as A and B (DEFAULT_EXAMPLES when present)."""
        titles = self.examples()
        if not titles:
            return None, None
        a = DEFAULT_EXAMPLES[0] if DEFAULT_EXAMPLES[0] in titles else titles[0]
        rest = [t for t in titles if t != a]
        b = DEFAULT_EXAMPLES[1] if DEFAULT_EXAMPLES[1] in rest else (rest[0] if rest else a)
        return a, b

    # -- sources ---------------------------------------------------------------------

    def upload_tracks(self, file: Any) -> TrackChoices:
        """Tracks of an uploaded MIDI file: 'name · N notes · mean pitch' labels and the guessed melody track."""
        return upload_tracks(file)

    @staticmethod
    def check_bars(bars: Any) -> int:
        """Bars to take from a source, rounded down to whole 2-bar windows."""
        value = int_in("Bars", bars, EXPLORE_MIN_BARS, EXPLORE_MAX_BARS)
        return value - value % 2  # whole 2-bar windows

    def load_source(
        self,
        side: str,
        kind: str | None,
        example: str | None = None,
        file: Any = None,
        track: Any = None,
        start_bar: Any = 0,
        bars: Any = 4,
        last_sheet: LeadSheet | None = None,
    ) -> ExploreSource:
        """Melody ``side`` ("A"/"B") from an example title, an uploaded MIDI (track, start bar) or the
        last composed melody, cut to ``bars`` bars from ``start_bar``; raises InputError."""
        num_bars = self.check_bars(bars)
        start = int_in(f"Start bar of {side}", 0 if start_bar in (None, "") else start_bar, 0, 10_000)
        kind = choice(f"source of {side}", kind, SOURCE_KINDS, SOURCE_EXAMPLE)
        if kind == SOURCE_EXAMPLE:
            if not example:
                raise InputError(f"Choose an example tune for {side}")
            sheet = prepare_source(example_tune(example), start, num_bars)
        elif kind == SOURCE_UPLOAD:
            source = check_upload(file)
            melody_track = None
            if track not in (None, ""):
                melody_track = int_in(
                    f"Melody track of {side}", track if not isinstance(track, str) else track.split(":")[0], 0, 65_535
                )
            if isinstance(source, bytes):
                title = f"Upload {side}"
                data = source
            else:
                title = source.stem or f"Upload {side}"
                data = source.read_bytes()  # bytes: any extension is read as MIDI (never as ABC)
            sheet = read_source(data, melody_track=melody_track, start_bar=start, num_bars=num_bars, title=title)
        elif kind == SOURCE_LAST:
            if not isinstance(last_sheet, LeadSheet):
                raise InputError(
                    f"Nothing composed yet for {side}: make a melody in the Compose tab first, "
                    "or choose an example or upload"
                )
            sheet = prepare_source(last_sheet, start, num_bars)
            sheet.title = last_sheet.title or "Last composed melody"
        else:
            raise InputError(f"Unknown source '{kind}' for {side}: choose one of {', '.join(SOURCE_KINDS)}")
        if not sheet.title:
            sheet.title = f"Melody {side}"
        melody = sheet.melody
        summary = (
            f"{sheet.title} · {bars_text(sheet)} from bar {start} · {len(melody.notes)} notes"
            + (f" · key {melody.key}" if melody.key else "")
            + f" · {melody.tempo_bpm:g} BPM"
            + (
                f" · {melody.time_signature[0]}/{melody.time_signature[1]}"
                if tuple(melody.time_signature) != (4, 4)
                else ""
            )
        )
        if sheet.reading_notes:  # what reading the file changed or left out
            summary += "; " + "; ".join(sheet.reading_notes)
        svg = svg_mini_roll(sheet, 480, 84, title=f"{side}: {sheet.title}", css_class="cz-roll cz-source-roll")
        return ExploreSource(side, sheet, summary, svg)

    # -- helpers ---------------------------------------------------------------------

    def _chords(self, mode: str | None, text: str | None) -> tuple[str, str]:
        """(pipeline chords argument, label) for the decoding-chords radio and text box."""
        mode = choice("chord choice", mode, CHORD_MODES, CHORDS_FROM_A)
        if mode == CHORDS_FROM_A:
            return "a", "A's chords"
        if mode == CHORDS_FROM_B:
            return "b", "B's chords"
        check = check_chords(text)
        if not check.ok:
            raise InputError(check.message)
        typed = (text or "").strip()
        if typed.lower() in ("a", "b"):  # a typed chord, not "A's/B's chords"
            typed = typed.upper()
        return typed, f"chords {' | '.join(check.bar_labels)}"

    @staticmethod
    def _programs(instrument: str | None, with_chords: bool = True) -> tuple[int, int | None]:
        """(melody program, accompaniment program or None) for an instrument name."""
        return melody_program(DEFAULT_INSTRUMENT if instrument is None else instrument), (
            accompaniment_program(DEFAULT_ACCOMPANIMENT) if with_chords else None
        )

    @staticmethod
    def _joined_figure(sheet: LeadSheet, title: str, part_steps: list[int], labels: list[str]):
        """Piano roll of pieces joined end to end, with a line and a label per piece."""
        figure = piano_roll_figure(sheet, title=title)
        spb = sheet.melody.steps_per_bar or 16
        shapes, notes = [], []
        start = 0
        for index, (steps, label) in enumerate(zip(part_steps, labels)):
            if index:
                x = start / spb + 1.0
                shapes.append(
                    dict(
                        type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, line=dict(color="#f59e0b", width=2)
                    )
                )
            notes.append(
                dict(  # inside the plot, at its foot: the chord symbols keep the top
                    x=(start + steps / 2) / spb + 1.0,
                    y=0.0,
                    xref="x",
                    yref="paper",
                    yanchor="bottom",
                    yshift=2,
                    text=label,
                    showarrow=False,
                    bgcolor="rgba(255,251,235,0.85)",
                    font=dict(size=10, color="#b45309"),
                )
            )
            start += steps
        figure.update_layout(
            shapes=list(figure.layout.shapes or ()) + shapes, annotations=list(figure.layout.annotations or ()) + notes
        )
        return figure

    def _clip(
        self,
        sheet: LeadSheet,
        title: str,
        file_name: str,
        out_dir: Path,
        program: int,
        acc: int | None,
        figure=None,
        rhythm_of: LeadSheet | None = None,
        session_id: str | None = None,
        controls: dict[str, Any] | None = None,
    ) -> ExploreClip:
        """A piece heard, seen and downloadable, with its control report (``rhythm_of``: the melody whose onsets it
        was asked to take)."""
        midi_path = save_midi(
            leadsheet_to_pretty_midi(sheet, program=program, accompaniment_program=acc), out_dir / file_name
        )
        audio, audio_file = None, None
        if self.shared.synthesizer is not None:
            audio = render_leadsheet(
                sheet, program=program, accompaniment_program=acc, synthesizer=self.shared.synthesizer
            )
            audio_file = self.shared.player_files([audio[1]], audio[0], [out_dir / Path(file_name).stem])[0]
        if figure is None:
            figure = piano_roll_figure(sheet, title=title)
        drawn = None if rhythm_of is None else [t for t in rhythm_of.melody.onset_steps() if t < sheet.melody.num_steps]
        report = melody_report(sheet, drawn_onsets=drawn, tempo_bpm=None)
        clip = ExploreClip(title, sheet, figure, str(midi_path), audio, len(sheet.melody.notes), audio_file, report)
        clip.kept = self.shared.keeper.keep(
            session_id,
            "explore",
            title if len(title) <= 120 else title[:119] + "…",
            {"melody.mid": str(midi_path), audio_name(audio_file): audio_file},
            # the click that made it, and the onsets it was asked to take: a reload shows the take as it was
            {**(controls or {}), "take": out_dir.name, **({"drawn": drawn} if drawn is not None else {})},
            ("ec2vae",),
        )
        return clip

    # -- interpolation ---------------------------------------------------------------

    def interpolate(
        self,
        a: ExploreSource,
        b: ExploreSource,
        steps: Any = 5,
        chords_mode: str | None = CHORDS_FROM_A,
        chords_text: str | None = "",
        instrument: str | None = DEFAULT_INSTRUMENT,
        session_id: str | None = None,
    ) -> tuple[ExploreClip, list[LeadSheet]]:
        """The path A -> B in ``steps`` (2..12) spherical-interpolation steps, joined into one piece."""
        steps = int_in("Steps", steps, EXPLORE_MIN_STEPS, EXPLORE_MAX_STEPS)
        chords, label = self._chords(chords_mode, chords_text)
        program, acc = self._programs(instrument)
        with self.shared.model_lock:
            sheets = self.pipeline.interpolate(a.sheet, b.sheet, steps, chords).samples
        title = f"{a.title} → {b.title}: {steps} steps ({label})"
        joined = self.pipeline.morph(sheets, title=title).samples[0]
        lengths = [s.melody.num_steps for s in sheets]
        labels = ["A"] + [str(k + 1) for k in range(1, steps - 1)] + ["B"]
        figure = self._joined_figure(joined, title, lengths, labels)
        out_dir = self.shared.take_dir(session_id)
        asked = {"action": "interpolate", "a": a.sheet.title, "b": b.sheet.title, "steps": steps, "chords": label}
        clip = self._clip(
            joined,
            title,
            f"cadenza_path_{steps}_steps.mid",
            out_dir,
            program,
            acc,
            figure,
            session_id=session_id,
            controls=asked,
        )
        return clip, sheets

    # -- the 2-D map -----------------------------------------------------------------

    def build_map(
        self,
        a: ExploreSource,
        b: ExploreSource,
        size: Any = 5,
        chords_mode: str | None = CHORDS_FROM_A,
        chords_text: str | None = "",
        instrument: str | None = DEFAULT_INSTRUMENT,
        cell_chords: bool = False,
        session_id: str | None = None,
    ) -> ExploreMap:
        """The size x size pitch/rhythm map: every cell decoded, drawn (SVG) and, while the map's audio
        stays under PRERENDER_AUDIO_SECONDS, rendered to a mono WAV in the session folder so a click plays
        at once (melody only unless ``cell_chords``). A cell's MIDI (with chords) is written on its first click."""
        started = time.perf_counter()
        size = int_in("Map size", size, EXPLORE_MIN_GRID, EXPLORE_MAX_GRID)
        chords, label = self._chords(chords_mode, chords_text)
        program, acc = self._programs(instrument, with_chords=bool(cell_chords))
        with self.shared.model_lock:
            grid = self.pipeline.grid(a.sheet, b.sheet, size, chords).rows
        session = self.shared.session_dir(session_id)
        for old in session.glob("map_*"):  # one map per session on disk: the previous one goes
            shutil.rmtree(old, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(prefix="map_", dir=session))
        span = pitch_span([s for row in grid for s in row])
        seconds = grid[0][0].melody.duration_seconds + CELL_TAIL_SECONDS
        prerender = self.shared.synthesizer is not None and size * size * seconds <= PRERENDER_AUDIO_SECONDS
        cells: list[list[MapCell]] = []
        for i, row in enumerate(grid):
            out_row = []
            for j, sheet in enumerate(row):
                title = sheet.title or f"Cell {i + 1}, {j + 1}"
                svg = svg_mini_roll(sheet, 150, 60, title=title, pitch_range=span, css_class="cz-roll cz-cell-roll")
                # The MIDI is written when the cell is first clicked (cell_clip): most never are.
                midi_path = folder / f"cadenza_map_r{i + 1}c{j + 1}.mid"
                out_row.append(MapCell(i, j, title, sheet, str(midi_path), None, svg))
            cells.append(out_row)
        if prerender:
            self._render_cells([cell for row in cells for cell in row], folder, program, acc)
        bars = grid[0][0].melody.num_steps / (grid[0][0].melody.steps_per_bar or 16)
        return ExploreMap(
            size,
            cells,
            a.title,
            b.title,
            bars,
            label,
            str(folder),
            program,
            acc,
            time.perf_counter() - started,
            prerender,
        )

    def _render_cells(self, cells: list[MapCell], folder: Path, program: int, acc: int | None) -> None:
        """Render cells (the synth's engines share them) to mono WAVs in ``folder``; sets ``cell.wav_path``."""
        if self.shared.synthesizer is None or not cells:
            return
        rate, audios = render_leadsheets(
            [cell.sheet for cell in cells],
            program=program,
            accompaniment_program=acc,
            tail_seconds=CELL_TAIL_SECONDS,
            synthesizer=self.shared.synthesizer,
        )
        # Mono: a cell is a short preview, and half the bytes reach the browser sooner.
        for cell, audio in zip(cells, audios):
            mono = ((audio[:, 0].astype(np.int32) + audio[:, 1]) // 2).astype(np.int16) if audio.ndim == 2 else audio
            cell.wav_path = str(write_wav(folder / f"cadenza_map_r{cell.row + 1}c{cell.col + 1}.wav", mono, rate))
            cell.audio_path = None

    def cell_clip(self, explore_map: ExploreMap, row: Any, col: Any) -> ExploreClip:
        """A map cell ready to play: its WAV (rendered now if the map was too big to pre-render), roll and MIDI."""
        if not isinstance(explore_map, ExploreMap):
            raise InputError("Build the map first (press Build map)")
        cell = explore_map.cell(row, col)
        if cell.wav_path is None or not Path(cell.wav_path).is_file():
            folder = Path(explore_map.folder)
            folder.mkdir(parents=True, exist_ok=True)
            self._render_cells([cell], folder, explore_map.program, explore_map.accompaniment_program)
        if cell.wav_path is not None and (cell.audio_path is None or not Path(cell.audio_path).is_file()):
            rate, mono = read_wav(cell.wav_path)
            cell.audio_path = self.shared.player_files(
                [mono], rate, [Path(cell.wav_path).with_name(Path(cell.wav_path).stem + "_play")]
            )[0]
        if not Path(cell.midi_path).is_file():
            chords_program = accompaniment_program(DEFAULT_ACCOMPANIMENT)  # the MIDI always holds the chords
            save_midi(
                leadsheet_to_pretty_midi(cell.sheet, program=explore_map.program, accompaniment_program=chords_program),
                cell.midi_path,
            )
        title = f"Cell ({cell.row + 1}, {cell.col + 1}): {cell.title}"
        return ExploreClip(
            title,
            cell.sheet,
            piano_roll_figure(cell.sheet, title=title, height=260),
            cell.midi_path,
            cell.audio_path,
            cell.notes,
            cell.audio_path,
        )

    def morph(
        self,
        explore_map: ExploreMap,
        path: list[tuple[int, int]],
        instrument: str | None = None,
        session_id: str | None = None,
    ) -> ExploreClip:
        """The cells along ``path`` [(row, col), ...] joined into one piece (audio with chords, roll, MIDI)."""
        if not isinstance(explore_map, ExploreMap):
            raise InputError("Build the map first (press Build map), then choose a path through it")
        if not path:
            raise InputError("The morph path is empty: draw one on the map (Draw morph path) or pick a preset")
        if len(path) > MAX_MORPH_CELLS:
            raise InputError(f"The path has {len(path)} cells; the limit is {MAX_MORPH_CELLS}")
        cells = self.pipeline.path_cells(explore_map.sheets, [tuple(p) for p in path])
        program, acc = (
            self._programs(instrument)
            if instrument
            else (explore_map.program, accompaniment_program(DEFAULT_ACCOMPANIMENT))
        )
        route = " → ".join(f"({r + 1},{c + 1})" for r, c in path)
        title = f"Morph through {len(path)} cells: {route}" if len(path) <= 12 else f"Morph through {len(path)} cells"
        joined = self.pipeline.morph(cells, title=title).samples[0]
        figure = self._joined_figure(
            joined, title, [c.melody.num_steps for c in cells], [f"{r + 1},{c + 1}" for r, c in path]
        )
        out_dir = self.shared.take_dir(session_id)
        asked = {"action": "morph", "cells": [list(cell) for cell in path]}
        return self._clip(
            joined,
            title,
            f"cadenza_morph_{len(path)}_cells.mid",
            out_dir,
            program,
            acc,
            figure,
            session_id=session_id,
            controls=asked,
        )

    # -- analogy ---------------------------------------------------------------------

    def analogy(
        self,
        a: ExploreSource,
        b: ExploreSource,
        chords_mode: str | None = ANALOGY_OWN,
        reharmonise_text: str | None = "",
        instrument: str | None = DEFAULT_INSTRUMENT,
        session_id: str | None = None,
    ) -> list[ExploreClip]:
        """[A's pitch with B's rhythm, B's pitch with A's rhythm, A re-harmonised under ``reharmonise_text``]."""
        mode = choice("chord choice", chords_mode, ANALOGY_CHORD_MODES, ANALOGY_OWN)
        chords = "pitch" if mode == ANALOGY_OWN else "rhythm"
        check = check_chords(reharmonise_text)
        if not check.ok:
            raise InputError(f"New chords for A: {check.message}")
        program, acc = self._programs(instrument)
        with self.shared.model_lock:
            ab = self.pipeline.analogy(a.sheet, b.sheet, chords).samples[0]
            ba = self.pipeline.analogy(b.sheet, a.sheet, chords).samples[0]
            re_a = self.pipeline.reharmonise(a.sheet, reharmonise_text.strip()).samples[0]
        out_dir = self.shared.take_dir(session_id)
        return [
            self._clip(
                ab,
                f"A's tune, B's rhythm: {ab.title}",
                "cadenza_a_pitch_b_rhythm.mid",
                out_dir,
                program,
                acc,
                rhythm_of=b.sheet,
                session_id=session_id,
                controls={"action": "analogy", "a": a.sheet.title, "b": b.sheet.title, "chords": mode},
            ),
            self._clip(
                ba,
                f"B's tune, A's rhythm: {ba.title}",
                "cadenza_b_pitch_a_rhythm.mid",
                out_dir,
                program,
                acc,
                rhythm_of=a.sheet,
                session_id=session_id,
                controls={"action": "analogy", "a": b.sheet.title, "b": a.sheet.title, "chords": mode},
            ),
            self._clip(
                re_a,
                f"A re-harmonised: {re_a.title}",
                "cadenza_a_reharmonised.mid",
                out_dir,
                program,
                acc,
                session_id=session_id,
                controls={"action": "reharmonise", "a": a.sheet.title, "chords": reharmonise_text.strip()},
            ),
        ]

    def reopen(self, take: KeptTake) -> list[ExploreClip]:
        """A kept take as it was made, from its library files (no model runs): each clip's melody read back from its
        MIDI, drawn, measured against the onsets it was asked to take, with its audio and MIDI."""
        clips = []
        for piece, files in zip(take.pieces, take.files):
            if files.midi is None:
                continue
            sheet = kept_melody(files.midi, piece.title)
            drawn = piece.controls.get("drawn")
            report = melody_report(sheet, drawn_onsets=drawn if isinstance(drawn, list) else None, tempo_bpm=None)
            clips.append(
                ExploreClip(
                    piece.title,
                    sheet,
                    piano_roll_figure(sheet, title=piece.title),
                    files.midi,
                    None,
                    len(sheet.melody.notes),
                    files.audio,
                    report,
                    Kept(piece.id, f"In your library as “{piece.title}”"),
                )
            )
        return clips

    def warm_up(self) -> None:
        """Read the default examples and build a tiny map (imports, caches); best effort."""
        first, second = self.default_examples()
        if first is None:
            return
        a = self.load_source("A", SOURCE_EXAMPLE, first, bars=2)
        b = self.load_source("B", SOURCE_EXAMPLE, second, bars=2)
        with self.shared.model_lock:
            self.pipeline.grid(a.sheet, b.sheet, 2, "a")
