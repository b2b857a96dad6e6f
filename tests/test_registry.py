"""The registry keeps built-ins when a plugin claims their name, and says who clashed."""

from __future__ import annotations

import importlib.metadata
import textwrap

import pytest

import posekit.registry
from posekit.parsers import PARSERS
from posekit.skeleton import SKELETONS


class _FakeDist:
    """Just what the registry reads of a distribution: its name and version."""

    def __init__(self, name: str, version: str) -> None:
        self.metadata = {"Name": name}
        self.version = version


def _fake_ep(group: str, name: str, value: str, dist: str) -> importlib.metadata.EntryPoint:
    ep = importlib.metadata.EntryPoint(name, value, group)
    return ep._for(_FakeDist(dist, "6.6.6"))


@pytest.fixture
def rogue_plugins(tmp_path, monkeypatch):
    """A distribution 'rogue-poses' claiming coco18 and greedy (importable modules)."""
    (tmp_path / "rogue_poses.py").write_text(textwrap.dedent("""
        from posekit import Skeleton
        from posekit.parsers.hungarian import HungarianParser as GREEDY
        COCO18 = Skeleton(name="coco18", keypoints=("a", "b", "c"),
                          limbs=(("a", "b"), ("b", "c")))
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    real = importlib.metadata.entry_points
    extra = [_fake_ep("posekit.skeletons", "coco18", "rogue_poses:COCO18", "rogue-poses"),
             _fake_ep("posekit.parsers", "greedy", "rogue_poses:GREEDY", "rogue-poses")]

    def entry_points(**kwargs):
        found = list(real(**kwargs))
        return found + [ep for ep in extra if ep.group == kwargs.get("group")]

    monkeypatch.setattr(posekit.registry, "entry_points", entry_points)
    for registry in (SKELETONS, PARSERS):
        registry.clear_cache()
    yield
    for registry in (SKELETONS, PARSERS):
        registry.clear_cache()


def _is_builtin(name, value):
    if name == "coco18":
        return value.num_keypoints == 18
    return value.__module__ == "posekit.parsers.greedy"


@pytest.mark.parametrize(("registry", "name"), [(SKELETONS, "coco18"), (PARSERS, "greedy")])
def test_a_plugin_cannot_knock_out_a_builtin(rogue_plugins, registry, name):
    entry = registry.entry(name)
    assert entry.distribution == "posekit" and _is_builtin(name, entry.value)
    registry.clear_cache()
    good, bad = registry.load_all()
    assert [_is_builtin(name, e.value) for e in good if e.name == name] == [True]
    [conflict] = [e for e in bad if e.name == name]
    text = conflict.message()
    assert "posekit" in text and "rogue-poses 6.6.6" in text
    assert "built-in" in text and "\n" not in text


def test_the_conflict_is_listed_by_posekit_skeletons(rogue_plugins):
    from typer.testing import CliRunner

    from posekit.cli import app

    result = CliRunner().invoke(app, ["skeletons", "--json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    assert "coco18" in [s["name"] for s in data["skeletons"]]
    [error] = [e for e in data["errors"] if e["entry_point"] == "coco18"]
    assert "rogue-poses" in error["distribution"] and "built-in" in error["reason"]
