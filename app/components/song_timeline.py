"""The song timeline: a wrapping row of clickable 2-bar blocks, built on Gradio 6's templated ``gr.HTML``.

The component's **value** is the list of selected blocks, 0-based as the song
pipelines count them (``[1, 2]``: the 2nd and 3rd blocks, shown as "Block 2" and
"Block 3"). Its extra prop ``blocks`` carries what to draw, one dict per block
(:meth:`app.services.song.SongBlock.widget`): ``index``, ``label`` ("Block 1 · bars
1–2"), ``bars`` (each ``{"bar", "chords": [{"symbol", "fn"}]}``, ``fn`` the chord's
function letter T/S/D/O/- in the tune's key), ``svg`` (a mini piano roll) and
``changed`` (written by the last action). Everything here except :func:`song_timeline`
and :func:`timeline_update` is plain Python, so handlers and tests use it freely.

How the widget works
--------------------
* ``html_template`` renders a head line (blocks, selection, a Clear button) and one
  ``<button class="cz-block" data-block="k">`` per block holding its label, its bars'
  chords with coloured function letters (T green, S blue, D red, O grey) and its
  roll. Selected blocks get ``cz-selected`` (and ``aria-pressed="true"``), blocks the
  last action wrote get ``cz-changed`` and a badge.
* ``js_on_load`` installs one delegated click listener on the root element (it
  survives re-renders): a click toggles the block in ``props.value`` (a new sorted
  array), which re-renders the template and updates the value on the server side.
* Python sets the blocks and the selection by returning
  ``timeline_update(blocks, selected)`` (or ``gr.HTML(value=[...])`` for the selection alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gradio as gr


def selection_value(selected: Iterable[Any] = (), count: int | None = None) -> list[int]:
    """A clean widget value: sorted unique non-negative whole numbers (below ``count`` when given); never raises."""
    out = set()
    for item in selected or ():
        if isinstance(item, bool):
            continue
        try:
            index = int(item)
        except (TypeError, ValueError):
            continue
        if index == item and index >= 0 and (count is None or index < count):
            out.add(index)
    return sorted(out)


HTML_TEMPLATE = """
<div class="cz-tl-root">
${(() => {
  const list = Array.isArray(blocks) ? blocks : [];
  const sel = new Set((Array.isArray(value) ? value : []).map(Number));
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', \
'"': '&quot;', "'": '&#39;'})[c]);
  const names = {T: 'tonic', S: 'subdominant', D: 'dominant', O: 'other', '-': 'no chord'};
  if (!list.length) {
    return '<div class="cz-tl-empty">Press <b>New song</b> (or <b>Load</b> a tune): its 2-bar blocks appear here. \
Click blocks to select them for <b>Infill</b>.</div>';
  }
  const chosen = list.filter((b) => sel.has(Number(b.index)));
  const head = `<div class="cz-tl-head">
    <span class="cz-tl-title">Timeline</span>
    <span class="cz-tl-readout" data-selected="${chosen.map((b) => b.index).join(',')}">${list.length} blocks ·
      ${chosen.length ? '<b>' + chosen.length + ' selected</b>: ' + chosen.map((b) => Number(b.index) + 1).join(', \
') : 'none selected'}</span>
    <button type="button" class="cz-tl-tool" data-action="clear">Clear selection</button>
    <span class="cz-tl-hint">click blocks to choose what <b>Infill</b> rewrites ·
      <span class="cz-fn cz-fn-T">T</span> tonic <span class="cz-fn cz-fn-S">S</span> subdominant
      <span class="cz-fn cz-fn-D">D</span> dominant <span class="cz-fn cz-fn-O">O</span> other</span>
  </div>`;
  const body = list.map((b) => {
    const k = Number(b.index);
    const on = sel.has(k);
    const bars = (Array.isArray(b.bars) ? b.bars : []).map((bar) => `<span class="cz-tl-bar"><span \
class="cz-tl-barno">${esc(bar.bar)}</span>${
      (Array.isArray(bar.chords) ? bar.chords : []).map((c) => {
        const fn = ['T', 'S', 'D', 'O'].includes(c.fn) ? c.fn : 'N';
        return `<span class="cz-tl-chord">${esc(c.symbol)}<span class="cz-fn cz-fn-${fn}" title="${esc(names[c.fn] || \
'no chord')}">${esc(c.fn)}</span></span>`;
      }).join('')}</span>`).join('');
    const cls = 'cz-block' + (on ? ' cz-selected' : '') + (b.changed ? ' cz-changed' : '');
    return `<button type="button" class="${cls}" data-block="${k}" aria-pressed="${on}" title="${esc(b.label)}">
      <span class="cz-tl-label">${esc(b.label)}${b.changed ? '<span class="cz-tl-badge">new</span>' : ''}</span>
      <span class="cz-tl-bars">${bars}</span>
      <span class="cz-tl-roll">${b.svg || ''}</span>
    </button>`;
  }).join('');
  return head + '<div class="cz-tl-blocks">' + body + '</div>';
})()}
</div>
"""

CSS_TEMPLATE = """
.cz-tl-root { user-select: none; -webkit-user-select: none; }
.cz-tl-empty { padding: 24px; text-align: center; color: var(--body-text-color-subdued); \
border: 1px dashed var(--border-color-primary); border-radius: 8px; }
.cz-tl-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 14px; margin-bottom: 8px; }
.cz-tl-title { font-weight: 600; color: var(--body-text-color); }
.cz-tl-readout { font-size: 13px; color: var(--body-text-color); font-variant-numeric: tabular-nums; }
.cz-tl-hint { font-size: 12px; color: var(--body-text-color-subdued); }
.cz-tl-tool {
  font-size: 12px; padding: 2px 9px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); \
color: var(--body-text-color);
}
.cz-tl-tool:hover { background: var(--color-accent-soft); }
.cz-tl-blocks { display: flex; flex-wrap: wrap; gap: 8px; }
.cz-block {
  display: flex; flex-direction: column; gap: 4px; width: 214px; padding: 6px 7px; margin: 0; cursor: pointer; \
text-align: left;
  border-radius: 8px; border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  color: var(--body-text-color); font: inherit; transition: border-color 0.08s ease-in, box-shadow 0.08s ease-in;
}
.cz-block:hover { border-color: var(--color-accent); }
.cz-block:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 1px; }
.cz-block.cz-changed { background: #fffbeb; }
.cz-block.cz-selected { border: 2px solid var(--color-accent); box-shadow: 0 0 0 3px var(--color-accent-soft); \
background: var(--color-accent-soft); }
.cz-tl-label { display: flex; justify-content: space-between; align-items: center; font-size: 12px; font-weight: 600; }
.cz-tl-badge { font-size: 10px; font-weight: 700; padding: 1px 5px; border-radius: 8px; background: #f59e0b; \
color: #111827; }
.cz-tl-bars { display: flex; gap: 10px; min-height: 18px; font-size: 13px; }
.cz-tl-bar { display: flex; flex-wrap: wrap; gap: 0 4px; align-items: baseline; flex: 1 1 0; min-width: 0; }
.cz-tl-barno { font-size: 10px; color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums; }
.cz-tl-chord { font-weight: 600; white-space: nowrap; }  /* several chords in a bar wrap, never overlap */
.cz-fn { display: inline-block; margin-left: 2px; padding: 0 3px; border-radius: 4px; font-size: 10px; \
font-weight: 700; line-height: 14px; color: white; background: #9ca3af; vertical-align: 1px; }
.cz-fn-T { background: #16a34a; }
.cz-fn-S { background: #2563eb; }
.cz-fn-D { background: #dc2626; }
.cz-fn-O { background: #6b7280; }
.cz-tl-roll { display: block; height: 56px; border-radius: 4px; overflow: hidden; \
background: var(--background-fill-secondary); }
.cz-tl-roll svg { display: block; width: 100%; height: 100%; pointer-events: none; }
"""

JS_ON_LOAD = """
element.addEventListener('click', (event) => {
  const target = event.target && event.target.closest ? event.target.closest('.cz-block, [data-action]') : null;
  if (!target || !element.contains(target)) return;
  if (target.dataset.action === 'clear') {
    props.value = [];
    return;
  }
  const k = parseInt(target.dataset.block, 10);
  if (!(k >= 0)) return;
  const chosen = new Set((Array.isArray(props.value) ? props.value : []).map(Number));
  if (chosen.has(k)) chosen.delete(k); else chosen.add(k);
  props.value = Array.from(chosen).sort((a, b) => a - b);  // re-renders; Gradio updates the value and fires 'change'
});
"""


def timeline_update(blocks: Sequence[dict], selected: Iterable[Any] = ()) -> gr.HTML:
    """The update that draws ``blocks`` (widget dicts) with ``selected`` (0-based) highlighted."""
    return gr.HTML(value=selection_value(selected, len(blocks)), blocks=list(blocks))


def song_timeline(elem_id: str | None = "cz-song-timeline", **kwargs) -> gr.HTML:
    """The timeline component: empty (value ``[]``, no blocks) until Python sends a song."""
    return gr.HTML(
        value=[],
        html_template=HTML_TEMPLATE,
        css_template=CSS_TEMPLATE,
        js_on_load=JS_ON_LOAD,
        apply_default_css=False,
        elem_id=elem_id,
        elem_classes=["cz-song-timeline"],
        blocks=[],
        **kwargs,
    )
