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
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from portal.settings_catalog import (
    BY_ENV,
    DECLARATIVE_KINDS,
    ENV_BOOLEANS,
    LANGUAGES,
    SETTINGS,
    ConfigError,
    Setting,
    pick_choice,
)
from portal.targets import Target, parse_targets

__all__ = ["ConfigError", "Settings", "check_endpoint_url", "is_loopback_host", "load_mapping", "load_settings",
           "parse_languages", "parse_session_keys", "read_setting"]


@dataclass(frozen=True)
class Settings:
    """The function's settings, typed; declared (variable, default, bounds) in portal.settings_catalog."""

    oidc_issuer: str
    oidc_client_id: str | None
    oidc_client_secret: str | None = field(repr=False)
    oidc_client_secret_arn: str | None
    session_keys: tuple[str, ...] = field(repr=False)
    session_key_arn: str | None
    base_url: str | None
    identity_claim: str
    groups_claim: str
    owner_tag: str
    url_expires_seconds: int
    studio_session_seconds: int
    session_ttl_seconds: int
    launch_role_arn: str | None
    targets: tuple[Target, ...]  # at least one
    require_verified_email: bool
    oidc_authorize_params: tuple[tuple[str, str], ...]
    login_initiators: tuple[str, ...]
    title: str
    helpdesk: str | None
    ownership_cache_seconds: int
    languages: tuple[str, ...]  # the first is the last resort

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


def redacted_url(url: str) -> str:
    """A URL fit for a log line: no user information, query or fragment, however they are spelt (anything up to the
    last "@" goes, even when a "?" or "#" in a password hides it from urlsplit)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    return f"{scheme}{separator}{re.split(r'[?#]', rest.rsplit('@', 1)[-1], maxsplit=1)[0]}"


def check_endpoint_url(url: str, what: str) -> str:
    """An IdP URL must be https, except on a loopback host (local runs), and carries no user information or fragment.
    Its messages quote it redacted: an IdP writes these URLs, and they reach log lines."""
    authority = url.partition("://")[2].split("/", 1)[0]
    if "@" in authority or "#" in url:
        raise ConfigError(f"{what} must carry no user information or fragment, got {redacted_url(url)!r}")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unclosed IPv6 bracket, a host NFKC turns into a separator
        host = None
    if not host:
        raise ConfigError(f"{what} must be an absolute URL, got {redacted_url(url)!r}")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host)):
        return url
    raise ConfigError(f"{what} must use https (plain http is accepted only on loopback hosts), "
                      f"got {redacted_url(url)!r}")


def _raw(env: Mapping[str, str], setting: Setting) -> str:
    assert setting.env is not None
    return env.get(setting.env, "").strip()


def read_setting(env: Mapping[str, str], setting: Setting) -> Any:
    """One declared setting from the environment, checked against its declaration; its default when unset."""
    raw = _raw(env, setting)
    if not raw:
        return setting.default
    name, expected = setting.env, setting.expected()
    if setting.kind == "int":
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be {expected}, got {raw!r}") from None
        assert setting.low is not None and setting.high is not None
        if not setting.low <= value <= setting.high:
            raise ConfigError(f"{name} must be {expected}, got {value}")
        return value
    if setting.kind == "bool":
        if raw.lower() not in ENV_BOOLEANS:
            raise ConfigError(f"{name} must be {expected}, got {raw!r}")
        return raw.lower() == "true"
    if setting.kind == "choice":
        choice = pick_choice(setting, raw)
        if choice is None:
            raise ConfigError(f"{name} must be {expected}, got {raw!r}")
        return choice
    if setting.pattern is not None and not setting.pattern.fullmatch(raw):
        raise ConfigError(f"{name} must be {expected}, got {raw!r}")
    return raw


def _declared(env: Mapping[str, str], *names: str) -> list[Any]:
    return [read_setting(env, BY_ENV[name]) for name in names]


def parse_session_keys(raw: str, name: str) -> tuple[str, ...]:
    shortest = BY_ENV["PORTAL_SESSION_KEY"].low
    assert shortest is not None
    keys = tuple(part.strip() for part in raw.split(","))
    if not keys or any(len(key) < shortest for key in keys):
        raise ConfigError(
            f"{name} must be a comma-separated list of secrets, newest first, each at least {shortest} characters")
    return keys


# The authorization request's own parameters: PORTAL_OIDC_AUTHORIZE_PARAMS may add to them, never replace them.
OWN_AUTHORIZE_PARAMS = ("state", "nonce", "redirect_uri", "client_id", "scope", "response_type")
# Nor replace them another way: a request object's parameters supersede the query's (OIDC Core 6.1, RFC 9101),
# and an answer in any response_mode but the query never reaches GET /callback.
REPLACING_AUTHORIZE_PARAMS = ("request", "request_uri", "response_mode")
# An OAuth parameter name (RFC 6749 section 8.2, "name-char"): nothing an IdP could trim or fold into one of the above.
_AUTHORIZE_PARAM_NAME = re.compile(r"[A-Za-z0-9._-]+")
# A "%" that does not start an escape would be sent as a literal "%25".
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def parse_authorize_params(raw: str, name: str) -> tuple[tuple[str, str], ...]:
    """Extra authorization request parameters, as a query string; the portal's own ones are refused."""
    try:
        if _STRAY_PERCENT.search(raw):
            raise ValueError("stray %")
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True, errors="strict")
    except ValueError:  # UnicodeDecodeError included: an escape that is not UTF-8 would be sent as U+FFFD
        raise ConfigError(f"{name} must be a query string such as domain_hint=corp.example, got {raw!r}") from None
    for key, value in pairs:
        if not _AUTHORIZE_PARAM_NAME.fullmatch(key):
            raise ConfigError(f"{name} holds the parameter name {key!r}: names are ASCII letters, digits and . _ -")
        # Compared without case: an IdP that reads names loosely must not see a second "State".
        if key.lower() in OWN_AUTHORIZE_PARAMS or key.lower().startswith("code_challenge"):
            raise ConfigError(f"{name} may not set {key}: the portal sets it for every sign-in")
        if key.lower() in REPLACING_AUTHORIZE_PARAMS:
            raise ConfigError(f"{name} may not set {key}: it would replace the parameters the portal sets")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            raise ConfigError(f"{name} holds a control character")
        # OIDC Core 3.1.2.1: with none the IdP shows no page and answers login_required to anyone without a live
        # session there, so every such person's sign-in would end on an error page.
        if key.lower() == "prompt" and "none" in value.split():
            raise ConfigError(f"{name} may not set prompt=none: sign-in would fail for anyone not already signed "
                              "in at the identity provider")
    if len({key.lower() for key, _ in pairs}) != len(pairs):
        raise ConfigError(f"{name} names a parameter more than once (names compared without case)")
    return tuple(pairs)


def parse_languages(env: Mapping[str, str]) -> tuple[str, ...]:
    """PORTAL_LANGUAGES as the languages pages are offered in, in the declared spelling; unset, every shipped one."""
    raw = read_setting(env, BY_ENV["PORTAL_LANGUAGES"])  # checked: shipped languages, none twice
    if raw is None:
        return LANGUAGES
    by_tag = {language.lower(): language for language in LANGUAGES}
    return tuple(by_tag[part.strip().lower()] for part in raw.split(","))


def _issuers(raw: str, name: str) -> tuple[str, ...]:
    # Kept exactly as written: /login compares the `iss` it is given with these, character for character.
    return tuple(check_endpoint_url(part.strip(), name) for part in raw.split(",") if part.strip())


def load_mapping(env: Mapping[str, str]) -> tuple[tuple[Target, ...], str, str]:
    """Targets, identity claim and groups claim: what decides who gets which profile where. Shared by the
    function and the admin command, so both read the configuration the same way."""
    identity_claim, groups_claim, domain_id = _declared(
        env, "PORTAL_IDENTITY_CLAIM", "PORTAL_GROUPS_CLAIM", "PORTAL_DOMAIN_ID")
    targets_json = _raw(env, BY_ENV["PORTAL_TARGETS"])
    if targets_json and domain_id:
        raise ConfigError("set only one of PORTAL_DOMAIN_ID (one domain) and PORTAL_TARGETS (several)")
    if not domain_id and not targets_json:
        raise ConfigError("PORTAL_DOMAIN_ID is required (the SageMaker Studio domain id, d-...), "
                          "or PORTAL_TARGETS for several domains")
    if targets_json:
        targets = parse_targets(targets_json, identity_claim)
    else:
        targets = (Target(id="studio", label="SageMaker Studio", domain_id=domain_id,
                          profile=f"{{{identity_claim}}}"),)
    return targets, identity_claim, groups_claim


# Read by hand below, or by Powertools; every other PORTAL_ setting lands on the Settings field of its name.
_BY_HAND = frozenset({"PORTAL_DOMAIN_ID", "PORTAL_TARGETS", "PORTAL_IDENTITY_CLAIM", "PORTAL_GROUPS_CLAIM",
                      "PORTAL_OIDC_ISSUER", "PORTAL_SESSION_KEY", "PORTAL_BASE_URL", "PORTAL_OIDC_AUTHORIZE_PARAMS",
                      "PORTAL_LOGIN_INITIATORS", "PORTAL_LANGUAGES"})


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    declared = {setting.attr: read_setting(env, setting) for setting in SETTINGS
                if setting.env and setting.env.startswith("PORTAL_") and setting.env not in _BY_HAND
                and setting.kind in DECLARATIVE_KINDS | {"secret"}}

    issuer = _raw(env, BY_ENV["PORTAL_OIDC_ISSUER"])
    if not issuer:
        raise ConfigError("PORTAL_OIDC_ISSUER is required (the OpenID Connect issuer URL)")
    # Exactly as configured: it is compared with the discovery document's and each ID token's iss (OIDC Discovery
    # 4.3, Core 3.1.3.7), and some issuers end in "/" (Auth0's).
    issuer = check_endpoint_url(issuer, "PORTAL_OIDC_ISSUER")

    if declared["oidc_client_secret"] and declared["oidc_client_secret_arn"]:
        raise ConfigError("set only one of PORTAL_OIDC_CLIENT_SECRET and PORTAL_OIDC_CLIENT_SECRET_ARN")
    if not declared["oidc_client_id"] and not declared["oidc_client_secret_arn"]:
        # Without a secret ARN there is nowhere else the client id could come from.
        raise ConfigError("PORTAL_OIDC_CLIENT_ID is required")

    session_key_raw = _raw(env, BY_ENV["PORTAL_SESSION_KEY"])
    if session_key_raw and declared["session_key_arn"]:
        raise ConfigError("set only one of PORTAL_SESSION_KEY and PORTAL_SESSION_KEY_ARN")
    if not session_key_raw and not declared["session_key_arn"]:
        raise ConfigError("PORTAL_SESSION_KEY or PORTAL_SESSION_KEY_ARN is required")
    session_keys = parse_session_keys(session_key_raw, "PORTAL_SESSION_KEY") if session_key_raw else ()

    base_url = _raw(env, BY_ENV["PORTAL_BASE_URL"]) or None
    if base_url:
        base_url = base_url.rstrip("/")
        parts = urlsplit(base_url)
        if parts.query or parts.fragment or not parts.hostname:
            raise ConfigError(f"PORTAL_BASE_URL must be an absolute URL without query or fragment, got {base_url!r}")
        check_endpoint_url(base_url, "PORTAL_BASE_URL")

    targets, identity_claim, groups_claim = load_mapping(env)
    return Settings(
        **declared,
        oidc_issuer=issuer,
        session_keys=session_keys,
        base_url=base_url,
        identity_claim=identity_claim,
        groups_claim=groups_claim,
        targets=targets,
        oidc_authorize_params=parse_authorize_params(_raw(env, BY_ENV["PORTAL_OIDC_AUTHORIZE_PARAMS"]),
                                                     "PORTAL_OIDC_AUTHORIZE_PARAMS"),
        login_initiators=_issuers(_raw(env, BY_ENV["PORTAL_LOGIN_INITIATORS"]), "PORTAL_LOGIN_INITIATORS"),
        languages=parse_languages(env),
    )
