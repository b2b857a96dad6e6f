"""Skeletons: the :class:`Skeleton` dataclass, its registry and loaders."""

from __future__ import annotations

from pathlib import Path

from posekit.errors import PosekitError
from posekit.registry import Registry
from posekit.skeleton.model import DEFAULT_SIGMA, Skeleton
from posekit.skeleton.toml import skeleton_from_dict, skeleton_from_toml, skeleton_to_toml

__all__ = [
    "DEFAULT_SIGMA", "Skeleton", "SKELETONS", "load_skeleton", "list_skeletons",
    "skeleton_from_dict", "skeleton_from_toml", "skeleton_to_toml",
]


def _validate(name: str, obj: object) -> Skeleton:
    if not isinstance(obj, Skeleton):
        raise TypeError(
            f"the entry point must name a ready posekit.Skeleton object, got {type(obj).__name__}"
        )
    if obj.name != name:
        raise ValueError(f"entry point {name!r} names a skeleton called {obj.name!r}")
    return obj


SKELETONS: Registry[Skeleton] = Registry(
    "posekit.skeletons", "skeleton", _validate,
    fix="point the entry point at a posekit.Skeleton whose name matches the entry-point name, "
        "and check it with posekit.testing.check_skeleton",
)


def list_skeletons() -> list[str]:
    """Names of the installed skeletons (reads metadata only)."""
    return SKELETONS.names()


def load_skeleton(skeleton: str | Path | Skeleton) -> Skeleton:
    """A skeleton by registry name, by path to a ``.toml`` file, or passed through."""
    if isinstance(skeleton, Skeleton):
        return skeleton
    if isinstance(skeleton, Path) or str(skeleton).lower().endswith(".toml"):
        return skeleton_from_toml(skeleton)
    if not isinstance(skeleton, str):
        raise PosekitError(f"expected a skeleton name, TOML path or Skeleton, got {skeleton!r}")
    if "/" in skeleton or "\\" in skeleton:
        raise PosekitError(
            f"skeleton {skeleton!r} looks like a path; skeleton files must end in .toml"
        )
    return SKELETONS.get(skeleton)
