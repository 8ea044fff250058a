"""The Library tab: every piece the user made, in every tab, kept across reloads and restarts.

Layout and wiring only (the work is app/services/library.py). Newest first, searched by title or tab; a
click on a row plays the piece and offers its files; it can be renamed, starred, deleted (with undo) and
opened in Compose (its rhythm fills the grid, its chords the box), Explore (as A or B), Song or Style.

API (each for the caller's own pieces only): ``/library_list`` (search, tab, starred only -> status, JSON
list), ``/library_get`` (piece id -> status, JSON piece with its history, files), ``/library_rename`` (piece
id, title -> status, JSON piece) and ``/library_delete`` (piece id -> status, JSON piece).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import gradio as gr

from app import api_inputs as ai
from app.components import status
from app.components.progress import PROGRESS
from app.services import MAX_TEMPO, MIN_TEMPO, Studio
from app.services.common import KEYS, InputError
from app.services.explore import SOURCE_UPLOAD
from app.services.library import TAB_NAMES, LibraryService, when_text
from app.services.song import MAX_SONG_BARS

log = logging.getLogger("cadenza.library")

COLUMNS = ["★", "Title", "Tab", "Versions", "Made"]
ALL = "All"


@dataclass
class OpenTargets:
    """The other tabs' components "Open in" fills (any may be None: that button is then not shown)."""

    tabs: Any = None
    compose: Any = None
    explore: Any = None
    song: Any = None
    style: Any = None
    arrange: Any = None


def _piece_json(piece: Any) -> dict:
    out = piece.summary()
    out.pop("owner", None)  # the owner's token is the browser's secret: never sent back
    out["history"] = [
        {"version": v.number, "note": v.note, "created": v.created, "controls": v.controls} for v in piece.history
    ]
    return out


def _details_markdown(piece: Any) -> str:
    made = when_text(piece.created)
    lines = [f"### {'★ ' if piece.starred else ''}{status.md_escape(piece.title)}"]
    lines.append(f"{TAB_NAMES.get(piece.tab, piece.tab)} · made {made} · {piece.bytes / 1024:.0f} KB")
    if piece.num_versions > 1:
        steps = " → ".join(f"v{v.number} {status.md_escape(v.note)}" for v in piece.history[-6:])
        lines.append(f"{piece.num_versions} versions: {'… → ' if piece.num_versions > 6 else ''}{steps}")
    return "\n\n".join(lines)


class LibraryTab:
    """Builds the tab (``build``) and holds its components and handlers."""

    def __init__(self, studio: Studio, targets: OpenTargets | None = None):
        self.studio = studio
        self.service: LibraryService = studio.library
        self.targets = targets or OpenTargets()

    def build(self) -> LibraryTab:
        if not self.service.available:
            gr.Markdown(status.error_markdown("this studio was started without a library", "No library"))
        with gr.Row(equal_height=True):
            self.query = gr.Textbox(
                "", label="Search titles and tabs", placeholder="e.g. happy, song, C G", scale=3, elem_id="cz-lib-q"
            )
            self.tab_filter = ai.Dropdown([ALL, *TAB_NAMES.values()], value=ALL, label="Tab", scale=1)
            self.starred = gr.Checkbox(False, label="★ starred only", scale=1)
            self.refresh_button = gr.Button("↻ Refresh", scale=0, elem_id="cz-lib-refresh")
        self.status = gr.HTML("", elem_id="cz-lib-status")
        self.ids = gr.State([])
        self.selected = gr.State(None)
        self.deleted = gr.State(None)  # the piece the Undo button brings back
        self.table = gr.Dataframe(
            headers=COLUMNS,
            value=[],
            interactive=False,
            wrap=True,
            elem_id="cz-lib-table",
            column_widths=["5%", "55%", "12%", "10%", "18%"],
        )
        with gr.Column(visible=False, elem_id="cz-lib-details") as self.details:
            self.info = gr.Markdown("")
            self.audio = gr.Audio(label="Listen", interactive=False, elem_id="cz-lib-audio")
            self.downloads = gr.File(label="Files", file_count="multiple", interactive=False, elem_id="cz-lib-files")
            with gr.Row(equal_height=True):
                self.title_box = gr.Textbox("", label="Title", scale=3, max_lines=1, elem_id="cz-lib-title")
                self.rename_button = gr.Button("Rename", scale=0, elem_id="cz-lib-rename")
                self.star_button = gr.Button("★ Star", scale=0, elem_id="cz-lib-star")
                self.delete_button = gr.Button("🗑 Delete", scale=0, variant="stop", elem_id="cz-lib-delete")
            with gr.Row():
                self.open_buttons = {
                    "compose": gr.Button("Open in Compose", elem_id="cz-lib-open-compose"),
                    "explore_a": gr.Button("Open in Explore as A", elem_id="cz-lib-open-explore-a"),
                    "explore_b": gr.Button("Open in Explore as B", elem_id="cz-lib-open-explore-b"),
                    "song": gr.Button("Open in Song", elem_id="cz-lib-open-song"),
                    "style": gr.Button("Open in Style", elem_id="cz-lib-open-style"),
                    "arrange": gr.Button("Open in Arrange", elem_id="cz-lib-open-arrange"),
                }
        self.undo_button = gr.Button("↶ Undo delete", visible=False, elem_id="cz-lib-undo")
        # The API's verbs: hidden buttons whose events carry the API names (the page uses the ones above).
        with gr.Row(visible=False):
            self.api_id = gr.Textbox("", label="piece_id")
            self.api_title = gr.Textbox("", label="title")
            self.api_json = gr.JSON(label="result")
            self.api_files = gr.File(file_count="multiple", label="files")
            self.api_buttons = {name: gr.Button(name) for name in ("list", "get", "rename", "delete")}
        self._wire()
        return self

    # ------------------------------------------------------------------ wiring

    def _wire(self) -> None:
        # The page's own events stay out of the API: scripts use the four library_* verbs below.
        quick = dict(queue=False, show_progress="hidden", api_visibility="private")
        filters = [self.query, self.tab_filter, self.starred]
        listing = [self.table, self.ids, self.status]
        self.refresh_button.click(self.refresh, filters, listing, **quick)
        self.query.submit(self.refresh, filters, listing, **quick)
        self.tab_filter.change(self.refresh, filters, listing, **quick)
        self.starred.change(self.refresh, filters, listing, **quick)
        shown = [self.selected, self.details, self.info, self.audio, self.downloads, self.title_box, self.star_button]
        self.table.select(self.select, [self.ids], [*shown, self.status], **quick)
        changed = [*listing, *shown]
        self.rename_button.click(self.rename, [self.selected, self.title_box, *filters], changed, **quick)
        self.star_button.click(self.toggle_star, [self.selected, *filters], changed, **quick)
        self.delete_button.click(
            self.delete, [self.selected, *filters], [*changed, self.deleted, self.undo_button], **quick
        )
        self.undo_button.click(
            self.undelete, [self.deleted, *filters], [*changed, self.deleted, self.undo_button], **quick
        )
        self._wire_open()
        api = self.api_buttons
        api["list"].click(self.api_list, filters, [self.status, self.api_json], api_name="library_list")
        api["get"].click(
            self.api_get, [self.api_id], [self.status, self.api_json, self.api_files], api_name="library_get"
        )
        api["rename"].click(
            self.api_rename, [self.api_id, self.api_title], [self.status, self.api_json], api_name="library_rename"
        )
        api["delete"].click(self.api_delete, [self.api_id], [self.status, self.api_json], api_name="library_delete")

    def _wire_open(self) -> None:
        t = self.targets
        private = dict(api_visibility="private")  # page events: "Open in" is no API verb
        buttons = self.open_buttons
        if t.compose is None:
            buttons["compose"].visible = False
        else:
            c = t.compose
            buttons["compose"].click(
                self.open_in_compose,
                [self.selected],
                [t.tabs, c.grid, c.chords, c.bars, c.key, c.tempo, self.status],
                queue=False,
                **private,
            )
        for side in ("A", "B"):
            button = buttons[f"explore_{side.lower()}"]
            if t.explore is None:
                button.visible = False
                continue
            box = t.explore.sides[side]
            button.click(
                self.open_in_explore,
                [self.selected],
                [t.tabs, box["kind"], box["file"], box["track"], box["start"], self.status],
                queue=False,
                **private,
            ).then(
                lambda *values, s=side: t.explore.preview_source(s, *values),
                [*t.explore.source_inputs(side), t.explore.bars, t.explore.last_sheet],
                [box["preview"], box["status"]],
                queue=False,
                **private,
            )
        if t.song is None:
            buttons["song"].visible = False
        else:
            s = t.song
            buttons["song"].click(
                self.open_in_song,
                [self.selected],
                [t.tabs, s.source, s.file, s.track, s.start, self.status],
                queue=False,
                **private,
            ).then(self.song_bars, [self.selected], [s.bars], queue=False, **private).then(
                self.load_in_song,
                [self.selected, *s.load_inputs],
                s.outputs,
                show_progress="full",
                show_progress_on=[s.status],
                **private,
            ).then(s.draw_roll, [s.pending_roll], s.roll, queue=False, **private)
        if t.style is None:
            buttons["style"].visible = False
        else:
            buttons["style"].click(
                self.open_in_style,
                [self.selected],
                [t.tabs, t.style.upload, self.status],
                queue=False,
                **private,
            )
        if t.arrange is None:
            buttons["arrange"].visible = False
        else:
            a = t.arrange
            # the melody goes to Arrange's upload box, then its chords are suggested at once
            buttons["arrange"].click(
                self.open_in_arrange,
                [self.selected],
                [t.tabs, a.source, a.file, a.track, self.status],
                queue=False,
                **private,
            ).then(
                a.suggest,
                [a.source, a.file, a.last_sheet, a.bars, a.track, a.seed],
                [a.status, a.chords, a.alternatives, a.melody],
                show_progress="full",
                show_progress_on=[a.status],
                **private,
            )

    # ------------------------------------------------------------------ handlers

    def _session(self, request: gr.Request | None) -> str | None:
        return self.studio.session_of(request)

    def refresh(self, query="", tab=ALL, starred=False, request: gr.Request | None = None) -> tuple:
        """The list for the filters: (table rows, ids, status); never raises."""
        try:
            pieces = self.service.pieces(self._session(request), query, tab, starred)
        except InputError as err:
            return gr.skip(), gr.skip(), status.error_markdown(str(err), "Can't list the library")
        except Exception as err:  # noqa: BLE001 - the page must survive anything
            log.exception("library list failed")
            return gr.skip(), gr.skip(), status.crash_markdown("listing the library", err)
        rows = [
            ["★" if p.starred else "", p.title, TAB_NAMES.get(p.tab, p.tab), p.num_versions, when_text(p.created)]
            for p in pieces
        ]
        note = "" if pieces else "Nothing here yet: every melody, song, tune and piece you make is kept here."
        if pieces:
            used, quota = self.service.usage(self._session(request))
            count = f"{len(pieces)} piece{'s' if len(pieces) != 1 else ''}"
            note = f"{count} · {used / 2**20:.1f} MB of {quota / 2**20:.0f} MB"
        return rows, [p.id for p in pieces], f"<div class='cz-lib-note'>{status.md_escape(note)}</div>"

    def _show(self, piece_id: Any, request: gr.Request | None) -> tuple:
        piece = self.service.get(self._session(request), piece_id)
        files = self.service.files(self._session(request), piece_id)
        return (
            piece.id,
            gr.Column(visible=True),
            _details_markdown(piece),
            files.audio,
            files.downloads,
            piece.title,
            gr.Button("☆ Unstar" if piece.starred else "★ Star"),
        )

    def _hidden(self) -> tuple:
        return None, gr.Column(visible=False), "", None, None, "", gr.skip()

    def select(self, ids: list, evt: gr.SelectData, request: gr.Request | None = None) -> tuple:
        """A click on a row: the piece's player, files and actions; never raises."""
        try:
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if not isinstance(row, int) or not 0 <= row < len(ids or []):
                return (*self._hidden(), "")
            return (*self._show(ids[row], request), "")
        except InputError as err:
            return (*self._hidden(), status.error_markdown(str(err), "Can't open the piece"))
        except Exception as err:  # noqa: BLE001
            log.exception("library select failed")
            return (*self._hidden(), status.crash_markdown("opening the piece", err))

    def _change(self, action, done: str, what: str, filters: tuple, request: gr.Request | None) -> tuple:
        """Run ``action`` (a change to the selected piece), then the new list and the piece; never raises."""
        try:
            piece = action()
        except InputError as err:
            return (gr.skip(), gr.skip(), status.error_markdown(str(err), what), *(gr.skip(),) * 7)
        except Exception as err:  # noqa: BLE001
            log.exception("library change failed")
            return (gr.skip(), gr.skip(), status.crash_markdown(what.lower(), err), *(gr.skip(),) * 7)
        rows, ids, _ = self.refresh(*filters, request=request)
        shown = self._hidden() if piece.deleted else self._show(piece.id, request)
        return (rows, ids, status.ok_markdown(done.format(title=status.md_escape(piece.title))), *shown)

    def rename(self, piece_id, title, query="", tab=ALL, starred=False, request: gr.Request | None = None) -> tuple:
        session = self._session(request)
        return self._change(
            lambda: self.service.rename(session, piece_id, title),
            "Renamed: “{title}”",
            "Can't rename",
            (query, tab, starred),
            request,
        )

    def toggle_star(self, piece_id, query="", tab=ALL, starred=False, request: gr.Request | None = None) -> tuple:
        session = self._session(request)

        def flip():
            piece = self.service.get(session, piece_id)
            return self.service.star(session, piece_id, not piece.starred)

        return self._change(flip, "“{title}”: star changed", "Can't star", (query, tab, starred), request)

    def delete(self, piece_id, query="", tab=ALL, starred=False, request: gr.Request | None = None) -> tuple:
        session = self._session(request)
        out = self._change(
            lambda: self.service.delete(session, piece_id),
            "Deleted “{title}”. Changed your mind? Undo below.",
            "Can't delete",
            (query, tab, starred),
            request,
        )
        ok = "cz-okay" in str(out[2])
        return (*out, piece_id if ok else gr.skip(), gr.Button(visible=ok))

    def undelete(self, piece_id, query="", tab=ALL, starred=False, request: gr.Request | None = None) -> tuple:
        session = self._session(request)
        out = self._change(
            lambda: self.service.undelete(session, piece_id),
            "“{title}” is back",
            "Can't undo",
            (query, tab, starred),
            request,
        )
        return (*out, None, gr.Button(visible=False))

    # -- open in ---------------------------------------------------------------------

    def open_in_compose(self, piece_id, request: gr.Request | None = None) -> tuple:
        """Compose gets the piece's rhythm (the grid), chords, bars, key and tempo; never raises."""
        try:
            inputs = self.service.compose_inputs(self._session(request), piece_id)
        except InputError as err:
            return (*(gr.skip(),) * 6, status.error_markdown(str(err), "Can't open in Compose"))
        except Exception as err:  # noqa: BLE001
            log.exception("open in compose failed")
            return (*(gr.skip(),) * 6, status.crash_markdown("opening in Compose", err))
        tempo = round(inputs.tempo)
        tempo_fits = MIN_TEMPO <= tempo <= MAX_TEMPO
        note = inputs.note
        if not tempo_fits:
            note += f"; its tempo {tempo} BPM is outside Compose's {MIN_TEMPO:g}-{MAX_TEMPO:g}, so the tempo stays"
        if inputs.key not in KEYS:
            note += "; the key stays as it was (the piece names none Compose knows)"
        return (
            gr.Tabs(selected="compose"),
            gr.HTML(value=inputs.rhythm, chords=inputs.chord_labels),
            inputs.chords,
            inputs.num_bars,
            inputs.key if inputs.key in KEYS else gr.skip(),
            tempo if tempo_fits else gr.skip(),
            status.ok_markdown(f"Opened in Compose: {status.md_escape(note)}; press Generate"),
        )

    def open_upload(self, piece_id, target: str, request: gr.Request | None = None) -> tuple:
        """Explore, Song or Style get a copy of the piece's MIDI in their upload box; never raises."""
        count = {"explore": 4, "song": 4, "style": 1, "arrange": 3}[target]
        try:
            path = self.service.midi_copy(self._session(request), piece_id)
        except InputError as err:
            return (*(gr.skip(),) * (count + 1), status.error_markdown(str(err), f"Can't open in {target.title()}"))
        except Exception as err:  # noqa: BLE001
            log.exception("open in %s failed", target)
            return (*(gr.skip(),) * (count + 1), status.crash_markdown(f"opening in {target.title()}", err))
        tabs = gr.Tabs(selected=target)
        if target == "style":
            return tabs, path, status.ok_markdown("Opened in Style: choose a target style and press Transfer")
        if target == "arrange":
            return tabs, SOURCE_UPLOAD, path, None, status.ok_markdown("Opened in Arrange: its chords are suggested")
        return (
            tabs,
            SOURCE_UPLOAD,
            path,
            gr.Dropdown(choices=[], value=None),
            0,
            status.ok_markdown(f"Opened in {target.title()}"),
        )

    def open_in_explore(self, piece_id, request: gr.Request | None = None) -> tuple:
        return self.open_upload(piece_id, "explore", request)

    def open_in_song(self, piece_id, request: gr.Request | None = None) -> tuple:
        """A song opens as itself (its versions, see :meth:`load_in_song`); any other piece as Song's upload."""
        if self._is_song(piece_id, request):
            return gr.Tabs(selected="song"), *(gr.skip(),) * 4, status.ok_markdown("Opened in Song")
        return self.open_upload(piece_id, "song", request)

    def _is_song(self, piece_id: Any, request: gr.Request | None) -> bool:
        try:
            return self.service.get(self._session(request), piece_id).tab == "song"
        except Exception:  # noqa: BLE001 - then it is opened as an upload, which says what is wrong
            return False

    def load_in_song(
        self,
        piece_id,
        kind,
        example,
        file=None,
        track=None,
        start=0,
        bars=None,
        instrument=None,
        last_sheet=None,
        current=None,
        history=None,
        keep_accompaniment=False,
        request: gr.Request | None = None,
        progress: Any = PROGRESS,
    ) -> dict:
        """After "Open in Song": a song comes back with its versions to undo (its next action adds its next
        version); any other piece is loaded from Song's upload box as a new song. Never raises."""
        song = self.targets.song
        assert song is not None  # wired only when the Song tab is there
        if self._is_song(piece_id, request):
            return song.reopen(piece_id, request=request)
        return song.load(
            kind,
            example,
            file,
            track,
            start,
            bars,
            instrument,
            last_sheet,
            current,
            history,
            keep_accompaniment,
            request=request,
            progress=progress,
        )

    def open_in_style(self, piece_id, request: gr.Request | None = None) -> tuple:
        return self.open_upload(piece_id, "style", request)

    def open_in_arrange(self, piece_id, request: gr.Request | None = None) -> tuple:
        return self.open_upload(piece_id, "arrange", request)

    def song_bars(self, piece_id, request: gr.Request | None = None) -> Any:
        """Song's bars slider set to the piece's length (whole 2-bar blocks, within the song's limit)."""
        try:
            piece = self.service.get(self._session(request), piece_id)
        except Exception:  # noqa: BLE001 - the slider then stays as it was
            return gr.skip()
        bars = piece.controls.get("num_bars")
        if not isinstance(bars, int) or bars < 2:
            return gr.skip()
        return min(MAX_SONG_BARS, bars - bars % 2)

    # -- the API ---------------------------------------------------------------------

    def api_list(self, query="", tab=ALL, starred=False, request: gr.Request | None = None) -> tuple:
        try:
            pieces = self.service.pieces(self._session(request), query, tab, starred)
        except InputError as err:
            return status.error_markdown(str(err), "Can't list the library"), None
        return status.ok_markdown(f"{len(pieces)} pieces"), [
            {k: v for k, v in p.summary().items() if k != "owner"} for p in pieces
        ]

    def api_get(self, piece_id, request: gr.Request | None = None) -> tuple:
        try:
            session = self._session(request)
            piece = self.service.get(session, piece_id)
            files = self.service.files(session, piece_id)
        except InputError as err:
            return status.error_markdown(str(err), "Can't get the piece"), None, None
        return status.ok_markdown(status.md_escape(piece.title)), _piece_json(piece), files.downloads

    def api_rename(self, piece_id, title, request: gr.Request | None = None) -> tuple:
        try:
            piece = self.service.rename(self._session(request), piece_id, title)
        except InputError as err:
            return status.error_markdown(str(err), "Can't rename"), None
        return status.ok_markdown(f"Renamed: {status.md_escape(piece.title)}"), _piece_json(piece)

    def api_delete(self, piece_id, request: gr.Request | None = None) -> tuple:
        try:
            piece = self.service.delete(self._session(request), piece_id)
        except InputError as err:
            return status.error_markdown(str(err), "Can't delete"), None
        return status.ok_markdown(f"Deleted: {status.md_escape(piece.title)}"), _piece_json(piece)
