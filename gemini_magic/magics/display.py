"""Status lines of the magics, shown as display data (never printed), readable as plain text too."""

from __future__ import annotations


def show_markdown(text: str) -> None:
    """Display Markdown that also reads well as plain text (terminals, logs, saved notebooks)."""
    from IPython.display import display

    display({"text/markdown": text, "text/plain": text}, raw=True)
