"""The function's code bundle, built without Docker: /var/task/portal + /var/task/templates + Linux arm64
wheels of lambda/requirements.txt (its own boto3 and botocore, botocore's data pruned), without tests, with
Python 3.13 bytecode. test_bundle_runs.py runs a bundle built the same way for this machine's CPU.

test_synth_bundles_locally_without_docker is the one test that installs from PyPI (through CDK's own
bundling, exactly as `make synth` does).
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

from infra.bundling import WHEEL_PLATFORMS, LocalBundling, source_hash
from infra.sdk_data import SDK_OPERATIONS
from portal.i18n import SHIPPED_LANGUAGES, catalog_name
from tests.infra.conftest import CONFIGS, ROOT, build

pytestmark = pytest.mark.infra

EM_AARCH64 = 183


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return struct.unpack("<H", header[18:20])[0]


def test_source_hash_follows_the_bundle_inputs_only(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "lambda" / "portal").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "lambda" / "requirements.txt").write_text("jinja2==3.1.6\n")
    (root / "lambda" / "portal" / "handler.py").write_text("def handler(event, context): ...\n")
    (root / "templates" / "base.html").write_text("<html></html>")
    (root / "infra").mkdir()
    (root / "infra" / "sdk_data.py").write_text("SDK_OPERATIONS = {}\n")
    (root / "infra" / "stack.py").write_text("")
    first = source_hash(root)
    # Caches, tests and files outside the bundle do not change it
    (root / "lambda" / "portal" / "__pycache__").mkdir()
    (root / "lambda" / "portal" / "__pycache__" / "handler.cpython-313.pyc").write_bytes(b"\0")
    (root / "lambda" / "portal" / "tests").mkdir()
    (root / "lambda" / "portal" / "tests" / "test_x.py").write_text("")
    (root / "README.md").write_text("docs")
    (root / "infra" / "stack.py").write_text("# not in the bundle")
    assert source_hash(root) == first
    # A change to the code, a template or a pin does
    (root / "templates" / "base.html").write_text("<html lang=en></html>")
    second = source_hash(root)
    assert second != first
    (root / "lambda" / "requirements.txt").write_text("jinja2==3.1.7\n")
    third = source_hash(root)
    assert third != second
    # And so does what botocore's data is pruned to
    (root / "infra" / "sdk_data.py").write_text("SDK_OPERATIONS = {'sts': ('AssumeRole',)}\n")
    assert source_hash(root) != third


def test_docker_is_only_a_fallback_on_request(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PORTAL_BUNDLE_WITH_DOCKER", "1")
    assert LocalBundling(ROOT).try_bundle(str(tmp_path), None) is False
    assert list(tmp_path.iterdir()) == []


def test_synth_bundles_locally_without_docker(tmp_path: Path) -> None:
    # Given a synth that bundles, as `cdk synth` does (this machine has no Docker engine)
    result = build("default", CONFIGS["default"], tmp_path / "cdk.out", bundling=True)
    # When the function's asset is looked up in the cloud assembly
    code = result.function["Properties"]["Code"]
    asset_hash = code["S3Key"].removesuffix(".zip")
    manifest = json.loads((result.template_path.parent / f"{result.stack.artifact_id}.assets.json").read_text())
    source = manifest["files"][asset_hash]["source"]
    assert source["packaging"] == "zip"
    bundle = result.template_path.parent / source["path"]
    # Then it is laid out as /var/task/portal + /var/task/templates
    names = {path.name for path in bundle.iterdir()}
    assert (bundle / "portal" / "handler.py").is_file() and (bundle / "portal" / "__init__.py").is_file()
    assert (bundle / "templates" / "base.html").is_file()
    # With every shipped language's compiled catalog, and without the translators' sources
    catalogs = sorted(path.relative_to(bundle / "portal" / "locale").as_posix()
                      for path in (bundle / "portal" / "locale").rglob("*") if path.is_file())
    assert catalogs == sorted(f"{catalog_name(language)}/LC_MESSAGES/messages.mo"
                              for language in SHIPPED_LANGUAGES if language != "en")
    for module in ("aws_lambda_powertools", "jinja2", "jwt", "cryptography", "markupsafe", "aws_xray_sdk",
                   "boto3", "botocore"):
        assert module in names, module
    # Its own boto3 and botocore, at the pinned versions, not the runtime's
    pins = dict(line.split("==") for line in (ROOT / "lambda" / "requirements.txt").read_text().splitlines()
                if line.startswith(("boto3==", "botocore==")))
    assert f"boto3-{pins['boto3']}.dist-info" in names and f"botocore-{pins['botocore']}.dist-info" in names
    # botocore's data: only the services the function calls (infra/sdk_data.py)
    data = bundle / "botocore" / "data"
    assert sorted(path.name for path in data.iterdir() if path.is_dir()) == sorted(SDK_OPERATIONS)
    # Without console scripts, caches, tests or local tooling
    assert not {"bin", "local", "tests", "infra", ".venv"} & names
    assert not list((bundle / "portal").rglob("test_*.py"))
    # With bytecode compiled by the synth's Python 3.13 (/var/task is read-only: Lambda cannot write it)...
    compiled = list(bundle.rglob("*.pyc"))
    if sys.version_info[:2] == (3, 13):
        assert (bundle / "portal" / "__pycache__" / "handler.cpython-313.pyc").is_file()
        assert (bundle / "jinja2" / "__pycache__" / "environment.cpython-313.pyc").is_file()
        # ...for that version only, in __pycache__ next to each module, loaded without checking the source
        assert {path.parent.name for path in compiled} == {"__pycache__"}
        assert all(path.name.endswith(".cpython-313.pyc") for path in compiled)
        flags = struct.unpack("<I", (bundle / "portal" / "__pycache__" / "handler.cpython-313.pyc").read_bytes()[4:8])[0]
        assert flags == 0b01  # PEP 552: hash-based, check_source off (unchecked-hash)
    else:  # another version's bytecode would be ignored by the runtime: none is shipped
        assert not compiled
    # And its compiled extensions are Linux arm64 builds (manylinux wheels), whatever this machine is
    extensions = list(bundle.rglob("*.so"))
    assert extensions, "cryptography, cffi and markupsafe ship compiled extensions"
    assert {elf_machine(path) for path in extensions} == {EM_AARCH64}
    wheel_tags = " ".join((path / "WHEEL").read_text() for path in bundle.glob("*.dist-info") if (path / "WHEEL").exists())
    assert "aarch64" in wheel_tags and "x86_64" not in wheel_tags
    assert any(platform.split("_", 1)[0] in wheel_tags for platform in WHEEL_PLATFORMS)
