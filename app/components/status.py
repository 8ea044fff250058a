"""Status lines every tab shows above its results: success, bad input (what to fix), failure (see the log)."""

from __future__ import annotations

from app.services.common import brief


def md_escape(text: str) -> str:
    """Text safe inside the status HTML."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def error_markdown(message: str, what: str) -> str:
    """Bad input: ``what`` could not be done, and the message naming what to fix (long quoted values cut short)."""
    return f"<div class='cz-status cz-error'>⚠️ <b>{md_escape(what)}:</b> {md_escape(brief(message))}</div>"


def crash_markdown(action: str, err: BaseException) -> str:
    """An unexpected failure while ``action`` (the details go to the server log, not the page)."""
    return (
        f"<div class='cz-status cz-error'>❌ <b>Something went wrong while {md_escape(action)}</b> "
        f"({type(err).__name__}). The details are in the server log; "
        "try other settings or press the button again.</div>"
    )


def ok_markdown(text: str) -> str:
    """Success; ``text`` is HTML (escape user text with :func:`md_escape`)."""
    return f"<div class='cz-status cz-okay'>✅ {text}</div>"


def kept_note(kept: list) -> str:
    """What became of the results in the user's library, for the end of a status line (HTML): " · kept in your
    Library" when every result was kept, the reason when one was not, "" when the studio keeps nothing."""
    notes = [k.note for k in kept if getattr(k, "note", "")]
    if not notes:
        return ""
    missed = [k.note for k in kept if k.note and k.piece_id is None]
    if missed:
        return f" · <b>{md_escape(missed[0])}</b>"
    return " · 📚 kept in your Library" if len(notes) == 1 else f" · 📚 all {len(notes)} kept in your Library"
