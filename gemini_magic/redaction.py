r"""Scrubbing the API key from text: `redact(value, secret)`, `register_secret`, `redact_known`,
`redact_keys`.

The raw key and its escaped forms (JSON `\u002d` and `\/`, percent-encoded, repr `\x2d`, HTML
`&#45;`) and common transforms (letter case, a long prefix, base64) are replaced by [REDACTED].
`errors.GeminiError` calls `redact_known` on every message it is built with. Pure, no I/O.
"""

from __future__ import annotations

import base64
import functools
import re
from typing import Any


_REDACTED = "[REDACTED]"
_KNOWN_SECRETS: set[str] = set()
_MIN_KNOWN_LENGTH = 8  # shorter "keys" (tests' "k") would blank out ordinary letters everywhere
_PREFIX_FRACTION = 0.5  # a prefix of the key this long (or longer) is redacted as the key


def register_secret(secret: str | None) -> None:
    """Scrub `secret` from every GeminiError built from now on (Transport registers its key)."""
    if secret and len(secret) >= _MIN_KNOWN_LENGTH:
        _KNOWN_SECRETS.add(secret)


_SHORT_ESCAPES = {"/": "/", "\n": "n", "\r": "r", "\t": "t", "\f": "f", "\b": "b", "\v": "v", "\0": "0",
                  "\a": "a", "'": "'", '"': '"', "\\": "\\"}


def _hex(code: int, width: int) -> str:
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{code:0{width}x}")


@functools.lru_cache(maxsize=16)
def _secret_pattern(secret: str) -> re.Pattern:
    """The secret written raw or with any character escaped as JSON, repr, percent or HTML would."""
    pieces = []
    for char in secret:
        code = ord(char)
        forms = [re.escape(char), r"\\+u" + _hex(code, 4) if code < 0x10000 else r"\\+U" + _hex(code, 8),
                 f"&#0*{code};", "&#[xX]0*" + _hex(code, 1 if code < 16 else 2 if code < 256 else 4) + ";",
                 "".join("%" + _hex(byte, 2) for byte in char.encode("utf-8"))]
        if code < 0x100:
            forms.append(r"\\+x" + _hex(code, 2))
        if char in _SHORT_ESCAPES:
            forms.append(r"\\+" + re.escape(_SHORT_ESCAPES[char]))
        pieces.append("(?:" + "|".join(forms) + ")")
    return re.compile("".join(pieces))


@functools.lru_cache(maxsize=16)
def _transform_pattern(secret: str) -> re.Pattern:
    """The secret's common transforms: in any letter case, cut to a long prefix (at least
    `_PREFIX_FRACTION` of it), or base64-encoded (standard or URL-safe, at any alignment inside a
    longer encoded text, as in an echoed `Authorization: Basic` header)."""
    start = max(_MIN_KNOWN_LENGTH, int(len(secret) * _PREFIX_FRACTION))
    rest = ""  # the prefix, then each further character optionally: `ab(?:c(?:d)?)?`
    for char in reversed(secret[start:]):
        rest = f"(?:{re.escape(char)}{rest})?"
    forms = [re.escape(secret[:start]) + rest]
    raw = secret.encode("utf-8")
    for offset in range(3):  # the base64 characters that depend on the secret's bytes only
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
        skip = 4 if offset else 0
        core = encoded[skip:len(encoded) - 4] if len(encoded) - skip > 8 else ""
        if len(core) >= _MIN_KNOWN_LENGTH:  # with the few characters it shares with its neighbours
            for variant in dict.fromkeys((core, core.replace("+", "-").replace("/", "_"))):
                forms.append(r"[A-Za-z0-9+/_-]{0,3}" + re.escape(variant) + r"[A-Za-z0-9+/_-]{0,4}={0,2}")
    return re.compile("|".join(f"(?:{form})" for form in forms), re.IGNORECASE)


def redact(value: Any, secret: str | None) -> Any:
    """`value` (text, or dicts and lists of it) with `secret` replaced by [REDACTED], in every form.

    The raw secret and the forms escaped by JSON (`\\u0041`, `\\/`), repr (`\\x41`), URLs (`%41`) and
    HTML (`&#65;`) are all found, one escaped character or many, so text is safe before decoding
    as well as after; so are its common transforms: upper or lower case, a long prefix (a key cut
    short in a message: at least half of it) and base64 (the key inside an encoded header).

        >>> redact('{"message": "bad key \\\\u0041Iza-123"}', "AIza-123")
        '{"message": "bad key [REDACTED]"}'
    """
    if not secret or value is None or len(secret) < _MIN_KNOWN_LENGTH:
        return value  # a key of a few characters is no real key (an emulator's); scrubbing it garbles text
    if isinstance(value, str):
        if secret in value:
            value = value.replace(secret, _REDACTED)
        if "\\" in value or "%" in value or "&#" in value:
            value = _secret_pattern(secret).sub(_REDACTED, value)
        return _transform_pattern(secret).sub(_REDACTED, value)
    if isinstance(value, dict):
        return {redact(k, secret): redact(v, secret) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v, secret) for v in value)
    return value


# A Google API key's shape: "AIza" and 35 URL-safe characters (a prefix of 20 or more is caught too).
_KEY_SHAPE = re.compile(r"AIza[0-9A-Za-z_\-]{20,}")


def redact_keys(text: str, secrets: Any = ()) -> str:
    """`text` with the registered secrets, `secrets`, and anything shaped like a Google API key
    (`AIza...`) replaced by [REDACTED]: for context built from the user's own variables and cells
    (`{vars}`, `{notebook}`, `%gemini fix`), where a key the user holds must not reach the model."""
    text = redact_known(text)
    for secret in secrets:
        text = redact(text, secret)
    return _KEY_SHAPE.sub(_REDACTED, text) if "AIza" in text else text


def redact_known(value: Any) -> Any:
    """`redact` with every secret registered by `register_secret`."""
    for secret in tuple(_KNOWN_SECRETS):
        value = redact(value, secret)
    return value
