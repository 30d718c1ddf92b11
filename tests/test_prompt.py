"""`{name}` templates: references resolved without eval, everything else left as written."""

from __future__ import annotations

import re
import types

import pytest

from gemini_magic.errors import GeminiError
from gemini_magic.prompt import TemplateError, UndefinedNameError, references, resolve, split_template


class Box:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def test_objects_are_placed_in_order_between_text():
    a, b = object(), object()
    assert split_template("Compare {a} with {b}", {"a": a, "b": b}) == ["Compare ", a, " with ", b]
    parts = split_template("Compare {a} with {b}", {"a": a, "b": b})
    assert parts[1] is a and parts[3] is b


def test_a_name_used_twice_gives_the_same_object_twice():
    img = object()
    parts = split_template("{img} and again {img}", {"img": img})
    assert parts == [img, " and again ", img]
    assert parts[0] is parts[2]


def test_empty_text_is_dropped_and_adjacent_strings_merged():
    x, y = object(), object()
    assert split_template("{x}{y}", {"x": x, "y": y}) == [x, y]
    assert split_template("name: {s}!", {"s": "Ada"}) == ["name: Ada!"]
    assert split_template("", {}) == []


def test_attributes_and_subscripts_with_constant_keys():
    ns = {
        "result": Box(figure="FIG", inner=Box(value=7)),
        "images": ["first", "second", "third"],
        "d": {"key": "V", 3: "three", (1, 2): "pair", -1: "minus", "with space": "S"},
        "x": [10, 20, 30],
    }
    got = split_template('{result.figure}|{images[0]}|{d["key"]}|{x[-1]}|{d[3]}|{d[1, 2]}|'
                         "{result.inner.value}|{d['with space']}|{d[-1]}", ns)
    assert got == ["FIG|first|V|", 30, "|three|pair|", 7, "|S|minus"]


def test_double_braces_are_literal_braces():
    assert split_template("Use {{name}} here", {"name": 1}) == ["Use {name} here"]
    assert split_template("Use {{ and }} for braces", {}) == ["Use { and } for braces"]
    assert split_template("{{x}} is {x}", {"x": 5}) == ["{x} is ", 5]


@pytest.mark.parametrize("text", [
    'JSON {"a": 1}',
    'nested {"a": {"b": {"c": 1}}} JSON',
    '[{"id": 1, "tags": ["x"]}, {"id": 2}]',
    "function f() { return x; }",
    "fn f() -> i32 { n }",
    "type {count:int} and {name:string}",
    "if (a) {\n  b\n}",
    "set {1, 2}",
    "empty {}",
    "operator {a+b}",
    "comprehension {[i for i in y]}",
    "lambda {lambda: 1}",
    "number {1}",
    "string {'a'}",
    "unclosed {x",
    "stray } brace",
    "\\frac{1}{2}",
])
def test_text_that_is_not_a_reference_is_left_untouched(text):
    ns = {"x": 1, "obj": Box(_cache=2), "a": 1, "b": 2, "d": {}, "k": "k", "y": [], "f": print}
    assert split_template(text, ns) == [text]
    assert references(text) == []


def test_json_and_references_mix():
    df = object()
    text = 'Return {"rows": N} for {df} as {"schema": {"n": "int"}}'
    assert split_template(text, {"df": df}) == ['Return {"rows": N} for ', df, ' as {"schema": {"n": "int"}}']


def test_missing_name_raises_a_name_error_with_a_hint():
    with pytest.raises(UndefinedNameError) as caught:
        split_template("Describe {photo} please", {})
    error = caught.value
    assert isinstance(error, NameError) and isinstance(error, GeminiError)
    assert error.name == "photo"
    assert str(error) == ("`{photo}` in the prompt refers to a variable that is not defined. "
                          "Define it first, or write {{photo}} for literal braces.")


def test_missing_root_of_a_longer_reference_names_both():
    with pytest.raises(UndefinedNameError, match=r"`\{res\.figure\}` .* `res`, a variable that is not defined"):
        split_template("{res.figure}", {})


def test_missing_attribute_names_the_expression_and_the_missing_part():
    with pytest.raises(UndefinedNameError) as caught:
        split_template("{result.figur}", {"result": Box(figure=1)})
    message = str(caught.value)
    assert "{result.figur}" in message and "`result` (a Box) has no attribute `figur`" in message


@pytest.mark.parametrize("text,ns,part", [
    ('{d["nope"]}', {"d": {"yes": 1}}, "d['nope']"),
    ("{images[5]}", {"images": [1, 2]}, "images[5]"),
    ("{n[0]}", {"n": 3}, "n[0]"),
])
def test_missing_key_or_index_names_the_expression(text, ns, part):
    with pytest.raises(UndefinedNameError) as caught:
        split_template(text, ns)
    assert text in str(caught.value) and part in str(caught.value)


def test_resolve_never_evaluates_code():
    calls = []
    ns = {"f": lambda: calls.append(1)}
    with pytest.raises(TemplateError, match=r"`\{f\(\)\}` in the prompt is not a reference .* calls are not run"):
        split_template("{f()}", ns)
    assert calls == []
    with pytest.raises(ValueError):
        resolve("f()", ns)


def test_attribute_access_uses_getattr_only_on_public_names():
    obj = types.SimpleNamespace(public="P", _private="X")
    assert split_template("{obj.public}", {"obj": obj}) == ["P"]
    with pytest.raises(TemplateError, match="private attributes"):
        split_template("{obj._private}", {"obj": obj})


def test_references_lists_expressions_once_in_order():
    text = 'See {fig} and {df["a"]}, then {fig} again; {{escaped}} {"json": 1} {x[-1]}'
    assert references(text) == ["fig", 'df["a"]', "x[-1]"]


@pytest.mark.parametrize("text,why", [
    ("{ x }", "it has spaces inside its braces: write {x} to put `x` here"),
    ("fn f() -> i32 { x }", "spaces inside its braces"),
    ("{f()}", "calls are not run"),
    ("{obj._cache}", "private attributes"),
    ("{obj.__class__}", "private attributes"),
    ("{x[1:3]}", "variable keys and slices are not read"),
    ("{d[k]}", "variable keys and slices are not read"),
    ("{row.my col}", 'a name with spaces is read with brackets: write {row["my col"]}'),
])
def test_braces_that_start_with_a_variable_but_are_no_reference_are_refused(text, why):
    ns = {"x": 1, "obj": Box(_cache=2), "d": {}, "k": "k", "f": print, "row": Box(text="t")}
    with pytest.raises(TemplateError) as caught:
        split_template(text, ns)
    message = str(caught.value)
    assert why in message and "for literal braces" in message
    # without such a variable they are code or prose, and stay text
    assert split_template(text, {}) == [text] and references(text) == []
    # the escape always gives the braces
    inner = text[text.index("{"):]
    assert split_template(text.replace(inner, "{" + inner + "}"), ns) == [text]


@pytest.mark.parametrize("text,filled", [
    ("{x!r}", "'Huế'"),
    ("[{x:>6}]", "[   Huế]"),
    ("{x!r:>8}", "   'Huế'"),
    ("{total:,.2f} €", "1,234.50 €"),
    ("{when:%Y-%m-%d}", "2025-10-01"),
    ("{d[\"a:b\"]:>3}", "  1"),
])
def test_conversions_and_format_specs_are_filled_as_str_format_fills_them(text, filled):
    import datetime

    ns = {"x": "Huế", "total": 1234.5, "when": datetime.date(2025, 10, 1), "d": {"a:b": 1}, "a": 7}
    assert split_template(text, ns) == [filled]


def test_a_spec_that_does_not_fit_and_an_undefined_name_with_a_spec_are_refused():
    with pytest.raises(TemplateError, match=r"`\{name:string\}` .* format spec 'string' does not fit the str value"):
        split_template("{name:string}", {"name": "Ann"})
    for text in ("{photo!r}", "{photo:>30}"):
        with pytest.raises(UndefinedNameError, match=r"`\{" + re.escape(text[1:-1]) + r"\}` in the prompt refers to `photo`"):
            split_template(text, {})


def test_unicode_names_are_references():
    value = object()
    assert split_template("Bild {größe}", {"größe": value}) == ["Bild ", value]
