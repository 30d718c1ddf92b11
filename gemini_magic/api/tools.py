"""Automatic function calling: the model's calls run in the kernel, their results go back, until an answer.

    def get_rainfall(city: str, month: int) -> float:
        \"\"\"Average rainfall in millimetres for a city and month (1-12).\"\"\"
        return rainfall_df.loc[(city, month), "mm"]

    response = client.generate("gemini-3-flash-preview", "Is Huế wetter than Hà Nội in October?",
                               tools=[get_rainfall], max_calls=10)
    response.text            # the final answer
    response.steps           # [{"kind": "model", ...}, {"kind": "tool", "calls": [{"name", "args", "result", "seconds"}]}, ...]
    response.history_contents  # every Content the exchange added after the user's turn
    response.function_calls  # every call of the exchange; response.usage: the tokens of all its requests

One exchange, as the service expects it (../shared/API_NOTES.md, recordings/function_call/):
- the model turn goes back exactly as received (`Response.to_content()`: its thoughtSignatures and
  call ids unchanged; in parallel calls only the first part carries a signature), but for the empty
  text part a streamed call turn may end with;
- all calls of one model turn run in order and are answered together, in one user turn of
  `functionResponse {name, response, id?}` parts: `{"result": value}`, or `{"error": "<Type>:
  <message>"}` when the function raised (or its arguments did not fit) — a tool's exception never
  ends the exchange;
- values that are not JSON go back as the prompt converters make them (a DataFrame as its header
  and CSV text, an array as text), datetimes as ISO text, dataclasses and pydantic models as objects;
- at most `max_calls` calls run (default 10, as the official SDK): a turn asking for more stops the
  loop with `response.tool_note` saying so, and everything so far is kept.

One loop for both APIs: `run_exchange` (unary) and `ExchangeStream` (streamed) drive a loop object —
`ToolLoop` here for generateContent, `InteractionToolLoop` (api/interaction_tools.py) for the
Interactions API — and `run_calls` runs one turn's calls for both.

`ToolStream` does the same while streaming: it yields the chunks of each model turn as they come and
runs the calls between turns. `on_call(record)` is called after each call with its record (name,
args, id, result or error, seconds), so a view can show each call as it happens.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math
import time
from typing import Any, Callable, Iterator

from ..errors import GeminiError, SettingsError
from ..request.declarations import call_arguments
from ..request.pipeline import PreparedTurn
from ..request.tools import ToolSet, check_mode, tool_config, tool_set
from ..answer.response import Response
from ..units import plural
from .stream import StreamBase

DEFAULT_MAX_CALLS = 10


@dataclasses.dataclass
class Tooling:
    """What `tools=` and its options asked for: the ToolSet, the mode, the call limit, the callback."""

    found: ToolSet
    mode: str = "auto"
    max_calls: int = DEFAULT_MAX_CALLS
    on_call: Callable[[dict], Any] | None = None

    @property
    def runs(self) -> bool:
        """Whether a loop runs the calls: kernel functions were given and the mode lets them run."""
        return bool(self.found.functions) and self.mode in ("auto", "any")


def resolve_tools(tools: Any, tool_config_: dict | None, tool_mode: str | None) -> tuple[ToolSet, dict | None, str]:
    """`tools=`, `tool_config=` and `tool_mode=` as the request's tools, its toolConfig and the mode.
    Raises SettingsError for both a tool_config and a tool_mode other than auto, or a bad mode."""
    found = tool_set(tools)
    mode = check_mode(tool_mode)
    if tool_config_ is not None:
        if tool_mode is not None and mode not in ("auto", "manual"):
            raise SettingsError("Pass tool_mode or tool_config, not both: tool_config is sent as given.")
        return found, tool_config_, mode
    return found, tool_config(mode), mode


def take_loop_options(options: dict) -> tuple[int, Callable | None]:
    """Remove `max_calls` and `on_call` from `options`; checked. Raises SettingsError."""
    max_calls = options.pop("max_calls", None)
    on_call = options.pop("on_call", None)
    if max_calls is None:
        max_calls = DEFAULT_MAX_CALLS
    if isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 0:
        raise SettingsError(f"max_calls must be a whole number of calls, 0 or more; got {max_calls!r}.")
    if on_call is not None and not callable(on_call):
        raise SettingsError(f"on_call must be a function taking a call record; got {type(on_call).__name__}.")
    return max_calls, on_call


def tooling_for(options: dict) -> Tooling | None:
    """The loop's Tooling when `options` (generate/stream keywords) give kernel functions to run, else
    None. Takes `max_calls` and `on_call` out of `options`: they belong to the loop, not the request;
    puts the ToolSet back as `options["tools"]`, so each function is declared once per call.
    Raises SettingsError / SchemaError for tools that cannot be sent."""
    max_calls, on_call = take_loop_options(options)
    tooling = Tooling(tool_set(options.get("tools")), check_mode(options.get("tool_mode")), max_calls, on_call)
    if options.get("tools") is not None:
        options["tools"] = tooling.found  # declared once: `prepare` takes the ToolSet as it is
    return tooling if tooling.runs else None


# --- one call -----------------------------------------------------------------------------------------

def run_call(functions: dict, call: dict) -> dict:
    """Run one functionCall ({name, args, id?}) and return its record: {"name", "args", "id", "result" or
    "error", "seconds"}. A function that raises (or arguments that do not fit it) gives "error":
    "<Type>: <message>"; nothing but KeyboardInterrupt/SystemExit escapes."""
    name, args = call.get("name"), call.get("args") or {}
    record: dict[str, Any] = {"name": name, "args": args, "id": call.get("id")}
    started = time.perf_counter()
    func = functions.get(name)
    try:
        if func is None:
            raise LookupError(f"There is no function named {name!r}; the functions are "
                              f"{', '.join(functions) or 'none'}.")
        value = func(**call_arguments(func, args))
        record["result"] = tool_result(value)
    except Exception as error:  # the model reads the failure and may try again; the cell goes on
        record["error"] = f"{type(error).__name__}: {error}"
    record["seconds"] = time.perf_counter() - started
    return record


def response_part(record: dict) -> dict:
    """The functionResponse part answering a call record (its id echoed when the call had one)."""
    payload = {"error": record["error"]} if "error" in record else {"result": record.get("result")}
    answer: dict[str, Any] = {"name": record["name"], "response": payload}
    if record.get("id"):
        answer["id"] = record["id"]
    return {"functionResponse": answer}


def tool_result(value: Any) -> Any:
    """A function's return value as JSON: JSON values as they are (non-finite floats as text), datetimes
    as ISO text, enums by value, dataclasses and pydantic models as objects, numpy scalars as numbers,
    anything else as the prompt converters make it (a DataFrame as its header and CSV, an array as
    text), and repr() as a last resort."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(key): tool_result(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [tool_result(item) for item in value]
    if isinstance(value, enum.Enum):
        return tool_result(value.value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: tool_result(getattr(value, f.name)) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)  # pydantic v2
    if callable(dump) and not isinstance(value, type):
        try:
            return tool_result(dump(mode="json"))
        except Exception:
            pass
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == () and hasattr(value, "item"):
        return tool_result(value.item())
    return _as_text(value)


def _as_text(value: Any) -> str:
    """What the prompt converters make of `value`, as text (text parts, and text-like inline data)."""
    from ..answer.part_kinds import kind_of
    from ..parts import convert

    try:
        parts = convert(value).parts
    except Exception:
        return repr(value)
    pieces = []
    for part in parts:
        text = kind_of(part).as_text(part)
        if text is None:
            return repr(value)  # media cannot travel inside a JSON result
        pieces.append(text)
    return "\n".join(pieces) if pieces else repr(value)


# --- the exchange -------------------------------------------------------------------------------------

class ToolLoop:
    """The state of one exchange: the first prepared request, the contents added since, the steps, the
    number of calls run. `after(response)` records a model turn and runs its calls (True: ask again)."""

    def __init__(self, turn: PreparedTurn, tooling: Tooling) -> None:
        self.turn = turn
        self.tooling = tooling
        self.added: list[dict] = []
        self.steps: list[dict] = []
        self.calls_run = 0
        self.note: str | None = None

    def request(self) -> PreparedTurn:
        """The next request: the first one's body with the exchange so far after the user's turn."""
        if not self.added:
            return self.turn
        body = {**self.turn.body, "contents": list(self.turn.body["contents"]) + list(self.added)}
        return PreparedTurn(self.turn.model, body, self.turn.notes, self.turn.answer_type)

    def after(self, response: Response) -> bool:
        """Record `response` as a model step; run its calls when the loop should. True when a function
        response turn was added and the model must be asked again."""
        content = response.to_content()
        if response.function_calls:
            # A streamed call turn can end with an empty text part (recordings/function_call/
            # adk_gemini-3-flash-preview_parallel-calls.sse); it carries nothing, and an empty text
            # part is what the service refuses ("empty text parameter"). Parts with a signature stay.
            content["parts"] = [part for part in content["parts"] if part != {"text": ""}]
        self.added.append(content)
        self.steps.append({"kind": "model", "content": content, "response": response, "calls": []})
        calls = response.function_calls
        if not calls or response.incomplete or not self.tooling.runs:
            return False
        records, self.note = run_calls(self.tooling, calls, self.calls_run,
                                       "answer the call yourself (see .pending_calls)")
        if self.note:
            return False
        self.calls_run += len(records)
        answer = {"role": "user", "parts": [response_part(record) for record in records]}
        self.added.append(answer)
        self.steps.append({"kind": "tool", "content": answer, "response": None, "calls": records})
        return True

    def finish(self, response: Response) -> Response:
        """Hand the last response the whole exchange (`steps`, `history_contents`, `tool_note`)."""
        response.set_exchange(self.steps, self.added, self.note)
        return response


def run_exchange(loop: Any, send: Callable[[Any], Any]) -> Any:
    """The unary exchange, for either API: `send(loop.request())` until `loop.after(answer)` asks for
    no more; returns `loop.finish(answer)`. An error propagates with `.steps`, the exchange so far.

    `loop` is a ToolLoop (generateContent) or an InteractionToolLoop (api/interaction_tools.py): both
    give `request()`, `after(answer) -> bool`, `finish(answer)` and `steps`."""
    while True:
        try:
            answer = send(loop.request())
        except GeminiError as error:
            error.steps = list(loop.steps)
            raise
        if not loop.after(answer):
            return loop.finish(answer)


class ExchangeStream(StreamBase):
    """The exchange, streamed, for either API: iterate for what each model turn's stream yields (chunks
    or events) as it comes; the calls run between turns. `.response` is the current turn's answer (the
    last one when done, given the exchange by `loop.finish`); `.steps` grows as the exchange goes. An
    error propagates with the partial answer in `error.response` and the exchange so far in
    `error.steps`. `send(request)` opens one turn's stream (a ResponseStream or InteractionStream)."""

    def __init__(self, loop: Any, send: Callable[[Any], Any]) -> None:
        self._loop = loop
        self._send = send
        self._inner = send(loop.request())
        self._started = False

    @property
    def response(self) -> Any:
        return self._inner.response

    @property
    def steps(self) -> list[dict]:
        return list(self._loop.steps)

    def __iter__(self) -> Iterator:
        if self._started:
            raise GeminiError("A stream can be iterated once; use .response for the whole answer.")
        self._started = True
        loop = self._loop
        while True:
            try:
                yield from self._inner
            except GeminiError as error:
                loop.after(self._inner.response)
                loop.finish(self._inner.response)
                error.steps = list(loop.steps)
                raise
            except KeyboardInterrupt:
                loop.after(self._inner.response)
                loop.finish(self._inner.response)
                raise
            if not loop.after(self._inner.response):
                loop.finish(self._inner.response)
                return
            self._inner = self._send(loop.request())

    def close(self) -> None:
        self._inner.close()


def generate_with_tools(client: Any, model: str, contents: Any, tooling: Tooling, options: dict) -> Response:
    """The unary exchange over generateContent (see the module docstring); returns the last Response."""
    loop = ToolLoop(client.prepare(model, contents, **options), tooling)
    return run_exchange(loop, lambda turn: client.generate(model, request=turn))


class ToolStream(ExchangeStream):
    """The exchange over streamGenerateContent: iterate for the chunks of each model turn as they come.
    `.response` is the current turn's Response (the last one when done, with `.steps` and
    `.history_contents`); `.turn` is the first prepared request."""

    def __init__(self, client: Any, model: str, turn: PreparedTurn, tooling: Tooling) -> None:
        self.turn = turn
        super().__init__(ToolLoop(turn, tooling), lambda request: client.stream(model, request=request))


def run_calls(tooling: Tooling, calls: list[dict], calls_run: int, how: str) -> tuple[list[dict], str | None]:
    """Run one model turn's calls (functionCall dicts {name, args, id?}) in order, each record shown to
    `tooling.on_call`: `(records, None)`; or `([], note)` when they are refused (`calls_refused`)."""
    note = calls_refused(tooling, [call.get("name") for call in calls], calls_run, how)
    if note:
        return [], note
    records = []
    for call in calls:
        record = run_call(tooling.found.functions, call)
        records.append(record)
        if tooling.on_call is not None:
            tooling.on_call(record)
    return records, None


def calls_refused(tooling: Tooling, names: list, calls_run: int, how: str) -> str | None:
    """Why the calls the model proposed (their `names`) are not run, or None to run them: a name that
    is no kernel function given in tools=, or more calls than `max_calls` allows after `calls_run`.
    `how` says what the user can do about an unknown function."""
    unknown = [name for name in names if name not in tooling.found.functions]
    if unknown:
        return (f"The model called {_names(unknown)}, which {'is' if len(unknown) == 1 else 'are'} not a kernel "
                f"function given in tools=; {how}.")
    if calls_run + len(names) > tooling.max_calls:
        return (f"Stopped after {plural(calls_run, 'function call')} (max_calls={tooling.max_calls}): the model "
                f"asked for {len(names)} more ({_names(names)}). Raise max_calls to let it finish.")
    return None


def _names(names: list) -> str:
    return ", ".join(str(name) for name in names)


__all__ = ["DEFAULT_MAX_CALLS", "ExchangeStream", "ToolLoop", "ToolStream", "Tooling", "generate_with_tools",
           "resolve_tools", "response_part", "run_call", "run_calls", "run_exchange", "take_loop_options",
           "tool_result", "tooling_for"]
