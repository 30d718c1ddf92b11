"""Checks shared by the schema, parsing and declaration tests."""

from __future__ import annotations

from typing import Any

import pytest


def validate(schema: dict, value: Any) -> None:
    """Fail unless `value` is valid for `schema` (Draft 2020-12, formats checked); skip without jsonschema."""
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(value)


def keywords(schema: Any) -> set[str]:
    """Every JSON Schema keyword used anywhere in `schema` (property names are not keywords)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    found |= keywords(sub)
            elif key not in ("enum", "required"):
                found |= keywords(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= keywords(item)
    return found
