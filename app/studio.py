"""The whole studio page: header, instructions and the tabs."""

from __future__ import annotations

import gradio as gr
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from app.api_inputs import StudioBlocks
from app.components.control_report import REPORT_CSS
from app.components.emotion_pad import PAD_CSS
from app.components.playback_cursor import CURSOR_CSS, PLAYBACK_JS
from app.services import Studio
from app.services.common import MAX_UPLOAD_BYTES
from app.tabs.arrange import ALTERNATIVES_JS, ARRANGE_CSS, ArrangeTab
from app.tabs.compose import ComposeTab
from app.tabs.emotion import EMOTION_CSS, EmotionTab
from app.tabs.explore import EXPLORE_CSS, ExploreTab
from app.tabs.library import LibraryTab, OpenTargets
from app.tabs.song import SONG_CSS, SongTab
from app.tabs.style import VERDICT_CSS, StyleTab

TITLE = "Cadenza — controllable melody studio"

STUDIO_CSS = """
.cz-header h1 { margin-bottom: 0.1em; }
.cz-header p { margin-top: 0; color: var(--body-text-color-subdued); }
.cz-examples { align-items: center; }
.cz-examples-label { flex-grow: 0 !important; min-width: max-content !important; }
.cz-small-label p { font-size: var(--block-label-text-size); color: var(--block-label-text-color); margin: 0; }
.cz-presets { flex-wrap: wrap !important; gap: 6px; }
.cz-presets button { flex: 0 0 auto !important; min-width: max-content !important; white-space: nowrap; }
#cz-chord-status .cz-ok { color: var(--color-green-600, #16a34a); }
#cz-chord-status .cz-bad { color: var(--color-red-600, #dc2626); font-weight: 600; }
.cz-status { padding: 8px 12px; border-radius: 8px; }
.cz-status.cz-error { background: var(--color-red-50, #fef2f2); color: var(--color-red-700, #b91c1c); \
border: 1px solid var(--color-red-200, #fecaca); }
.cz-status.cz-okay { background: var(--color-green-50, #f0fdf4); color: var(--color-green-800, #166534); \
border: 1px solid var(--color-green-200, #bbf7d0); }
#cz-generate { margin-top: 4px; }
/* Result files: the whole name shows (it wraps), and results carry no "remove" cross (they are not uploads). */
.file-preview td.filename { display: table-cell; white-space: normal; overflow-wrap: break-word; min-width: 8em; }
.file-preview td.filename .stem, .file-preview td.filename .ext { display: inline; white-space: normal; \
overflow: visible; text-overflow: clip; max-width: none; }
#cz-lib-files button[aria-label="Remove this file"], #cz-lib-files button[aria-label="Remove file"],
[id^="cz-midi"] button[aria-label="Remove this file"], [id^="cz-wav"] button[aria-label="Remove this file"] \
{ display: none; }
"""

THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="amber")


def build_studio(studio: Studio, max_file_age: int = 3600) -> gr.Blocks:
    """The studio Blocks app (theme/CSS are passed to ``launch``: see :func:`launch_kwargs`).

    A :class:`StudioBlocks`: malformed API values get a message naming the parameter (app.api_inputs).
    ``max_file_age``: seconds Gradio keeps the files it handed out (its ``delete_cache``, which ages files
    only; the size cap is app/storage.py's, started by app.py)."""
    delete_cache = (max(60, min(1800, max_file_age // 2)), max_file_age)
    with StudioBlocks(title=TITLE, analytics_enabled=False, delete_cache=delete_cache) as demo:
        gr.Markdown(
            f"# 🎼 {TITLE}\n"
            "Compose melodies with a neural model you steer: **you** choose the rhythm and the harmony, "
            "the model chooses the notes. Listen, compare variations and download MIDI for your DAW. "
            "In **Explore**, travel between two melodies: interpolate, map pitch × rhythm, swap tunes and rhythms. "
            "In **Song**, grow a melody into a whole tune: continue it, rewrite chosen 2-bar blocks, undo. "
            "In **Emotion**, pick a feeling on a valence × arousal pad and get tunes in ABC with their score "
            "(Compose takes a feeling too, under *Feeling*). In **Style**, hear four-part music in a style you pick, "
            "morph one style into another, or move your own piece toward a style. Everything you make is kept in "
            "your **📚 Library**, across reloads and restarts: play it again, rename, star, download, or open it in "
            "another tab.",
            elem_classes=["cz-header"],
        )
        with gr.Tabs(elem_id="cz-tabs") as tabs:
            with gr.Tab("Compose", id="compose", elem_id="cz-tab-compose"):
                compose = ComposeTab(studio).build()
            with gr.Tab("Explore", id="explore", elem_id="cz-tab-explore"):
                explore = ExploreTab(studio, last_sheet=compose.last_sheet).build()
            with gr.Tab("Song", id="song", elem_id="cz-tab-song"):
                song = SongTab(studio, last_sheet=compose.last_sheet).build()
            with gr.Tab("Emotion", id="emotion", elem_id="cz-tab-emotion"):
                emotion = EmotionTab(studio).build()
            with gr.Tab("Style", id="style", elem_id="cz-tab-style"):
                style = StyleTab(studio).build()
            with gr.Tab("Arrange", id="arrange", elem_id="cz-tab-arrange"):
                arrange = ArrangeTab(studio, last_sheet=compose.last_sheet).build()
            with gr.Tab("📚 Library", id="library", elem_id="cz-tab-library"):
                library = LibraryTab(studio, OpenTargets(tabs, compose, explore, song, style, arrange)).build()

        # "Open in Arrange" under every result of the other tabs.
        for source_tab in (compose, explore, song, emotion, style):
            for button, files in source_tab.arrange_sources:
                arrange.open_from(button, files, tabs)

        # Whose pieces: the browser keeps a random owner token (or, with --auth, the user name owns them).
        owner_token = gr.BrowserState(None, storage_key="cadenza_owner", secret=studio.keeper.browser_secret())

        def register_owner(token: str | None, request: gr.Request) -> str:
            return studio.keeper.register(
                getattr(request, "session_hash", None), token, getattr(request, "username", None)
            )

        loaded = demo.load(register_owner, [owner_token], [owner_token], queue=False, api_visibility="private")
        # Each tab as it was: its latest take comes back from the Library with the inputs that made it, and the
        # latest song with its versions to undo. Only with a library; at once (unqueued), without a progress overlay,
        # and never over a result already on the page.
        if studio.keeper.enabled:
            quiet = dict(queue=False, show_progress="hidden", api_visibility="private")
            loaded.then(song.restore, [song.current], song.outputs, **quiet).then(
                song.draw_roll, [song.pending_roll], song.roll, **quiet
            )
            loaded.then(compose.restore, [compose.last_sheets], compose.restore_outputs, **quiet).then(
                compose.draw_rolls, [compose.pending_rolls], compose.roll_outputs, **quiet
            )
            loaded.then(explore.restore, None, explore.restore_outputs, **quiet)
            loaded.then(emotion.restore, [emotion.pending_scores], emotion.restore_outputs, **quiet).then(
                emotion.draw_scores, [emotion.pending_scores], emotion.score_outputs, **quiet
            )
            loaded.then(style.restore, [style.pending_roll], style.restore_outputs, **quiet).then(
                style.draw_roll, [style.pending_roll], [style.roll], **quiet
            )
            loaded.then(arrange.restore, [arrange.current], arrange.restore_outputs, **quiet).then(
                arrange.draw_roll, [arrange.pending_roll], [arrange.roll], **quiet
            )
        loaded.then(
            library.refresh,
            [library.query, library.tab_filter, library.starred],
            [library.table, library.ids, library.status],
            queue=False,
            api_visibility="private",
        )

        def close_session(request: gr.Request) -> None:
            studio.close_session(getattr(request, "session_hash", None))

        demo.unload(close_session)  # delete the session's cache files when its tab closes (the library keeps its own)
    demo.cz_tabs = tabs  # type: ignore[attr-defined]
    demo.cz_compose = compose  # type: ignore[attr-defined]
    demo.cz_explore = explore  # type: ignore[attr-defined]
    demo.cz_song = song  # type: ignore[attr-defined]
    demo.cz_emotion = emotion  # type: ignore[attr-defined]
    demo.cz_style = style  # type: ignore[attr-defined]
    demo.cz_arrange = arrange  # type: ignore[attr-defined]
    demo.cz_library = library  # type: ignore[attr-defined]
    return demo


def launch_kwargs() -> dict:
    """Theme, CSS and the upload size limit for ``demo.launch`` (Gradio 6 takes them there, not in ``gr.Blocks``).

    ``max_file_size`` makes the server refuse uploads over the MIDI limit (4 MB) before
    they are stored; the browser shows Gradio's "file too large" message. ``app_kwargs`` adds gzip.
    """
    return {
        "theme": THEME,
        "css": STUDIO_CSS
        + EXPLORE_CSS
        + SONG_CSS
        + EMOTION_CSS
        + PAD_CSS
        + REPORT_CSS
        + VERDICT_CSS
        + CURSOR_CSS
        + ARRANGE_CSS,
        # the playback cursor on the rolls and the score (app/components/playback_cursor.py); Arrange's alternatives
        "js": f"() => {{ ({PLAYBACK_JS.strip()})(); ({ALTERNATIVES_JS.strip()})(); }}",
        "max_file_size": MAX_UPLOAD_BYTES,
        # The page (870 KB of HTML) and its JSON go out gzipped: Gradio's own Brotli middleware is registered with
        # an empty exclusion pattern when no MCP server runs, which matches every path, so it compresses nothing.
        # Starlette's GZip leaves event streams (the queue's SSE) and binary files alone.
        "app_kwargs": {"middleware": [Middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)]},
    }
