"""Shared fixtures for the skeleton tests: installing plugin packages and running the CLI.

Plugin packages (the fixtures in ``fixtures/`` and packages written by ``posekit
new-plugin``) are installed for real with ``pip install --no-deps --no-build-isolation
--target DIR``, into a folder that a subprocess then puts on ``PYTHONPATH``. Where pip cannot
build without network access (no pip, or a setuptools too old to build wheels by itself and
no ``wheel``), the same package is laid out by hand: its modules copied and a
``.dist-info`` written from its ``pyproject.toml``, which is all entry-point discovery reads.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def _pip_can_build() -> bool:
    if importlib.util.find_spec("pip") is None or importlib.util.find_spec("setuptools") is None:
        return False
    if importlib.util.find_spec("wheel") is not None:
        return True
    major, minor = (int(p) for p in
                    re.findall(r"\d+", importlib.metadata.version("setuptools"))[:2])
    return (major, minor) >= (70, 1)  # setuptools builds wheels itself from 70.1 on


def _install_by_hand(source: Path, target: Path) -> None:
    meta = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    project = meta["project"]
    src = source / "src"
    for pkg in src.iterdir():
        if pkg.is_dir() and (pkg / "__init__.py").exists():
            shutil.copytree(pkg, target / pkg.name, dirs_exist_ok=True)
    norm = re.sub(r"[-_.]+", "_", project["name"]).lower()
    info = target / f"{norm}-{project['version']}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n",
        encoding="utf-8",
    )
    lines = []
    for group, eps in project.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {value}" for name, value in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")


def install_packages(sources: list[Path], target: Path) -> None:
    """Install plugin source trees into ``target`` (copies first: builds write into them)."""
    target.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f"{target.name}-src"
    copies = []
    for src in sources:
        dst = staging / src.name
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                 "__pycache__"))
        copies.append(dst)
    if not _pip_can_build():
        for src in copies:
            _install_by_hand(src, target)
        return
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "-q", "--target", str(target),
         *map(str, copies)],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, f"pip install failed:\n{out.stdout}\n{out.stderr}"


def run_python(args: list[str], site: Path | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in a subprocess, with ``site`` first on ``PYTHONPATH``."""
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    env["COLUMNS"] = "200"  # keep rich tables and messages on one line each
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


@pytest.fixture(scope="session")
def install() -> Callable[[list[Path], Path], None]:
    return install_packages


@pytest.fixture(scope="session")
def python() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_python


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with every fixture plugin in ``fixtures/`` installed into it, once."""
    site = tmp_path_factory.mktemp("plugin-site") / "site"
    install_packages(sorted(p for p in FIXTURES.iterdir() if (p / "pyproject.toml").exists()),
                     site)
    return site
