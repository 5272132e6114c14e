"""``python -m local.dev``: options, modes, banner, and a real start/stop in a subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local import dev
from local.stack import RunningStack
from tests.local.http_client import Browser

ROOT = Path(__file__).resolve().parents[2]


def test_default_ports():
    args = dev.parse_args([], {})
    assert (args.port, args.idp_port, args.sim_port, args.stage_prefix) == (8000, 9400, 8001, "")


def test_ports_from_environment_and_flags():
    environ = {"PORTAL_LOCAL_PORT": "18000", "PORTAL_LOCAL_IDP_PORT": "19400", "PORTAL_LOCAL_STAGE_PREFIX": "/prod"}
    args = dev.parse_args(["--sim-port", "18001"], environ)
    assert (args.port, args.idp_port, args.sim_port, args.stage_prefix) == (18000, 19400, 18001, "/prod")
    assert dev.parse_args(["--port", "0"], environ).port == 0


def test_bad_port_is_refused():
    with pytest.raises(SystemExit):
        dev.parse_args(["--port", "70000"], {})


def test_portal_variables_from_the_environment_win():
    environ = {"PORTAL_DOMAIN_ID": "d-mine", "PORTAL_LOCAL_PORT": "1", "HOME": "/root", "PORTAL_OWNER_TAG": "owner"}
    assert dev.user_overrides(environ) == {"PORTAL_DOMAIN_ID": "d-mine", "PORTAL_OWNER_TAG": "owner"}


def test_real_account_mode_needs_a_domain(capsys):
    assert dev.main([], {"PORTAL_LOCAL_SAGEMAKER": "off"}) == 2
    assert "PORTAL_DOMAIN_ID" in capsys.readouterr().err


def test_own_idp_needs_its_client(capsys):
    assert dev.main([], {"PORTAL_OIDC_ISSUER": "https://login.example.com"}) == 2
    assert "PORTAL_OIDC_CLIENT_SECRET" in capsys.readouterr().err


def fake_stack(**kwargs) -> RunningStack:
    values = {
        "portal_url": "http://127.0.0.1:8000",
        "idp_url": "http://127.0.0.1:9400",
        "sim": None,
        "sim_url": "http://127.0.0.1:8001",
        "env": {},
        "adapter": None,
    }
    values.update(kwargs)
    return RunningStack(**values)


def test_banner_for_the_demo():
    text = dev.banner(fake_stack(), local_sagemaker=True, local_idp=True, domain_id="d-demo0portal01")
    assert "Open       http://127.0.0.1:8000/" in text
    for email in ("alice@example.com", "john.doe@example.com", "carol@example.com", "pending.pat@example.com"):
        assert email in text
    assert "d-sso0domain01" in text


def test_banner_for_a_real_account_and_idp():
    stack = fake_stack(idp_url="https://login.example.com", sim_url=None)
    text = dev.banner(stack, local_sagemaker=False, local_idp=False, domain_id="d-abc123")
    assert "your AWS account; domain d-abc123" in text
    assert "register http://127.0.0.1:8000/callback" in text
    assert "alice@example.com" not in text


def test_make_dev_starts_serves_and_stops():
    # Given: the runner on ephemeral ports, as `make dev` starts it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "AWS_"))}
    env["PYTHONPATH"] = f"{ROOT / 'lambda'}{os.pathsep}{ROOT}"
    process = subprocess.Popen(
        [sys.executable, "-m", "local.dev", "--port", "0", "--idp-port", "0", "--sim-port", "0", "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # When
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C to stop" in line:
                break
        banner = "".join(lines)
        match = re.search(r"Open\s+(http://127\.0\.0\.1:\d+)/", banner)
        assert match, banner
        portal = match.group(1)
        sim = re.search(r"SageMaker\s+(http://127\.0\.0\.1:\d+)", banner).group(1)

        # Then: the simulator answers, and the portal serves (its health check, when the portal exists)
        assert Browser().get(f"{sim}/_sim/state").status == 200
        health = Browser().get(f"{portal}/health")
        assert health.status == 200, health.text[:300]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
