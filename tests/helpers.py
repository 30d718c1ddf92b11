"""Test helpers shared by several test files: a stand-in for IPython's `display`, and the types the
schema, parsing and structured-output tests describe to the model.

Import them as `from helpers import Recorder, Place, Mood` (pytest puts tests/ on the path).
"""

from __future__ import annotations

import dataclasses
import enum


class Handle:
    """What `Recorder` returns for `display(..., display_id=True)`: records `update` calls."""

    def __init__(self, recorder: "Recorder") -> None:
        self.recorder = recorder

    def update(self, obj, **kwargs) -> None:
        self.recorder.calls.append(("update", obj, kwargs))


class Recorder:
    """Stands in for IPython.display.display: records what would have been shown.

    `calls` holds ("display" | "update", object, keyword arguments) in order; a display with a
    `display_id` returns a `Handle` whose updates are recorded too.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, dict]] = []

    def __call__(self, obj, **kwargs):
        self.calls.append(("display", obj, kwargs))
        return Handle(self) if kwargs.get("display_id") else None

    def raw_bundles(self) -> list:
        """The MIME bundles shown or updated with raw=True, in order."""
        return [obj for kind, obj, kwargs in self.calls if kwargs.get("raw")]


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


@dataclasses.dataclass
class Place:
    name: str
    province: str
    rainfall_mm: float
    pet_friendly: bool


# -- what the emulator received, from its request log (not from the prose of its answers) -------------

def prompt_of(request) -> str:
    """The text of the last turn of a recorded generate request (`Emulator.requests` item)."""
    return "".join(p.get("text", "") for p in request.json["contents"][-1]["parts"])


def sent_prompt(emulator, response) -> str:
    """The prompt text of the request that `response` answers: the recorded request whose
    `response_id` is the answer's `responseId` (a cached answer keeps the id it first came with)."""
    for request in emulator.requests:
        if request.response_id is not None and request.response_id == response.response_id:
            return prompt_of(request)
    raise AssertionError(f"no recorded request got the answer {response.response_id!r}")
