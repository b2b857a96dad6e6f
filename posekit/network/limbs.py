"""Network stage: networks that predict PAFs for only some of a skeleton's limbs.

A skeleton may declare more limbs than a given network was trained with: OpenPose's MPI
model predicts the 14 tree limbs of ``mpi15`` (28 PAF channels) but not the redundant limbs
posekit's ``mpi15`` adds. Such a network works with the skeleton *restricted* to its
limbs: same name, keypoints, tree, flip pairs, sigmas and rest pose; only the redundant
limbs the network has; and a PAF layout that keeps the skeleton's channel order but
numbers the remaining channels 0..2L'-1, which is how the network's PAF output is laid
out. Decoding, every parser and rendering then work with the maps the network produces.
A checkpoint stores the full skeleton plus the limbs its network covers, and rebuilds the
restricted skeleton with :func:`restrict_skeleton`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["restrict_skeleton", "covered_limbs", "is_restriction"]


def _pairs(limbs: Iterable[Sequence[str]], where: str) -> list[tuple[str, str]]:
    out = []
    for limb in limbs:
        if isinstance(limb, (str, bytes)) or len(limb) != 2 or not all(
                isinstance(k, str) for k in limb):
            raise PosekitError(f"{where}: {limb!r} is not a (keypoint, keypoint) pair")
        out.append((limb[0], limb[1]))
    return out


def restrict_skeleton(skeleton: Skeleton, limbs: Iterable[Sequence[str]]) -> Skeleton:
    """``skeleton`` with only ``limbs`` (by keypoint names, in any order) as its PAF limbs.

    Every tree limb must be among ``limbs`` (the tree is what joins keypoints into
    people); redundant limbs not listed are dropped. Returns ``skeleton`` itself when all
    its limbs are listed. Raises PosekitError for a limb the skeleton does not declare.
    """
    where = f"limbs of skeleton {skeleton.name!r}"
    wanted = _pairs(limbs, where)
    known = set(skeleton.all_limbs)
    for limb in wanted:
        if limb not in known:
            reverse = " (it declares the reverse direction)" if limb[::-1] in known else ""
            raise PosekitError(f"{where}: {skeleton.name!r} has no limb {limb[0]}-{limb[1]}"
                               f"{reverse}")
    if len(set(wanted)) != len(wanted):
        raise PosekitError(f"{where}: a limb is listed twice")
    chosen = set(wanted)
    missing = [limb for limb in skeleton.limbs if limb not in chosen]
    if missing:
        a, b = missing[0]
        raise PosekitError(
            f"{where}: the tree limb {a}-{b} is missing; a network must predict every tree "
            "limb of its skeleton"
        )
    if len(chosen) == skeleton.num_limbs:
        return skeleton
    kept = [i for i, limb in enumerate(skeleton.all_limbs) if limb in chosen]
    channels = sorted(c for i in kept for c in skeleton.paf_layout[i])  # type: ignore[index]
    renumber = {c: n for n, c in enumerate(channels)}
    layout = tuple((renumber[skeleton.paf_layout[i][0]],  # type: ignore[index]
                    renumber[skeleton.paf_layout[i][1]]) for i in kept)  # type: ignore[index]
    return Skeleton(
        name=skeleton.name,
        keypoints=skeleton.keypoints,
        limbs=skeleton.limbs,
        redundant_limbs=tuple(limb for limb in skeleton.redundant_limbs if limb in chosen),
        flip_pairs=skeleton.flip_pairs,
        sigmas=skeleton.sigmas,
        rest_pose=skeleton.rest_pose,
        paf_layout=layout,
    )


def covered_limbs(skeleton: Skeleton) -> list[list[str]]:
    """The limbs of a (possibly restricted) skeleton as JSON-ready ``[a, b]`` lists."""
    return [list(limb) for limb in skeleton.all_limbs]


def is_restriction(part: Skeleton, whole: Skeleton) -> bool:
    """Whether ``part`` is ``whole`` restricted to ``part``'s limbs."""
    if part.name != whole.name or part.keypoints != whole.keypoints:
        return False
    try:
        return restrict_skeleton(whole, part.all_limbs).layout_hash == part.layout_hash
    except PosekitError:
        return False
