"""A Lambda-like process environment against the simulated SageMaker, and a launch that needs no sign-in.

For running the handler in its own process (the Lambda bundle test, `make bench`): the environment is what
the function reads, never the caller's AWS settings; the launch event carries a valid session cookie, so
the identity provider is never contacted.
"""

from __future__ import annotations

import os
from typing import Any

from local.seed import DEMO_DOMAIN_ID
from portal.runtime import SESSION_COOKIE
from portal.sealing import Sealer
from tests.support.events import rest_event

ISSUER = "http://127.0.0.1:9"  # never contacted: the launch carries a valid session
SESSION_KEY = "c" * 48
CLIENT_ID = "container"
# What Lambda sets for a sampled invocation.
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def lambda_environment(sim_url: str, *, tracing: bool, task_root: str | None) -> dict[str, str]:
    """The function's configuration for the demo domain on the simulator at ``sim_url``.

    ``task_root`` becomes LAMBDA_TASK_ROOT; with it the X-Ray SDK samples locally as in Lambda, without it
    the SDK builds its centralized-sampling client. Trace segments go to a daemon address nobody listens on.
    """
    env = {
        "AWS_ENDPOINT_URL_SAGEMAKER": sim_url, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIACONTAINER0000000", "AWS_SECRET_ACCESS_KEY": "container-secret-access-key-000",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
        "PORTAL_OIDC_ISSUER": ISSUER, "PORTAL_OIDC_CLIENT_ID": CLIENT_ID, "PORTAL_OIDC_CLIENT_SECRET": "container",
        "PORTAL_SESSION_KEY": SESSION_KEY, "PORTAL_DOMAIN_ID": DEMO_DOMAIN_ID,
        "POWERTOOLS_SERVICE_NAME": "sagemaker-studio-portal", "POWERTOOLS_METRICS_NAMESPACE": "StudioPortal",
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true", "LOG_LEVEL": "WARNING",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        # As Lambda's runtime sets it: the portal keeps its threads to one CPU (portal/deadline.py), and botocore
        # names it in its user agent.
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    }
    if tracing:
        env.update({"AWS_LAMBDA_FUNCTION_NAME": "portal-container", "_X_AMZN_TRACE_ID": TRACE_HEADER,
                    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"})
        if task_root:
            env["LAMBDA_TASK_ROOT"] = task_root
    return env


def signed_in_launch_event(identity: str = "alice@example.com", issuer: str = ISSUER) -> dict[str, Any]:
    """GET / with a session cookie for ``identity`` from ``issuer``, sealed with :data:`SESSION_KEY`."""
    session = Sealer((SESSION_KEY,), SESSION_COOKIE).seal(
        {"sub": identity, "iss": issuer, "groups": [], "claims": {"email": identity}}, 3600)
    return rest_event("/", cookies={SESSION_COOKIE: session})
