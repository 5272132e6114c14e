"""API Gateway REST (v1 proxy) events as API Gateway builds them, for driving the handler directly."""

from __future__ import annotations

import uuid
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_HOST = "abc123.execute-api.us-east-1.amazonaws.com"


class FakeContext:
    function_name = "portal"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:portal"

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


def rest_event(path: str = "/", method: str = "GET", query: dict[str, list[str]] | None = None,
               cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None,
               stage: str = "prod", host: str = API_HOST) -> dict[str, Any]:
    all_headers = {"Host": host, "X-Forwarded-Proto": "https", "User-Agent": "pytest"}
    if cookies:
        all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    all_headers.update(headers or {})
    request_id = str(uuid.uuid4())
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": dict(all_headers),
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": {key: values[-1] for key, values in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")} if path != "/" else None,
        "stageVariables": None,
        "requestContext": {"requestId": request_id, "stage": stage, "path": f"/{stage}{path}" if stage else path,
                           "domainName": host, "httpMethod": method, "resourcePath": "/{proxy+}",
                           "identity": {"sourceIp": "198.51.100.7"}, "accountId": "123456789012",
                           "apiId": "abc123"},
        "body": None,
        "isBase64Encoded": False,
    }


def event_for_url(url: str, **kwargs: Any) -> dict[str, Any]:
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True) or None
    return rest_event(parts.path, query=query, **kwargs)


def set_cookies(response: dict[str, Any]) -> dict[str, SimpleCookie]:
    """Set-Cookie headers of a handler response, by cookie name."""
    jar = {}
    for header in response.get("multiValueHeaders", {}).get("Set-Cookie", []):
        cookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            jar[name] = cookie[name]
    return jar


def header(response: dict[str, Any], name: str) -> str | None:
    values = response.get("multiValueHeaders", {}).get(name) or []
    return values[0] if values else (response.get("headers") or {}).get(name)
