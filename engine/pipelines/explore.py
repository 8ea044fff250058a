"""Explore: the latent space between two melodies A and B (EC2-VAE).

EC2-VAE encodes a 2-bar window (32 sixteenth steps) into two latents, z_pitch
and z_rhythm. This pipeline works on whole pieces window by window:

* sources (:func:`prepare_source`, :func:`read_source`): a piece is cut into
  whole 32-step windows starting at a chosen bar after the pickup, at most
  16 bars (8 windows of 4/4). A last window that is at least half full is kept
  and padded with rests. Windows are always 32 steps: in 3/4 or 6/8 a window
  covers 2 2/3 bars and does not line up with bar lines (the model was trained
  on 4/4), and "16 bars" then means 16 bars of the piece's own meter
  (192 steps of 3/4 = 6 windows);
* :meth:`ExplorePipeline.encode` / :meth:`~ExplorePipeline.decode`: posterior
  means per window; greedy decoding. The pitch decoder's output is masked so
  that notes start exactly on the onsets of the rhythm it is given (the rhythm
  decoder's, or a forced one), as Compose does;
* interpolation and the 2-D map use spherical interpolation (:func:`slerp`)
  per window. A and B must have the same number of windows: **the longer one
  is cropped to the shorter** (looping the shorter one would invent music);
* the analogy decodes A's z_pitch with B's z_rhythm, with B's actual rhythm
  forced, so the onsets are exactly B's. By default it uses **A's chords**: the
  tune belongs with its own harmony and B lends only its rhythm (its bar grid
  is the same 2-bar windows); ``chords='b'`` or a typed progression are offered;
* chords for decoding: ``'a'`` (A's), ``'b'`` (B's) or a typed progression such
  as ``"C Am F G"`` (one chord per bar, repeated to fill; see
  :func:`engine.music.chords.parse_progression`). ``'a'`` and ``'b'`` are lower case;
  a typed chord ``A`` is the A major chord.

Outputs are LeadSheets of whole windows (pickup 0) at A's tempo (the analogy:
at the rhythm source's tempo), with the chord source's time signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import numpy as np
import torch

from engine.io.sources import prepare_source
from engine.models.device import resolve_device
from engine.models.ec2vae import EC2VAE, EC2VAEConfig
from engine.models.registry import load_ec2vae
from engine.music import Chord, ChordProgression, LeadSheet, Melody, Note
from engine.music.chords import chroma_to_progression, parse_progression
from engine.music.constants import HOLD, NUM_PITCH_TOKENS, ONSET, REST, SILENCE, STEPS_PER_BAR_44, SUSTAIN, WINDOW_STEPS
from engine.music.limits import EXPLORE_BARS, INTERPOLATION_STEPS, MAP_SIZE, MAX_MORPH_CELLS
from engine.music.representation import melody_to_tokens, tokens_to_notes, tokens_to_rhythm
from engine.paths import default_checkpoint
from engine.pipelines.base import PipelineOutput
from engine.pipelines.explore_latents import (
    SOURCE_CHORDS,
    ExploreInputError,
    Harmony,
    Latents,
    check_explore_number,
    check_sheet,
    sheet_name,
    slerp,
)

MAX_WINDOWS = EXPLORE_BARS.high * STEPS_PER_BAR_44 // WINDOW_STEPS  # 8 windows of 2 bars of 4/4


@dataclass
class ExploreOutput(PipelineOutput[LeadSheet]):
    """``samples``: the melodies made (an interpolation's steps from A to B, one analogy, a map's cells row by row);
    ``columns``: a map's cells per row (1 for everything else). Explore draws nothing at random: no seeds."""

    columns: int = 1

    @property
    def rows(self) -> list[list[LeadSheet]]:
        """The samples as rows of ``columns`` (a map's grid: rows move the pitch latent, columns the rhythm's)."""
        return [self.samples[i : i + self.columns] for i in range(0, len(self.samples), self.columns)]


class ExplorePipeline:
    """Interpolation, 2-D pitch/rhythm maps, morphs, analogies and re-harmonisation. Inference only."""

    def __init__(self, model: EC2VAE, pitch_range: tuple[int, int] = (21, 108)):
        self.model = model.eval()
        self.pitch_range = pitch_range

    @classmethod
    def from_pretrained(cls, path_or_name: str | Path | None = None, device: str | None = None) -> ExplorePipeline:
        """Load a checkpoint folder (default: the shipped checkpoints/ec2vae), or the tiny untrained model "debug"."""
        resolved = resolve_device(device)
        if str(path_or_name) == "debug":
            torch.manual_seed(0)
            return cls(EC2VAE(EC2VAEConfig.debug()).to(resolved))
        return cls(load_ec2vae(path_or_name or default_checkpoint("ec2vae"), resolved))

    @property
    def device(self) -> torch.device:
        return self.model.device

    # ------------------------------------------------------------- sources
    @staticmethod
    def prepare_source(sheet: LeadSheet, start_bar: int = 0, num_bars: int | None = None) -> LeadSheet:
        """See :func:`prepare_source`."""
        return prepare_source(sheet, start_bar, num_bars)

    # ---------------------------------------------------------- encode/decode
    @torch.no_grad()
    def encode(self, sheet: LeadSheet) -> Latents:
        """Posterior means per window of ``sheet`` (prepared first, see :func:`prepare_source`)."""
        return self._encode([prepare_source(sheet)])[0]

    def _encode(self, sheets: Sequence[LeadSheet]) -> list[Latents]:
        """All windows of all (prepared) sheets in one encoder call."""
        tokens, chroma, counts = [], [], []
        for sheet in sheets:
            num_windows = sheet.melody.num_steps // WINDOW_STEPS
            steps = num_windows * WINDOW_STEPS
            tokens.append(melody_to_tokens(sheet.melody, 0, steps).reshape(num_windows, WINDOW_STEPS))
            chroma.append(sheet.chords.chroma(steps).reshape(num_windows, WINDOW_STEPS, 12))
            counts.append(num_windows)
        all_tokens = np.concatenate(tokens)
        all_chroma = np.concatenate(chroma)
        with torch.no_grad():
            mu_p, _, mu_r, _ = self.model.encode(
                torch.from_numpy(all_tokens).to(self.device), torch.from_numpy(all_chroma).to(self.device)
            )
        out, offset = [], 0
        for count in counts:
            window = slice(offset, offset + count)
            out.append(Latents(mu_p[window], mu_r[window], all_chroma[window], all_tokens[window]))
            offset += count
        return out

    def _latent(self, z: object, size: int, name: str) -> torch.Tensor:
        if not isinstance(z, (torch.Tensor, np.ndarray)):
            raise ExploreInputError(f"{name} must be a tensor or array, not {type(z).__name__}")
        z = torch.as_tensor(np.asarray(z) if isinstance(z, np.ndarray) else z).float().to(self.device)
        if z.dim() == 1:
            z = z.unsqueeze(0)
        if z.dim() != 2 or z.shape[1] != size or not 1 <= z.shape[0] <= MAX_WINDOWS:
            raise ExploreInputError(
                f"{name} must have shape (windows, {size}) with 1..{MAX_WINDOWS} windows (got {tuple(z.shape)})"
            )
        if not torch.isfinite(z).all():
            raise ExploreInputError(f"{name} holds NaN or infinite values")
        return z

    @torch.no_grad()
    def decode(
        self,
        z_pitch,
        z_rhythm,
        chroma,
        tempo: float = 120.0,
        title: str = "",
        *,
        chords: ChordProgression | None = None,
        rhythm: np.ndarray | None = None,
        key: str | None = None,
        time_signature: tuple[int, int] = (4, 4),
    ) -> ExploreOutput:
        """Greedy decode of W windows -> one LeadSheet of W * 32 steps (the output's one sample).

        z_pitch (W, Zp), z_rhythm (W, Zr), chroma (W, 32, 12) (or (W*32, 12)). The rhythm
        comes from the rhythm decoder unless ``rhythm`` (W, 32) classes is given; either
        way the notes start exactly on its onsets. ``chords`` labels the result (default:
        symbols recognised from ``chroma``).
        """
        cfg = self.model.config
        z_p = self._latent(z_pitch, cfg.z_pitch, "z_pitch")
        z_r = self._latent(z_rhythm, cfg.z_rhythm, "z_rhythm")
        num_windows = z_p.shape[0]
        if z_r.shape[0] != num_windows:
            raise ExploreInputError(f"z_pitch has {num_windows} window(s) but z_rhythm has {z_r.shape[0]}")
        chroma = np.asarray(chroma, dtype=np.float32)
        if chroma.size != num_windows * WINDOW_STEPS * 12:
            raise ExploreInputError(f"chroma must have shape ({num_windows}, {WINDOW_STEPS}, 12) (got {chroma.shape})")
        chroma = chroma.reshape(num_windows, WINDOW_STEPS, 12)
        check_explore_number("Tempo (BPM)", tempo, 20, 300)
        rhythm_t = None
        if rhythm is not None:
            rhythm = np.asarray(rhythm, dtype=np.int64)
            if rhythm.size != num_windows * WINDOW_STEPS or rhythm.min() < 0 or rhythm.max() > 2:
                raise ExploreInputError(
                    f"rhythm must be ({num_windows}, {WINDOW_STEPS}) classes 0 onset, 1 hold, 2 rest"
                )
            rhythm_t = torch.from_numpy(rhythm.reshape(num_windows, WINDOW_STEPS)).to(self.device)
        tokens = self._decode_tokens(z_p, z_r, torch.from_numpy(chroma).to(self.device), rhythm_t)
        progression = chords if chords is not None else chroma_to_progression(chroma)
        return ExploreOutput([self._sheet(tokens, progression, float(tempo), title, key, time_signature)])

    def _rhythm_mask(self, rhythm: torch.Tensor) -> torch.Tensor:
        """(N, T) rhythm classes -> (N, T, P) logit bias: pitches (in range) only at onsets, HOLD / REST elsewhere."""
        low, high = self.pitch_range
        allowed = torch.zeros(*rhythm.shape, NUM_PITCH_TOKENS, dtype=torch.bool, device=rhythm.device)
        allowed[..., low : high + 1] = (rhythm == ONSET).unsqueeze(-1)
        allowed[..., HOLD] = rhythm == SUSTAIN
        allowed[..., REST] = rhythm == SILENCE
        return torch.zeros(allowed.shape, device=rhythm.device).masked_fill(~allowed, float("-inf"))

    @torch.no_grad()
    def _decode_tokens(
        self, z_pitch: torch.Tensor, z_rhythm: torch.Tensor, chroma: torch.Tensor, rhythm: torch.Tensor | None = None
    ) -> np.ndarray:
        """One batched greedy decode: (N, Zp), (N, Zr), (N, 32, 12) [, (N, 32)] -> tokens (N, 32)."""
        if rhythm is None:
            _, rhythm = self.model.decode_rhythm(z_rhythm)
        _, tokens = self.model.decode_pitch(z_pitch, z_rhythm, rhythm, chroma, logit_bias=self._rhythm_mask(rhythm))
        return tokens.cpu().numpy()

    @staticmethod
    def _sheet(
        tokens: np.ndarray,
        progression: ChordProgression,
        tempo: float,
        title: str,
        key: str | None,
        time_signature: tuple[int, int],
    ) -> LeadSheet:
        """Windows of tokens (W, 32) end to end -> LeadSheet (a note held over a window boundary continues)."""
        flat = np.asarray(tokens).reshape(-1)
        # tuple(): a list (as JSON gives) becomes a tuple; typeshed types tuple() of a pair as tuple[int, ...]
        meter = cast(tuple[int, int], tuple(time_signature))
        melody = Melody(tokens_to_notes(flat), len(flat), float(tempo), meter, 0, key)
        return LeadSheet(melody, ChordProgression(list(progression.chords)), title)

    # --------------------------------------------------------------- chords
    def _harmony(
        self, chords, num_windows: int, a: LeadSheet, b: LeadSheet | None = None, b_name: str = "B"
    ) -> Harmony:
        steps = num_windows * WINDOW_STEPS
        if not isinstance(chords, str):
            raise ExploreInputError(f"Chords must be 'a', 'b' or a progression such as 'C Am F G' (got {chords!r})")
        choice = SOURCE_CHORDS.get(chords.strip())
        if choice is not None:
            source = a if choice == "a" or b is None else b
            if choice == "b" and b is None:
                raise ExploreInputError(f"There is no {b_name} to take chords from: use 'a' or type a progression")
            progression = source.cropped(0, steps).chords
            return Harmony(
                progression.chroma(steps).reshape(num_windows, WINDOW_STEPS, 12),
                progression,
                source.melody.key,
                source.melody.time_signature,
            )
        progression = parse_progression(chords, num_windows * WINDOW_STEPS // STEPS_PER_BAR_44, STEPS_PER_BAR_44)
        return Harmony(progression.chroma(steps).reshape(num_windows, WINDOW_STEPS, 12), progression, None, (4, 4))

    def _pair(self, a: LeadSheet, b: LeadSheet, a_name: str = "A", b_name: str = "B"):
        check_sheet(a, a_name)
        check_sheet(b, b_name)
        a, b = prepare_source(a), prepare_source(b)
        la, lb = self._encode([a, b])
        num_windows = min(la.num_windows, lb.num_windows)  # the longer source is cropped to the shorter
        return a, b, la.cropped(num_windows), lb.cropped(num_windows), num_windows

    # -------------------------------------------------------- interpolation
    @torch.no_grad()
    def interpolate(self, a: LeadSheet, b: LeadSheet, steps: int = 5, chords: str = "a") -> ExploreOutput:
        """``steps`` (2..12) melodies from A to B: step k decodes slerp(z_A, z_B, k / (steps - 1)) for
        both latents, window by window; step 0 reconstructs A and the last step B (under the chosen chords).

        A and B are prepared (:func:`prepare_source`); the longer is cropped to the shorter.
        All steps x windows are decoded in one batch.
        """
        INTERPOLATION_STEPS.check("Steps", steps, ExploreInputError)
        steps = int(steps)
        a, b, la, lb, num_windows = self._pair(a, b)
        harmony = self._harmony(chords, num_windows, a, b)
        positions = [k / (steps - 1) for k in range(steps)]
        z_p = torch.cat([slerp(la.z_pitch, lb.z_pitch, t) for t in positions])
        z_r = torch.cat([slerp(la.z_rhythm, lb.z_rhythm, t) for t in positions])
        chroma = torch.from_numpy(np.tile(harmony.chroma, (steps, 1, 1))).to(self.device)
        tokens = self._decode_tokens(z_p, z_r, chroma).reshape(steps, num_windows, WINDOW_STEPS)
        name_a, name_b = sheet_name(a, "A"), sheet_name(b, "B")
        return ExploreOutput(
            [
                self._sheet(
                    tokens[k],
                    harmony.progression,
                    a.melody.tempo_bpm,
                    f"{name_a} → {name_b}: step {k + 1} of {steps}",
                    harmony.key,
                    harmony.time_signature,
                )
                for k in range(steps)
            ]
        )

    @torch.no_grad()
    def grid(self, a: LeadSheet, b: LeadSheet, size: int = 5, chords: str = "a") -> ExploreOutput:
        """The 2-D map, ``size`` x ``size`` (2..7): cell [i][j] decodes
        slerp(z_pitch A, B, i / (size - 1)) with slerp(z_rhythm A, B, j / (size - 1)).

        Rows move the pitch latent from A to B, columns the rhythm latent, so the cells of
        a column share their rhythm. Cell [0][0] reconstructs A, [size-1][size-1] B.
        The rhythm decoder runs once per column, the pitch decoder once for all cells x windows.
        """
        MAP_SIZE.check("Map size", size, ExploreInputError)
        size = int(size)
        a, b, la, lb, num_windows = self._pair(a, b)
        harmony = self._harmony(chords, num_windows, a, b)
        positions = [k / (size - 1) for k in range(size)]
        zp_rows = torch.stack([slerp(la.z_pitch, lb.z_pitch, t) for t in positions])  # (S, W, Zp)
        zr_cols = torch.stack([slerp(la.z_rhythm, lb.z_rhythm, t) for t in positions])  # (S, W, Zr)
        with torch.no_grad():
            _, rhythm_cols = self.model.decode_rhythm(zr_cols.reshape(size * num_windows, -1))
        rhythm_cols = rhythm_cols.view(size, num_windows, WINDOW_STEPS)
        cells = size * size * num_windows
        z_p = zp_rows.unsqueeze(1).expand(size, size, num_windows, -1).reshape(cells, -1)
        z_r = zr_cols.unsqueeze(0).expand(size, size, num_windows, -1).reshape(cells, -1)
        rhythm = rhythm_cols.unsqueeze(0).expand(size, size, num_windows, WINDOW_STEPS).reshape(cells, WINDOW_STEPS)
        chroma = torch.from_numpy(harmony.chroma).to(self.device).repeat(size * size, 1, 1)
        tokens = self._decode_tokens(z_p, z_r, chroma, rhythm).reshape(size, size, num_windows, WINDOW_STEPS)
        tempo = a.melody.tempo_bpm
        cells_row_by_row = [
            self._sheet(
                tokens[i, j],
                harmony.progression,
                tempo,
                f"Pitch {round(100 * positions[i])}% B, rhythm {round(100 * positions[j])}% B",
                harmony.key,
                harmony.time_signature,
            )
            for i in range(size)
            for j in range(size)
        ]
        return ExploreOutput(cells_row_by_row, columns=size)

    @staticmethod
    def path_cells(grid: list[list[LeadSheet]], path: Sequence[tuple[int, int]]) -> list[LeadSheet]:
        """The cells of ``grid`` along ``path`` [(row, column), ...] (for :meth:`morph`)."""
        if not grid or not all(isinstance(row, list) and len(row) == len(grid) for row in grid):
            raise ExploreInputError("The map must be a square list of rows of cells")
        if not path:
            raise ExploreInputError("The path is empty: choose at least one cell of the map")
        if len(path) > MAX_MORPH_CELLS:
            raise ExploreInputError(f"The path has {len(path)} cells; the limit is {MAX_MORPH_CELLS}")
        size = len(grid)
        cells = []
        for index, cell in enumerate(path):
            if not isinstance(cell, (tuple, list)) or len(cell) != 2:
                raise ExploreInputError(f"Path entry {index + 1} must be a (row, column) pair (got {cell!r})")
            row, col = cell
            check_explore_number(f"Row of path entry {index + 1}", row, 0, size - 1, integer=True)
            check_explore_number(f"Column of path entry {index + 1}", col, 0, size - 1, integer=True)
            cells.append(grid[int(row)][int(col)])
        return cells

    @staticmethod
    def morph(cells: Sequence[LeadSheet], title: str = "") -> ExploreOutput:
        """Cells (e.g. a path through the map) end to end as one piece, chords concatenated too.

        Tempo, key and meter are the first cell's.
        """
        if isinstance(cells, LeadSheet) or not isinstance(cells, Sequence) or not cells:
            raise ExploreInputError("A morph needs a non-empty list of melodies (cells of the map)")
        if len(cells) > MAX_MORPH_CELLS:
            raise ExploreInputError(f"A morph can join at most {MAX_MORPH_CELLS} cells (got {len(cells)})")
        notes: list[Note] = []
        chords: list[Chord] = []
        offset = 0
        for index, cell in enumerate(cells):
            if not isinstance(cell, LeadSheet):
                raise ExploreInputError(f"Cell {index + 1} of the morph is not a melody (got {type(cell).__name__})")
            notes.extend(replace(n, start=n.start + offset, end=n.end + offset) for n in cell.melody.notes)
            chords.extend(cell.chords.shifted(offset).chords)
            offset += cell.melody.num_steps
        first = cells[0].melody
        melody = Melody(notes, offset, first.tempo_bpm, first.time_signature, 0, first.key)
        return ExploreOutput(
            [LeadSheet(melody, ChordProgression(chords), title or f"Morph through {len(cells)} cells")]
        )

    # -------------------------------------------------------------- analogy
    @torch.no_grad()
    def analogy(self, pitch_from: LeadSheet, rhythm_from: LeadSheet, chords: str = "a") -> ExploreOutput:
        """A's tune with B's rhythm: z_pitch of ``pitch_from`` (A) with z_rhythm of ``rhythm_from`` (B),
        decoded with B's actual rhythm forced, so the onsets are exactly B's.

        ``chords``: 'a' (default, A's own harmony; also 'pitch'), 'b' (B's; also 'rhythm') or a
        typed progression. The result has B's tempo; the longer source is cropped to the shorter.
        """
        a, b, la, lb, num_windows = self._pair(pitch_from, rhythm_from, "The pitch source", "The rhythm source")
        harmony = self._harmony(chords, num_windows, a, b)
        rhythm = torch.from_numpy(tokens_to_rhythm(lb.tokens)).to(self.device)
        tokens = self._decode_tokens(la.z_pitch, lb.z_rhythm, torch.from_numpy(harmony.chroma).to(self.device), rhythm)
        title = f"{sheet_name(a, 'A')} with the rhythm of {sheet_name(b, 'B')}"
        sheet = self._sheet(tokens, harmony.progression, b.melody.tempo_bpm, title, harmony.key, harmony.time_signature)
        return ExploreOutput([sheet])

    @torch.no_grad()
    def reharmonise(self, sheet: LeadSheet, chords_text: str) -> ExploreOutput:
        """The same melody (same z_pitch, z_rhythm; rhythm forced to the original's) under a new
        chord progression (text, one chord per bar, repeated to fill, as in Compose)."""
        check_sheet(sheet, "The melody")
        if not isinstance(chords_text, str):
            raise ExploreInputError(f"Type the new chords as text such as 'C Am F G' (got {chords_text!r})")
        prepared = prepare_source(sheet)
        latents = self._encode([prepared])[0]
        harmony = self._harmony(
            chords_text if chords_text.strip() not in SOURCE_CHORDS else chords_text.strip().upper(),
            latents.num_windows,
            prepared,
        )
        assert latents.tokens is not None  # _encode keeps the tokens it encoded
        rhythm = torch.from_numpy(tokens_to_rhythm(latents.tokens)).to(self.device)
        tokens = self._decode_tokens(
            latents.z_pitch, latents.z_rhythm, torch.from_numpy(harmony.chroma).to(self.device), rhythm
        )
        title = f"{sheet_name(prepared, 'Melody')} over {chords_text.strip()}"
        tempo, key = prepared.melody.tempo_bpm, prepared.melody.key
        return ExploreOutput([self._sheet(tokens, harmony.progression, tempo, title, key, (4, 4))])
