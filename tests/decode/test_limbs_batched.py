"""Every limb scored at once with every shortcut (posekit.decode.limbs) against a plain loop
over limbs, pairs and samples, for every variant of the rule and every way of reading."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import posekit.decode.limbs as limbs
from posekit.decode.limbs import LimbScoring, score_limbs
from posekit.decode.resize import kernel_taps
from posekit.skeleton import Skeleton
from posekit.targets import part_affinity_fields

SIZE = (200, 120)  # image (W, H); maps at stride 8: 25 x 15
STRIDE = 8.0
LIMBS = (("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"))
LAYOUTS = {  # each limb's (x, y) channels: pairs of neighbours, or all x channels first
    "paired": None,
    "split": tuple((l, l + 5) for l in range(5)),
}
RULES = [
    {}, dict(ends="skip"), dict(spacing="openpose"), dict(score="mean-above"),
    dict(ends="skip", spacing="openpose", score="mean-above", prior=None),
    dict(ends="skip", min_samples=3),  # pairs with fewer interior samples than probes
    dict(min_samples=2, max_samples=9),  # pairs of 2 samples: no interior one
    dict(min_above=0.6, density=12.0, max_samples=40),  # many failures allowed
    dict(sample_threshold=-0.2, min_score=-1.0),  # every cell passable
    dict(ends="skip", sample_threshold=0.3, min_score=0.5),
]


def chain(layout: str) -> Skeleton:
    return Skeleton(name="chain5", keypoints=("a", "b", "c", "d", "e"), limbs=LIMBS,
                    redundant_limbs=(("a", "c"),), paf_layout=LAYOUTS[layout])


@functools.cache
def scene(layout: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Noisy PAFs of four chains, and candidates: the true keypoints, false ones, and
    (``split``) candidates off the image and one on top of another part's."""
    rng = np.random.default_rng(7 if layout == "paired" else 8)
    sk = chain(layout)
    kp = np.zeros((4, 5, 3))
    kp[:, 0, :2] = rng.uniform(30, np.array(SIZE) - 30, (4, 2))
    for k in range(1, 5):
        angle = rng.uniform(0, 2 * math.pi, 4)
        step = rng.uniform(15, 45, 4)[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
        kp[:, k, :2] = np.clip(kp[:, k - 1, :2] + step, 2, np.array(SIZE) - 3)
    kp[..., 2] = 2
    paf = part_affinity_fields(kp, sk, SIZE, stride=8)
    paf += rng.normal(0, 0.04, paf.shape).astype(np.float32)
    peaks = [np.concatenate([kp[:, k, :2], rng.uniform(0, np.array(SIZE) - 1, (2, 2))])
             for k in range(5)]
    if layout == "split":
        peaks[1] = np.concatenate([peaks[1], [[-7.0, 40.0], [60.0, 130.0]]])
        peaks[2] = np.concatenate([peaks[2], peaks[0][:1]])  # on an "a": |d| = 0 for a-c
    return paf, peaks


def read(paf: np.ndarray, channels, x: np.ndarray, y: np.ndarray,
         interpolation: str) -> np.ndarray:
    """The PAF (x, y) of float64 maps at image points ``x, y`` (n,): (n, 2), the nearest
    map pixel's or the kernel's taps weighted."""
    h, w = paf.shape[:2]
    u, v = (x + 0.5) / STRIDE - 0.5, (y + 0.5) / STRIDE - 0.5
    if interpolation == "nearest":
        col = np.clip(np.floor(u + 0.5).astype(int), 0, w - 1)
        row = np.clip(np.floor(v + 0.5).astype(int), 0, h - 1)
        return paf[row, col][:, channels]
    kernel = "cubic" if interpolation == "cubic" else "linear"
    cols, wx = kernel_taps(u, kernel)  # (n, T)
    rows, wy = kernel_taps(v, kernel)
    out = np.zeros((len(x), 2))
    for r in range(rows.shape[1]):
        for c in range(cols.shape[1]):
            tap = paf[np.clip(rows[:, r], 0, h - 1), np.clip(cols[:, c], 0, w - 1)]
            out += (wy[:, r] * wx[:, c])[:, None] * tap[:, channels]
    return out


def plain(paf, peaks, sk: Skeleton, rule: LimbScoring, interpolation: str):
    """Per limb, the accepted pairs and their scores, sample by sample (rule.py and the
    limbs module docstring)."""
    paf = paf.astype(np.float64)
    all_pairs, all_scores = [], []
    for (ka, kb), channels in zip(sk.limb_index.tolist(), sk.paf_channels.tolist(),
                                  strict=True):
        pairs, scores = [], []
        for i, a in enumerate(peaks[ka]):
            for j, b in enumerate(peaks[kb]):
                d = b - a
                norm = math.hypot(*d)
                if norm <= 1e-6:
                    continue
                span = max(abs(d[0]), abs(d[1]))
                n = min(max(math.floor(math.sqrt(rule.density * span) + 0.5),
                            rule.min_samples), rule.max_samples)
                steps = n - 1 if rule.spacing == "both-ends" else n
                x, y = (a[:, None] + np.arange(n) * (d / steps)[:, None])
                dots = (read(paf, channels, x, y, interpolation) @ (d / norm)).tolist()
                passing = [s for s in dots if s > rule.sample_threshold]
                tested = dots[1:-1] if rule.ends == "skip" else dots
                score = (sum(dots) / n if rule.score == "mean"
                         else sum(passing) / max(len(passing), 1))
                if rule.prior is not None:
                    score += min(rule.prior * SIZE[1] / norm - 1, 0)
                above = sum(s > rule.sample_threshold for s in tested)
                if above > rule.min_above * len(tested) and score > rule.min_score:
                    pairs.append((i, j))
                    scores.append(score)
        all_pairs.append(pairs)
        all_scores.append(scores)
    return all_pairs, all_scores


@functools.cache
def expected(layout: str, rule_index: int, interpolation: str):
    paf, peaks = scene(layout)
    return plain(paf, peaks, chain(layout), LimbScoring(**RULES[rule_index]), interpolation)


@pytest.mark.parametrize("shortcuts", ["default", "always, in small blocks"])
@pytest.mark.parametrize("interpolation", ["cubic", "bilinear", "nearest"])
@pytest.mark.parametrize("rule_index", range(len(RULES)))
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_all_limbs_at_once_match_a_plain_loop(monkeypatch, layout, rule_index, interpolation,
                                              shortcuts):
    if shortcuts != "default":
        monkeypatch.setattr(limbs, "PROBE_MIN_PAIRS", 0)
        monkeypatch.setattr(limbs, "READ_FIRST_MIN_PAIRS", 0)
        monkeypatch.setattr(limbs, "BLOCK", 40)
        monkeypatch.setattr(limbs, "READ_BLOCK", 13)
    paf, peaks = scene(layout)
    if layout == "split":  # maps of another precision, not contiguous
        paf = np.concatenate([paf, paf], axis=2).astype(np.float64)[..., :10]
    want_pairs, want_scores = expected(layout, rule_index, interpolation)
    pairs, scores = score_limbs(paf, peaks, chain(layout), image_height=SIZE[1],
                                scale=(STRIDE, STRIDE), rule=LimbScoring(**RULES[rule_index]),
                                interpolation=interpolation)
    assert [p.tolist() for p in pairs] == [[list(p) for p in w] for w in want_pairs]
    for got, want in zip(scores, want_scores, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_scenes_exercise_the_shortcuts():
    """Some pairs accepted, some refused, coinciding ones included, for each layout."""
    for layout in LAYOUTS:
        pairs, _ = expected(layout, 0, "cubic")
        accepted = sum(len(p) for p in pairs)
        candidates = [len(p) for p in scene(layout)[1]]
        total = sum(candidates[a] * candidates[b]
                    for a, b in chain(layout).limb_index.tolist())
        assert 12 <= accepted < total // 4


def sparse_or_ringing(pattern: str, rng) -> np.ndarray:
    """(9, 13, 4) float32 maps: a few strong vectors, or short ones (0.045) of signs
    alternating in pairs of pixels, where the cubic kernel overshoots above 0.05."""
    h, w = 9, 13
    if pattern == "sparse":
        paf = np.where(rng.random((h, w, 4)) < 0.08, rng.normal(0, 1, (h, w, 4)), 0.0)
    else:
        sign = np.array([-1.0, 1.0, 1.0, -1.0])
        paf = np.zeros((h, w, 4))
        paf[..., 0] = paf[..., 3] = 0.045 * np.outer(np.resize(sign, h), np.resize(sign, w))
    return paf.astype(np.float32)


@pytest.mark.parametrize("pattern", ["sparse", "ringing"])
@pytest.mark.parametrize("interpolation", ["cubic", "bilinear"])
def test_cells_said_to_fail_read_no_more_than_the_threshold(interpolation, pattern):
    """The cell table only refuses cells where the field read anywhere, in any direction,
    is at most the threshold: points all over (and off) the maps."""
    rng = np.random.default_rng(3)
    paf = sparse_or_ringing(pattern, rng)
    h, w = paf.shape[:2]
    channels = np.array([[0, 1], [2, 3]])
    threshold = 0.05
    field = limbs._Field(paf, channels, (STRIDE, STRIDE), interpolation, threshold)
    uv = rng.uniform(-2, [w + 1, h + 1], (2000, 2)).T  # map pixels
    limb = rng.integers(0, 2, 2000)
    step = rng.normal(0, 1, (2, 2000))
    fails = field.surely_fail(np.ones((1, 2000), dtype=np.intp), uv - step, step, limb)[0]
    assert fails.any() or pattern == "ringing"  # (there, a cell refused reads up to 0.085)
    for l in range(2):
        u, v = uv[:, fails & (limb == l)]
        x, y = (u + 0.5) * STRIDE - 0.5, (v + 0.5) * STRIDE - 0.5
        value = read(paf.astype(np.float64), channels[l], x, y, interpolation)
        assert (np.hypot(value[:, 0], value[:, 1]) <= threshold).all()


@pytest.mark.parametrize("shortcuts", ["cells", "read first", "all"])
def test_probes_past_a_pairs_interior_samples_count_for_nothing(monkeypatch, shortcuts):
    """A pair of 3 samples has one interior sample, fewer than any shortcut probes: the
    others probe nothing, not its first sample (on a candidate off the field)."""
    monkeypatch.setattr(limbs, "PROBE_MIN_PAIRS", 0)
    monkeypatch.setattr(limbs, "READ_FIRST_MIN_PAIRS", 0)
    if shortcuts == "cells":
        monkeypatch.setattr(limbs, "READ_FIRST", 0)
    if shortcuts == "read first":
        monkeypatch.setattr(limbs, "BOUND_PROBES", ())
    paf = np.zeros((10, 16, 2), dtype=np.float32)
    paf[:, 5:, 0] = 1.0  # no field left of x = 36
    rule = LimbScoring(ends="skip", min_samples=3, density=0.1, prior=None)
    pairs, scores = limbs.score_limb(paf, (0, 1), np.array([[20.0, 40.0]]),
                                     np.array([[100.0, 40.0]]), image_height=80,
                                     scale=(STRIDE, STRIDE), rule=rule, interpolation="cubic")
    assert pairs.tolist() == [[0, 0]]
    np.testing.assert_allclose(scores, [2 / 3])
