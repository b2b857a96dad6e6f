"""Image loading: every kind of image a user may have becomes (h, w, 3) uint8 RGB."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from posekit.errors import PosekitError
from posekit.inference.images import load_image


def _photo(w=120, h=80, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((h, w, 3)) * 255).astype(np.uint8)


@pytest.mark.parametrize("kind", ["progressive.jpg", "gray.png", "rgba.png", "palette.gif",
                                  "cmyk.jpg", "gray16.png", "plain.png", "bitmap.bmp",
                                  "image.webp"])
def test_every_kind_becomes_rgb_with_its_size(tmp_path, kind):
    rgb = Image.fromarray(_photo())
    path = tmp_path / kind
    if kind == "progressive.jpg":
        rgb.save(path, progressive=True, quality=90)
    elif kind == "gray.png":
        rgb.convert("L").save(path)
    elif kind == "rgba.png":
        rgb.convert("RGBA").save(path)
    elif kind == "palette.gif":
        rgb.convert("P").save(path)
    elif kind == "cmyk.jpg":
        rgb.convert("CMYK").save(path)
    elif kind == "gray16.png":
        Image.fromarray((np.arange(80 * 120).reshape(80, 120) * 8).astype(np.uint16)).save(path)
    else:
        rgb.save(path)
    im = load_image(path)
    assert im.pixels.shape == (80, 120, 3) and im.pixels.dtype == np.uint8
    assert im.size == (120, 80) and im.scale == (1.0, 1.0)
    assert im.pixels.std() > 10  # real content, not a blank conversion


def test_gray16_uses_the_full_range(tmp_path):
    ramp = np.linspace(0, 65535, 100 * 10).reshape(10, 100).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "g.png")
    px = load_image(tmp_path / "g.png").pixels
    assert px.min() == 0 and px.max() == 255


def test_transparency_is_composited_over_white(tmp_path):
    rgba = np.zeros((20, 30, 4), np.uint8)  # fully transparent black
    rgba[:, :15] = (255, 0, 0, 255)  # opaque red left half
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    px = load_image(tmp_path / "t.png").pixels
    assert tuple(px[10, 5]) == (255, 0, 0)
    assert tuple(px[10, 25]) == (255, 255, 255)


@pytest.mark.parametrize("orientation, corner", [(1, (0, 0)), (3, (-1, -1)), (6, (0, -1)),
                                                 (8, (-1, 0))])
def test_exif_orientation_is_applied(tmp_path, orientation, corner):
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:8, :8] = 255  # a white mark in the stored image's top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(tmp_path / "r.jpg", exif=exif, quality=95)
    im = load_image(tmp_path / "r.jpg")
    rotated = orientation in (6, 8)
    assert im.size == ((40, 60) if rotated else (60, 40))
    assert im.pixels.shape[:2] == (im.size[1], im.size[0])
    r, c = corner
    patch = im.pixels[0:8, 0:8] if (r, c) == (0, 0) else im.pixels[
        (slice(-8, None) if r else slice(0, 8)), (slice(-8, None) if c else slice(0, 8))]
    assert patch.mean() > 200  # the mark ends up where a viewer sees it


def test_large_image_is_downscaled_but_keeps_its_original_size(tmp_path):
    big = Image.new("RGB", (5000, 3000), (90, 120, 150))
    big.save(tmp_path / "big.jpg", quality=70)
    im = load_image(tmp_path / "big.jpg", max_side=1000)
    assert im.size == (5000, 3000)
    assert im.working_size == (1000, 600)
    assert im.scale == pytest.approx((5.0, 5.0))


def test_image_over_the_pixel_limit_is_refused(tmp_path):
    Image.new("RGB", (400, 300)).save(tmp_path / "huge.png")
    with pytest.raises(PosekitError, match=r"huge\.png.*megapixels.*downscale"):
        load_image(tmp_path / "huge.png", max_pixels=100_000)


@pytest.mark.parametrize("case, message", [
    ("truncated", "truncated or corrupt"),
    ("empty", "empty file"),
    ("text", "not an image"),
    ("missing", "no such file"),
    ("folder", "is a folder"),
])
def test_bad_files_raise_a_clear_error(tmp_path, case, message):
    path = tmp_path / f"{case}.jpg"
    if case == "truncated":
        buf = tmp_path / "full.jpg"
        Image.fromarray(_photo(300, 200)).save(buf, quality=95)
        data = buf.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("hello, not a picture")
    elif case == "folder":
        path.mkdir()
    with pytest.raises(PosekitError, match=message) as info:
        load_image(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_arrays_and_pil_images(tmp_path):
    arr = _photo(50, 40)
    im = load_image(arr)
    assert im.size == (50, 40) and np.array_equal(im.pixels, arr)
    assert load_image(arr[:, :, 0]).pixels.shape == (40, 50, 3)
    assert np.array_equal(load_image(Image.fromarray(arr)).pixels, arr)
    with pytest.raises(PosekitError, match="uint8"):
        load_image(arr.astype(np.float32))
    with pytest.raises(PosekitError, match=r"\(H, W, 3\)"):
        load_image(np.zeros((4, 5, 2), np.uint8))
    with pytest.raises(PosekitError, match="file path, a PIL image"):
        load_image(12)
