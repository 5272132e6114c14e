"""Pruning botocore's data (infra/sdk_data.py) on a copy of the installed botocore's own data."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import botocore
import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader
from botocore.model import ServiceModel

from infra.sdk_data import SDK_OPERATIONS, prune, trim_model

BOTOCORE_DATA = Path(botocore.__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


def copy_data(target: Path, services: list[str]) -> Path:
    target.mkdir()
    for path in BOTOCORE_DATA.glob("*.json"):
        shutil.copy(path, target / path.name)
    for service in services:
        shutil.copytree(BOTOCORE_DATA / service, target / service)
    return target


def read_model(directory: Path) -> dict:
    path = next(directory.glob("*/service-2.json*"))
    raw = path.read_bytes()
    return json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)


def session_over(data: Path) -> botocore.session.Session:
    """A botocore session whose built-in data is ``data``, as the bundle's botocore has only its pruned data.

    Built-in matters: botocore hands the rule sets an endpoint from endpoints.json only when that file is not
    its built-in one."""
    loader_class = type("PrunedLoader", (Loader,), {"BUILTIN_DATA_PATH": str(data),
                                                    "CUSTOMER_DATA_PATH": str(data / "no-customer-models")})
    session = botocore.session.get_session()
    session.register_component("data_loader", loader_class())
    return session


def shapes_walked_by_botocore(model: ServiceModel) -> set[str]:
    """Every shape botocore resolves from the operations' inputs, outputs and errors (KeyError-free)."""
    seen: set[str] = set()
    pending = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        pending += [shape for shape in (operation.input_shape, operation.output_shape) if shape is not None]
        pending += operation.error_shapes
    while pending:
        shape = pending.pop()
        if shape.name in seen:
            continue
        seen.add(shape.name)
        pending += list(getattr(shape, "members", {}).values())
        pending += [getattr(shape, part) for part in ("member", "key", "value") if hasattr(shape, part)]
    return seen


@pytest.fixture
def pruned(tmp_path: Path) -> Path:
    data = copy_data(tmp_path / "data", [*SDK_OPERATIONS, "sqs"])
    prune(data)
    return data


def test_only_the_listed_services_remain_each_with_exactly_its_operations(pruned: Path) -> None:
    assert sorted(path.name for path in pruned.iterdir() if path.is_dir()) == sorted(SDK_OPERATIONS)
    session = session_over(pruned)
    for service, operations in SDK_OPERATIONS.items():
        client = session.create_client(service, region_name="eu-west-1", aws_access_key_id="a",
                                       aws_secret_access_key="b")
        assert sorted(client.meta.service_model.operation_names) == sorted(operations)
    with pytest.raises(UnknownServiceError):
        session.create_client("sqs", region_name="eu-west-1")


def test_kept_shapes_are_botocores_own_and_nothing_they_reach_is_missing(pruned: Path) -> None:
    for service, operations in SDK_OPERATIONS.items():
        full, trimmed = read_model(BOTOCORE_DATA / service), read_model(pruned / service)
        assert trimmed["metadata"] == full["metadata"]
        assert trimmed["operations"] == {name: full["operations"][name] for name in operations}
        # botocore's own model classes, walking from the kept operations, find exactly the kept shapes, in
        # the trimmed model as in the full one (a shape missing from the trimmed one raises here)
        walked_in_full = shapes_walked_by_botocore(
            ServiceModel({**full, "operations": trimmed["operations"]}, service))
        assert shapes_walked_by_botocore(ServiceModel(trimmed, service)) == walked_in_full
        assert set(trimmed["shapes"]) == walked_in_full
        assert all(trimmed["shapes"][name] == full["shapes"][name] for name in trimmed["shapes"])
    # SageMaker's model shrinks from thousands of shapes to the few hundred the portal's calls reach
    assert len(read_model(pruned / "sagemaker")["shapes"]) < len(read_model(BOTOCORE_DATA / "sagemaker")["shapes"]) / 5


def test_endpoints_are_what_full_botocore_resolves(pruned: Path) -> None:
    full, trimmed = botocore.session.get_session(), session_over(pruned)
    for service, region in (("sagemaker", "eu-west-1"), ("sts", "us-east-1"), ("secretsmanager", "ap-south-1"),
                            ("sagemaker", "us-gov-west-1"), ("sagemaker", "cn-north-1")):
        clients = [session.create_client(service, region_name=region, aws_access_key_id="a",
                                         aws_secret_access_key="b") for session in (full, trimmed)]
        assert clients[0].meta.endpoint_url == clients[1].meta.endpoint_url
        assert clients[0].meta.partition == clients[1].meta.partition
    # endpoints.json keeps exactly the kept services' entries, keyed by endpoint prefix, in every partition
    prefixes = {read_model(BOTOCORE_DATA / service)["metadata"]["endpointPrefix"] for service in SDK_OPERATIONS}
    assert "api.sagemaker" in prefixes
    full_endpoints = json.loads((BOTOCORE_DATA / "endpoints.json").read_text())
    endpoints = json.loads((pruned / "endpoints.json").read_text())
    for before, after in zip(full_endpoints["partitions"], endpoints["partitions"], strict=True):
        assert after["services"] == {key: value for key, value in before["services"].items() if key in prefixes}
        assert {key: value for key, value in after.items() if key != "services"} == {
            key: value for key, value in before.items() if key != "services"}
    assert "api.sagemaker" in endpoints["partitions"][0]["services"]


def test_unused_files_go_and_rule_sets_stay(pruned: Path) -> None:
    version = next((pruned / "sagemaker").iterdir())
    assert sorted(path.name for path in version.iterdir()) == [
        "endpoint-rule-set-1.json.gz", "paginators-1.json", "paginators-1.sdk-extras.json", "service-2.json"]
    # Secrets Manager's SDK extras (merged into its model by the loader) stay
    assert (next((pruned / "secretsmanager").iterdir()) / "service-2.sdk-extras.json").is_file()


def test_an_operation_or_service_botocore_does_not_have_is_an_error(tmp_path: Path) -> None:
    model = read_model(BOTOCORE_DATA / "sts")
    with pytest.raises(ValueError, match="no operation NoSuchOperation"):
        trim_model(model, ["AssumeRole", "NoSuchOperation"])
    data = copy_data(tmp_path / "data", ["sts"])
    with pytest.raises(ValueError, match="no data for nosuchservice"):
        prune(data, {"sts": ("AssumeRole",), "nosuchservice": ("Do",)})
    assert (data / "sts").is_dir()  # nothing was deleted before the error


def test_the_script_runs_with_the_standard_library_only(tmp_path: Path) -> None:
    # The Docker fallback bundler runs it inside the build image: `python infra/sdk_data.py /asset-output`
    bundle = tmp_path / "bundle"
    (bundle / "botocore").mkdir(parents=True)
    copy_data(bundle / "botocore" / "data", [*SDK_OPERATIONS, "sqs"])
    # -S -E: no site-packages, no PYTHONPATH; infra/ itself is on the path, as in the build image
    done = subprocess.run([sys.executable, "-S", "-E", str(ROOT / "infra" / "sdk_data.py"), str(bundle)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert not (bundle / "botocore" / "data" / "sqs").exists()
    missing = subprocess.run([sys.executable, "-S", "-E", str(ROOT / "infra" / "sdk_data.py"), str(tmp_path)],
                             capture_output=True, text=True, check=False)
    assert missing.returncode != 0 and "must list boto3 and botocore" in missing.stderr
