"""Arguments for a function call, valid for its schema, taken from the prompt where they fit.

Deterministic rules (the emulator's stand-in for a model filling in a call):

* ``number``/``integer``: the numbers written in the text, in order (an integer parameter skips
  fractions); a parameter whose name holds "month" also takes a month's name ("October" → 10);
* ``string``: an ``enum`` member named in the text (else the first member), else the quoted
  phrases in order, then runs of capitalised words ("Huế", "Hà Nội", "San Francisco"; a sentence's
  first word is skipped when it is a common word such as "What" or "Call");
* ``boolean``: "true"/"yes" or "false"/"no" in the text, else false;
* ``array``: one item built by these rules; ``object``: its properties built by these rules.

Each call has its own stretch of the prompt (from where its function is named to where the next one
is): values are taken there first, then from the previous function results (a chain passes results
on), then anywhere in the prompt. Required parameters are always present (a ``default``, the first
enum member, 0, "" or false when nothing fits); optional ones only when a value was found. Numbers
are kept within ``minimum``/``maximum``. Both schema forms are read: JSON Schema
(``parametersJsonSchema``, local ``$ref``s) and the OpenAPI subset (``parameters``, upper-case types).
"""

from __future__ import annotations

import re

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
QUOTED = re.compile(r'"([^"\n]+)"|“([^”\n]+)”|(?<!\w)\'([^\'\n]+)\'(?!\w)')
WORD = re.compile(r"[^\W\d_][\w'’-]*")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
COMMON_FIRST_WORDS = {
    "a", "an", "the", "is", "are", "was", "what", "which", "who", "whom", "whose", "when", "where", "why",
    "how", "call", "use", "then", "please", "compare", "get", "find", "tell", "give", "show", "check",
    "can", "could", "would", "will", "should", "do", "does", "did", "i", "in", "on", "for", "and", "or",
    "after", "before", "first", "next", "finally", "it", "this", "that", "look", "sum", "add", "compute",
    "calculate", "convert", "ask", "return", "fetch", "list", "run", "now", "also", "if", "let", "make",
    "say", "we", "you", "my", "our", "to", "of", "with", "from", "at", "by", "about",
}


class Candidates:
    """The values a text offers, each with its position, so a call can prefer its own stretch."""

    def __init__(self, text: str, skip: list[tuple[int, int]] = ()):
        self.text = text
        inside = lambda start: any(a <= start < b for a, b in skip)  # noqa: E731 - function names
        self.numbers = [(m.start(), _number(m.group())) for m in NUMBER.finditer(text) if not inside(m.start())]
        self.quoted = [(m.start(), next(g for g in m.groups() if g)) for m in QUOTED.finditer(text)
                       if not inside(m.start())]
        quoted_spans = [m.span() for m in QUOTED.finditer(text)]
        self.names = [(start, run) for start, run in _capitalised_runs(text)
                      if not inside(start) and not any(a <= start < b for a, b in quoted_spans)]
        self.months = [(m.start(), MONTHS.index(m.group().lower()) + 1)
                       for m in re.finditer(r"(?i)\b(" + "|".join(MONTHS) + r")\b", text)]
        self.words = {w.lower() for w in WORD.findall(text)}


def _number(text: str):
    return float(text) if "." in text else int(text)


def _capitalised_runs(text: str) -> list[tuple[int, str]]:
    """Runs of capitalised words separated by single spaces, without a common sentence-first word."""
    runs: list[list] = []
    previous_end = None
    for match in WORD.finditer(text):
        word = match.group()
        if not word[0].isupper():
            previous_end = None
            continue
        before = text[:match.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?:\n"
        if sentence_start and word.lower() in COMMON_FIRST_WORDS:
            previous_end = None
            continue
        if previous_end is not None and text[previous_end:match.start()] == " ":
            runs[-1][1] += " " + word
        else:
            runs.append([match.start(), word])
        previous_end = match.end()
    return [(start, run) for start, run in runs if run.lower() not in MONTHS]


class Filler:
    """Builds one call's arguments, consuming values so two parameters do not get the same one."""

    def __init__(self, candidates: Candidates, stretch: tuple[int, int], results: list, root: dict):
        self.candidates = candidates
        self.stretch = stretch
        self.results = results  # scalars from earlier function results, oldest first
        self.root = root
        self.used: set = set()

    def _take(self, *pools, accept=lambda value: True, phases=("inside", "results", "later")):
        """(value, found): the first unused accepted value of the ``pools`` (lists of (position, value)),
        phase by phase: this call's stretch (each pool in turn), then earlier results, then the rest of
        the text."""
        start, end = self.stretch
        order = []
        for phase in phases:
            if phase == "results":
                order += [("results", -1 - n, value) for n, value in enumerate(self.results)]
                continue
            for pool in pools:
                order += [(id(pool), position, value) for position, value in pool
                          if (start <= position < end) == (phase == "inside")]
        for pool_id, position, value in order:
            key = (pool_id, position)
            if key not in self.used and accept(value):
                self.used.add(key)
                return value, True
        return None, False

    def resolve(self, schema) -> dict:
        if not isinstance(schema, dict):
            return {}
        seen = 0
        while isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/") and seen < 20:
            target = self.root
            for key in schema["$ref"][2:].split("/"):
                target = target.get(key, {}) if isinstance(target, dict) else {}
            schema, seen = target if isinstance(target, dict) else {}, seen + 1
        for key in ("anyOf", "oneOf", "any_of"):
            options = [o for o in schema.get(key) or [] if isinstance(o, dict) and _type(o) != "null"]
            if options and not _type(schema):
                return self.resolve(options[0])
        return schema

    def arguments(self, schema) -> dict:
        """The object for a declaration's parameter schema (``{}`` when it takes none)."""
        value, _ = self.value(schema, "", required=True)
        return value if isinstance(value, dict) else {}

    def value(self, schema, name: str, required: bool):
        """(value, found): ``found`` is False when the value is only a stand-in for a required one."""
        schema = self.resolve(schema)
        kind = _type(schema) or ("object" if "properties" in schema else "string" if "enum" in schema else "")
        enum = schema.get("enum")
        if enum:
            for member in enum:
                if str(member).lower() in self.candidates.words or (
                        isinstance(member, str) and re.search(rf"(?i)\b{re.escape(member)}\b", self.candidates.text)):
                    return member, True
            return schema.get("default", enum[0]), False
        if kind == "object":
            properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
            needed = set(schema.get("required") or [])
            result = {}
            for key, sub in properties.items():
                item, found = self.value(sub, key, key in needed)
                if found or key in needed:
                    result[key] = item
            return result, True
        if kind == "array":
            item, found = self.value(schema.get("items") or {}, name, required=True)
            count = max(1, int(schema.get("minItems") or schema.get("min_items") or 1))
            return [item] * count if (found or required or count) else [], found
        if kind in ("number", "integer"):
            return self._number(schema, name, kind)
        if kind == "boolean":
            words = self.candidates.words
            if words & {"true", "yes"}:
                return True, True
            return (False, bool(words & {"false", "no"})) if "default" not in schema else (schema["default"], False)
        text, found = self._take(self.candidates.quoted, self.candidates.names, accept=lambda v: isinstance(v, str))
        if found:
            return text, True
        return schema.get("default", schema.get("example", "")), False

    def _number(self, schema: dict, name: str, kind: str):
        value, found = None, False
        wanted = (lambda v: isinstance(v, int) and not isinstance(v, bool)) if kind == "integer" else \
            (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
        if "month" in name.lower():  # a month's name in this call's stretch, else its numbers
            value, found = self._take(self.candidates.months, phases=("inside",))
        if not found:
            value, found = self._take(self.candidates.numbers, accept=wanted)
        if not found and "month" in name.lower():
            value, found = self._take(self.candidates.months, phases=("later",))
        if not found:
            value = schema.get("default", schema.get("minimum", 0))
        low, high = schema.get("minimum"), schema.get("maximum")
        if isinstance(low, (int, float)) and value < low:
            value = low
        if isinstance(high, (int, float)) and value > high:
            value = high
        return (int(value) if kind == "integer" else value), found


def _type(schema: dict) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "")
    return str(kind or "").lower()


def result_values(response) -> list:
    """The scalars of a function result, in order (numbers and strings), for the next call of a chain.

    An error result (``{"error": ...}``, what the client sends when the function raised) passes nothing on.
    """
    found = []
    if isinstance(response, dict):
        if set(response) == {"error"}:
            return []
        for value in response.values():
            found += result_values(value)
    elif isinstance(response, list):
        for value in response:
            found += result_values(value)
    elif isinstance(response, (int, float, str)) and not isinstance(response, bool):
        found.append(response)
    return found
