"""The skeleton: keypoints, limbs and PAF channel layout of one body model.

A :class:`Skeleton` is a frozen, validated dataclass. Limbs and flip pairs are given by
keypoint *name*; integer indices are derived once and cached. Shapes used downstream:

- ``K = num_keypoints``; heatmaps have ``K + 1`` channels (the last is background).
- ``L = num_limbs`` (tree limbs first, then redundant limbs); PAFs have ``2 L`` channels,
  limb ``l`` stored in channels ``paf_channels[l] = (x_channel, y_channel)``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np

from posekit.errors import SkeletonError

__all__ = ["Skeleton", "DEFAULT_SIGMA"]

DEFAULT_SIGMA = 0.05
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

Pair = tuple[str, str]


@dataclass(frozen=True)
class Skeleton:
    """A body model any part of posekit can work with.

    Args:
        name: registry name, e.g. ``"coco18"`` (letters, digits, ``_ . -``).
        keypoints: keypoint names, in heatmap channel order.
        limbs: the tree limbs as ``(parent, child)`` keypoint names; they must form a
            spanning tree over all keypoints.
        redundant_limbs: extra limbs with their own PAF (they may close cycles).
        flip_pairs: keypoints swapped by a horizontal flip (left/right).
        sigmas: OKS sigma per keypoint (default 0.05 each).
        rest_pose: normalised ``(x, y)`` per keypoint, y pointing down, inside [0, 1];
            used to synthesise people. Default: a layout derived from the tree.
        paf_layout: ``(x_channel, y_channel)`` per limb, tree limbs then redundant limbs;
            default sequential ``(0, 1), (2, 3), ...``.
    """

    name: str
    keypoints: tuple[str, ...]
    limbs: tuple[Pair, ...]
    redundant_limbs: tuple[Pair, ...] = ()
    flip_pairs: tuple[Pair, ...] = ()
    sigmas: tuple[float, ...] | None = None
    rest_pose: tuple[tuple[float, float], ...] | None = None
    paf_layout: tuple[tuple[int, int], ...] | None = field(default=None)

    # ------------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise SkeletonError(
                str(name), "name", "must be a non-empty string of letters, digits, '_', '.' or '-'"
            )
        set_ = object.__setattr__
        set_(self, "keypoints", _str_tuple(name, "keypoints", self.keypoints))
        for fname in ("limbs", "redundant_limbs", "flip_pairs"):
            set_(self, fname, _pair_tuple(name, fname, getattr(self, fname)))
        kps = self.keypoints
        if len(kps) < 2:
            raise SkeletonError(name, "keypoints", f"needs at least 2 keypoints, got {len(kps)}")
        seen: set[str] = set()
        for kp in kps:
            if not kp.strip():
                raise SkeletonError(name, "keypoints", "keypoint names must not be empty")
            if kp in seen:
                raise SkeletonError(name, "keypoints", f"duplicate keypoint name {kp!r}")
            seen.add(kp)
        for fname in ("limbs", "redundant_limbs", "flip_pairs"):
            for a, b in getattr(self, fname):
                for kp in (a, b):
                    if kp not in seen:
                        raise SkeletonError(
                            name, fname, f"{(a, b)!r} names unknown keypoint {kp!r}; "
                            f"known keypoints: {', '.join(kps)}"
                        )
                if a == b:
                    raise SkeletonError(name, fname, f"{(a, b)!r} joins a keypoint to itself")
        self._validate_tree()
        self._validate_redundant()
        self._validate_flip()
        self._validate_sigmas()
        self._validate_rest_pose()
        self._validate_paf_layout()

    def _validate_tree(self) -> None:
        graph = nx.Graph()
        graph.add_nodes_from(self.keypoints)
        for a, b in self.limbs:
            if graph.has_edge(a, b):
                raise SkeletonError(self.name, "limbs", f"limb {(a, b)!r} is listed twice")
            graph.add_edge(a, b)
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            cycle = None
        if cycle:
            path = " - ".join([cycle[0][0], *(v for _, v in cycle)])
            raise SkeletonError(
                self.name, "limbs", f"tree limbs close a cycle ({path}); "
                "move one of them to redundant_limbs"
            )
        parts = list(nx.connected_components(graph))
        if len(parts) > 1:
            main = max(parts, key=len)
            stray = sorted((kp for part in parts if part is not main for kp in part),
                           key=self.keypoints.index)
            raise SkeletonError(
                self.name, "limbs", "tree limbs must connect every keypoint; not connected: "
                + ", ".join(stray)
            )

    def _validate_redundant(self) -> None:
        tree = {frozenset(limb) for limb in self.limbs}
        seen: set[frozenset[str]] = set()
        for limb in self.redundant_limbs:
            key = frozenset(limb)
            if key in tree:
                raise SkeletonError(
                    self.name, "redundant_limbs", f"{limb!r} repeats a tree limb"
                )
            if key in seen:
                raise SkeletonError(self.name, "redundant_limbs", f"{limb!r} is listed twice")
            seen.add(key)

    def _validate_flip(self) -> None:
        used: set[str] = set()
        for a, b in self.flip_pairs:
            for kp in (a, b):
                if kp in used:
                    raise SkeletonError(
                        self.name, "flip_pairs", f"keypoint {kp!r} appears in two flip pairs"
                    )
                used.add(kp)
        perm = self.flip_permutation
        limbs = {frozenset(limb) for limb in self.limbs + self.redundant_limbs}
        kps = self.keypoints
        for a, b in self.limbs + self.redundant_limbs:
            fa, fb = kps[perm[kps.index(a)]], kps[perm[kps.index(b)]]
            if frozenset((fa, fb)) not in limbs:
                raise SkeletonError(
                    self.name, "flip_pairs", f"not symmetric: limb {(a, b)!r} flips to "
                    f"{(fa, fb)!r}, which is not a limb"
                )

    def _validate_sigmas(self) -> None:
        k = len(self.keypoints)
        if self.sigmas is None:
            object.__setattr__(self, "sigmas", (DEFAULT_SIGMA,) * k)
            return
        sigmas = _float_tuple(self.name, "sigmas", self.sigmas)
        if len(sigmas) != k:
            raise SkeletonError(
                self.name, "sigmas", f"has {len(sigmas)} values for {k} keypoints"
            )
        if any(not (math.isfinite(s) and s > 0) for s in sigmas):
            raise SkeletonError(self.name, "sigmas", "every sigma must be a positive number")
        object.__setattr__(self, "sigmas", sigmas)

    def _validate_rest_pose(self) -> None:
        k = len(self.keypoints)
        if self.rest_pose is None:
            object.__setattr__(self, "rest_pose", _tree_layout(self))
            return
        if isinstance(self.rest_pose, (str, bytes)) or not isinstance(self.rest_pose, Sequence):
            raise SkeletonError(self.name, "rest_pose", "must be a sequence of (x, y) pairs")
        pose = []
        for point in self.rest_pose:
            xy = _float_tuple(self.name, "rest_pose", point)
            if len(xy) != 2:
                raise SkeletonError(self.name, "rest_pose", f"{point!r} is not an (x, y) pair")
            if not all(math.isfinite(v) and -0.5 <= v <= 1.5 for v in xy):
                raise SkeletonError(
                    self.name, "rest_pose", f"{point!r} is not a normalised coordinate in [0, 1]"
                )
            pose.append(xy)
        if len(pose) != k:
            raise SkeletonError(
                self.name, "rest_pose", f"has {len(pose)} points for {k} keypoints"
            )
        object.__setattr__(self, "rest_pose", tuple(pose))

    def _validate_paf_layout(self) -> None:
        n = 2 * self.num_limbs
        if self.paf_layout is None:
            object.__setattr__(self, "paf_layout", tuple((2 * i, 2 * i + 1)
                                                         for i in range(self.num_limbs)))
            return
        if isinstance(self.paf_layout, (str, bytes)) or not isinstance(self.paf_layout, Sequence):
            raise SkeletonError(self.name, "paf_layout", "must be a sequence of (x, y) channels")
        layout = []
        for item in self.paf_layout:
            if (isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2
                    or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool)
                               for c in item)):
                raise SkeletonError(
                    self.name, "paf_layout", f"{item!r} is not an (x_channel, y_channel) pair"
                )
            layout.append((int(item[0]), int(item[1])))
        if len(layout) != self.num_limbs:
            raise SkeletonError(
                self.name, "paf_layout",
                f"has {len(layout)} entries for {self.num_limbs} limbs (tree + redundant)"
            )
        flat = sorted(c for pair in layout for c in pair)
        if flat != list(range(n)):
            raise SkeletonError(
                self.name, "paf_layout", f"must use each channel 0..{n - 1} exactly once"
            )
        object.__setattr__(self, "paf_layout", tuple(layout))

    # ------------------------------------------------------------------ derived
    @property
    def num_keypoints(self) -> int:
        return len(self.keypoints)

    @property
    def num_tree_limbs(self) -> int:
        return len(self.limbs)

    @property
    def num_limbs(self) -> int:
        """Tree plus redundant limbs: the number of PAFs."""
        return len(self.limbs) + len(self.redundant_limbs)

    @property
    def all_limbs(self) -> tuple[Pair, ...]:
        """Tree limbs then redundant limbs, in PAF order."""
        return self.limbs + self.redundant_limbs

    @property
    def num_heatmap_channels(self) -> int:
        return len(self.keypoints) + 1

    @property
    def num_paf_channels(self) -> int:
        return 2 * self.num_limbs

    def index(self, keypoint: str) -> int:
        """Index of a keypoint by name."""
        try:
            return self.keypoints.index(keypoint)
        except ValueError:
            raise SkeletonError(self.name, "keypoints", f"no keypoint named {keypoint!r}") from None

    @cached_property
    def limb_index(self) -> np.ndarray:
        """(L, 2) int array: keypoint indices of each limb, tree limbs first."""
        pos = {kp: i for i, kp in enumerate(self.keypoints)}
        arr = np.array([[pos[a], pos[b]] for a, b in self.all_limbs], dtype=np.intp)
        arr.setflags(write=False)
        return arr

    @cached_property
    def paf_channels(self) -> np.ndarray:
        """(L, 2) int array: the (x, y) PAF channel of each limb."""
        arr = np.array(self.paf_layout, dtype=np.intp).reshape(-1, 2)
        arr.setflags(write=False)
        return arr

    @cached_property
    def flip_permutation(self) -> np.ndarray:
        """(K,) int array: keypoint ``i`` becomes ``flip_permutation[i]`` after a flip."""
        perm = np.arange(len(self.keypoints))
        pos = {kp: i for i, kp in enumerate(self.keypoints)}
        for a, b in self.flip_pairs:
            perm[pos[a]], perm[pos[b]] = pos[b], pos[a]
        perm.setflags(write=False)
        return perm

    @cached_property
    def sigma_array(self) -> np.ndarray:
        arr = np.asarray(self.sigmas, dtype=np.float64)
        arr.setflags(write=False)
        return arr

    @cached_property
    def rest_pose_array(self) -> np.ndarray:
        """(K, 2) float array of the normalised rest pose."""
        arr = np.asarray(self.rest_pose, dtype=np.float64)
        arr.setflags(write=False)
        return arr

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/TOML-ready description (same fields as the constructor)."""
        return {
            "name": self.name,
            "keypoints": list(self.keypoints),
            "limbs": [list(p) for p in self.limbs],
            "redundant_limbs": [list(p) for p in self.redundant_limbs],
            "flip_pairs": [list(p) for p in self.flip_pairs],
            "sigmas": list(self.sigmas),  # type: ignore[arg-type]
            "rest_pose": [list(p) for p in self.rest_pose],  # type: ignore[union-attr]
            "paf_layout": [list(p) for p in self.paf_layout],  # type: ignore[union-attr]
        }

    @cached_property
    def layout_hash(self) -> str:
        """Short hash of what a trained network depends on: keypoints, limbs, PAF layout."""
        data = {
            "keypoints": list(self.keypoints),
            "limbs": [list(p) for p in self.all_limbs],
            "num_tree_limbs": self.num_tree_limbs,
            "paf_layout": [list(p) for p in self.paf_layout],  # type: ignore[union-attr]
        }
        blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def __repr__(self) -> str:
        return (f"Skeleton({self.name!r}, {self.num_keypoints} keypoints, "
                f"{self.num_tree_limbs} tree + {len(self.redundant_limbs)} redundant limbs)")


# ---------------------------------------------------------------------- helpers
def _str_tuple(skel: str, fname: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise SkeletonError(skel, fname, f"must be a sequence of names, got {type(value).__name__}")
    for item in value:
        if not isinstance(item, str):
            raise SkeletonError(skel, fname, f"{item!r} is not a string")
    return tuple(value)


def _pair_tuple(skel: str, fname: str, value: Any) -> tuple[Pair, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise SkeletonError(
            skel, fname, f"must be a sequence of (name, name) pairs, got {type(value).__name__}"
        )
    out = []
    for item in value:
        if (isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2
                or not all(isinstance(x, str) for x in item)):
            raise SkeletonError(skel, fname, f"{item!r} is not a pair of keypoint names")
        out.append((item[0], item[1]))
    return tuple(out)


def _float_tuple(skel: str, fname: str, value: Any) -> tuple[float, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise SkeletonError(skel, fname, f"must be a sequence of numbers, got {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise SkeletonError(skel, fname, f"{v!r} is not a number")
        out.append(float(v))
    return tuple(out)


def _tree_layout(sk: Skeleton) -> tuple[tuple[float, float], ...]:
    """A default rest pose: the tree drawn top-down from its first keypoint.

    Depth sets y; leaves are spread evenly in x and parents sit over their children. Good
    enough for synthesising people of a skeleton that declares no rest pose.
    """
    graph = nx.Graph(list(sk.limbs))
    graph.add_nodes_from(sk.keypoints)
    root = sk.keypoints[0]
    tree = nx.bfs_tree(graph, root)
    depth = nx.shortest_path_length(tree, root)
    leaves = [n for n in nx.dfs_preorder_nodes(tree, root) if tree.out_degree(n) == 0]
    xpos: dict[str, float] = {n: (i + 0.5) / len(leaves) for i, n in enumerate(leaves)}
    for node in reversed(list(nx.dfs_preorder_nodes(tree, root))):
        if node not in xpos:
            kids = list(tree.successors(node))
            xpos[node] = sum(xpos[c] for c in kids) / len(kids)
    max_depth = max(depth.values()) or 1
    return tuple(
        (0.1 + 0.8 * xpos[kp], 0.1 + 0.8 * depth[kp] / max_depth) for kp in sk.keypoints
    )
