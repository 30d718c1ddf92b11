"""pandas DataFrame and Series as a short text header plus a `text/csv` inlineData part.

The CSV is UTF-8 and has MultiIndex columns flattened into one header row by joining the levels
with " / " ("sales / 2024"). A default index (unnamed, the row numbers 0..n-1: a fresh frame's
RangeIndex) carries nothing, so it is left out and the CSV holds exactly the frame's columns; any
other index (named, labels, dates, a MultiIndex) is kept as the first CSV column(s), and the header
says so. The text header before the CSV gives the shape and the dtypes, and says what was left out.

Budget (`gemini_magic.parts.settings`): frames longer than `max_table_rows` (2000) keep their first
and last `max_table_rows // 2` rows; if the CSV is still over `max_table_bytes` (1 MB) fewer rows
are kept, estimated from the bytes per row. The cut happens before any formatting
(`pd.concat([df.head(n), df.tail(n)])`), so a frame of millions of rows converts in milliseconds.
"""

from __future__ import annotations

from typing import Any

from ..units import plural
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


def is_default_index(index) -> bool:
    """True for an unnamed index holding just the row numbers 0..n-1 (what a fresh frame gets)."""
    import pandas as pd

    if index.nlevels > 1 or index.name is not None:
        return False
    if isinstance(index, pd.RangeIndex):
        return index.start == 0 and index.step == 1
    return index.dtype.kind in "iu" and index.equals(pd.RangeIndex(len(index)))


def _index(index) -> str:
    """"Index 'code', str", "MultiIndex of region, country" (the index sent as the first CSV columns)."""
    if index.nlevels > 1:
        return f"{type(index).__name__} of {', '.join(str(n) for n in index.names)}, as the first " \
               f"{index.nlevels} CSV columns"
    name = f" {str(index.name)!r}" if index.name is not None else ""
    return f"{type(index).__name__}{name}, {index.dtype}, as the first CSV column"


def table_parts(frame, title: str, context) -> list[dict]:
    """Header text and CSV for a DataFrame, cut to the table budget."""
    settings = context.settings
    total = len(frame)
    keep_index = not is_default_index(frame.index)  # row numbers 0..n-1 would be an unnamed extra column
    data, head, tail = rows_within_budget(
        total, settings,
        lambda h, t: _flat_columns(_window(frame, h, t)).to_csv(index=keep_index).encode("utf-8"))
    cut = cut_description(total, head, tail)
    if cut:
        context.note(f"{title}: {cut}")
    index = f" Index: {_index(frame.index)}." if keep_index else ""
    header = (f"{title}: {plural(total, 'row')} x {plural(len(frame.columns), 'column')} (CSV below"
              f"{'; ' + cut if cut else ''}).{index} Columns: {_dtypes(frame)}.")
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
