"""Cut the bundled botocore's data down to the services and operations the function calls.

botocore ships a model for every AWS service (about 420 of them). On each cold start, creating the first client
lists every service directory (thousands of ``stat`` calls), parses the 1.2 MB ``endpoints.json`` and parses
SageMaker's full model (3,000 shapes), although the portal calls seven SageMaker operations. The bundle pins
its own boto3 and botocore (lambda/requirements.txt) and keeps, of botocore's data, only:

* the services in :data:`SDK_OPERATIONS`, each model reduced to those operations and every shape they reach;
* ``endpoints.json`` reduced to those services (by endpoint prefix); the other top-level files (partitions,
  retry and default configuration) and each kept service's endpoint rule set and paginators unchanged.

Everything kept is botocore's own data for the very botocore version in the bundle. A client for a service
not listed fails with ``UnknownServiceError``; an operation not listed does not exist on its client. Both show
up in the bundle's own test (tests/infra/test_bundle_runs.py), which runs the built bundle on its own.

Standard library only: the Docker fallback bundler runs this file as a script inside the build image.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

# What the function calls, by service. Add an operation here when portal/aws.py starts calling it.
SDK_OPERATIONS: Mapping[str, tuple[str, ...]] = {
    "sagemaker": (
        "AddTags", "CreatePresignedDomainUrl", "CreateUserProfile", "DescribeDomain", "DescribeUserProfile",
        "ListSpaces", "ListTags",
    ),
    "sts": ("AssumeRole",),  # targets in other accounts
    "secretsmanager": ("GetSecretValue",),  # through Powertools Parameters' SecretsProvider
    # Outside Lambda (no LAMBDA_TASK_ROOT), importing the X-Ray SDK (Powertools Tracer) creates an X-Ray client
    # for centralized sampling; in Lambda it samples locally. Kept (10 kB) so that the bundle imports anywhere.
    "xray": ("GetSamplingRules", "GetSamplingTargets"),
}
# Loaded only by client.get_waiter() and by documentation tools; nothing in the function uses either.
_UNUSED_FILES = ("examples-1.json", "waiters-2.json")


def _read_json(path: Path) -> dict:
    raw = path.read_bytes()
    return json.loads(gzip.decompress(raw) if path.name.endswith(".gz") else raw)


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, separators=(",", ":"), sort_keys=True), encoding="utf-8")


def reachable_shapes(model: Mapping, operations: Iterable[str]) -> set[str]:
    """Names of the shapes the operations' input, output and errors refer to, directly or through others."""
    shapes = model["shapes"]
    pending: list[str] = []
    for name in operations:
        operation = model["operations"][name]
        pending += [operation[part]["shape"] for part in ("input", "output") if part in operation]
        pending += [error["shape"] for error in operation.get("errors", ())]
    reached: set[str] = set()
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached.add(name)
        shape = shapes[name]
        pending += [member["shape"] for member in shape.get("members", {}).values()]
        pending += [shape[part]["shape"] for part in ("member", "key", "value") if part in shape]
    return reached


def trim_model(model: dict, operations: Iterable[str]) -> dict:
    """The model with only ``operations`` and the shapes they reach; metadata unchanged."""
    wanted = sorted(operations)
    missing = [name for name in wanted if name not in model["operations"]]
    if missing:
        raise ValueError(f"{model['metadata'].get('serviceId', '?')} has no operation {', '.join(missing)}")
    kept = reachable_shapes(model, wanted)
    return {**model,
            "operations": {name: model["operations"][name] for name in wanted},
            "shapes": {name: shape for name, shape in model["shapes"].items() if name in kept}}


def prune(data: Path, operations: Mapping[str, Iterable[str]] = SDK_OPERATIONS) -> None:
    """Reduce a botocore ``data`` directory in place to ``operations``' services and operations."""
    service_dirs = [path for path in data.iterdir() if path.is_dir()]
    missing = sorted(set(operations) - {path.name for path in service_dirs})
    if missing:
        raise ValueError(f"botocore has no data for {', '.join(missing)}")
    for service_dir in service_dirs:
        if service_dir.name not in operations:
            shutil.rmtree(service_dir)
    # endpoints.json names services by endpoint prefix: SageMaker's is "api.sagemaker".
    endpoint_keys: set[str] = set()
    for service, names in operations.items():
        for version_dir in (data / service).iterdir():
            for unused in _UNUSED_FILES:
                (version_dir / unused).unlink(missing_ok=True)
            sources = sorted(version_dir.glob("service-2.json*"))
            if not sources:
                continue
            trimmed = trim_model(_read_json(sources[0]), names)
            endpoint_keys.add(trimmed["metadata"].get("endpointPrefix", service))
            for source in sources:
                source.unlink()
            # Uncompressed: 70 kB of JSON parses faster than it decompresses.
            _write_json(version_dir / "service-2.json", trimmed)
    endpoints = _read_json(data / "endpoints.json")
    for partition in endpoints["partitions"]:
        partition["services"] = {key: value for key, value in partition["services"].items() if key in endpoint_keys}
    _write_json(data / "endpoints.json", endpoints)


def prune_bundle(bundle: Path) -> None:
    """Prune the botocore installed in a ``pip --target`` directory."""
    data = bundle / "botocore" / "data"
    if not data.is_dir():
        raise ValueError(f"no botocore in {bundle}: lambda/requirements.txt must list boto3 and botocore")
    prune(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python infra/sdk_data.py BUNDLE_DIR")
    prune_bundle(Path(sys.argv[1]))
