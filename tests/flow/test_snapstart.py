"""SnapStart, locally: the handler imported the way SnapStart's init imports it, then restored twice by forking.

Two copies restored from one snapshot share its memory, so anything unique made during init would be the same
in both. Each copy here starts a sign-in (state, nonce, PKCE verifier, and a sealed transaction cookie with its
own AES-GCM nonce) and launches Studio with a session; the test compares what the copies minted and counts
what they fetched.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from local._http import LocalServer
from local.sagemaker_sim import SageMakerSim
from portal.runtime import SESSION_COOKIE
from portal.sealing import Sealer
from portal.signin import TRANSACTION_PREFIX
from tests.support.container import SESSION_KEY, lambda_environment
from tests.support.events import rest_event
from tests.support.idp_server import misbehaving_idp

ROOT = Path(__file__).resolve().parents[2]

# Runs in its own interpreter: the handler's import is SnapStart's init (the environment says snap-start).
CHILD = r"""
import json, sys
from http.cookies import SimpleCookie

from bench.snapshot import restore_copies
from portal import runtime
from portal.handler import handler
from tests.support.events import FakeContext, rest_event

launch_event = json.loads(sys.argv[1])


def one_copy(forked_at):
    signed_out = handler(rest_event("/"), FakeContext())
    cookies = {}
    for line in signed_out.get("multiValueHeaders", {}).get("Set-Cookie", []):
        jar = SimpleCookie()
        jar.load(line)
        cookies.update({name: morsel.value for name, morsel in jar.items()})
    launch = handler(launch_event, FakeContext())
    location = (signed_out.get("multiValueHeaders") or {}).get("Location", [None])[0]
    return {"status": signed_out["statusCode"], "location": location,
            "cookies": cookies, "launch": launch["statusCode"],
            "studio": launch["multiValueHeaders"]["Location"][0].startswith(sys.argv[2])}


built = runtime.current() is not None
print(json.dumps({"built_at_init": built, "copies": restore_copies(2, one_copy)}))
"""


@pytest.fixture
def sim() -> Iterator[tuple[SageMakerSim, str]]:
    simulator = SageMakerSim(require_signature=True)
    server = LocalServer(simulator, port=0, label="aws", quiet=True).start()
    simulator.studio_base_url = server.url
    try:
        yield simulator, server.url
    finally:
        server.stop()


def run_restored_copies(sim_url: str, issuer: str, environment: dict[str, str] | None = None) -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           **lambda_environment(sim_url, tracing=False, task_root=None),
           "PORTAL_OIDC_ISSUER": issuer, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "lambda"), str(ROOT)]), **(environment or {})}
    session = Sealer((SESSION_KEY,), SESSION_COOKIE).seal(
        {"sub": "alice@example.com", "iss": issuer, "groups": [], "claims": {"email": "alice@example.com"}}, 3600)
    launch_event = rest_event("/", cookies={SESSION_COOKIE: session})
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(launch_event), sim_url],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _minted(copy: dict) -> dict[str, str]:
    assert copy["status"] == 302, copy
    query = parse_qs(urlsplit(copy["location"]).query)
    (sealed,) = [value for name, value in copy["cookies"].items() if name.startswith(TRANSACTION_PREFIX)]
    raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    return {"state": query["state"][0], "nonce": query["nonce"][0], "code_challenge": query["code_challenge"][0],
            "seal_nonce": raw[1:13].hex()}


def test_two_copies_restored_from_one_snapshot_mint_different_values(sim) -> None:
    simulator, url = sim
    with misbehaving_idp() as idp:
        result = run_restored_copies(url, idp.idp.issuer)
        hits = dict(idp.hits)
    # Init built the portal, and each copy ran the runtime's after-restore hook
    assert result["built_at_init"] is True
    first, second = result["copies"]
    assert first["after_restore_hooks"] == second["after_restore_hooks"] == 1
    # Each copy's sign-in has its own state, nonce and PKCE verifier, and its cookie its own AES-GCM nonce
    mine, theirs = _minted(first), _minted(second)
    for name in ("state", "nonce", "code_challenge", "seal_nonce"):
        assert mine[name] != theirs[name], name
    # Discovery and the JWKS were fetched once, at init: the restored copies' sign-ins fetched nothing
    assert hits == {"/.well-known/openid-configuration": 1, "/jwks": 1}
    # Both copies launched Studio; init looked up the domain once (where its profile ARNs start)
    assert first["launch"] == second["launch"] == 302 and first["studio"] and second["studio"]
    operations = [call.operation for call in simulator.calls]
    assert operations.count("DescribeDomain") == 1 and operations.count("CreatePresignedDomainUrl") == 2


def test_an_unreachable_idp_at_init_leaves_discovery_to_the_first_sign_in(sim) -> None:
    _, url = sim
    with misbehaving_idp() as idp:
        idp.faults["/.well-known/openid-configuration"] = "down"
        result = run_restored_copies(url, idp.idp.issuer)
        hits = dict(idp.hits)
    # Init did not fail: the portal was built, only discovery is left to the first sign-in
    assert result["built_at_init"] is True
    copies = result["copies"]
    # Each copy tries discovery again for its sign-in and, the IdP still down, answers with its page; a launch
    # with a session needs no IdP
    assert [copy["status"] for copy in copies] == [502, 502] and [copy["launch"] for copy in copies] == [302, 302]
    assert hits["/.well-known/openid-configuration"] > 1
