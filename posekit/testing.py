"""Checks for skeleton plugin authors: :func:`check_skeleton` and :func:`check_entry_point`.

Pipeline stage: the skeleton, before anything is trained on it. The :class:`Skeleton`
constructor already rejects definitions that cannot work (unknown names, a tree that is not
a spanning tree, a PAF layout that is not a permutation, ...). These checks go further and
look for definitions that work but are probably wrong, using the skeleton's ``K``
keypoints, its ``L`` limbs and its ``(K, 2)`` normalised rest pose:

- the skeleton rebuilds from :meth:`Skeleton.to_dict` to an equal skeleton with the same
  layout hash (so it round-trips through TOML and checkpoints);
- the rest pose lies inside the unit square, its points are distinct and no limb has zero
  length (the synthesiser draws people from it);
- flip partners sit at about one height and mirror each other about the body's vertical
  axis (a front view) or nearly overlap (a side view), and share one OKS sigma;
- sigmas are plausible (between 0.001 and 1 of the object scale);
- the tree is not fragile (:func:`fragile_parts`): a small part (OKS sigma at most
  ``SMALL_SIGMA`` and the skeleton's median, like COCO's eyes and ears: often unlabelled or
  unseen on real people) whose loss cuts the tree into big pieces that no redundant limb
  joins again makes every parser split every person lacking it (on real COCO people
  coco17's former tree, joined only through the ears, cost tree parsers half their AP).
  This is a warning (:class:`FragileTreeWarning`), not a problem: the skeleton works, the
  message names the pieces and the fix.

All problems are collected and raised together as one :class:`SkeletonCheckError`, which is
both a :class:`~posekit.errors.SkeletonError` and an ``AssertionError``, so a plugin's test
can simply call ``check_skeleton(MY_SKELETON)``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import networkx as nx
import numpy as np

from posekit.errors import PosekitError, SkeletonError
from posekit.skeleton.model import Skeleton

__all__ = ["SkeletonCheckError", "FragileTreeWarning", "FragileCut", "check_skeleton",
           "check_entry_point", "fragile_parts"]

SIGMA_RANGE = (0.001, 1.0)
SMALL_SIGMA = 0.04          # parts this precise are small (COCO: eyes, nose, ears)
MIN_PIECE = 3               # a piece of the body this many parts big is worth a person
MIN_SEPARATION = 0.005      # rest-pose points closer than this (normalised) coincide
FLIP_TOLERANCE = 0.1        # mirror check tolerance, as a fraction of the rest pose's size

Problem = tuple[str, str]   # (field, message)


class SkeletonCheckError(SkeletonError, AssertionError):
    """Every problem :func:`check_skeleton` found, listed in one message.

    ``problems`` holds ``(field, message)`` pairs; ``field`` joins the fields involved.
    """

    def __init__(self, skeleton: str, problems: list[Problem]) -> None:
        self.problems = list(problems)
        fields = ", ".join(dict.fromkeys(f for f, _ in problems))
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        listing = "\n".join(f"  - {f}: {m}" for f, m in problems)
        super().__init__(skeleton, fields, f"{count} found by posekit.testing:\n{listing}")


def check_skeleton(skeleton: Skeleton) -> Skeleton:
    """Check a skeleton beyond what its constructor validates; return it unchanged.

    Raises:
        SkeletonCheckError: listing every problem found (it is an ``AssertionError`` too).
    """
    if not isinstance(skeleton, Skeleton):
        raise SkeletonCheckError(
            repr(skeleton)[:60], [("type", f"expected a posekit.Skeleton, got "
                                           f"{type(skeleton).__name__}")]
        )
    name = str(skeleton.name)
    problems = _revalidate(skeleton)
    if problems:  # the data itself is broken: the finer checks below would only add noise
        raise SkeletonCheckError(name, problems)
    problems += _derived(skeleton)
    problems += _rest_pose(skeleton)
    problems += _flip(skeleton)
    problems += _sigmas(skeleton)
    if problems:
        raise SkeletonCheckError(name, problems)
    for cut in fragile_parts(skeleton):
        warnings.warn(FragileTreeWarning(f"skeleton {name!r}: {cut.message()}"), stacklevel=2)
    return skeleton


class FragileTreeWarning(UserWarning):
    """The skeleton's tree falls apart when one small, often missing part is missing."""


@dataclass(frozen=True)
class FragileCut:
    """A small part whose loss cuts the tree: ``pieces`` are the parts left apart from the
    biggest piece (which comes first); no redundant limb joins them back."""

    part: str
    sigma: float
    pieces: tuple[tuple[str, ...], ...]

    def message(self) -> str:
        shown = " | ".join(", ".join(piece) for piece in self.pieces)
        return (f"its tree is fragile: losing {self.part!r} (OKS sigma {self.sigma:g}: a "
                f"small part, often unlabelled or unseen on real data) cuts a person into "
                f"{len(self.pieces)} pieces ({shown}) and no redundant limb joins them "
                f"again, so every parser splits such people. Route the tree through "
                f"well-labelled parts (shoulders, hips) so that {self.part!r} is a leaf, or "
                f"bridge the pieces with redundant limbs")


def fragile_parts(skeleton: Skeleton, *, small_sigma: float = SMALL_SIGMA,
                  min_piece: int = MIN_PIECE) -> list[FragileCut]:
    """Small parts whose loss cuts the skeleton apart (module docstring).

    A part is small when its OKS sigma is at most ``small_sigma`` and at most the
    skeleton's median sigma (in a hand, where every sigma is small, only the smaller
    half). Losing it is fragile when the tree falls into pieces whose parts outside the
    biggest piece number at least ``max(min_piece, K / 4)``, and still do once the
    redundant limbs (which ``full-ilp`` and the fragment stage use) are added.
    """
    K = skeleton.num_keypoints
    sigmas = skeleton.sigma_array
    limit = min(small_sigma, float(np.median(sigmas)))
    big = max(min_piece, math.ceil(K / 4))
    tree = nx.Graph(list(skeleton.limbs))
    tree.add_nodes_from(skeleton.keypoints)
    out = []
    for k, part in enumerate(skeleton.keypoints):
        if sigmas[k] > limit or tree.degree(part) < 2:
            continue
        rest = tree.copy()
        rest.remove_node(part)
        if _apart(rest) < big:
            continue
        bridged = rest.copy()
        bridged.add_edges_from((a, b) for a, b in skeleton.redundant_limbs
                               if part not in (a, b))
        if _apart(bridged) >= big:
            pieces = sorted(nx.connected_components(rest),
                            key=lambda c: (-len(c), min(skeleton.index(x) for x in c)))
            out.append(FragileCut(part, float(sigmas[k]), tuple(
                tuple(x for x in skeleton.keypoints if x in c) for c in pieces)))
    return out


def _apart(graph: nx.Graph) -> int:
    """Nodes outside the biggest connected component."""
    sizes = [len(c) for c in nx.connected_components(graph)]
    return sum(sizes) - max(sizes, default=0)


def check_entry_point(name: str) -> Skeleton:
    """Load skeleton ``name`` through posekit's registry, as users will, and check it.

    Confirms that the entry point is installed, names a ``Skeleton`` called ``name`` and
    belongs to a known distribution, then runs :func:`check_skeleton`. Returns the skeleton.
    """
    from posekit.skeleton import SKELETONS

    installed = SKELETONS.names()
    if name not in installed:
        raise SkeletonCheckError(name, [(
            "entry point", f"no 'posekit.skeletons' entry point named {name!r} is installed "
            f"(installed: {', '.join(installed) or 'none'}); declare it in pyproject.toml "
            "under [project.entry-points.\"posekit.skeletons\"] and pip install the package"
        )])
    try:
        entry = SKELETONS.entry(name)
    except PosekitError as exc:
        raise SkeletonCheckError(name, [("entry point", str(exc))]) from exc
    problems: list[Problem] = []
    if entry.distribution == "an unknown distribution":
        problems.append(("entry point", "its distribution has no name in its metadata"))
    try:
        check_skeleton(entry.value)
    except SkeletonCheckError as exc:
        problems += exc.problems
    if problems:
        raise SkeletonCheckError(name, problems)
    return entry.value


# ---------------------------------------------------------------------------- checks
def _revalidate(sk: Skeleton) -> list[Problem]:
    try:
        rebuilt = Skeleton(**sk.to_dict())
    except SkeletonError as exc:
        return [(exc.field, exc.reason)]
    except Exception as exc:  # an object built around the constructor can break anywhere
        return [("definition", f"cannot be rebuilt from to_dict(): {type(exc).__name__}: "
                               f"{exc}")]
    if rebuilt != sk:
        changed = [f for f in sk.to_dict() if getattr(rebuilt, f) != getattr(sk, f)]
        return [(f, "differs from the same skeleton rebuilt from to_dict(); was the object "
                    "changed after construction?") for f in changed or ["definition"]]
    if rebuilt.layout_hash != sk.layout_hash:
        return [("paf_layout", "layout hash differs from a freshly built copy")]
    return []


def _derived(sk: Skeleton) -> list[Problem]:
    problems: list[Problem] = []
    L, K = sk.num_limbs, sk.num_keypoints
    if sk.limb_index.shape != (L, 2) or sk.limb_index.min() < 0 or sk.limb_index.max() >= K:
        problems.append(("limbs", f"limb_index has shape {sk.limb_index.shape}, expected "
                                  f"({L}, 2) with indices below {K}"))
    if sorted(sk.paf_channels.ravel().tolist()) != list(range(sk.num_paf_channels)):
        problems.append(("paf_layout", f"paf_channels do not cover 0..{2 * L - 1} once each"))
    perm = sk.flip_permutation
    if not np.array_equal(perm[perm], np.arange(K)):
        problems.append(("flip_pairs", "flipping twice does not restore the keypoints"))
    return problems


def _rest_pose(sk: Skeleton) -> list[Problem]:
    problems: list[Problem] = []
    pose = sk.rest_pose_array
    kps = sk.keypoints
    for i, (x, y) in enumerate(pose):
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            problems.append(("rest_pose", f"{kps[i]!r} at ({x:g}, {y:g}) lies outside the "
                                          "unit square; use normalised coordinates in [0, 1]"))
    limbs = {frozenset((sk.index(a), sk.index(b))): (a, b) for a, b in sk.all_limbs}
    dist = np.linalg.norm(pose[:, None, :] - pose[None, :, :], axis=-1)
    for i, j in np.argwhere(np.triu(dist < MIN_SEPARATION, k=1)).tolist():
        limb = limbs.get(frozenset((i, j)))
        if limb is not None:
            problems.append(("rest_pose", f"limb {limb!r} has zero length in the rest pose"))
        else:
            problems.append(("rest_pose", f"{kps[i]!r} and {kps[j]!r} coincide in the rest "
                                          "pose; give every keypoint its own place"))
    return problems


def _flip(sk: Skeleton) -> list[Problem]:
    if not sk.flip_pairs:
        return []
    pose = sk.rest_pose_array
    size = max(float(np.ptp(pose[:, 0])), float(np.ptp(pose[:, 1])), 1e-9)
    tol = FLIP_TOLERANCE * size
    idx = [(sk.index(a), sk.index(b)) for a, b in sk.flip_pairs]
    # the body's vertical axis: where flip-pair midpoints and unpaired keypoints (nose,
    # neck, ...) lie in a front view
    unpaired = np.flatnonzero(sk.flip_permutation == np.arange(sk.num_keypoints))
    axis = float(np.median([(pose[i, 0] + pose[j, 0]) / 2 for i, j in idx]
                           + pose[unpaired, 0].tolist()))
    problems: list[Problem] = []
    for (a, b), (i, j) in zip(sk.flip_pairs, idx, strict=True):
        (xa, ya), (xb, yb) = pose[i], pose[j]
        if abs(ya - yb) > tol:
            problems.append(("flip_pairs", f"flip partners ({a!r}, {b!r}) sit at different "
                                           f"heights in the rest pose (y {ya:g} and {yb:g}); "
                                           "are they really left/right counterparts?"))
        elif abs((xa + xb) / 2 - axis) > tol and abs(xa - xb) > tol:
            problems.append(("flip_pairs", f"flip partners ({a!r}, {b!r}) neither mirror "
                                           f"each other about the body's axis x={axis:.3g} "
                                           "(front view) nor overlap (side view) in the "
                                           "rest pose"))
        if not math.isclose(sk.sigmas[i], sk.sigmas[j], rel_tol=1e-6):  # type: ignore[index]
            problems.append(("sigmas", f"flip partners ({a!r}, {b!r}) have different sigmas "
                                       f"({sk.sigmas[i]:g}, {sk.sigmas[j]:g}); a flip "  # type: ignore[index]
                                       "would change how strictly a keypoint is scored"))
    return problems


def _sigmas(sk: Skeleton) -> list[Problem]:
    lo, hi = SIGMA_RANGE
    return [
        ("sigmas", f"sigma {s:g} of {kp!r} is implausible; OKS sigmas lie between {lo:g} "
                   f"and {hi:g} (COCO's: 0.025 for eyes to 0.107 for hips)")
        for kp, s in zip(sk.keypoints, sk.sigmas, strict=True)  # type: ignore[arg-type]
        if not lo <= s <= hi
    ]
