"""The pipelined ``PoseEstimator.stream``: same people as ``predict``, whatever the batch
size, the worker count or the mix of image sizes; peaks on the device equal the numpy
path's."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from PIL import Image

import posekit
from posekit.decode import find_peaks
from posekit.errors import PosekitError
from posekit.inference import PoseEstimator, bundled_weights, example_image
from posekit.inference.gpu_peaks import device_peaks
from posekit.inference.pipeline import Pipeline
from posekit.synth.render import synth_scene
from posekit.targets import render_targets

SKELETON = posekit.load_skeleton("coco18")
HAS_DEMO = bundled_weights("coco18") is not None and bundled_weights("coco18").is_file()


def _crops():
    """The bundled example cut to five different sizes (and so input sizes)."""
    ex = np.asarray(Image.open(example_image()).convert("RGB"))
    h, w = ex.shape[:2]
    return [ex, ex[: h * 3 // 4], ex[:, : w // 2], ex[h // 4:, w // 5:], ex[::2, ::2]]


def _same(a, b):
    assert len(a) == len(b)
    for p, q in zip(a, b, strict=True):
        assert np.allclose(p.keypoints, q.keypoints, atol=1e-3) and abs(p.score - q.score) < 1e-4


def test_maps_of_an_image_do_not_depend_on_its_batch(tiny_weights):
    est = PoseEstimator("coco18", tiny_weights, batch_size=4)
    rng = np.random.default_rng(0)
    small, big = ((rng.random(s) * 255).astype(np.uint8) for s in ((40, 50, 3), (64, 130, 3)))
    alone = est.maps([est.load(small)])[0]
    batched = est.maps([est.load(big), est.load(small)])[1]
    for a, b in zip(alone, batched, strict=True):
        assert a.shape == b.shape and np.allclose(a, b, atol=1e-5)


@pytest.mark.skipif(not HAS_DEMO, reason="no bundled demo weights")
def test_people_do_not_depend_on_batch_size_with_mixed_image_sizes():
    images = _crops()
    ref = PoseEstimator("coco18", batch_size=1, warn_demo=False).predict(images)
    assert sum(len(p) for p in ref) >= 5
    est = PoseEstimator("coco18", batch_size=4, warn_demo=False)
    for got in (est.predict(images), [p for _, p in est.stream(images, workers=0)]):
        for a, b in zip(ref, got, strict=True):
            _same(a, b)


@pytest.mark.skipif(not HAS_DEMO, reason="no bundled demo weights")
def test_stream_keeps_order_and_reports_bad_inputs_in_place(tmp_path):
    images = _crops()[:3]
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    est = PoseEstimator("coco18", batch_size=2, warn_demo=False)
    ref = est.predict(images)
    out = list(est.stream([images[0], bad, images[1], images[2]], workers=0))
    assert [k for k, _ in out] == [0, 1, 2, 3]
    assert isinstance(out[1][1], PosekitError) and "not an image" in str(out[1][1])
    for (_, got), want in zip([out[0], out[2], out[3]], ref, strict=True):
        _same(got, want)


SCRIPT = """
import sys, pickle
from posekit.inference import PoseEstimator
if __name__ == "__main__":
    images = pickle.load(open(sys.argv[1], "rb"))
    est = PoseEstimator("coco18", batch_size=3, warn_demo=False)
    out = [(k, [(p.keypoints.tolist(), p.score) for p in people])
           for k, people in est.stream(images, workers=2)]
    import posekit.inference.decode_worker  # noqa
    pickle.dump(out, open(sys.argv[2], "wb"))
"""


@pytest.mark.skipif(not HAS_DEMO, reason="no bundled demo weights")
def test_worker_processes_give_the_same_people(tmp_path):
    import pickle

    images = _crops()
    (tmp_path / "images.pkl").write_bytes(pickle.dumps(images))
    (tmp_path / "run.py").write_text(SCRIPT)
    subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "images.pkl"),
                    str(tmp_path / "out.pkl")], check=True, timeout=300)
    out = pickle.loads((tmp_path / "out.pkl").read_bytes())
    ref = PoseEstimator("coco18", batch_size=1, warn_demo=False).predict(images)
    assert [k for k, _ in out] == list(range(len(images)))
    for (_, got), want in zip(out, ref, strict=True):
        assert len(got) == len(want)
        for (kp, score), p in zip(got, want, strict=True):
            assert np.allclose(kp, p.keypoints, atol=1e-3) and abs(score - p.score) < 1e-4


def test_the_decode_worker_does_not_import_torch():
    code = ("import sys, posekit.inference.decode_worker, posekit.inference.pipeline; "
            "print('torch' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert run.stdout.strip() == "False"


@pytest.mark.parametrize(("seed", "people", "size"), [
    (0, 1, (656, 368)), (1, 6, (300, 200)), (2, 20, (656, 368)), (3, 10, (224, 128)),
    (4, 10, (160, 96))])
def test_device_peaks_equal_the_numpy_reference(seed, people, size):
    rng = np.random.default_rng(seed)
    scene = synth_scene(SKELETON, rng, size, people)
    heat = render_targets(scene.keypoints, SKELETON, size).heatmaps[..., :18]
    heat = heat.astype(np.float32)
    ref = find_peaks(heat, 0.05, image_size=size, upsample="full", max_peaks=127,
                     separation=1.0)
    got = device_peaks(torch.from_numpy(heat).permute(2, 0, 1), 0.05, size, max_peaks=127,
                       separation=1.0)
    assert sum(len(p) for p in ref) >= people * 10
    for a, b in zip(ref, got, strict=True):  # the same peaks (equal scores in either order)
        assert a.shape == b.shape
        assert np.allclose(_by_place(a), _by_place(b), atol=1e-4)
        assert (np.diff(b[:, 2]) <= 1e-6).all()  # best first


def _by_place(peaks):
    return peaks[np.lexsort((peaks[:, 0], np.round(peaks[:, 1], 3)))]


@pytest.mark.skipif(not HAS_DEMO, reason="no bundled demo weights")
def test_peaks_on_the_device_give_the_people_of_the_reference_peaks():
    """Device peaks are the full-upsample reference peaks (the CPU's default "patch" mode
    can miss a weak peak beside a strong one); the people follow from them."""
    from posekit.decode import DecodeConfig
    from posekit.inference.decode_worker import graph_from_peaks

    images = _crops()
    est = PoseEstimator("coco18", batch_size=2, warn_demo=False)
    with Pipeline(est, workers=0, peaks_on_device=True) as pipe:
        out = list(pipe.run(enumerate(images)))
    for result, image in zip(out, images, strict=True):
        loaded = est.load(image)
        heat, paf = est.maps([loaded])[0]
        size = loaded.working_size
        config = DecodeConfig()
        peaks = find_peaks(heat[..., :18], config.peak_threshold, image_size=size,
                           upsample="full", max_peaks=config.max_peaks,
                           separation=getattr(config, "peak_separation", 0.0))
        graph = graph_from_peaks(paf, tuple(peaks), SKELETON, size, config)
        want = posekit.people.rescale_people(est.parser(graph, SKELETON), *loaded.scale)
        assert len(want) >= 1
        _same(result.people, want)


def test_cpu_networks_run_as_streams_that_decode_their_own_maps(monkeypatch):
    """On a CPU: one stream per torch thread (at most 4) and no decode process; on CUDA one
    stream and decode processes."""
    from posekit.inference.pipeline import default_streams, default_workers

    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert default_workers("cpu") == 0
    assert default_workers("cuda") == 4
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert default_workers("cuda") == 1
    assert [default_streams("cpu", n) for n in (1, 2, 3, 16)] == [1, 2, 3, 4]
    assert default_streams("cuda", 16) == 1


@pytest.mark.skipif(not HAS_DEMO, reason="no bundled demo weights")
def test_streams_give_the_people_of_predict_in_order_and_share_the_threads(tmp_path):
    images = _crops()
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    est = PoseEstimator("coco18", batch_size=2, warn_demo=False, streams=3)
    ref = est.predict(images)
    before = torch.get_num_threads()
    seen = []
    net = est.net

    def forward(x):
        seen.append(torch.get_num_threads())
        return net(x)

    est.net = forward
    try:
        out = list(est.stream([images[0], bad, *images[1:]]))
    finally:
        est.net = net
    assert [k for k, _ in out] == list(range(len(images) + 1))
    assert isinstance(out[1][1], PosekitError)
    for (_, got), want in zip([out[0], *out[2:]], ref, strict=True):
        _same(got, want)
    assert set(seen) == {max(1, before // 3)}  # each pass had its share of the threads
    assert torch.get_num_threads() == before  # and the run gave them back


def test_a_pass_that_fails_in_a_stream_fails_its_own_inputs_only(tiny_weights):
    est = PoseEstimator("coco18", tiny_weights, streams=2, batch_size=1)
    net = est.net

    def forward(x):
        if x.shape[-1] > x.shape[-2]:  # the wider images
            raise RuntimeError("out of memory (simulated)")
        return net(x)

    est.net = forward
    rng = np.random.default_rng(0)
    images = [(rng.random((48, w, 3)) * 255).astype(np.uint8) for w in (48, 64, 48, 64, 48)]
    out = list(est.stream(images))
    failed = [k for k, r in out if isinstance(r, PosekitError)]
    assert [k for k, _ in out] == [0, 1, 2, 3, 4]
    assert failed == [1, 3] and "simulated" in str(out[1][1])


def test_the_loop_waits_for_the_oldest_input_only(tiny_weights):
    """With the reorder window full the loop waits for the oldest input, then takes more
    inputs at once: it does not wait for everything it holds (which would leave streams
    idle while the last of them finish).

    Inputs 1 and 2 each hold a stream until the input a window later has started; the
    third stream runs the rest.
    """
    est = PoseEstimator("coco18", tiny_weights, streams=3, batch_size=1)
    pipe = Pipeline(est)
    w = pipe.window
    images = [np.full((40, 48, 3), 5 * i, np.uint8) for i in range(w + 4)]
    firsts = [float(est.preprocess.normalize(im)[0, 0, 0, 0]) for im in images]
    started = {1 + w: threading.Event(), 2 + w: threading.Event()}
    net = est.net

    def forward(x):
        index = int(np.argmin([abs(float(x[0, 0, 0, 0]) - f) for f in firsts]))
        if index in started:
            started[index].set()
        elif index in (1, 2) and not started[index + w].wait(timeout=20):
            raise RuntimeError(f"input {index + w} was not taken while {index} ran")
        return net(x)

    est.net = forward
    with pipe:
        out = list(pipe.run(enumerate(images)))
    assert [r.key for r in out] == list(range(len(images)))
    assert [r.error for r in out] == [None] * len(images)


def test_streams_must_be_positive(tiny_weights):
    with pytest.raises(PosekitError, match="streams"):
        PoseEstimator("coco18", tiny_weights, streams=0)
