"""An identity provider that signs everyone in at once: the IdP leg of the benchmark's signed-out flow.

``/authorize`` answers as a real IdP does after the person has signed in: a redirect to the portal's callback
with a code and the portal's state; the token endpoint then returns an ID token for alice@example.com carrying
the nonce of that authorization request. Discovery and JWKS as the tests' scripted IdP serves them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from local._http import LocalServer
from tests.support.idp_server import MisbehavingIdp

IDENTITY = "alice@example.com"


class ApprovingIdp(MisbehavingIdp):
    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path != "/authorize":
            return super().__call__(environ, start_response)
        self.hits["/authorize"] = self.hits.get("/authorize", 0) + 1
        query = request.args
        self.idp.next_id_token = self.idp.sign(self.idp.claims(nonce=query["nonce"], sub=IDENTITY, email=IDENTITY))
        location = f"{query['redirect_uri']}?{urlencode({'code': 'bench-code', 'state': query['state']})}"
        return Response(status=302, headers={"Location": location})(environ, start_response)


@contextmanager
def approving_idp(client_id: str) -> Iterator[ApprovingIdp]:
    app = ApprovingIdp()
    app.idp.client_id = client_id
    server = LocalServer(app, port=0, label="idp", quiet=True).start()
    app.idp.issuer = server.url
    try:
        yield app
    finally:
        server.stop()
