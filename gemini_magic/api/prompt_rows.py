"""`prompt_rows(df, template)`: one prompt per row of a DataFrame, answered into a DataFrame.

    from gemini_magic import prompt_rows
    labelled = prompt_rows(reviews, "Classify this review: {row.text} ({row.stars} stars)",
                           model="gemini-2.5-flash", schema=Sentiment, concurrency=8)
    labelled[["text", "error"]]             # the input's index; + one column per field of Sentiment

The plain-Python twin of `%%gemini --over reviews -o labelled`. It runs `Client.map` (api/rows.py:
threads, a rate limiter, a cache of answers so a re-run sends no request twice) and `rows_frame`.
"""

from __future__ import annotations

from typing import Any

from ..constants import DEFAULT_MODEL
from .client import Client
from .row_runs import map_rows
from .rows import rows_frame


def prompt_rows(df: Any, template: str, *, client: Any = None, model: str = DEFAULT_MODEL, schema: Any = None,
                concurrency: int = 8, rpm: float | None = None, cache_dir: Any = None, progress: Any = True,
                namespace: dict | None = None, **settings: Any):
    """Answer `template` once per row of `df` (a DataFrame, Series or list): a pandas DataFrame with
    `df`'s index and the columns text, finish_reason, prompt_tokens, output_tokens, error, plus one
    column per field of `schema` when given.

    `{row.col}` / `{row["col name"]}` take the row's values, `{row}` the whole row; other `{names}`
    come from `namespace`. `client`: a Client (default: `Client()` from the environment). Other
    arguments as for `Client.map`. A failed row has its message in `error`; nothing is raised for
    it. Raises RowTemplateError (a column the rows lack), SettingsError, TypeError before anything is
    sent, and RowsInterrupted (with `.responses`) on Ctrl-C: call again to continue.

        labelled = prompt_rows(reviews, "Sentiment of: {row.text}", schema=Literal["good", "bad"])
    """
    if client is None:
        client = Client()
    answers = map_rows(client, template, df, model=model, concurrency=concurrency, rpm=rpm, schema=schema,
                       cache_dir=cache_dir, progress=progress, namespace=namespace, **settings)
    index = df.index if hasattr(df, "index") and not isinstance(df, (list, tuple)) else None
    return rows_frame(answers, index, schema)
