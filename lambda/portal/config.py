"""Configuration: read from the environment once per container and validated, with errors naming the variable.

Secrets may be given inline (local runs, tests) or as Secrets Manager ARNs/names (deployed); the ARN
forms are resolved later by the runtime, through the AWS module, so this module never talks to AWS.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

DOMAIN_ID_PATTERN = re.compile(r"^d-(-*[a-z0-9]){1,61}$")
# UserProfileName and SpaceName share this pattern in the SageMaker API.
RESOURCE_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
CLAIM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_:.\-/]{1,128}$")
# IAM tag keys: letters, digits, spaces and _.:/=+-@, up to 128 characters.
TAG_KEY_PATTERN = re.compile(r"^[\w.:/=+\-@]{1,128}$")
ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
MIN_SESSION_SECRET_LENGTH = 32
# The authorization request's own parameters: PORTAL_OIDC_AUTHORIZE_PARAMS may add to them, never replace them.
PORTAL_AUTHORIZE_PARAMS = ("state", "nonce", "redirect_uri", "client_id", "scope", "response_type")
MAX_TITLE_LENGTH = 80
MAX_HELPDESK_LENGTH = 200


class ConfigError(ValueError):
    """The portal's configuration is unusable; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    oidc_issuer: str
    oidc_client_id: str | None
    oidc_client_secret: str | None = field(repr=False)
    oidc_client_secret_arn: str | None
    session_keys: tuple[str, ...] = field(repr=False)
    session_key_arn: str | None = None
    base_url: str | None = None
    identity_claim: str = "email"
    owner_tag: str = "studiouserid"
    url_expires_seconds: int = 30
    studio_session_seconds: int = 43200
    session_ttl_seconds: int = 8 * 3600
    launch_role_arn: str | None = None
    ownership_cache_seconds: int = 60
    groups_claim: str = "cognito:groups"
    oidc_authorize_params: tuple[tuple[str, str], ...] = ()
    login_initiators: tuple[str, ...] = ()
    title: str = "SageMaker Studio"
    helpdesk: str | None = None
    targets: tuple = ()  # of portal.targets.Target; at least one after load_settings
    require_verified_email: bool = True

    @property
    def email_must_be_verified(self) -> bool:
        """An e-mail address is only an identity when the IdP says it verified it: whenever the identity claim
        or a profile template uses `email`, unless the operator opted out for an IdP that never says."""
        return self.require_verified_email and (
            self.identity_claim == "email" or any("email" in target.claims_used() for target in self.targets))


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint_url(url: str, what: str) -> str:
    """An IdP URL must be https, except on a loopback host (local runs)."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ConfigError(f"{what} must be an absolute URL, got {url!r}")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname)):
        return url
    raise ConfigError(f"{what} must use https (plain http is accepted only on loopback hosts), got {url!r}")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds between {low} and {high}, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high} seconds, got {value}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    return raw == "true"


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def parse_session_keys(raw: str, name: str) -> tuple[str, ...]:
    keys = tuple(part.strip() for part in raw.split(","))
    if not keys or any(len(key) < MIN_SESSION_SECRET_LENGTH for key in keys):
        raise ConfigError(
            f"{name} must be a comma-separated list of secrets, newest first, "
            f"each at least {MIN_SESSION_SECRET_LENGTH} characters"
        )
    return keys


def parse_authorize_params(raw: str, name: str) -> tuple[tuple[str, str], ...]:
    """Extra authorization request parameters, as a query string; the portal's own ones are refused."""
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ConfigError(f"{name} must be a query string such as identity_provider=CorpOkta, got {raw!r}") from None
    for key, value in pairs:
        # Compared without case: an IdP that reads names loosely must not see a second "State".
        if key.lower() in PORTAL_AUTHORIZE_PARAMS or key.lower().startswith("code_challenge"):
            raise ConfigError(f"{name} may not set {key}: the portal sets it for every sign-in")
        if not key or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key + value):
            raise ConfigError(f"{name} holds an empty name or a control character")
    if len({key for key, _ in pairs}) != len(pairs):
        raise ConfigError(f"{name} names a parameter more than once")
    return tuple(pairs)


def _issuers(raw: str, name: str) -> tuple[str, ...]:
    return tuple(check_endpoint_url(part.strip().rstrip("/"), name) for part in raw.split(",") if part.strip())


def _printable(env: Mapping[str, str], name: str, default: str | None, limit: int) -> str | None:
    value = _optional(env, name) or default
    if value is not None and (len(value) > limit or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value)):
        raise ConfigError(f"{name} must be at most {limit} printable characters")
    return value


def load_mapping(env: Mapping[str, str]) -> tuple[tuple, str, str]:
    """Targets, identity claim and groups claim: what decides who gets which profile where. Shared by the
    function and the admin command, so both read the configuration the same way."""
    identity_claim = _optional(env, "PORTAL_IDENTITY_CLAIM") or "email"
    if not CLAIM_NAME_PATTERN.match(identity_claim):
        raise ConfigError(f"PORTAL_IDENTITY_CLAIM must be a claim name, got {identity_claim!r}")
    groups_claim = _optional(env, "PORTAL_GROUPS_CLAIM") or "cognito:groups"
    if not CLAIM_NAME_PATTERN.match(groups_claim):
        raise ConfigError(f"PORTAL_GROUPS_CLAIM must be a claim name, got {groups_claim!r}")

    domain_id = _optional(env, "PORTAL_DOMAIN_ID") or ""
    targets_json = _optional(env, "PORTAL_TARGETS")
    if targets_json and domain_id:
        raise ConfigError("set only one of PORTAL_DOMAIN_ID (one domain) and PORTAL_TARGETS (several)")
    if not domain_id and not targets_json:
        raise ConfigError("PORTAL_DOMAIN_ID is required (the SageMaker Studio domain id, d-...), "
                          "or PORTAL_TARGETS for several domains")
    if domain_id and not DOMAIN_ID_PATTERN.match(domain_id):
        raise ConfigError(
            f"PORTAL_DOMAIN_ID must look like d-xxxxxxxxxxxx (pattern d-(-*[a-z0-9]){{1,61}}), got {domain_id!r}")

    from portal.targets import Target, parse_targets

    if targets_json:
        targets = parse_targets(targets_json, identity_claim)
    else:
        targets = (Target(id="studio", label="SageMaker Studio", domain_id=domain_id,
                          profile=f"{{{identity_claim}}}"),)
    return targets, identity_claim, groups_claim


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env

    issuer = _optional(env, "PORTAL_OIDC_ISSUER")
    if not issuer:
        raise ConfigError("PORTAL_OIDC_ISSUER is required (the OpenID Connect issuer URL)")
    issuer = check_endpoint_url(issuer.rstrip("/"), "PORTAL_OIDC_ISSUER")

    client_secret = _optional(env, "PORTAL_OIDC_CLIENT_SECRET")
    client_secret_arn = _optional(env, "PORTAL_OIDC_CLIENT_SECRET_ARN")
    if client_secret and client_secret_arn:
        raise ConfigError("set only one of PORTAL_OIDC_CLIENT_SECRET and PORTAL_OIDC_CLIENT_SECRET_ARN")
    client_id = _optional(env, "PORTAL_OIDC_CLIENT_ID")
    if not client_id and not client_secret_arn:
        # Without a secret ARN there is nowhere else the client id could come from.
        raise ConfigError("PORTAL_OIDC_CLIENT_ID is required")

    session_key_raw = _optional(env, "PORTAL_SESSION_KEY")
    session_key_arn = _optional(env, "PORTAL_SESSION_KEY_ARN")
    if session_key_raw and session_key_arn:
        raise ConfigError("set only one of PORTAL_SESSION_KEY and PORTAL_SESSION_KEY_ARN")
    if not session_key_raw and not session_key_arn:
        raise ConfigError("PORTAL_SESSION_KEY or PORTAL_SESSION_KEY_ARN is required")
    session_keys = parse_session_keys(session_key_raw, "PORTAL_SESSION_KEY") if session_key_raw else ()


    base_url = _optional(env, "PORTAL_BASE_URL")
    if base_url:
        base_url = base_url.rstrip("/")
        parts = urlsplit(base_url)
        if parts.query or parts.fragment or not parts.hostname:
            raise ConfigError(f"PORTAL_BASE_URL must be an absolute URL without query or fragment, got {base_url!r}")
        check_endpoint_url(base_url, "PORTAL_BASE_URL")

    targets, identity_claim, groups_claim = load_mapping(env)
    owner_tag = _optional(env, "PORTAL_OWNER_TAG") or "studiouserid"
    if not TAG_KEY_PATTERN.match(owner_tag) or owner_tag.lower().startswith("aws:"):
        raise ConfigError(f"PORTAL_OWNER_TAG must be a valid tag key (not aws:...), got {owner_tag!r}")

    launch_role_arn = _optional(env, "PORTAL_LAUNCH_ROLE_ARN")
    if launch_role_arn and not ROLE_ARN_PATTERN.match(launch_role_arn):
        raise ConfigError(f"PORTAL_LAUNCH_ROLE_ARN must be an IAM role ARN, got {launch_role_arn!r}")

    return Settings(
        oidc_issuer=issuer,
        oidc_client_id=client_id,
        oidc_client_secret=client_secret,
        oidc_client_secret_arn=client_secret_arn,
        session_keys=session_keys,
        session_key_arn=session_key_arn,
        base_url=base_url,
        identity_claim=identity_claim,
        owner_tag=owner_tag,
        url_expires_seconds=_int(env, "PORTAL_URL_EXPIRES_SECONDS", 30, 5, 300),
        studio_session_seconds=_int(env, "PORTAL_STUDIO_SESSION_SECONDS", 43200, 1800, 43200),
        session_ttl_seconds=_int(env, "PORTAL_SESSION_TTL_SECONDS", 8 * 3600, 300, 7 * 24 * 3600),
        launch_role_arn=launch_role_arn,
        groups_claim=groups_claim,
        oidc_authorize_params=parse_authorize_params(env.get("PORTAL_OIDC_AUTHORIZE_PARAMS", "").strip(),
                                                     "PORTAL_OIDC_AUTHORIZE_PARAMS"),
        login_initiators=_issuers(env.get("PORTAL_LOGIN_INITIATORS", ""), "PORTAL_LOGIN_INITIATORS"),
        title=_printable(env, "PORTAL_TITLE", "SageMaker Studio", MAX_TITLE_LENGTH) or "SageMaker Studio",
        helpdesk=_printable(env, "PORTAL_HELPDESK", None, MAX_HELPDESK_LENGTH),
        targets=targets,
        require_verified_email=_flag(env, "PORTAL_REQUIRE_VERIFIED_EMAIL", True),
    )
