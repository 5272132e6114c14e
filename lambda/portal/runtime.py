"""Everything the handler needs, built once per container: at SnapStart's init, or else on first use.

A configuration error becomes a clear page and a log line naming the variable, never a failed init: when the
build fails at init, each request builds again and answers with that page. Secrets held in Secrets Manager
are re-read through Powertools' cache, so a rotated session key reaches warm containers within minutes.

SnapStart (``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``): the handler's import calls :func:`initialise`, which
builds the runtime and warms it (AWS clients with their service models, the OIDC discovery document and JWKS,
the compiled pages, the AES-GCM path), so a restored copy's first request does only request work. Nothing
unique is made at init: state, nonce, PKCE verifier and seal nonces come from ``secrets``/``os.urandom`` per
request. The runtime hooks (``snapshot_restore_py``, shipped by Lambda's Python runtime) drop pooled
connections before the snapshot and after each restore; after a restore they also reseed ``random``, forget
what was timed with the monotonic clock, and re-read the secrets whose cache has expired by the wall clock.
An ordinary cold start keeps building on first use: docs/performance.md has the measurement behind that.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from portal.aws import AwsGateway, Gateway
from portal.config import ConfigError, Settings, load_settings, parse_session_keys
from portal.errors import PortalError, PortalMisconfigured
from portal.http import JsonHttpClient
from portal.launch import Launcher, LaunchPolicy
from portal.observability import logger, warn_about_debug_switches
from portal.oidc import OidcClient
from portal.pages import shared as shared_pages
from portal.sealing import Sealer

SESSION_COOKIE = "__Host-portal-session"
# The transaction sealer's purpose; each sign-in's cookie is named portal.signin.cookie_name(state).
TRANSACTION_COOKIE = "__Host-portal-signin"
TRANSACTION_TTL_SECONDS = 600
SECRET_RECHECK_SECONDS = 300
SNAP_START_INIT = "snap-start"  # AWS_LAMBDA_INITIALIZATION_TYPE during SnapStart's init
# Lambda allows the runtime and the after-restore hooks 10 s in all; the secrets' re-read waits this long at most
# (if it takes longer it completes in the background, and requests use the snapshot's secrets meanwhile).
RESTORE_SECRETS_WAIT_SECONDS = 3.0
# Well-formed but sealed by no key: opening it at init runs the session cookie's decrypt path, minting nothing.
_WARM_UP_SEALED = "Ag" + "A" * 58


@dataclass
class Runtime:
    settings: Settings
    aws: Gateway
    oidc: OidcClient
    launcher: Launcher
    session_sealer: Sealer
    transaction_sealer: Sealer
    _session_secret_raw: str = ""
    _secrets_checked: float = 0.0

    def refresh_secrets(self) -> None:
        """Pick up rotated secrets held in Secrets Manager (cheap: Powertools caches them for 5 minutes).

        A new session key list reseals nothing: cookies sealed with an older listed key still open. A new
        OIDC client (Cognito's client generation bumped) replaces the old one for the next sign-in.
        """
        settings = self.settings
        if not (settings.session_key_arn or settings.oidc_client_secret_arn) or \
                time.monotonic() - self._secrets_checked < SECRET_RECHECK_SECONDS:
            return
        self._secrets_checked = time.monotonic()
        if settings.session_key_arn:
            raw = self.aws.get_secret(settings.session_key_arn)
            if raw != self._session_secret_raw:
                self.session_sealer, self.transaction_sealer = _sealers(
                    parse_session_keys(raw, "PORTAL_SESSION_KEY_ARN (the secret's value)"))
                self._session_secret_raw = raw
        if settings.oidc_client_secret_arn:
            self.oidc.client_id, self.oidc.client_secret = _client_credentials(settings, self.aws)

    @property
    def client_from_secret(self) -> bool:
        """The client id itself is read from the secret (Cognito's app client, replaced on rotation)."""
        return bool(self.settings.oidc_client_secret_arn) and not self.settings.oidc_client_id

    def reread_client_credentials(self) -> bool:
        """Read the OIDC client's credentials from Secrets Manager now, bypassing the cache; True when they
        changed. Called when the token endpoint answers ``invalid_client`` and, where the client id comes
        from the secret, before each sign-in starts, so a replaced Cognito client is never sent to Cognito."""
        if not self.settings.oidc_client_secret_arn:
            return False
        before = (self.oidc.client_id, self.oidc.client_secret)
        self.oidc.client_id, self.oidc.client_secret = _client_credentials(self.settings, self.aws, fresh=True)
        return (self.oidc.client_id, self.oidc.client_secret) != before

    def warm(self) -> None:
        """The work a request would otherwise do first: clients and models, where each domain's profile ARNs
        start (DescribeDomain), the IdP's discovery and keys, the pages, the cookie decryption."""
        targets = self.settings.targets
        self.aws.warm(
            regions=[target.region for target in targets if not target.role_arn],
            sts_regions=[target.region for target in targets if target.role_arn or self.settings.launch_role_arn],
            secrets=bool(self.settings.session_key_arn or self.settings.oidc_client_secret_arn))
        self.launcher.learn_profile_arns(targets)
        try:
            self.oidc.prefetch()
        except PortalError as error:  # the IdP may be unreachable from init: the first sign-in fetches instead
            logger.warning("identity provider not reached at init", extra={"reason": error.reason})
        shared_pages().compile_all(self.settings.languages)
        self.session_sealer.open(_WARM_UP_SEALED)

    def drop_connections(self) -> None:
        self.aws.drop_connections()
        self.oidc.drop_connections()

    def restored(self) -> None:
        """After a restore: forget monotonic-clock readings from before the snapshot, and re-read the secrets."""
        self._secrets_checked = float("-inf")
        self.launcher.forget_cached_checks()
        worker = threading.Thread(target=self._refresh_after_restore, name="portal-secrets-after-restore", daemon=True)
        worker.start()
        worker.join(RESTORE_SECRETS_WAIT_SECONDS)

    def _refresh_after_restore(self) -> None:
        try:
            self.refresh_secrets()
        except Exception as error:  # the first request tries again, and answers with a page if it must
            self._secrets_checked = float("-inf")
            logger.warning("secrets not re-read after restore", extra={"error_type": type(error).__name__})


def _sealers(keys: tuple[str, ...]) -> tuple[Sealer, Sealer]:
    return Sealer(keys, SESSION_COOKIE), Sealer(keys, TRANSACTION_COOKIE)


def _client_credentials(settings: Settings, aws: Gateway, fresh: bool = False) -> tuple[str, str | None]:
    if not settings.oidc_client_secret_arn:
        return settings.oidc_client_id or "", settings.oidc_client_secret
    raw = aws.get_secret(settings.oidc_client_secret_arn, fresh=fresh)
    client_id: Any = settings.oidc_client_id
    secret: Any = raw
    if raw.lstrip().startswith("{"):
        try:
            document = json.loads(raw)
        except ValueError:
            raise ConfigError("PORTAL_OIDC_CLIENT_SECRET_ARN holds malformed JSON") from None
        secret = document.get("client_secret") if isinstance(document, dict) else None
        client_id = client_id or (document.get("client_id") if isinstance(document, dict) else None)
    if not isinstance(secret, str) or not secret:
        raise ConfigError("PORTAL_OIDC_CLIENT_SECRET_ARN holds no client secret")
    if not isinstance(client_id, str) or not client_id:
        raise ConfigError("PORTAL_OIDC_CLIENT_ID is required (or a client_id in the client secret's JSON)")
    return client_id, secret


def build(settings: Settings | None = None, aws: Gateway | None = None, http: JsonHttpClient | None = None,
          clock: Callable[[], float] = time.time) -> Runtime:
    """The composition root: every dependency the portal's logic uses, each one replaceable (tests hand in a
    stubbed gateway, a scripted IdP's HTTP client, a clock). By default: the environment's settings, boto3,
    urllib3, and the wall clock (the launcher's provisioning patience, the ID token's times)."""
    warn_about_debug_switches()
    settings = settings or load_settings()
    aws = aws or AwsGateway()
    client_id, client_secret = _client_credentials(settings, aws)
    raw_keys = aws.get_secret(settings.session_key_arn) if settings.session_key_arn else ""
    keys = parse_session_keys(raw_keys, "PORTAL_SESSION_KEY_ARN (the secret's value)") if raw_keys \
        else settings.session_keys
    session_sealer, transaction_sealer = _sealers(keys)
    policy = LaunchPolicy(
        owner_tag=settings.owner_tag,
        url_expires_seconds=settings.url_expires_seconds,
        studio_session_seconds=settings.studio_session_seconds,
        ownership_cache_seconds=settings.ownership_cache_seconds,
        launch_role_arn=settings.launch_role_arn,
    )
    return Runtime(
        settings=settings,
        aws=aws,
        oidc=OidcClient(settings.oidc_issuer, client_id, client_secret, http or JsonHttpClient(), clock=clock,
                        authorize_params=settings.oidc_authorize_params),
        launcher=Launcher(aws, policy, clock=clock),
        session_sealer=session_sealer,
        transaction_sealer=transaction_sealer,
        _session_secret_raw=raw_keys,
        _secrets_checked=time.monotonic(),
    )


_lock = threading.Lock()
_current: Runtime | None = None


def get() -> Runtime:
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                try:
                    _current = build()
                except ConfigError as error:
                    # The message names the variable and never includes a secret's value.
                    logger.error("portal configuration is invalid", extra={"problem": str(error)})
                    raise PortalMisconfigured(str(error)) from None
    _current.refresh_secrets()
    return _current


def install(portal: Runtime) -> Runtime:
    """Make ``portal`` the container's runtime (tests, and whatever builds one with its own dependencies)."""
    global _current
    with _lock:
        _current = portal
    return portal


def current() -> Runtime | None:
    """The container's runtime if it is built, without building it (a page rendered before or without it)."""
    return _current


def initialise(environ: Mapping[str, str] = os.environ) -> Runtime | None:
    """Called by the handler's import. At SnapStart's init: build and warm (:func:`prepare`); otherwise nothing."""
    if environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != SNAP_START_INIT:
        return None
    return prepare()


def prepare() -> Runtime | None:
    """Build and warm the runtime now. Never raises: init must not fail (a failed init fails every restore),
    so a problem is logged and each request builds again, answering with the page that explains it."""
    portal: Runtime | None = None
    try:
        portal = get()
        portal.warm()
        # Nothing pooled at the end of init, even where the runtime hooks do not run.
        before_snapshot()
    except Exception as error:
        logger.warning("the portal was not built (or warmed) at init; requests build what is missing",
                       extra={"error_type": type(error).__name__})
    return portal


def before_snapshot() -> None:
    if _current is not None:
        _current.drop_connections()


def after_restore() -> None:
    # Copies restored from one snapshot start with the same `random` state (botocore's retry jitter uses it);
    # secrets and os.urandom, which everything unique comes from, need nothing.
    random.seed()
    if _current is not None:
        _current.drop_connections()
        _current.restored()


try:
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:  # outside Lambda's Python runtime, which ships it: nothing snapshots this process
    pass
else:
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)


def reset() -> None:
    """Forget the container's state (tests, and the local runner after changing the environment)."""
    global _current
    with _lock:
        _current = None
