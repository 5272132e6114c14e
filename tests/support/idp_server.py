"""The scripted identity provider served over HTTP on loopback, with faults under the test's control:
an endpoint can be down (503), slow (sleeps past the portal's read timeout), or answer garbage."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager

from werkzeug.wrappers import Request, Response

from local._http import LocalServer
from tests.support.tokens import ScriptedIdentityProvider


class MisbehavingIdp:
    def __init__(self) -> None:
        self.idp = ScriptedIdentityProvider(issuer="http://127.0.0.1:0")
        self.faults: dict[str, str] = {}  # path -> "down" | "slow" | "garbage" | "huge"
        self.slow_seconds = 6.0
        self.hits: dict[str, int] = {}
        self._release = threading.Event()

    def release(self) -> None:
        self._release.set()

    def release_held(self) -> None:
        """End the requests held by "slow" now; later ones are held again."""
        held, self._release = self._release, threading.Event()
        held.set()

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        self.hits[path] = self.hits.get(path, 0) + 1
        fault = self.faults.get(path)
        if fault == "down":
            return Response("unavailable", status=503)(environ, start_response)
        if fault == "slow":
            self._release.wait(self.slow_seconds)
        if fault == "garbage":
            return Response("<html>definitely not json", status=200, content_type="text/html")(environ, start_response)
        if fault == "huge":
            return Response("[" + "1," * 400_000 + "1]", content_type="application/json")(environ, start_response)
        if path == "/.well-known/openid-configuration":
            body = self.idp.discovery()
        elif path == "/jwks":
            body = self.idp.jwks()
        elif path == "/token" and request.method == "POST":
            if self.idp.token_status != 200:
                return Response(json.dumps({"error": "invalid_grant"}), status=self.idp.token_status,
                                content_type="application/json")(environ, start_response)
            body = {"id_token": self.idp.next_id_token, "token_type": "Bearer", "access_token": "at"}
        else:
            return Response("not found", status=404)(environ, start_response)
        return Response(json.dumps(body), content_type="application/json")(environ, start_response)


@contextmanager
def misbehaving_idp():
    app = MisbehavingIdp()
    server = LocalServer(app, port=0, label="idp", quiet=True).start()
    app.idp.issuer = server.url
    try:
        yield app
    finally:
        app.release()
        server.stop()
