"""The command-line shell: version, help on every command, python -m posekit."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

import posekit
from posekit.cli import app

runner = CliRunner()


def _commands():
    import typer.main

    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():
        names.append([name])
        for sub in getattr(cmd, "commands", {}):
            names.append([name, sub])
    return names


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"posekit {posekit.__version__}"


def test_python_dash_m_posekit():
    out = subprocess.run([sys.executable, "-m", "posekit", "--version"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "posekit" in out.stdout


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_command_has_help(command, flag):
    result = runner.invoke(app, [*command, flag])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_shell_completion_is_offered():
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.output


def test_user_error_is_one_line_exit_1():
    out = subprocess.run([sys.executable, "-m", "posekit", "skeletons", "show", "coco81"],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) <= 2 and lines[0].startswith("error: unknown skeleton 'coco81'")
    assert "coco18" in out.stderr


def test_usage_error_is_exit_2():
    result = runner.invoke(app, ["skeletons", "--no-such-flag"])
    assert result.exit_code == 2
