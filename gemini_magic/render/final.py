"""The answer as ordinary display data: Markdown and plain text, with a footer and plain warnings.

Pure functions of a `Response`: the live view uses them while streaming and for its last word, and
`--no-stream` uses them alone. What they produce is what a saved notebook keeps, so it must read
well without a kernel or widget state (nbconvert, GitHub).

    >>> from gemini_magic.answer.response import Response
    >>> r = Response([{"candidates": [{"content": {"parts": [{"text": "Hi"}]}, "finishReason": "STOP"}],
    ...                "modelVersion": "gemini-2.5-flash"}])
    >>> print(final_bundle(r)["text/plain"])
    Hi
    <BLANKLINE>
    ---
    gemini-2.5-flash · STOP
"""

from __future__ import annotations

from ..escape import answer_markdown, markdown_text
from ..answer.part_kinds import DISPLAYABLE_IMAGES, kind_of
from ..units import plural
from .answer import Media, Text, answer_pieces, join_text, typed_error
from .formats import parse_json
from .media import image_bundle

OUTPUT_FORMATS = ("markdown", "text", "code", "json")
NO_TEXT = "(no text in the answer)"

_USAGE_FIELDS = (  # (usageMetadata key, label in the footer)
    ("promptTokenCount", "prompt"),
    ("cachedContentTokenCount", "cached"),
    ("toolUsePromptTokenCount", "tool use"),
    ("candidatesTokenCount", "answer"),
    ("thoughtsTokenCount", "thoughts"),
    ("totalTokenCount", "total"),
)


def final_bundle(response, *, show_thoughts: bool = False, output_format: str = "markdown",
                 message: str | None = None, elapsed: float | None = None, footer_label: str | None = None,
                 inline_media: bool = False, failure_reported: bool = False) -> dict:
    """The finished answer as one display bundle: `{"text/markdown": ..., "text/plain": ...}`.

    The answer (each candidate under a "Candidate 1 of 2" heading, apart from the next by a rule, when
    there are several), the thoughts in a collapsed `<details>` (quoted, so that when expanded they
    stay apart from the answer) when `show_thoughts`, function calls as collapsed sections, citation
    markers and the numbered sources, a typed answer as a table, a footer (model, finish reason,
    tokens, timings, `footer_label`) and one plain warning line per problem (blocked prompt, non-STOP
    finish, stream cut short, `message`; with `failure_reported` the caller says in its own message why
    the answer failed, so the lines that would say it again are left out: see `response_warnings`).
    Images and audio are named in the text (`[image/png, 1.2 MB]`), or with `inline_media` embedded as
    HTML (`<img>`, `<audio>`) with their original bytes.
    `output_format="text"` gives `text/plain` only. `elapsed` is shown when the response carries no
    timing of its own. `final_bundles` gives the same with the media as display data of their own.

        from IPython.display import display
        display(final_bundle(response), raw=True)
    """
    check_output_format(output_format)
    pieces = _pieces(response, show_thoughts, output_format)
    md, plain = [], []
    for piece in pieces:
        if isinstance(piece, Media):
            md.append(_media_html(piece) if inline_media else piece.markdown)
        else:
            md.append(piece.markdown)
        plain.append(piece.plain)
    footer, lines = _tail(response, output_format, message, elapsed, footer_label, failure_reported)
    markdown = "\n\n".join([m for m in md if m] + ["---", markdown_text(footer)]
                           + [f"⚠️ {markdown_text(line)}" for line in lines])
    plain_text = "\n\n".join(p for p in plain if p) + "\n\n---\n" + "\n".join([footer] + [f"Warning: {line}" for line in lines])
    if output_format == "text":
        return {"text/plain": plain_text}
    return {"text/markdown": markdown, "text/plain": plain_text}


def final_bundles(response, *, show_thoughts: bool = False, output_format: str = "markdown",
                  message: str | None = None, elapsed: float | None = None,
                  footer_label: str | None = None, failure_reported: bool = False) -> list[dict]:
    """The finished answer as display bundles in order: text (Markdown and plain), each image as
    `image/png`/`image/jpeg` display data of its original base64, an audio player (`text/html`), the
    search suggestions the service requires showing (`text/html`), more text...; the footer and warnings
    end the last text bundle. Without media it is `[final_bundle(...)]`. Arguments as `final_bundle`.

        for bundle in final_bundles(response):
            display(bundle, raw=True)
    """
    check_output_format(output_format)
    pieces = _pieces(response, show_thoughts, output_format)
    footer, lines = _tail(response, output_format, message, elapsed, footer_label, failure_reported)
    bundles: list[dict] = []
    md: list[str] = []
    plain: list[str] = []

    def flush(tail: bool) -> None:
        if not (md or plain or tail):
            return
        body_md = "\n\n".join(m for m in md if m)
        body_plain = "\n\n".join(p for p in plain if p)
        if tail:
            body_md = "\n\n".join(([body_md] if body_md else []) + ["---", markdown_text(footer)]
                                    + [f"⚠️ {markdown_text(line)}" for line in lines])
            body_plain = (body_plain + "\n\n" if body_plain else "") + "---\n" + "\n".join(
                [footer] + [f"Warning: {line}" for line in lines])
        bundles.append({"text/plain": body_plain} if output_format == "text"
                       else {"text/markdown": body_md, "text/plain": body_plain})
        md.clear()
        plain.clear()

    for piece in pieces:
        if isinstance(piece, Media):
            flush(False)
            bundles.append(dict(piece.bundle))
        else:
            md.append(piece.markdown)
            plain.append(piece.plain)
    flush(True)
    return bundles


def _pieces(response, show_thoughts: bool, output_format: str) -> list:
    """Headings, thoughts, answers (or why there is none) and per-candidate warnings, in order."""
    candidates = response.candidates
    count = len(candidates)
    pieces: list = []
    for number, candidate in enumerate(candidates or [None], start=1):
        if count > 1:
            # A rule and a heading of its own: the answers carry their own headings, and a bare
            # "### Candidate" would read as one of them.
            heading = candidate_heading(number, count, candidate)
            pieces.append(Text(("---\n\n" if number > 1 else "") + f"## {markdown_text(heading)}",
                               f"=== {heading} ==="))
        thoughts = candidate.thoughts if candidate is not None and show_thoughts else ""
        if thoughts:
            pieces.append(Text(thoughts_markdown(thoughts), f"[thoughts]\n{thoughts.strip()}\n[/thoughts]"))
        answer = answer_pieces(response, candidate, output_format=output_format, first=number == 1)
        if any(isinstance(p, Media) for p in answer) or join_text(answer, markdown=False).strip():
            pieces += answer
        else:
            pieces += [p for p in answer if p.plain.strip()]
            empty = f"{NO_TEXT} — {empty_reason(response, candidate)}"
            pieces.append(Text(f"*{markdown_text(empty)}*", empty))
        if count > 1:
            for line in candidate_warnings(candidate, output_format, prefix=""):
                pieces.append(Text(f"⚠️ {markdown_text(line)}", f"Warning: {line}"))
    return pieces


def _tail(response, output_format, message, elapsed, footer_label, failure_reported) -> tuple[str, list[str]]:
    return (footer_line(response, elapsed=elapsed, label=footer_label),
            response_warnings(response, output_format, message=message, failure_reported=failure_reported))


def _media_html(piece) -> str:
    """A media piece as HTML inside Markdown (the explorer's one bundle): an image as a thumbnail of at
    most 256 px (its own bytes when small), our audio player; the service's own HTML is only named."""
    from .part_kinds import thumbnail

    bundle = piece.bundle
    if "text/html" in bundle:
        return bundle["text/html"].replace("\n", " ") if piece.ours else piece.markdown
    for mime in DISPLAYABLE_IMAGES:
        if mime in bundle:
            return thumbnail(mime, bundle[mime])
    return piece.markdown


def check_output_format(output_format: str) -> None:
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"Unknown output format {output_format!r}: use one of {', '.join(OUTPUT_FORMATS)}.")


def answer_text(candidate, *, markdown: bool = True) -> str:
    """The candidate's answer: its text parts joined, other parts (code, calls, media) as short blocks.

    Each non-text part reads as its kind's `markdown` (or plain `text` when `markdown=False`), from
    the table in `gemini_magic.answer.part_kinds`. Append-only while a stream grows (parts only arrive at the
    end, the last text part only grows), so a terminal can print just the new characters. Thoughts
    are left out.
    """
    pieces: list[str] = []
    after_block = False
    for part in candidate.parts:
        kind = kind_of(part)
        if kind.name == "text":  # text (never a thought) flows on; every other kind is a block of its own
            if part["text"]:
                pieces.append(("\n\n" if after_block else "") + part["text"])
                after_block = False
            continue
        if not kind.shown(part):
            continue
        block = kind.markdown(part) if markdown else kind.text(part)
        if pieces and not after_block:
            block = ("" if pieces[-1].endswith("\n\n") else "\n" if pieces[-1].endswith("\n") else "\n\n") + block
        elif after_block:
            block = "\n\n" + block
        pieces.append(block)
        after_block = True
    return "".join(pieces)


def candidate_heading(number: int, count: int, candidate=None) -> str:
    """`Candidate 2 of 3` (numbered from 1, as people count), with its finish reason when not STOP."""
    reason = getattr(candidate, "finish_reason", None)
    return f"Candidate {number} of {count}" + (f" ({reason})" if reason not in (None, "STOP") else "")


def thoughts_markdown(thoughts: str) -> str:
    """Thoughts in a collapsed `<details>`, as a block quote: expanded, they stay apart from the answer.
    The thoughts' own HTML is neutralised like the answer's (`escape.answer_markdown`)."""
    quoted = "\n".join(f"> {line}" if line.strip() else ">"
                       for line in answer_markdown(thoughts.strip()).splitlines())
    return f"<details><summary>Thoughts</summary>\n\n{quoted}\n\n</details>"


def footer_line(response, *, elapsed: float | None = None, first_chunk: float | None = None,
                streaming: bool = False, label: str | None = None) -> str:
    """`model-version · finish reason · tokens: prompt P / cached C / answer A / ... · first token 0.42 s ·
    total 3.1 s · ≈ $0.0028 (prices of 2026-10-07)` (the estimate of `Response.cost`, left out for a model
    without a price), then `label` when given (a chat turn: "trip · turn 3 · 4,812 tokens so far"). After a
    tool exchange the tokens are its total over every request: `tokens (3 requests): ...`.

    `streaming`: the answer is still arriving, so a missing finish reason is not "incomplete".
    """
    items = []
    model = response.model_version or response.model
    if model:
        items.append(str(model))
    reasons = [c.finish_reason for c in response.candidates if c.finish_reason]
    if response.block_reason:
        items.append(f"blocked: {response.block_reason}")
    elif response.interrupted:
        items.append("interrupted")
    elif reasons:
        items.append(", ".join(dict.fromkeys(reasons)) + (" (incomplete)" if response.incomplete else ""))
    elif not streaming:
        items.append("incomplete")
    usage = response.usage_metadata
    counts = [f"{label} {usage[key]:,}" for key, label in _USAGE_FIELDS if isinstance(usage.get(key), int)]
    if counts:
        requests = getattr(response, "request_count", 1)
        over = f" ({requests} requests)" if isinstance(requests, int) and requests > 1 else ""
        items.append(f"tokens{over}: " + " / ".join(counts))
    first_chunk = response.time_to_first_chunk if response.time_to_first_chunk is not None else first_chunk
    elapsed = response.elapsed if response.elapsed is not None else elapsed
    if first_chunk is not None and response.streamed:
        items.append(f"first token {first_chunk:.2f} s")
    if elapsed is not None:
        items.append(f"total {elapsed:.1f} s")
    cost = getattr(response, "cost", None)
    if cost is not None:  # a model without a price shows its tokens only
        items.append(cost.footer())
    if label:
        items.append(str(label))
    return " · ".join(items)


def response_warnings(response, output_format: str = "markdown", *, message: str | None = None,
                      failure_reported: bool = False) -> list[str]:
    """Plain sentences for every problem with the answer as a whole (no ⚠️/Warning: prefix).

    `failure_reported=True`: the caller tells the user why the answer failed in its own one message (the
    magic's UsageError), so the lines that would say it twice are left out: the stream's error, the
    answer not fitting its type, and the token limit that cut a typed answer short (the type's error
    says so). Other problems (a blocked prompt, a safety stop) stay."""
    lines = []
    if response.block_reason:
        lines.append(_blocked_line(response))
    typed = typed_error(response) if output_format in ("markdown", "json") else None
    candidates = response.candidates
    if len(candidates) == 1:
        told = failure_reported and typed and candidates[0].finish_reason == "MAX_TOKENS"
        lines.extend([] if told else candidate_warnings(candidates[0], output_format, usage=response.usage_metadata))
    if typed and not failure_reported:
        lines.append(f"The answer does not fit the type asked for: {typed}")
    if failure_reported:
        pass  # the caller's message says what failed; the footer says incomplete or the finish reason
    elif message:
        lines.append(str(message))
    elif response.interrupted:
        pass  # the footer says "interrupted"; the magic's one-line message says the rest
    elif response.error is not None:
        kept = ("the partial answer is shown and kept in the result" if _has_answer(response)
                else "no answer arrived before it")
        lines.append(f"The stream failed ({type(response.error).__name__}: {_first_line(response.error)}); {kept}.")
    elif response.incomplete and not response.block_reason:
        lines.append("The stream ended before the model finished; the partial answer is shown.")
    return lines


def candidate_warnings(candidate, output_format: str = "markdown", *, usage: dict | None = None,
                       prefix: str = "") -> list[str]:
    """Warnings about how one candidate ended (its finish reason), plus invalid JSON when asked for JSON."""
    reason = candidate.finish_reason
    detail = f" ({candidate.finish_message})" if candidate.finish_message else ""
    lines = []
    if reason == "SAFETY":
        flagged = _flagged(candidate.safety_ratings)
        lines.append(f"The answer was stopped by the safety filters{' (' + flagged + ')' if flagged else ''}"
                     f"{detail}: rephrase the prompt or adjust the safety settings.")
    elif reason == "RECITATION":
        lines.append(f"The answer was stopped because it recited existing material (finish reason RECITATION)"
                     f"{detail}: rephrase the prompt or ask for an answer in your own terms.")
    elif reason == "MAX_TOKENS":
        thinking = (usage or {}).get("thoughtsTokenCount")
        spent = f"; thinking used {plural(thinking, 'token')} of it" if isinstance(thinking, int) and thinking else ""
        lines.append(f"The answer reached the output token limit (finish reason MAX_TOKENS){spent}{detail}: "
                     "raise --max-tokens.")
    elif reason == "MALFORMED_FUNCTION_CALL":
        lines.append(f"The model produced a malformed function call (finish reason MALFORMED_FUNCTION_CALL)"
                     f"{detail}: check the tool declarations and try again.")
    elif reason not in (None, "STOP"):
        lines.append(f"The answer ended early (finish reason {reason}){detail}.")
    if output_format == "json" and reason == "STOP":
        text = answer_text(candidate, markdown=False)
        if text.strip() and parse_json(text) is None:
            lines.append("The answer is not valid JSON.")
    return [prefix + line for line in lines]


def empty_reason(response, candidate) -> str:
    """Why an answer has no text, in a few words."""
    if response.block_reason:
        return f"the prompt was blocked ({response.block_reason})"
    if candidate is None:
        return "the stream ended before any answer arrived" if response.incomplete else "no candidates came back"
    if candidate.finish_reason not in (None, "STOP"):
        return f"finish reason {candidate.finish_reason}"
    if response.incomplete:
        return "the stream ended before any text arrived"
    if candidate.thoughts:
        return "the model returned only thoughts"
    return "the model returned no text (finish reason STOP)"


def _blocked_line(response) -> str:
    reason = response.block_reason
    feedback = response.prompt_feedback or {}
    detail = f": {feedback['blockReasonMessage']}" if feedback.get("blockReasonMessage") else ""
    flagged = _flagged(feedback.get("safetyRatings") or ())
    flagged = f" ({flagged})" if flagged else ""
    advice = "rephrase the prompt or adjust the safety settings" if reason == "SAFETY" else "rephrase the prompt"
    return f"The prompt was blocked ({reason}{detail}){flagged}, so no answer was generated: {advice}."


def _flagged(ratings) -> str:
    """The categories a safety rating blocked or rated MEDIUM/HIGH, e.g. "harassment: HIGH"."""
    names = []
    for rating in ratings:
        if rating.get("blocked") or rating.get("probability") in ("MEDIUM", "HIGH"):
            category = str(rating.get("category", "")).removeprefix("HARM_CATEGORY_").lower().replace("_", " ")
            names.append(f"{category}: {rating.get('probability', 'blocked')}")
    return ", ".join(names)


def _has_answer(response) -> bool:
    return any(candidate.parts for candidate in response.candidates)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else "no message"


def image_bundles(response) -> list[dict]:
    """One display bundle per displayable image of the answer (its base64 reused as is), in order
    (thought images left out). `final_bundles` places them among the text instead."""
    bundles = []
    for candidate in response.candidates:
        for part in candidate.parts:
            if not part.get("thought"):
                bundle = image_bundle(part)
                if bundle is not None:
                    bundles.append(bundle)
    return bundles
