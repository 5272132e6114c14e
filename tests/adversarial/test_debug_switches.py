"""T22: Powertools' debug switches on, a whole sign-in and launch in a fresh process: nothing on stdout or
stderr carries the authorization code, the cookies or the presigned URL, and start-up warns that they are set.

A fresh process, because the switches are read when the resolver and the loggers are created, at import."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = "AUTHCODE-0f9e8d7c6b5a"
SWITCHES = {"POWERTOOLS_DEV": "true", "POWERTOOLS_EVENT_HANDLER_DEBUG": "true", "POWERTOOLS_DEBUG": "true",
            "POWERTOOLS_LOGGER_LOG_EVENT": "true", "LOG_LEVEL": "DEBUG"}

SCRIPT = f"""
import json, sys
from urllib.parse import parse_qs, urlsplit
from tests.support.harness import PRESIGNED, Portal
from tests.support.events import header

portal = Portal()
start = portal.get("/")
query = parse_qs(urlsplit(header(start, "Location")).query)
portal.idp.next_id_token = portal.idp.sign(portal.idp.claims(nonce=query["nonce"][0]))
portal.expect_launch()  # the callback answers with the launch itself
signed_in = portal.get("/callback?code={CODE}&state=" + query["state"][0])
# a warm second launch: ownership is cached, one presign
portal.stubber.add_response("create_presigned_domain_url", {{"AuthorizedUrl": PRESIGNED}})
launched = portal.get("/")
portal.get("/?path=" + "%2e%2e")  # a refusal, with the session cookie
portal.get("/no-such-page")
sys.stdout.flush()
sys.stderr.write("\\nRESULT " + json.dumps({{"statuses": [start["statusCode"], signed_in["statusCode"],
    launched["statusCode"]], "cookies": list(portal.cookies.values()), "url": header(launched, "Location")}}) + "\\n")
"""


@pytest.fixture(scope="module")
def run():
    env = {**os.environ, **SWITCHES, "PYTHONPATH": f"{ROOT / 'lambda'}{os.pathsep}{ROOT}"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    output, _, result = done.stderr.rpartition("\nRESULT ")
    return done.stdout, output, json.loads(result)


def test_T22_debug_switches_never_put_a_credential_on_stdout(run):
    stdout, stderr, result = run
    assert result["statuses"] == [302, 302, 302]
    secrets = [CODE, result["url"], "BEARER-SECRET", *result["cookies"]]
    assert all(secret and len(secret) > 10 for secret in secrets)
    for secret in secrets:
        assert secret not in stdout and secret not in stderr
    assert '"path":' not in stdout  # no event at all, not merely a redacted one


def log_records(stdout: str) -> list[dict]:
    """Powertools' JSON log records (POWERTOOLS_DEV pretty-prints them over several lines)."""
    decoder, records, at = json.JSONDecoder(), [], 0
    while (at := stdout.find("{", at)) >= 0:
        try:
            record, end = decoder.raw_decode(stdout, at)
        except ValueError:
            at += 1
            continue
        records.append(record)
        at = end
    return records


def test_T22_start_up_warns_that_debug_switches_are_set(run):
    stdout, _, _ = run
    warnings = [record for record in log_records(stdout) if record.get("message", "").startswith("debug switches")]
    assert len(warnings) == 1 and warnings[0]["level"] == "WARNING"
    assert warnings[0]["switches"] == ["POWERTOOLS_DEV", "POWERTOOLS_EVENT_HANDLER_DEBUG", "POWERTOOLS_DEBUG",
                                       "POWERTOOLS_LOGGER_LOG_EVENT"]
