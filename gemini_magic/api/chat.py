"""`Chat`: a conversation whose history you can trust, over generateContent or the Interactions API.

    from gemini_magic import Client
    from gemini_magic.api.chat import Chat
    chat = Chat(Client(), "gemini-3-flash-preview", system="Be brief.")
    chat.send(["I have two dogs and a cat. Plan a weekend in Đà Lạt with them.", photo])
    for chunk in chat.stream("Which of those places allow cats?"):
        print(chunk.text, end="")
    chat.history        # the Content list the next request carries
    chat.turns[-1]      # Turn(user, reply, response, cell_id, ...)
    chat.undo(); chat.save("trip.json"); Chat.load("trip.json", client)

Rules that keep the history intact:
- A turn enters history only when its answer completed: not blocked, not cut short, not failed, not
  interrupted, and for tools not stopped before an answer (max_calls, a function not given: history
  never ends on a call no result answers). Otherwise the history is exactly as before and an error
  says so, with the partial answer in `error.response` (an interrupted stream re-raises
  KeyboardInterrupt, history untouched).
- The user's objects are converted to parts once, when the turn is sent; history keeps those parts,
  so an image of turn 1 is not encoded again on turns 2...k. The model's parts come back into
  history exactly as received (`Response.to_content()`: thoughtSignatures, function calls, inline data).
- `send(..., cell_id=ID)`: when a turn with that cell id exists at index k, the new turn replaces it
  and the turns after it are dropped (`last_replaced == (k, dropped)`); without a cell id, it appends.
- `interactions=True`: each turn sends only its new input with `previous_interaction_id` (the server
  keeps the state; re-running turn k branches from turn k-1's interaction). With `store=False` the
  service keeps nothing: the chat keeps every step and sends them all each turn (seeds/003).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

from ..escape import markdown_text
from ..errors import GeminiError
from ..answer.interaction import Interaction
from .interaction_tools import interaction_exchange, interaction_tool_options
from .interactions import build_interaction_request, response_format_step, parts_to_input, send_interaction
from .turns import SAVE_FORMAT, Turn, describe_parts, turn_from_json, turn_to_json, why_not_complete
from .stream import StreamBase
from .user_turn import user_parts


@dataclass
class _Pending:
    """A turn prepared and sent, not committed yet."""

    user: dict
    base: int
    model: str
    cell_id: str | None
    notes: list
    input_steps: list = field(default_factory=list)
    contents: list | None = None
    body: dict | None = None
    tooling: Any = None  # api/tools.Tooling: kernel functions the Interactions API's calls run


class Chat:
    """A conversation with one model. Arguments: `client`, `model`, `system` (the system instruction),
    `interactions` (use the Interactions API), `store` (with interactions: let the service keep the
    state), `name` (how messages name it), and default settings for every turn (`temperature=0.2`,
    `tools=[...]`; with interactions, `generation_config={...}` and snake_case fields such as
    `thinking_level="low"`)."""

    def __init__(self, client: Any, model: str, system: Any = None, interactions: bool = False, store: bool = True,
                 *, name: str | None = None, **settings: Any) -> None:
        self.client = client
        self.model = model
        self.system = system
        self.interactions = bool(interactions)
        self.store = bool(store)
        self.name = name
        self.settings = settings
        self.turns: list[Turn] = []
        #: (k, dropped) when the last turn sent replaced turn k and dropped the turns after it, else None.
        self.last_replaced: tuple[int, int] | None = None

    # --- sending --------------------------------------------------------------------------------------

    def send(self, prompt: Any, *, cell_id: str | None = None, model: str | None = None,
             upload_progress: Any = None, **settings: Any):
        """Send one turn and add it to the history when it completed; returns the Response (or the
        Interaction with `interactions=True`). `settings` apply to this turn only; `upload_progress`
        reports uploads of objects too large to send inline (see gemini_magic.parts.convert_all).

        Raises what `Client.generate` / `interact` raise (the history unchanged), PromptBlockedError
        when the prompt or answer was blocked, APIConnectionError when the answer was cut short,
        GeminiError for an answer that cannot continue the conversation; each with `.response`."""
        self.last_replaced = None
        pending = self._prepare(prompt, cell_id, model, settings, stream=False, upload_progress=upload_progress)
        if self.interactions and pending.tooling is not None:
            result = interaction_exchange(self.client, pending.body, pending.tooling)
        elif self.interactions:
            result = send_interaction(self.client, pending.body)
        else:
            result = self.client.generate(pending.model, pending.contents, **pending.body)
        self._commit(pending, result)
        return result

    def stream(self, prompt: Any, *, cell_id: str | None = None, model: str | None = None,
               upload_progress: Any = None, **settings: Any) -> "ChatStream":
        """Like `send`, streamed: iterate for what `Client.stream` yields (per-chunk Responses; with
        interactions, InteractionEvents). The turn is added when the stream ended complete."""
        self.last_replaced = None
        pending = self._prepare(prompt, cell_id, model, settings, stream=True, upload_progress=upload_progress)
        if self.interactions and pending.tooling is not None:
            inner = interaction_exchange(self.client, pending.body, pending.tooling)
        elif self.interactions:
            inner = send_interaction(self.client, pending.body)
        else:
            inner = self.client.stream(pending.model, pending.contents, **pending.body)
        return ChatStream(self, pending, inner)

    def build_request(self, prompt: Any, *, cell_id: str | None = None, model: str | None = None,
                      dry_run: bool = False, **settings: Any) -> dict:
        """The request body `send` would send for this prompt (nothing is sent, history unchanged;
        with `dry_run`, nothing is uploaded either: placeholders stand for what would be)."""
        pending = self._prepare(prompt, cell_id, model, settings, stream=False, dry_run=dry_run)
        if self.interactions:
            return pending.body
        options = {key: value for key, value in pending.body.items() if key not in ("max_calls", "on_call")}
        return self.client.prepare(pending.model, pending.contents, dry_run=dry_run, **options).body

    def _prepare(self, prompt: Any, cell_id: str | None, model: str | None, settings: dict, *,
                 stream: bool, upload_progress: Any = None, dry_run: bool = False) -> _Pending:
        conversion = user_parts(prompt, client=self.client, upload_progress=upload_progress, dry_run=dry_run)
        user = {"role": "user", "parts": conversion.parts}
        base = self._index_of(cell_id)
        turns = self.turns[:base]
        pending = _Pending(user, base, model or self.model, cell_id, list(conversion.notes))
        options = {**self.settings, **settings}
        if not self.interactions:
            # Shallow copies: whatever the client does to the request's Content dicts stays out of history.
            pending.contents = [dict(c) for turn in turns for c in turn.contents] + [dict(user)]
            if self.system is not None and options.get("system") is None:
                options["system"] = self.system  # a turn's own system= wins for that turn
            pending.body = options
            return pending
        pending.input_steps = parts_to_input(user["parts"])
        previous = turns[-1].interaction_id if turns else None
        if self.store and (previous or not turns):
            sent = pending.input_steps
        else:  # stateless, or a stored chat whose last turn has no id: the whole history, step by step
            sent = [step for turn in turns for step in (*turn.input_steps, *turn.steps)] + pending.input_steps
            previous = None
        tools, pending.tooling = interaction_tool_options(options)
        system = options.pop("system", None), options.pop("system_instruction", None)
        system = system[0] or system[1] or self.system  # a turn's own system instruction wins for that turn
        schema = options.pop("schema", None)
        config = dict(options.pop("generation_config", None) or {})
        config.update((key, value) for key, value in options.items() if value is not None)
        pending.body = build_interaction_request(
            pending.model, sent, previous_interaction_id=previous, store=self.store, stream=stream,
            system_instruction=system, generation_config=config, tools=tools)
        if schema is not None:  # the Interactions API's response_format: {type, mime_type, schema}
            pending.body["response_format"] = response_format_step(schema)
        return pending

    def _index_of(self, cell_id: str | None) -> int:
        if cell_id is not None:
            for index, turn in enumerate(self.turns):
                if turn.cell_id == cell_id:
                    return index
        return len(self.turns)

    def _commit(self, pending: _Pending, result: Any) -> Turn:
        problem = why_not_complete(result)
        if problem is not None:
            kind, what = problem
            error = kind(f"{what}; the turn was not added to {self.label}. Run the cell again.")
            error.response = result
            raise error
        kept = self.turns[:pending.base]
        user = pending.user
        sent = None if isinstance(result, Interaction) else getattr(result, "request", None)
        contents = sent.get("contents") if isinstance(sent, dict) else None
        before = sum(len(turn.contents) for turn in kept)
        if isinstance(contents, list) and len(contents) > before:
            # Parts the client uploaded to fit the inline limit stay uploaded: later turns send the
            # fileData instead of uploading the same bytes again. (With tools, the last request also
            # carries the exchange after the user's turn.)
            adopted, start = [], 0
            for turn in kept:
                adopted.append(_adopt(turn, contents[start:start + len(turn.contents)]))
                start += len(turn.contents)
            kept = adopted
            if contents[before].get("parts") != user["parts"]:
                user = {"role": "user", "parts": list(contents[before]["parts"])}
        if isinstance(result, Interaction):
            reply, exchange = result.to_content(), []
            steps = getattr(result, "exchange_steps", None) or result.output_steps
        else:  # with tools: model call turns and function responses before the answer
            *exchange, reply = result.history_contents
            steps = []
        turn = Turn(user, reply, result, pending.cell_id, pending.model,
                    getattr(result, "id", None) if isinstance(result, Interaction) else None,
                    pending.input_steps, steps, pending.notes, exchange)
        if pending.base < len(self.turns):
            self.last_replaced = (pending.base, len(self.turns) - pending.base - 1)
        self.turns = kept + [turn]
        return turn

    # --- reading and editing --------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return self.name or "the conversation"

    @property
    def history(self) -> list[dict]:
        """The Content dicts (user, model, user, ...) the next request carries, as sent and received.
        (With interactions they show the same turns; the wire carries steps, see `Turn.steps`.)"""
        return [content for turn in self.turns for content in turn.contents]

    @property
    def usage(self) -> dict:
        """Token counts summed over the turns, per field of the answers' usage."""
        totals: dict[str, int] = {}
        for turn in self.turns:
            for key, value in turn.usage.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    totals[key] = totals.get(key, 0) + value
        return totals

    @property
    def total_tokens(self) -> int:
        return sum(turn.tokens for turn in self.turns)

    @property
    def cost(self):
        """The running total of the turns' estimated costs (a `pricing.Cost`, each turn at its model's
        prices and the client's `prices` overrides); None when no turn's model has a price."""
        from ..pricing import estimate, total

        prices = getattr(self.client, "prices", None)
        return total(estimate(turn.response.usage_metadata if isinstance(turn.response, Interaction) else turn.usage,
                              turn.model or self.model, prices=prices) for turn in self.turns)

    def __len__(self) -> int:
        return len(self.turns)

    def undo(self) -> Turn:
        """Remove the last exchange and return it. Raises GeminiError when there is none."""
        if not self.turns:
            raise GeminiError(f"There is no turn in {self.label} to undo.")
        removed = self.turns[-1]
        self.turns = self.turns[:-1]
        self.last_replaced = None
        return removed

    def reset(self) -> None:
        """Forget every turn (model, system instruction and settings stay)."""
        self.turns = []
        self.last_replaced = None

    def fork(self, name: str | None = None) -> "Chat":
        """A new Chat with the same settings and turns, to continue along another branch."""
        other = Chat(self.client, self.model, self.system, self.interactions, self.store, name=name or self.name,
                     **self.settings)
        other.turns = [replace(turn) for turn in self.turns]
        return other

    # --- saving ---------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the conversation as JSON (inline data kept, so it can be continued after a restart).

        Raises GeminiError when a setting (a Python function as a tool, say) cannot be written as JSON."""
        data = {"format": SAVE_FORMAT, "version": 1, "model": self.model, "system": self.system,
                "interactions": self.interactions, "store": self.store, "name": self.name,
                "settings": self.settings, "turns": [turn_to_json(turn) for turn in self.turns]}
        try:
            text = json.dumps(data, ensure_ascii=False)
        except (TypeError, ValueError) as error:
            raise GeminiError(f"The conversation cannot be saved as JSON ({error}); pass such settings "
                              "to each send() instead of to the Chat.") from None
        path = os.fspath(path)
        temporary = f"{path}.partial"
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)  # a failed save never leaves half a file in place of the old one

    @classmethod
    def load(cls, path: str | os.PathLike, client: Any) -> "Chat":
        """A Chat saved by `save`, talking through `client`. Raises GeminiError for another kind of file."""
        with open(os.fspath(path), encoding="utf-8") as file:
            try:
                data = json.load(file)
            except ValueError as error:
                raise GeminiError(f"{os.fspath(path)} is not a saved conversation (not JSON: {error}).") from None
        if not isinstance(data, dict) or data.get("format") != SAVE_FORMAT:
            raise GeminiError(f"{os.fspath(path)} is not a conversation saved by Chat.save.")
        chat = cls(client, data["model"], data.get("system"), data.get("interactions", False),
                   data.get("store", True), name=data.get("name"), **(data.get("settings") or {}))
        chat.turns = [turn_from_json(item) for item in data.get("turns", ())]
        return chat

    # --- display --------------------------------------------------------------------------------------

    def transcript(self, *, markdown: bool = True) -> str:
        """The conversation as Markdown (`markdown=False`: as plain text): one section per turn, tokens per
        turn and in total. What the turns hold is shown as text (`escape.markdown_text`), never as HTML."""
        text = markdown_text if markdown else str
        bold = (lambda s: f"**{s}**") if markdown else (lambda s: s)
        count, tokens = len(self.turns), self.total_tokens
        api = "Interactions API" + ("" if self.store else ", not stored") if self.interactions else "generateContent"
        lines = [f"{bold(text(self.name or 'Chat'))} · {text(self.model)} · {api} · {count} turn{'s' if count != 1 else ''} · "
                 f"{tokens:,} token{'s' if tokens != 1 else ''}"]
        for number, turn in enumerate(self.turns, 1):
            lines += ["", f"{'### ' if markdown else ''}Turn {number} · {turn.tokens:,} token{'s' if turn.tokens != 1 else ''}",
                      "", f"{bold('You:')} {text(describe_parts(turn.user['parts']))}", "",
                      *([f"{bold('Tools:')} {text(describe_parts([p for c in turn.exchange for p in c['parts']]))}", ""]
                        if turn.exchange else []),
                      f"{bold('Gemini:')} {text(describe_parts(turn.reply['parts']))}"]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.transcript()

    def __repr__(self) -> str:
        return self.transcript(markdown=False)


class ChatStream(StreamBase):
    """A streamed turn of a Chat: iterate for chunks (or events); `.response` is the answer so far.

    When the stream ends complete, the turn is added to the chat; when it fails, is cut short or is
    interrupted, the error propagates and the history is unchanged."""

    def __init__(self, chat: Chat, pending: _Pending, inner: Any) -> None:
        self._chat = chat
        self._pending = pending
        self._inner = inner
        self.turn: Turn | None = None

    @property
    def response(self):
        """The answer so far: a Response, or an Interaction with interactions."""
        return self._inner.response

    @property
    def notes(self) -> list[str]:
        """What converting the user's objects changed (an image scaled down, a file uploaded ...)."""
        return list(self._pending.notes)

    def __iter__(self) -> Iterator[Any]:
        yield from self._inner
        self.turn = self._chat._commit(self._pending, self.response)

    def close(self) -> None:
        self._inner.close()



def _adopt(turn: Turn, sent: list[dict]) -> Turn:
    """The turn with the parts as last sent (`sent`: its contents as in the request), when the client
    replaced some (uploads); else itself."""
    if len(sent) != len(turn.contents) or all(a.get("parts") == b["parts"] for a, b in zip(sent, turn.contents)):
        return turn
    copies = [{**original, "parts": list(given.get("parts") or [])} for given, original in zip(sent, turn.contents)]
    return replace(turn, user=copies[0], exchange=copies[1:-1], reply=copies[-1])


