"""Tiny inline-SVG piano rolls (pure Python, no plotting library).

:func:`svg_mini_roll` draws a LeadSheet as a self-contained ``<svg>`` string: chord
bands, bar lines and one rectangle per note, in a fixed ``viewBox`` so the browser
can scale it. It is used for the thumbnails of the Explore tab (the 2-D latent map
has up to 49 of them, the source previews two), where a Plotly figure per cell
would be far too heavy. Drawing 49 two-bar cells takes about a millisecond.

Everything that comes from data (title, chord symbols) is XML-escaped; numbers
are formatted by Python, so the string is safe to insert into HTML as-is.

    from engine.render.svg_roll import svg_mini_roll
    html = svg_mini_roll(sheet, 160, 64, title="Cell 1, 2")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from engine.music import LeadSheet

NOTE_FILL = "#6366f1"  # indigo, as the Plotly piano roll
NOTE_STROKE = "#4338ca"
BAND_FILLS = ("rgba(128,128,128,0.13)", "rgba(128,128,128,0.04)")
BAR_STROKE = "rgba(128,128,128,0.55)"
SEPARATOR_STROKE = "#f59e0b"  # amber: boundaries between joined pieces
TEXT_FILL = "#8a8f98"
MIN_PITCH_SPAN = 12  # semitones: a roll of a few close notes still shows an octave


def _num(value: float) -> str:
    """Compact number text: at most 2 decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _size(name: str, value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out) or out <= 0 or out > 10_000:
        raise ValueError(f"{name} must be between 0 and 10000 pixels, got {value!r}")
    return out


def pitch_span(sheets: Sequence[LeadSheet], min_span: int = MIN_PITCH_SPAN) -> tuple[int, int] | None:
    """The (lowest, highest) pitch over several sheets, widened to at least ``min_span``
    semitones around its centre; None when none has notes. Pass it as ``pitch_range``
    so thumbnails that are compared side by side share their vertical scale."""
    pitches = [n.pitch for s in sheets for n in s.melody.notes if n.end > n.start]
    if not pitches:
        return None
    lo, hi = min(pitches), max(pitches)
    if hi - lo < min_span:
        extra = min_span - (hi - lo)
        lo -= extra // 2
        hi += extra - extra // 2
    return lo, hi


def svg_mini_roll(
    sheet: LeadSheet,
    width: float = 160,
    height: float = 64,
    *,
    title: str | None = None,
    pitch_range: tuple[int, int] | None = None,
    show_chords: bool = True,
    separators: Sequence[int] = (),
    css_class: str = "cz-roll",
) -> str:
    """An ``<svg>`` thumbnail of ``sheet``'s melody, ``width`` x ``height`` user units.

    * x: steps 0..``melody.num_steps`` (at least the last note's end) over the width;
    * y: pitch, highest at the top; ``pitch_range`` (lo, hi) fixes the scale (notes
      outside are clamped to the edge), otherwise the sheet's own range, at least an octave;
    * chord spans are shaded bands (alternating) when ``show_chords``; bar lines
      follow the time signature and the pickup;
    * ``separators``: steps where a thin amber line marks a boundary (e.g. between
      the steps of an interpolation joined end to end);
    * ``title`` becomes the SVG ``<title>`` (a tooltip) and the ``aria-label``.

    A sheet without notes gives a frame with the words "no notes".
    Raises ValueError for a non-positive or absurd width/height.
    """
    w, h = _size("width", width), _size("height", height)
    melody = sheet.melody
    notes = [n for n in melody.notes if n.end > n.start]
    total = max([melody.num_steps, 1] + [n.end for n in notes])
    sx = w / total
    label = escape(title if title is not None else (sheet.title or "piano roll"), quote=True)

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class, quote=True)}" '
        f'viewBox="0 0 {_num(w)} {_num(h)}" width="{_num(w)}" height="{_num(h)}" '
        f'preserveAspectRatio="none" role="img" aria-label="{label}">'
    ]
    if title:
        parts.append(f"<title>{escape(title, quote=False)}</title>")

    if show_chords:
        for index, chord in enumerate(sorted(sheet.chords.chords, key=lambda c: c.start)):
            lo, hi = max(chord.start, 0), min(chord.end, total)
            if hi <= lo:
                continue
            parts.append(
                f'<rect x="{_num(lo * sx)}" y="0" width="{_num((hi - lo) * sx)}" height="{_num(h)}" '
                f'fill="{BAND_FILLS[index % 2]}"><title>{escape(chord.symbol, quote=False)}</title></rect>'
            )

    spb = melody.steps_per_bar
    if spb > 0:
        first = melody.pickup_steps % spb
        lines = []
        for step in range(first, total + 1, spb):
            if 0 < step < total:
                bar_x = _num(step * sx)
                lines.append(f"M{bar_x} 0V{_num(h)}")
        if lines:
            parts.append(f'<path d="{"".join(lines)}" stroke="{BAR_STROKE}" stroke-width="0.6" fill="none"/>')

    seps = [s for s in separators if 0 < int(s) < total]
    if seps:
        d = "".join(f"M{_num(int(s) * sx)} 0V{_num(h)}" for s in seps)
        parts.append(f'<path d="{d}" stroke="{SEPARATOR_STROKE}" stroke-width="1.2" fill="none"/>')

    if not notes:
        parts.append(
            f'<text x="{_num(w / 2)}" y="{_num(h / 2)}" fill="{TEXT_FILL}" font-size="{_num(min(12.0, h / 3))}" '
            'text-anchor="middle" dominant-baseline="middle">no notes</text>'
        )
    else:
        if pitch_range is not None:
            lo_p, hi_p = int(min(pitch_range)), int(max(pitch_range))
        else:
            lo_p, hi_p = pitch_span([sheet]) or (60, 72)
        rows = hi_p - lo_p + 1
        pad = min(2.0, h * 0.04)
        row_h = (h - 2 * pad) / rows
        note_h = max(row_h * 0.9, 1.0)
        gap = min(0.12 * sx, 0.8)
        rects = []
        for n in notes:
            pitch = min(max(n.pitch, lo_p), hi_p)
            x = n.start * sx
            y = pad + (hi_p - pitch) * row_h + (row_h - note_h) / 2
            nw = max((min(n.end, total) - n.start) * sx - gap, 0.8)
            rects.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(nw)}" height="{_num(note_h)}" rx="0.8"/>')
        parts.append(f'<g fill="{NOTE_FILL}" stroke="{NOTE_STROKE}" stroke-width="0.3">{"".join(rects)}</g>')

    parts.append("</svg>")
    return "".join(parts)
