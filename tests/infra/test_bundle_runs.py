"""The bundle as built for Lambda runs on its own: its pinned botocore, with data pruned to the portal's calls.

The bundle is built for this machine's CPU with the same recipe as the deployed one (build_bundle), and run
by an interpreter that sees nothing but the bundle and the standard library (``python -S``), as /var/task is
seen in Lambda. It launches Studio against the simulated SageMaker with the X-Ray SDK on (without
LAMBDA_TASK_ROOT, so the SDK also builds its X-Ray sampling client from the pruned data), then makes each
SageMaker call the portal makes and parses the answers. The unit tests run against the full botocore of the
virtual environment and would not notice a pruned-away operation. The benchmark's three processes (bare,
floor, portal) run here too, briefly. Linux only: the bundle is Linux's.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore import xform_name

from infra.bundling import build_bundle, host_wheel_platforms
from infra.sdk_data import SDK_OPERATIONS
from local._http import LocalServer
from local.sagemaker_sim import SageMakerSim
from local.seed import DEMO_DOMAIN_ID
from portal.i18n import SHIPPED_LANGUAGES, catalog_name
from tests.support.container import lambda_environment, signed_in_launch_event
from tests.support.events import rest_event

pytestmark = [pytest.mark.infra,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Lambda bundle runs on Linux")]

ROOT = Path(__file__).resolve().parents[2]

# Runs inside the bundle's interpreter: only the standard library and the bundle are importable.
CHILD = r"""
import json, sys
bundle, event_file, operations = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path[:0] = [bundle]
import botocore, boto3
from botocore.exceptions import UnknownServiceError
from portal.handler import handler

class Context:
    function_name, function_version, memory_limit_in_mb = "portal", "$LATEST", 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:portal"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

with open(event_file) as handle:
    response = handler(json.load(handle), Context())

from portal.aws import AwsGateway
gateway = AwsGateway()
sagemaker = gateway.sagemaker()
domain = gateway.describe_domain(sagemaker, sys.argv[4])
spaces = gateway.list_spaces(sagemaker, sys.argv[4])
gateway.create_user_profile(sagemaker, domain_id=sys.argv[4], profile="bundle-check",
                            tags={"studiouserid": "bundle-check@example.com"},
                            user_settings={"ExecutionRole": "arn:aws:iam::123456789012:role/x"})
profile = gateway.describe_user_profile(sagemaker, sys.argv[4], "bundle-check")
gateway.add_tags(sagemaker, profile.arn, {"team": "ml"})
tags = gateway.list_tags(sagemaker, profile.arn)

models = {service: sorted(boto3.client(service, region_name="us-east-1").meta.service_model.operation_names)
          for service in operations}
try:
    boto3.client("s3", region_name="us-east-1")
    s3 = "created"
except UnknownServiceError:
    s3 = "unknown"
location = (response.get("multiValueHeaders") or {}).get("Location") or [(response.get("headers") or {}).get("Location")]
print(json.dumps({"status": response["statusCode"], "location": location[0],
                  "botocore": botocore.__file__, "models": models, "s3": s3, "domain_auth_mode": domain.auth_mode,
                  "spaces": sorted(space.name for space in spaces), "tags": tags,
                  "profile_arn": profile.arn}))
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("bundle")
    build_bundle(output, platforms=host_wheel_platforms())  # from PyPI, as the deployed bundle is
    return output


@pytest.fixture
def sim() -> Iterator[tuple[SageMakerSim, str]]:
    simulator = SageMakerSim(require_signature=True)
    server = LocalServer(simulator, port=0, label="aws", quiet=True).start()
    simulator.studio_base_url = server.url
    try:
        yield simulator, server.url
    finally:
        server.stop()


def run_bundle(bundle: Path, sim_url: str, tmp_path: Path) -> dict:
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(signed_in_launch_event()))
    # Tracing on, as deployed. No LAMBDA_TASK_ROOT: the X-Ray SDK then builds its centralized-sampling client,
    # from the bundle's pruned data (in Lambda it samples locally).
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": str(tmp_path),
           **lambda_environment(sim_url, tracing=True, task_root=None)}
    operations = json.dumps(sorted(SDK_OPERATIONS))
    done = subprocess.run([sys.executable, "-S", "-c", CHILD, str(bundle), str(event_file), operations,
                           DEMO_DOMAIN_ID], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_bundle_launches_studio_and_makes_every_call_with_its_own_pruned_botocore(
        bundle: Path, sim: tuple[SageMakerSim, str], tmp_path: Path) -> None:
    simulator, url = sim
    result = run_bundle(bundle, url, tmp_path)
    # The bundle's own botocore was used, not the virtual environment's
    assert result["botocore"].startswith(str(bundle))
    # The launch went through: ownership checked, URL minted, 302 into the (simulated) Studio
    assert result["status"] == 302
    assert result["location"].startswith(url)
    operations = [call.operation for call in simulator.calls]
    assert operations[:3] == ["DescribeUserProfile", "ListTags", "CreatePresignedDomainUrl"]
    # Every other SageMaker call parses its answer with the trimmed model
    assert result["domain_auth_mode"] == "IAM"
    expected_spaces = sorted(space["SpaceName"] for space in simulator.state()["spaces"]
                             if space["DomainId"] == DEMO_DOMAIN_ID)
    assert expected_spaces and result["spaces"] == expected_spaces
    assert result["tags"] == {"studiouserid": "bundle-check@example.com", "team": "ml"}
    assert result["profile_arn"].endswith(f":user-profile/{DEMO_DOMAIN_ID}/bundle-check")
    # Each kept service has exactly the listed operations; any other service is gone
    assert result["models"] == {service: sorted(names) for service, names in SDK_OPERATIONS.items()}
    assert result["s3"] == "unknown"


# A page in each shipped language, rendered by the bundle alone: its catalogs load from /var/task.
PAGES_CHILD = r"""
import json, sys
bundle, events = sys.argv[1], json.loads(sys.argv[2])
sys.path[:0] = [bundle]
from portal import i18n
from portal.handler import handler

class Context:
    function_name, function_version, memory_limit_in_mb = "portal", "$LATEST", 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:portal"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

pages = {}
for language, event in events.items():
    response = handler(event, Context())
    catalog = i18n.translations(language)
    pages[language] = {"status": response["statusCode"], "body": response["body"],
                       "content_language": response["multiValueHeaders"]["Content-Language"][0],
                       "catalog": type(catalog).__name__, "catalog_language": catalog.info().get("language"),
                       "catalog_file": str(i18n.LOCALE_DIR)}
print(json.dumps(pages))
"""


def test_the_bundle_renders_pages_in_each_shipped_language_from_its_own_catalogs(bundle: Path, tmp_path: Path) -> None:
    events = {language: rest_event("/no-such-page", headers={"Accept-Language": f"{language};q=0.9, zz"})
              for language in SHIPPED_LANGUAGES}
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": str(tmp_path),
           **lambda_environment("http://127.0.0.1:9", tracing=False, task_root=None)}
    done = subprocess.run([sys.executable, "-S", "-c", PAGES_CHILD, str(bundle), json.dumps(events)], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    pages = json.loads(done.stdout.strip().splitlines()[-1])
    for language, page in pages.items():
        assert page["status"] == 404 and page["content_language"] == language, language
        assert f'<html lang="{language}">' in page["body"], language
        assert page["catalog_file"].startswith(str(bundle)), language
        if language == "en":
            assert page["catalog"] == "NullTranslations"  # the source language needs no catalog
        else:
            assert (page["catalog"], page["catalog_language"]) == ("GNUTranslations", catalog_name(language))


def _called_client_methods(source: str) -> set[str]:
    """Names of methods called on a botocore client in portal/aws.py: ``self._call(client, "Operation", ...)``
    (the one translation point), and direct ``client.x(...)`` or ``self._client(...).x()`` calls."""
    called = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "_call" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                called.add(xform_name(str(node.args[1].value)))
                continue
            receiver = node.func.value
            if (isinstance(receiver, ast.Name) and receiver.id == "client") or (
                    isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute)
                    and receiver.func.attr == "_client"):
                called.add(node.func.attr)
    return called


def test_every_sdk_call_in_the_aws_module_is_kept_in_the_bundle() -> None:
    called = _called_client_methods((ROOT / "lambda" / "portal" / "aws.py").read_text())
    kept = {xform_name(name) for names in SDK_OPERATIONS.values() for name in names}
    assert "create_presigned_domain_url" in called and "assume_role" in called  # the scan finds calls
    assert called <= kept, f"add to infra/sdk_data.py SDK_OPERATIONS: {sorted(called - kept)}"


def launch_event_file(directory: Path) -> str:
    """A launch with a valid session, in a file, as the benchmark hands it to its processes."""
    event_file = directory / "event.json"
    event_file.write_text(json.dumps(signed_in_launch_event()))
    return str(event_file)


def test_the_benchmark_runs_each_handler_from_its_own_path_with_one_call_per_warm_launch(
        bundle: Path, sim: tuple[SageMakerSim, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make bench` compares these three processes; its figures mean something only if this holds."""
    import bench.__main__ as bench

    simulator, url = sim
    monkeypatch.setattr(bench, "WARM_REQUESTS", 5)
    env, event_file = bench.environment(url, tracing=False), launch_event_file(tmp_path)
    results = {which: bench.container(which, env, event_file, bundle) for which in bench.HANDLERS}
    assert set(results) == {"bare", "floor", "portal"}
    assert not results["bare"]["botocore"].startswith(str(bundle))
    assert results["floor"]["botocore"].startswith(str(bundle))
    assert results["portal"]["botocore"].startswith(str(bundle))
    for which, result in results.items():
        assert result["warm_calls"] == 1.0, which
        assert result["warm"] > 0 and result["cold_start"] > 0 and result["max_rss_kib"] > 0, which
    operations = [call.operation for call in simulator.calls]
    # One cold and five warm launches each; only the portal's cold launch checks ownership first.
    assert operations.count("CreatePresignedDomainUrl") == 3 * 6
    assert operations.count("DescribeUserProfile") == 1 and len(operations) == 3 * 6 + 2


def test_the_benchmark_runs_the_floor_and_the_portal_side_by_side_in_one_process(
        bundle: Path, sim: tuple[SageMakerSim, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make bench`'s side-by-side figure: both handlers from the bundle, each launched warm as often as asked."""
    import bench.__main__ as bench

    simulator, url = sim
    monkeypatch.setattr(bench, "WARM_REQUESTS", 20)
    result = bench.container(bench.SIDE_BY_SIDE, bench.environment(url, tracing=False), launch_event_file(tmp_path),
                             bundle)
    assert result["botocore"].startswith(str(bundle))
    assert result["launches"] == {"floor": 20, "portal": 20}  # the timed ones: the first launch of each is not
    assert result["floor"] > 0 and result["portal"] > 0
    operations = [call.operation for call in simulator.calls]
    # One cold and 20 warm launches each, in blocks of 10; only the portal's cold launch checks ownership first
    # (the profile and its tags).
    assert operations.count("CreatePresignedDomainUrl") == 2 * 21
    assert operations.count("DescribeUserProfile") == 1 and len(operations) == 2 * 21 + 2


def test_a_launch_loads_no_page_machinery_and_a_page_reads_its_one_catalog(
        bundle: Path, sim: tuple[SageMakerSim, str], tmp_path: Path) -> None:
    """`make bench`'s page figure, briefly: after a cold launch (a redirect) none of Jinja2 or gettext is loaded;
    the page that follows is in the language asked for."""
    import bench.__main__ as bench

    _simulator, url = sim
    launch_file = tmp_path / "launch.json"
    launch_file.write_text(json.dumps(signed_in_launch_event()))
    for language in ("en", "ja"):
        page_file = tmp_path / f"page-{language}.json"
        page_file.write_text(json.dumps(rest_event("/callback", query={"error": ["access_denied"]},
                                                   headers={"Accept-Language": language})))
        result = bench.page_container(bench.environment(url, tracing=False), str(launch_file), str(page_file), bundle)
        assert result["loaded_by_launch"] == [], result
        assert result["language"] == language and result["status"] == 403
        assert result["first_page"] > 0 and result["warm_page"] > 0 and result["catalog_load"] > 0


def test_the_runtime_hooks_library_is_left_to_lambdas_runtime(bundle: Path) -> None:
    # Lambda's Python runtime ships snapshot_restore_py and runs the hooks registered with its own copy
    assert not (bundle / "snapshot_restore_py.py").exists()
    assert not list(bundle.glob("snapshot_restore_py-*.dist-info"))
    assert (bundle / "portal" / "runtime.py").exists()


def test_the_benchmark_restores_each_handler_from_its_own_snapshot(
        bundle: Path, sim: tuple[SageMakerSim, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make bench`'s restore figures: SnapStart's init in one process, restored copies forked from it."""
    import bench.__main__ as bench
    from bench.idp import approving_idp
    from tests.support.container import CLIENT_ID

    simulator, url = sim
    monkeypatch.setattr(bench, "RESTORE_COPIES", 2)
    with approving_idp(client_id=CLIENT_ID) as idp:
        event_file = tmp_path / "event.json"
        event_file.write_text(json.dumps(signed_in_launch_event(issuer=idp.idp.issuer)))
        env = bench.environment(url, tracing=False, issuer=idp.idp.issuer)
        runtime_dir = bench.runtime_library(tmp_path / "runtime")
        portal = bench.container("portal", env, str(event_file), bundle, mode="restore", runtime_dir=runtime_dir)
        bare = bench.container("bare", env, str(event_file), bundle, mode="restore", runtime_dir=runtime_dir)
        hits = dict(idp.hits)
    assert portal["botocore"].startswith(str(bundle)) and not bare["botocore"].startswith(str(bundle))
    assert portal["restore"] > 0 and bare["restore"] > 0 and portal["init"] > 0
    assert portal["flow_requests"] >= 2 and portal["flow_portal"] > 0
    operations = [call.operation for call in simulator.calls]
    # Init looked up the domain once; each of the 2 + 2 restored portal copies checked ownership once
    assert operations.count("DescribeDomain") == 1 and operations.count("DescribeUserProfile") == 4
    assert operations.count("CreatePresignedDomainUrl") == 2 + 4
    # Discovery and keys were fetched at init only; each walked flow signed in at the IdP once
    assert hits == {"/.well-known/openid-configuration": 1, "/jwks": 1, "/authorize": 2, "/token": 2}
