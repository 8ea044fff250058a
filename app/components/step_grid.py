"""A clickable rhythm step grid built on Gradio 6's templated ``gr.HTML``.

The component's value is a rhythm pattern string: one character per sixteenth
step (``x`` = note onset, ``.`` = none), bars of 16 steps separated by ``|``,
e.g. ``"x...x...x.x.x...|x.....x...x....."``. That is exactly the ``rhythm``
string the compose pipeline takes, so the UI never has to translate it.

Everything here except :func:`step_grid` is plain string handling (no Gradio),
so the helpers are unit-testable and usable from the event handlers.

How the widget works
--------------------
* ``html_template`` is evaluated in the browser as a Handlebars template and
  then as a JS template literal, with ``value`` and the extra props
  (``chords``: one label per bar) in scope. It splits ``value`` on ``|`` and
  renders one ``.cz-bar`` per bar, each holding four ``.cz-beat`` groups of four
  ``<button class="cz-cell">`` cells carrying ``data-bar`` (0-based bar),
  ``data-step`` (0..15 within the bar) and ``data-index`` (global step).
  Cells that are on get ``cz-on`` (and ``aria-pressed="true"``); the first cell
  of a bar gets ``cz-down``, the first cell of the other beats ``cz-beatstart``.
* ``js_on_load`` installs delegated listeners on the component's root element
  (so they survive Gradio's DOM morphing on re-render). A click toggles one
  cell; pressing on a cell and dragging paints the other cells with the new
  state. Each edit rebuilds the pattern string and assigns ``props.value``,
  which re-renders the template and makes Gradio update the component value and
  dispatch its ``change`` event; we additionally ``trigger('input')`` so
  Python can tell user edits from programmatic ones.
* Python changes the grid by returning a new pattern string (presets, resizing
  when the bars slider moves, examples), or ``gr.HTML(value=..., chords=[...])``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence

import gradio as gr

from engine.music.constants import STEPS_PER_BAR_44
from engine.music.limits import COMPOSE_BARS

STEPS_PER_BAR = STEPS_PER_BAR_44
MIN_BARS, MAX_BARS = COMPOSE_BARS.low, COMPOSE_BARS.high
DEFAULT_BARS = 4
ON, OFF, BAR_SEP = "x", ".", "|"

# ---------------------------------------------------------------- pattern helpers


def empty_bar() -> str:
    return OFF * STEPS_PER_BAR


def empty_pattern(num_bars: int) -> str:
    return BAR_SEP.join(empty_bar() for _ in range(max(int(num_bars), 0)))


def split_bars(pattern: str | None) -> list[str]:
    """Bars of a (normalised) pattern; ``""``/``None`` gives no bars."""
    pattern = normalize_pattern(pattern)
    return pattern.split(BAR_SEP) if pattern else []


def normalize_pattern(value: str | None) -> str:
    """Canonical form of a grid value: lowercase ``x``/``.`` only, bars of exactly 16 steps.

    Accepts ``X`` and ``-`` as spellings of onset and rest, ignores whitespace,
    treats any other character as a rest, pads a short (last) bar and splits an
    over-long bar into several. ``None`` or blank text gives ``""``.
    """
    if not value:
        return ""
    text = re.sub(r"\s+", "", str(value))
    bars: list[str] = []
    for raw in text.split(BAR_SEP):
        if not raw:
            continue
        chars = "".join(ON if c in "xX" else OFF for c in raw)
        for i in range(0, len(chars), STEPS_PER_BAR):
            bars.append(chars[i : i + STEPS_PER_BAR].ljust(STEPS_PER_BAR, OFF))
    return BAR_SEP.join(bars)


def num_bars_of(pattern: str | None) -> int:
    return len(split_bars(pattern))


def resize_pattern(pattern: str | None, num_bars: int, cut: list[str] | None = None) -> str:
    """The pattern with ``num_bars`` bars: keeps existing onsets, truncates, or pads with the bars in ``cut`` (bar
    number -> the bar as it was when it was cut off, as RESIZE_JS remembers them; "" for none), else empty bars."""
    num_bars = max(int(num_bars), 0)
    bars = split_bars(pattern)[:num_bars]
    remembered = list(cut or [])
    bars += [
        (remembered[i] if i < len(remembered) and remembered[i] else empty_bar()) for i in range(len(bars), num_bars)
    ]
    return BAR_SEP.join(bars)


def clamp_bars(num_bars: float | int | None, default: int = DEFAULT_BARS) -> int:
    """Bars clamped to MIN_BARS..MAX_BARS (for UI-originated values only)."""
    try:
        n = int(round(float(num_bars)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return min(max(n, MIN_BARS), MAX_BARS)


def to_rhythm(value: str | None, num_bars: int | None = None) -> str:
    """The rhythm string to hand to the compose pipeline from a grid value.

    Normalises the value and, when ``num_bars`` is given, pads/truncates it so
    a grid that has not caught up with the bars slider yet still matches.
    """
    pattern = normalize_pattern(value)
    if num_bars is not None:
        pattern = resize_pattern(pattern, num_bars)
    return pattern


def count_onsets(pattern: str | None) -> int:
    return normalize_pattern(pattern).count(ON)


def onset_steps(pattern: str | None) -> list[int]:
    """Global step indices (bar * 16 + step) of the onsets."""
    flat = normalize_pattern(pattern).replace(BAR_SEP, "")
    return [i for i, c in enumerate(flat) if c == ON]


def pattern_from_onsets(steps: Sequence[int], num_bars: int) -> str:
    """Pattern with onsets at the given global steps (out-of-range steps are ignored)."""
    total = int(num_bars) * STEPS_PER_BAR
    flat = [OFF] * total
    for s in steps:
        if 0 <= int(s) < total:
            flat[int(s)] = ON
    chars = "".join(flat)
    return BAR_SEP.join(chars[i : i + STEPS_PER_BAR] for i in range(0, total, STEPS_PER_BAR))


def set_step(pattern: str | None, bar: int, step: int, on: bool | None = None) -> str:
    """Set (or toggle, when ``on`` is None) one cell — what a click in the browser does."""
    bars = split_bars(pattern)
    if not (0 <= bar < len(bars) and 0 <= step < STEPS_PER_BAR):
        raise IndexError(f"No cell at bar {bar}, step {step} in a {len(bars)}-bar grid")
    cells = list(bars[bar])
    if on is None:
        on = cells[step] != ON
    cells[step] = ON if on else OFF
    bars[bar] = "".join(cells)
    return BAR_SEP.join(bars)


# ---------------------------------------------------------------- presets


def _repeat(bar: str) -> Callable[[int, int], str]:
    return lambda index, num_bars: bar


def _folk_reel(index: int, num_bars: int) -> str:
    if index == num_bars - 1:
        return "x.x.x...x......."  # land on the tonic
    return "x.x.x.x.x.x.x.x." if index % 2 == 0 else "x.x.x.x.x...x..."


def _ballad(index: int, num_bars: int) -> str:
    if index == num_bars - 1:
        return "x.......x......."
    return "x...x.x.x......." if index % 2 == 0 else "x.....x.x...x..."


def _phrases(index: int, num_bars: int) -> str:
    """Question/answer phrases: busy bars, a long note closing every second bar."""
    if index % 2 == 1 or index == num_bars - 1:
        return "x...x...x......."
    return "x.xxx.x.x.x.x.x."


PRESETS: dict[str, Callable[[int, int], str]] = {
    "Clear": _repeat(empty_bar()),
    "Quarter notes": _repeat("x...x...x...x..."),
    "Eighth notes": _repeat("x.x.x.x.x.x.x.x."),
    "Dotted / swing-ish": _repeat("x..xx..xx..xx..x"),
    "Syncopated": _repeat("x..x..x...x.x..."),
    "Folk reel": _folk_reel,
    "Ballad": _ballad,
    "Call & answer": _phrases,
}
RANDOM_PRESET = "Random"
PRESET_NAMES: list[str] = [*PRESETS, RANDOM_PRESET]


def random_pattern(num_bars: int, rng: random.Random | None = None, density: float = 0.4) -> str:
    """A random rhythm with onsets favouring beats; every bar starts with an onset."""
    rng = rng or random.Random()
    weight = {0: 1.0, 8: 0.9, 4: 0.75, 12: 0.75}
    bars = []
    for _ in range(int(num_bars)):
        cells = [OFF] * STEPS_PER_BAR
        for step in range(STEPS_PER_BAR):
            p = weight.get(step, 0.55 if step % 2 == 0 else 0.25) * density / 0.4 * 0.6
            if step == 0 or rng.random() < p:
                cells[step] = ON
        bars.append("".join(cells))
    return BAR_SEP.join(bars)


def preset_pattern(name: str, num_bars: int, rng: random.Random | None = None) -> str:
    """The named preset rhythm spread over ``num_bars`` bars."""
    num_bars = int(num_bars)
    if name == RANDOM_PRESET:
        return random_pattern(num_bars, rng)
    try:
        bar_fn = PRESETS[name]
    except KeyError:
        raise KeyError(f"Unknown rhythm preset {name!r}; choose one of {', '.join(PRESET_NAMES)}") from None
    return BAR_SEP.join(bar_fn(i, num_bars) for i in range(num_bars))


DEFAULT_PATTERN = preset_pattern("Call & answer", DEFAULT_BARS)


# The fixed presets and the bars slider act in the browser (no round trip to the server):
# a server reply that arrived after the user's next clicks would overwrite those clicks.
def preset_table(name: str) -> dict[str, str]:
    """``{"2": pattern, ..., "16": pattern}``: a fixed preset for every bar count."""
    return {str(n): preset_pattern(name, n) for n in range(MIN_BARS, MAX_BARS + 1)}


_CLAMP_BARS_JS = (
    f"const n = Math.round(Number(bars)); "
    f"const b = Number.isFinite(n) ? Math.min(Math.max(n, {MIN_BARS}), {MAX_BARS}) : {DEFAULT_BARS};"
)


def preset_js(name: str) -> str:
    """A Gradio ``js`` event function ``(bars) => pattern`` for a fixed (not Random) preset."""
    if name == RANDOM_PRESET:
        raise ValueError("the Random preset is drawn on the server")
    return (
        f"(bars) => {{ {_CLAMP_BARS_JS} window.__czCutBars = []; return {json.dumps(preset_table(name))}[String(b)]; }}"
    )


# ``(value, bars) => pattern``: resize_pattern in the browser. Bars cut off are remembered (per page, in
# ``window.__czCutBars``, by bar number) and come back with their onsets when the bars grow again; a preset
# forgets them. A number of bars outside MIN_BARS..MAX_BARS (typed in the box) leaves the grid as it is: Generate
# then says what is wrong instead of the grid silently becoming another length.
RESIZE_JS = (
    "(value, bars) => { "
    f"const n = Number(bars); const cur = String(value || '').split('{BAR_SEP}').filter((x) => x.length)"
    f".map((x) => x.padEnd({STEPS_PER_BAR}, '{OFF}').slice(0, {STEPS_PER_BAR})); "
    f"if (!Number.isInteger(n) || n < {MIN_BARS} || n > {MAX_BARS}) return cur.join('{BAR_SEP}'); "
    "const cut = (window.__czCutBars = window.__czCutBars || []); "
    f"const out = []; for (let i = 0; i < n; i++) out.push(i < cur.length ? cur[i] : (cut[i] || "
    f"'{OFF * STEPS_PER_BAR}')); "
    "for (let i = n; i < cur.length; i++) cut[i] = cur[i]; "
    f"return out.join('{BAR_SEP}'); }}"
)

# ---------------------------------------------------------------- the widget

HTML_TEMPLATE = """
<div class="cz-stepgrid">
  <div class="cz-head">
    <span class="cz-title">Rhythm</span>
    <span class="cz-readout" data-bars="${(value || '').split('|').filter(b => b.length).length}"
          data-onsets="${(value || '').split('').filter(c => c === 'x').length}">
      ${(value || '').split('|').filter(b => b.length).length} bars ·
      <b>${(value || '').split('').filter(c => c === 'x').length}</b> onsets
    </span>
    <span class="cz-hint">click a cell to toggle an onset, drag to paint</span>
  </div>
  <div class="cz-grid">
  ${(value || '').split('|').filter(b => b.length).map((bar, b) => `
    <div class="cz-bar" data-bar="${b}">
      <div class="cz-barhead">
        <span class="cz-barno">${b + 1}</span>
        <span class="cz-chord">${(Array.isArray(chords) && chords.length) \
? String(chords[b % chords.length]).replace(/[<>&"]/g, '') : ''}</span>
      </div>
      <div class="cz-cells">
      ${[0, 1, 2, 3].map(beat => `<div class="cz-beat" data-beat="${beat}">${[0, 1, 2, 3].map(k => {
          const s = beat * 4 + k;
          const on = bar[s] === 'x';
          const cls = 'cz-cell' + (on ? ' cz-on' : '') + (s === 0 ? ' cz-down' : (k === 0 ? ' cz-beatstart' : ''));
          return `<button type="button" class="${cls}" data-bar="${b}" data-step="${s}" data-index="${b * 16 + s}" \
aria-pressed="${on}" aria-label="Bar ${b + 1} step ${s + 1}" title="Bar ${b + 1}, beat ${beat + 1}, \
sixteenth ${k + 1}"></button>`;
        }).join('')}</div>`).join('')}
      </div>
    </div>`).join('')}
  </div>
</div>
"""

CSS_TEMPLATE = """
.cz-stepgrid { user-select: none; -webkit-user-select: none; padding: 4px 2px; }
.cz-head { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; margin-bottom: 8px; }
.cz-title { font-weight: 600; color: var(--body-text-color); }
.cz-readout { font-size: 13px; color: var(--body-text-color); font-variant-numeric: tabular-nums; }
.cz-hint { font-size: 12px; color: var(--body-text-color-subdued); }
.cz-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 10px 24px; }
.cz-bar { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.cz-barhead { display: flex; gap: 8px; align-items: baseline; font-size: 12px; height: 16px; }
.cz-barno { color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums; min-width: 1.2em; }
.cz-chord { font-weight: 600; color: var(--color-accent); }
.cz-cells { display: flex; gap: 6px; }
.cz-beat { flex: 1 1 0; display: flex; gap: 2px; padding: 2px; border-radius: 6px; \
background: var(--background-fill-secondary); }
.cz-cell {
  flex: 1 1 0; min-width: 14px; height: 30px; padding: 0; margin: 0; cursor: pointer;
  border-radius: 4px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary);
  transition: background-color 0.06s ease-in;
}
.cz-cell.cz-beatstart { border-color: var(--body-text-color-subdued); }
.cz-cell.cz-down { border: 2px solid var(--color-accent); }
.cz-cell:hover { background: var(--color-accent-soft); }
.cz-cell.cz-on { background: var(--color-accent); border-color: var(--color-accent); }
.cz-cell.cz-on:hover { filter: brightness(0.9); }
.cz-cell:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 1px; }
"""

JS_ON_LOAD = """
const CELL = '.cz-cell';
let painting = false;
let dragged = false;
let paintOn = true;
let startCell = null;

function cellOf(target) {
  const cell = target && target.closest ? target.closest(CELL) : null;
  return cell && element.contains(cell) ? cell : null;
}

function apply(cells, on) {
  const bars = (props.value || '').split('|');
  for (const cell of cells) {
    const b = parseInt(cell.dataset.bar, 10);
    const s = parseInt(cell.dataset.step, 10);
    if (!(b >= 0 && b < bars.length) || !(s >= 0 && s < 16)) continue;
    const chars = bars[b].padEnd(16, '.').split('');
    chars[s] = on ? 'x' : '.';
    bars[b] = chars.join('');
    cell.classList.toggle('cz-on', on);
  }
  const next = bars.join('|');
  if (next !== props.value) {
    props.value = next;   // re-renders the template; Gradio updates the value and fires 'change'
    trigger('input');
  }
}

element.addEventListener('pointerdown', (event) => {
  const cell = cellOf(event.target);
  dragged = false;
  if (!cell || event.button !== 0) return;
  painting = true;
  startCell = cell;
  paintOn = !cell.classList.contains('cz-on');
});

element.addEventListener('pointerover', (event) => {
  if (!painting) return;
  const cell = cellOf(event.target);
  if (!cell || (cell === startCell && !dragged)) return;
  if (!dragged) {
    dragged = true;
    apply([startCell], paintOn);
  }
  apply([cell], paintOn);
});

window.addEventListener('pointerup', () => {
  painting = false;
  // The click that ends a drag must not toggle its cell again; forget the drag after it.
  if (dragged) setTimeout(() => { dragged = false; }, 0);
});

element.addEventListener('click', (event) => {
  const cell = cellOf(event.target);
  if (!cell) return;
  if (dragged && event.detail !== 0) return;  // end of a drag (keyboard clicks have detail 0)
  apply([cell], !cell.classList.contains('cz-on'));
});
"""


def step_grid(
    value: str | None = DEFAULT_PATTERN,
    *,
    chords: Sequence[str] | None = None,
    elem_id: str | None = "cz-step-grid",
    **kwargs,
) -> gr.HTML:
    """The step-grid component (a templated ``gr.HTML``) with ``value`` = rhythm pattern string.

    ``chords`` (one label per bar, repeated when shorter) is shown above the bars;
    update it with ``gr.HTML(chords=[...])`` from an event handler.
    """
    return gr.HTML(
        value=normalize_pattern(value),
        html_template=HTML_TEMPLATE,
        css_template=CSS_TEMPLATE,
        js_on_load=JS_ON_LOAD,
        apply_default_css=False,
        elem_id=elem_id,
        elem_classes=["cz-step-grid"],
        chords=list(chords or []),
        **kwargs,
    )
