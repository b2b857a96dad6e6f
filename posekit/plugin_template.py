"""Templates for ``posekit new-plugin``: a complete, pip-installable skeleton plugin package.

Pipeline stage: none; this writes the files a plugin author starts from::

    posekit-NAME/
        pyproject.toml                  entry point NAME in group posekit.skeletons
        README.md
        src/posekit_NAME/__init__.py    the starter Skeleton (edit it)
        tests/test_NAME.py              posekit.testing.check_skeleton / check_entry_point

The starter skeleton is validated before anything is written, and the package is written
into a temporary folder and renamed into place, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from string import Template

from posekit.errors import PosekitError
from posekit.skeleton.model import DEFAULT_SIGMA, Skeleton

__all__ = ["render_plugin", "write_plugin", "starter_skeleton"]

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

PYPROJECT = Template('''\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "posekit-$name"
version = "0.1.0"
description = "posekit skeleton plugin: $name"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["posekit"]

[project.optional-dependencies]
test = ["pytest"]

[project.entry-points."posekit.skeletons"]
$name = "posekit_$name:$var"

[tool.setuptools.packages.find]
where = ["src"]
''')

MODULE = Template('''\
"""``$name``: a posekit skeleton plugin.

README: ``pip install posekit-$name`` adds the ``$name`` skeleton to ``posekit skeletons``.

Edit the skeleton below. ``keypoints`` are in heatmap channel order; ``limbs`` (by keypoint
name) must form a spanning tree; ``redundant_limbs`` get PAFs too and may close cycles;
``flip_pairs`` are swapped by a horizontal flip (left/right); ``sigmas`` are OKS sigmas
(COCO's run from 0.025 for eyes to 0.107 for hips); ``rest_pose`` is a typical pose in
normalised image coordinates (x right, y down, inside [0, 1]; a subject facing the camera
has its right side on the image left). Run ``python -m pytest`` to check it.
"""

from posekit import Skeleton

__all__ = ["$var"]

$var = Skeleton(
    name="$name",
$fields)
''')

TEST = Template('''\
"""The $name skeleton passes posekit's checks and is served by its entry point."""

from posekit.testing import check_entry_point, check_skeleton

from posekit_$name import $var


def test_skeleton_passes_posekits_checks():
    check_skeleton($var)


def test_entry_point_is_installed_and_serves_the_skeleton():
    assert check_entry_point("$name") == $var
''')

README = Template('''\
# posekit-$name

A posekit skeleton plugin: the `$name` skeleton
($summary).

```bash
python -m pip install -e ".[test]"   # the entry point posekit.skeletons:$name, and pytest
posekit skeletons show $name
python -m pytest                     # runs posekit.testing.check_skeleton on it
```

Edit `src/posekit_$name/__init__.py` to describe the skeleton; build and publish the
package with `python -m build` and your usual upload.
''')


def _default_skeleton(name: str) -> Skeleton:
    return Skeleton(
        name=name,
        keypoints=("head", "neck", "right_hand", "left_hand", "pelvis"),
        limbs=(("neck", "head"), ("neck", "right_hand"), ("neck", "left_hand"),
               ("neck", "pelvis")),
        redundant_limbs=(("right_hand", "pelvis"), ("left_hand", "pelvis")),
        flip_pairs=(("right_hand", "left_hand"),),
        sigmas=(DEFAULT_SIGMA,) * 5,
        rest_pose=((0.5, 0.15), (0.5, 0.3), (0.3, 0.5), (0.7, 0.5), (0.5, 0.6)),
    )


def starter_skeleton(name: str, keypoints: list[str] | None = None) -> Skeleton:
    """The skeleton a new plugin starts from.

    With ``keypoints``, a chain through them in the given order (rest pose derived from
    the tree); without, a five-keypoint stick figure showing every field.
    """
    _check_name(name)
    if not keypoints:
        return _default_skeleton(name)
    sk = Skeleton(name=name, keypoints=tuple(keypoints),
                  limbs=tuple(zip(keypoints[:-1], keypoints[1:], strict=True)))
    pose = tuple((round(x, 3), round(y, 3)) for x, y in sk.rest_pose)  # type: ignore[union-attr]
    return Skeleton(name=name, keypoints=sk.keypoints, limbs=sk.limbs, sigmas=sk.sigmas,
                    rest_pose=pose)


def render_plugin(name: str, keypoints: list[str] | None = None) -> dict[str, str]:
    """The plugin package's files, ``{relative path: text}``."""
    sk = starter_skeleton(name, keypoints)
    var = name.upper()
    summary = (f"{sk.num_keypoints} keypoints, {sk.num_tree_limbs} tree + "
               f"{len(sk.redundant_limbs)} redundant limbs")
    subs = {"name": name, "var": var, "fields": _fields(sk), "summary": summary}
    return {
        "pyproject.toml": PYPROJECT.substitute(subs),
        "README.md": README.substitute(subs),
        f"src/posekit_{name}/__init__.py": MODULE.substitute(subs),
        f"tests/test_{name}.py": TEST.substitute(subs),
    }


def write_plugin(name: str, out: str | Path = ".", keypoints: list[str] | None = None) -> Path:
    """Write ``out/posekit-NAME/`` and return its path.

    Raises:
        PosekitError: NAME is not an identifier, the starter skeleton is invalid, or the
            target exists and is not an empty folder.
    """
    files = render_plugin(name, keypoints)
    out = Path(out)
    target = out / f"posekit-{name}"
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise PosekitError(
            f"{str(target)!r} already exists and is not empty; choose another --out folder "
            "or remove it"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".posekit-{name}-", dir=out))
    except OSError as exc:
        raise PosekitError(f"cannot write into {str(out)!r}: {exc.strerror or exc}") from None
    try:
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        os.replace(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PosekitError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from None
    return target


# ---------------------------------------------------------------------- helpers
def _check_name(name: str) -> None:
    if not _NAME_RE.match(name):
        raise PosekitError(
            f"plugin name {name!r} is not a Python identifier; use letters, digits and '_', "
            "starting with a letter (e.g. crowdpose14)"
        )


def _fields(sk: Skeleton) -> str:
    def fmt(value: object) -> str:
        if isinstance(value, str):
            return json.dumps(value)
        if isinstance(value, float):
            return repr(round(value, 4))
        if isinstance(value, tuple):
            inner = ", ".join(fmt(v) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return repr(value)

    lines = []
    for field in ("keypoints", "limbs", "redundant_limbs", "flip_pairs", "sigmas",
                  "rest_pose"):
        items = [fmt(v) for v in getattr(sk, field)]
        lines.extend(_wrap(field, items))
    return "".join(lines)


def _wrap(field: str, items: list[str], width: int = 92) -> list[str]:
    """``    field=(a, b, ...),`` packed onto lines of at most ``width`` characters."""
    if not items:
        return [f"    {field}=(),\n"]
    one = f"    {field}=({', '.join(items)}{',' if len(items) == 1 else ''}),\n"
    if len(one) <= width + 1:
        return [one]
    out, line = [f"    {field}=(\n"], "       "
    for item in items:
        if len(line) + len(item) + 2 > width:
            out.append(line.rstrip() + "\n")
            line = "       "
        line += f" {item},"
    out.append(line + "\n")
    out.append("    ),\n")
    return out
