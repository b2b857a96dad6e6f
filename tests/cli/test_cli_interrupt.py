"""Ctrl-C in any command prints one line and exits 130; usage errors stay exit 2."""

import sys

import pytest

from posekit.cli import main


def _run_main(monkeypatch, capsys, argv):
    monkeypatch.setattr(sys, "argv", ["posekit", *argv])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code, capsys.readouterr()


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_in_a_command_prints_interrupted_and_exits_130(monkeypatch, capsys):
    from posekit.registry import Registry

    monkeypatch.setattr(Registry, "load_all", _interrupt)
    code, out = _run_main(monkeypatch, capsys, ["parsers"])
    assert code == 130
    assert out.err.strip() == "interrupted"
    assert "Traceback" not in out.err


def test_ctrl_c_in_a_subcommand_is_reported_too(monkeypatch, capsys):
    from posekit.registry import Registry

    monkeypatch.setattr(Registry, "entry", _interrupt)  # a class attribute: nothing binds it
    code, out = _run_main(monkeypatch, capsys, ["skeletons", "show", "coco18"])
    assert code == 130
    assert out.err.strip() == "interrupted"


def test_usage_and_user_errors_keep_their_exit_codes(monkeypatch, capsys):
    code, out = _run_main(monkeypatch, capsys, ["parse", "--no-such-option"])
    assert code == 2 and "No such option" in out.err
    code, out = _run_main(monkeypatch, capsys, ["skeletons", "show", "coco81"])
    assert code == 1 and out.err.startswith("error: unknown skeleton 'coco81'")
    code, out = _run_main(monkeypatch, capsys, ["--version"])
    assert code == 0 and out.out.startswith("posekit ")
