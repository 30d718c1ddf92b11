"""The public API of gemini_magic.parts: plain values, registry, size checks, descriptions, imports."""

from __future__ import annotations

import base64
import datetime
import io
import subprocess
import sys
import textwrap

import pytest

from gemini_magic.constants import INLINE_REQUEST_LIMIT
from gemini_magic.errors import ConversionError
from gemini_magic.parts import (RequestTooLargeError, check_request_size, convert, convert_all, describe_part,
                                register_converter, to_part, to_parts, unregister_converter)
from gemini_magic.parts import registry
from test_parts_helpers import inline_bytes, photo


@pytest.fixture
def clean_registry():
    saved = registry.snapshot()
    yield
    registry.restore(saved)


# --- plain values -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value,text", [("hé", "hé"), (3, "3"), (2.5, "2.5"), (True, "True"), (None, "None"),
                                        (1 + 2j, "(1+2j)")])
def test_scalars_are_text_as_python_writes_them(value, text):
    assert to_part(value) == {"text": text}


def test_plain_containers_are_indented_json_with_non_ascii_kept():
    assert to_part({"name": "Zoë", "tags": ["a", "b"], "n": None}) == {
        "text": '{\n  "name": "Zoë",\n  "tags": [\n    "a",\n    "b"\n  ],\n  "n": null\n}'}
    assert to_part((1, 2)) == {"text": "[\n  1,\n  2\n]"}
    assert to_part({3, 1, 2}) == {"text": "[\n  1,\n  2,\n  3\n]"}
    when = datetime.date(2024, 5, 17)
    assert to_part({"when": when}) == {"text": '{\n  "when": "2024-05-17"\n}'}


def test_a_circular_list_is_its_repr():
    loop = [1]
    loop.append(loop)
    assert to_part(loop) == {"text": "[1, [...]]"}


def test_a_list_of_images_is_one_part_per_element():
    pytest.importorskip("PIL")
    first, second = photo(20, 10), photo(30, 10, seed=1)
    parts = to_part(["Before:", first, "after:", second])
    assert [p.get("text") for p in parts] == ["Before:", None, "after:", None]
    assert inline_bytes(parts[1])[0] == "image/png" and inline_bytes(parts[3])[0] == "image/png"


def test_a_dict_holding_images_labels_each_one():
    pytest.importorskip("PIL")
    parts = to_part({"before": photo(20, 10), "after": photo(20, 10, seed=2)})
    assert parts[0] == {"text": "before:"} and parts[2] == {"text": "after:"}
    assert "inlineData" in parts[1] and "inlineData" in parts[3]


# --- registry ---------------------------------------------------------------------------------------

class Temperature:
    def __init__(self, celsius):
        self.celsius = celsius


class Fever(Temperature):
    pass


def test_register_by_type_is_found_along_the_mro(clean_registry):
    register_converter(Temperature, lambda obj, ctx: {"text": f"{obj.celsius} °C"})
    assert to_part(Fever(39.5)) == {"text": "39.5 °C"}


def test_register_by_qualified_name_without_importing(clean_registry):
    name = f"{Temperature.__module__}.Temperature"

    @register_converter(name)
    def temperature(obj, ctx):
        ctx.note("rounded")
        return [{"text": "Temperature:"}, ctx.convert(round(obj.celsius))[0]]

    result = convert(Fever(38.6))
    assert result.parts == [{"text": "Temperature:"}, {"text": "39"}] and result.notes == ["rounded"]
    assert unregister_converter(name) is temperature
    with pytest.raises(ConversionError):
        to_part(Fever(1))


def test_a_subclass_converter_wins_over_its_base(clean_registry):
    register_converter(Temperature, lambda obj, ctx: {"text": "base"})
    register_converter(f"{Fever.__module__}.Fever", lambda obj, ctx: {"text": "fever"})
    assert to_part(Fever(40)) == {"text": "fever"} and to_part(Temperature(20)) == {"text": "base"}


def test_a_user_converter_can_replace_a_builtin(clean_registry):
    register_converter(int, lambda obj, ctx: {"text": f"{obj:,}"})
    assert to_part(1234567) == {"text": "1,234,567"}


def test_a_converter_returning_something_else_than_parts_is_an_error(clean_registry):
    register_converter(Temperature, lambda obj, ctx: "20 °C")
    with pytest.raises(ConversionError, match="returned a str; a converter returns a part dict"):
        to_part(Temperature(20))


def test_unsupported_objects_name_their_type_and_the_way_out():
    with pytest.raises(ConversionError) as caught:
        to_part(Temperature(20))
    message = str(caught.value)
    assert message.startswith(f"Cannot send a {__name__}.Temperature object to Gemini. Supported: text,")
    assert "PIL images" in message and "pandas DataFrame" in message and "pathlib.Path" in message
    assert f'register_converter(\'{__name__}.Temperature\', lambda obj, ctx: {{"text": str(obj)}})' in message
    assert isinstance(caught.value, TypeError)


def test_objects_with_a_png_repr_are_sent_as_that_image():
    pytest.importorskip("PIL")

    class Chart:
        def _repr_png_(self):
            buffer = io.BytesIO()
            photo(40, 20).save(buffer, "PNG")
            return buffer.getvalue()

    mime, data = inline_bytes(to_part(Chart()))
    assert mime == "image/png" and data == Chart()._repr_png_()


# --- whole prompts and sizes ------------------------------------------------------------------------

def big_inline(mime: str, megabytes: float) -> dict:
    return {"inlineData": {"mimeType": mime, "data": "A" * int(megabytes * 1e6)}}


def test_to_parts_turns_strings_into_text_and_drops_empty_ones():
    assert to_parts(["Compare", "", 3, "and", [1]]) == [
        {"text": "Compare"}, {"text": "3"}, {"text": "and"}, {"text": "[\n  1\n]"}]


def test_check_request_size_names_the_large_part_and_the_remedies():
    parts = [{"text": "Describe"}, big_inline("image/png", 15.0), big_inline("video/mp4", 6.0)]
    with pytest.raises(RequestTooLargeError) as caught:
        check_request_size(parts)
    message = str(caught.value)
    assert "The request would carry 21.0 MB inline; the API takes at most 20.0 MB" in message
    assert "part 2 (image/png, 15.0 MB), part 3 (video/mp4, 6.0 MB)" in message
    assert "%gemini_upload" in message and "max_table_rows" in message
    assert isinstance(caught.value, ConversionError)
    assert check_request_size(parts[:2]) == 15_000_008
    assert INLINE_REQUEST_LIMIT == 20_000_000


def test_convert_all_checks_the_size_of_the_whole_prompt(clean_registry):
    register_converter(Temperature, lambda obj, ctx: big_inline("audio/wav", 11))
    assert len(convert_all(["a", Temperature(1)]).parts) == 2
    with pytest.raises(RequestTooLargeError, match="part 2 .*part 3"):
        convert_all(["a", Temperature(1), Temperature(2)])


# --- describe_part ----------------------------------------------------------------------------------

def encoded(mime: str, data: bytes) -> dict:
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}


def test_describe_text_image_table_audio_pdf_and_uploads():
    pytest.importorskip("PIL")
    from test_parts_media import pdf_bytes, wav_bytes

    assert describe_part({"text": "Hello   world\nagain"}) == {
        "kind": "text", "mime_type": "text/plain", "bytes": 19,
        "summary": "19 characters: 'Hello world again'", "note": None}
    buffer = io.BytesIO()
    photo(640, 480).save(buffer, "PNG")
    image = describe_part(encoded("image/png", buffer.getvalue()))
    assert image["kind"] == "image" and image["summary"] == "PNG 640x480" and image["bytes"] == len(buffer.getvalue())
    table = describe_part(encoded("text/csv", b'a,b\n1,"x\ny"\n2,z\n'))
    assert (table["kind"], table["summary"]) == ("table", "CSV 2 rows x 2 columns")
    assert describe_part(encoded("audio/wav", wav_bytes(1.5)))["summary"] == "WAV 1.50 s, 1 ch, 8000 Hz"
    assert describe_part(encoded("application/pdf", pdf_bytes()))["summary"] == "PDF 1 page"
    upload = describe_part({"fileData": {"mimeType": "video/mp4", "fileUri": "https://x/files/1"}})
    assert upload == {"kind": "video", "mime_type": "video/mp4", "bytes": 0,
                      "summary": "uploaded file https://x/files/1", "note": None}
    youtube = describe_part({"fileData": {"fileUri": "https://www.youtube.com/watch?v=x"}})
    assert (youtube["kind"], youtube["mime_type"], youtube["bytes"]) == ("file", "", 0)
    call = describe_part({"functionCall": {"name": "f"}})
    assert (call["kind"], call["mime_type"], call["bytes"], call["summary"]) == ("function call", "", 31, "f({})")


def test_conversion_describe_carries_the_notes():
    pytest.importorskip("PIL")
    from PIL import Image

    described = convert(Image.new("RGB", (4000, 100))).describe()
    assert described[0]["summary"] == "PNG 3072x77"
    assert described[0]["note"].startswith("image scaled from 4000x100 to 3072x77")


# --- imports ----------------------------------------------------------------------------------------

BLOCKER = textwrap.dedent("""
    import sys
    BLOCKED = {"pandas", "numpy", "matplotlib"}

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, Blocker())
""")


def run_python(code: str, tmp_path) -> str:
    done = subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120,
                          env={"PYTHONPATH": str(__import__("pathlib").Path(__file__).parents[1]),
                               "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_parts_imports_no_heavy_library(tmp_path):
    out = run_python("""
        import sys
        import gemini_magic.parts, gemini_magic.prompt
        heavy = ("requests", "PIL", "pandas", "numpy", "matplotlib", "ipywidgets", "IPython")
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
    """, tmp_path)
    assert out.strip() == "[]"


def test_images_bytes_and_paths_convert_without_pandas_numpy_or_matplotlib(tmp_path):
    out = run_python("""
        import base64, io, pathlib, sys
        from PIL import Image
        from gemini_magic.parts import to_part
        img = Image.new("RGBA", (64, 32), (255, 0, 0, 128))
        sent = to_part(img)["inlineData"]
        print(sent["mimeType"], Image.open(io.BytesIO(base64.b64decode(sent["data"]))).size)
        print(to_part(b"%PDF-1.4 tiny")["inlineData"]["mimeType"])
        path = pathlib.Path("photo.jpg")
        Image.new("RGB", (50, 40), "blue").save(path)
        part = to_part(Image.open(path))["inlineData"]
        print(part["mimeType"], base64.b64decode(part["data"]) == path.read_bytes())
        from_path = to_part(path)["inlineData"]
        print(from_path["mimeType"], from_path["data"] == part["data"])
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("pandas", "numpy", "matplotlib")))
    """, tmp_path)
    assert out.splitlines() == ["image/png (64, 32)", "application/pdf", "image/jpeg True", "image/jpeg True", "[]"]
