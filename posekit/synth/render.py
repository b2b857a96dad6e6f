"""Synthetic data: draw people of any skeleton as shaded body parts into an image.

Input: keypoints (P, K, 3) ``[x, y, v]`` in image pixels (e.g. from
:func:`posekit.synth.poses.sample_poses`) and an image size (W, H). Output: a
:class:`Scene` with the image (H, W, 3) uint8 RGB, the keypoints with their visibility
recomputed from what was drawn (2 = the person's own body is on top at that point, 1 = another
person or an occluder covers it, 0 = not labelled), each person's visible-pixel mask
(P, H, W) bool, and COCO-style boxes and areas from those masks.

A person is drawn back to front as: a torso (the convex hull of the tree's root and the
root's neighbours that have a left/right twin), one shaded capsule per tree limb, and a
disc at every joint. Capsules are lit like cylinders by one light per image; limbs further
from the root alternate in tone so that a bend is visible even along a straight chain.
Backgrounds mix gradients, low-frequency colour noise, stripes and random shapes;
occluders are random textured boxes and ellipses dropped over people. numpy and PIL only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from posekit.errors import PosekitError
from posekit.skeleton import Skeleton
from posekit.synth.poses import sample_poses, tree_walk

__all__ = ["Scene", "render_scene", "synth_scene", "person_scale", "BACKGROUND_LABEL",
           "OCCLUDER_LABEL", "BACKGROUNDS"]

BACKGROUNDS = ("varied", "plain")
BACKGROUND_LABEL = -1
OCCLUDER_LABEL = -2
# capsule radius, as a fraction of the person's rest-pose scale (pixels per rest unit)
_LIMB_RADIUS = 0.036
_ROOT_LIMB_RADIUS = 0.044
_JOINT_RADIUS = 1.2


@dataclass(frozen=True)
class Scene:
    """One rendered image and its ground truth."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    keypoints: np.ndarray  # (P, K, 3) [x, y, v], v recomputed from the drawing
    masks: np.ndarray  # (P, H, W) bool: pixels where the person is on top
    boxes: np.ndarray  # (P, 4) [x, y, w, h] of the visible pixels (0s if none)
    areas: np.ndarray  # (P,) visible pixel count

    @property
    def num_people(self) -> int:
        return len(self.keypoints)


def person_scale(skeleton: Skeleton, keypoints: np.ndarray) -> np.ndarray:
    """(P,) pixels per rest-pose unit of each person, from its labelled tree limbs.

    The median ratio of drawn to rest limb length; people with no fully labelled limb fall
    back to their keypoints' extent over the rest pose's extent.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    limbs = skeleton.limb_index[: skeleton.num_tree_limbs]
    rest = skeleton.rest_pose_array
    rest_len = np.linalg.norm(rest[limbs[:, 0]] - rest[limbs[:, 1]], axis=1)
    a, b = kp[:, limbs[:, 0]], kp[:, limbs[:, 1]]  # (P, L, 3)
    ok = (a[..., 2] > 0) & (b[..., 2] > 0) & (rest_len > 1e-6)
    ratio = np.linalg.norm(a[..., :2] - b[..., :2], axis=-1) / np.maximum(rest_len, 1e-6)
    ratio = np.where(ok, ratio, np.nan)
    out = np.full(len(kp), np.nan)
    has = ok.any(axis=1)
    if has.any():
        out[has] = np.nanmedian(ratio[has], axis=1)
    extent = max(float(np.ptp(rest, axis=0).max()), 1e-6)
    for p in np.flatnonzero(~has):
        pts = kp[p, kp[p, :, 2] > 0, :2]
        out[p] = (float(np.ptp(pts, axis=0).max()) / extent) if len(pts) > 1 else 0.0
    return out


def synth_scene(skeleton: Skeleton, rng: np.random.Generator, image_size: tuple[int, int],
                num_people: int, *, occluders: float = 0.3, background: str = "varied",
                **pose_options: float) -> Scene:
    """Sample people (:func:`sample_poses`, no random occlusion flags) and render them.

    ``pose_options`` go to :func:`sample_poses` (``overlap``, ``truncation``, ...).
    """
    pose_options.setdefault("occlusion", 0.0)
    keypoints = sample_poses(skeleton, rng, image_size, num_people, **pose_options)
    return render_scene(skeleton, keypoints, image_size, rng, occluders=occluders,
                        background=background)


def render_scene(skeleton: Skeleton, keypoints: np.ndarray, image_size: tuple[int, int],
                 rng: np.random.Generator, *, occluders: float = 0.3,
                 background: str = "varied", noise: float = 4.0) -> Scene:
    """Draw ``keypoints`` (P, K, 3) people of ``skeleton`` over a random background.

    Args:
        image_size: (W, H) in pixels.
        rng: the only source of randomness.
        occluders: expected number of occluding objects per person (Poisson).
        background: ``"varied"`` (gradients, colour noise, stripes, shapes) or ``"plain"``
            (a gradient with colour noise only).
        noise: standard deviation of the per-pixel noise added last (0..255 units).
    """
    W, H = (int(v) for v in image_size)
    if W < 1 or H < 1:
        raise PosekitError(f"image size must be positive, got {W}x{H}")
    if background not in BACKGROUNDS:
        raise PosekitError(f"background must be one of {', '.join(BACKGROUNDS)}, "
                           f"got {background!r}")
    kp = np.array(keypoints, dtype=np.float64, copy=True)
    if kp.ndim != 3 or kp.shape[1:] != (skeleton.num_keypoints, 3):
        raise PosekitError(
            f"keypoints must have shape (P, {skeleton.num_keypoints}, 3) for skeleton "
            f"{skeleton.name!r}, got {kp.shape}"
        )
    P = len(kp)
    canvas = _background(rng, W, H, plain=background == "plain")
    labels = np.full((H, W), BACKGROUND_LABEL, dtype=np.int16)
    light = rng.normal(size=3)
    light[2] = abs(light[2]) + 1.2  # mostly from the viewer's side
    light /= np.linalg.norm(light)
    scales = person_scale(skeleton, kp)
    for p in rng.permutation(P):  # random depth order: later people are in front
        if scales[p] > 0:
            _draw_person(canvas, labels, int(p), skeleton, kp[p], float(scales[p]), rng, light)
    n_occ = rng.poisson(occluders * P) if P else 0
    for _ in range(n_occ):
        target = kp[rng.integers(P)]
        labelled = np.flatnonzero(target[:, 2] > 0)
        if len(labelled):
            centre = target[rng.choice(labelled), :2]
            size = max(4.0, float(np.ptp(target[labelled, :2], axis=0).max()))
            _draw_occluder(canvas, labels, rng, centre, size)

    # visibility from the drawing: is the person itself on top at the keypoint?
    for p in range(P):
        for k in np.flatnonzero(kp[p, :, 2] > 0):
            x, y = kp[p, k, :2]
            c = int(np.clip(np.rint(x), 0, W - 1))
            r = int(np.clip(np.rint(y), 0, H - 1))
            kp[p, k, 2] = 2.0 if labels[r, c] == p else 1.0
    masks = labels[None] == np.arange(P, dtype=np.int16)[:, None, None]
    boxes = np.zeros((P, 4))
    areas = masks.reshape(P, H * W).sum(axis=1).astype(np.float64)
    for p in np.flatnonzero(areas > 0):
        rows = np.flatnonzero(masks[p].any(axis=1))
        cols = np.flatnonzero(masks[p].any(axis=0))
        boxes[p] = cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1

    if noise > 0:
        canvas += rng.normal(0.0, noise, size=canvas.shape).astype(np.float32)
    image = np.clip(canvas, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        image = np.asarray(Image.fromarray(image).filter(
            ImageFilter.GaussianBlur(float(rng.uniform(0.3, 0.9)))))
    return Scene(image=image, keypoints=kp, masks=masks, boxes=boxes, areas=areas)


# ---------------------------------------------------------------------- people
@dataclass(frozen=True)
class _Style:
    """How one skeleton's parts are drawn (derived from its rest pose and flip pairs)."""

    slot: np.ndarray  # (K,) colour slot: 0 skin/head, 1 upper clothes, 2 lower clothes
    depth: np.ndarray  # (K,) tree depth from the root
    side: np.ndarray  # (K,) 0 / 1 = first / second member of a flip pair, -1 = middle
    head: np.ndarray  # (H,) keypoints drawn as features on one head disc
    limb_radius: np.ndarray  # (L_tree,) capsule radius, in rest-pose units
    joint_radius: np.ndarray  # (K,) joint disc radius, in rest-pose units
    torso: np.ndarray  # keypoints whose hull is the torso (empty: none)


@lru_cache(maxsize=64)
def _style(skeleton: Skeleton) -> _Style:
    walk = tree_walk(skeleton)
    rest = skeleton.rest_pose_array
    K = skeleton.num_keypoints
    depth = np.zeros(K, dtype=np.intp)
    for k in walk.order:
        depth[k] = depth[walk.parent[k]] + 1
    y = rest[:, 1]
    rel = (y - y.min()) / max(float(np.ptp(y)), 1e-6)
    slot = np.where(rel < 0.2, 0, np.where(rel < 0.6, 1, 2))
    side = np.full(K, -1, dtype=np.intp)
    for a, b in skeleton.flip_pairs:
        side[skeleton.index(a)], side[skeleton.index(b)] = 0, 1
    # short limbs and crowded joints (a face) get thin capsules and small discs
    dist = np.linalg.norm(rest[:, None] - rest[None], axis=-1) + np.eye(K) * 1e9
    nearest = dist.min(axis=1)
    limbs = skeleton.limb_index[: skeleton.num_tree_limbs]
    length = np.linalg.norm(rest[limbs[:, 0]] - rest[limbs[:, 1]], axis=1)
    base = np.where((limbs == walk.root).any(axis=1), _ROOT_LIMB_RADIUS, _LIMB_RADIUS)
    head = np.flatnonzero((rel < 0.1) & (nearest < 2 * _LIMB_RADIUS))
    perm = skeleton.flip_permutation
    nbrs = [k for k in range(K) if walk.parent[k] == walk.root and perm[k] != k]
    torso = np.asarray([walk.root, *nbrs] if len(nbrs) >= 2 else [], dtype=np.intp)
    return _Style(slot=slot, depth=depth, side=side,
                  head=head if len(head) >= 2 else np.zeros(0, dtype=np.intp),
                  limb_radius=np.minimum(base, 0.35 * length),
                  joint_radius=np.minimum(_JOINT_RADIUS * _LIMB_RADIUS, 0.45 * nearest),
                  torso=torso)


def _person_colours(rng: np.random.Generator) -> np.ndarray:
    """(3, 3) RGB colours: skin, upper clothes, lower clothes."""
    skin = np.array([224, 172, 105]) * rng.uniform(0.45, 1.15) + rng.normal(0, 12, 3)
    upper = rng.uniform(20, 235, size=3)
    lower = rng.uniform(20, 200, size=3) if rng.random() < 0.7 else upper * 0.8
    return np.clip(np.stack([skin, upper, lower]), 10, 245)


_WHITE = np.array([235.0, 235.0, 235.0])


def _draw_person(canvas: np.ndarray, labels: np.ndarray, pid: int, skeleton: Skeleton,
                 kp: np.ndarray, scale: float, rng: np.random.Generator,
                 light: np.ndarray) -> None:
    """Torso, limbs, head, joints. Left and right (the two members of each flip pair)
    differ in tone: a flat drawing could otherwise not tell a person seen from the front
    from one seen from the back, and left/right labels would be unlearnable."""
    st = _style(skeleton)
    colours = _person_colours(rng)
    ok = kp[:, 2] > 0
    xy = kp[:, :2]
    if len(st.torso) and ok[st.torso].all():
        _polygon(canvas, labels, pid, xy[st.torso], colours[1] * 0.95, light,
                 rim=_ROOT_LIMB_RADIUS * scale)
    walk = tree_walk(skeleton)
    limbs = skeleton.limb_index[: skeleton.num_tree_limbs]
    in_head = np.zeros(skeleton.num_keypoints, dtype=bool)
    in_head[st.head] = True
    for l in rng.permutation(len(limbs)):
        a, b = (int(v) for v in limbs[l])
        if not (ok[a] and ok[b]) or (in_head[a] and in_head[b]):
            continue
        child = b if walk.parent[b] == a else a
        colour = colours[st.slot[child]] * (1.0 if st.depth[child] % 2 else 0.82)
        if st.side[child] == 0:
            colour = colour * 0.8
        elif st.side[child] == 1:
            colour = 0.8 * colour + 0.2 * _WHITE
        _capsule(canvas, labels, pid, xy[a], xy[b], max(st.limb_radius[l] * scale, 1.0),
                 colour, light)
    head = st.head[ok[st.head]]
    if len(head) >= 2:
        centre = xy[head].mean(axis=0)
        radius = np.linalg.norm(xy[head] - centre, axis=1).max() + _LIMB_RADIUS * scale
        _capsule(canvas, labels, pid, centre, centre, radius, colours[0], light)
    for k in np.flatnonzero(ok):
        colour = colours[st.slot[k]]
        if st.side[k] == 0:
            colour = colour * 0.4
        elif st.side[k] == 1:
            colour = 0.45 * colour + 0.55 * _WHITE
        else:
            colour = colour * 0.7
        radius = max(st.joint_radius[k] * scale, 1.0)
        _capsule(canvas, labels, pid, xy[k], xy[k], radius, colour, light)


def _window(x0: float, y0: float, x1: float, y1: float, W: int,
            H: int) -> tuple[int, int, int, int] | None:
    c0, r0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
    c1, r1 = min(int(np.ceil(x1)) + 1, W), min(int(np.ceil(y1)) + 1, H)
    if c0 >= c1 or r0 >= r1:
        return None
    return c0, r0, c1, r1


def _blend(canvas: np.ndarray, labels: np.ndarray, label: int, win: tuple[int, int, int, int],
           alpha: np.ndarray, colour: np.ndarray) -> None:
    c0, r0, c1, r1 = win
    region = canvas[r0:r1, c0:c1]
    a = alpha[..., None]
    region *= 1.0 - a
    region += a * colour
    labels[r0:r1, c0:c1][alpha >= 0.5] = label


def _capsule(canvas: np.ndarray, labels: np.ndarray, label: int, a: np.ndarray, b: np.ndarray,
             radius: float, colour: np.ndarray, light: np.ndarray) -> None:
    """A cylinder-shaded capsule of ``radius`` from ``a`` to ``b`` (a disc when a == b)."""
    H, W = labels.shape
    win = _window(min(a[0], b[0]) - radius - 1, min(a[1], b[1]) - radius - 1,
                  max(a[0], b[0]) + radius + 1, max(a[1], b[1]) + radius + 1, W, H)
    if win is None:
        return
    c0, r0, c1, r1 = win
    ys, xs = np.mgrid[r0:r1, c0:c1].astype(np.float32)
    ab = (b - a).astype(np.float32)
    length2 = float(ab @ ab)
    t = 0.0 if length2 < 1e-9 else np.clip(((xs - a[0]) * ab[0] + (ys - a[1]) * ab[1])
                                           / length2, 0.0, 1.0)
    ox, oy = xs - (a[0] + t * ab[0]), ys - (a[1] + t * ab[1])
    d = np.sqrt(ox * ox + oy * oy)
    alpha = np.clip(radius - d + 0.5, 0.0, 1.0)
    if not alpha.any():
        return
    n = np.clip(d / radius, 0.0, 1.0)
    inv = 1.0 / np.maximum(d, 1e-6)
    nx, ny = ox * inv * n, oy * inv * n
    nz = np.sqrt(1.0 - n * n)
    shade = 0.35 + 0.75 * np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0.0, 1.0)
    _blend(canvas, labels, label, win, alpha, (colour * shade[..., None]).astype(np.float32))


def _polygon(canvas: np.ndarray, labels: np.ndarray, label: int, pts: np.ndarray,
             colour: np.ndarray, light: np.ndarray, rim: float) -> None:
    """The convex hull of ``pts``, shaded darker towards its rim."""
    H, W = labels.shape
    centre = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    hull = _convex_hull(pts[np.argsort(ang)])
    if len(hull) < 3:
        return
    win = _window(*(hull.min(axis=0) - 1), *(hull.max(axis=0) + 1), W, H)
    if win is None:
        return
    c0, r0, c1, r1 = win
    ys, xs = np.mgrid[r0:r1, c0:c1].astype(np.float32)
    inside = np.full(xs.shape, np.inf, dtype=np.float32)
    for i in range(len(hull)):
        p, q = hull[i], hull[(i + 1) % len(hull)]
        e = q - p
        norm = float(np.hypot(*e))
        if norm < 1e-9:
            continue
        # distance inside the (counter-clockwise in image coordinates) edge
        dist = ((xs - p[0]) * e[1] - (ys - p[1]) * e[0]) / norm
        inside = np.minimum(inside, -dist if _orientation(hull) > 0 else dist)
    alpha = np.clip(inside + 0.5, 0.0, 1.0)
    if not alpha.any():
        return
    depth = np.clip(inside / max(rim, 1.0), 0.0, 1.0)
    shade = 0.45 + 0.55 * np.sqrt(depth) * (0.6 + 0.4 * light[2])
    _blend(canvas, labels, label, win, alpha, (colour * shade[..., None]).astype(np.float32))


def _orientation(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _convex_hull(pts: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain on a few points."""
    order = sorted({(float(x), float(y)) for x, y in pts})
    if len(order) < 3:
        return np.asarray(order)

    def half(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for p in points:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(order), half(order[::-1])
    return np.asarray(lower[:-1] + upper[:-1])


# ---------------------------------------------------------------------- scenery
def _background(rng: np.random.Generator, W: int, H: int, plain: bool = False) -> np.ndarray:
    """(H, W, 3) float32 background: gradient + colour noise (+ stripes + shapes)."""
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(theta) * xs / max(W, 1) + np.sin(theta) * ys / max(H, 1))
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    c0, c1 = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
    canvas = c0 + ramp[..., None] * (c1 - c0)
    # low-frequency colour noise
    grid = rng.integers(3, 9)
    blobs = rng.normal(0, rng.uniform(10, 45), size=(grid, grid, 3)).astype(np.float32)
    canvas += np.stack([np.asarray(Image.fromarray(blobs[..., c]).resize(
        (W, H), Image.Resampling.BICUBIC)) for c in range(3)], axis=-1)
    if plain:
        return canvas.astype(np.float32)
    if rng.random() < 0.4:  # stripes or checks
        freq = rng.uniform(0.03, 0.25)
        phi = rng.uniform(0, np.pi)
        wave = np.sin((np.cos(phi) * xs + np.sin(phi) * ys) * freq)
        if rng.random() < 0.4:
            wave = wave * np.sin((-np.sin(phi) * xs + np.cos(phi) * ys) * freq)
        canvas += (wave * rng.uniform(8, 35))[..., None] * rng.uniform(0.3, 1.0, size=3)
    img = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(0, 7)):
        x0, x1 = sorted(rng.uniform(-0.2, 1.2, size=2) * W)
        y0, y1 = sorted(rng.uniform(-0.2, 1.2, size=2) * H)
        fill = tuple(int(v) for v in rng.integers(0, 256, size=3))
        if rng.random() < 0.5:
            draw.rectangle([x0, y0, x1, y1], fill=fill)
        else:
            draw.ellipse([x0, y0, x1, y1], fill=fill)
    return np.asarray(img, dtype=np.float32).copy()


def _draw_occluder(canvas: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                   centre: np.ndarray, person_size: float) -> None:
    """A random box or ellipse of about a third of a person's size over ``centre``."""
    H, W = labels.shape
    w, h = rng.uniform(0.15, 0.45, size=2) * person_size
    cx, cy = centre + rng.normal(0, 0.1 * person_size, size=2)
    angle = rng.uniform(0, np.pi)
    mask = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(mask)
    if rng.random() < 0.5:
        c, s = np.cos(angle), np.sin(angle)
        corners = [(cx + c * dx - s * dy, cy + s * dx + c * dy)
                   for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2),
                                  (-w / 2, h / 2))]
        draw.polygon(corners, fill=255)
    else:
        draw.ellipse([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], fill=255)
    alpha = np.asarray(mask, dtype=np.float32) / 255.0
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    if not len(rows):
        return
    win = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    c0, r0, c1, r1 = win
    colour = rng.uniform(0, 255, size=3).astype(np.float32)
    ys, xs = np.mgrid[r0:r1, c0:c1].astype(np.float32)
    texture = 1.0 + 0.15 * np.sin(xs * rng.uniform(0.1, 0.6) + ys * rng.uniform(0.1, 0.6))
    _blend(canvas, labels, OCCLUDER_LABEL, win, alpha[r0:r1, c0:c1],
           colour * texture[..., None])
