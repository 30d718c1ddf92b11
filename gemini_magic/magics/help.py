"""The help of the magics, as Markdown (what `%gemini --help` shows and the README holds), and the rule
that keeps a mistyped subcommand from being sent as a prompt.

- `wants_help(line, parser)`: `%gemini --help`, `%gemini -h`, `%gemini help`, `%%gemini --help`;
- `help_markdown(magic)`: a magic's docstring (reST `Examples::` blocks as fenced code) and its options
  as a table, from its own argument parser, so the help and the README cannot disagree;
- `mistyped_subcommand(word, subcommands)`: the subcommand a one-word line is one typo away from.
"""

from __future__ import annotations

import inspect

HELP_WORDS = ("-h", "--help")


def wants_help(line: str, parser) -> bool:
    """True for `help` alone, or `-h`/`--help` among the options (before the prompt starts)."""
    from .options import split_options

    words = line.split()
    if [word.lower() for word in words] == ["help"]:
        return True
    if not any(word in HELP_WORDS for word in words):
        return False
    options, _ = split_options(line, parser, extra_flags=HELP_WORDS)
    return any(word in HELP_WORDS for word in options.split())


def one_typo_apart(word: str, other: str) -> bool:
    """True when `word` becomes `other` by one edit: a letter added, dropped or changed, or two
    neighbouring letters swapped (the Damerau-Levenshtein distance is 1)."""
    if word == other or abs(len(word) - len(other)) > 1:
        return False
    if len(word) == len(other):
        diffs = [i for i, (a, b) in enumerate(zip(word, other)) if a != b]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and word[diffs[0]] == other[diffs[1]] \
            and word[diffs[1]] == other[diffs[0]]
    short, long = sorted((word, other), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def mistyped_subcommand(word: str, subcommands) -> str | None:
    """The subcommand (or `help`) that `word` is one typo away from, ignoring case; None if none is.

        >>> mistyped_subcommand("modles", ("models", "config"))
        'models'
        >>> mistyped_subcommand("hello", ("models", "config")) is None
        True
    """
    lowered = word.lower()
    for name in (*subcommands, "help"):
        if lowered == name or one_typo_apart(lowered, name):
            return name
    return None


def help_markdown(magic, title: str | None = None) -> str:
    """The magic's help: its docstring as Markdown, then a table of its arguments and options."""
    parser = magic.parser
    lines = [f"#### {title}", ""] if title else []
    lines += [description_markdown(parser.description or ""), ""]
    positional = positional_rows(parser)
    if positional:
        lines += [*positional, ""]
    lines += option_rows(parser)
    return "\n".join(lines)


def table_cell(text: str) -> str:
    """Text for one Markdown table cell: one line, `|` escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def option_rows(parser) -> list[str]:
    """`| option | value | what it does |` rows for every option of an argparse parser but -h."""
    formatter = parser._get_formatter()
    rows = ["| option | value | what it does |", "|---|---|---|"]
    for action in parser._actions:
        if not action.option_strings or action.help is None or "-h" in action.option_strings:
            continue
        if action.nargs == 0:
            value = ""
        elif action.choices:
            value = " \\| ".join(f"`{choice}`" for choice in action.choices)
        else:
            metavar = action.metavar or action.dest.upper()
            value = f"`{metavar} ...`" if action.nargs == "+" else f"`{metavar}`"
        names = ", ".join(f"`{name}`" for name in action.option_strings)
        rows.append(f"| {names} | {value} | {table_cell(formatter._expand_help(action))} |")
    return rows


def positional_rows(parser) -> list[str]:
    """One `- NAME: help` line per positional argument."""
    formatter = parser._get_formatter()
    return [f"- `{action.metavar or action.dest}`: {table_cell(formatter._expand_help(action))}"
            for action in parser._actions if not action.option_strings]


def description_markdown(docstring: str) -> str:
    """A docstring as Markdown: reST `Examples::` blocks become fenced code."""
    text = inspect.cleandoc(docstring)
    out, in_code = [], False
    for line in text.splitlines():
        if line.rstrip().endswith("::"):
            out += [line.rstrip()[:-1], "", "```python"]  # "Examples::" -> "Examples:"
            in_code = True
            continue
        if in_code:
            if line.strip() and not line.startswith("    "):
                while out and not out[-1].strip():
                    out.pop()
                out += ["```", ""]
                in_code = False
            elif not line.strip() and out[-1] == "```python":
                continue
            else:
                out.append(line[4:] if line.startswith("    ") else line)
                continue
        out.append(line)
    if in_code:
        while out and not out[-1].strip():
            out.pop()
        out.append("```")
    return "\n".join(out).strip()
