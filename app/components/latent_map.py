"""The clickable 2-D latent map (pitch x rhythm) built on Gradio 6's templated ``gr.HTML``.

The component's **value** is a small JSON text describing what the user did::

    {"cell": [row, col] | null, "path": [[row, col], ...], "mode": "play" | "path", "size": 5}

and its extra props carry what to draw: ``cells`` (rows of ``{"svg", "title", "notes"}``:
an inline SVG mini piano roll per cell, made by ``engine.render.svg_roll``),
``a_title`` and ``b_title``. Everything here except :func:`latent_map` is plain
Python (no Gradio), so the value helpers are unit-testable and usable from handlers.

How the widget works
--------------------
* ``html_template`` (a Handlebars + JS template literal, evaluated in the browser)
  renders a toolbar (Play / Path mode, path presets, Clear), column headers
  "rhythm A -> B" and row headers "pitch A -> B", and one
  ``<button class="cz-map-cell" data-row data-col>`` per cell holding its SVG. Row ``i``
  moves z_pitch from A (top) to B (bottom), column ``j`` z_rhythm from A (left) to B
  (right): the top-left cell is A, the bottom-right B. The clicked cell gets
  ``cz-selected``; cells on the morph path get ``cz-in-path`` and a numbered badge.
* ``js_on_load`` installs one delegated click listener on the root element (it
  survives re-renders). A click on a cell sets ``value.cell`` (and in path mode
  appends the cell to ``value.path``, or removes it when it is the last one), assigns
  ``props.value`` (which re-renders the template and updates the value on the server
  side) and triggers the custom event ``cell_click`` with ``{row, col}`` as event
  data: Python listens with ``map.cell_click(fn, ...)`` and plays the cell. Toolbar
  buttons only change the value (mode, preset path, clear).
* Python fills the map by returning ``gr.HTML(value=map_value(...), cells=..., ...)``
  (see :func:`map_update_props`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from engine.music.limits import MAP_SIZE, MAX_MORPH_CELLS

MIN_SIZE, MAX_SIZE = MAP_SIZE.low, MAP_SIZE.high
MAX_PATH = MAX_MORPH_CELLS
MODES = ("play", "path")

DIAGONAL = "diagonal"
PITCH_THEN_RHYTHM = "pitch-then-rhythm"
RHYTHM_THEN_PITCH = "rhythm-then-pitch"
PATH_PRESETS: dict[str, str] = {
    DIAGONAL: "Diagonal A→B",
    PITCH_THEN_RHYTHM: "Pitch first, then rhythm",
    RHYTHM_THEN_PITCH: "Rhythm first, then pitch",
}


# ---------------------------------------------------------------- value helpers


@dataclass
class MapSelection:
    """A parsed map value."""

    cell: tuple[int, int] | None = None
    path: list[tuple[int, int]] = field(default_factory=list)
    mode: str = "play"
    size: int = 0


def preset_path(name: str, size: int) -> list[tuple[int, int]]:
    """A path from A (0, 0) to B (size-1, size-1) through a ``size`` x ``size`` map.

    ``diagonal`` moves pitch and rhythm together; ``pitch-then-rhythm`` goes down the
    first column (pitch A->B with A's rhythm) then along the last row;
    ``rhythm-then-pitch`` along the first row, then down the last column.
    """
    size = int(size)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"Map size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    last = size - 1
    if name == DIAGONAL:
        return [(i, i) for i in range(size)]
    if name == PITCH_THEN_RHYTHM:
        return [(i, 0) for i in range(size)] + [(last, j) for j in range(1, size)]
    if name == RHYTHM_THEN_PITCH:
        return [(0, j) for j in range(size)] + [(i, last) for i in range(1, size)]
    raise ValueError(f"Unknown path preset {name!r}; choose one of {', '.join(PATH_PRESETS)}")


def map_value(
    cell: tuple[int, int] | None = None,
    path: Sequence[Sequence[int]] = (),
    mode: str = "play",
    size: int = 0,
) -> str:
    """The JSON text the widget holds."""
    return json.dumps(
        {
            "cell": [int(cell[0]), int(cell[1])] if cell is not None else None,
            "path": [[int(r), int(c)] for r, c in path],
            "mode": mode if mode in MODES else "play",
            "size": int(size),
        },
        separators=(",", ":"),
    )


def _pair(item: Any, size: int) -> tuple[int, int] | None:
    if not isinstance(item, (list, tuple)) or len(item) != 2:
        return None
    try:
        row, col = int(item[0]), int(item[1])
    except (TypeError, ValueError):
        return None
    if isinstance(item[0], bool) or isinstance(item[1], bool):
        return None
    if size and not (0 <= row < size and 0 <= col < size):
        return None
    if row < 0 or col < 0:
        return None
    return row, col


def parse_map_value(value: Any, size: int | None = None) -> MapSelection:
    """A tolerant reading of the widget value (JSON text or dict); never raises.

    Cells outside a ``size`` x ``size`` map (when given, else the value's own size)
    and malformed entries are dropped; the path is cut at :data:`MAX_PATH`.
    """
    data: Any = value
    if isinstance(value, (str, bytes)):
        try:
            data = json.loads(value or "{}")
        except (ValueError, TypeError):
            data = {}
    if not isinstance(data, dict):
        data = {}
    try:
        own_size = int(data.get("size") or 0)
    except (TypeError, ValueError):
        own_size = 0
    limit = int(size) if size else own_size
    cell = _pair(data.get("cell"), limit)
    raw_path = data.get("path") if isinstance(data.get("path"), list) else []
    path = [p for p in (_pair(item, limit) for item in raw_path[:MAX_PATH]) if p is not None]
    mode = data.get("mode") if data.get("mode") in MODES else "play"
    return MapSelection(cell, path, mode, own_size)


def check_map_value(value: Any, size: int) -> MapSelection:
    """A strict reading of a map value sent to the API (``{"cell": [row, col], "path": [[row, col], ...]}``,
    JSON text or a dict; empty: nothing chosen) for a ``size`` x ``size`` map.

    Raises ``ValueError`` naming what is wrong: not a JSON object, a path that is no list or is longer
    than :data:`MAX_PATH`, a cell outside the map. The page's own values always pass.
    """
    if value is None or value == "":
        return MapSelection(size=size)
    data: Any = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            raise ValueError(
                f'map_value must be the map\'s JSON value such as {{"cell": [0, 1]}}, got {value[:40]!r}'
            ) from None
    if not isinstance(data, dict):
        raise ValueError(f'map_value must be a JSON object such as {{"cell": [0, 1]}}, got {type(data).__name__}')
    where = f"this {size}×{size} map (rows and columns 0..{size - 1})"
    cell = data.get("cell")
    if cell is not None and _pair(cell, size) is None:
        raise ValueError(f"map_value's cell {str(cell)[:40]} is no cell of {where}")
    path = data.get("path", [])
    if not isinstance(path, list):
        raise ValueError("map_value's path must be a list of [row, column] cells")
    if len(path) > MAX_PATH:
        raise ValueError(f"map_value's path has {len(path)} cells; the limit is {MAX_PATH}")
    for item in path:
        if _pair(item, size) is None:
            raise ValueError(f"map_value's path holds {str(item)[:40]}, which is no cell of {where}")
    return parse_map_value(data, size)


def map_update_props(cells: list[list[dict]], a_title: str, b_title: str) -> dict:
    """The extra props to send with a new map: ``gr.HTML(value=..., **map_update_props(...))``."""
    return {"cells": cells, "a_title": a_title, "b_title": b_title}


# ---------------------------------------------------------------- the widget

HTML_TEMPLATE = """
<div class="cz-map-root">
${(() => {
  let v = {};
  try { v = JSON.parse(value || '{}') || {}; } catch (e) { v = {}; }
  const rows = Array.isArray(cells) ? cells : [];
  const n = rows.length;
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', \
'"': '&quot;', "'": '&#39;'})[c]);
  if (!n) {
    return '<div class="cz-map-empty">Press <b>Build map</b> to draw the pitch × rhythm map between A and B.</div>';
  }
  const mode = v.mode === 'path' ? 'path' : 'play';
  const sel = Array.isArray(v.cell) ? v.cell : null;
  const path = Array.isArray(v.path) ? v.path : [];
  const order = {};
  path.forEach((p, k) => { const key = p[0] + ',' + p[1]; (order[key] = order[key] || []).push(k + 1); });
  const pct = (k) => Math.round(100 * k / (n - 1)) + '%';
  const head = Array.from({length: n}, (_, j) =>
    `<div class="cz-map-colhead" data-col="${j}">${j === 0 ? 'A' : (j === n - 1 ? 'B' : pct(j))}</div>`).join('');
  const body = rows.map((row, i) => `
    <div class="cz-map-rowhead" data-row="${i}">${i === 0 ? 'A' : (i === n - 1 ? 'B' : pct(i))}</div>
    ${row.map((c, j) => {
      const key = i + ',' + j;
      const cls = 'cz-map-cell'
        + (sel && sel[0] === i && sel[1] === j ? ' cz-selected' : '')
        + (order[key] ? ' cz-in-path' : '')
        + (i === 0 && j === 0 ? ' cz-corner-a' : '')
        + (i === n - 1 && j === n - 1 ? ' cz-corner-b' : '');
      const badge = order[key] ? `<span class="cz-map-badge">${order[key].join(',')}</span>` : '';
      const tip = esc((c && c.title) || ('Cell ' + (i + 1) + ', ' + (j + 1)));
      return `<button type="button" class="${cls}" data-row="${i}" data-col="${j}" title="${tip}" aria-label="${tip}" \
aria-pressed="${!!(sel && sel[0] === i && sel[1] === j)}">${(c && c.svg) || ''}${badge}</button>`;
    }).join('')}`).join('');
  return `
  <div class="cz-map-tools">
    <div class="cz-map-modes" role="group" aria-label="Click mode">
      <button type="button" class="cz-map-tool${mode === 'play' ? ' cz-active' : ''}" data-action="mode" \
data-mode="play" aria-pressed="${mode === 'play'}">▶ Play cells</button>
      <button type="button" class="cz-map-tool${mode === 'path' ? ' cz-active' : ''}" data-action="mode" \
data-mode="path" aria-pressed="${mode === 'path'}">✎ Draw morph path</button>
    </div>
    <div class="cz-map-presets" role="group" aria-label="Path presets">
      <span class="cz-map-label">Path:</span>
      <button type="button" class="cz-map-tool" data-action="preset" data-preset="diagonal">Diagonal</button>
      <button type="button" class="cz-map-tool" data-action="preset" \
data-preset="pitch-then-rhythm">Pitch, then rhythm</button>
      <button type="button" class="cz-map-tool" data-action="preset" \
data-preset="rhythm-then-pitch">Rhythm, then pitch</button>
      <button type="button" class="cz-map-tool" data-action="clear">Clear</button>
      <span class="cz-map-readout" data-path-length="${path.length}">${path.length ? path.length + ' cells: ' + \
path.map(p => '(' + (p[0] + 1) + ',' + (p[1] + 1) + ')').join(' → ') : \
'empty (the morph then follows the diagonal)'}</span>
    </div>
  </div>
  <div class="cz-map-frame">
    <div class="cz-map-xaxis">rhythm <b>A → B</b> <span class="cz-map-names">(A = ${esc(a_title || 'A')}, \
B = ${esc(b_title || 'B')})</span></div>
    <div class="cz-map-yaxis">pitch <b>A → B</b></div>
    <div class="cz-map-grid" data-size="${n}" style="grid-template-columns: 2.2em repeat(${n}, minmax(0, 1fr));">
      <div class="cz-map-corner"></div>${head}${body}
    </div>
  </div>
  <div class="cz-map-hint">${mode === 'path'
    ? 'Path mode: click cells in order to add them to the morph path (click the last one again to remove it), \
then press <b>Export morph</b>.'
    : 'Click a cell to hear it. Top-left is A, bottom-right is B; \
down = B’s pitch contour, right = B’s rhythm.'}</div>`;
})()}
</div>
"""

CSS_TEMPLATE = """
.cz-map-root { user-select: none; -webkit-user-select: none; }
.cz-map-empty { padding: 28px; text-align: center; color: var(--body-text-color-subdued); \
border: 1px dashed var(--border-color-primary); border-radius: 8px; }
.cz-map-tools { display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: center; margin-bottom: 8px; }
.cz-map-modes, .cz-map-presets { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.cz-map-label { font-size: 12px; color: var(--body-text-color-subdued); margin-right: 2px; }
.cz-map-tool {
  font-size: 12px; padding: 3px 9px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); \
color: var(--body-text-color);
}
.cz-map-tool:hover { background: var(--color-accent-soft); }
.cz-map-tool.cz-active { background: var(--color-accent); border-color: var(--color-accent); color: white; }
.cz-map-readout { font-size: 12px; color: var(--body-text-color-subdued); margin-left: 6px; }
.cz-map-frame { display: grid; grid-template-columns: 1.4em 1fr; grid-template-rows: auto 1fr; gap: 2px 4px; }
.cz-map-xaxis { grid-column: 2; text-align: center; font-size: 12px; color: var(--body-text-color); }
.cz-map-names { color: var(--body-text-color-subdued); }
.cz-map-yaxis { grid-column: 1; grid-row: 2; writing-mode: vertical-rl; transform: rotate(180deg); text-align: center; \
font-size: 12px; color: var(--body-text-color); }
.cz-map-grid { grid-column: 2; grid-row: 2; display: grid; gap: 4px; align-items: stretch; }
.cz-map-colhead, .cz-map-rowhead { font-size: 11px; color: var(--body-text-color-subdued); display: flex; \
align-items: center; justify-content: center; font-variant-numeric: tabular-nums; }
.cz-map-cell {
  position: relative; padding: 2px; margin: 0; cursor: pointer; min-width: 0; aspect-ratio: 5 / 2;
  border-radius: 6px; border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  transition: border-color 0.08s ease-in, box-shadow 0.08s ease-in;
}
.cz-map-cell svg { display: block; width: 100%; height: 100%; pointer-events: none; }
.cz-map-cell:hover { border-color: var(--color-accent); }
.cz-map-cell:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 1px; }
.cz-map-cell.cz-corner-a, .cz-map-cell.cz-corner-b { border-width: 2px; border-style: dashed; }
.cz-map-cell.cz-in-path { background: var(--color-accent-soft); }
.cz-map-cell.cz-selected { border: 3px solid var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.cz-map-badge {
  position: absolute; top: 1px; right: 2px; font-size: 10px; line-height: 1; padding: 2px 4px; border-radius: 8px;
  background: #f59e0b; color: #111827; font-weight: 700; pointer-events: none;
}
.cz-map-hint { margin-top: 6px; font-size: 12px; color: var(--body-text-color-subdued); }
"""

JS_ON_LOAD = """
const MAX_PATH = 64;

function read() {
  let v = {};
  try { v = JSON.parse(props.value || '{}') || {}; } catch (e) { v = {}; }
  if (!Array.isArray(v.path)) v.path = [];
  if (v.mode !== 'path') v.mode = 'play';
  return v;
}

function size() {
  return Array.isArray(props.cells) ? props.cells.length : 0;
}

function preset(name, n) {
  const last = n - 1, out = [];
  if (name === 'diagonal') { for (let i = 0; i < n; i++) out.push([i, i]); }
  else if (name === 'pitch-then-rhythm') {
    for (let i = 0; i < n; i++) out.push([i, 0]);
    for (let j = 1; j < n; j++) out.push([last, j]);
  } else if (name === 'rhythm-then-pitch') {
    for (let j = 0; j < n; j++) out.push([0, j]);
    for (let i = 1; i < n; i++) out.push([i, last]);
  }
  return out;
}

element.addEventListener('click', (event) => {
  const target = event.target && event.target.closest ? event.target.closest('.cz-map-cell, [data-action]') : null;
  if (!target || !element.contains(target)) return;
  const v = read();
  const n = size();
  v.size = n;
  if (target.classList.contains('cz-map-cell')) {
    const row = parseInt(target.dataset.row, 10);
    const col = parseInt(target.dataset.col, 10);
    if (!(row >= 0 && row < n && col >= 0 && col < n)) return;
    if (v.mode === 'path') {
      const last = v.path[v.path.length - 1];
      if (last && last[0] === row && last[1] === col) v.path.pop();
      else if (v.path.length < MAX_PATH) v.path.push([row, col]);
    }
    v.cell = [row, col];
    props.value = JSON.stringify(v);
    trigger('cell_click', {row: row, col: col, path: v.path});
    return;
  }
  const action = target.dataset.action;
  if (action === 'mode') v.mode = target.dataset.mode === 'path' ? 'path' : 'play';
  else if (action === 'preset') { v.path = preset(target.dataset.preset, n); v.mode = 'path'; }
  else if (action === 'clear') v.path = [];
  else return;
  props.value = JSON.stringify(v);
});
"""


def latent_map(elem_id: str | None = "cz-latent-map", **kwargs) -> gr.HTML:
    """The map component: an empty map (value ``map_value()``) until Python sends cells."""
    return gr.HTML(
        value=map_value(),
        html_template=HTML_TEMPLATE,
        css_template=CSS_TEMPLATE,
        js_on_load=JS_ON_LOAD,
        apply_default_css=False,
        elem_id=elem_id,
        elem_classes=["cz-latent-map"],
        cells=[],
        a_title="A",
        b_title="B",
        **kwargs,
    )
