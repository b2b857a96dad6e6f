"""Synthetic people of any skeleton: ground-truth keypoints (P, K, 3) for synthetic scenes.

A person starts from the skeleton's rest pose (``skeleton.rest_pose_array``, (K, 2),
normalised, y down). Walking the tree from its centre keypoint (the *root*), each limb is
rotated about its parent joint by a random angle (so the whole subtree below it follows)
and stretched a little; the body is then turned slightly, mirrored half of the time (with
the keypoints renamed through the skeleton's flip pairs, so left stays left), scaled and
placed in the image. Placement keeps people's boxes apart up to a chosen overlap and lets a
chosen fraction of them run over the image border (truncation).

The result is COCO-style: ``[x, y, v]`` in image pixels, ``v = 2`` visible, ``v = 1``
labelled but occluded, ``v = 0`` not labelled (every part outside the image; its x, y are
0). Articulation is vectorised over people; placement loops over people but tries many
positions at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import numpy as np

from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["sample_poses", "articulate", "TreeWalk", "tree_walk", "person_boxes"]

# placement: candidate positions tried at once for each person
_TRIES = 64


@dataclass(frozen=True)
class TreeWalk:
    """The tree limbs ordered from the root outwards: ``parent[order[i]]`` comes before it."""

    root: int
    order: np.ndarray  # (K - 1,) intp: every keypoint but the root, parents first
    parent: np.ndarray  # (K,) intp: parent keypoint along the tree (-1 for the root)


@lru_cache(maxsize=64)
def tree_walk(skeleton: Skeleton) -> TreeWalk:
    """The skeleton's tree rooted at its centre (ties: most limbs, then first keypoint)."""
    tree = skeleton.limb_index[: skeleton.num_tree_limbs]
    graph = nx.Graph([(int(a), int(b)) for a, b in tree])
    graph.add_nodes_from(range(skeleton.num_keypoints))
    root = min(nx.center(graph), key=lambda n: (-graph.degree(n), n))
    parent = np.full(skeleton.num_keypoints, -1, dtype=np.intp)
    order = []
    for a, b in nx.bfs_edges(graph, root):
        parent[b] = a
        order.append(b)
    return TreeWalk(root, np.asarray(order, dtype=np.intp), parent)


def articulate(skeleton: Skeleton, rng: np.random.Generator, num_people: int, *,
               max_angle: float = 0.45, stretch: float = 0.1) -> np.ndarray:
    """(P, K, 2) normalised poses: the rest pose with every limb turned about its parent.

    Each limb's angle is uniform in ``[-max_angle, max_angle]`` radians (relative to its
    parent limb, so rotations add up along the tree) and its length is scaled by a factor
    uniform in ``[1 - stretch, 1 + stretch]``.
    """
    walk = tree_walk(skeleton)
    rest = skeleton.rest_pose_array
    K = skeleton.num_keypoints
    P = int(num_people)
    angle = np.zeros((P, K))
    angle[:, walk.order] = rng.uniform(-max_angle, max_angle, size=(P, len(walk.order)))
    length = rng.uniform(1.0 - stretch, 1.0 + stretch, size=(P, K))
    total = np.zeros((P, K))  # accumulated rotation of the limb ending at each keypoint
    pose = np.empty((P, K, 2))
    pose[:, walk.root] = rest[walk.root]
    for k in walk.order:
        par = walk.parent[k]
        total[:, k] = total[:, par] + angle[:, k]
        dx, dy = (rest[k] - rest[par])
        c, s = np.cos(total[:, k]), np.sin(total[:, k])
        pose[:, k, 0] = pose[:, par, 0] + length[:, k] * (c * dx - s * dy)
        pose[:, k, 1] = pose[:, par, 1] + length[:, k] * (s * dx + c * dy)
    return pose


def person_boxes(keypoints: np.ndarray) -> np.ndarray:
    """(P, 4) ``[x, y, w, h]`` boxes around each person's labelled keypoints (0s if none)."""
    kp = np.asarray(keypoints, dtype=np.float64)
    out = np.zeros((len(kp), 4))
    if kp.size == 0:
        return out
    ok = kp[..., 2] > 0
    big = np.finfo(np.float64).max
    x0 = np.where(ok, kp[..., 0], big).min(axis=1)
    y0 = np.where(ok, kp[..., 1], big).min(axis=1)
    x1 = np.where(ok, kp[..., 0], -big).max(axis=1)
    y1 = np.where(ok, kp[..., 1], -big).max(axis=1)
    has = ok.any(axis=1)
    out[has] = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)[has]
    return out


def sample_poses(skeleton: Skeleton, rng: np.random.Generator, image_size: tuple[int, int],
                 num_people: int, *, scale_range: tuple[float, float] = (0.35, 0.8),
                 overlap: float = 0.3, truncation: float = 0.1, occlusion: float = 0.05,
                 articulation: float = 0.45, rotation: float = 0.25,
                 flip: float = 0.5, margin: float = 0.0) -> np.ndarray:
    """(P, K, 3) ``[x, y, v]`` people of ``skeleton`` in an image of ``image_size`` (W, H).

    Args:
        rng: the only source of randomness (same generator state, same people).
        scale_range: each person's size (the longer side of its rest-pose box) as a
            fraction of the image's shorter side, uniform in this range.
        overlap: largest intersection-over-union allowed between two people's boxes
            (0 = never touch, 1 = anywhere); when a crowded image leaves no such place, the
            least overlapping of the positions tried is taken.
        truncation: probability that a person may run over the image border (its root
            keypoint, the tree's centre, stays inside, so what remains is one body).
        occlusion: probability that a labelled part is marked occluded (v = 1).
        articulation: largest limb rotation about its parent joint (radians).
        rotation: largest rotation of the whole body (radians).
        flip: probability of a horizontal mirror image (keypoints renamed by flip pairs).
        margin: pixels kept free along the image border by people who are not truncated
            (and by every root keypoint).
    """
    W, H = (int(v) for v in image_size)
    P = int(num_people)
    K = skeleton.num_keypoints
    if W < 1 or H < 1:
        raise PosekitError(f"image size must be positive, got {W}x{H}")
    if P < 0:
        raise PosekitError(f"number of people must be >= 0, got {P}")
    lo, hi = (float(v) for v in scale_range)
    if not 0 < lo <= hi:
        raise PosekitError(f"scale range must satisfy 0 < low <= high, got {scale_range}")
    if P == 0:
        return np.zeros((0, K, 3))

    pose = articulate(skeleton, rng, P, max_angle=articulation)
    # whole-body turn about the rest pose's centre
    centre = skeleton.rest_pose_array.mean(axis=0)
    theta = rng.uniform(-rotation, rotation, size=P)
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    rel = pose - centre
    pose = centre + np.stack([c * rel[..., 0] - s * rel[..., 1],
                              s * rel[..., 0] + c * rel[..., 1]], axis=-1)
    # horizontal mirror, keypoints renamed so that a left part stays a left part
    mirror = rng.random(P) < flip
    if mirror.any():
        flipped = pose[mirror][:, skeleton.flip_permutation]
        flipped[..., 0] = 2 * centre[0] - flipped[..., 0]
        pose[mirror] = flipped

    # scale: the person's longer box side becomes a fraction of the image's shorter side
    lo_xy, hi_xy = pose.min(axis=1), pose.max(axis=1)  # (P, 2)
    extent = np.maximum((hi_xy - lo_xy).max(axis=1), 1e-6)
    size = rng.uniform(lo, hi, size=P) * min(W, H)
    factor = size / extent
    pose = (pose - lo_xy[:, None, :]) * factor[:, None, None]  # box corner at the origin
    box_wh = (hi_xy - lo_xy) * factor[:, None]  # (P, 2)

    root = pose[:, tree_walk(skeleton).root]  # (P, 2) relative to the box corner
    corners = _place(rng, box_wh, root, (W, H), overlap, truncation, float(margin))
    xy = pose + corners[:, None, :]

    out = np.zeros((P, K, 3))
    inside = (xy[..., 0] >= 0) & (xy[..., 0] <= W - 1) & (xy[..., 1] >= 0) & (xy[..., 1] <= H - 1)
    occluded = rng.random((P, K)) < occlusion
    out[..., :2] = np.where(inside[..., None], xy, 0.0)
    out[..., 2] = np.where(inside, np.where(occluded, 1.0, 2.0), 0.0)
    return out


def _place(rng: np.random.Generator, box_wh: np.ndarray, root: np.ndarray,
           image_size: tuple[int, int], overlap: float, truncation: float,
           margin: float) -> np.ndarray:
    """(P, 2) top-left corners; larger people are placed first."""
    W, H = image_size
    P = len(box_wh)
    corners = np.zeros((P, 2))
    placed: list[int] = []
    truncated = rng.random(P) < truncation
    m = min(margin, (min(W, H) - 1) / 2)
    for p in np.argsort(-box_wh.prod(axis=1), kind="stable"):
        w, h = box_wh[p]
        if truncated[p]:
            # anywhere the root keypoint stays inside the image
            x = rng.uniform(m, max(W - 1 - m, m), size=_TRIES) - root[p, 0]
            y = rng.uniform(m, max(H - 1 - m, m), size=_TRIES) - root[p, 1]
        else:
            x = rng.uniform(m, max(W - 1 - m - w, m), size=_TRIES)
            y = rng.uniform(m, max(H - 1 - m - h, m), size=_TRIES)
        if placed:
            others = np.concatenate([corners[placed], box_wh[placed]], axis=1)  # (Q, 4)
            worst = _iou(np.stack([x, y, np.full(_TRIES, w), np.full(_TRIES, h)], 1),
                         others).max(axis=1)
            ok = np.flatnonzero(worst <= overlap)
            pick = int(ok[0]) if len(ok) else int(np.argmin(worst))
        else:
            pick = 0
        corners[p] = x[pick], y[pick]
        placed.append(int(p))
    return corners


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, m) intersection over union of ``[x, y, w, h]`` boxes."""
    ax0, ay0, aw, ah = (a[:, i:i + 1] for i in range(4))
    bx0, by0, bw, bh = (b[None, :, i] for i in range(4))
    iw = np.clip(np.minimum(ax0 + aw, bx0 + bw) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay0 + ah, by0 + bh) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / np.maximum(union, 1e-9)
