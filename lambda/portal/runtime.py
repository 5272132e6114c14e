"""Everything the handler needs, built once per container on first use.

Built lazily rather than at import so that a configuration error becomes a clear page and a log line
naming the variable, not a failed cold start. Secrets held in Secrets Manager are re-read through
Powertools' cache, so a rotated session key reaches warm containers within minutes.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from portal.aws import AwsGateway
from portal.config import ConfigError, Settings, load_settings, parse_session_keys
from portal.errors import PortalMisconfigured
from portal.http import JsonHttpClient
from portal.launch import Launcher, LaunchPolicy
from portal.observability import logger
from portal.oidc import OidcClient
from portal.sealing import Sealer

SESSION_COOKIE = "__Host-portal-session"
TRANSACTION_COOKIE = "__Host-portal-signin"
TRANSACTION_TTL_SECONDS = 600
SECRET_RECHECK_SECONDS = 300


@dataclass
class Runtime:
    settings: Settings
    aws: AwsGateway
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


def _sealers(keys: tuple[str, ...]) -> tuple[Sealer, Sealer]:
    return Sealer(keys, SESSION_COOKIE), Sealer(keys, TRANSACTION_COOKIE)


def _client_credentials(settings: Settings, aws: AwsGateway, fresh: bool = False) -> tuple[str, str | None]:
    if not settings.oidc_client_secret_arn:
        return settings.oidc_client_id or "", settings.oidc_client_secret
    raw = aws.get_secret(settings.oidc_client_secret_arn, fresh=fresh)
    client_id, secret = settings.oidc_client_id, raw
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


def build(settings: Settings | None = None, aws: AwsGateway | None = None) -> Runtime:
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
        oidc=OidcClient(settings.oidc_issuer, client_id, client_secret, JsonHttpClient(),
                        authorize_params=settings.oidc_authorize_params),
        launcher=Launcher(aws, policy),
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


def current() -> Runtime | None:
    """The container's runtime if it is built, without building it (a page rendered before or without it)."""
    return _current


def reset() -> None:
    """Forget the container's state (tests, and the local runner after changing the environment)."""
    global _current
    with _lock:
        _current = None
