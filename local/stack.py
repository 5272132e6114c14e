"""Start the whole portal flow on loopback: a local OIDC provider, the SageMaker simulator, and the portal
handler behind the API Gateway adapter, each in a thread on 127.0.0.1.

    from local.stack import running_stack

    with running_stack() as stack:          # ephemeral ports
        stack.portal_url                    # http://127.0.0.1:<port>
        stack.sim.inject("CreatePresignedDomainUrl", "ThrottlingException", times=5)

The portal's environment (issuer, client, session key, domain, SageMaker endpoint, dummy credentials,
Powertools settings) is set for the duration of the block and restored afterwards; ``portal.runtime.reset()``
runs on entry and exit so each stack starts from a cold container.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from local._http import LocalServer
from local.adapter import ApiGatewayAdapter, Handler
from local.sagemaker_sim import SageMakerSim
from local.seed import DEMO_DOMAIN_ID, DEMO_USERS, REGION, DemoUser
from portal.settings_catalog import BY_ENV

log = logging.getLogger("local.stack")

# The REST API defines GET on "/" and "/{proxy+}" only (infra/api.py); other methods get API Gateway's 403.
PORTAL_METHODS = ("GET",)
LOCAL_CLIENT_ID = "portal-local"
LOCAL_CLIENT_SECRET = "local-client-secret"
DUMMY_ACCESS_KEY_ID = "AKIALOCALPORTAL00000"
DUMMY_SECRET_ACCESS_KEY = "local-portal-dummy-secret-access-key-0000"

# Removed in local-SageMaker mode so nothing from the developer's own AWS setup (profiles, SSO sessions,
# endpoint overrides in ~/.aws/config) changes where boto3 goes or which credentials it signs with.
_AWS_VARIABLES_CLEARED = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@dataclass
class RunningStack:
    """What ``running_stack`` started. ``sim``/``sim_url`` are None with ``local_sagemaker=False``;
    ``idp_url`` is the configured issuer when ``local_idp=False``."""

    portal_url: str
    idp_url: str | None
    sim: SageMakerSim | None
    sim_url: str | None
    env: dict[str, str | None] = field(repr=False)  # what was set (None: removed) for the portal
    adapter: ApiGatewayAdapter = field(repr=False)
    users: list[Any] = field(default_factory=list, repr=False)  # oidc_provider_mock.User list (local IdP)


def _oidc_users(users: Sequence[Any] | None) -> list[Any]:
    from oidc_provider_mock import User

    converted = []
    for user in DEMO_USERS if users is None else users:
        if isinstance(user, DemoUser):
            user = User(sub=user.email, claims=user.claims())
        elif isinstance(user, Mapping):
            user = User(sub=user["sub"], claims=dict(user.get("claims", {})))
        converted.append(user)
    return converted


def portal_environment(
    *,
    idp_url: str | None,
    sim_url: str | None,
    region: str = REGION,
    overrides: Mapping[str, str | None] | None = None,
) -> dict[str, str | None]:
    """The variables the portal gets (None: unset). Local IdP/simulator settings only when their URL is given."""
    env: dict[str, str | None] = {
        "PORTAL_SESSION_KEY": secrets.token_urlsafe(36),  # 48 characters, new every run
        "POWERTOOLS_TRACE_DISABLED": "true",
        # As the stack sets them (portal.settings_catalog declares them)
        "POWERTOOLS_SERVICE_NAME": BY_ENV["POWERTOOLS_SERVICE_NAME"].default,
        "POWERTOOLS_METRICS_NAMESPACE": BY_ENV["POWERTOOLS_METRICS_NAMESPACE"].default,
    }
    if idp_url:
        env.update(
            PORTAL_OIDC_ISSUER=idp_url,
            PORTAL_OIDC_CLIENT_ID=LOCAL_CLIENT_ID,
            PORTAL_OIDC_CLIENT_SECRET=LOCAL_CLIENT_SECRET,
            PORTAL_OIDC_CLIENT_SECRET_ARN=None,
        )
    if sim_url:
        env.update(dict.fromkeys(_AWS_VARIABLES_CLEARED))
        env.update(
            PORTAL_DOMAIN_ID=DEMO_DOMAIN_ID,
            AWS_ENDPOINT_URL_SAGEMAKER=sim_url,
            # Any other AWS service (STS, Secrets Manager) also lands on the simulator, which refuses it:
            # with dummy credentials nothing may leave the machine.
            AWS_ENDPOINT_URL=sim_url,
            AWS_REGION=region,
            AWS_DEFAULT_REGION=region,
            AWS_ACCESS_KEY_ID=DUMMY_ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY=DUMMY_SECRET_ACCESS_KEY,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
        )
    env.update(overrides or {})
    return env


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) variables in ``os.environ``; restore the previous values on exit."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def reset_portal_runtime() -> None:
    """``portal.runtime.reset()`` when the portal has it: a fresh "container" reads the new environment."""
    try:
        from portal import runtime
    except ModuleNotFoundError as error:
        if error.name in ("portal", "portal.runtime"):
            return
        raise
    reset = getattr(runtime, "reset", None)
    if callable(reset):
        reset()


@contextlib.contextmanager
def running_stack(
    *,
    portal_port: int = 0,
    idp_port: int = 0,
    sim_port: int = 0,
    users: Sequence[Any] | None = None,
    env_overrides: Mapping[str, str | None] | None = None,
    stage_prefix: str = "",
    handler: str | Handler = "portal.handler:handler",
    local_sagemaker: bool = True,
    local_idp: bool = True,
    sim: SageMakerSim | None = None,
    quiet: bool = True,
    adapter_options: Mapping[str, Any] | None = None,
) -> Iterator[RunningStack]:
    """Run IdP + SageMaker simulator + portal on 127.0.0.1; yield their URLs and the simulator.

    Ports 0 are ephemeral (the URLs carry the bound ports). ``users``: ``oidc_provider_mock.User`` objects,
    ``local.seed.DemoUser`` objects or ``{"sub", "claims"}`` mappings (default: the demo users).
    ``env_overrides`` win over the generated environment (a None value removes the variable).
    ``local_sagemaker=False`` / ``local_idp=False``: don't start that piece; the portal then uses whatever
    the environment (plus ``env_overrides``) says: real AWS credentials and ``PORTAL_DOMAIN_ID``, or
    ``PORTAL_OIDC_ISSUER`` and its client. ``handler``: a callable or ``"module:function"``, imported at the
    first request. ``quiet=False`` logs one line per request (method, path without query, status).
    ``adapter_options``: keyword arguments for ``ApiGatewayAdapter`` (default ``methods=("GET",)``, as deployed).
    """
    servers: list[LocalServer] = []
    servers_base_url_set = False
    try:
        sim_server = idp_server = None
        if local_sagemaker:
            sim = sim or SageMakerSim()
            sim_server = LocalServer(sim, port=sim_port, label="aws", quiet=quiet)
            servers.append(sim_server)
            if sim.studio_base_url is None:  # presigned URLs point at this server (undone on exit)
                sim.studio_base_url = sim_server.url
                servers_base_url_set = True
        oidc_users: list[Any] = []
        if local_idp:
            import oidc_provider_mock

            oidc_users = _oidc_users(users)
            idp_app = oidc_provider_mock.app(require_nonce=True, user_claims=oidc_users)
            idp_server = LocalServer(idp_app, port=idp_port, label="idp", quiet=quiet)
            servers.append(idp_server)
        options = {"methods": PORTAL_METHODS, **dict(adapter_options or {})}
        adapter = ApiGatewayAdapter(handler, stage_prefix=stage_prefix, **options)
        portal_server = LocalServer(adapter, port=portal_port, label="portal", quiet=quiet)
        servers.append(portal_server)
    except BaseException:
        for server in servers:
            server.stop()
        raise

    env = portal_environment(
        idp_url=idp_server.url if idp_server else None,
        sim_url=sim_server.url if sim_server else None,
        region=sim.region if sim is not None and local_sagemaker else REGION,
        overrides=env_overrides,
    )
    with patched_environ(env):
        reset_portal_runtime()
        try:
            for server in servers:
                server.start()
            yield RunningStack(
                portal_url=portal_server.url + adapter.stage_prefix,
                idp_url=idp_server.url if idp_server else os.environ.get("PORTAL_OIDC_ISSUER"),
                sim=sim if local_sagemaker else None,
                sim_url=sim_server.url if sim_server else None,
                env=env,
                adapter=adapter,
                users=oidc_users,
            )
        finally:
            if sim is not None:
                sim.close()  # let requests held by injected delays finish
                if servers_base_url_set:
                    sim.studio_base_url = None
            for server in reversed(servers):
                server.stop()
            reset_portal_runtime()
