"""Running ``posekit`` through its console entry point inside a test."""

from __future__ import annotations

import sys

import pytest

from posekit.cli import main


def run(monkeypatch, capsys, *argv):
    """``posekit ARGV`` through :func:`posekit.cli.main`: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["posekit", *map(str, argv)])
    with pytest.raises(SystemExit) as info:
        main()
    out = capsys.readouterr()
    return info.value.code, out.out, out.err
