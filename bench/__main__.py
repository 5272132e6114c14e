"""`make bench`: the portal against a bare ten-line handler, on the same simulated SageMaker, same run.

Prints figures; asserts nothing about time. Measures:
  cold start   process start -> first completed launch with a valid session (median of N fresh processes)
  warm launch  per request in a warm process, ownership cached (median of N), and AWS calls per launch
  memory       peak RSS after the first launch
  bundle       size of the Lambda bundle (built like the CDK app builds it, unless BENCH_SKIP_BUNDLE=1)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from local._http import LocalServer
from local.sagemaker_sim import SageMakerSim
from local.seed import DEMO_DOMAIN_ID
from portal.runtime import SESSION_COOKIE
from portal.sealing import Sealer

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))
WARM_REQUESTS = int(os.environ.get("BENCH_WARM_REQUESTS", "300"))
ISSUER = "http://127.0.0.1:9"  # never contacted: every launch carries a valid session
SESSION_KEY = "b" * 48


def environment(sim_url: str, tracing: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PORTAL_"))}
    env.update({
        "PYTHONPATH": f"{ROOT / 'lambda'}:{ROOT}",
        "AWS_ENDPOINT_URL_SAGEMAKER": sim_url, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIABENCH00000000000", "AWS_SECRET_ACCESS_KEY": "bench-secret-access-key-000000",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
        "PORTAL_OIDC_ISSUER": ISSUER, "PORTAL_OIDC_CLIENT_ID": "bench", "PORTAL_OIDC_CLIENT_SECRET": "bench",
        "PORTAL_SESSION_KEY": SESSION_KEY, "PORTAL_DOMAIN_ID": DEMO_DOMAIN_ID,
        "POWERTOOLS_SERVICE_NAME": "sagemaker-studio-portal", "POWERTOOLS_METRICS_NAMESPACE": "StudioPortal",
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true", "LOG_LEVEL": "WARNING",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "PYTHONDONTWRITEBYTECODE": "",  # both sides use compiled bytecode, as Lambda does
    })
    if tracing:
        # What Lambda sets for a sampled invocation; segments go to a daemon address nobody listens on.
        env.update({"AWS_LAMBDA_FUNCTION_NAME": "portal-bench", "LAMBDA_TASK_ROOT": str(ROOT),
                    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"})
    return env


def launch_event() -> dict:
    from tests.support.events import rest_event

    session = Sealer((SESSION_KEY,), SESSION_COOKIE).seal(
        {"sub": "alice@example.com", "iss": ISSUER, "groups": [], "claims": {"email": "alice@example.com"}}, 3600)
    return rest_event("/", cookies={SESSION_COOKIE: session})


def cold(which: str, env: dict[str, str], event_file: str) -> dict:
    started = time.time()
    out = subprocess.run([sys.executable, "-m", "bench.child", which, event_file], env=env, cwd=ROOT,  # noqa: S603
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["cold_start"] = result["done"] - started
    return result


def warm(which: str, env: dict[str, str], event: dict, sim: SageMakerSim) -> tuple[float, float]:
    """Median seconds per launch and AWS calls per launch, in this process with the child's environment."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        if which == "bare":
            import importlib

            import bench.bare_handler as module

            handler = importlib.reload(module).handler
        else:
            from portal import runtime
            from portal.handler import handler
            from portal.observability import logger

            logger.setLevel("WARNING")
            runtime.reset()
        from tests.support.events import FakeContext

        context = FakeContext()
        for _ in range(5):
            handler(event, context)
        sim.clear_calls()
        times = []
        for _ in range(WARM_REQUESTS):
            started = time.perf_counter()
            response = handler(event, context)
            times.append(time.perf_counter() - started)
            assert response["statusCode"] == 302
        return statistics.median(times), len(sim.calls) / WARM_REQUESTS
    finally:
        os.environ.clear()
        os.environ.update(saved)


def bundle_size() -> str:
    if os.environ.get("BENCH_SKIP_BUNDLE") == "1":
        return "skipped (BENCH_SKIP_BUNDLE=1)"
    from infra.function import build_bundle

    with tempfile.TemporaryDirectory() as directory:
        build_bundle(Path(directory))
        files = [path for path in Path(directory).rglob("*") if path.is_file()]
        unzipped = sum(path.stat().st_size for path in files)
        import zipfile

        archive = Path(directory).parent / "bench-bundle.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in files:
                zipped.write(path, path.relative_to(directory))
        size = archive.stat().st_size
        archive.unlink()
    return f"{unzipped / 1e6:.1f} MB unzipped, {size / 1e6:.1f} MB zipped, {len(files)} files"


def main() -> None:
    import logging

    logging.getLogger("local").setLevel(logging.WARNING)
    sim = SageMakerSim(require_signature=True)
    server = LocalServer(sim, port=0, label="aws", quiet=True).start()
    sim.studio_base_url = server.url
    event = launch_event()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(event, handle)
        event_file = handle.name
    print(f"bench: {ROUNDS} cold processes per handler (alternating), {WARM_REQUESTS} warm launches, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    try:
        for tracing in (False, True):
            env = environment(server.url, tracing)
            runs: dict[str, list[dict]] = {"bare": [], "portal": []}
            for _ in range(ROUNDS):
                for which in ("bare", "portal"):
                    runs[which].append(cold(which, env, event_file))
            figures = {which: (statistics.median(r["cold_start"] for r in results),
                               statistics.median(r["max_rss_kib"] for r in results) / 1024)
                       for which, results in runs.items()}
            label = ("Powertools Tracer on (X-Ray SDK, as in Lambda with tracing)" if tracing
                     else "Powertools Tracer off (POWERTOOLS_TRACE_DISABLED=true)")
            print(f"\n[{label}]")
            bare, portal = figures["bare"], figures["portal"]
            print(f"  cold start  bare {bare[0] * 1000:7.0f} ms   portal {portal[0] * 1000:7.0f} ms"
                  f"   ratio {figures['portal'][0] / figures['bare'][0]:.2f}x (target <= 1.25x)")
            print(f"  peak memory bare {figures['bare'][1]:7.1f} MiB  portal {figures['portal'][1]:7.1f} MiB"
                  f"  ratio {figures['portal'][1] / figures['bare'][1]:.2f}x (target <= 1.3x)")
            if not tracing:
                bare_warm, bare_calls = warm("bare", env, event, sim)
                portal_warm, portal_calls = warm("portal", env, event, sim)
                print(f"  warm launch bare {bare_warm * 1000:7.2f} ms   portal {portal_warm * 1000:7.2f} ms"
                      f"   ratio {portal_warm / bare_warm:.2f}x (target <= 1.15x)")
                print(f"  AWS calls per warm launch: bare {bare_calls:.2f}, portal {portal_calls:.2f}")
        print(f"\nLambda bundle: {bundle_size()}")
    finally:
        server.stop()
        os.unlink(event_file)


if __name__ == "__main__":
    main()
