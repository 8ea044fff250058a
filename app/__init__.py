"""Cadenza studio: the Gradio browser UI (never imports torch; engine access goes through app.services)."""
