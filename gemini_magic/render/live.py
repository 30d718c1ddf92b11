"""`StreamView`: the live view of an answer while it streams, then its final display.

Feed it the growing `Response` after every chunk; it decides when to draw. Three modes:

- "widget" (a Jupyter kernel): a VBox with a header (model, status, elapsed seconds), a collapsed
  Thoughts section, the answer and a footer. The answer is one `Output` widget per piece (text, an
  image, more text, a player: `render/live_outputs.py`), each made once; a draw sends only the pieces
  that are new or changed (the text being streamed), so an image already on screen is never sent
  again. Pieces are drawn by assigning `Output.outputs` (never `with out:` capture, which routes by
  parent message and swallows exceptions, and never mixed with `append_stdout`, which loses text).
  Audio still arriving is named with its length so far and played once it stops. When the answer is complete
  the widget's display is replaced in place (`update_display`, same display id) by ordinary Markdown
  display data and the widgets are closed: a saved notebook holds the whole answer once, readable
  without widget state.
- "terminal" (terminal IPython, plain Python): only the new characters are printed, then the footer.
- "plain" (`--no-stream`): nothing until `finish`, then the final display.

Drawing is throttled: at most one draw per `update_interval` (never faster than 20 per second), and
the interval grows with what a draw sends so that the bytes sent per second stay bounded (a widget
draw re-sends the piece of text being streamed, and any new piece; Jupyter rate-limits output to about
1 MB/s). `update()` between draws only
notes that something is pending: it reads nothing from the response. `finish()` shows the whole
answer once, in the final display, without a last widget draw of the same text before it.

    view = StreamView("gemini-2.5-flash", show_thoughts=True)
    view.start()
    for chunk in chunks:
        response.add(chunk)
        view.update(response)
    view.finish(response)      # or view.fail(response, "Interrupted") when the stream broke

What the model makes shows in order as it arrives: images as images, speech as a player, a typed
JSON answer formatted as it grows (`render/answer.py`). Calls an automatic calling loop runs are
shown as they happen with `add_call(record)` (a collapsible section each, above the answer); the
final display shows them again from `response.steps`, with everything else in order.
"""

from __future__ import annotations

import html
import sys
import time

from ..escape import answer_markdown, markdown_text
from .answer import Media, live_pieces
from .calls import call_html, call_text
from .final import (NO_TEXT, answer_text, candidate_heading, check_output_format, empty_reason, final_bundles,
                    footer_line)
from .formats import formatted
from .live_outputs import PieceOutputs, display_data
from .typed import pretty_partial_json

MODES = ("widget", "terminal", "plain")
MIN_INTERVAL = 0.05          # never more than 20 draws per second, whatever update_interval says
WIDGET_BYTES_PER_SECOND = 200_000      # text re-sent per second by widget draws (the bundle holds it twice)
TERMINAL_CHARS_PER_SECOND = 5_000_000  # text re-read per second by terminal draws (only new text is printed)

_BOX_CLASS = None


class StreamView:
    """Shows one streamed answer live, then leaves it as ordinary display data.

    `display` replaces `IPython.display.display` (for tests or other frontends): it is called as
    `display(obj, display_id=True)`, returning a handle with `.update(bundle, raw=True)`, and as
    `display(bundle, raw=True)`. `mode=None` picks "widget" in a Jupyter kernel, else "terminal".
    `footer_label` ends the footer line (a chat turn: "trip · turn 3 · 4,812 tokens so far").
    """

    def __init__(self, model: str | None = None, show_thoughts: bool = False, update_interval: float = 0.1,
                 output_format: str = "markdown", mode: str | None = None, display=None,
                 footer_label: str | None = None) -> None:
        check_output_format(output_format)
        mode = mode or detect_mode()
        if mode not in MODES:
            raise ValueError(f"Unknown view mode {mode!r}: use one of {', '.join(MODES)}.")
        self.model = model
        self.show_thoughts = show_thoughts
        self.update_interval = max(float(update_interval), MIN_INTERVAL)
        self.output_format = output_format
        self.footer_label = footer_label
        self.calls: list[dict] = []  # records given to add_call, in order
        self.calls_output = None
        self.mode = mode
        self.render_count = 0     # live draws so far (the final display is not counted)
        self.box = self.header = self.thoughts_output = self.answer = self.footer = None
        self._display = display
        self._handle = None
        self._started_at: float | None = None
        self._next_draw = 0.0
        self._pending = False
        self._finished = False
        self._response = None
        self._shown_thoughts = -1
        self._printed = 0           # terminal: characters of the answer already printed
        self._printed_thoughts = 0
        self._section = None        # terminal: "thoughts" or "answer", what was printed last
        self._last_printed = ""
        self._turn = None           # terminal: the Response being printed (a tool loop streams several)

    # -- the four calls -------------------------------------------------------------------------

    def start(self) -> None:
        """Show the live view (widget mode); terminal and plain modes show nothing yet."""
        if self._started_at is not None:
            return
        self._started_at = time.monotonic()
        if self.mode == "widget":
            self._build_widgets()

    def update(self, response) -> None:
        """Called after every chunk with the growing response; draws at most every interval."""
        self._response = response
        if self._finished or self.mode == "plain":
            return
        if self._started_at is None:
            self.start()
        now = time.monotonic()
        if now < self._next_draw:
            self._pending = True
            return
        self._draw(response, now)

    def finish(self, response, *, failure_reported: bool = False) -> None:
        """Draw what is pending, then leave the final display: answer, footer and warnings.

        `failure_reported=True` when the caller tells the user itself why the answer failed (the
        magic's one UsageError after a stream broke midway, or a typed answer that does not parse):
        the view then keeps the partial answer and its footer ("incomplete", "MAX_TOKENS") but not the
        warning lines that would say the same failure a second time. Without it (plain Python, where
        nothing else shows the failure) the warnings say it.
        """
        self._complete(response, None, failure_reported)

    def fail(self, response, message: str) -> None:
        """The stream failed or was interrupted: keep the partial answer and add `message` as a warning.

        Never raises: a broken view must not hide the error that broke the stream.
        """
        try:
            self._complete(response, message or "The stream failed; the partial answer is shown.")
        except Exception:  # noqa: BLE001 - last resort, see docstring; the text must still reach the user
            try:
                text = response.text if response is not None else ""
                sys.stdout.write(f"{text}\nWarning: {message}\n")
            except Exception:  # noqa: BLE001
                pass

    def add_call(self, record: dict) -> None:
        """Show one function call as it happens: `record` is `{"name", "args", "result" | "error",
        "seconds"}` (what `on_call` receives from the automatic calling loop, api/tools.py). Widget
        mode: a collapsed section above the answer; terminal mode: one line (`→ name(args) = result ·
        0.012 s`); plain mode: nothing until the final display, which shows every call."""
        self.calls.append(dict(record))
        if self._finished or self.mode == "plain":
            return
        if self._started_at is None:
            self.start()
        if self.mode == "widget":
            self.calls_output.value = "".join(call_html(r) for r in self.calls)
        else:
            out = sys.stdout
            lead = "" if self._last_printed in ("", "\n") else "\n"
            out.write(f"{lead}{call_text(record)}\n")
            out.flush()
            self._last_printed = "\n"

    def discard(self) -> None:
        """Nothing arrived (the request failed): remove the live view, leave no answer or footer."""
        if self._finished:
            return
        self._finished = True
        if self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)
        if self.box is not None:
            self._close_widgets()

    # -- drawing --------------------------------------------------------------------------------

    def _draw(self, response, now: float) -> None:
        if self.mode == "widget":
            size = self._draw_widgets(response, now)
            rate = WIDGET_BYTES_PER_SECOND
        else:
            size = self._draw_terminal(response)
            rate = TERMINAL_CHARS_PER_SECOND
        self.render_count += 1
        self._pending = False
        self._next_draw = now + max(self.update_interval, size / rate)

    def _complete(self, response, message: str | None, failure_reported: bool = False) -> None:
        if self._finished:
            return
        self._finished = True
        response = response if response is not None else self._response
        elapsed = time.monotonic() - self._started_at if self._started_at is not None else None
        bundles = final_bundles(response, show_thoughts=self.show_thoughts, output_format=self.output_format,
                                message=message, elapsed=elapsed, footer_label=self.footer_label,
                                failure_reported=failure_reported)
        if self.mode == "terminal":
            self._draw_terminal(response)
            self._print_tail(response, bundles[-1])
            return
        first, rest = bundles[0], bundles[1:]
        if self.mode == "widget" and self.box is not None:
            # No last widget draw: the final display holds the whole answer and is its only full send;
            # its first output replaces the live view in place, media and the rest follow in order.
            if self._handle is not None:
                self._handle.update(first, raw=True)
            else:
                self._show(first)
            self._close_widgets()
        else:
            self._show(first)
        for bundle in rest:
            self._show(bundle)

    def _show(self, bundle: dict) -> None:
        display = self._display or default_display()
        display(bundle, raw=True)

    # -- widget mode ----------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        import ipywidgets

        self.header = ipywidgets.HTML(self._header_html("starting…", 0.0))
        self.answer = PieceOutputs()
        self.footer = ipywidgets.HTML("")
        self.calls_output = ipywidgets.HTML("")
        children = [self.header]
        if self.show_thoughts:
            self.thoughts_output = ipywidgets.Output()
            thoughts = ipywidgets.Accordion(children=[self.thoughts_output], selected_index=None)
            thoughts.set_title(0, "Thoughts")
            children.append(thoughts)
        children += [self.calls_output, self.answer.box, self.footer]
        self.box = _box_class()(children=children)
        self.box.placeholder = f"Streaming answer from {self.model or 'Gemini'}…"
        display = self._display or default_display()
        self._handle = display(self.box, display_id=True)

    def _draw_widgets(self, response, now: float) -> int:
        """Draw the answer so far; returns the characters sent (only pieces that are new or changed)."""
        candidate = response.candidate
        size = 0
        if candidate is not None and (_has_media_or_calls(candidate) or _typed_json(response)):
            pieces = live_pieces(response, candidate, output_format=self.output_format)
            growing = candidate.finish_reason is None
            datas = [self._piece_data(piece, growing and index == len(pieces) - 1)
                     for index, piece in enumerate(pieces)]
            text = "x" if datas else ""
            size += self.answer.show(datas)
        else:
            text = answer_text(candidate) if candidate is not None else ""
            if text:
                shown = formatted(answer_markdown(text) if self.output_format == "markdown" else text,
                                  self.output_format, markdown=True)
                size += self.answer.show([self._text_data(shown, text)])
        if self.thoughts_output is not None and candidate is not None:
            thoughts = candidate.thoughts
            if len(thoughts) != self._shown_thoughts:
                self._shown_thoughts = len(thoughts)
                data = {"text/markdown": answer_markdown(thoughts), "text/plain": thoughts}
                self.thoughts_output.outputs = (display_data(data),)
                size += 2 * len(thoughts)
        status = "streaming…" if text else "running tools…" if self.calls else "thinking…" if response.usage_metadata.get("thoughtsTokenCount") else "waiting…"
        self.header.value = self._header_html(status, now - self._started_at)
        running = footer_line(response, streaming=True, label=self.footer_label)
        self.footer.value = f'<div style="font-size:smaller;opacity:0.7">{html.escape(running)}</div>'
        return size

    def _piece_data(self, piece, growing: bool) -> dict:
        """A piece's display data. Audio still arriving (the last piece of an unfinished answer) is named
        with its length so far instead of played: a player re-sent at each redraw would re-send all the
        audio every time (and restart under the listener); it is sent once, when it stops growing."""
        if not isinstance(piece, Media):
            return self._text_data(piece.markdown, piece.plain)
        if growing and piece.ours and piece.bundle.get("text/plain", "").startswith("<audio"):
            label = piece.bundle["text/plain"].strip("<>") + " so far, still arriving"
            return self._text_data(f"*{markdown_text(f'[{label}]')}*", f"<{label}>")
        return piece.bundle

    def _text_data(self, markdown: str, plain: str) -> dict:
        return {"text/plain": plain} if self.output_format == "text" else {"text/markdown": markdown,
                                                                           "text/plain": plain}

    def _header_html(self, status: str, elapsed: float) -> str:
        model = html.escape(self.model or "Gemini")
        return (f'<div style="font-size:smaller;opacity:0.7"><b>{model}</b> · {html.escape(status)} '
                f"{elapsed:.1f} s</div>")

    def _close_widgets(self) -> None:
        """Close every widget model we made (layouts and styles too), so none lingers in the kernel.

        The Output widgets are emptied first: recorders that ignore comm_close (nbclient keeps every
        model's last state in the notebook metadata) would otherwise store the answer a second time.
        """
        if self.thoughts_output is not None:
            self.thoughts_output.outputs = ()
        if self.calls_output is not None:
            self.calls_output.value = ""
        self.answer.close()
        for widget in (self.box, *self.box.children, self.thoughts_output):
            if widget is not None and widget is not self.answer.box:
                for model in (getattr(widget, "layout", None), getattr(widget, "style", None), widget):
                    if model is not None:
                        model.close()

    # -- terminal mode --------------------------------------------------------------------------

    def _draw_terminal(self, response) -> int:
        if response is not self._turn:
            # The next turn of an automatic calling loop starts its own text (and thoughts) from 0.
            if self._turn is not None:
                self._printed = self._printed_thoughts = 0
            self._turn = response
        candidate = response.candidate
        if candidate is None:
            return 0
        out = sys.stdout
        if self.show_thoughts:
            thoughts = candidate.thoughts
            if len(thoughts) > self._printed_thoughts:
                self._enter("thoughts", out)
                new = thoughts[self._printed_thoughts:]
                out.write(f"\x1b[2m{new}\x1b[0m" if _isatty(out) else new)
                self._printed_thoughts = len(thoughts)
                self._last_printed = new[-1]
        text = pretty_partial_json(candidate.text) if _typed_json(response) else answer_text(candidate, markdown=False)
        if len(text) > self._printed:
            self._enter("answer", out)
            out.write(text[self._printed:])
            self._printed = len(text)
            self._last_printed = text[-1]
        out.flush()
        return len(text)

    def _enter(self, section: str, out) -> None:
        """Label the switch between thoughts and answer (only when thoughts are shown)."""
        if section == self._section:
            return
        if section == "thoughts":
            out.write(("\n\n" if self._section else "") + "[thinking]\n")
        elif self._section == "thoughts":
            out.write("\n\n[answer]\n")
        self._section = section

    def _print_tail(self, response, bundle: dict) -> None:
        """After the streamed text: other candidates, "(no text in the answer)", footer, warnings."""
        out = sys.stdout
        written = []
        candidates = response.candidates
        first = candidates[0] if candidates else None
        if first is None or not answer_text(first).strip():
            written.append(("\n\n" if self._section else "") + f"{NO_TEXT} — {empty_reason(response, first)}")
        for number, candidate in enumerate(candidates[1:], start=2):
            text = answer_text(candidate, markdown=False).strip() or f"{NO_TEXT} — {empty_reason(response, candidate)}"
            written.append(f"\n\n[{candidate_heading(number, len(candidates)).lower()}]\n{text}")
        tail = ("\n" + bundle["text/plain"]).rsplit("\n---\n", 1)[-1]
        ends_with_newline = ("".join(written) or self._last_printed).endswith("\n")
        written.append(("\n---\n" if ends_with_newline else "\n\n---\n") + tail + "\n")
        out.write("".join(written))
        out.flush()


def _has_media_or_calls(candidate) -> bool:
    """Whether the answer so far has parts the plain text path would only name (images, audio, calls)."""
    return any("inlineData" in p or "functionCall" in p or "functionResponse" in p for p in candidate.parts)


def _typed_json(response) -> bool:
    answer_type = getattr(response, "answer_type", None)
    return answer_type is not None and bool(getattr(answer_type, "is_json", False))


def detect_mode() -> str:
    """ "widget" in a Jupyter kernel (ZMQInteractiveShell or any shell with a kernel), else "terminal"."""
    ipython = sys.modules.get("IPython")  # not imported: plain Python, so no kernel either
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return "terminal"
    if any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__):
        return "widget"
    return "widget" if getattr(shell, "kernel", None) is not None else "terminal"


def default_display():
    """IPython's `display` when an IPython shell runs; otherwise print the text/plain of a bundle."""
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None:
        from IPython.display import display

        return display
    return _print_display


def _print_display(obj, raw: bool = False, display_id=None, **kwargs):
    text = obj.get("text/plain", "") if raw and isinstance(obj, dict) else str(obj)
    print(text)
    return None


def _box_class():
    """A VBox whose text/plain says what it is, for frontends without a widget manager."""
    global _BOX_CLASS
    if _BOX_CLASS is None:
        import ipywidgets

        class StreamBox(ipywidgets.VBox):
            placeholder = "Streaming answer…"

            def _repr_mimebundle_(self, **kwargs):
                bundle = super()._repr_mimebundle_(**kwargs)
                if bundle:
                    bundle["text/plain"] = self.placeholder
                return bundle

        _BOX_CLASS = StreamBox
    return _BOX_CLASS


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
