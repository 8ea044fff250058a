"""A melody played on a MIDI keyboard (Web MIDI in the browser), recorded onto the sixteenth grid.

The widget is a templated ``gr.HTML`` (as the step grid and the feeling pad are). In the browser, **Record** asks
for Web MIDI (``navigator.requestMIDIAccess``), listens to every connected input (and to one plugged in later) and
keeps each note's pitch with the times of its note-on and note-off (the event's own ``timeStamp``, in ms);
**Stop** writes the take to ``props.value`` as JSON ``{"notes": [[pitch, on_ms, off_ms | null], ...], "stop": ms,
"take": n}`` (which fires the component's ``change``). Where the browser has no Web MIDI the whole group is hidden.

Python turns a take into a melody with engine.io.played.played_melody (times become sixteenth steps at the tempo
shown, from the first note played).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

HTML_TEMPLATE = """
<div class="cz-kbd">
  <button type="button" class="cz-kbd-record">⏺ Record</button>
  <button type="button" class="cz-kbd-stop" disabled>⏹ Stop</button>
  <span class="cz-kbd-readout">Play a melody on your MIDI keyboard: press Record, play, then Stop.</span>
</div>
"""

CSS_TEMPLATE = """
.cz-kbd { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 4px 0; }
.cz-kbd button { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 4px 10px;
  background: var(--button-secondary-background-fill); cursor: pointer; }
.cz-kbd button:disabled { opacity: 0.5; cursor: default; }
.cz-kbd-recording .cz-kbd-record { background: #c0392b; color: white; }
.cz-kbd-readout { color: var(--body-text-color-subdued); }
"""

JS_ON_LOAD = """
if (!navigator.requestMIDIAccess) {  // no Web MIDI in this browser: nothing to show (Gradio nests the group's class)
  let group = element;
  for (let up = element.closest('.cz-arr-keyboard'); up; up = up.parentElement.closest('.cz-arr-keyboard')) group = up;
  group.style.display = 'none';
  return;
}
let recording = false, notes = [], down = {}, access = null, take = 0;
const readout = () => element.querySelector('.cz-kbd-readout');
const say = (text) => { const r = readout(); if (r) r.textContent = text; };
const names = () => access ? Array.from(access.inputs.values()).map((i) => i.name || 'MIDI input') : [];
const status = () => {
  const inputs = names();
  if (!inputs.length) return say('No MIDI keyboard found: plug one in (it is picked up at once)');
  say((recording ? '● Recording from ' : 'Ready: ') + inputs.join(', ') + ' · ' + notes.length + ' notes');
};
const onMessage = (event) => {
  if (!recording || !event.data || event.data.length < 2) return;
  const kind = event.data[0] & 0xf0, pitch = event.data[1], velocity = event.data.length > 2 ? event.data[2] : 0;
  const at = typeof event.timeStamp === 'number' && event.timeStamp > 0 ? event.timeStamp : performance.now();
  if (kind === 0x90 && velocity > 0) {
    const note = [pitch, at, null];
    notes.push(note);
    down[pitch] = note;
  } else if (kind === 0x80 || kind === 0x90) {
    if (down[pitch]) { down[pitch][2] = at; delete down[pitch]; }
  }
  status();
};
const listen = () => { if (access) access.inputs.forEach((input) => { input.onmidimessage = onMessage; }); };
element.addEventListener('click', (event) => {
  const button = event.target.closest('button');
  if (!button || !element.contains(button)) return;
  const record = element.querySelector('.cz-kbd-record'), stop = element.querySelector('.cz-kbd-stop');
  if (button === record && !recording) {
    navigator.requestMIDIAccess().then((granted) => {
      access = granted;
      access.onstatechange = () => { listen(); status(); };
      listen();
      notes = []; down = {}; recording = true;
      record.disabled = true; stop.disabled = false;
      element.querySelector('.cz-kbd').classList.add('cz-kbd-recording');
      status();
    }, (err) => say('The browser did not allow MIDI: ' + err));
  } else if (button === stop && recording) {
    recording = false;
    record.disabled = false; stop.disabled = true;
    element.querySelector('.cz-kbd').classList.remove('cz-kbd-recording');
    take += 1;
    props.value = JSON.stringify({notes: notes, stop: performance.now(), take: take});
    say(notes.length + ' notes recorded: Arrange is reading them');
  }
});
"""


def midi_keyboard(elem_id: str = "cz-arr-keyboard", **kwargs: Any) -> gr.HTML:
    """The recorder (a templated ``gr.HTML``; its value is the last take's JSON, "" before any)."""
    return gr.HTML(
        value="",
        label="Played take",
        html_template=HTML_TEMPLATE,
        css_template=CSS_TEMPLATE,
        js_on_load=JS_ON_LOAD,
        apply_default_css=False,
        elem_id=elem_id,
        **kwargs,
    )
