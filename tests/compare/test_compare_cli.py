"""``posekit compare-parsers`` on the command line: outputs and user errors."""

import json
import subprocess
import sys

import pytest


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "posekit", "compare-parsers", *args],
                          capture_output=True, text=True, cwd=cwd)


def test_table_json_and_plot(tmp_path):
    out = _run("-s", "coco18", "--people", "1-2", "--scenes", "1", "--parsers",
               "hungarian,greedy", "--sweep", "0,1", "--json", str(tmp_path / "r.json"),
               "--plot", str(tmp_path / "r.png"))
    assert out.returncode == 0, out.stderr
    for word in ("hungarian", "greedy", "AP50", "median ms", "decode", "AP against noise"):
        assert word in out.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert [r["parser"] for r in report["results"]] == ["hungarian", "greedy"]
    assert [s["noise"] for s in report["sweep"]] == [0.0, 1.0]
    from PIL import Image

    with Image.open(tmp_path / "r.png") as im:
        assert im.format == "PNG" and im.size[0] > 400


def test_json_to_stdout():
    out = _run("-s", "coco18", "--people", "2", "--scenes", "1", "--parsers", "greedy",
               "--json", "-")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["skeleton"] == "coco18" and report["results"][0]["parser"] == "greedy"


def _one_line_error(out, *words):
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) <= 2 and lines[0].startswith("error: ")
    for word in words:
        assert word in out.stderr


@pytest.mark.parametrize(("args", "words"), [
    (["--parsers", "greedy,hungarain"], ["'hungarain'", "hungarian"]),
    (["--people", "4-2"], ["--people", "backwards"]),
    (["--people", "0,1"], ["--people", "at least 1"]),
    (["--noise", "-1"], ["--noise"]),
    (["--weights", "w.pt"], ["--weights needs --data"]),
])
def test_user_errors(args, words):
    _one_line_error(_run("-s", "coco18", *args), *words)


def test_bad_annotation_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("not json at all")
    _one_line_error(_run("-s", "coco18", "--data", str(bad)), "not JSON", str(bad))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"images": [], "annotations": []}))
    _one_line_error(_run("-s", "coco18", "--data", str(other)), "not COCO keypoint format")


def test_rendered_comparison_never_imports_torch():
    code = ("import sys\n"
            "from posekit.compare import CompareConfig, compare_parsers\n"
            "compare_parsers('coco18', CompareConfig(parsers=('greedy',), people=(1,), "
            "scenes=1))\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
