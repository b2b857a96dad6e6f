"""posekit: bottom-up multi-person 2D pose estimation with Part Affinity Fields, any skeleton.

The public API is ``__all__``. Importing posekit has no side effects and does not import
torch; names are imported lazily on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from posekit._version import __version__

__all__ = [
    "__version__",
    "Skeleton", "load_skeleton", "list_skeletons",
    "Person", "CandidateGraph",
    "list_parsers", "get_parser", "parse_maps",
    "PoseEstimator", "load_network",
    "PosekitError", "SkeletonError", "PluginError",
]

_LAZY = {
    "Skeleton": "posekit.skeleton",
    "load_skeleton": "posekit.skeleton",
    "list_skeletons": "posekit.skeleton",
    "Person": "posekit.people",
    "CandidateGraph": "posekit.decode.graph",
    "list_parsers": "posekit.parsers",
    "get_parser": "posekit.parsers",
    "parse_maps": "posekit.decode",
    "PoseEstimator": "posekit.inference",
    "load_network": "posekit.network",
    "PosekitError": "posekit.errors",
    "SkeletonError": "posekit.errors",
    "PluginError": "posekit.errors",
}

if TYPE_CHECKING:  # pragma: no cover
    from posekit.decode import parse_maps
    from posekit.decode.graph import CandidateGraph
    from posekit.errors import PluginError, PosekitError, SkeletonError
    from posekit.parsers import get_parser, list_parsers
    from posekit.people import Person
    from posekit.skeleton import Skeleton, list_skeletons, load_skeleton


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'posekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
