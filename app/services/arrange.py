"""The Arrange tab's service: the user's melody in, chords suggested for it, and a four-part arrangement in a style.

:class:`ArrangeService` (``studio.arrange``) reads the melody (the last composed one, or a track of an uploaded MIDI
file: one note at a time), suggests chords (engine.pipelines.harmonize: the most likely progression, bar by bar, and
the alternatives of every chord slot) and arranges it (engine.pipelines.arrange: the melody on top note for note, three
lower voices in one of the seven styles over the chords in the box). A result is heard (audio), seen (the multitrack
roll with its chords, drawn on demand), judged (the style judge per 2-bar window) and downloaded (a four-track MIDI,
MusicXML with four staves, WAV); "redraw a voice" draws one lower voice again and keeps the others. Every arrangement
goes to the owner's library. Bad input raises :data:`InputError` naming what is wrong.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.services.common import (
    MAX_SEED,
    InputError,
    Shared,
    check_chords,
    check_upload,
    choice,
    float_in,
    int_in,
    melody_program,
    report_stage,
)
from app.services.keeper import NOT_KEPT, Kept, audio_name
from app.services.library import KeptTake
from app.services.style import STYLE_OWN
from engine.io.midi import guess_melody_track
from engine.io.played import played_melody
from engine.io.sources import read_piece, source_tracks
from engine.music import LeadSheet
from engine.music.chords import parse_progression
from engine.music.constants import STEPS_PER_BAR_44
from engine.music.limits import HARMONIZE_BARS
from engine.music.notes import Chord, ChordProgression
from engine.pipelines.arrange import METERS, Arrangement, arrangeable
from engine.pipelines.harmonize import melody_for_chords, progression_bars
from engine.render.export import leadsheet_to_pretty_midi, save_midi, write_wav
from engine.render.multitrack import TRACK_NAMES, midi_to_piece, piece_to_midi, style_instruments, write_musicxml
from engine.render.pianoroll import multitrack_roll_figure

log = logging.getLogger("cadenza.arrange")

SOURCE_LAST, SOURCE_UPLOAD = "Last composed", "Upload MIDI"
SOURCES = (SOURCE_LAST, SOURCE_UPLOAD)
MAX_MELODY_POLYPHONY = 1.2  # mean notes sounding at an onset: above it a track plays chords, not a tune
VOICE_NAMES = {1: "Voice 2", 2: "Voice 3", 3: "Voice 4 (bass)"}


@dataclass
class Suggestion:
    """Chords for a melody: the box's text (bars joined by "|", from bar 1), the key, and each bar's alternatives:
    per chord slot of the bar, best first, (symbol, probability)."""

    text: str
    key: str
    alternatives: list[list[list[tuple[str, float]]]]


@dataclass
class ArrangeResult:
    """One arrangement ready for the page."""

    title: str
    arrangement: Arrangement
    instruments: tuple[str, ...]
    tempo: float
    chords_text: str
    midi_path: str
    musicxml_path: str | None = None
    audio_file: str | None = None
    wav_path: str | None = None
    kept: Kept = NOT_KEPT
    report: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    @property
    def verdicts(self) -> list[str]:
        return self.arrangement.verdicts

    def figure(self) -> Any:
        """The multitrack roll with the chords, drawn on demand."""
        arrangement = self.arrangement
        names = [f"{TRACK_NAMES[i]}: {name}" for i, name in enumerate(self.instruments)]
        names[0] = f"Melody (yours): {self.instruments[0]}"
        chords = ChordProgression(
            [
                Chord(c.symbol, c.start + arrangement.offset, c.end + arrangement.offset, c.pitch_classes, c.bass)
                for c in arrangement.chords.chords
            ]
        )
        return multitrack_roll_figure(
            arrangement.tokens,
            names,
            self.title,
            steps_per_bar=arrangement.steps_per_bar,
            chords=chords,
            tempo_bpm=self.tempo,
        )


class ArrangeService:
    """The Arrange tab's verbs over an ArrangePipeline (None: the tab says it is unavailable)."""

    def __init__(self, pipeline: Any | None, shared: Shared):
        self.pipeline = pipeline
        self.shared = shared

    @property
    def available(self) -> bool:
        return self.pipeline is not None

    @property
    def styles(self) -> list[str]:
        return list(self.pipeline.styles) if self.pipeline is not None else []

    def _ready(self) -> Any:
        if self.pipeline is None:
            raise InputError(
                "Arrange is unavailable on this server: it needs the style GAN (checkpoints/stylegan) and the chord "
                "suggester (checkpoints/harmonizer)"
            )
        return self.pipeline

    # -- the melody ------------------------------------------------------------------------

    def melody(
        self, source: Any, file: Any = None, last_sheet: Any = None, bars: Any = 16, track: Any = None
    ) -> tuple[LeadSheet, str]:
        """(the melody to arrange, a note on what was taken): the last composed melody or an uploaded file's melody
        track (``track``, else the one that looks most like a melody), which must play one note at a time; its first
        ``bars`` bars (1..32)."""
        bars = int_in("Bars", bars, HARMONIZE_BARS.low, HARMONIZE_BARS.high)
        source = choice("source", source, SOURCES, SOURCE_LAST)
        if source == SOURCE_LAST:
            if not isinstance(last_sheet, LeadSheet):
                raise InputError(
                    "Nothing composed yet: make a melody in Compose first, or upload a MIDI file (Upload MIDI)"
                )
            sheet = last_sheet
        else:
            data = check_upload(file)
            raw = data if isinstance(data, bytes) else data.read_bytes()
            tracks = source_tracks(raw)
            if track in (None, ""):
                index = guess_melody_track(tracks)
            else:
                index = int_in("Melody track", track, 0, len(tracks) - 1)
            info = tracks[index]
            if info.is_drum or not info.num_notes:
                raise InputError(f"Track {index} ('{info.name}') has no pitched notes: choose the melody's track")
            if info.polyphony > MAX_MELODY_POLYPHONY:
                raise InputError(
                    f"Track {index} ('{info.name}') plays chords ({info.polyphony:.1f} notes at once on average): "
                    "Arrange needs a melody, one note at a time; choose another track"
                )
            title = Path(data).stem if isinstance(data, Path) else "Upload"
            sheet = read_piece(raw, index, title)
        whole = sheet.melody
        spb = max(1, whole.steps_per_bar)
        total = -(-(whole.num_steps - whole.pickup_steps) // spb)
        tune = arrangeable(melody_for_chords(sheet, min(bars, max(1, total))))
        used = -(-(tune.num_steps - tune.pickup_steps) // spb)
        note = f"{used} bars" + (f" (the first {used} of {total})" if total > used else "")
        if whole.time_signature == (2, 4):
            note += "; 2/4 is arranged as 4/4 bars of two 2/4 bars"
        return LeadSheet(tune, ChordProgression([]), sheet.title or "Melody"), note

    def played_file(self, take: Any, tempo: Any, session_id: str | None = None) -> tuple[str, str]:
        """(a MIDI file of the melody played on a MIDI keyboard, a note on it): the take (the keyboard widget's
        JSON) on the sixteenth grid at ``tempo`` BPM (app.components.midi_keyboard.played_melody). Raises InputError
        naming what is wrong."""
        tempo = float_in("Tempo", 100 if tempo in (None, "") else tempo, 30, 300)
        melody = played_melody(take, tempo)
        bars = melody.num_steps // STEPS_PER_BAR_44
        path = self.shared.take_dir(session_id) / "played melody.mid"
        save_midi(leadsheet_to_pretty_midi(LeadSheet(melody, ChordProgression([]), "Played"), 0, None), path)
        return str(path), f"{len(melody.notes)} notes in {bars} bars at {tempo:g} BPM"

    # -- chords ----------------------------------------------------------------------------

    def suggest(self, sheet: LeadSheet, seed: Any = 0) -> Suggestion:
        """The most likely chords for the melody, bar by bar, and the alternatives of every slot."""
        pipeline = self._ready()
        seed = int_in("Seed", 0 if seed in (None, "") else seed, 0, MAX_SEED)
        report_stage(0.2, "suggesting chords")
        with self.shared.model_lock:
            out = pipeline.harmonizer(sheet.melody, seed=seed, alternatives=3)
        bars = progression_bars(out.samples[0], sheet.melody)
        per_bar: list[list[list[tuple[str, float]]]] = [[] for _ in bars]
        for slot in out.choices:
            if 0 <= slot.bar < len(per_bar):
                per_bar[slot.bar].append(list(slot.options))
        text = " | ".join(" ".join(bar) for bar in bars)
        return Suggestion(text, out.key, per_bar)

    # -- arranging -------------------------------------------------------------------------

    def instruments_for(self, style: str, instruments: list[Any] | None) -> tuple[str, ...]:
        """Four instrument names: those given (each checked), else the style's own."""
        defaults = style_instruments(style)
        if not instruments:
            return defaults
        if len(instruments) != 4:
            raise InputError(f"Instruments: give one per track (4), got {len(instruments)}")
        out = []
        for index, (value, default) in enumerate(zip(instruments, defaults), start=1):
            name = default if value in (None, "", STYLE_OWN) else value
            if not isinstance(name, str):
                raise InputError(f"Instrument of track {index} must be an instrument name, got {value!r}")
            melody_program(name)
            out.append(name)
        return tuple(out)

    def arrange(
        self,
        sheet: LeadSheet,
        chords: Any,
        style: Any,
        seed: Any = 0,
        instruments: list[Any] | None = None,
        session_id: str | None = None,
        voice: int | None = None,
        keep: ArrangeResult | None = None,
    ) -> ArrangeResult:
        """The melody arranged in ``style`` over ``chords`` (text as in Compose; blank: suggested), or, with
        ``voice`` (1..3) and ``keep``, that arrangement with one lower voice drawn again."""
        pipeline = self._ready()
        style = choice("style", style, self.styles)
        seed = int_in("Seed", 0 if seed in (None, "") else seed, 0, MAX_SEED)
        text = chords.strip() if isinstance(chords, str) else ""
        if chords is not None and not isinstance(chords, str):
            raise InputError(f"Chords must be text such as 'G C D G', got {type(chords).__name__}")
        if text:
            checked = check_chords(text)
            if not checked.ok:
                raise InputError(f"Chords: {checked.message}")
        names = self.instruments_for(style, instruments)
        report_stage(0.1, f"writing the {style} voices" if voice is None else f"drawing {VOICE_NAMES[voice]} again")
        with self.shared.model_lock:
            out = pipeline(
                sheet.melody,
                style,
                seed=seed,
                chords=text or None,
                voice=voice,
                keep=keep.arrangement if keep is not None else None,
            )
        arrangement = out.samples[0]
        shown = text or " | ".join(" ".join(bar) for bar in progression_bars(arrangement.chords, sheet.melody))
        title = f"{sheet.title or 'Melody'} as {style} · seed {seed}"
        if voice is not None:
            title += f" · {VOICE_NAMES[voice]} redrawn"
        return self._present(arrangement, title, names, sheet, shown, seed, session_id, voice)

    def _present(
        self,
        arrangement: Arrangement,
        title: str,
        names: tuple[str, ...],
        sheet: LeadSheet,
        chords_text: str,
        seed: int,
        session_id: str | None,
        voice: int | None,
    ) -> ArrangeResult:
        tempo = float(sheet.melody.tempo_bpm)
        programs = tuple(melody_program(n) for n in names)
        meter = arrangement.time_signature
        pm = piece_to_midi(arrangement.tokens, tempo, programs, time_signature=meter)
        out_dir = self.shared.take_dir(session_id)
        stem = f"cadenza_arrangement_seed{seed}"
        midi_path = out_dir / f"{stem}.mid"
        pm.write(str(midi_path))
        result = ArrangeResult(title, arrangement, names, tempo, chords_text, str(midi_path), seed=seed)
        # The score is engraved by the engraver (a worker process in the served studio) while the audio renders: the
        # result waits for the slower of the two, not for both.
        xml = out_dir / f"{stem}.musicxml"
        engraving = self.shared.engrave(write_musicxml, xml, arrangement.tokens, names, tempo, title, meter)
        synthesizer = self.shared.synthesizer
        if synthesizer is not None:
            report_stage(0.8, "rendering the audio")
            audio = synthesizer.render(pm)
            result.audio_file = self.shared.player_files([audio], synthesizer.sample_rate, [out_dir / stem])[0]
            result.wav_path = str(write_wav(out_dir / f"{stem}.wav", audio, synthesizer.sample_rate))
        report_stage(0.9, "engraving the score")
        try:
            result.musicxml_path = str(engraving.result())
        except ValueError as err:  # the arrangement still plays and downloads as MIDI
            log.warning("no MusicXML for %s: %s", title, err)
        in_style = float(np.mean([v == arrangement.style for v in arrangement.verdicts]))
        result.report = {
            "style": arrangement.style,
            "judge_verdicts": arrangement.verdicts,
            "in_style": round(in_style, 4),
            "parallels_with_melody": arrangement.parallels,
            "chords": chords_text,
        }
        result.kept = self.shared.keeper.keep(
            session_id,
            "arrange",
            title,
            {
                "piece.mid": str(midi_path),
                "score.musicxml": result.musicxml_path,
                audio_name(result.audio_file): result.audio_file,
            },
            {
                "action": "arrange" if voice is None else "redraw voice",
                "style": arrangement.style,
                "chords": chords_text,
                "seed": seed,
                "instruments": list(names),
                "tempo": tempo,
                "steps": int(arrangement.tokens.shape[1]),
                "offset": int(arrangement.offset),
                "time_signature": list(arrangement.time_signature),
                "asked": [arrangement.style] * len(arrangement.verdicts),
                "verdicts": arrangement.verdicts,
                "model": "Infill" if self.pipeline.writer_for(arrangement.style) == "infill" else "GAN",
                "take": out_dir.name,
            },
            ("voice_infill", "stylegan", "harmonizer", "style_judge")
            if self.pipeline.writer_for(arrangement.style) == "infill"
            else ("stylegan", "harmonizer", "style_judge"),
        )
        return result

    def reopen(self, take: KeptTake) -> ArrangeResult | None:
        """The latest arrangement kept, as it was made, from its library files (no model runs): its four tracks read
        back from its MIDI, the judge's verdicts and the chords as they were, its audio and downloads."""
        piece, files = take.pieces[-1], take.files[-1]
        controls = piece.controls
        if files.midi is None:
            return None
        steps = controls.get("steps")
        tokens, tempo = midi_to_piece(files.midi, int(steps) if isinstance(steps, int) else None)
        names = controls.get("instruments")
        style = str(controls.get("style", ""))
        chords_text = str(controls.get("chords", ""))
        offset = int(controls.get("offset", 0))
        verdicts = [str(v) for v in controls.get("verdicts", [])]
        kept_meter = controls.get("time_signature")
        meter = (
            (int(kept_meter[0]), int(kept_meter[1]))
            if isinstance(kept_meter, list) and len(kept_meter) == 2 and tuple(kept_meter) in METERS
            else (4, 4)
        )
        bar = meter[0] * 16 // meter[1]
        chords = self._chords_of(chords_text, tokens, offset, bar)
        arrangement = Arrangement(tokens, style, chords, verdicts, offset, time_signature=meter)
        result = ArrangeResult(
            piece.title,
            arrangement,
            tuple(str(n) for n in names) if isinstance(names, list) and len(names) == 4 else style_instruments(style),
            float(controls.get("tempo", tempo)),
            chords_text,
            files.midi,
            next((f for f in files.downloads if f.endswith(".musicxml")), None),
            files.audio,
            next((f for f in files.downloads if f.endswith(".wav")), None),
            Kept(piece.id, f"In your library as “{piece.title}”"),
        )
        result.seed = int(controls.get("seed", 0))
        return result

    @staticmethod
    def _chords_of(text: str, tokens: np.ndarray, offset: int, bar: int = 16) -> ChordProgression:
        """Chords typed from bar 1 on the melody's own steps (a pickup of ``bar`` - offset steps before them); none
        when the text does not parse."""
        pickup = (bar - offset) % bar
        bars = max(1, (tokens.shape[1] - offset - pickup) // bar)
        try:
            progression = parse_progression(text, bars, bar)
        except Exception:  # noqa: BLE001 - the roll is then drawn without its chord labels
            return ChordProgression([])
        return ChordProgression(
            [Chord(c.symbol, c.start + pickup, c.end + pickup, c.pitch_classes, c.bass) for c in progression.chords]
        )

    def warm_up(self) -> None:
        """One short arrangement (first draw, first suggestion, first MusicXML); errors go to the caller."""
        if self.pipeline is None:
            return
        from engine.music.notes import Melody, Note

        tune = Melody([Note(67 + (i % 3) * 2, i * 4, i * 4 + 4) for i in range(8)], 32)
        sheet = LeadSheet(tune, ChordProgression([]), "Warm-up")
        self.suggest(sheet)
        self.arrange(sheet, "", self.styles[0])
