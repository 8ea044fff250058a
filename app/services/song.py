"""The Song tab's service: grow a melody into a whole tune, two bars at a time.

:class:`SongService` (``studio.song``) holds the three song pipelines over the one
shared ``SongModel`` (EC2-VAE + latent sequence model, the compose pipeline's
``song_model``): a new song of 8..32 bars from a chord progression, a loaded tune
(example, uploaded MIDI or the last composed melody, up to 32 bars), its
continuation by more bars, and the infill that rewrites chosen 2-bar blocks while
every other block comes back note for note. Each result is a :class:`SongResult`:
the LeadSheet, one :class:`SongBlock` per 2-bar block for the timeline (chords with
their functions in the tune's key, a mini roll), audio, a MIDI file in the session's
folder and the piano roll with the block boundaries marked.

The tab keeps the versions (:class:`SongVersion`) in its session state; Undo shows
an earlier one again through :meth:`SongService.present`. Bad input raises
:data:`InputError` with a message that can be shown as-is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.services.common import (
    DEFAULT_ACCOMPANIMENT,
    DEFAULT_INSTRUMENT,
    KEYS,
    MAX_SEED,
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
    flag,
    float_in,
    int_in,
    melody_program,
    report_stage,
    upload_tracks,
)
from app.services.explore import SOURCE_EXAMPLE, SOURCE_LAST, SOURCE_UPLOAD
from app.services.keeper import NOT_KEPT, Kept, audio_name
from engine.eval.report import melody_report
from engine.io.sources import read_source
from engine.music import Chord, LeadSheet
from engine.music.constants import WINDOW_STEPS
from engine.music.limits import CONTINUE_BARS, SONG_TEMPERATURE, TEMPO_BPM
from engine.music.tonality import FUNCTION_LETTERS, chord_function, estimate_key
from engine.pipelines.decoding import LatentGenerationConfig
from engine.pipelines.song import ContinuePipeline, InfillPipeline, SongPipeline
from engine.pipelines.song_model import (
    BARS_PER_BLOCK,
    MAX_BLOCKS,
    MAX_SONG_BARS,
    MIN_SONG_BARS,
    SongInputError,
    block_count,
    blocks_for_bars,
    check_tune,
    meter_text,
    prepare_tune,
)
from engine.render.audio import render_leadsheet
from engine.render.export import leadsheet_to_pretty_midi, save_midi
from engine.render.pianoroll import piano_roll_figure
from engine.render.svg_roll import pitch_span, svg_mini_roll

SONG_NEW = "New song from chords"
SONG_SOURCES: tuple[str, ...] = (SONG_NEW, SOURCE_EXAMPLE, SOURCE_UPLOAD, SOURCE_LAST)
RHYTHM_KEEP, RHYTHM_GRID, RHYTHM_MODEL = "keep", "grid", "model"
RHYTHM_MODES: tuple[str, ...] = (RHYTHM_KEEP, RHYTHM_GRID, RHYTHM_MODEL)
MIN_LOAD_BARS = BARS_PER_BLOCK  # a loaded tune may be short: Continue grows it
MIN_ADD_BARS, MAX_ADD_BARS = CONTINUE_BARS.low, CONTINUE_BARS.high
MIN_SONG_TEMPO, MAX_SONG_TEMPO = TEMPO_BPM.low, TEMPO_BPM.high
MIN_SONG_TEMPERATURE, MAX_SONG_TEMPERATURE = SONG_TEMPERATURE.low, SONG_TEMPERATURE.high


class _ModelTemperature:
    """A temperature left out of a call (a default argument, never a value sent to the API): the latent model's own."""

    def __repr__(self) -> str:
        return "the model's temperature"


MODEL_TEMPERATURE: Any = _ModelTemperature()
MAX_HISTORY = 30  # earlier versions kept for Undo, per session
BLOCK_STEPS = WINDOW_STEPS  # 32 sixteenths: 2 bars of 4/4
ROLL_HEIGHT = 340


@dataclass
class SongBlock:
    """One 2-bar block as the timeline shows it."""

    index: int  # 0-based, as the pipelines count
    label: str  # "Block 1 · bars 1–2"
    bars: list[tuple[int, list[tuple[str, str]]]]  # (bar number, [(chord symbol, function letter), ...])
    svg: str  # mini piano roll
    changed: bool = False  # written by the last action

    def widget(self) -> dict:
        """What the timeline widget draws for this block."""
        return {
            "index": self.index,
            "label": self.label,
            "bars": [{"bar": bar, "chords": [{"symbol": s, "fn": f} for s, f in chords]} for bar, chords in self.bars],
            "svg": self.svg,
            "changed": self.changed,
        }


@dataclass
class SongResult:
    """A version of the song ready for the page: heard, seen and downloadable."""

    sheet: LeadSheet
    key: str
    blocks: list[SongBlock]
    changed: list[int]  # 0-based blocks written by the action (none for a new or loaded tune)
    midi_path: str
    title: str  # of the piano roll
    audio: tuple[int, np.ndarray] | None = None  # (sample_rate, int16 (N, 2)); None without a synth
    audio_file: str | None = None  # the audio for the page's player (Opus by default); None without a synth
    report: dict[str, Any] = field(default_factory=dict)  # what came out, measured (engine.eval.report)
    kept: Kept = NOT_KEPT  # the song's piece in the owner's library, and the status line saying so

    def figure(self) -> Any:
        """The piano roll (plotly), drawn on demand: the page sends it after the audio."""
        return song_figure(self.sheet, self.title, self.changed)

    @property
    def num_bars(self) -> int:
        return self.sheet.melody.num_steps // (self.sheet.melody.steps_per_bar or 16)

    @property
    def num_notes(self) -> int:
        return len(self.sheet.melody.notes)

    def widget_blocks(self) -> list[dict]:
        return [block.widget() for block in self.blocks]


@dataclass
class SongVersion:
    """One entry of the song's history: the tune and what made it."""

    number: int  # 1-based, counts every action of the session
    action: str  # "new song", "infilled blocks 2, 3", ...
    sheet: LeadSheet
    changed: list[int] = field(default_factory=list)

    @property
    def num_blocks(self) -> int:
        return block_count(self.sheet)

    @property
    def line(self) -> str:
        """'Version 3 · infilled blocks 2, 3 · 16 bars'."""
        return f"Version {self.number} · {self.action} · {bars_text(self.sheet)}"


def push_version(history: list[SongVersion] | None, current: SongVersion | None) -> list[SongVersion]:
    """The history with ``current`` added on top (the oldest dropped beyond MAX_HISTORY)."""
    out = list(history or [])
    if current is not None:
        out.append(current)
    return out[-MAX_HISTORY:]


def blocks_text(blocks: list[int]) -> str:
    """0-based blocks as people count them: "2, 3"."""
    return ", ".join(str(b + 1) for b in blocks)


def parse_selection(value: Any) -> list[int]:
    """The timeline's value as sorted unique 0-based block indices: a list, a JSON list or "1,2" text.

    Malformed entries are an input error naming them (the range is checked by the infill)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text) if text.startswith("[") else [v for v in text.replace(" ", ",").split(",") if v]
        except ValueError:
            raise InputError(f"The block selection must be a list of block numbers, got {text!r}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise InputError(f"The block selection must be a list of block numbers, got {type(value).__name__}")
    return sorted({int_in("Block", v, 0, MAX_SONG_BARS // BARS_PER_BLOCK - 1) for v in value})


def _chords_in(sheet: LeadSheet, lo: int, hi: int, key: str) -> list[tuple[str, str]]:
    """(symbol, function letter) of the chords sounding in steps lo..hi, repeats merged ("N.C." for none)."""
    chords: list[Chord] = sorted((c for c in sheet.chords.chords if c.end > lo and c.start < hi), key=lambda c: c.start)
    out: list[tuple[str, str]] = []
    for chord in chords:
        item = (chord.symbol, FUNCTION_LETTERS[chord_function(chord, key)])
        if not out or out[-1] != item:
            out.append(item)
    return out or [("N.C.", FUNCTION_LETTERS[-1])]


def song_blocks(sheet: LeadSheet, key: str, changed: Sequence[int] = ()) -> list[SongBlock]:
    """The timeline's blocks of a tune: bars, chords with their functions in ``key``, a mini roll each."""
    spb = sheet.melody.steps_per_bar or 16
    span = pitch_span([sheet])  # one pitch scale for every block: rolls compare at a glance
    out = []
    for index in range(block_count(sheet)):
        lo, hi = index * BLOCK_STEPS, (index + 1) * BLOCK_STEPS
        first, last = lo // spb, (hi - 1) // spb  # 0-based bars the block touches (more than 2 outside 4/4)
        bars = [
            (bar + 1, _chords_in(sheet, max(lo, bar * spb), min(hi, (bar + 1) * spb), key))
            for bar in range(first, last + 1)
        ]
        label = f"Block {index + 1} · bars {first + 1}–{last + 1}"
        svg = svg_mini_roll(
            sheet.cropped(lo, BLOCK_STEPS), 200, 56, title=label, pitch_range=span, css_class="cz-roll cz-block-roll"
        )
        out.append(SongBlock(index, label, bars, svg, index in changed))
    return out


def song_figure(sheet: LeadSheet, title: str, changed: Sequence[int] = ()) -> Any:
    """The whole tune's piano roll: a line at each block boundary, block numbers on top, written blocks shaded."""
    spb = sheet.melody.steps_per_bar or 16
    shapes, labels = [], []
    for index in range(block_count(sheet)):
        x0, x1 = index * BLOCK_STEPS / spb + 1.0, (index + 1) * BLOCK_STEPS / spb + 1.0
        if index:
            shapes.append(
                dict(type="line", xref="x", yref="paper", x0=x0, x1=x0, y0=0, y1=1, line=dict(color="#f59e0b", width=2))
            )
        if index in changed:
            shapes.append(
                dict(
                    type="rect",
                    xref="x",
                    yref="paper",
                    x0=x0,
                    x1=x1,
                    y0=0,
                    y1=1,
                    layer="below",
                    fillcolor="rgba(245, 158, 11, 0.12)",
                    line=dict(width=0),
                )
            )
        # Above the chord symbols (which sit on the plot's top edge).
        labels.append(
            dict(
                x=(x0 + x1) / 2,
                y=1.0,
                xref="x",
                yref="paper",
                yanchor="bottom",
                yshift=16,
                showarrow=False,
                text=f"<b>{index + 1}</b>" if index in changed else str(index + 1),
                font=dict(size=11, color="#b45309"),
            )
        )
    # Built in one go: adding shapes afterwards (update_layout) re-validates them all (~0.5 s for 16 bars).
    return piano_roll_figure(
        sheet,
        title=title,
        height=ROLL_HEIGHT,
        extra_shapes=shapes,
        extra_annotations=labels,
        top_margin=66 if title else 44,
    )


class SongService:
    """Song-tab services: new songs, loaded tunes, continuations, infills.

    Built by :class:`app.services.Studio` around the compose pipeline's ``SongModel``
    (None when the latent sequence model is not loaded: every action then says so)
    with the studio's :class:`Shared` resources (model lock, synthesizer, session
    folders). Every method raises :class:`InputError` with a message for bad input.
    """

    def __init__(self, song_model: Any | None, shared: Shared, generation: LatentGenerationConfig | None = None):
        self.song_model = song_model
        self.shared = shared
        # The latent model's sampling settings (the compose pipeline's generation.json), shared by the three verbs.
        self.generation = generation or LatentGenerationConfig()
        made = song_model is not None
        self.song_pipeline = SongPipeline(song_model, self.generation) if made else None
        self.continue_pipeline = ContinuePipeline(song_model, self.generation) if made else None
        self.infill_pipeline = InfillPipeline(song_model, self.generation) if made else None

    @property
    def default_temperature(self) -> float:
        """The temperature a song is drawn at unless one is given (the latent model's own)."""
        return float(self.generation.temperature)

    # -- choices and checks ------------------------------------------------------------

    @staticmethod
    def examples() -> list[str]:
        """Titles of the example tunes ([] if they cannot be listed)."""
        return example_titles()

    @staticmethod
    def upload_tracks(file: Any) -> TrackChoices:
        """Tracks of an uploaded MIDI file and the guessed melody track."""
        return upload_tracks(file)

    @staticmethod
    def check_song_bars(bars: Any, lo: int = MIN_SONG_BARS, name: str = "Bars") -> int:
        """A song length: a whole, even number of bars in ``lo``..32."""
        value = int_in(name, bars, lo, MAX_SONG_BARS)
        if value % BARS_PER_BLOCK:
            raise InputError(f"{name} must be even (whole 2-bar blocks), got {value}")
        return value

    @property
    def available(self) -> bool:
        """Whether the song model is loaded (else every action says it is missing)."""
        return self.song_model is not None

    def _ready(self) -> None:
        if self.song_model is None:
            raise InputError(
                "The Song tab needs the latent sequence model (checkpoints/latent), which is not loaded on "
                "this server; Compose and Explore still work"
            )

    def _common(self, seed: Any, temperature: Any, instrument: str | None) -> tuple[int, float, int]:
        """(seed, temperature, melody program), each checked (a temperature left out: the model's own; None, like
        any other non-number sent to the API, is refused)."""
        seed = int_in("Seed", 0 if seed in (None, "") else seed, 0, MAX_SEED)
        temperature = self.default_temperature if temperature is MODEL_TEMPERATURE else temperature
        temperature = float_in("Temperature", temperature, MIN_SONG_TEMPERATURE, MAX_SONG_TEMPERATURE)
        return seed, temperature, melody_program(DEFAULT_INSTRUMENT if instrument is None else instrument)

    @staticmethod
    def _tune(sheet: Any) -> LeadSheet:
        """The current song, or a message asking for one."""
        if not isinstance(sheet, LeadSheet):
            raise InputError("There is no song yet: press New song (or load a tune) first")
        check_tune(sheet)
        return sheet

    # -- results -----------------------------------------------------------------------

    def present(
        self,
        sheet: LeadSheet,
        changed: list[int] | None = None,
        instrument: str | None = DEFAULT_INSTRUMENT,
        session_id: str | None = None,
        file_name: str = "cadenza_song.mid",
        note: str = "",
        new_song: bool = False,
        controls: dict[str, Any] | None = None,
        keep: bool = True,
    ) -> SongResult:
        """A tune ready for the page: its blocks, audio (melody + chords), MIDI in the session folder (and its piano
        roll on demand, :meth:`SongResult.figure`), kept in the owner's library as a new song (``new_song``) or as
        the next version of the session's song, ``note`` saying what made it.

        ``changed``: the 0-based blocks the last action wrote (marked on the timeline and the roll)."""
        program = melody_program(DEFAULT_INSTRUMENT if instrument is None else instrument)
        acc = accompaniment_program(DEFAULT_ACCOMPANIMENT)
        key = estimate_key(sheet)
        changed = sorted(changed or [])
        out_dir = self.shared.take_dir(session_id)
        midi_path = save_midi(
            leadsheet_to_pretty_midi(sheet, program=program, accompaniment_program=acc), out_dir / file_name
        )
        audio, audio_file = None, None
        if self.shared.synthesizer is not None:
            report_stage(0.7, "rendering the audio")
            audio = render_leadsheet(
                sheet, program=program, accompaniment_program=acc, synthesizer=self.shared.synthesizer
            )
            audio_file = self.shared.player_files([audio[1]], audio[0], [Path(midi_path).with_suffix("")])[0]
        title = f"{sheet.title or 'Song'} · key {key}"
        report = melody_report(sheet, key=key)
        result = SongResult(
            sheet, key, song_blocks(sheet, key, changed), changed, str(midi_path), title, audio, audio_file, report
        )
        if not keep:  # a version shown again (a song reopened from the library) is kept already
            return result
        result.kept = self.shared.keeper.keep_song(
            session_id,
            sheet.title or "Song",
            {"song.mid": str(midi_path), audio_name(audio_file): audio_file},
            {
                **(controls or {}),
                "key": key,
                "num_bars": result.num_bars,
                "changed_blocks": changed,
                # the file's own accompaniment plays over its first steps: a reload reads those tracks back as parts
                **({"parts_until": min(p.until for p in sheet.parts)} if sheet.parts else {}),
            },
            note,
            new_song,
        )
        return result

    # -- actions -----------------------------------------------------------------------

    def new_song(
        self,
        chords: str | None,
        bars: Any = 16,
        key: str | None = "C",
        rhythm: str | None = None,
        functions: str | None = None,
        tempo: Any = 120.0,
        seed: Any = 0,
        temperature: Any = MODEL_TEMPERATURE,
        instrument: str | None = DEFAULT_INSTRUMENT,
        session_id: str | None = None,
        file_name: str = "cadenza_song.mid",
    ) -> SongResult:
        """A new tune of ``bars`` (8..32, even) bars over ``chords`` (repeated to fill) in ``key``.

        ``rhythm``: a step-grid pattern repeated over every bar (it needs an onset), or None for the model's own;
        ``functions``: "T S D T" (one letter per bar, repeated), or empty to derive them from the chords.
        """
        bars = self.check_song_bars(bars)
        tempo = float_in("Tempo (BPM)", tempo, MIN_SONG_TEMPO, MAX_SONG_TEMPO)
        seed, temperature, _ = self._common(seed, temperature, instrument)
        key = choice("key", key, KEYS)
        if not isinstance(chords, str) or not chords.strip():
            raise InputError("The chord progression is empty: type chords such as 'C Am F G'")
        check = check_chords(chords)
        if not check.ok:
            raise InputError(check.message)
        if rhythm is not None and (not isinstance(rhythm, str) or "x" not in rhythm.lower()):
            raise InputError("The rhythm grid is empty: click at least one cell, or let the model choose the rhythm")
        self._ready()
        report_stage(0.1, f"writing {bars} bars")
        with self.shared.model_lock:
            output = self.song_pipeline(
                chords.strip(),
                bars,
                key=key,
                rhythm=rhythm,
                functions=(functions or "").strip() or None,
                tempo_bpm=tempo,
                seed=seed,
                temperature=temperature,
            )
        sheet = output.samples[0]
        sheet.title = f"Song over {' | '.join(check.bar_labels)}" if len(check.bar_labels) <= 8 else "New song"
        asked = {"chords": chords, "bars": bars, "rhythm": rhythm, "functions": functions, "tempo": tempo}
        asked |= {"seed": seed, "temperature": temperature}
        return self.present(sheet, [], instrument, session_id, file_name, "new song", True, asked)

    def load(
        self,
        kind: str | None,
        example: str | None = None,
        file: Any = None,
        track: Any = None,
        start_bar: Any = 0,
        bars: Any = 16,
        last_sheet: LeadSheet | None = None,
        instrument: str | None = DEFAULT_INSTRUMENT,
        session_id: str | None = None,
        file_name: str = "cadenza_song.mid",
        keep_accompaniment: Any = False,
    ) -> SongResult:
        """A tune from an example title, an uploaded MIDI (track, start bar) or the last composed melody,
        cut to at most ``bars`` (2..32, even) bars of whole 2-bar blocks from ``start_bar``. ``keep_accompaniment``:
        an upload's other tracks play as they are instead of chords from the recognised symbols (bars added later
        get those chords)."""
        keep = flag("Keep the file's accompaniment (keep_accompaniment)", keep_accompaniment)
        sheet = self.read_source(kind, example, file, track, start_bar, bars, last_sheet, keep)
        return self.present(sheet, None, instrument, session_id, file_name, f"loaded {sheet.title or 'a tune'}", True)

    def read_source(
        self,
        kind: str | None,
        example: str | None = None,
        file: Any = None,
        track: Any = None,
        start_bar: Any = 0,
        bars: Any = 16,
        last_sheet: LeadSheet | None = None,
        keep_accompaniment: bool = False,
    ) -> LeadSheet:
        """The tune of :meth:`load`, without rendering it."""
        num_bars = self.check_song_bars(bars, MIN_LOAD_BARS)
        start = int_in("Start bar", 0 if start_bar in (None, "") else start_bar, 0, 10_000)
        kind = choice("source", kind, SONG_SOURCES, SOURCE_EXAMPLE)
        if kind == SONG_NEW:
            raise InputError("A new song has nothing to load: press New song to make one from the chords")
        if kind == SOURCE_EXAMPLE:
            if not example:
                raise InputError("Choose an example tune")
            sheet = prepare_tune(example_tune(example), start, num_bars)
        elif kind == SOURCE_UPLOAD:
            source = check_upload(file)
            melody_track = None
            if track not in (None, ""):
                melody_track = int_in(
                    "Melody track", track if not isinstance(track, str) else track.split(":")[0], 0, 65_535
                )
            title = "Upload" if isinstance(source, bytes) else (source.stem or "Upload")
            data = (
                source if isinstance(source, bytes) else source.read_bytes()
            )  # bytes: read as MIDI whatever the extension
            sheet = read_source(
                data,
                melody_track=melody_track,
                start_bar=start,
                num_bars=num_bars,
                title=title,
                max_bars=MAX_SONG_BARS,
                keep_parts=keep_accompaniment,
            )
        elif kind == SOURCE_LAST:
            if not isinstance(last_sheet, LeadSheet):
                raise InputError(
                    "Nothing composed yet: make a melody in the Compose tab first, or choose an example or upload"
                )
            sheet = prepare_tune(last_sheet, start, num_bars)
            sheet.title = last_sheet.title or "Last composed melody"
        else:
            raise InputError(f"Unknown source '{kind}': choose one of {', '.join(SONG_SOURCES)}")
        sheet.title = sheet.title or "Tune"
        check_tune(sheet)
        return sheet

    def continue_song(
        self,
        sheet: LeadSheet | None,
        bars: Any = 4,
        chords: str | None = None,
        seed: Any = 0,
        temperature: Any = MODEL_TEMPERATURE,
        instrument: str | None = DEFAULT_INSTRUMENT,
        session_id: str | None = None,
        file_name: str = "cadenza_song.mid",
    ) -> SongResult:
        """The tune followed by ``bars`` (2..16, even) new bars over ``chords`` (empty: the tune's own progression
        again)."""
        sheet = self._tune(sheet)
        spb = sheet.melody.steps_per_bar or 16
        have = block_count(sheet) * WINDOW_STEPS // spb  # bars of the tune's own meter
        most = MAX_BLOCKS * WINDOW_STEPS // spb
        meter = "" if spb == 16 else f" of {meter_text(sheet)}"
        add = int_in("Bars to add", bars, MIN_ADD_BARS, MAX_ADD_BARS)
        if have + add > most:
            room = most - have
            raise InputError(
                f"The song has {have} bars{meter} and a song has at most {most}: "
                + (f"add at most {room} bars" if room else "it cannot grow any more (infill blocks instead)")
            )
        try:
            blocks_for_bars(sheet, add, MAX_BLOCKS - block_count(sheet))
        except SongInputError as err:
            raise InputError(str(err)) from None
        seed, temperature, _ = self._common(seed, temperature, instrument)
        typed = (chords or "").strip()
        if typed:
            check = check_chords(typed)
            if not check.ok:
                raise InputError(f"Chords for the new bars: {check.message}")
        self._ready()
        report_stage(0.1, f"writing {add} more bars")
        with self.shared.model_lock:
            output = self.continue_pipeline(
                sheet, add, chords=typed or None, key=estimate_key(sheet), seed=seed, temperature=temperature
            )
        grown = output.samples[0]
        grown.title = sheet.title  # the pipeline's title grows with every action; the version line tells the story
        grown.parts = sheet.parts  # the file's own accompaniment still plays under the bars it came with
        note = f"continued {add} bars" + (f" over {typed}" if typed else "")
        asked = {"chords": typed, "seed": seed, "temperature": temperature}
        return self.present(grown, output.blocks, instrument, session_id, file_name, note, controls=asked)

    def infill(
        self,
        sheet: LeadSheet | None,
        blocks: Any,
        rhythm_mode: str | None = RHYTHM_KEEP,
        grid_rhythm: str | None = None,
        seed: Any = 0,
        temperature: Any = MODEL_TEMPERATURE,
        instrument: str | None = DEFAULT_INSTRUMENT,
        session_id: str | None = None,
        file_name: str = "cadenza_song.mid",
    ) -> SongResult:
        """The tune with the 0-based ``blocks`` rewritten (some, not all); every other block unchanged.

        ``rhythm_mode``: "keep" (the blocks keep their rhythm), "grid" (``grid_rhythm``, a 2-bar step-grid
        pattern, for every chosen block) or "model" (the model's own)."""
        sheet = self._tune(sheet)
        chosen = parse_selection(blocks)
        count = block_count(sheet)
        if not chosen:
            raise InputError("No block selected: click the 2-bar block(s) to rewrite in the timeline")
        if chosen[-1] >= count:
            raise InputError(f"There is no block {chosen[-1] + 1}: the song has {count} blocks")
        if len(chosen) == count:
            raise InputError(
                f"All {count} blocks are selected: infill rewrites some blocks from the others. "
                "Leave at least one unselected (or make a new song)"
            )
        mode = choice("rhythm choice", rhythm_mode, RHYTHM_MODES, RHYTHM_KEEP)
        rhythm = None
        if mode == RHYTHM_GRID:
            if not isinstance(grid_rhythm, str) or "x" not in grid_rhythm.lower():
                raise InputError("The rhythm grid is empty: click at least one cell, or keep the blocks' rhythm")
            rhythm = {block: grid_rhythm for block in chosen}
        seed, temperature, _ = self._common(seed, temperature, instrument)
        self._ready()
        report_stage(0.1, f"rewriting block{'s' if len(chosen) != 1 else ''} {blocks_text(chosen)}")
        with self.shared.model_lock:
            output = self.infill_pipeline(
                sheet,
                chosen,
                rhythm=rhythm,
                keep_rhythm=mode != RHYTHM_MODEL,
                key=estimate_key(sheet),
                seed=seed,
                temperature=temperature,
            )
        filled = output.samples[0]
        filled.title = sheet.title
        filled.parts = sheet.parts  # the file's own accompaniment stays under the rewritten blocks (same chords)
        note = f"rewrote blocks {blocks_text(output.blocks)}"
        asked = {"seed": seed, "temperature": temperature, "rhythm_mode": rhythm_mode}
        return self.present(filled, output.blocks, instrument, session_id, file_name, note, controls=asked)

    def warm_up(self) -> None:
        """A short new song and an infill (model paths, first render); errors go to the caller."""
        if self.song_model is None:
            return
        result = self.new_song("C G", MIN_SONG_BARS, "C", seed=0)
        self.infill(result.sheet, [1], seed=0)
