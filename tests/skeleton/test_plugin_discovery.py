"""Plugin discovery with real installed fixture plugins (see ``fixtures/``).

A good plugin is listed beside the built-ins; each broken one (import fails, invalid
skeleton, misnamed skeleton, not a Skeleton, one name claimed twice) is reported by entry
point, distribution, version and reason, and never breaks the others.
"""

import json

import pytest


@pytest.fixture(scope="module")
def listing(fixture_site, python):
    out = python(["-m", "posekit", "skeletons", "--json"], fixture_site)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    return {s["name"]: s for s in data["skeletons"]}, {e["entry_point"]: e
                                                       for e in data["errors"]}


def test_good_plugin_is_listed_with_its_distribution(listing):
    skeletons, _ = listing
    good = skeletons["fixgood"]
    assert (good["keypoints"], good["tree_limbs"], good["redundant_limbs"]) == (3, 2, 0)
    assert (good["distribution"], good["version"]) == ("posekit-fixture-good", "1.2.3")
    assert skeletons["coco18"]["distribution"] == "posekit"


@pytest.mark.parametrize("entry_point, distribution, version, reason", [
    ("fixbadimport", "posekit-fixture-badimport", "0.0.1",
     ["import of 'posekit_fixture_badimport:SKELETON' failed", "ModuleNotFoundError",
      "posekit_fixture_no_such_dependency"]),
    ("fixinvalid", "posekit-fixture-invalid", "0.3.0",
     ["SkeletonError", "skeleton 'fixinvalid', field 'limbs'", "not connected: c"]),
    ("fixmisnamed", "posekit-fixture-invalid", "0.3.0",
     ["not a valid skeleton", "'someone_else'"]),
    ("fixnotskeleton", "posekit-fixture-notskeleton", "2.0.0",
     ["not a valid skeleton", "posekit.Skeleton", "dict"]),
])
def test_broken_plugin_is_reported_by_name_distribution_version_and_reason(
        listing, entry_point, distribution, version, reason):
    skeletons, errors = listing
    assert entry_point not in skeletons
    err = errors[entry_point]
    assert err["group"] == "posekit.skeletons"
    assert (err["distribution"], err["version"]) == (distribution, version)
    for part in reason:
        assert part in err["reason"], err["reason"]
    assert err["fix"]


def test_name_claimed_by_two_distributions_names_both(listing):
    skeletons, errors = listing
    assert "fixdup" not in skeletons
    err = errors["fixdup"]
    assert "posekit-fixture-dup-a" in err["distribution"]
    assert "posekit-fixture-dup-b" in err["distribution"]
    assert "claimed by 2 distributions" in err["reason"]


def test_table_lists_good_ones_and_prints_each_error_on_its_own_line(fixture_site, python):
    out = python(["-m", "posekit", "skeletons"], fixture_site)
    assert out.returncode == 0, out.stderr
    assert "fixgood" in out.stdout and "coco18" in out.stdout
    lines = [l for l in out.stdout.splitlines() if l.startswith("error:")]
    assert len(lines) == 5
    bad = next(l for l in lines if "'fixbadimport'" in l)
    assert "posekit-fixture-badimport 0.0.1" in bad and "ModuleNotFoundError" in bad
    assert "Traceback" not in out.stdout + out.stderr


def test_good_plugin_and_builtin_load_beside_broken_ones(fixture_site, python):
    for name in ("fixgood", "coco18"):
        out = python(["-m", "posekit", "skeletons", "show", name, "--json"], fixture_site)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["name"] == name


def test_loading_a_broken_plugin_is_a_one_line_error(fixture_site, python):
    out = python(["-m", "posekit", "skeletons", "show", "fixbadimport"], fixture_site)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) <= 2 and lines[0].startswith("error: ")
    assert "posekit-fixture-badimport 0.0.1" in out.stderr and "Fix:" in out.stderr


def test_unknown_name_suggests_the_closest(fixture_site, python):
    out = python(["-m", "posekit", "skeletons", "show", "coco81"], fixture_site)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "Did you mean 'coco18'?" in out.stderr
    assert "fixgood" in out.stderr  # the installed names are listed


def test_discovery_is_lazy(fixture_site, python):
    code = (
        "import sys, posekit\n"
        "names = posekit.list_skeletons()\n"
        "assert 'fixbadimport' in names and 'fixgood' in names, names\n"
        "posekit.load_skeleton('fixgood')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('posekit_fixture'))\n"
        "print(','.join(loaded))\n"
    )
    out = python(["-c", code], fixture_site)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "posekit_fixture_good"
