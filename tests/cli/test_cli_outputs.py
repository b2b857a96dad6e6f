"""Output paths are checked before any work starts; eval reads COCO's own folder layout.

Every command that writes (--out, --json, --plot) refuses a folder where a file is meant,
a path under a file, an unwritable folder and (for --plot) a file type it cannot write:
one line, exit 1, before the work (the work itself is replaced by a function that fails
the test if it is ever reached), and nothing written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli._main import run


def one_line_error(code, err, *needles):
    assert code == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def no_work(monkeypatch):
    """Replace each command's work with a function that fails the test when reached.

    The commands import these inside their bodies, so the patched functions are what they
    call; every module that binds one at import time is imported first, unpatched.
    """
    import importlib

    import posekit.coco
    import posekit.compare
    import posekit.maps
    import posekit.synth.dataset
    import posekit.training.loop

    for name in ("posekit.compare.real", "posekit.compare.scenes", "posekit.training.dataset"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass

    def reached(*args, **kwargs):
        raise AssertionError("the work started before the output path was checked")

    for module, name in ((posekit.maps, "load_maps"), (posekit.compare, "compare_parsers"),
                         (posekit.synth.dataset, "write_synth_dataset"),
                         (posekit.training.loop, "train"),
                         (posekit.coco, "load_coco_keypoints")):
        monkeypatch.setattr(module, name, reached)


@pytest.fixture
def locked(tmp_path, monkeypatch):
    """A folder the process may not write to (os.access says so, even for root)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    real = os.access

    def access(path, mode, *args, **kwargs):
        if Path(path) == folder and mode & os.W_OK:
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    return folder


def _commands(tmp_path, option, path):
    """Each command with ``option`` set to ``path`` (other arguments valid or unchecked)."""
    return {
        "parse": ["parse", "-s", "coco18", "-m", tmp_path / "maps.npz", "--out", path],
        "eval": ["eval", "-s", "coco18", "--data", tmp_path / "data", "--json", path],
        "compare-json": ["compare-parsers", "-s", "coco18", "--json", path],
        "compare-plot": ["compare-parsers", "-s", "coco18", "--plot", path],
        "synth": ["synth", "-s", "coco18", "--out", path],
        "train": ["train", "-s", "coco18", "--data", tmp_path / "data", "--out", path],
    }[option]


FILE_OUTPUTS = ["parse", "eval", "compare-json", "compare-plot"]
ALL_OUTPUTS = [*FILE_OUTPUTS, "synth", "train"]


@pytest.mark.parametrize("command", FILE_OUTPUTS)
def test_a_folder_given_as_an_output_file_is_refused(tmp_path, monkeypatch, capsys, no_work,
                                                     command):
    code, _, err = run(monkeypatch, capsys, *_commands(tmp_path, command, tmp_path))
    one_line_error(code, err, str(tmp_path), "is a folder")


@pytest.mark.parametrize("command", ["synth", "train"])
def test_a_file_given_as_an_output_folder_is_refused(tmp_path, monkeypatch, capsys, no_work,
                                                     command):
    path = tmp_path / "a_file"
    path.write_text("keep me")
    code, _, err = run(monkeypatch, capsys, *_commands(tmp_path, command, path))
    one_line_error(code, err, "--out", "is a file")
    assert path.read_text() == "keep me"


@pytest.mark.parametrize("command", ALL_OUTPUTS)
def test_an_output_under_a_file_is_refused(tmp_path, monkeypatch, capsys, no_work, command):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    path = blocker / "sub" / ("out.png" if command == "compare-plot" else "out.json")
    code, _, err = run(monkeypatch, capsys, *_commands(tmp_path, command, path))
    one_line_error(code, err, str(blocker), "is a file, not a folder")


@pytest.mark.parametrize("command", ALL_OUTPUTS)
def test_an_unwritable_folder_is_refused_before_the_work(tmp_path, monkeypatch, capsys,
                                                         no_work, locked, command):
    name = "new" if command in ("synth", "train") else (
        "plot.png" if command == "compare-plot" else "out.json")
    code, _, err = run(monkeypatch, capsys, *_commands(tmp_path, command, locked / name))
    one_line_error(code, err, str(locked), "not writable")
    assert list(locked.iterdir()) == []


def test_an_unwritable_output_folder_itself_is_refused(tmp_path, monkeypatch, capsys, no_work,
                                                       locked):
    code, _, err = run(monkeypatch, capsys, *_commands(tmp_path, "synth", locked))
    one_line_error(code, err, str(locked), "not writable")


def test_a_plot_of_a_type_matplotlib_cannot_write_is_refused(tmp_path, monkeypatch, capsys,
                                                            no_work):
    code, _, err = run(monkeypatch, capsys,
                       *_commands(tmp_path, "compare-plot", tmp_path / "plot.json"))
    one_line_error(code, err, "--plot", ".json", ".png")


def test_compare_json_to_stdout_is_still_allowed(tmp_path, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, "compare-parsers", "-s", "coco18", "--json", "-",
                         "--scenes", "1", "--people", "1:2", "--parsers", "greedy,hungarian")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["results"] and {r["parser"] for r in doc["results"]} == {"greedy", "hungarian"}
    assert sorted({b["people"] for b in doc["results"][0]["by_people"]}) == [1, 2]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_folder_that_takes_no_files_is_refused_even_for_root(tmp_path, monkeypatch, capsys,
                                                               no_work):
    """os.access says yes to root everywhere; /proc still takes no new files."""
    code, _, err = run(monkeypatch, capsys, *_commands(tmp_path, "synth", "/proc/posekit-out"))
    one_line_error(code, err, "/proc", "not writable")
