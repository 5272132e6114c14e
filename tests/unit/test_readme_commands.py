"""The README's admin examples that need no AWS account run as written, from the repository's root."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
OFFLINE = ("portal.admin --targets docs/examples/targets.json preview", "portal.admin --targets docs/examples/targets.json link")


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, re.S)


def offline_blocks() -> list[str]:
    return [block for block in shell_blocks() if any(command in block for command in OFFLINE)]


def test_the_readme_shows_both_offline_admin_commands():
    assert len(offline_blocks()) == 2


@pytest.mark.parametrize("block", offline_blocks(), ids=["link", "preview"])
def test_the_readme_admin_example_runs_as_written(block, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PORTAL_", "AWS_"))}
    existed = (ROOT / "claims.json").exists()
    try:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60, check=False)
    finally:
        if not existed:
            (ROOT / "claims.json").unlink(missing_ok=True)
    assert done.returncode == 0, done.stderr
    if "preview" in block:
        previewed = {entry["target"]: entry for entry in json.loads(done.stdout)}
        assert previewed["ml-prod"]["profile"] == "john-doe-prod" and previewed["ml-prod"]["allowed"]
    else:
        assert done.stdout.strip() == ("https://studio.example.com/?target=ml-prod&space=team-room&app=JupyterLab"
                                       "&path=lab/tree/onboarding.ipynb")


def test_the_readme_targets_example_is_the_file_the_commands_read():
    block = re.search(r"turns the single domain into a list\n.*?```json\n(.*?)```", README, re.S).group(1)
    assert json.loads(block) == json.loads((ROOT / "docs" / "examples" / "targets.json").read_text())
