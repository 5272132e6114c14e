"""Rotating the OIDC client never fails a sign-in: a deploy with a new cognitoClientGeneration replaces the Cognito
app client (new id and secret) and deletes the old one while warm containers may still hold it; an operator may
also put a new client secret for the same client into Secrets Manager (identitySource=oidc)."""

import base64
import json
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest

from portal import runtime
from portal.aws import AwsGateway
from portal.config import load_settings
from portal.handler import handler
from portal.http import HttpError
from tests.support.events import FakeContext, event_for_url, header, set_cookies
from tests.support.tokens import FakeHttp, ScriptedIdentityProvider

SECRET = "SageMakerStudioPortal/oidc-client"
BASE_ENV = {"PORTAL_OIDC_ISSUER": "https://idp.example.test", "PORTAL_OIDC_CLIENT_SECRET_ARN": SECRET,
            "PORTAL_SESSION_KEY": "s" * 48, "PORTAL_DOMAIN_ID": "d-demo0portal01"}


class Secrets(AwsGateway):
    """Secrets Manager as the container sees it: a cached value unless a read is fresh."""

    def __init__(self, value: str) -> None:
        super().__init__(boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t",
                                               region_name="us-east-1"))
        self.stored = self.cached = value
        self.reads: list[bool] = []  # fresh or not, per read

    def get_secret(self, secret_id: str, fresh: bool = False) -> str:
        assert secret_id == SECRET
        self.reads.append(fresh)
        if fresh:
            self.cached = self.stored
        return self.cached


class IdentityProvider(FakeHttp):
    """A token endpoint that knows which clients exist: a deleted client or a wrong secret is invalid_client
    (RFC 6749 5.2), and a code is only good for the client it was issued to."""

    def __init__(self, clients: dict[str, str]) -> None:
        super().__init__(ScriptedIdentityProvider(issuer="https://idp.example.test"))
        self.clients = clients
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (client id, nonce)

    def authorize(self, location: str) -> str:
        """The IdP's session is still there: it answers with a code at once."""
        query = parse_qs(urlsplit(location).query)
        code = f"code-{len(self.codes)}"
        self.codes[code] = (query["client_id"][0], query["nonce"][0])
        return f"/callback?code={code}&state={query['state'][0]}"

    def post_form(self, url, fields, headers=None):
        self.requests.append(("POST", url, fields, headers))
        client_id, secret = (unquote(part) for part in base64.b64decode(
            headers["Authorization"].removeprefix("Basic ")).decode().split(":", 1))
        if self.clients.get(client_id) != secret:
            raise HttpError("token endpoint refused", 400, {"error": "invalid_client"})
        issued_to, nonce = self.codes.get(fields["code"], (None, None))
        if issued_to != client_id:
            raise HttpError("token endpoint refused", 400, {"error": "invalid_grant"})
        claims = self.idp.claims(nonce=nonce, aud=client_id)
        return {"id_token": self.idp.sign(claims), "access_token": "at", "token_type": "Bearer"}

    @property
    def token_requests(self) -> int:
        return sum(1 for method, *_ in self.requests if method == "POST")


class Browser:
    def __init__(self, env: dict[str, str], secrets: Secrets, idp: IdentityProvider) -> None:
        runtime.install(runtime.build(load_settings(BASE_ENV | env), secrets, http=idp))
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> dict:
        response = handler(event_for_url(path, cookies=self.cookies), FakeContext())
        for name, morsel in set_cookies(response).items():
            if morsel["max-age"] == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value
        return response


def client_id_of(response: dict) -> str:
    return parse_qs(urlsplit(header(response, "Location")).query)["client_id"][0]


@pytest.fixture(autouse=True)
def fresh_runtime():
    yield
    runtime.reset()


def cognito(client_id: str, secret: str) -> str:
    return json.dumps({"client_id": client_id, "client_secret": secret})


def test_a_sign_in_under_way_when_the_client_is_replaced_ends_signed_in():
    # Given a warm container that started a sign-in with Cognito's client "old"
    idp = IdentityProvider({"old": "old-secret"})
    secrets = Secrets(cognito("old", "old-secret"))
    browser = Browser({}, secrets, idp)
    start = browser.get("/status")  # not a launch: the callback answers with a redirect
    assert client_id_of(start) == "old"
    callback_path = idp.authorize(header(start, "Location"))
    # When the deploy replaces the client (new id and secret in the secret, the old client deleted) while the
    # container's cache still holds the old credentials
    idp.clients = {"new": "new-secret"}
    secrets.stored = cognito("new", "new-secret")
    callback = browser.get(callback_path)
    # Then the portal re-reads the secret, bypassing the cache, and starts the sign-in again with the new client
    assert callback["statusCode"] == 302 and client_id_of(callback) == "new"
    assert secrets.reads[-1] is True
    # And the IdP, whose session is still there, sends the person straight back: signed in, where they wanted
    done = browser.get(idp.authorize(header(callback, "Location")))
    assert done["statusCode"] == 302 and header(done, "Location").endswith("/prod/status")
    assert "__Host-portal-session" in browser.cookies


def test_a_new_sign_in_never_uses_a_client_the_cache_still_holds():
    idp = IdentityProvider({"old": "old-secret"})
    secrets = Secrets(cognito("old", "old-secret"))
    browser = Browser({}, secrets, idp)
    # Given a rotation the container's cache has not seen
    idp.clients = {"new": "new-secret"}
    secrets.stored = cognito("new", "new-secret")
    # When someone starts signing in
    start = browser.get("/status")  # not a launch: the callback answers with a redirect
    # Then Cognito is sent the new client, read fresh, and the sign-in completes
    assert client_id_of(start) == "new" and secrets.reads[-1] is True
    done = browser.get(idp.authorize(header(start, "Location")))
    assert done["statusCode"] == 302 and "__Host-portal-session" in browser.cookies


def test_a_new_secret_for_the_same_client_is_retried_once_and_succeeds():
    # Given your own IdP (the client id is configured, the secret is in Secrets Manager as plain text)
    idp = IdentityProvider({"portal": "secret-1"})
    secrets = Secrets("secret-1")
    browser = Browser({"PORTAL_OIDC_CLIENT_ID": "portal"}, secrets, idp)
    start = browser.get("/status")  # not a launch: the callback answers with a redirect
    assert secrets.reads == [False]  # the client id does not change: no fresh read to start a sign-in
    callback_path = idp.authorize(header(start, "Location"))
    # When the secret is rotated at the IdP and in Secrets Manager, behind the container's cache
    idp.clients = {"portal": "secret-2"}
    secrets.stored = "secret-2"
    done = browser.get(callback_path)
    # Then the token request is repeated once with the fresh secret, and the person is signed in
    assert done["statusCode"] == 302 and "__Host-portal-session" in browser.cookies
    assert idp.token_requests == 2 and secrets.reads[-1] is True


def test_a_client_that_is_simply_wrong_fails_once_with_the_sign_in_page():
    idp = IdentityProvider({"portal": "the-real-secret"})
    secrets = Secrets("a-wrong-secret")
    browser = Browser({"PORTAL_OIDC_CLIENT_ID": "portal"}, secrets, idp)
    callback_path = idp.authorize(header(browser.get("/"), "Location"))
    # The fresh read brings nothing new: no second token request, no loop, a clear 401 page
    response = browser.get(callback_path)
    assert response["statusCode"] == 401 and "sign" in response["body"].lower()
    assert idp.token_requests == 1 and secrets.reads[-1] is True
    assert "a-wrong-secret" not in response["body"] and "the-real-secret" not in response["body"]


def test_a_refused_code_is_not_retried():
    idp = IdentityProvider({"portal": "secret"})
    secrets = Secrets("secret")
    browser = Browser({"PORTAL_OIDC_CLIENT_ID": "portal"}, secrets, idp)
    start = browser.get("/status")  # not a launch: the callback answers with a redirect
    state = parse_qs(urlsplit(header(start, "Location")).query)["state"][0]
    response = browser.get(f"/callback?code=never-issued&state={state}")  # invalid_grant
    assert response["statusCode"] == 401 and idp.token_requests == 1 and secrets.reads == [False]
