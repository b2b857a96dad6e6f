"""The maps file (posekit.maps): save, load, and every way it can be wrong."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.errors import PosekitError
from posekit.maps import load_maps, save_maps


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return (rng.random((6, 10, 19), dtype=np.float32),
            rng.random((6, 10, 38), dtype=np.float32) - 0.5)


def test_round_trip(tmp_path, arrays):
    path = save_maps(tmp_path / "m.npz", *arrays, image_size=(80, 48))
    heat, paf, size = load_maps(path)
    np.testing.assert_array_equal(heat, arrays[0])
    np.testing.assert_array_equal(paf, arrays[1])
    assert size == (80, 48) and heat.dtype == paf.dtype == np.float32
    save_maps(tmp_path / "sub" / "n.npz", *arrays)
    assert load_maps(tmp_path / "sub" / "n.npz")[2] is None
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["m.npz", "n.npz", "sub"]


def test_plain_numpy_savez_is_read(tmp_path, arrays):
    np.savez(tmp_path / "m.npz", heatmaps=arrays[0].astype(np.float64), pafs=arrays[1],
             image_size=np.array([80.0, 48.0]))
    heat, _, size = load_maps(tmp_path / "m.npz")
    assert heat.dtype == np.float32 and size == (80, 48)


def write(path, **arrays):
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


@pytest.mark.parametrize(("make", "message"), [
    (lambda p, a: p / "missing.npz", "does not exist"),
    (lambda p, a: p, "is a directory"),
    (lambda p, a: (p / "t.npz").write_text("heatmaps") and p / "t.npz", "not a readable .npz"),
    (lambda p, a: np.save(p / "a.npy", a[0]) or p / "a.npy", "not named arrays"),
    (lambda p, a: write(p / "m.npz", heat=a[0], pafs=a[1]),
     "has no heatmaps (keys found: heat, pafs)"),
    (lambda p, a: write(p / "m.npz"), "has no heatmaps or pafs (keys found: none)"),
    (lambda p, a: write(p / "m.npz", heatmaps=a[0], pafs=a[1][:-1]), "pafs are 5x10"),
    (lambda p, a: write(p / "m.npz", heatmaps=a[0], pafs=a[1] * np.nan), "NaN"),
    (lambda p, a: write(p / "m.npz", heatmaps=a[0], pafs=a[1], image_size=[80, 48, 3]),
     "image_size must be [width, height]"),
    (lambda p, a: write(p / "m.npz", heatmaps=a[0], pafs=a[1], image_size=[-80, 48]),
     "got [-80, 48]"),
    (lambda p, a: write(p / "m.npz", heatmaps=a[0], pafs=a[1], image_size=[80.5, 48]),
     "image_size"),
    (lambda p, a: write(p / "m.npz", heatmaps=a[0], pafs=a[1], image_size="80x48"),
     "image_size"),
    (lambda p, a: write(p / "m.npz", heatmaps=a[0].astype(object), pafs=a[1]),
     "not a readable .npz"),
])
def test_bad_files_are_refused(tmp_path, arrays, make, message):
    path = make(tmp_path, arrays)
    with pytest.raises(PosekitError) as err:
        load_maps(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_save_refuses_bad_maps_and_leaves_nothing(tmp_path, arrays):
    with pytest.raises(PosekitError, match="NaN"):
        save_maps(tmp_path / "m.npz", arrays[0] * np.nan, arrays[1])
    with pytest.raises(PosekitError, match="image_size"):
        save_maps(tmp_path / "m.npz", *arrays, image_size=(0, 4))
    assert list(tmp_path.iterdir()) == []
