"""A minimal HTTP client for the tests: no redirects followed, cookies kept by name (Secure ones too, as
browsers do for http://127.0.0.1), every header visible."""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[-1] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Browser:
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, url: str, *, headers: list[tuple[str, str]] | None = None, body: bytes | str | None = None
    ) -> Reply:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        try:
            connection.putrequest(
                method, parts.path + (f"?{parts.query}" if parts.query else ""), skip_accept_encoding=True
            )
            sent = list(headers or [])
            if self.cookies and not any(k.lower() == "cookie" for k, _ in sent):
                sent.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
            data = body.encode() if isinstance(body, str) else body
            if data is not None:
                sent.append(("Content-Length", str(len(data))))
            for name, value in sent:
                connection.putheader(name, value)
            connection.endheaders(data)
            response = connection.getresponse()
            reply = Reply(response.status, response.getheaders(), response.read())
        finally:
            connection.close()
        for cookie in reply.all("Set-Cookie"):
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            attributes = cookie.lower()
            if not value or "max-age=0" in attributes or "max-age=-" in attributes:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return reply

    def get(self, url: str, **kwargs) -> Reply:
        return self.request("GET", url, **kwargs)

    def post_form(self, url: str, form: dict[str, str]) -> Reply:
        return self.request(
            "POST", url, headers=[("Content-Type", "application/x-www-form-urlencoded")], body=urlencode(form)
        )

    def follow(self, reply: Reply, base: str) -> Reply:
        location = reply.header("Location")
        assert reply.status in (301, 302, 303, 307) and location, (reply.status, reply.text[:300])
        return self.get(urljoin(base, location))
