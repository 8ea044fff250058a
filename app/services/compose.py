"""The Compose tab's service: a rhythm and a chord progression in, melodies out.

:class:`ComposeService` turns the tab's inputs (plain strings and numbers) into
:class:`ComposeResult` objects holding a LeadSheet, its audio and a MIDI file in
the session's folder (``Studio.piano_roll`` draws the figure separately: the page
shows it after the audio). The tab reaches it through ``Studio.compose``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.services.common import (
    DEFAULT_ACCOMPANIMENT,
    DEFAULT_INSTRUMENT,
    KEYS,
    MAX_SEED,
    NO_ACCOMPANIMENT,
    InputError,
    Shared,
    accompaniment_program,
    check_chords,
    float_in,
    int_in,
    melody_program,
)
from engine.music import LeadSheet
from engine.render.audio import render_leadsheets
from engine.render.export import leadsheet_to_pretty_midi, save_midi

MIN_BARS, MAX_BARS = 2, 16
MIN_TEMPO, MAX_TEMPO = 40.0, 240.0
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.1, 2.0
MAX_VARIATIONS = 4


@dataclass
class ComposeResult:
    """One generated variation, ready for the UI."""

    variation: int  # 1-based
    seed: int
    sheet: LeadSheet
    midi_path: str
    audio: tuple[int, np.ndarray] | None = None  # (sample_rate, int16 (N, 2)); None without a synth
    instrument: str = ""
    accompaniment: str = ""

    @property
    def title(self) -> str:
        """"Variation N · seed S" for the result's heading."""
        return f"Variation {self.variation} · seed {self.seed}"

    @property
    def num_notes(self) -> int:
        """Number of melody notes."""
        return len(self.sheet.melody.notes)


def check_num_bars(num_bars: Any) -> int:
    """The number of bars to compose, a whole number in MIN_BARS..MAX_BARS."""
    return int_in("Number of bars", num_bars, MIN_BARS, MAX_BARS)


class ComposeService:
    """Compose-tab service around a ``ComposePipeline`` (anything with its call signature).

    Built by :class:`app.services.Studio` with the studio's :class:`Shared` resources
    (synthesizer, model lock, session folders).
    """

    def __init__(self, pipeline: Any, shared: Shared):
        self.pipeline = pipeline
        self.shared = shared

    def compose(
        self,
        rhythm: str,
        chords: str,
        num_bars: int,
        key: str = "C",
        tempo: float = 120.0,
        instrument: str = DEFAULT_INSTRUMENT,
        accompaniment: str | None = DEFAULT_ACCOMPANIMENT,
        seed: int = 0,
        temperature: float = 0.8,
        variations: int = 1,
        session_id: str | None = None,
    ) -> list[ComposeResult]:
        """Generate ``variations`` melodies for a rhythm pattern and chord progression.

        ``rhythm`` is the step-grid string ("x..." bars joined by "|"). Variation
        ``i`` (1-based) uses seed ``seed + i - 1`` (the pipeline's convention), so
        any variation can be recreated alone. Raises :class:`InputError` for bad input.
        """
        num_bars = check_num_bars(num_bars)
        tempo = float_in("Tempo (BPM)", tempo, MIN_TEMPO, MAX_TEMPO)
        temperature = float_in("Temperature", temperature, MIN_TEMPERATURE, MAX_TEMPERATURE)
        variations = int_in("Number of variations", variations, 1, MAX_VARIATIONS)
        seed = int_in("Seed", seed, 0, MAX_SEED - MAX_VARIATIONS)
        key = (key or "").strip()
        if key not in KEYS:
            raise InputError(f"Unknown key '{key}'. Choose one of: {', '.join(KEYS)}")
        if not isinstance(rhythm, str) or not rhythm.strip():
            raise InputError("The rhythm is empty: click some cells of the step grid")
        if not isinstance(chords, str) or not chords.strip():
            raise InputError("The chord progression is empty: type chords such as 'C Am F G'")
        program = melody_program(instrument)
        acc_program = accompaniment_program(accompaniment)

        out_dir = self.shared.session_dir(session_id)
        with self.shared.model_lock:
            output = self.pipeline(
                rhythm=rhythm,
                chords=chords,
                num_bars=num_bars,
                key=key,
                tempo_bpm=tempo,
                seed=seed,
                temperature=temperature,
                num_samples=variations,
            )
        sheets = list(output.leadsheets)
        seeds = list(getattr(output, "seeds", None) or [seed + i for i in range(len(sheets))])
        results: list[ComposeResult] = []
        for index, (sheet, var_seed) in enumerate(zip(sheets, seeds), start=1):
            if not sheet.title:
                sheet.title = f"Variation {index} (seed {var_seed})"
            midi = leadsheet_to_pretty_midi(sheet, program=program, accompaniment_program=acc_program)
            midi_path = save_midi(midi, out_dir / f"cadenza_var{index}_seed{var_seed}.mid")
            results.append(ComposeResult(index, var_seed, sheet, str(midi_path), None, instrument, accompaniment or NO_ACCOMPANIMENT))
        synthesizer = self.shared.synthesizer
        if synthesizer is not None:
            # All variations at once: the synth's engines take one each (one alone is cut in time).
            rate, audios = render_leadsheets(sheets, program=program, accompaniment_program=acc_program, synthesizer=synthesizer)
            for result, audio in zip(results, audios):
                result.audio = (rate, audio)
        return results

    def warm_up(self) -> None:
        """Check chords and compose one short melody (music21 import, first synth render); errors go to the caller."""
        check_chords("C Am F G")
        self.compose("x...x...x...x...|x...x...x...x...", "C G", 2, seed=0)
