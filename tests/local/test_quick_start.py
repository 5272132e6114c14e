"""`make dev` installs only the local run's packages; `make test` adds the full toolchain (dry runs of make)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLCHAIN = ("aws-cdk-lib", "cdk-nag", "cfn-lint", "pytest", "hypothesis", "playwright", "ruff")


def _planned_installs(target: str, venv: Path) -> list[str]:
    """The requirement files `make -n <target>` would install into a venv that does not exist yet."""
    if shutil.which("make") is None:
        pytest.fail("make is required")
    plan = subprocess.run(["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout
    return re.findall(r"pip install --quiet -r (\S+)", plan)


def _pins(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= _pins(path.parent / line[3:].strip())
        elif line:
            names.add(re.split(r"[=<>\[ ]", line, maxsplit=1)[0].lower())
    return names


def test_make_dev_installs_only_the_local_requirements(tmp_path):
    assert _planned_installs("dev", tmp_path / "venv") == ["requirements-local.txt"]


def test_the_local_requirements_hold_no_toolchain():
    local = _pins(ROOT / "requirements-local.txt")
    assert {"oidc-provider-mock", "werkzeug", "boto3", "jinja2"} <= local
    assert not local & set(TOOLCHAIN)


def test_make_test_installs_the_full_toolchain(tmp_path):
    assert _planned_installs("test", tmp_path / "venv") == ["requirements-local.txt", "requirements.txt"]
    assert set(TOOLCHAIN) <= _pins(ROOT / "requirements.txt")
