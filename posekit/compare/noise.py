"""The noise model: ground-truth people (P, K, 3) -> maps that look like a network's.

``compare-parsers`` renders heatmaps (h, w, K+1) and PAFs (h, w, 2L) from the ground truth
with :mod:`posekit.targets` (the training targets, stride 8, sigma 7) and then spoils them
the way a trained network does. ``--noise X`` scales every rate and size below (X = 0: the
clean targets; X = 1: the default; probabilities are clipped to 1). With ``s`` a person's
size (square root of its keypoint-box area, the scale OKS uses):

==================  =========================================================  ============
component           at noise 1                                                 field
==================  =========================================================  ============
peak jitter         each part's peak moved by a Gaussian of std 0.015 s        ``jitter``
missed parts        no peak for a visible part with probability 0.004 x its    ``miss``
                    weight w, for a part labelled occluded (v = 1) 0.088       ``occluded_miss``
weak peaks          peak heights uniform in [1 - 0.15, 1]                      ``weak``
false positives     2 spurious blobs per person, each on a random part         ``false_peaks``
                    channel with height uniform in [0.05, 0.5]: half of them
                    on some person's part (a confusion), half anywhere
PAF angle noise     each person's limb field turned by a Gaussian angle of     ``paf_angle``
                    std 0.04 rad, and every PAF pixel by a further 0.05 rad    ``paf_pixel``
PAF failures        a part's PAFs fail with probability 0.0015 x its weight    ``paf_dropout``
                    w, 0.045 when it is labelled occluded; 70% of failures     ``occluded_dropout``
                    drop every limb field at the part (tree and redundant),    ``clustered``
                    the rest one limb at it
==================  =========================================================  ============

A part's weight w grows as the square (``spread``) of its rest-pose distance from the
tree's root, with mean 1 over the parts (:func:`failure_weights`): visible wrists and
ankles fail, the body's centre does not. Parts labelled occluded fail uniformly.

The defaults are calibrated on the bundled demo network (``coco18-demo.pt``) on 200
held-out synthetic images: ``compare-parsers`` reports the same statistics for any scene
source (:mod:`posekit.compare.mapstats`), and at noise 1 the rendered maps match the
network's within sampling error: missed parts, jitter, tree-limb failures (visible and
occluded), how often failures sit next to each other, and PAF angle. A level above 1
makes every failure more likely, so the AP-against-noise curve shows where parsers part.

Each person is rendered on a window of the map grid around it (exactly the targets' values
there), so a crowded scene costs about as much as its people's area. PAFs point between
the *jittered* peaks, as a network's PAFs point between its own detections. Overlapping
people's fields are averaged where they overlap, as in the targets; the background channel
is 1 - max over parts. Everything random comes from the generator passed in, so a seeded
scene always gets the same maps.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["NoiseModel", "render_maps", "failure_weights", "person_scale", "STRIDE", "SIGMA"]

STRIDE = 8
SIGMA = 7.0


@dataclass(frozen=True)
class NoiseModel:
    """The documented noise model (module docstring) at ``level`` (0 = clean maps)."""

    level: float = 1.0
    jitter: float = 0.015
    miss: float = 0.004
    occluded_miss: float = 22.0  # factor on ``miss`` for parts labelled occluded (v = 1)
    weak: float = 0.15
    false_peaks: float = 2.0
    false_height: tuple[float, float] = (0.05, 0.5)
    paf_angle: float = 0.04
    paf_pixel: float = 0.05
    paf_dropout: float = 0.0015
    occluded_dropout: float = 30.0  # factor on ``paf_dropout`` for parts labelled occluded
    clustered: float = 0.7  # share of PAF failures that take all of a part's limbs at once
    spread: float = 2.0  # visible misses / dropouts grow as (distance from the root) ** spread

    def __post_init__(self) -> None:
        if not np.isfinite(self.level) or self.level < 0:
            raise PosekitError(f"--noise must be a number >= 0 (0 = clean maps), got {self.level}")

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def _prob(p: float) -> float:
    return float(min(max(p, 0.0), 1.0))


@functools.lru_cache(maxsize=64)
def failure_weights(skeleton: Skeleton, spread: float) -> np.ndarray:
    """(K,) weights, mean 1, on each part's rates of visible misses and PAF failures.

    A part's weight grows as its rest-pose distance from the tree's root (the keypoint
    people are articulated about, :func:`posekit.synth.poses.tree_walk`) to the power
    ``spread``: networks lose the parts that move most (wrists, ankles) far more often
    than the body's centre. ``spread`` 0, or a skeleton whose parts all sit on the root,
    gives uniform weights.
    """
    from posekit.synth.poses import tree_walk

    rest = skeleton.rest_pose_array
    dist = np.linalg.norm(rest - rest[tree_walk(skeleton).root], axis=1) ** float(spread)
    if not spread or not dist.mean() > 0:
        dist = np.ones(skeleton.num_keypoints)
    part = dist / dist.mean()
    part.flags.writeable = False
    return part


def person_scale(kp: np.ndarray) -> np.ndarray:
    """(P,) square root of each person's keypoint-box area (at least 16 px)."""
    from posekit.synth.poses import person_boxes

    box = person_boxes(kp)
    return np.sqrt(np.maximum(box[:, 2] * box[:, 3], 256.0))


def render_maps(skeleton: Skeleton, keypoints: np.ndarray, image_size: tuple[int, int],
                noise: NoiseModel, rng: np.random.Generator, *, stride: int = STRIDE,
                sigma: float = SIGMA, field: str = "capsule"
                ) -> tuple[np.ndarray, np.ndarray]:
    """(heatmaps (h, w, K+1) float32, PAFs (h, w, 2L) float32) for people (P, K, 3).

    ``field``: the limb region of the PAFs, ``"capsule"`` (posekit's targets) or ``"rect"``
    (the paper's rectangle, OpenPose's training targets); see :mod:`posekit.targets`.
    """
    from posekit.targets import confidence_maps, part_affinity_fields

    K = skeleton.num_keypoints
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, K, 3)
    W, H = (int(v) for v in image_size)
    h, w = -(-H // stride), -(-W // stride)
    level = float(noise.level)
    if level == 0 or len(kp) == 0:
        heat = np.asarray(confidence_maps(kp, skeleton, (W, H), stride=stride, sigma=sigma),
                          dtype=np.float32)
        paf = np.asarray(part_affinity_fields(kp, skeleton, (W, H), stride=stride,
                                              field=field), dtype=np.float32)
        return heat if heat.shape[-1] == K + 1 else _with_background(heat[..., :K]), paf

    P = len(kp)
    labelled = kp[..., 2] > 0
    # peaks: jittered, some missed, heights varied
    moved = kp.copy()
    std = noise.jitter * level * person_scale(kp)
    moved[..., :2] += rng.normal(size=(P, K, 2)) * std[:, None, None]
    moved[..., :2] = np.where(labelled[..., None], moved[..., :2], 0.0)
    part_w = failure_weights(skeleton, noise.spread)
    miss = np.where(kp[..., 2] == 1, noise.miss * noise.occluded_miss,
                    noise.miss * part_w) * level
    missed = rng.random((P, K)) < np.clip(miss, 0, 1)
    height = rng.uniform(1.0 - _prob(noise.weak * level), 1.0, size=(P, K))

    heat = np.zeros((h, w, K), dtype=np.float32)
    peaks = moved.copy()
    peaks[missed, 2] = 0
    for p in range(P):
        win = _window(peaks[p], (w, h), stride, sigma)
        if win is None:
            continue
        one = _crop_maps(confidence_maps, peaks[p], skeleton, win, stride, sigma=sigma)
        i0, i1, j0, j1 = win
        view = heat[i0:i1, j0:j1]
        np.maximum(view, one[..., :K] * height[p].astype(np.float32), out=view)
    _false_peaks(heat, skeleton, kp, (W, H), noise, rng, stride, sigma)

    # PAFs between the jittered peaks, turned, dropped, averaged over overlapping people
    L = skeleton.num_limbs
    chx, chy = skeleton.paf_channels[:, 0], skeleton.paf_channels[:, 1]
    total = np.zeros((h, w, L, 2), dtype=np.float64)
    count = np.zeros((h, w, L), dtype=np.int32)
    turn = rng.normal(size=(P, L)) * noise.paf_angle * level
    # a part's PAF failure drops every limb field at it, so failures cluster as a network's
    fail = np.where(kp[..., 2] == 1, noise.paf_dropout * noise.occluded_dropout,
                    noise.paf_dropout * part_w) * level
    share = _prob(noise.clustered)
    failed = rng.random((P, K)) < np.clip(fail * share, 0, 1)
    dropped = failed[:, skeleton.limb_index[:, 0]] | failed[:, skeleton.limb_index[:, 1]]
    alone = fail[:, skeleton.limb_index].sum(axis=-1) * (1.0 - share)
    dropped |= rng.random((P, L)) < np.clip(alone, 0, 1)
    for p in range(P):
        win = _window(moved[p], (w, h), stride, sigma)
        if win is None:
            continue
        one = _crop_maps(part_affinity_fields, moved[p], skeleton, win, stride, field=field)
        vec = np.stack([one[..., chx], one[..., chy]], axis=-1).astype(np.float64)
        c, s = np.cos(turn[p]), np.sin(turn[p])
        vec = np.stack([c * vec[..., 0] - s * vec[..., 1], s * vec[..., 0] + c * vec[..., 1]],
                       axis=-1)
        vec[:, :, dropped[p]] = 0.0
        i0, i1, j0, j1 = win
        total[i0:i1, j0:j1] += vec
        count[i0:i1, j0:j1] += (vec[..., 0] != 0) | (vec[..., 1] != 0)
    vec = total / np.maximum(count, 1)[..., None]
    on = count > 0
    if noise.paf_pixel > 0 and on.any():
        angle = rng.normal(size=on.shape) * noise.paf_pixel * level
        c, s = np.cos(angle), np.sin(angle)
        vec = np.stack([c * vec[..., 0] - s * vec[..., 1], s * vec[..., 0] + c * vec[..., 1]],
                       axis=-1)
    paf = np.zeros((h, w, 2 * L), dtype=np.float32)
    paf[..., chx] = vec[..., 0]
    paf[..., chy] = vec[..., 1]
    return _with_background(heat), paf


def _false_peaks(heat: np.ndarray, skeleton: Skeleton, kp: np.ndarray,
                 image_size: tuple[int, int], noise: NoiseModel, rng: np.random.Generator,
                 stride: int, sigma: float) -> None:
    """Add spurious blobs to ``heat`` (h, w, K) in place."""
    from posekit.targets import confidence_maps

    K = skeleton.num_keypoints
    W, H = image_size
    n = int(rng.poisson(noise.false_peaks * noise.level * len(kp)))
    if n == 0:
        return
    spots = kp[kp[..., 2] > 0][:, :2]
    lo, hi = noise.false_height
    for _ in range(n):
        k = int(rng.integers(K))
        if len(spots) and rng.random() < 0.5:
            xy = spots[int(rng.integers(len(spots)))] + rng.normal(size=2) * 2.0
        else:
            xy = rng.uniform((0, 0), (W - 1, H - 1))
        fake = np.zeros((K, 3))
        fake[k] = (np.clip(xy[0], 0, W - 1), np.clip(xy[1], 0, H - 1), 2.0)
        win = _window(fake, (heat.shape[1], heat.shape[0]), stride, sigma)
        one = _crop_maps(confidence_maps, fake, skeleton, win, stride, sigma=sigma)[..., k]
        i0, i1, j0, j1 = win
        view = heat[i0:i1, j0:j1, k]
        np.maximum(view, one * np.float32(rng.uniform(lo, hi)), out=view)


def _window(person: np.ndarray, map_size: tuple[int, int], stride: int,
            sigma: float) -> tuple[int, int, int, int] | None:
    """Map rows i0:i1 and columns j0:j1 around one person's labelled parts (K, 3), wide
    enough for their Gaussians (4 sigma) and limb fields; None if nothing is labelled."""
    on = person[:, 2] > 0
    if not on.any():
        return None
    w, h = map_size
    pad = 4 * sigma + 2 * stride
    x0, y0 = person[on, :2].min(axis=0) - pad
    x1, y1 = person[on, :2].max(axis=0) + pad
    j0, i0 = max(int(x0 // stride), 0), max(int(y0 // stride), 0)
    j1, i1 = min(int(x1 // stride) + 2, w), min(int(y1 // stride) + 2, h)
    if j1 <= j0 or i1 <= i0:
        return None
    return i0, i1, j0, j1


def _crop_maps(render, person: np.ndarray, skeleton: Skeleton,
               win: tuple[int, int, int, int], stride: int, **options) -> np.ndarray:
    """``render`` (confidence_maps or part_affinity_fields) of one person on a window of
    the map grid: the image crop starts on a stride multiple, so its map pixels are the
    full map's pixels (the targets treat points outside a crop exactly)."""
    i0, i1, j0, j1 = win
    one = np.array(person, dtype=np.float64)[None]
    one[0, :, 0] -= j0 * stride
    one[0, :, 1] -= i0 * stride
    size = ((j1 - j0) * stride, (i1 - i0) * stride)
    return np.asarray(render(one, skeleton, size, stride=stride, **options), dtype=np.float32)


def _with_background(parts: np.ndarray) -> np.ndarray:
    """(h, w, K) parts -> (h, w, K+1) with background = 1 - max over parts."""
    bg = np.clip(1.0 - parts.max(axis=-1, initial=0.0), 0.0, 1.0)
    return np.concatenate([parts, bg[..., None]], axis=-1).astype(np.float32)
