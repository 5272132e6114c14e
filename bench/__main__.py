"""`make bench`: the portal against a bare ten-line handler, on the same simulated SageMaker, same run.

Prints figures; asserts nothing about time. Each sample is a fresh process ("container") that serves one
launch with a valid session, cold, then warm launches; bare, floor and portal processes alternate, and each
round gives one portal/bare ratio (the median of those is reported), so what else the machine does cancels
out. The portal runs from its Lambda bundle, built as the CDK app builds it (for this machine's CPU), at its
deployed log level (INFO: one audit line per launch); the bare handler from the full SDK, as the Lambda
runtime ships it. The floor is the bare call inside the Powertools layers alone (bench/floor_handler.py),
from the same bundle: what the framework costs before the portal does anything. The simulator runs in this
process, as AWS runs elsewhere.
  cold start   process start -> first completed launch
  memory       peak RSS after the first launch
  warm launch  per request, ownership cached; and AWS calls per warm launch
  side by side the floor and the portal warm in one process, alternating (bench/child.py): portal/floor without
               the difference one process makes from another, which spreads the rounds' ratios widely
  restore      SnapStart, locally (bench/snapshot.py): a process imports its handler as SnapStart's init does
               (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start), runs the before-snapshot hooks, then forks restored
               copies; each is timed from the fork to its first completed launch with a valid session (the
               after-restore hooks included), for the portal and the bare handler
  signed-out flow  in a restored copy: bookmark -> IdP -> callback -> Studio, the portal's requests and the time
               spent in them (the IdP's own page is not the portal's time)
  bundle       size of the deployed (arm64) Lambda bundle, unless BENCH_SKIP_BUNDLE_SIZE=1
and, separately, what a page costs in each of a few languages after a cold launch (bench/page_child.py).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

from bench.idp import approving_idp
from local._http import LocalServer
from local.sagemaker_sim import SageMakerSim
from tests.support.container import CLIENT_ID, lambda_environment, signed_in_launch_event
from tests.support.events import rest_event

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
WARM_REQUESTS = int(os.environ.get("BENCH_WARM_REQUESTS", "200"))
# Where the bare handler finds boto3: the full SDK of this environment, standing in for the Lambda runtime's.
SDK_PATH = sysconfig.get_paths()["purelib"]


RESTORE_COPIES = int(os.environ.get("BENCH_RESTORE_COPIES", "3"))
HANDLERS = ("bare", "floor", "portal")
RESTORED = ("bare", "portal")  # the handlers restored from a snapshot
SIDE_BY_SIDE = "side-by-side"  # the floor and the portal warm in one process
RUNS = (*((which, "cold") for which in HANDLERS), *((which, "restore") for which in RESTORED), (SIDE_BY_SIDE, "cold"))


def environment(sim_url: str, tracing: bool, issuer: str | None = None) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items()
                 if not key.startswith(("AWS_", "PORTAL_", "PYTHON", "POWERTOOLS_")) and key != "LOG_LEVEL"}
    # The deployed default log level: each launch writes its audit line.
    env = {**inherited, **lambda_environment(sim_url, tracing=tracing, task_root=str(ROOT)), "LOG_LEVEL": "INFO"}
    if issuer:
        env["PORTAL_OIDC_ISSUER"] = issuer
    return env


def runtime_library(directory: Path) -> Path:
    """A directory with snapshot_restore_py alone: what Lambda's Python runtime provides next to /var/task."""
    import snapshot_restore_py

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "snapshot_restore_py.py").write_text(Path(snapshot_restore_py.__file__).read_text())
    return directory


def container(which: str, env: dict[str, str], event_file: str, bundle: Path, mode: str = "cold",
              runtime_dir: Path | None = None) -> dict:
    """One fresh process. ``-S`` for all: each sees only its PYTHONPATH and the standard library, as a
    Lambda function sees /var/task and the runtime (``runtime_dir``: the runtime's snapshot_restore_py).
    ``mode`` ``restore``: the import is SnapStart's init, then restored copies are timed (bench/child.py).

    Its stdout (log lines, metrics, then the result) goes to a file: a pipe would be drained by this process,
    which also runs the simulator, and each log line would then slow the simulated SageMaker down.
    """
    path = [SDK_PATH if which == "bare" else str(bundle), str(ROOT), *([str(runtime_dir)] if runtime_dir else [])]
    arguments = [which, event_file, str(WARM_REQUESTS)]
    if mode == "restore":
        arguments += ["restore", str(RESTORE_COPIES)]
        env = {**env, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    with tempfile.TemporaryFile("w+") as stdout:
        started = time.time()
        done = subprocess.run([sys.executable, "-S", "-m", "bench.child", *arguments],  # noqa: S603
                              env={**env, "PYTHONPATH": os.pathsep.join(path)}, cwd=ROOT,
                              stdout=stdout, stderr=subprocess.PIPE, text=True, check=False)
        stdout.seek(0)
        lines = stdout.read().strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the {which} process ({mode}) failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(lines[-1])
    if mode == "cold" and which != SIDE_BY_SIDE:
        result["cold_start"] = result["done"] - started
    return result


# English (the source: no catalog), and two catalogs; a sign-in error page, rendered by the exception handler.
PAGE_LANGUAGES = ("en", "de", "ja")
PAGE_PATH = "/callback?error=access_denied"
PAGE_RENDERS = 200


def page_container(env: dict[str, str], launch_file: str, page_file: str, bundle: Path) -> dict:
    with tempfile.TemporaryFile("w+") as stdout:
        done = subprocess.run([sys.executable, "-S", "-m", "bench.page_child", launch_file, page_file,  # noqa: S603
                               str(PAGE_RENDERS)], env={**env, "PYTHONPATH": os.pathsep.join([str(bundle), str(ROOT)])},
                              cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, text=True, check=False)
        stdout.seek(0)
        lines = stdout.read().strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the page process failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(lines[-1])


def page_figures(env: dict[str, str], launch_file: str, bundle: Path, workdir: Path) -> None:
    """The pages in the reader's language: a launch loads none of it, and a page adds one catalog read."""
    path, _, query = PAGE_PATH.partition("?")
    runs: dict[str, list[dict]] = {language: [] for language in PAGE_LANGUAGES}
    files = {}
    for language in PAGE_LANGUAGES:
        files[language] = str(workdir / f"page-{language}.json")
        name, _, value = query.partition("=")
        event = rest_event(path, query={name: [value]}, headers={"Accept-Language": language})
        Path(files[language]).write_text(json.dumps(event))
    for round_number in range(ROUNDS):
        shift = round_number % len(PAGE_LANGUAGES)
        for language in PAGE_LANGUAGES[shift:] + PAGE_LANGUAGES[:shift]:
            runs[language].append(page_container(env, launch_file, files[language], bundle))

    def median(language: str, figure: str) -> float:
        return statistics.median(run[figure] for run in runs[language]) * 1000

    loaded = sorted({name for language in PAGE_LANGUAGES for run in runs[language] for name in run["loaded_by_launch"]})
    print(f"\n[Pages in the reader's language: {PAGE_PATH}, median of {ROUNDS} processes per language]")
    print(f"  a cold launch loads of the page machinery: {', '.join(loaded) or 'nothing'}")
    print(f"  after it, importing Jinja2 {median('en', 'jinja_import'):.1f} ms, then its i18n extension and gettext "
          f"{median('en', 'i18n_import'):.1f} ms")
    for language in PAGE_LANGUAGES:
        catalog = "no catalog: the source language" if language == "en" else \
            f"of which reading its catalog {median(language, 'catalog_load'):.2f} ms"
        print(f"  {language:5} first page {median(language, 'first_page'):6.2f} ms ({catalog}); warm page "
              f"{median(language, 'warm_page'):.2f} ms")


def build_host_bundle(directory: Path) -> Path:
    from infra.bundling import build_bundle, host_wheel_platforms

    build_bundle(directory, platforms=host_wheel_platforms())
    return directory


def bundle_size() -> str:
    if os.environ.get("BENCH_SKIP_BUNDLE_SIZE") == "1":
        return "skipped (BENCH_SKIP_BUNDLE_SIZE=1)"
    from infra.bundling import build_bundle

    with tempfile.TemporaryDirectory() as directory:
        build_bundle(Path(directory))
        files = [path for path in Path(directory).rglob("*") if path.is_file()]
        unzipped = sum(path.stat().st_size for path in files)
        archive = Path(directory).parent / "bench-bundle.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in files:
                zipped.write(path, path.relative_to(directory))
        size = archive.stat().st_size
        archive.unlink()
    return f"{unzipped / 1e6:.1f} MB unzipped, {size / 1e6:.1f} MB zipped, {len(files)} files"


def paired_ratios(runs: dict[str, list[dict]], figure: str, over: str, which: str) -> list[float]:
    return [mine[figure] / reference[figure] for reference, mine in zip(runs[over], runs[which], strict=True)]


def paired_ratio(runs: dict[str, list[dict]], figure: str, over: str = "bare", which: str = "portal") -> float:
    return statistics.median(paired_ratios(runs, figure, over, which))


def spread(ratios: list[float], of: str = "rounds'") -> str:
    """The quartiles of the rounds' (or processes') ratios: how far one is from another."""
    if len(ratios) < 4:
        return ""
    low, _, high = statistics.quantiles(ratios, n=4)
    return f"; {of} quartiles {low:.2f}-{high:.2f}x"


def report(runs: dict[str, list[dict]]) -> None:
    """``runs`` by ``which`` (cold processes) and ``<which>-restore`` (restored copies), paired by round."""
    def median(which: str, figure: str) -> float:
        return statistics.median(run[figure] for run in runs[which])

    def ratio(mine: tuple[str, str], over: tuple[str, str]) -> float:
        return statistics.median(mine_run[mine[1]] / reference[over[1]]
                                 for reference, mine_run in zip(runs[over[0]], runs[mine[0]], strict=True))

    rounds = f"median of {len(runs['bare'])} paired rounds"
    restore, cold = ("portal-restore", "restore"), ("portal", "cold_start")
    removed = statistics.median(1 - mine["restore"] / reference["cold_start"]
                                for reference, mine in zip(runs["portal"], runs["portal-restore"], strict=True))
    print(f"  cold start (on demand)  bare {median('bare', 'cold_start') * 1000:6.0f} ms   portal "
          f"{median('portal', 'cold_start') * 1000:6.0f} ms   portal/bare {paired_ratio(runs, 'cold_start'):.2f}x "
          f"({rounds}; reported)")
    print(f"  restore (SnapStart)     bare {median('bare-restore', 'restore') * 1000:6.1f} ms   portal "
          f"{median('portal-restore', 'restore') * 1000:6.1f} ms   fork -> first launch with a valid session, "
          f"median of {RESTORE_COPIES} copies per round")
    print(f"    portal restore / portal on-demand cold start {ratio(restore, cold):.3f}x (target <= 0.10x); "
          f"SnapStart removes {removed:.0%} of the on-demand cold start")
    print(f"    portal restore / bare restore {ratio(restore, ('bare-restore', 'restore')):.2f}x (target <= 2.5x); "
          f"portal init (import, build, warm-up: once per version) {median('portal-restore', 'init') * 1000:.0f} ms")
    print(f"  peak memory bare {median('bare', 'max_rss_kib') / 1024:7.1f} MiB  portal "
          f"{median('portal', 'max_rss_kib') / 1024:7.1f} MiB  ratio {paired_ratio(runs, 'max_rss_kib'):.2f}x "
          f"(target <= 1.3x)")
    print(f"  warm launch bare {median('bare', 'warm') * 1000:.2f} ms, floor {median('floor', 'warm') * 1000:.2f} ms, "
          f"portal {median('portal', 'warm') * 1000:.2f} ms ({rounds} of {WARM_REQUESTS} launches)")
    print(f"    portal/floor {paired_ratio(runs, 'warm', over='floor'):.2f}x (target <= 1.10x"
          f"{spread(paired_ratios(runs, 'warm', 'floor', 'portal'))}); floor/bare "
          f"{paired_ratio(runs, 'warm', which='floor'):.2f}x, portal/bare {paired_ratio(runs, 'warm'):.2f}x (reported)")
    side = runs[SIDE_BY_SIDE]
    beside = [run["portal"] / run["floor"] for run in side]
    processes = spread(beside, of="processes'")
    print(f"    side by side in one process (floor and portal alternating, {len(side)} processes): floor "
          f"{statistics.median(run['floor'] for run in side) * 1000:.2f} ms, portal "
          f"{statistics.median(run['portal'] for run in side) * 1000:.2f} ms, portal/floor "
          f"{statistics.median(beside):.2f}x (target <= 1.10x{processes})")
    print(f"  AWS calls per warm launch: bare {median('bare', 'warm_calls'):.2f}, "
          f"floor {median('floor', 'warm_calls'):.2f}, portal {median('portal', 'warm_calls'):.2f} (target 1)")
    flow = runs["portal-restore"]
    requests = flow[0]["flow_requests"]
    steps = [statistics.median(run["flow_steps"][index] for run in flow) for index in range(requests)]
    names = ["bookmark", "callback", *("then" for _ in steps[2:])]
    print(f"  signed-out flow in a restored copy (bookmark -> IdP -> callback -> Studio): {requests} portal "
          f"requests, {median('portal-restore', 'flow_portal') * 1000:.1f} ms in the portal ("
          + ", ".join(f"{name} {step:.1f}" for name, step in zip(names, steps, strict=True))
          + " ms; the callback includes the token exchange with the IdP)")


def main() -> None:
    import logging

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    logging.getLogger("local").setLevel(logging.WARNING)
    sim = SageMakerSim(require_signature=True)
    server = LocalServer(sim, port=0, label="aws", quiet=True).start()
    sim.studio_base_url = server.url
    with tempfile.TemporaryDirectory() as workdir, approving_idp(client_id=CLIENT_ID) as idp:
        event = signed_in_launch_event(issuer=idp.idp.issuer)
        event_file = str(Path(workdir) / "event.json")
        Path(event_file).write_text(json.dumps(event))
        print(f"bench: {ROUNDS} rounds of a bare, a floor and a portal process ({WARM_REQUESTS} warm launches each) "
              f"and a bare and a portal snapshot ({RESTORE_COPIES} restored copies each), and a process with the floor "
              f"and the portal side by side, "
              f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        bundle = build_host_bundle(Path(workdir) / "bundle")
        runtime_dir = runtime_library(Path(workdir) / "runtime")
        try:
            for tracing in (False, True):
                env = environment(server.url, tracing, issuer=idp.idp.issuer)
                runs: dict[str, list[dict]] = {which if mode == "cold" else f"{which}-restore": []
                                               for which, mode in RUNS}
                for round_number in range(ROUNDS):
                    # Each process goes first, second ... last in turn, so drift during a round hits all alike.
                    shift = round_number % len(RUNS)
                    for which, mode in RUNS[shift:] + RUNS[:shift]:
                        result = container(which, env, event_file, bundle, mode=mode, runtime_dir=runtime_dir)
                        runs[which if mode == "cold" else f"{which}-restore"].append(result)
                for which in ("portal", SIDE_BY_SIDE):
                    assert runs[which][0]["botocore"].startswith(str(bundle)), "the portal must run from its bundle"
                label = ("Powertools Tracer on (X-Ray SDK, as in Lambda with tracing)" if tracing
                         else "Powertools Tracer off (POWERTOOLS_TRACE_DISABLED=true)")
                print(f"\n[{label}]")
                report(runs)
            page_env = environment(server.url, tracing=True, issuer=idp.idp.issuer)
            page_figures(page_env, event_file, bundle, Path(workdir))
            print(f"\nLambda bundle (arm64, as deployed): {bundle_size()}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
