"""A test identity provider under the test's control: its keys, its discovery document, its tokens."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://idp.example.test"
CLIENT_ID = "portal-client"


def new_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


_ISSUER_KEY = new_rsa_key()  # generating RSA keys is slow: every scripted IdP starts with this one


def public_jwk(private_key, kid: str | None, alg: str = "RS256") -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(private_key, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
    jwk = json.loads(algorithm.to_jwk(private_key.public_key()))
    if kid is not None:
        jwk["kid"] = kid
    jwk["alg"] = alg
    jwk["use"] = "sig"
    return jwk


@dataclass
class ScriptedIdentityProvider:
    """Discovery, JWKS and token endpoint answers, served by FakeHttp or over HTTP by tests."""

    issuer: str = ISSUER
    client_id: str = CLIENT_ID
    keys: dict[str, Any] = field(default_factory=lambda: {"key-1": _ISSUER_KEY})
    end_session: bool = True
    next_id_token: str | None = None
    token_status: int = 200

    @property
    def base(self) -> str:
        """Where the endpoints are: the issuer without a final "/" (Auth0's issuer has one)."""
        return self.issuer.rstrip("/")

    def discovery(self) -> dict[str, Any]:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token",
            "jwks_uri": f"{self.base}/jwks",
            "id_token_signing_alg_values_supported": ["RS256"],
        }
        if self.end_session:
            document["end_session_endpoint"] = f"{self.base}/logout"
        return document

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(key, kid) for kid, key in self.keys.items()]}

    def claims(self, nonce: str | None = "n-1", **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "sub": "sub-alice", "iat": now, "exp": now + 300,
                  "email": "alice@example.com", "email_verified": True}
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not None}

    def sign(self, claims: dict[str, Any], kid: str | None = "key-1", key=None, alg: str = "RS256",
             headers: dict[str, Any] | None = None) -> str:
        signing_key = key if key is not None else self.keys[kid]
        extra = dict(headers or {})
        if kid is not None:
            extra["kid"] = kid
        return jwt.encode(claims, signing_key, algorithm=alg, headers=extra)


class FakeHttp:
    """Stands in for portal.http.JsonHttpClient, answering from a ScriptedIdentityProvider."""

    def __init__(self, idp: ScriptedIdentityProvider):
        self.idp = idp
        self.requests: list[tuple[str, str, dict | None, dict | None]] = []
        self.fail: dict[str, Exception] = {}
        self.dropped = 0  # drop_connections() calls (SnapStart's hooks)

    def get_json(self, url: str) -> Any:
        self.requests.append(("GET", url, None, None))
        path = url.removeprefix(self.idp.base)
        if path in self.fail:
            raise self.fail[path]
        if path == "/.well-known/openid-configuration":
            return self.idp.discovery()
        if path == "/jwks":
            return self.idp.jwks()
        raise AssertionError(f"unexpected GET {url}")

    def drop_connections(self) -> None:
        self.dropped += 1

    def post_form(self, url: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Any:
        from portal.http import HttpError

        self.requests.append(("POST", url, fields, headers))
        path = url.removeprefix(self.idp.base)
        if path in self.fail:
            raise self.fail[path]
        if self.idp.token_status != 200:
            raise HttpError("token endpoint refused", self.idp.token_status, {"error": "invalid_grant"})
        return {"id_token": self.idp.next_id_token, "access_token": "at", "token_type": "Bearer"}


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())
