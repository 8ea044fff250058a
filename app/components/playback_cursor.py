"""The playback cursor: a line on every piano roll, and the bar lit on the Emotion score, following the audio.

Pairs are found by element id: a roll ``...roll`` or ``...rollN`` plays with the player ``...audio`` /
``...audioN`` (``cz-roll1`` with ``cz-audio1``, ``cz-song-roll`` with ``cz-song-audio``), a score
``cz-emotion-scoreN`` with ``cz-emotion-audioN``. A roll says how its bars map to the audio's time in its plotly
``layout.meta`` (engine.render.pianoroll.playback_meta: steps per bar, pickup, seconds per step from each tempo
change); a score in its ``data-spb``, ``data-pickup`` and ``data-sps`` attributes, and ``data-bars``, the written
measure of each bar played (app.tabs.emotion.score_html).
The page polls ten times a second: the cursor shows while the audio is past its start, and goes at its end.
"""

from __future__ import annotations

CURSOR_CSS = """
.cz-cursor { position: absolute; width: 2px; background: #ef4444; pointer-events: none; z-index: 20; \
box-shadow: 0 0 4px rgba(239, 68, 68, 0.6); }
.cz-score g.measure.cz-now { fill: var(--color-accent, #4f46e5); color: var(--color-accent, #4f46e5); }
"""

# Run once when the page loads (demo.launch(js=...)).
PLAYBACK_JS = """
() => {
  const players = new Map();
  const findAudio = (root) => {
    if (!root) return null;
    const direct = root.querySelector('audio');
    if (direct) return direct;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const found = findAudio(el.shadowRoot); if (found) return found; }
    }
    return null;
  };
  const audioFor = (id) => {
    const audioId = id.replace(/(roll|score)(\\d*)$/, 'audio$2');
    const box = document.getElementById(audioId);
    if (!box) return null;
    let audio = players.get(audioId);
    if (!audio || !audio.isConnected || !box.contains(audio.getRootNode().host || audio)) {
      audio = findAudio(box);
      players.set(audioId, audio);
    }
    return audio;
  };
  // The step sounding at time t (s) for a tempo map [[step, seconds per step], ...].
  const stepAt = (t, tempo) => {
    let time = 0;
    for (let i = 0; i < tempo.length; i++) {
      const [from, sps] = tempo[i];
      const to = i + 1 < tempo.length ? tempo[i + 1][0] : Infinity;
      if (t < time + (to - from) * sps) return from + (t - time) / sps;
      time += (to - from) * sps;
    }
    return 0;
  };
  const active = (audio) => audio && audio.currentTime > 0 && !audio.ended;
  const drawRoll = (holder) => {
    const gd = holder.querySelector('.js-plotly-plot');
    let line = holder.querySelector('.cz-cursor');
    const meta = gd && gd.layout && gd.layout.meta;
    const audio = meta && meta.cz_tempo ? audioFor(holder.id) : null;
    if (!active(audio) || !gd._fullLayout || !gd._fullLayout.xaxis) { if (line) line.style.display = 'none'; return; }
    const x = (stepAt(audio.currentTime, meta.cz_tempo) - meta.cz_pickup) / meta.cz_spb + 1;
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const [lo, hi] = xa.range;
    if (x < lo || x > hi) { if (line) line.style.display = 'none'; return; }
    if (!line) {
      line = document.createElement('div');
      line.className = 'cz-cursor';
      gd.style.position = gd.style.position || 'relative';
      gd.appendChild(line);
    }
    line.style.display = 'block';
    line.style.left = (xa._offset + xa.l2p(x)) + 'px';
    line.style.top = ya._offset + 'px';
    line.style.height = ya._length + 'px';
    line.dataset.bar = x.toFixed(3);
  };
  const drawScore = (holder) => {
    const score = holder.querySelector('.cz-score[data-sps]');
    const measures = score ? score.querySelectorAll('g.measure') : [];
    const audio = score ? audioFor(holder.id) : null;
    let index = -1;
    if (active(audio) && measures.length) {
      const step = audio.currentTime / Number(score.dataset.sps);
      const pickup = Number(score.dataset.pickup), spb = Number(score.dataset.spb);
      index = pickup > 0 ? (step < pickup ? 0 : 1 + Math.floor((step - pickup) / spb)) : Math.floor(step / spb);
      if (score.dataset.bars) {  // repeats: the bar played -> the measure written
        const order = score.dataset.bars.split(',').map(Number);
        index = index < order.length ? order[index] : -1;
      }
      if (index >= measures.length) index = -1;
    }
    measures.forEach((m, i) => m.classList.toggle('cz-now', i === index));
  };
  setInterval(() => {
    for (const holder of document.querySelectorAll('[id^="cz-"]')) {
      if (/roll\\d*$/.test(holder.id)) drawRoll(holder);
      else if (/^cz-emotion-score\\d*$/.test(holder.id)) drawScore(holder);
    }
  }, 100);
}
"""
