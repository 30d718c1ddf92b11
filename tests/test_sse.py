"""The SSE and JSON-array decoders on adversarial byte splits."""

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemini_magic.errors import StreamProtocolError
from gemini_magic.wire.sse import DataEvent, JSONArrayDecoder, RawEvent, SSEDecoder

EVENTS = [
    {"candidates": [{"content": {"parts": [{"text": "Zażółć gęślą jaźń 🙂 — 東京"}]}}]},
    {"candidates": [{"content": {"parts": [{"text": "line\u2028separator\u2029and\x85next"}]}}]},
    {"candidates": [{"content": {"parts": [{"text": "end"}]}, "finishReason": "STOP"}]},
]


def decode(pieces, decoder=None):
    decoder = decoder or SSEDecoder()
    events = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    events.extend(decoder.close())
    return events


def split_at(data: bytes, cuts):
    cuts = sorted({c for c in cuts if 0 < c < len(data)})
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def body(separator: bytes, events=EVENTS, last_blank=True) -> bytes:
    # ensure_ascii=False: the service sends raw UTF-8, and U+2028 must survive inside the JSON string
    lines = [b"data: " + json.dumps(e, ensure_ascii=False).encode() for e in events]
    out = (separator * 2).join(lines)
    return out + (separator * 2 if last_blank else b"")


@pytest.mark.parametrize("separator", [b"\r\n", b"\n", b"\r"])
def test_every_single_byte_split(separator):
    data = body(separator)
    for cut in range(1, len(data)):
        events = decode([data[:cut], data[cut:]])
        assert [json.loads(e.data) for e in events] == EVENTS, cut


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"\r\n", b"\n", b"\r"]), st.lists(st.integers(min_value=1, max_value=600), max_size=30),
       st.booleans())
def test_random_splits(separator, cuts, last_blank):
    data = body(separator, last_blank=last_blank)
    events = decode(split_at(data, cuts))
    assert all(isinstance(e, DataEvent) for e in events)
    assert [json.loads(e.data) for e in events] == EVENTS


def test_one_byte_at_a_time_with_multibyte_characters():
    data = body(b"\r\n")
    events = decode([data[i:i + 1] for i in range(len(data))])
    assert json.loads(events[0].data)["candidates"][0]["content"]["parts"][0]["text"] == "Zażółć gęślą jaźń 🙂 — 東京"


def test_unicode_line_separators_inside_json_are_not_line_breaks():
    events = decode([body(b"\n")])
    assert json.loads(events[1].data)["candidates"][0]["content"]["parts"][0]["text"] == "line\u2028separator\u2029and\x85next"


def test_last_event_without_blank_line_is_delivered():
    events = decode([b'data: {"a": 1}\r\n\r\ndata: {"b": 2}'])
    assert [json.loads(e.data) for e in events] == [{"a": 1}, {"b": 2}]


def test_multi_line_data_joined_with_newline_and_fields_ignored():
    events = decode([b": comment\r\nevent: x\r\nid: 7\r\ndata: {\"a\":\r\ndata:  1}\r\n\r\n"])
    assert [e.data for e in events] == [b'{"a":\n 1}']
    assert json.loads(events[0].data) == {"a": 1}


def test_long_line_over_two_mebibytes_in_small_pieces():
    signature = "A" * (3 * 1024 * 1024)
    data = body(b"\r\n", [{"candidates": [{"content": {"parts": [{"text": "", "thoughtSignature": signature}]}}]}])
    events = decode([data[i:i + 4096] for i in range(0, len(data), 4096)])
    assert json.loads(events[0].data)["candidates"][0]["content"]["parts"][0]["thoughtSignature"] == signature


def test_raw_json_error_after_events():
    error = b'{\n  "error": {\n    "code": 500,\n    "message": "An internal error has occurred.",\n    "status": "INTERNAL"\n  }\n}\n'
    data = body(b"\r\n", EVENTS[:1]) + error
    for cut in range(1, len(data), 7):
        events = decode([data[:cut], data[cut:]])
        assert isinstance(events[0], DataEvent)
        assert isinstance(events[-1], RawEvent)
        assert json.loads(events[-1].data)["error"]["code"] == 500


def test_single_line_raw_error_like_the_recording():
    line = b'{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}'
    events = decode([line])
    assert isinstance(events[0], RawEvent) and json.loads(events[0].data)["error"]["status"] == "INTERNAL"


def test_garbage_at_the_end_is_a_protocol_error():
    with pytest.raises(StreamProtocolError, match="not an event"):
        decode([b'data: {"a": 1}\n\n<html>Bad gateway'])


def test_cr_at_piece_end_then_lf_is_one_break():
    events = decode([b'data: {"a": 1}\r', b'\n\r', b'\ndata: {"b": 2}\r\n\r\n'])
    assert [json.loads(e.data) for e in events] == [{"a": 1}, {"b": 2}]


# The decoder's hot loop (SSEDecoder._lines) handles `data: ` lines and event ends inline and hands
# every other line to the general path: the events must be the same whatever shape the reads take.

LINE_KINDS = [b'data: {"a": "\xc5\xbc\xf0\x9f\x99\x82"}', b"data:{\"b\":1}", b"data", b"data:", b": comment",
              b"event: message", b"id: 3", b"retry: 10", b'data: {"c":', b"data:  2}", b"",
              b'{"error": {"code": 503, "status": "UNAVAILABLE"}}']


def reference_events(lines, separator):
    """The events of a body, decoded one byte per read (the general path only)."""
    data = b"".join(line + separator for line in lines)
    return decode([data[i:i + 1] for i in range(len(data))])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINE_KINDS), max_size=14), st.sampled_from([b"\r\n", b"\n"]))
def test_hot_loop_gives_the_same_events_as_byte_reads(lines, separator):
    lines = [*lines, b""]
    data = b"".join(line + separator for line in lines)
    expected = reference_events(lines, separator)
    assert decode([data]) == expected  # one read ending at a line break: the hot loop
    assert decode([line + separator for line in lines]) == expected  # one read per line
    assert decode([data[:len(data) // 2], data[len(data) // 2:]]) == expected  # the buffered path


def test_one_read_per_event_gives_exact_bytes_with_each_separator():
    for separator in (b"\r\n", b"\n", b"\r"):
        data = body(separator)
        pieces = [piece + separator * 2 for piece in data.split(separator * 2) if piece]
        events = decode(pieces)
        assert [e.data for e in events] == [json.dumps(e, ensure_ascii=False).encode() for e in EVENTS]


def test_event_split_inside_a_multibyte_character_keeps_its_bytes():
    event = 'data: {"t": "a🙂b"}\r\n\r\n'.encode()
    emoji = event.index("🙂".encode())
    for cut in range(emoji, emoji + 5):  # before, inside (3 places) and after the 4-byte character
        events = decode([event[:cut], event[cut:], b'data: {"n": 2}\r\n\r\n'])
        assert [e.data for e in events] == ['{"t": "a🙂b"}'.encode(), b'{"n": 2}'], cut


def test_event_split_between_cr_and_lf_of_its_blank_line():
    first, second = b'data: {"a": 1}\r\n\r', b'\ndata: {"b": 2}\r\n\r\n'
    events = decode([first, second])
    assert [e.data for e in events] == [b'{"a": 1}', b'{"b": 2}']
    decoder = SSEDecoder()
    assert decoder.feed(first) == []  # the lone CR may be the start of a CRLF: the event waits for it
    assert decoder.feed(second) == [DataEvent(b'{"a": 1}'), DataEvent(b'{"b": 2}')]


def test_raw_error_then_events_in_whole_reads():
    error = b'{\r\n  "error": {"code": 500}\r\n}\r\n'
    events = decode([b'data: {"a": 1}\r\n\r\n', error, b'\r\n', b'data: {"b": 2}\r\n\r\n'])
    assert events == [DataEvent(b'{"a": 1}'), RawEvent(b'{\n  "error": {"code": 500}\n}'), DataEvent(b'{"b": 2}')]


ARRAY = '[{\n  "candidates": [{"content": {"parts": [{"text": "Zażółć 🙂 [x] {y}"}]}}]\n}\n,\r\n{\n  "usageMetadata": {"totalTokenCount": 3}\n}\n]'


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=200), max_size=20))
def test_json_array_stream_random_splits(cuts):
    data = ARRAY.encode()
    events = decode(split_at(data, cuts), JSONArrayDecoder())
    assert [json.loads(e.data) for e in events] == json.loads(ARRAY)


def test_json_array_stream_cut_mid_element_is_an_error():
    with pytest.raises(StreamProtocolError):
        decode([ARRAY.encode()[:40]], JSONArrayDecoder())


# --- the JSON-array decoder: exact element bytes, whatever the reads ------------------------------

TRICKY = [
    {"candidates": [{"content": {"parts": [{"text": 'braces } { ] [ in "quotes" and a backslash \\ at the end\\'}]}}]},
    {"candidates": [{"content": {"parts": [{"text": "Zażółć 🙂 東京 \u2028"}], "role": "model"}, "index": 0}]},
    {"nested": [[1, [2, {"a": [3]}]], {}, []], "empty": "", "escapes": "\\\"\\\\\"\n\t\u0000"},
    {"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}},
    {"usageMetadata": {"totalTokenCount": 3}},
]


def tricky_array(elements=TRICKY, ensure_ascii=False) -> tuple[bytes, list[bytes]]:
    """A JSON array as a server might format it, and the exact bytes of each element in it."""
    encoded = [json.dumps(e, ensure_ascii=ensure_ascii, indent=1 if i % 2 else None).encode()
               for i, e in enumerate(elements)]
    return b"[" + b"\r\n,\n ".join(encoded) + b"\n]\n", encoded


@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_json_array_every_single_byte_split_gives_the_exact_element_bytes(ensure_ascii):
    data, elements = tricky_array(ensure_ascii=ensure_ascii)
    for cut in range(1, len(data)):
        events = decode([data[:cut], data[cut:]], JSONArrayDecoder())
        assert [e.data for e in events] == elements, cut
        assert [type(e) for e in events] == [DataEvent, DataEvent, DataEvent, RawEvent, DataEvent]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400), max_size=40))
def test_json_array_random_splits_give_the_exact_element_bytes(cuts):
    data, elements = tricky_array()
    assert [e.data for e in decode(split_at(data, cuts), JSONArrayDecoder())] == elements


def test_json_array_one_byte_at_a_time():
    data, elements = tricky_array()
    assert [e.data for e in decode([data[i:i + 1] for i in range(len(data))], JSONArrayDecoder())] == elements


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=9000), st.integers(min_value=0, max_value=2))
def test_json_array_big_elements_past_the_scanner_threshold(step, where):
    # Over 64 KiB the end is found by the scanner that keeps its place across reads: a backslash
    # or a multi-byte character may be cut anywhere, and braces inside strings do not count.
    text = ('{"key": "}]" } \\" \\\\ 🙂 ' * 4000)
    big = {"candidates": [{"content": {"parts": [{"text": text}]}}], "list": [[{}], []]}
    elements = [TRICKY[0], TRICKY[1], TRICKY[4]]
    elements.insert(where, big)
    data, exact = tricky_array(elements)
    assert len(exact[where]) > 100_000
    events = decode([data[i:i + step] for i in range(0, len(data), step)], JSONArrayDecoder())
    assert [e.data for e in events] == exact
    assert json.loads(events[where].data) == big


def test_json_array_bare_error_object_instead_of_an_array():
    body = b'{\n  "error": {\n    "code": 429,\n    "status": "RESOURCE_EXHAUSTED"\n  }\n}\n'
    for cut in range(1, len(body)):
        events = decode([body[:cut], body[cut:]], JSONArrayDecoder())
        assert [type(e) for e in events] == [RawEvent] and json.loads(events[0].data)["error"]["code"] == 429


def test_json_array_element_that_merely_mentions_error_is_data():
    element = {"candidates": [{"content": {"parts": [{"text": 'say "error"'}]}}]}
    events = decode([json.dumps([element]).encode()], JSONArrayDecoder())
    assert [type(e) for e in events] == [DataEvent]


@pytest.mark.parametrize("body", [b'[{"a": 1}, {"b": ', b'[{"a": "}', b'{"a": [1, 2}'])
def test_json_array_cut_anywhere_inside_an_element_is_an_error(body):
    with pytest.raises(StreamProtocolError, match="middle of an element"):
        decode([body], JSONArrayDecoder())


@pytest.mark.parametrize("body, message", [(b'[{"a": 1}] {"b": 2}', "after its end"),
                                           (b"<html>Bad gateway</html>", "not a JSON array"),
                                           (b'[{"a": 1}, 3]', "not a JSON array")])
def test_json_array_text_that_is_not_an_array_of_objects_is_an_error(body, message):
    with pytest.raises(StreamProtocolError, match=message):
        decode([body], JSONArrayDecoder())


def test_json_array_empty_and_whitespace_bodies_give_no_events():
    assert decode([b""], JSONArrayDecoder()) == []
    assert decode([b" [\r\n", b" ]\n"], JSONArrayDecoder()) == []


def test_json_array_big_element_in_small_reads_is_linear():
    # The decoder this replaced re-parsed the element from its start on every read: about 30 s here.
    element = json.dumps({"candidates": [{"content": {"parts": [{"text": 'x{y}"z\\' * 600_000}]}}]}).encode()
    data = b"[" + element + b"]"
    decoder = JSONArrayDecoder()
    started = time.process_time()
    events = [e for i in range(0, len(data), 1024) for e in decoder.feed(data[i:i + 1024])]
    events += decoder.close()
    assert time.process_time() - started < 2.0
    assert [e.data for e in events] == [element]


@pytest.mark.parametrize("data, chunks", [
    (b'{"a": [1, "\xc5\xbc"]}', [{"a": [1, "ż"]}]),
    (b' \r\n{"a": 1} \n', [{"a": 1}]),  # whitespace around the object: json.loads's own rules
    (b'[{"a": 1}, {"b": 2}]', [{"a": 1}, {"b": 2}]),
])
def test_decode_event_matches_json_loads(data, chunks):
    from gemini_magic.wire.decode import decode_event

    assert decode_event(data) == chunks == (lambda v: v if isinstance(v, list) else [v])(json.loads(data))


@pytest.mark.parametrize("data", [b'{"a": 1} {"b": 2}', b'{"a": 1}x', b'{"a": ', b"nope", b"", b'{"a": "\xff"}'])
def test_decode_event_refuses_what_json_loads_refuses(data):
    from gemini_magic.wire.decode import decode_event

    with pytest.raises(StreamProtocolError, match="not JSON"):
        decode_event(data)
