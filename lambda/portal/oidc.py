"""OpenID Connect authorization code flow with PKCE, state and nonce, against any discoverable issuer.

Discovery and the JWKS are cached per container. The ID token is verified with PyJWT against an
allow-list of asymmetric algorithms; an unknown key id triggers one JWKS refetch (key rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from portal.config import ConfigError, check_endpoint_url
from portal.errors import ClientRejected, IdentityProviderUnavailable, PortalMisconfigured, SignInFailed
from portal.http import HttpError, JsonHttpClient
from portal.observability import logger

if TYPE_CHECKING:
    from jwt import PyJWK

# PyJWT (and cryptography's X.509 machinery under it) is imported on first sign-in, not at cold start:
# a warm session's launch never verifies a token.

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
CLOCK_SKEW_SECONDS = 60
DISCOVERY_TTL_SECONDS = 3600
JWKS_TTL_SECONDS = 3600
# A flood of tokens with made-up key ids must not turn into a flood of JWKS fetches.
JWKS_REFETCH_MIN_INTERVAL = 30
MAX_ID_TOKEN_LENGTH = 16 * 1024
SCOPES = "openid email profile"


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    token_auth_method: str  # client_secret_basic or client_secret_post


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _parse_metadata(document: Any, issuer: str) -> ProviderMetadata:
    if not isinstance(document, dict):
        raise IdentityProviderUnavailable("discovery document is not a JSON object")
    declared = document.get("issuer")
    if declared != issuer:
        # OIDC Discovery 4.3: the issuer in the document must be the one we asked. A final "/" aside (earlier versions
        # stripped it from the configuration, and Discovery 4.1 drops it from the well-known URL), it is exactly that;
        # the IdP's spelling is then the one its tokens carry. Anything else is named, so the operator can fix it.
        if not (isinstance(declared, str) and declared.rstrip("/") == issuer.rstrip("/")):
            raise PortalMisconfigured(f"the discovery document names the issuer {str(declared)[:200]!r}, not the "
                                      f"configured {issuer!r}; set PORTAL_OIDC_ISSUER (oidcIssuer) to the IdP's")
        logger.warning("the configured issuer differs from the IdP's by a final '/'; using the IdP's",
                       extra={"configured": issuer, "declared": declared})
        issuer = declared
    try:
        endpoints = {
            name: check_endpoint_url(str(document[name]), name)
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        }
        end_session = document.get("end_session_endpoint")
        end_session = check_endpoint_url(str(end_session), "end_session_endpoint") if end_session else None
    except KeyError as missing:
        raise IdentityProviderUnavailable(f"discovery document lacks {missing}") from None
    except ConfigError as bad:
        raise IdentityProviderUnavailable(str(bad)) from None
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth_method = "client_secret_post" if "client_secret_basic" not in methods and \
        "client_secret_post" in methods else "client_secret_basic"
    return ProviderMetadata(issuer=issuer, end_session_endpoint=end_session, token_auth_method=auth_method,
                            **endpoints)


class OidcClient:
    def __init__(self, issuer: str, client_id: str, client_secret: str | None, http: JsonHttpClient,
                 clock: Callable[[], float] = time.time, authorize_params: tuple[tuple[str, str], ...] = ()
                 ) -> None:
        self.issuer = issuer
        # Extra authorization request parameters (PORTAL_OIDC_AUTHORIZE_PARAMS), never one the flow sets.
        self.authorize_params = authorize_params
        self.client_id = client_id
        self.client_secret = client_secret
        self._http = http
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata: ProviderMetadata | None = None
        self._metadata_fetched = 0.0
        self._keys: list[PyJWK] = []
        self._keys_fetched = 0.0

    # -- discovery and keys -------------------------------------------------------------------
    def metadata(self) -> ProviderMetadata:
        with self._lock:
            if self._metadata and self._clock() - self._metadata_fetched < DISCOVERY_TTL_SECONDS:
                return self._metadata
        try:
            # OIDC Discovery 4.1: a terminating "/" of the issuer is removed before the well-known path is appended.
            document = self._http.get_json(f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")
        except HttpError as exc:
            raise IdentityProviderUnavailable(f"discovery failed: {exc}") from None
        metadata = _parse_metadata(document, self.issuer)
        with self._lock:
            self._metadata, self._metadata_fetched = metadata, self._clock()
        return metadata

    def _fetch_keys(self) -> list[PyJWK]:
        import jwt

        try:
            document = self._http.get_json(self.metadata().jwks_uri)
            key_set = jwt.PyJWKSet.from_dict(document)
        except HttpError as exc:
            raise IdentityProviderUnavailable(f"JWKS fetch failed: {exc}") from None
        except (jwt.PyJWKSetError, jwt.InvalidKeyError, TypeError, AttributeError, KeyError, ValueError):
            raise IdentityProviderUnavailable("the JWKS holds no usable keys") from None
        keys = [key for key in key_set.keys if getattr(key, "public_key_use", None) in (None, "sig")]
        with self._lock:
            self._keys, self._keys_fetched = keys, self._clock()
        return keys

    def _signing_key(self, kid: str | None, alg: str) -> PyJWK:
        with self._lock:
            keys, fetched = self._keys, self._keys_fetched
        if not keys or self._clock() - fetched > JWKS_TTL_SECONDS:
            keys = self._fetch_keys()
        key = _select_key(keys, kid)
        if key is None and self._clock() - self._keys_fetched >= JWKS_REFETCH_MIN_INTERVAL:
            key = _select_key(self._fetch_keys(), kid)
        if key is None:
            raise SignInFailed("the ID token was signed by a key the issuer does not publish")
        declared = key._jwk_data.get("alg")
        if declared and declared != alg:
            raise SignInFailed("the ID token's algorithm does not match its key")
        return key

    def prefetch(self) -> None:
        """At init: the discovery document and the JWKS (PyJWT and cryptography's key loading imported with it).
        Raises the usual errors when the IdP cannot be reached; the caller leaves that to the first sign-in."""
        self._fetch_keys()

    def drop_connections(self) -> None:
        self._http.drop_connections()

    # -- the flow ---------------------------------------------------------------------------------
    def authorization_request(self, redirect_uri: str, login_hint: str | None = None) -> AuthorizationRequest:
        """``login_hint``: from a third-party initiated login (OIDC Core §4), passed on as given."""
        metadata = self.metadata()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        extra = dict(self.authorize_params)
        if login_hint:
            # The tile's hint replaces a configured one, in whatever case that one is spelt: one login_hint is sent.
            extra = {name: value for name, value in extra.items() if name.lower() != "login_hint"}
            extra["login_hint"] = login_hint
        query = urlencode({
            **extra,
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        })
        separator = "&" if urlsplit(metadata.authorization_endpoint).query else "?"
        return AuthorizationRequest(f"{metadata.authorization_endpoint}{separator}{query}", state, nonce, verifier)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> str:
        """Trade the authorization code for an ID token (the raw JWT)."""
        metadata = self.metadata()
        fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                  "code_verifier": code_verifier, "client_id": self.client_id}
        headers = {}
        if self.client_secret and metadata.token_auth_method == "client_secret_basic":  # noqa: S105
            headers["Authorization"] = _basic_auth(self.client_id, self.client_secret)
        elif self.client_secret:
            fields["client_secret"] = self.client_secret
        try:
            document = self._http.post_form(metadata.token_endpoint, fields, headers)
        except HttpError as exc:
            if exc.status in (400, 401) and isinstance(exc.body, dict) and exc.body.get("error") == "invalid_client":
                # RFC 6749 5.2: the client itself was refused, not the code (a rotated or deleted client).
                raise ClientRejected("the identity provider refused the portal's client credentials") from None
            if exc.status is not None and 400 <= exc.status < 500:
                # invalid_grant and friends: a replayed, expired or foreign code.
                raise SignInFailed("the identity provider refused the authorization code") from None
            raise IdentityProviderUnavailable(f"token exchange failed: {exc}") from None
        id_token = document.get("id_token") if isinstance(document, dict) else None
        if not isinstance(id_token, str):
            raise IdentityProviderUnavailable("the token response carries no ID token")
        return id_token

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        import jwt

        if len(id_token) > MAX_ID_TOKEN_LENGTH:
            raise SignInFailed("the ID token is too large")
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise SignInFailed("the ID token is malformed") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise SignInFailed("the ID token uses an algorithm that is not allowed")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise SignInFailed("the ID token's key id is malformed")
        key = self._signing_key(kid, alg)
        try:
            claims = jwt.decode(
                id_token, key=key.key, algorithms=[alg], audience=self.client_id, issuer=self.metadata().issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_iat": True},
            )
        except jwt.PyJWTError as exc:
            raise SignInFailed(f"the ID token did not verify: {type(exc).__name__}") from None
        audience = claims.get("aud")
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise SignInFailed("the ID token was issued to another client")
        token_nonce = claims.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce.encode(), nonce.encode()):
            raise SignInFailed("the ID token's nonce does not match this sign-in")
        return claims

    def logout_url(self, return_to: str) -> str | None:
        """Where to send the browser to end the IdP session, or None when the issuer has no such page."""
        try:
            metadata = self.metadata()
        except (IdentityProviderUnavailable, PortalMisconfigured):
            return None
        if metadata.end_session_endpoint:
            query = urlencode({"client_id": self.client_id, "post_logout_redirect_uri": return_to})
            return f"{metadata.end_session_endpoint}?{query}"
        # Cognito publishes no end_session_endpoint; its hosted UI signs out at /logout.
        authorize = urlsplit(metadata.authorization_endpoint)
        if authorize.path.endswith("/oauth2/authorize"):
            query = urlencode({"client_id": self.client_id, "logout_uri": return_to})
            return f"{authorize.scheme}://{authorize.netloc}/logout?{query}"
        return None


def _select_key(keys: list[PyJWK], kid: str | None) -> PyJWK | None:
    if kid is None:
        # Some issuers omit kid when they publish a single key.
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.key_id == kid), None)


def _basic_auth(client_id: str, secret: str) -> str:
    from urllib.parse import quote

    # RFC 6749 2.3.1: form-encode both parts before base64.
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
