"""What the models and countTokens methods answer, as small dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelInfo:
    """A model as `models.list` / `models.get` describe it."""

    name: str
    display_name: str = ""
    description: str = ""
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    supported_methods: list[str] = field(default_factory=list)
    thinking: bool | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict) -> "ModelInfo":
        return cls(name=data.get("name", ""), display_name=data.get("displayName", ""),
                   description=data.get("description", ""), input_token_limit=data.get("inputTokenLimit"),
                   output_token_limit=data.get("outputTokenLimit"),
                   supported_methods=list(data.get("supportedGenerationMethods", [])),
                   thinking=data.get("thinking"), raw=data)

    @property
    def id(self) -> str:
        """The name without its `models/` prefix, as you would pass it to `-m`."""
        return self.name.split("/", 1)[-1]


@dataclass
class TokenCount:
    """What countTokens answered."""

    total: int
    cached: int = 0
    details: list = field(default_factory=list)
    raw: dict = field(default_factory=dict, repr=False)
