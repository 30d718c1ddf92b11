"""What a voice conversation leaves in the saved notebook: ordinary display data, no widget state.

`conversation_bundle(session)` gives `{"text/html", "text/plain"}`: for each turn, what the user said
(the input transcription, or the text sent), what the model said (its transcript), the tool calls, and
the model's speech as an `<audio controls>` player holding the turn's WAV (base64). Every string from
the service goes through gemini_magic/escape.py.
"""

from __future__ import annotations

import base64
import json

from ..escape import html_text


def turn_lines(turn) -> list[tuple[str, str]]:
    """(who, text) lines of one LiveTurn: "You", "Model", "Tool", "Note"."""
    lines = []
    said = turn.input_transcript or turn.prompt
    if said:
        lines.append(("You", said))
    for record in turn.tool_calls:
        outcome = ("cancelled" if record.get("cancelled") else f"error: {record['error']}" if record.get("error")
                   else f"→ {json.dumps(record.get('result'), ensure_ascii=False, default=str)}")
        lines.append(("Tool", f"{record.get('name')}({json.dumps(record.get('args') or {}, ensure_ascii=False)}) "
                              f"{outcome}"))
    if turn.text:
        lines.append(("Model", turn.text))
    if turn.interrupted:
        lines.append(("Note", "(interrupted)"))
    return lines


def conversation_bundle(session, title: str | None = None) -> dict:
    """The whole conversation of `session` (a LiveSession) as HTML and plain text (see the module docstring)."""
    name = title or f"Live session {session.name or ''} with {session.model}".replace("  ", " ")
    turns = [t for t in session.turns if t.text or t.input_transcript or t.prompt or t.audio_bytes]
    html = [f'<div class="gemini-voice-record"><p><b>{html_text(name)}</b> · {len(turns)} turn(s), ended.</p>']
    plain = [f"{name}: {len(turns)} turn(s), ended."]
    for turn in turns:
        for who, text in turn_lines(turn):
            html.append(f"<p><b>{html_text(who)}:</b> {html_text(text)}</p>")
            plain.append(f"{who}: {text}")
        if turn.audio_bytes:
            data = base64.b64encode(turn.wav()).decode("ascii")
            html.append(f'<audio controls src="data:audio/wav;base64,{data}"></audio>')
            plain.append(f"<audio: {turn.audio_seconds:.1f} s, 24,000 Hz, mono WAV>")
    if not turns:
        html.append("<p>Nothing was said.</p>")
        plain.append("Nothing was said.")
    html.append("</div>")
    return {"text/html": "\n".join(html), "text/plain": "\n".join(plain)}


__all__ = ["conversation_bundle", "turn_lines"]
