"""Sizes and counts in words a person reads: `human_size`, `base64_size` and `plural`.

A bottom module (standard library only) so that every layer formats a size or a count the same way:
the parts that are converted, the views, the messages.

    >>> human_size(1_234_567), human_size(999), plural(1, "token"), plural(2_000, "character")
    ('1.2 MB', '999 bytes', '1 token', '2,000 characters')
"""

from __future__ import annotations

_UNITS = (("kB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12))


def human_size(size: float) -> str:
    """A size in bytes as "1 byte", "999 bytes", "1.2 kB", "12.3 MB", "2.0 GB" (decimal units, as the API
    states its limits). Negative or fractional byte counts below 1,000 are rounded to whole bytes."""
    if abs(size) < 999.5:
        return plural(round(size), "byte")
    for unit, scale in _UNITS:
        if abs(size) < scale * 999.95 or unit == _UNITS[-1][0]:
            return f"{size / scale:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def base64_size(data: str) -> int:
    """Decoded size in bytes of a base64 string, without decoding it (0 for "")."""
    return len(data) * 3 // 4 - data[-2:].count("=") if data else 0


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """`count` and `word`, in the singular for exactly one: "1 part", "3 parts", "1,000 entries".

    `plural_word` for nouns that do not just take an "s" (`plural(2, "entry", "entries")`).

        >>> plural(0, "attachment"), plural(1, "attachment"), plural(2, "batch", "batches")
        ('0 attachments', '1 attachment', '2 batches')
    """
    noun = word if count == 1 else plural_word or word + "s"
    return f"{count:,} {noun}"
