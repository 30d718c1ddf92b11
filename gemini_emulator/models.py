"""The model catalogue as the service's Model JSON: ``GET /v1beta/models`` and ``/models/{m}``.

Built from ``gemini_magic.constants.MODEL_CATALOGUE``; every description says the model is
emulated, so a listing printed in a notebook cannot be mistaken for the real service's.
"""

from __future__ import annotations

from gemini_magic.constants import MODEL_CATALOGUE

from .errors import ApiError
from .paging import page

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def find(name: str):
    """The catalogue row for a bare model name, or None."""
    for row in MODEL_CATALOGUE:
        if row[0] == name:
            return row
    return None


def thinks(name: str) -> bool:
    row = find(name)
    return bool(row and row[5])


def model_json(row) -> dict:
    name, display, input_limit, output_limit, methods, thinking = row
    model = {
        "name": f"models/{name}",
        "baseModelId": name,
        "version": "001",
        "displayName": display,
        "description": f"{display}, emulated by the local gemini_magic emulator (not a real Gemini model): "
                       "answers are deterministic descriptions of what was received.",
        "inputTokenLimit": input_limit,
        "outputTokenLimit": output_limit,
        "supportedGenerationMethods": list(methods),
    }
    if "generateContent" in methods:
        model.update({"temperature": 1.0, "topP": 0.95, "topK": 64, "maxTemperature": 2.0,
                      "thinking": bool(thinking)})
    return model


def get_model(name: str) -> dict:
    row = find(name)
    if row is None:
        raise ApiError(404, f"models/{name} is not found for API version v1beta, or is not supported "
                            "for GetModel. Call ListModels to see the list of available models and their "
                            "supported methods.")
    return model_json(row)


def list_models(query: dict) -> dict:
    """One page of models; ``nextPageToken`` when more remain."""
    rows, next_token = page(MODEL_CATALOGUE, query, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    body = {"models": [model_json(row) for row in rows]}
    if next_token:
        body["nextPageToken"] = next_token
    return body
