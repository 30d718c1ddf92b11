"""`AnswerType`: an answer asked for as a Python type — what the request needs, and how the answer
is read back (parsed into instances, or flattened into table columns).

    answer = AnswerType(list[Place])
    answer.config            # {"responseMimeType": "application/json", "responseJsonSchema": {...}}
    answer.parse(text)       # [Place(...), ...]; SchemaMismatchError naming the first problem
    answer.records(value)    # (columns, rows) in schema order, for a DataFrame

A `Response` receives one with its request and uses it for `.parsed` and `.to_pandas()`; it never
imports this layer (the answer model sits below the request layer).
"""

from __future__ import annotations

from typing import Any

from .parsing import parse_answer, records
from .schema import response_format
from .typeforms import type_name


class AnswerType:
    """A Python type (dataclass, pydantic model, TypedDict, Enum, Literal, list/dict of those, ...) or a
    JSON Schema dict, asked for as the answer. Raises SchemaError for a type that cannot be described."""

    def __init__(self, tp: Any) -> None:
        self.type = tp
        self.config = response_format(tp)

    @property
    def is_json(self) -> bool:
        return self.config.get("responseMimeType") == "application/json"

    def parse(self, text: str | None, finish_reason: str | None = None) -> Any:
        """The answer text as instances of the type (SchemaMismatchError when it does not fit)."""
        return parse_answer(self.type, text, finish_reason)

    def records(self, value: Any) -> tuple[list[str], list[list]]:
        """A parsed value as (columns, rows): a list of records row by row, one record as one row."""
        return records(self.type, value)

    def __repr__(self) -> str:
        return f"AnswerType({type_name(self.type) if not isinstance(self.type, dict) else 'JSON Schema'})"
