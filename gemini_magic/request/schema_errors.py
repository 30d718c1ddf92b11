"""The two errors of typed answers and tool declarations (to move into gemini_magic.errors).

    GeminiError
    ├── SchemaError            a Python type (or a function) cannot be described as a JSON Schema
    └── SchemaMismatchError    JSON data (an answer, a tool call's arguments) does not fit the type
"""

from __future__ import annotations

from ..errors import GeminiError


class SchemaError(GeminiError, TypeError):
    """A Python type, or a function offered as a tool, cannot be described to the model."""


class SchemaMismatchError(GeminiError, ValueError):
    """JSON data does not fit the type asked for: the first problem, where it is and what was found.

    Attributes: `path` (a JSON path such as "$[2].rainfall_mm"), `expected` (the type, as text),
    `found` (what was there, as text; None when the problem is not about one value).
    """

    def __init__(self, message: str, *, path: str = "$", expected: str = "", found: str | None = None):
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.found = found
