"""Declarative skeleton files: a TOML file with the same fields as :class:`Skeleton`.

```toml
name = "stick3"
keypoints = ["head", "hip", "foot"]
limbs = [["head", "hip"], ["hip", "foot"]]
```
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from posekit.errors import PosekitError, SkeletonError
from posekit.skeleton.model import Skeleton

__all__ = ["skeleton_from_toml", "skeleton_from_dict", "skeleton_to_toml"]

_FIELDS = [f.name for f in dataclasses.fields(Skeleton)]
_REQUIRED = ("name", "keypoints", "limbs")


def skeleton_from_dict(data: dict, source: str = "skeleton") -> Skeleton:
    """Build a skeleton from a plain mapping, rejecting unknown or missing fields."""
    if not isinstance(data, dict):
        raise PosekitError(f"{source}: expected a table of skeleton fields")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise PosekitError(
            f"{source}: unknown field {unknown[0]!r}; valid fields: {', '.join(_FIELDS)}"
        )
    missing = [f for f in _REQUIRED if f not in data]
    if missing:
        raise PosekitError(f"{source}: missing required field {missing[0]!r}")
    try:
        return Skeleton(**data)
    except SkeletonError as exc:
        raise SkeletonError(exc.skeleton, exc.field, f"{exc.reason} (in {source})") from None


def skeleton_from_toml(path: str | Path) -> Skeleton:
    """Read a skeleton TOML file; errors name the file and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PosekitError(f"skeleton file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PosekitError(f"cannot read skeleton file {str(path)!r}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PosekitError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    return skeleton_from_dict(data, source=str(path))


def skeleton_to_toml(sk: Skeleton) -> str:
    """Serialise a skeleton as TOML (readable by :func:`skeleton_from_toml`)."""
    def fmt(value: object) -> str:
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(fmt(v) for v in value) + "]"
        return repr(value)

    lines = []
    for key, value in sk.to_dict().items():
        if isinstance(value, list) and value and isinstance(value[0], list):
            inner = ",\n".join("    " + fmt(v) for v in value)
            lines.append(f"{key} = [\n{inner},\n]")
        else:
            lines.append(f"{key} = {fmt(value)}")
    return "\n".join(lines) + "\n"
