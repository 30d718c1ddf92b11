"""A function's docstring split into its description and per-parameter descriptions.

Reads the three common styles: Google (`Args:` with `name (type): text`), NumPy (`Parameters` over a
line of dashes, `name : type` then indented text) and Sphinx (`:param name: text`). The description
is the prose before the first section; sections other than the parameters are left out.
"""

from __future__ import annotations

import inspect
import re

__all__ = ["parse_docstring"]

_GOOGLE_HEADER = re.compile(
    r"(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters|Returns?|Yields?|"
    r"Raises|Examples?|Notes?|See Also|Attributes|Todo|References|Warnings?|Methods)\s*:", re.I)
_PARAMETER_SECTIONS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments",
                       "other parameters"}
_GOOGLE_ENTRY = re.compile(r"\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)")
_NUMPY_ENTRY = re.compile(r"\*{0,2}(\w+(?:\s*,\s*\*{0,2}\w+)*)\s*(?::.*)?")
_SPHINX_FIELD = re.compile(r":(param|parameter|arg|argument|key|keyword|type|returns?|rtype|raises?)\b")
_SPHINX_PARAM = re.compile(r":(?:param|parameter|arg|argument|key|keyword)(?:\s+[^:]*?)?\s+\*{0,2}(\w+)\s*:\s*(.*)")
_DASHES = re.compile(r"-{3,}")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {parameter name: description}) from a docstring; ("", {}) for None.

        >>> parse_docstring('''Rainfall for a city.
        ...
        ... Args:
        ...     city: The city's name.
        ... ''')
        ('Rainfall for a city.', {'city': "The city's name."})
    """
    if not doc or not doc.strip():
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    description_end = len(lines)
    params: dict[str, str] = {}
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        numpy = bool(stripped) and index + 1 < len(lines) and _DASHES.fullmatch(lines[index + 1].strip())
        google = _GOOGLE_HEADER.fullmatch(stripped)
        sphinx = _SPHINX_FIELD.match(stripped)
        if numpy or google or sphinx:
            description_end = min(description_end, index)
        if numpy:
            end = index + 2
            while end < len(lines) and not _numpy_header_at(lines, end):
                end += 1
            if stripped.lower() in _PARAMETER_SECTIONS:
                params.update(_numpy_entries(lines[index + 2:end]))
            index = end
        elif google:
            indent = _indent(lines[index])
            end = index + 1
            while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
                end += 1
            if google.group(1).lower() in _PARAMETER_SECTIONS:
                params.update(_google_entries(lines[index + 1:end]))
            index = end
        elif sphinx:
            end = index + 1
            while end < len(lines) and lines[end].strip() and not lines[end].strip().startswith(":"):
                end += 1
            entry = _SPHINX_PARAM.match(" ".join(line.strip() for line in lines[index:end]))
            if entry:
                params[entry.group(1)] = entry.group(2).strip()
            index = end
        else:
            index += 1
    return "\n".join(lines[:description_end]).strip(), params


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _numpy_header_at(lines: list[str], index: int) -> bool:
    return (bool(lines[index].strip()) and index + 1 < len(lines)
            and bool(_DASHES.fullmatch(lines[index + 1].strip())))


def _entries(lines: list[str]) -> list[tuple[str, list[str]]]:
    """(entry line, continuation lines) at the section's own indentation."""
    body = [line for line in lines if line.strip()]
    if not body:
        return []
    base = min(_indent(line) for line in body)
    entries: list[tuple[str, list[str]]] = []
    for line in lines:
        if not line.strip():
            continue
        if _indent(line) == base:
            entries.append((line.strip(), []))
        elif entries:
            entries[-1][1].append(line.strip())
    return entries


def _google_entries(lines: list[str]) -> dict[str, str]:
    out = {}
    for head, rest in _entries(lines):
        match = _GOOGLE_ENTRY.fullmatch(head)
        if match:
            out[match.group(1)] = " ".join([match.group(2).strip(), *rest]).strip()
    return out


def _numpy_entries(lines: list[str]) -> dict[str, str]:
    out = {}
    for head, rest in _entries(lines):
        match = _NUMPY_ENTRY.fullmatch(head)
        if match:
            for name in match.group(1).split(","):
                out[name.strip().lstrip("*")] = " ".join(rest).strip()
    return out
