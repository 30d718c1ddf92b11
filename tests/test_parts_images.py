"""Images, image-like arrays and figures: original bytes kept, encoding chosen, sizes bounded."""

from __future__ import annotations

import io

import pytest

from gemini_magic.errors import ConversionError
from gemini_magic.parts import convert, to_part
from test_parts_helpers import inline_bytes, open_image, optional, photo, screenshot

Image = pytest.importorskip("PIL.Image")
ImageDraw = pytest.importorskip("PIL.ImageDraw")
ImageChops = pytest.importorskip("PIL.ImageChops")
ImageStat = pytest.importorskip("PIL.ImageStat")


@pytest.mark.parametrize("fmt,suffix,mime,options", [
    ("PNG", "png", "image/png", {}),
    ("JPEG", "jpg", "image/jpeg", {"quality": 83}),
    ("WEBP", "webp", "image/webp", {"quality": 80}),
])
def test_an_image_opened_from_a_file_is_sent_as_the_file_bytes(tmp_path, fmt, suffix, mime, options):
    path = tmp_path / f"photo.{suffix}"
    photo(320, 200).save(path, fmt, **options)
    img = Image.open(path)
    result = convert(img)
    assert result.notes == []
    assert inline_bytes(result.parts[0]) == (mime, path.read_bytes())


def test_a_loaded_but_unchanged_image_still_sends_the_file_bytes(tmp_path):
    path = tmp_path / "a.png"
    photo(100, 80).save(path)
    img = Image.open(path)
    img.load()
    assert inline_bytes(to_part(img))[1] == path.read_bytes()


def test_an_image_changed_in_place_is_re_encoded_with_the_change(tmp_path):
    path = tmp_path / "a.png"
    Image.new("RGB", (64, 64), (0, 0, 255)).save(path)
    img = Image.open(path)
    img.putpixel((3, 4), (255, 0, 0))
    mime, sent = open_image(to_part(img))
    assert inline_bytes(to_part(img))[1] != path.read_bytes()
    assert sent.getpixel((3, 4)) == (255, 0, 0) and sent.getpixel((5, 5)) == (0, 0, 255)


def test_a_thumbnailed_file_image_is_sent_at_its_new_size(tmp_path):
    path = tmp_path / "a.jpg"
    photo(800, 600).save(path, quality=90)
    img = Image.open(path)
    img.thumbnail((200, 200))
    _, sent = open_image(to_part(img))
    assert sent.size == img.size == (200, 150)


def test_a_copy_of_a_file_image_is_encoded_not_the_file(tmp_path):
    path = tmp_path / "a.jpg"
    photo(300, 200).save(path, quality=50)
    copy = Image.open(path).convert("L")
    mime, sent = open_image(to_part(copy))
    assert mime == "image/png" and sent.mode == "L" and sent.size == (300, 200)


def test_in_kernel_rgba_image_keeps_its_alpha_as_png():
    img = Image.new("RGBA", (120, 90), (200, 10, 10, 255))
    img.paste((0, 0, 255, 64), (10, 10, 60, 40))
    mime, sent = open_image(to_part(img))
    assert mime == "image/png" and sent.mode == "RGBA"
    assert sent.getpixel((20, 20)) == (0, 0, 255, 64) and sent.getpixel((100, 80)) == (200, 10, 10, 255)


def test_a_fully_opaque_alpha_channel_is_dropped_and_a_large_photo_becomes_jpeg():
    img = photo(1200, 900).convert("RGBA")
    mime, sent = open_image(to_part(img))
    assert mime == "image/jpeg" and sent.mode == "RGB" and sent.size == (1200, 900)


def test_small_images_are_png_and_large_photos_jpeg():
    small_mime, small = open_image(to_part(photo(600, 400)))
    large_mime, large = open_image(to_part(photo(1000, 800)))
    assert (small_mime, small.size) == ("image/png", (600, 400))
    assert (large_mime, large.size) == ("image/jpeg", (1000, 800))
    assert small.tobytes() == photo(600, 400).tobytes()  # PNG is lossless


def test_a_large_screenshot_is_png_because_it_is_graphic():
    img = screenshot(1920, 1080)
    assert img.getcolors(256) is None  # antialiased text: not a few-colour image
    mime, sent = open_image(to_part(img))
    assert mime == "image/png" and sent.tobytes() == img.tobytes()


def test_sixteen_bit_grayscale_is_stretched_to_eight_bit():
    img = Image.new("I;16", (64, 48))
    for x in range(64):
        for y in range(48):
            img.putpixel((x, y), 1000 + x * 40)
    result = convert(img)
    mime, sent = open_image(result.parts[0])
    assert mime == "image/png" and sent.mode == "L"
    assert sent.getpixel((0, 0)) == 0 and sent.getpixel((63, 0)) == 255
    assert 120 <= sent.getpixel((32, 0)) <= 135
    assert any("16-bit grayscale" in note and "1000" in note and "3520" in note for note in result.notes)


@pytest.mark.parametrize("mode,expected_mode", [("F", "L"), ("I", "L"), ("CMYK", "RGB"), ("1", "1"),
                                                 ("LA", "LA"), ("YCbCr", "RGB")])
def test_other_modes_are_converted_sensibly(mode, expected_mode):
    img = photo(40, 30).convert(mode)
    if mode == "LA":
        img.putalpha(Image.linear_gradient("L").resize((40, 30)))
    mime, sent = open_image(to_part(img))
    assert mime == "image/png" and sent.mode == expected_mode and sent.size == (40, 30)


def test_palette_with_transparency_becomes_rgba_and_plain_palette_stays_a_palette():
    transparent = Image.new("P", (50, 50), 0)
    transparent.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    transparent.paste(1, (0, 0, 25, 50))
    transparent.info["transparency"] = 0
    _, sent = open_image(to_part(transparent))
    assert sent.mode == "RGBA" and sent.getpixel((40, 10))[3] == 0 and sent.getpixel((10, 10)) == (0, 255, 0, 255)
    plain = transparent.copy()
    del plain.info["transparency"]
    _, sent = open_image(to_part(plain))
    assert sent.mode == "P" and sent.convert("RGB").getpixel((10, 10)) == (0, 255, 0)


def test_exif_rotated_jpeg_is_sent_upright(tmp_path):
    path = tmp_path / "rotated.jpg"
    img = Image.new("RGB", (300, 200), (255, 255, 255))
    img.paste((255, 0, 0), (0, 0, 30, 30))  # a red mark in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img.save(path, quality=95, exif=exif)
    opened = Image.open(path)
    result = convert(opened)
    mime, sent = open_image(result.parts[0])
    assert inline_bytes(result.parts[0])[1] != path.read_bytes()
    assert sent.size == (200, 300)
    red, green, blue = sent.getpixel((185, 10))  # top-left moved to top-right
    assert red > 200 and green < 60 and blue < 60
    assert any("EXIF orientation 6" in note for note in result.notes)


def test_a_huge_image_is_scaled_to_the_longest_side_the_model_uses():
    img = Image.new("RGB", (6000, 1500), (10, 120, 200))
    result = convert(img)
    _, sent = open_image(result.parts[0])
    assert sent.size == (3072, 768)
    assert result.notes == ["image scaled from 6000x1500 to 3072x768 (the model uses at most 3072 px a side)"]


def test_an_oversized_file_image_is_scaled_not_sent_as_is(tmp_path):
    path = tmp_path / "big.png"
    Image.new("RGB", (3200, 100), (1, 2, 3)).save(path)
    _, sent = open_image(to_part(Image.open(path)))
    assert sent.size == (3072, 96)


def test_a_12_mp_jpeg_file_is_sent_at_exactly_the_cap_and_the_callers_image_is_untouched(tmp_path):
    path = tmp_path / "photo.jpg"
    photo = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    photo.paste((200, 30, 30), (0, 0, 2000, 1500))  # a red top-left quarter
    photo.save(path, quality=90)
    img = Image.open(path)
    result = convert(img)
    mime, sent = open_image(result.parts[0])
    assert mime == "image/jpeg" and sent.size == (3072, 2304)  # the service's own cap, not half scale
    red, green, blue = sent.getpixel((700, 500))
    assert red > 170 and green < 70 and blue < 70
    assert result.notes == ["image scaled from 4000x3000 to 3072x2304 (the model uses at most 3072 px a side)"]
    assert img.size == (4000, 3000) and img.tile  # the caller's image: same size, still not decoded


def test_fine_text_in_a_photographed_page_keeps_its_detail(tmp_path):
    """One-pixel strokes 2 px apart survive at 3072 px (at half scale they blur into grey)."""
    path = tmp_path / "page.jpg"
    page = Image.new("L", (4096, 3072), 255)
    draw = ImageDraw.Draw(page)
    for x in range(1000, 1400, 4):  # stripes 4 px apart at full size: 3 px apart once sent
        draw.line((x, 1000, x, 1400), fill=0, width=2)
    page.convert("RGB").save(path, quality=95)
    _, sent = open_image(to_part(Image.open(path)))
    assert sent.size == (3072, 2304)
    row = [sent.getpixel((x, 900))[0] for x in range(760, 1030)]
    assert max(row) - min(row) > 120, (min(row), max(row))  # light and dark stripes still apart


@pytest.mark.parametrize("size, sent_size", [((7000, 100), (3072, 44)), ((3200, 100), (3072, 96)),
                                             ((6144, 100), (3072, 50)), ((25000, 100), (3072, 13))])
def test_a_jpeg_is_reduced_by_the_decoder_while_the_cap_is_kept_then_resampled_to_it(tmp_path, size, sent_size):
    path = tmp_path / "wide.jpg"
    Image.new("RGB", size, (1, 2, 3)).save(path)
    _, sent = open_image(to_part(Image.open(path)))
    assert sent.size == sent_size


def test_oversized_jpeg_bytes_are_decoded_at_reduced_scale_too(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (8001, 6001), (200, 30, 30)).save(buffer, "JPEG")
    result = convert(buffer.getvalue())
    mime, sent = open_image(result.parts[-1])
    assert mime == "image/jpeg" and sent.size == (3072, 2304)
    assert result.notes[-1] == ("image scaled from 8001x6001 to 3072x2304 (the model uses at most 3072 px a side; "
                                "the JPEG was decoded at 1/2 scale)")


@pytest.mark.parametrize("stripes", [2, 3])
def test_a_large_resample_in_stripes_gives_the_pixels_of_one_resample(monkeypatch, stripes):
    from gemini_magic.parts import images

    monkeypatch.setattr(images, "RESAMPLE_THREADS", stripes)  # whatever this machine's core count
    img = photo(4000, 3000)
    striped = images._scaled_to(img, 3072)
    whole = img.resize((3072, 2304), getattr(Image.Resampling, images.RESAMPLE_FILTER))
    assert striped.size == (3072, 2304)
    difference = ImageChops.difference(striped, whole)
    assert max(high for _, high in difference.getextrema()) <= 4  # at most the rounding between passes
    assert ImageStat.Stat(difference).mean[0] < 0.5


def test_a_decoded_or_changed_jpeg_is_resampled_at_full_scale(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (3200, 100), (1, 2, 3)).save(path)
    img = Image.open(path)
    img.putpixel((3199, 99), (255, 255, 255))  # decodes it: the file no longer shows these pixels
    _, sent = open_image(to_part(img))
    assert sent.size == (3072, 96)


def test_an_exif_rotated_oversized_jpeg_is_reduced_and_turned_upright(tmp_path):
    path = tmp_path / "rotated.jpg"
    img = Image.new("RGB", (4000, 200), (20, 20, 20))
    img.paste((255, 0, 0), (0, 0, 200, 200))  # a red mark at the stored left end
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    img.save(path, exif=exif.tobytes())
    result = convert(Image.open(path))
    _, sent = open_image(result.parts[0])
    assert sent.size == (154, 3072)
    red, green, blue = sent.getpixel((77, 77))  # the left end is now at the top
    assert red > 200 and green < 60 and blue < 60
    assert "image scaled from 200x4000 to 154x3072" in result.notes[-1]


@pytest.mark.parametrize("size", [(0, 0), (0, 10), (10, 0)])
def test_an_empty_image_is_a_clear_conversion_error(size):
    with pytest.raises(ConversionError, match=rf"The image is empty \({size[0]}x{size[1]} pixels\); pass an image"):
        to_part(Image.new("RGB", size))


def test_an_image_over_the_inline_budget_is_shrunk_until_it_fits(parts_settings):
    parts_settings.inline_part_budget = 60_000
    img = photo(1200, 900)
    result = convert(img)
    mime, data = inline_bytes(result.parts[0])
    assert mime == "image/jpeg" and len(data) <= 60_000
    assert any("to fit the 60.0 kB inline budget" in note for note in result.notes)


def test_a_transparent_image_over_the_budget_stays_png_but_smaller(parts_settings):
    parts_settings.inline_part_budget = 200_000
    img = photo(800, 600).convert("RGBA")
    img.putalpha(128)
    mime, data = inline_bytes(to_part(img))
    sent = Image.open(io.BytesIO(data))
    assert mime == "image/png" and len(data) <= 200_000 and sent.mode == "RGBA" and sent.width < 800


def test_gif_is_re_encoded_because_the_api_does_not_take_it(tmp_path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("P", (40, 30), i) for i in range(3)]
    for i, frame in enumerate(frames):
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    img = Image.open(path)
    img.seek(2)
    result = convert(img)
    mime, sent = open_image(result.parts[0])
    assert mime == "image/png" and sent.convert("RGB").getpixel((0, 0)) == (0, 255, 0)
    assert "animated image: frame 3 of 3 sent" in result.notes
    from_path = convert(path)
    assert from_path.parts[0]["inlineData"]["mimeType"] == "image/png"
    assert any("GIF image re-encoded" in note for note in from_path.notes)


# --- numpy arrays shaped like images ---------------------------------------------------------------

@pytest.fixture
def np():
    return optional("numpy")


def test_uint8_color_arrays_become_lossless_images(np):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, size=(48, 64, 4), dtype=np.uint8)
    _, sent = open_image(to_part(rgb))
    assert sent.mode == "RGB" and np.array_equal(np.asarray(sent), rgb)
    _, sent = open_image(to_part(rgba))
    assert sent.mode == "RGBA" and np.array_equal(np.asarray(sent), rgba)


def test_float_and_bool_arrays_become_grayscale_images(np):
    ramp = np.tile(np.linspace(0.0, 1.0, 64), (40, 1))
    result = convert(ramp)
    _, sent = open_image(result.parts[0])
    pixels = np.asarray(sent)
    assert sent.mode == "L" and pixels[0, 0] == 0 and pixels[0, -1] == 255
    assert "sent as a grayscale image" in result.notes[0]
    mask = np.zeros((40, 40), dtype=bool)
    mask[:20] = True
    _, sent = open_image(to_part(mask))
    assert np.asarray(sent)[0, 0] == 255 and np.asarray(sent)[30, 0] == 0


def test_non_contiguous_color_array_is_an_image(np):
    rng = np.random.default_rng(2)
    arr = rng.integers(0, 256, size=(40, 50, 3), dtype=np.uint8)[:, ::-1]
    _, sent = open_image(to_part(arr))
    assert np.array_equal(np.asarray(sent), arr)


# --- matplotlib ------------------------------------------------------------------------------------

def test_a_figure_becomes_a_png_near_figsize_times_dpi(parts_settings):
    matplotlib = optional("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [2, 0, 1])
    ax.set_title("A title")
    mime, sent = open_image(to_part(fig))
    assert mime == "image/png"
    assert 0.8 * 900 <= sent.width <= 1.05 * 900 and 0.8 * 600 <= sent.height <= 1.05 * 600
    parts_settings.figure_dpi = 100
    _, smaller = open_image(to_part(fig))
    assert abs(smaller.width - sent.width * 2 / 3) < 20


def test_an_axes_sends_its_whole_figure():
    matplotlib = optional("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    try:
        left.plot([1, 2, 3])
        result = convert(right)
        _, from_axes = open_image(result.parts[0])
        _, from_figure = open_image(to_part(fig))
        assert from_axes.size == from_figure.size
        assert result.notes == ["the whole figure of this Axes was sent (2 axes)"]
    finally:
        plt.close(fig)
