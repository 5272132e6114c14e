"""The function's code bundle, built without Docker: platform wheels of lambda/requirements.txt (botocore's data
pruned to the calls the function makes, infra/sdk_data.py), the portal package and its templates, with bytecode.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.sdk_data import SDK_OPERATIONS, prune_bundle

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUNTIME = lambda_.Runtime.PYTHON_3_13
PYTHON_VERSION = "3.13"
# Lambda's python3.13 runs on Amazon Linux 2023 (glibc 2.34): any manylinux wheel up to 2_34 runs there.
# pip does not widen an explicit --platform to older glibc tags, so each family is listed.
WHEEL_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
# In lambda/requirements.txt for tests and local runs, but shipped by Lambda's Python runtime, whose copy must be
# the one imported: the runtime runs the SnapStart hooks registered with its own module.
RUNTIME_PROVIDED = ("snapshot_restore_py",)
# The translations ship compiled (.mo); their sources (.po, .pot) stay in the repository.
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", "tests", ".DS_Store",
                                  "*.po", "*.pot")
# Lambda's /var/task is read-only, so Python cannot write the bytecode of modules shipped without it and
# compiles them again on every cold start. The bundle therefore ships .pyc files, compiled by the synth's own
# interpreter, which must be the runtime's version: CPython ignores the .pyc of another version
# (cpython-312 next to a 3.13 runtime is dead weight). On another version the bundle ships no bytecode.
COMPILE_BYTECODE = sys.version_info[:2] == tuple(int(part) for part in PYTHON_VERSION.split("."))
# Bump when the recipe below changes, so that cdk.out does not serve a bundle made by the old recipe.
_RECIPE = (f"v5 python{PYTHON_VERSION} {' '.join(WHEEL_PLATFORMS)} bytecode={COMPILE_BYTECODE}"
           f" sdk={sorted((service, sorted(names)) for service, names in SDK_OPERATIONS.items())}")


def host_wheel_platforms() -> tuple[str, ...]:
    """The manylinux tags of this machine's CPU: a bundle this (Linux) machine can run (benchmarks, tests)."""
    if not sys.platform.startswith("linux"):
        raise RuntimeError("a Lambda bundle runs on Linux only: build and run it on a Linux machine")
    machine = platform.machine().lower()
    machine = {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine)
    return tuple(tag.replace("aarch64", machine) for tag in WHEEL_PLATFORMS)


def build_bundle(output: Path, root: Path = PROJECT_ROOT, python: str = sys.executable,
                 platforms: tuple[str, ...] = WHEEL_PLATFORMS) -> None:
    """Lay out /var/task: platform wheels of lambda/requirements.txt (boto3 and botocore included, botocore's
    data pruned to what the function calls: infra/sdk_data.py), then portal/ (with the compiled translations,
    portal/locale/*/LC_MESSAGES/messages.mo) and templates/."""
    command = [
        python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--no-compile",
        "--target", str(output), "--implementation", "cp", "--python-version", PYTHON_VERSION,
        "--only-binary=:all:", *(arg for tag in platforms for arg in ("--platform", tag)),
        "--requirement", str(root / "lambda" / "requirements.txt"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(
            f"Bundling the portal failed: pip could not install lambda/requirements.txt as {platforms[0]} wheels "
            f"for Python {PYTHON_VERSION} (PyPI must be reachable).\n{result.stdout[-2000:]}{result.stderr[-4000:]}")
    shutil.rmtree(output / "bin", ignore_errors=True)  # console scripts: nothing runs them in Lambda
    remove_runtime_provided(output)
    prune_bundle(output)
    shutil.copytree(root / "lambda" / "portal", output / "portal", ignore=_IGNORED, dirs_exist_ok=True)
    shutil.copytree(root / "templates", output / "templates", ignore=_IGNORED, dirs_exist_ok=True)
    if COMPILE_BYTECODE:
        compile_bytecode(output)
    # else: the synth's Python is not 3.13, whose bytecode the runtime would ignore; the bundle works without
    # it, only its cold starts compile every module (synthesize with Python 3.13, as the Makefile does).


def remove_runtime_provided(output: Path) -> None:
    """Drop what Lambda's Python runtime provides itself (:data:`RUNTIME_PROVIDED`)."""
    for module in RUNTIME_PROVIDED:
        (output / f"{module}.py").unlink(missing_ok=True)
        for dist_info in output.glob(f"{module}-*.dist-info"):
            shutil.rmtree(dist_info)


def compile_bytecode(output: Path) -> None:
    """Write __pycache__/*.cpython-313.pyc next to every module of the bundle, with this interpreter.

    ``unchecked-hash``: the runtime loads them without comparing source timestamps or hashes (the sources in
    /var/task never change), so neither the zip's timestamps nor a hash check cost anything at import.
    """
    command = [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", "-j", "0",
               str(output)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"Bundling the portal failed: compileall could not compile every module of the bundle."
                           f"\n{result.stdout[-4000:]}{result.stderr[-2000:]}")


def source_hash(root: Path = PROJECT_ROOT) -> str:
    """Hash of everything that goes into the bundle; CDK rebuilds only when it changes."""
    digest = hashlib.sha256(_RECIPE.encode())
    files = [root / "lambda" / "requirements.txt", root / "infra" / "sdk_data.py"]
    for directory in (root / "lambda" / "portal", root / "templates"):
        files += [path for path in directory.rglob("*") if path.is_file()
                  and not any(part in ("__pycache__", ".pytest_cache", "tests") for part in path.parts)
                  and path.suffix not in (".pyc", ".pyo")]
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class LocalBundling:
    """Builds the bundle on this machine with pip's platform wheels: no Docker needed.

    CDK calls this first and falls back to Docker only when it returns False, which it does only when
    asked to (``PORTAL_BUNDLE_WITH_DOCKER=1``). A pip failure is an error, not a reason to try Docker.
    """

    def __init__(self, root: Path = PROJECT_ROOT, python: str = sys.executable) -> None:
        self.root = root
        self.python = python

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        if os.environ.get("PORTAL_BUNDLE_WITH_DOCKER") == "1":
            return False
        build_bundle(Path(output_dir), self.root, self.python)
        return True


def portal_code(root: Path = PROJECT_ROOT) -> lambda_.Code:
    docker_fallback = " && ".join([
        "pip install --no-compile --target /asset-output --requirement /asset-input/lambda/requirements.txt",
        "rm -rf /asset-output/bin",
        *(f"rm -rf /asset-output/{module}.py /asset-output/{module}-*.dist-info" for module in RUNTIME_PROVIDED),
        "python /asset-input/infra/sdk_data.py /asset-output",
        "cp -r /asset-input/lambda/portal /asset-output/portal",
        r"find /asset-output/portal \( -name '*.po' -o -name '*.pot' \) -delete",
        "cp -r /asset-input/templates /asset-output/templates",
        "find /asset-output -name __pycache__ -prune -exec rm -rf {} +",
        # The build image runs the function's Python version, so its bytecode is the one Lambda loads.
        "python -m compileall -q --invalidation-mode unchecked-hash /asset-output",
    ])
    return lambda_.Code.from_asset(
        str(root),
        # A custom hash over the bundle's inputs: CDK neither fingerprints the whole repository (.venv,
        # node_modules) nor rebuilds an unchanged bundle.
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source_hash(root),
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image if RUNTIME.bundling_image else DockerImage.from_registry(
                "public.ecr.aws/sam/build-python3.13"),
            platform="linux/arm64",
            command=["bash", "-c", docker_fallback],
            # jsii passes the options to try_bundle as one struct; its protocol spells them out as keywords.
            local=LocalBundling(root),  # type: ignore[arg-type]
        ),
    )
