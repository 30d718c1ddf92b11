r"""Scrubbing the API key from text: `redact(value, secret)`, `register_secret`, `redact_known`,
`redact_keys`; `holds_secret(value, secret)`, the test of what is about to be sent.

The raw key and its escaped forms (JSON `\u002d` and `\/`, percent-encoded, repr `\x2d`, HTML
`&#45;`) and common transforms (letter case, a long prefix or suffix, base64) are replaced by
[REDACTED]. `errors.GeminiError` calls `redact_known` on every message it is built with.
`SecretScan` tests raw bytes for the key before they are decoded, cheaply enough for every streamed
event, and scrubs the JSON it finds it in (the wire decoders use it on every 200 answer). Pure, no I/O.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from typing import Any

from .lazy_re import lazy_compile


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


def _affix_length(secret: str) -> int:
    """How long a prefix or suffix of the secret is redacted as the secret."""
    return max(_MIN_KNOWN_LENGTH, int(len(secret) * _PREFIX_FRACTION))


def _base64_cores(secret: str) -> list[str]:
    """The base64 characters that depend on the secret's bytes only, at each of the three alignments
    inside a longer encoded text, standard and URL-safe (each at least `_MIN_KNOWN_LENGTH` long)."""
    cores = []
    raw = secret.encode("utf-8")
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
        skip = 4 if offset else 0
        core = encoded[skip:len(encoded) - 4] if len(encoded) - skip > 8 else ""
        if len(core) >= _MIN_KNOWN_LENGTH:
            cores.extend(dict.fromkeys((core, core.replace("+", "-").replace("/", "_"))))
    return cores


@functools.lru_cache(maxsize=16)
def _transform_pattern(secret: str) -> re.Pattern:
    """The secret's common transforms: in any letter case, cut to a long prefix or suffix (at least
    `_PREFIX_FRACTION` of it), or base64-encoded (standard or URL-safe, at any alignment inside a
    longer encoded text, as in an echoed `Authorization: Basic` header)."""
    start = _affix_length(secret)
    rest = ""  # the prefix, then each further character optionally: `ab(?:c(?:d)?)?`
    for char in reversed(secret[start:]):
        rest = f"(?:{re.escape(char)}{rest})?"
    lead = ""  # each earlier character optionally, then the suffix: `(?:(?:a)?b)?cd`
    for char in secret[:len(secret) - start]:
        lead = f"(?:{lead}{re.escape(char)})?"
    forms = [re.escape(secret[:start]) + rest, lead + re.escape(secret[len(secret) - start:])]
    for core in _base64_cores(secret):  # with the few characters it shares with its neighbours
        forms.append(r"[A-Za-z0-9+/_-]{0,3}" + re.escape(core) + r"[A-Za-z0-9+/_-]{0,4}={0,2}")
    return re.compile("|".join(f"(?:{form})" for form in forms), re.IGNORECASE)


def redact(value: Any, secret: str | None) -> Any:
    """`value` (text, or dicts and lists of it) with `secret` replaced by [REDACTED], in every form.

    The raw secret and the forms escaped by JSON (`\\u0041`, `\\/`), repr (`\\x41`), URLs (`%41`) and
    HTML (`&#65;`) are all found, one escaped character or many, so text is safe before decoding
    as well as after; so are its common transforms: upper or lower case, a long prefix or
    suffix (a key cut short, or split across two chunks: at least half of it) and base64 (the key
    inside an encoded header).

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


def holds_secret(value: Any, secret: str | None) -> bool:
    """Whether `secret` appears as it is in `value` (text, or dicts and lists of it, keys included): the
    test of an outgoing request body before it is sent. A key is letters, digits, `-` and `_`, which JSON
    never escapes, so the raw form is the only one a serialised body can hold. The base64 `data` of a
    blob (a dict with `mimeType`: inlineData, a Live audio chunk) is the user's media, not text, and is
    not read, as an uploaded file's bytes are not: so the test costs microseconds, not a scan of
    megabytes, however many images a conversation holds."""
    if not secret or len(secret) < _MIN_KNOWN_LENGTH:
        return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if secret in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            if "mimeType" in item and "data" in item:
                stack.extend(v for k, v in item.items() if k != "data")
            else:
                stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


# A Google API key's shape: "AIza" and 35 URL-safe characters (a prefix of 20 or more is caught too).
_KEY_SHAPE = lazy_compile(r"AIza[0-9A-Za-z_\-]{20,}")


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


_JSON_SHORT_ESCAPES = {"/": "/", '"': '"', "\\": "\\", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}


class SecretScan:
    """A cheap test of raw answer bytes (or text) for a secret, before they are decoded, and the
    scrubbing of what it finds. One per key (`secret_scan`); `scrub_events` runs on every event of
    every stream.

    `found(data)` is True whenever decoding `data` as JSON could yield the secret, or its prefix or
    suffix of at least half its length, as written, in upper or lower case, or one of its base64
    cores: a few substring tests (C speed) for those, and, when the data holds a JSON `\\u` escape
    (or a short escape of a character the secret has), one regex for an escape of any of the
    secret's characters. `found(data, quick=True)`, the test of each streamed event, looks for the
    secret and its long prefix and suffix as written and for escapes, not for the other transforms
    (those are scrubbed when it fires). Either may say True for data without the secret (scrubbing
    then changes nothing).

        >>> scan = SecretScan("AIza-secret-123")
        >>> scan.found(b'{"text": "AIza-secret-123"}'), scan.found(b'{"text": "AIza\\u002dsecret"}')
        (True, True)
        >>> scan.scrub_json(b'{"text": "key AIza-secret-123"}')
        b'{"text": "key [REDACTED]"}'
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret
        start = _affix_length(secret)
        affixes = (secret[:start], secret[len(secret) - start:])
        forms = [*affixes, *(a.lower() for a in affixes), *(a.upper() for a in affixes), *_base64_cores(secret)]
        self._text = tuple(dict.fromkeys(forms))
        self._quick = tuple(dict.fromkeys(affixes))
        #: bytes of one piece to test again with the next, so a quick form split between them is found
        self.overlap = max(len(form.encode("utf-8")) for form in (*self._quick, "\\u0000")) - 1
        chars = dict.fromkeys(secret + secret.lower() + secret.upper())
        escapes = ["u" + _hex(ord(char), 4) for char in chars if ord(char) < 0x10000]
        shorts = [re.escape(_JSON_SHORT_ESCAPES[char]) for char in chars if char in _JSON_SHORT_ESCAPES]
        pattern = r"\\(?:" + "|".join(escapes + shorts) + ")"
        self._escape = re.compile(pattern)
        # The escape regex runs only when the data holds a backslash: a one-character test (about 25 ns
        # on an event) where the two-character "\\u" test costs more than the regex itself.
        self._gate = "\\"

    def __repr__(self) -> str:
        return "SecretScan(<hidden>)"

    def found(self, data: bytes | str, quick: bool = False) -> bool:
        """Whether `data` may hold the secret once decoded (see the class)."""
        if isinstance(data, (bytes, bytearray)):
            try:  # text: str's substring search is faster than bytes', and a stream's events are short
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                data = data.decode("utf-8", "replace")
        for form in self._quick if quick else self._text:
            if form in data:
                return True
        return self._gate in data and self._escape.search(data) is not None

    def scrub(self, value: Any) -> Any:
        """`redact(value, secret)`: text, or dicts and lists of it, every form replaced."""
        return redact(value, self.secret)

    def scrub_json(self, data: bytes) -> bytes:
        """`data` (UTF-8 JSON, usually one answer chunk) with the secret redacted from every string,
        keys included, written back as JSON; data that is not JSON is redacted as text."""
        try:
            value = json.loads(data)
        except ValueError:  # UnicodeDecodeError included: text outside SSE framing, an error body
            return redact(data.decode("utf-8", "replace"), self.secret).encode("utf-8")
        return json.dumps(redact(value, self.secret), ensure_ascii=False).encode("utf-8")

    def scrub_events(self, events: list) -> list:
        """The decoders' events (NamedTuples with `data` bytes), those that may hold the secret (the
        quick test) scrubbed, in place; the same list."""
        quick, gate = self._quick, self._gate
        if len(events) > 1 and not self.found(b"\n".join([event.data for event in events]), True):
            return events  # one test for all the events of a network read (a line break between them)
        for index, event in enumerate(events):  # `found(data, True)`, inline: this runs once per event
            data = event.data
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("utf-8", "replace")
            for form in quick:
                if form in text:
                    break
            else:
                if gate not in text or self._escape.search(text) is None:
                    continue
            events[index] = event._replace(data=self.scrub_json(data))
        return events


@functools.lru_cache(maxsize=16)
def secret_scan(secret: str | None) -> SecretScan | None:
    """The SecretScan for a key, or None for no key or one too short to be real (as `redact`)."""
    if not secret or len(secret) < _MIN_KNOWN_LENGTH:
        return None
    return SecretScan(secret)
