"""Plotly piano rolls of a LeadSheet.

x is in bars: ``x = (step - pickup_steps) / steps_per_bar + 1``, so bar 1 starts
at x = 1 and a pickup sits just before it; y is the MIDI pitch. All notes are
ONE horizontal ``go.Bar`` trace (fast for any length); chords are shaded bands
with their symbols written above.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from engine.music import ChordProgression, LeadSheet, Melody
from engine.music.constants import note_name
from engine.render.svg_roll import MIN_PITCH_SPAN

NOTE_COLOR = "#6366f1"  # indigo: readable on white and on dark grey
NOTE_LINE = "#4338ca"
TEXT_COLOR = "#8a8f98"  # mid grey: readable on light and dark themes
GRID_BAR = "rgba(128,128,128,0.45)"
GRID_BEAT = "rgba(128,128,128,0.16)"
BAND_COLORS = ("rgba(128,128,128,0.10)", "rgba(128,128,128,0.03)")
NOTE_GAP_STEPS = 0.12

_DURATION_NAMES = {
    1: "16th",
    2: "8th",
    3: "dotted 8th",
    4: "quarter",
    6: "dotted quarter",
    8: "half",
    12: "dotted half",
    16: "whole",
}


def duration_name(steps: int) -> str:
    return _DURATION_NAMES.get(steps, f"{steps} sixteenths")


def _layout_base(height: int, title: str = "") -> dict:
    return dict(
        template="none",
        height=height,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=dict(color=TEXT_COLOR, size=11),
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=13)) if title else None,
        showlegend=False,
        bargap=0,
        hovermode="closest",
    )


def _empty_figure(height: int, title: str, compact: bool) -> go.Figure:
    layout = _layout_base(height, "" if compact else title)
    layout.update(
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        margin=dict(l=4, r=4, t=28 if (title and not compact) else 4, b=4),
        annotations=[
            dict(
                text="no notes",
                x=0.5,
                y=0.5,
                xref="paper",
                yref="paper",
                showarrow=False,
                font=dict(color=TEXT_COLOR, size=11 if compact else 14),
            )
        ],
    )
    return go.Figure(layout=layout)


def playback_meta(melody: Melody, pickup: int | None = None) -> dict:
    """What the page's playback cursor needs to place the audio's time on the roll's x axis (bars): the steps per
    bar, the pickup (x = (step - pickup) / steps per bar + 1) and the seconds per step from each tempo change on
    (``cz_tempo``: [[step, seconds per step], ...]; the audio starts at step 0)."""
    tempo = [[0, 60.0 / melody.tempo_bpm / 4]] + [[s, 60.0 / b / 4] for s, b in melody.tempo_changes]
    return {
        "cz_spb": melody.steps_per_bar,
        "cz_pickup": melody.pickup_steps if pickup is None else pickup,
        "cz_tempo": tempo,
    }


def _x_of(step: float, pickup: int, steps_per_bar: int) -> float:
    return (step - pickup) / steps_per_bar + 1.0


def _position_text(step: int, pickup: int, steps_per_bar: int, steps_per_beat: int) -> str:
    rel = step - pickup
    bar, within = divmod(rel, steps_per_bar)
    beat = within / steps_per_beat + 1
    return f"bar {bar + 1}, beat {beat:g}"


def _notes_trace(sheet: LeadSheet, compact: bool) -> go.Bar:
    melody = sheet.melody
    spb = melody.steps_per_bar
    pickup = melody.pickup_steps
    steps_per_beat = max(1, 16 // melody.time_signature[1])
    notes = [n for n in melody.notes if n.end > n.start]
    base = [_x_of(n.start, pickup, spb) for n in notes]
    # A hair shorter than the note so repeated notes read as separate bars.
    length = [(n.duration - NOTE_GAP_STEPS) / spb for n in notes]
    pitches = [n.pitch for n in notes]
    opacity = [0.55 + 0.45 * min(max(n.velocity, 0), 127) / 127 for n in notes]
    trace = dict(
        name="notes",
        orientation="h",
        base=base,
        x=length,
        y=pitches,
        width=0.82,
        marker=dict(color=NOTE_COLOR, opacity=opacity, line=dict(color=NOTE_LINE, width=0 if compact else 0.6)),
    )
    if compact:
        trace["hoverinfo"] = "skip"
    else:
        trace["customdata"] = [
            [
                note_name(n.pitch),
                _position_text(n.start, pickup, spb, steps_per_beat),
                duration_name(n.duration),
                n.velocity,
            ]
            for n in notes
        ]
        trace["hovertemplate"] = (
            "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{customdata[2]} · vel %{customdata[3]}<extra></extra>"
        )
    return go.Bar(**trace)


def _chord_decor(sheet: LeadSheet, compact: bool) -> tuple[list[dict], list[dict]]:
    melody = sheet.melody
    return chord_bands(sheet.chords, melody.pickup_steps, melody.steps_per_bar, compact)


LABEL_PLOT_PX = 900  # the width a roll's plot area is taken to have when chord symbols are spaced
LABEL_CHAR_PX = 7.5  # a character of a 12 px chord symbol
LABEL_PAD_PX = 8


def chord_bands(
    chords: ChordProgression, pickup: int, spb: int, compact: bool = False
) -> tuple[list[dict], list[dict]]:
    """Plotly shapes (alternating bands, one per chord) and annotations (the chord symbols, unless ``compact``)."""
    shapes, annotations = [], []
    ordered = sorted(chords.chords, key=lambda c: c.start)
    # A symbol is drawn only where it has room after the previous one (at about LABEL_PLOT_PX across the plot):
    # short chords in a long piece would otherwise print on top of each other. Their bands stay.
    bars = max((c.end for c in ordered), default=0) / max(spb, 1) or 1.0
    px_per_bar = LABEL_PLOT_PX / bars
    free_from = -math.inf
    for i, chord in enumerate(ordered):
        if chord.end <= chord.start:
            continue
        x0, x1 = _x_of(chord.start, pickup, spb), _x_of(chord.end, pickup, spb)
        shapes.append(
            dict(
                type="rect",
                xref="x",
                yref="paper",
                x0=x0,
                x1=x1,
                y0=0,
                y1=1,
                fillcolor=BAND_COLORS[i % 2],
                line=dict(width=0),
                layer="below",
            )
        )
        if not compact and x0 >= free_from:
            free_from = x0 + (len(chord.symbol) * LABEL_CHAR_PX + LABEL_PAD_PX) / px_per_bar
            annotations.append(
                dict(
                    text=chord.symbol,
                    x=x0,
                    y=1.0,
                    xref="x",
                    yref="paper",
                    xanchor="left",
                    yanchor="bottom",
                    xshift=2,
                    showarrow=False,
                    font=dict(size=12, color=TEXT_COLOR),
                )
            )
    return shapes, annotations


def _extent(sheet: LeadSheet) -> tuple[float, float]:
    melody = sheet.melody
    spb, pickup = melody.steps_per_bar, melody.pickup_steps
    last = max([melody.num_steps] + [n.end for n in melody.notes] + [c.end for c in sheet.chords.chords])
    x0 = _x_of(0, pickup, spb)
    x1 = _x_of(last, pickup, spb)
    return x0, max(x1, x0 + 1.0 / spb)


def _pitch_range(pitches: list[int]) -> tuple[float, float]:
    lo: float
    hi: float
    lo, hi = min(pitches), max(pitches)
    if hi - lo < MIN_PITCH_SPAN:
        pad = (MIN_PITCH_SPAN - (hi - lo)) / 2
        lo, hi = lo - pad, hi + pad
    return lo - 1.5, hi + 1.5


def piano_roll_figure(
    sheet: LeadSheet,
    title: str = "",
    height: int = 320,
    extra_shapes: list[dict] | None = None,
    extra_annotations: list[dict] | None = None,
    top_margin: int | None = None,
) -> go.Figure:
    """Interactive piano roll: notes (one trace), bar/beat grid, chord bands and symbols.

    ``extra_shapes`` / ``extra_annotations`` (plotly layout dicts, e.g. part boundaries) join the
    chord decorations when the figure is built: adding them later with ``update_layout``
    re-validates every shape and costs about half a second for a 16-bar tune.
    """
    notes = [n for n in sheet.melody.notes if n.end > n.start]
    if not notes:
        return _empty_figure(height, title, compact=False)
    melody = sheet.melody
    beats_per_bar = melody.time_signature[0]
    x0, x1 = _extent(sheet)
    y0, y1 = _pitch_range([n.pitch for n in notes])
    shapes, annotations = _chord_decor(sheet, compact=False)
    shapes += list(extra_shapes or ())
    annotations += list(extra_annotations or ())
    labelled = (0, 4, 7) if y1 - y0 <= 26 else (0,)  # C, E, G; only C when the range is wide
    c_ticks = [p for p in range(int(y0), int(y1) + 1) if p % 12 in labelled and y0 <= p <= y1]
    layout = _layout_base(height, title)
    layout.update(
        meta=playback_meta(melody),
        margin=dict(l=44, r=10, t=top_margin if top_margin is not None else (46 if title else 26), b=30),
        shapes=shapes,
        annotations=annotations,
        xaxis=dict(
            range=[x0, x1],
            tick0=1,
            dtick=1,
            showgrid=True,
            gridcolor=GRID_BAR,
            gridwidth=1,
            zeroline=False,
            minor=dict(dtick=1 / beats_per_bar, tick0=1, showgrid=True, gridcolor=GRID_BEAT, gridwidth=1),
            title=dict(text="bar", standoff=4, font=dict(size=10)),
            fixedrange=False,
            tickformat="d",
        ),
        yaxis=dict(
            range=[y0, y1],
            tickvals=c_ticks,
            ticktext=[note_name(p) for p in c_ticks],
            showgrid=True,
            gridcolor=GRID_BEAT,
            zeroline=False,
            fixedrange=True,
        ),
    )
    return go.Figure(data=[_notes_trace(sheet, compact=False)], layout=layout)


def mini_piano_roll_figure(sheet: LeadSheet, height: int = 120) -> go.Figure:
    """A thumbnail piano roll: notes and chord bands only, no axes, text or hover."""
    notes = [n for n in sheet.melody.notes if n.end > n.start]
    if not notes:
        return _empty_figure(height, "", compact=True)
    x0, x1 = _extent(sheet)
    y0, y1 = _pitch_range([n.pitch for n in notes])
    shapes, _ = _chord_decor(sheet, compact=True)
    layout = _layout_base(height)
    layout.update(
        margin=dict(l=2, r=2, t=2, b=2),
        shapes=shapes,
        hovermode=False,
        dragmode=False,
        xaxis=dict(range=[x0, x1], visible=False, fixedrange=True),
        yaxis=dict(range=[y0, y1], visible=False, fixedrange=True),
    )
    return go.Figure(data=[_notes_trace(sheet, compact=True)], layout=layout)


TRACK_COLOURS = ("#4f46e5", "#16a34a", "#d97706", "#dc2626")  # indigo, green, amber, red: one per track


def multitrack_roll_figure(
    tokens: np.ndarray,
    names: list[str],
    title: str = "",
    height: int = 340,
    steps_per_bar: int = 16,
    chords: ChordProgression | None = None,
    tempo_bpm: float | None = None,
) -> go.Figure:
    """A piano roll of four tracks of tokens (4, steps), one colour and legend entry per track, bars on x; ``chords``
    (the progression the music was asked over, or None) are drawn as bands with their symbols above; ``tempo_bpm``
    (the audio's) lets the page's playback cursor follow the audio."""
    from engine.music.representation import tokens_to_notes

    traces, pitches = [], []
    for track, (row, name) in enumerate(zip(tokens, names)):
        notes = tokens_to_notes(row)
        pitches += [n.pitch for n in notes]
        xs, ys = [], []
        for n in notes:  # one line segment per note, broken by None
            xs += [n.start / steps_per_bar + 1, n.end / steps_per_bar + 1, None]
            ys += [n.pitch, n.pitch, None]
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=name,
                line=dict(width=7, color=TRACK_COLOURS[track % 4]),
                hoverinfo="name",
            )
        )
    if not pitches:
        return _empty_figure(height, title, compact=False)
    y0, y1 = _pitch_range(pitches)
    layout = _layout_base(height, title)
    shapes, annotations = chord_bands(chords, 0, steps_per_bar) if chords is not None else ([], [])
    if tempo_bpm:
        layout["meta"] = {"cz_spb": steps_per_bar, "cz_pickup": 0, "cz_tempo": [[0, 60.0 / tempo_bpm / 4]]}
    layout.update(
        shapes=shapes,
        annotations=annotations,
        margin=dict(l=44, r=10, t=46 if title else 26, b=30),
        showlegend=True,
        legend=dict(orientation="h", y=-0.15),
        xaxis=dict(range=[1, tokens.shape[1] / steps_per_bar + 1], dtick=1, title="bar"),
        yaxis=dict(range=[y0, y1], title="pitch"),
    )
    return go.Figure(data=traces, layout=layout)
