"""Audio first, pictures after: the browser-side wait both Compose and Song put between a reply and its piano roll.

Drawing a plotly figure keeps the page's main thread busy for tens of milliseconds, which
stalls the audio download if both happen at once; so a result's audio goes out in one
event and its piano roll in a chained one, after this wait.
"""

# Runs in the browser between a reply and its piano roll(s): waits (at most 1 s) until an audio file
# has finished downloading. Drawing a plotly figure keeps the page's main thread busy for
# tens of milliseconds, which stalls the audio download if both happen at once.
WAIT_FOR_AUDIO_JS = """
async () => {
  const since = performance.now() - 100;
  await new Promise((resolve) => {
    const done = () => { observer.disconnect(); clearTimeout(timer); resolve(); };
    const observer = new PerformanceObserver((list) => {
      if (list.getEntries().some((e) => /[.](ogg|mp3|wav)([?]|$)/.test(e.name) && e.startTime >= since)) done();
    });
    observer.observe({ type: 'resource', buffered: true });
    const timer = setTimeout(done, 1000);
  });
}
"""
