"""One prompt per row: `{row.col}` templates over rows, and the cache key of a request. Pure, no I/O.

    >>> template = RowTemplate("Classify: {row.text} ({row['stars']} stars) {{literal}}", {})
    >>> template.render({"text": "Great kettle", "stars": 5})
    ["Classify: Great kettle (5 stars) {literal}"]
    >>> template.columns
    ['text', 'stars']

- `{row.col}` is always the column `col` of the row, even where a pandas row has an attribute of
  that name (`name`, `size`, `index`, `T`, ...); `{row["col name"]}` reaches any column name.
  `{row}` is the whole row: the value itself for a list of values or a Series.
- Every other `{name}` is a kernel object from `namespace`, resolved once when the template is
  built (`prompt.split_template` rules), and so converted once, not per row.
- A row value that is text or a number joins the text; any other object (an image in a column)
  stays an object for the part converters. `{row.price:.2f}` and `{row.text!r}` format the value as
  `str.format` does.
- A missing value (None, NaN, NA, NaT) in a field the template reads is not sent as "nan": that row
  fails with RowTemplateError (not sent; its `error` says which field) and the other rows go on.
  `{row}` of a whole plain value is the same. A DataFrame with a repeated column name is refused.

`table_rows(rows)` turns a DataFrame, Series, list of dicts or list of values into (index, rows)
without importing pandas (it is recognised by type name). `request_key(model, body)` is the hash
the row cache uses: the same model and request body always give the same key.
"""

from __future__ import annotations

import hashlib
import json
import numbers
from typing import Any, NamedTuple

from ..errors import RowTemplateError  # noqa: F401  (defined in errors.py; imported from here too)
from ..prompt import DeferredValue, format_value, split_template

ROW_NAME = "row"


class _Field(DeferredValue):
    """A `{row...}` reference met while splitting the template: the lookup steps after `row`, and the
    conversion and format spec written after it (`{row.price:.2f}`, `{row.text!r}`)."""

    __slots__ = ("steps", "conversion", "spec")

    def __init__(self, steps: tuple = (), conversion: str | None = None, spec: str = "") -> None:
        self.steps = steps
        self.conversion = conversion
        self.spec = spec

    def __getattr__(self, name: str) -> "_Field":
        if name.startswith("__"):
            raise AttributeError(name)
        return _Field(self.steps + (name,))

    def __getitem__(self, key: Any) -> "_Field":
        return _Field(self.steps + (key,))

    def with_format(self, conversion: str | None, spec: str) -> "_Field":
        return _Field(self.steps, conversion, spec)

    @property
    def column(self) -> Any:
        return self.steps[0] if self.steps else None

    @property
    def written(self) -> str:
        """The field as the template wrote it, without braces: `row.text`, `row['my col']!r`."""
        path = "".join(f".{s}" if isinstance(s, str) and s.isidentifier() else f"[{s!r}]" for s in self.steps)
        return ROW_NAME + path + (f"!{self.conversion}" if self.conversion else "") + (
            f":{self.spec}" if self.spec else "")


def is_missing(value: Any) -> bool:
    """None, NaN, pandas NA / NaT: a cell with no value (pandas is not imported to tell)."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    kind = type(value)
    if kind.__module__.startswith("pandas") and kind.__name__ in ("NAType", "NaTType"):
        return True
    if kind.__module__ == "numpy" and getattr(value, "shape", None) == () and hasattr(value, "dtype"):
        try:
            return bool(value != value)
        except (TypeError, ValueError):
            return False
    return False


class RowTemplate:
    """A prompt template compiled once: text, kernel objects and `{row...}` fields in order.

    `columns` lists the columns it reads (first step of each `{row...}`); `render(row)` returns the
    contents for one row (a list of str and objects). Raises UndefinedNameError (from prompt.py) for
    a kernel name that does not exist.
    """

    def __init__(self, template: str, namespace: dict | None = None) -> None:
        if not isinstance(template, str):
            raise TypeError(f"A row template is a str, not {type(template).__name__}.")
        self.template = template
        scope = dict(namespace or {})
        scope[ROW_NAME] = _Field()
        self.items = split_template(template, scope)
        self.columns: list = []
        for item in self.items:
            if isinstance(item, _Field) and item.steps and item.column not in self.columns:
                self.columns.append(item.column)

    @property
    def objects(self) -> list:
        """The kernel objects the template names (resolved once), in order."""
        return [item for item in self.items if not isinstance(item, (str, _Field))]

    def check(self, sample: Any) -> None:
        """Raise RowTemplateError when the first row lacks a column the template reads."""
        if not self.columns:
            return
        if not isinstance(sample, dict):
            raise RowTemplateError(
                f"The template reads {_names(self.columns)} but the rows are plain values "
                f"({type(sample).__name__}); write {{row}} for the value, or pass a DataFrame or dicts.")
        missing = [c for c in self.columns if c not in sample]
        if missing:
            have = ", ".join(repr(c) for c in list(sample)[:20])
            raise RowTemplateError(f"The template reads {_names(missing)}, which the rows do not have "
                                   f"(columns: {have}). Fix the name; write {{row[\"a b\"]}} for a name with spaces.")

    def render(self, row: Any, replace: dict | None = None) -> list:
        """The contents for one row; `replace` maps id(kernel object) to its converted parts (a list)."""
        out: list = []
        for item in self.items:
            if isinstance(item, _Field):
                value = _lookup(row, item.steps)
                if is_missing(value):
                    raise _missing(item.written, value)
                if item.conversion is not None or item.spec:
                    value = format_value(value, item.conversion, item.spec, item.written)
            elif replace and not isinstance(item, str) and id(item) in replace:
                out.extend(replace[id(item)])  # the object's parts, converted once for every row
                continue
            else:
                value = item
            if isinstance(value, (numbers.Number, str)) and not isinstance(value, bool) or value is None:
                value = "" if value is None else str(value)
            elif isinstance(value, bool):
                value = str(value)
            if isinstance(value, str):
                if not value:
                    continue
                if out and isinstance(out[-1], str):
                    out[-1] += value
                    continue
            out.append(value)
        return out


def _missing(written: str, value: Any) -> RowTemplateError:
    error = RowTemplateError(f"This row has no value for {{{written}}} ({value!r}), so it was not sent. Fill the "
                             "missing values (df.fillna(...)) or drop those rows (df.dropna(subset=[...])).")
    error.missing = written
    return error


def _lookup(row: Any, steps: tuple) -> Any:
    value = row
    for step in steps:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            value = getattr(value, step) if isinstance(step, str) and hasattr(value, step) else None
            if value is None:
                raise RowTemplateError(f"A row has no {step!r} (in {{row{''.join(f'[{s!r}]' for s in steps)}}}).")
    return value


def _names(columns: list) -> str:
    return ", ".join(f"{{row.{c}}}" if isinstance(c, str) and c.isidentifier() else f"{{row[{c!r}]}}" for c in columns)


def table_rows(rows: Any) -> tuple[list, list]:
    """(index labels, rows): a DataFrame gives dicts by column, a Series or list gives its values.

    Raises RowTemplateError for something that is not a table or a sequence (a str, a dict)."""
    kind = type(rows).__name__
    module = type(rows).__module__ or ""
    if module.startswith("pandas") and kind == "DataFrame":
        columns = list(rows.columns)
        repeated = [column for column in dict.fromkeys(columns) if columns.count(column) > 1]
        if repeated:
            raise RowTemplateError(f"The DataFrame has more than one column named {', '.join(map(repr, repeated))}: "
                                   "a row would keep only the last. Rename them first "
                                   "(df.columns = [...], or df.loc[:, ~df.columns.duplicated()]).")
        records = [dict(zip(columns, values)) for values in rows.itertuples(index=False, name=None)]
        return list(rows.index), records
    if module.startswith("pandas") and kind == "Series":
        return list(rows.index), list(rows.tolist())
    if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
        raise RowTemplateError(f"Rows must be a DataFrame, a Series or a list, not {kind}.")
    values = list(rows)
    return list(range(len(values))), values


class CompiledRows(NamedTuple):
    """A row run compiled once (`compile_rows`): `template` (a RowTemplate, or None for ready prompts),
    `index` (one label per row) and `items` (the row records, or the prompts). `parts`: None until
    the template's kernel objects are converted (`api.rows.convert_objects`, once, I/O), then
    id(object) → its converted parts, for `template.render(row, parts)`. The engine
    (`api.rows.map_prompts`), a batch and the dry run all take this one value."""

    template: "RowTemplate | None"
    index: list
    items: list
    parts: "dict | None" = None


def compile_rows(template_or_prompts: Any, rows: Any = None, namespace: dict | None = None) -> CompiledRows:
    """`template_or_prompts` over `rows` (a DataFrame, Series, list), or with `rows=None` a list of
    prompts, compiled once; a CompiledRows is returned as it is. Raises TypeError (a template with no
    rows), RowTemplateError (a column the first row lacks, rows that are not a table) and
    UndefinedNameError (a kernel name that does not exist)."""
    if isinstance(template_or_prompts, CompiledRows):
        return template_or_prompts
    if rows is None:
        if isinstance(template_or_prompts, str):
            raise TypeError("Pass rows= to run a template over them, or a list of prompts.")
        prompts = list(template_or_prompts)
        return CompiledRows(None, list(range(len(prompts))), prompts)
    template = RowTemplate(template_or_prompts, namespace)
    index, records = table_rows(rows)
    if records:
        template.check(records[0])
    return CompiledRows(template, index, records)


def request_key(model: str, body: dict) -> str:
    """The cache key of one request: sha256 of the model and the body's canonical JSON (hex)."""
    name = model[len("models/"):] if model.startswith("models/") else model
    text = json.dumps({"model": name, "body": body}, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
