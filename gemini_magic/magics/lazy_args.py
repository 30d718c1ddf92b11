"""Magic methods whose options (IPython's `@argument`s) are declared and parsed only when first needed.

    @lazy_magic_arguments("declare_prompt_options")
    @line_cell_magic
    def gemini(self, line, cell=None): ...

`%load_ext` then imports neither the options' module nor `IPython.core.magic_arguments` (argparse),
and builds no parser: declaring the options of `%%gemini`, building and formatting its parser took
about 10 ms, importing the modules about 3 ms more (benchmarks/bench_load.py). Imports nothing itself.
"""

from __future__ import annotations


def lazy_magic_arguments(declare: str):
    """IPython's `@magic_arguments()` over `@argument(...)` lines, deferred: `declare`, the name of a
    function of magics/options.py, puts the `@argument`s on the magic function the first time its parser
    or help text is read."""
    def wrap(func) -> LazyArguments:
        return LazyArguments(func, declare)

    return wrap


class LazyArguments:
    """A magic method whose argparse parser and docstring (the parser's help, as `magic_arguments`
    makes it) are built when first read. `.parser` and `.__doc__` read the same as on a
    `@magic_arguments()` method; any other attribute is the function's own (IPython's magic markers
    such as `no_var_expand` included)."""

    def __init__(self, func, declare: str) -> None:
        self.__func__ = self.__wrapped__ = func
        self.__name__, self.__qualname__, self.__module__ = func.__name__, func.__qualname__, func.__module__
        self._declare = declare

    def __get__(self, obj, owner=None):
        import types

        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        return self.__func__(*args, **kwargs)

    @property
    def parser(self):
        func = self.__func__
        if "parser" not in func.__dict__:
            from IPython.core.magic_arguments import construct_parser

            from . import options

            getattr(options, self._declare)(func)
            func.parser = construct_parser(func)  # also sets func.__doc__ to the parser's help
            # No abbreviations: `%%gemini --new-cel` is refused with "did you mean", as the line magic
            # refuses it, not read as --new-cell (argparse reads allow_abbrev when it parses).
            func.parser.allow_abbrev = False
        return func.parser

    @property
    def __doc__(self):  # the help text, made with the parser
        self.parser  # noqa: B018 - builds it
        return self.__func__.__doc__

    def __getattr__(self, name):
        return getattr(self.__func__, name)
