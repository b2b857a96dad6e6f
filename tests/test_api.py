"""The public API: lazy, side-effect free, and torch-free below the maps."""

import subprocess
import sys

import pytest

import posekit


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return set(out.split())


def test_every_name_in_all_resolves():
    for name in posekit.__all__:
        assert getattr(posekit, name) is not None, name


def test_importing_posekit_imports_no_heavy_library():
    mods = _modules_after("import posekit")
    assert "torch" not in mods
    assert "pulp" not in mods
    assert "matplotlib" not in mods


@pytest.mark.parametrize("code", [
    "import posekit.parsers",
    "import posekit.decode",
    "from posekit.parsers import get_parser\n"
    "[get_parser(n) for n in ('greedy', 'hungarian', 'tree-ilp', 'full-ilp')]",
    "import posekit; posekit.load_skeleton('coco18'); posekit.parse_maps",
])
def test_no_torch_below_the_maps(code):
    assert "torch" not in _modules_after(code)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        posekit.nope  # noqa: B018


def test_unknown_skeleton_suggests_the_closest():
    with pytest.raises(posekit.PosekitError, match=r"Did you mean 'coco18'\?"):
        posekit.load_skeleton("coco81")


def test_unknown_parser_lists_the_valid_ones():
    from posekit.parsers import get_parser

    with pytest.raises(posekit.PosekitError) as err:
        get_parser("greddy")
    assert "greedy" in str(err.value) and "hungarian" in str(err.value)
