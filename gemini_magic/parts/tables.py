"""pandas DataFrame and Series as a short text header plus a `text/csv` inlineData part.

The CSV keeps the index (its levels become the first columns), is UTF-8, and has MultiIndex
columns flattened into one header row by joining the levels with " / " ("sales / 2024"). The text
header before it gives the shape and the dtypes, and says what was left out.

Budget (`gemini_magic.parts.settings`): frames longer than `max_table_rows` (2000) keep their first
and last `max_table_rows // 2` rows; if the CSV is still over `max_table_bytes` (1 MB) fewer rows
are kept, estimated from the bytes per row. The cut happens before any formatting
(`pd.concat([df.head(n), df.tail(n)])`), so a frame of millions of rows converts in milliseconds.
"""

from __future__ import annotations

from typing import Any

from .builders import inline
from .sizes import cut_description, rows_within_budget

MAX_LISTED_COLUMNS = 40


def _window(frame, head: int, tail: int):
    import pandas as pd

    if head + tail >= len(frame):
        return frame
    return pd.concat([frame.iloc[:head], frame.iloc[len(frame) - tail:]]) if tail else frame.iloc[:head]


def _flat_columns(frame):
    import pandas as pd

    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.copy(deep=False)
        frame.columns = [" / ".join(str(level) for level in column if str(level) != "") or "column"
                         for column in frame.columns]
    return frame


def _dtypes(frame) -> str:
    items = [f"{' / '.join(map(str, c)) if isinstance(c, tuple) else c} ({dtype})"
             for c, dtype in zip(frame.columns[:MAX_LISTED_COLUMNS], frame.dtypes.iloc[:MAX_LISTED_COLUMNS])]
    more = len(frame.columns) - MAX_LISTED_COLUMNS
    return ", ".join(items) + (f", and {more:,} more" if more > 0 else "")


def _index(index) -> str:
    """"RangeIndex, int64", "Index 'code', str", "MultiIndex of region, country"."""
    if index.nlevels > 1:
        return f"{type(index).__name__} of {', '.join(str(n) for n in index.names)}"
    name = f" {str(index.name)!r}" if index.name is not None else ""
    return f"{type(index).__name__}{name}, {index.dtype}"


def table_parts(frame, title: str, context) -> list[dict]:
    """Header text and CSV for a DataFrame, cut to the table budget."""
    settings = context.settings
    total = len(frame)
    data, head, tail = rows_within_budget(
        total, settings, lambda h, t: _flat_columns(_window(frame, h, t)).to_csv().encode("utf-8"))
    cut = cut_description(total, head, tail)
    if cut:
        context.note(f"{title}: {cut}")
    header = (f"{title}: {total:,} rows x {len(frame.columns):,} columns (CSV below"
              f"{'; ' + cut if cut else ''}). Index: {_index(frame.index)}. Columns: {_dtypes(frame)}.")
    return [{"text": header}, inline("text/csv", data)]


def dataframe_part(frame: Any, context) -> list[dict]:
    """A pandas DataFrame: header text + CSV."""
    return table_parts(frame, "pandas DataFrame", context)


def series_part(series: Any, context) -> list[dict]:
    """A pandas Series: as a one-column DataFrame named after the Series."""
    name = series.name if series.name is not None else "value"
    title = f"pandas Series {str(name)!r}, dtype {series.dtype}"
    return table_parts(series.to_frame(name=name), title, context)


def styler_part(styler: Any, context) -> list[dict]:
    """A pandas Styler: the data it styles (styles are for people)."""
    return dataframe_part(styler.data, context)
