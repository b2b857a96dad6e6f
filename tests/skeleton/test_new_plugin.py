"""``posekit new-plugin``: the package it writes installs, is discovered, and its test passes."""

import sys

import pytest

import posekit
from posekit.plugin_template import render_plugin, write_plugin


@pytest.fixture(scope="module")
def generated(tmp_path_factory, install, python):
    """Two generated plugins (the default starter and a --keypoints chain), installed."""
    out = tmp_path_factory.mktemp("new-plugin")
    for args in (["starter14"], ["chain4", "--keypoints", "root, mid,tip ,end"]):
        res = python(["-m", "posekit", "new-plugin", *args, "--out", str(out)])
        assert res.returncode == 0, res.stderr
        assert f"posekit-{args[0]}" in res.stdout
    site = out / "site"
    install([out / "posekit-starter14", out / "posekit-chain4"], site)
    return out, site


def test_generated_package_has_every_part(generated):
    out, _ = generated
    pkg = out / "posekit-starter14"
    assert {p.relative_to(pkg).as_posix() for p in pkg.rglob("*") if p.is_file()} >= {
        "pyproject.toml", "README.md", "src/posekit_starter14/__init__.py",
        "tests/test_starter14.py",
    }
    pyproject = (pkg / "pyproject.toml").read_text()
    assert '[project.entry-points."posekit.skeletons"]' in pyproject
    assert 'starter14 = "posekit_starter14:STARTER14"' in pyproject
    assert "check_skeleton" in (pkg / "tests" / "test_starter14.py").read_text()


def test_installed_plugins_are_discovered(generated, python):
    _, site = generated
    code = ("import posekit\n"
            "sk = posekit.load_skeleton('chain4')\n"
            "print(sorted(posekit.list_skeletons()))\n"
            "print(sk.keypoints, sk.limbs)\n")
    res = python(["-c", code], site)
    assert res.returncode == 0, res.stderr
    names_line, chain_line = res.stdout.splitlines()
    assert "'starter14'" in names_line and "'chain4'" in names_line
    assert chain_line == ("('root', 'mid', 'tip', 'end') "
                          "(('root', 'mid'), ('mid', 'tip'), ('tip', 'end'))")


def test_generated_tests_pass(generated, python):
    out, site = generated
    res = python(["-m", "pytest", "-q", "-p", "no:cacheprovider",
                  str(out / "posekit-starter14"), str(out / "posekit-chain4")], site, cwd=out)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "4 passed" in res.stdout


def test_refuses_a_name_that_is_not_an_identifier(tmp_path, python):
    res = python(["-m", "posekit", "new-plugin", "my-body", "--out", str(tmp_path)])
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert "'my-body' is not a Python identifier" in res.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["1body", "body pose", "_body", "bödy", ""])
def test_library_refuses_names_that_are_not_identifiers(tmp_path, name):
    with pytest.raises(posekit.PosekitError, match="not a Python identifier"):
        write_plugin(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_refuses_an_existing_non_empty_target(tmp_path, python):
    target = tmp_path / "posekit-body"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    res = python(["-m", "posekit", "new-plugin", "body", "--out", str(tmp_path)])
    assert res.returncode == 1
    assert "already exists and is not empty" in res.stderr and "Traceback" not in res.stderr
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posekit-body"]  # no temp left


def test_fills_an_existing_empty_target(tmp_path, python):
    (tmp_path / "posekit-body").mkdir()
    res = python(["-m", "posekit", "new-plugin", "body", "--out", str(tmp_path)])
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "posekit-body" / "src" / "posekit_body" / "__init__.py").exists()


def test_invalid_keypoints_are_refused_before_writing(tmp_path, python):
    res = python(["-m", "posekit", "new-plugin", "body", "--out", str(tmp_path),
                  "--keypoints", "a,b,a"])
    assert res.returncode == 1
    assert "duplicate keypoint name 'a'" in res.stderr and "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_rendered_module_builds_the_skeleton_it_describes():
    files = render_plugin("crowd9", ["head", "neck", "hip"])
    namespace: dict = {}
    exec(compile(files["src/posekit_crowd9/__init__.py"], "module", "exec"), namespace)
    sk = namespace["CROWD9"]
    assert isinstance(sk, posekit.Skeleton) and sk.name == "crowd9"
    assert sk.limbs == (("head", "neck"), ("neck", "hip"))
    from posekit.testing import check_skeleton

    check_skeleton(sk)
    assert sys.modules.get("posekit_crowd9") is None
