"""Status lines of the magics, shown as display data (never printed), readable as plain text too."""

from __future__ import annotations

from ..escape import markdown_format


def show_markdown(template: str, /, *args, **kwargs) -> None:
    """Display Markdown that also reads well as plain text (terminals, logs, saved notebooks).

    `template` is ours (it may hold Markdown); the values in it come as arguments, `str.format`
    style, and are escaped (`{0:code}` as a code span): a file name or a job state from the service
    is shown as text, never read as HTML or Markdown (`gemini_magic.escape.markdown_format`).
    Without arguments the template is shown as it is.
    """
    from IPython.display import display

    markdown, plain = markdown_format(template, *args, **kwargs) if args or kwargs else (template, template)
    display({"text/markdown": markdown, "text/plain": plain}, raw=True)


def show_markdown_text(markdown: str, plain: str) -> None:
    """Display Markdown already made safe (a table whose cells went through `escape`), with its plain text."""
    from IPython.display import display

    display({"text/markdown": markdown, "text/plain": plain}, raw=True)
