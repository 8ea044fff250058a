"""The feeling pad: a 2-D valence x arousal square built on Gradio 6's templated ``gr.HTML``.

x is **valence** (-1 unpleasant, left .. +1 pleasant, right), y is **arousal** (-1 calm,
bottom .. +1 excited, top). The four quadrants carry their names in their corners
(happy top-right, tense top-left, sad bottom-left, calm bottom-right). Click or drag
anywhere to put the dot; the component's **value** is the point as ``"v,a"`` text with
two decimals (``"-0.70,-0.35"``), or ``""`` when no point is chosen yet. Python reads
any value robustly with :func:`app.services.emotion.parse_point` (also JSON, a pair,
a quadrant name) and writes it with :func:`point_value`.

Under the pad, :func:`feeling_panel` adds a live line describing the point (computed in
Python from the emotion template, in a private event) and a short help text.

How the widget works
--------------------
* ``html_template`` draws the square (four tinted quadrants, the axes, the corner names,
  axis labels) and, when the value holds a point, the dot at it plus a readout.
* ``js_on_load`` installs delegated pointer listeners on the root element (they survive
  Gradio's re-renders). While the pointer is down the dot and the readout move in the
  page only; on release the point is written once to ``props.value`` (one ``change``
  event per gesture, not one per pixel). The hit area reaches a little beyond the square
  and points are clamped to it, and within 4% of an edge they snap to it, so the corners
  (EMusicGen's exact templates) are easy to hit. Arrow keys move a focused pad by 0.05.
* Python moves the dot by returning a new value (e.g. the quadrant preset buttons, which
  do it in the browser with a ``js`` function: no round trip).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

SNAP = 0.04  # within this of an edge the point snaps to it (the corners are the quadrants' exact templates)
KEY_STEP = 0.05  # one arrow-key press


def point_value(valence: float, arousal: float) -> str:
    """The pad's value for a point: ``"v,a"``, each clamped to -1..1 with two decimals."""
    v, a = (min(1.0, max(-1.0, float(x))) for x in (valence, arousal))
    return f"{round(v, 2) + 0.0:.2f},{round(a, 2) + 0.0:.2f}"  # + 0.0: no "-0.00"


def set_point_js(valence: float, arousal: float) -> str:
    """A Gradio ``js`` event function that puts the dot at a point in the browser (no server round trip)."""
    return f"() => {point_value(valence, arousal)!r}"


HTML_TEMPLATE = """
<div class="cz-pad-root">
${(() => {
  const read = (raw) => {
    const text = String(raw == null ? '' : raw).trim();
    if (!text) return null;
    let v = NaN, a = NaN;
    try {
      if (text[0] === '{') { const o = JSON.parse(text); v = Number(o.valence); a = Number(o.arousal); }
      else if (text[0] === '[') { const o = JSON.parse(text); v = Number(o[0]); a = Number(o[1]); }
      else { const parts = text.split(/[\\s,;]+/).filter((s) => s.length); v = Number(parts[0]); a = Number(parts[1]); }
    } catch (err) { return null; }
    if (!Number.isFinite(v) || !Number.isFinite(a)) return null;
    return [Math.min(1, Math.max(-1, v)), Math.min(1, Math.max(-1, a))];
  };
  const p = read(value);
  const fmt = (x) => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(2);
  const dot = p ? `<span class="cz-pad-dot" style="left: ${(p[0] + 1) * 50}%; top: ${(1 - p[1]) * 50}%"></span>` : '';
  const readout = p ? `valence <b>${fmt(p[0])}</b> · arousal <b>${fmt(p[1])}</b>` : 'click the pad to choose a feeling';
  return `<div class="cz-pad-head"><span class="cz-pad-title">Feeling</span>
      <span class="cz-pad-readout" data-point="${p ? p.join(',') : ''}">${readout}</span></div>
    <div class="cz-pad-frame">
      <span class="cz-pad-ylabel">low ← arousal → high</span>
      <div class="cz-pad-hit">
        <div class="cz-pad" tabindex="0" role="group" aria-label="Feeling pad: valence left to right, \
arousal bottom to top">
          <span class="cz-pad-q cz-pad-q2"><span class="cz-pad-name">tense</span></span>
          <span class="cz-pad-q cz-pad-q1"><span class="cz-pad-name">happy</span></span>
          <span class="cz-pad-q cz-pad-q3"><span class="cz-pad-name">sad</span></span>
          <span class="cz-pad-q cz-pad-q4"><span class="cz-pad-name">calm</span></span>
          <span class="cz-pad-axis cz-pad-axis-x"></span><span class="cz-pad-axis cz-pad-axis-y"></span>
          ${dot}
        </div>
      </div>
      <span class="cz-pad-xlabel">negative ← valence → positive</span>
    </div>`;
})()}
</div>
"""

CSS_TEMPLATE = """
.cz-pad-root { user-select: none; -webkit-user-select: none; padding: 2px; }
.cz-pad-head { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; margin-bottom: 4px; }
.cz-pad-title { font-weight: 600; color: var(--body-text-color); }
.cz-pad-readout { font-size: 13px; color: var(--body-text-color); font-variant-numeric: tabular-nums; }
.cz-pad-frame { display: grid; grid-template-columns: 18px minmax(0, 1fr); grid-template-rows: auto auto; gap: 2px; \
max-width: 360px; }
.cz-pad-ylabel { grid-row: 1; grid-column: 1; writing-mode: vertical-rl; transform: rotate(180deg); text-align: center;
  font-size: 11px; color: var(--body-text-color-subdued); }
.cz-pad-xlabel { grid-row: 2; grid-column: 2; text-align: center; font-size: 11px; \
color: var(--body-text-color-subdued); }
.cz-pad-hit { grid-row: 1; grid-column: 2; padding: 10px; margin: -10px; cursor: crosshair; touch-action: none; }
.cz-pad {
  position: relative; width: 100%; aspect-ratio: 1 / 1; display: grid; grid-template: 1fr 1fr / 1fr 1fr;
  border-radius: 10px; overflow: visible; border: 1px solid var(--border-color-primary); outline: none;
}
.cz-pad:focus-visible { box-shadow: 0 0 0 3px var(--color-accent-soft); }
.cz-pad-q { position: relative; pointer-events: none; }
.cz-pad-q1 { background: linear-gradient(225deg, rgba(250, 204, 21, 0.45), rgba(250, 204, 21, 0.06)); \
border-top-right-radius: 9px; }
.cz-pad-q2 { background: linear-gradient(135deg, rgba(239, 68, 68, 0.40), rgba(239, 68, 68, 0.05)); \
border-top-left-radius: 9px; }
.cz-pad-q3 { background: linear-gradient(45deg, rgba(59, 130, 246, 0.42), rgba(59, 130, 246, 0.05)); \
border-bottom-left-radius: 9px; }
.cz-pad-q4 { background: linear-gradient(315deg, rgba(34, 197, 94, 0.40), rgba(34, 197, 94, 0.05)); \
border-bottom-right-radius: 9px; }
.cz-pad-name { position: absolute; font-size: 13px; font-weight: 700; color: var(--body-text-color); opacity: 0.8; }
.cz-pad-q1 .cz-pad-name { top: 6px; right: 8px; }
.cz-pad-q2 .cz-pad-name { top: 6px; left: 8px; }
.cz-pad-q3 .cz-pad-name { bottom: 6px; left: 8px; }
.cz-pad-q4 .cz-pad-name { bottom: 6px; right: 8px; }
.cz-pad-axis { position: absolute; background: var(--body-text-color-subdued); opacity: 0.45; pointer-events: none; }
.cz-pad-axis-x { left: 0; right: 0; top: 50%; height: 1px; }
.cz-pad-axis-y { top: 0; bottom: 0; left: 50%; width: 1px; }
.cz-pad-dot {
  position: absolute; width: 18px; height: 18px; margin: -9px 0 0 -9px; border-radius: 50%; pointer-events: none;
  background: var(--color-accent); border: 3px solid white; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.45);
}
"""

JS_ON_LOAD = """
const SNAP = __SNAP__;
const STEP = __STEP__;
let dragging = false;

const clamp = (x) => Math.min(1, Math.max(-1, x));
const tidy = (x) => {
  let y = clamp(x);
  if (1 - Math.abs(y) <= SNAP) y = Math.sign(y);  // the edges (and so the corners) are easy to hit
  return Math.round(y * 100) / 100 + 0;
};
const fmt = (x) => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(2);
const text = (p) => p[0].toFixed(2) + ',' + p[1].toFixed(2);

function pointAt(event) {
  const pad = element.querySelector('.cz-pad');
  const box = pad.getBoundingClientRect();
  return [tidy(((event.clientX - box.left) / box.width) * 2 - 1), \
tidy(1 - ((event.clientY - box.top) / box.height) * 2)];
}

function show(p) {  // move the dot in the page only (no event): used while dragging
  const pad = element.querySelector('.cz-pad');
  let dot = pad.querySelector('.cz-pad-dot');
  if (!dot) {
    dot = document.createElement('span');
    dot.className = 'cz-pad-dot';
    pad.appendChild(dot);
  }
  dot.style.left = (p[0] + 1) * 50 + '%';
  dot.style.top = (1 - p[1]) * 50 + '%';
  const readout = element.querySelector('.cz-pad-readout');
  if (readout) readout.innerHTML = 'valence <b>' + fmt(p[0]) + '</b> · arousal <b>' + fmt(p[1]) + '</b>';
}

function commit(p) {
  const next = text(p);
  if (next !== props.value) props.value = next;  // re-renders; Gradio updates the value and fires 'change'
}

function current() {
  const parts = String(props.value || '').split(',').map(Number);
  return parts.length === 2 && parts.every(Number.isFinite) ? parts : [0, 0];
}

element.addEventListener('pointerdown', (event) => {
  const hit = event.target && event.target.closest ? event.target.closest('.cz-pad-hit') : null;
  if (!hit || !element.contains(hit) || event.button !== 0) return;
  dragging = true;
  try { hit.setPointerCapture(event.pointerId); } catch (err) { /* synthetic events have no capture */ }
  show(pointAt(event));
  event.preventDefault();
});

element.addEventListener('pointermove', (event) => {
  if (dragging) show(pointAt(event));
});

const finish = (event) => {
  if (!dragging) return;
  dragging = false;
  commit(pointAt(event));
};
element.addEventListener('pointerup', finish);
element.addEventListener('pointercancel', finish);

element.addEventListener('keydown', (event) => {
  const moves = {ArrowLeft: [-STEP, 0], ArrowRight: [STEP, 0], ArrowUp: [0, STEP], ArrowDown: [0, -STEP]};
  const move = moves[event.key];
  if (!move || !event.target.closest('.cz-pad')) return;
  event.preventDefault();
  const p = current();
  commit([tidy(p[0] + move[0]), tidy(p[1] + move[1])]);
});
""".replace("__SNAP__", repr(SNAP)).replace("__STEP__", repr(KEY_STEP))

HELP_MARKDOWN = (
    "**How the feeling is used.** The model writes the tune prompted with the **nearest quadrant**; "
    "near an axis it is prompted with a **blend of the two quadrants** on either side, weighted by the "
    "distance, so melodies change smoothly across the pad. **Tempo, register, loudness and articulation** "
    "then move continuously with the point (the four corners are EMusicGen's templates: happy 160–184 BPM, "
    "tense 184–228 BPM two octaves down and loud, sad 40–69 BPM one octave down, calm 40–69 BPM). "
    "The **mode** follows the sign of valence: major on the pleasant side, minor on the unpleasant side, "
    "neither (the model's own) near the middle."
)


def emotion_pad(value: str | None = "", *, elem_id: str | None = "cz-emotion-pad", **kwargs) -> gr.HTML:
    """The pad component (a templated ``gr.HTML``) with ``value`` = ``"v,a"`` (``""``: no point yet)."""
    return gr.HTML(
        value=value or "",
        label="Feeling",  # names the input in the API (the pad draws its own title)
        html_template=HTML_TEMPLATE,
        css_template=CSS_TEMPLATE,
        js_on_load=JS_ON_LOAD,
        apply_default_css=False,
        elem_id=elem_id,
        elem_classes=["cz-emotion-pad"],
        **kwargs,
    )


@dataclass
class FeelingPanel:
    """The pad, the live line describing its point, and the help text."""

    pad: gr.HTML
    line: gr.Markdown


def feeling_help(elem_id: str = "cz-emotion-pad", folded: bool = False) -> None:
    """The help text under a pad (``folded``: in a closed accordion)."""
    if not folded:
        gr.Markdown(HELP_MARKDOWN, elem_id=f"{elem_id}-help", elem_classes=["cz-pad-help"])
        return
    with gr.Accordion("How the feeling is used", open=False):
        gr.Markdown(HELP_MARKDOWN, elem_id=f"{elem_id}-help", elem_classes=["cz-pad-help"])


def feeling_panel(
    describe: Callable[[str | None], str],
    value: str | None = "",
    elem_id: str = "cz-emotion-pad",
    show_help: str | None = "open",
) -> FeelingPanel:
    """Build the pad, its description line and the help text in the current Blocks context.

    ``describe(value) -> str`` (HTML; never raises) writes the line; it runs on every change of the pad
    in a private event (UI plumbing, not API). ``show_help``: "open", "folded" (in an accordion) or None (the
    caller places it with :func:`feeling_help`, e.g. below its own buttons).
    """
    pad = emotion_pad(value, elem_id=elem_id)
    line = gr.Markdown(describe(value), elem_id=f"{elem_id}-line", elem_classes=["cz-pad-line"])
    if show_help is not None:
        feeling_help(elem_id, folded=show_help == "folded")
    pad.change(
        describe, [pad], line, queue=False, show_progress="hidden", api_visibility="private", trigger_mode="always_last"
    )
    return FeelingPanel(pad, line)


PAD_CSS = """
.cz-pad-line p { margin: 2px 0 0 0; font-size: 14px; }
.cz-pad-line .cz-pad-none { color: var(--body-text-color-subdued); }
.cz-pad-help p { margin: 4px 0 0 0; font-size: 12px; color: var(--body-text-color-subdued); }
"""
