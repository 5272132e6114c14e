"""Small JSON-over-HTTPS client for the identity provider, with tight timeouts and size limits.

urllib3 is used directly: it ships with botocore in the Lambda runtime, and it gives per-request
timeouts and bounded retries without another dependency.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.util import Retry, Timeout

from portal import deadline
from portal.config import redacted_url
from portal.deadline import DeadlineExceeded

MAX_BODY_BYTES = 512 * 1024


class HttpError(Exception):
    """The remote end could not be reached, answered with an error status, or answered garbage."""

    def __init__(self, message: str, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.status = status
        self.body = body


class JsonHttpClient:
    def __init__(self, connect_timeout: float = 2.0, read_timeout: float = 4.0, retries: int = 1):
        # One retry on connection failures and 5xx for idempotent GETs; POSTs (token exchange) are
        # never retried because an authorization code is single use.
        self._pool = urllib3.PoolManager(
            timeout=Timeout(connect=connect_timeout, read=read_timeout),
            retries=Retry(total=retries, connect=retries, read=0, status=retries, backoff_factor=0.2,
                          status_forcelist=(500, 502, 503, 504), allowed_methods=frozenset({"GET"}),
                          raise_on_status=False, redirect=0),
            maxsize=4,
        )

    def drop_connections(self) -> None:
        """Close pooled connections (before a snapshot, after a restore: see portal/runtime.py)."""
        self._pool.clear()

    def get_json(self, url: str) -> Any:
        return self._request("GET", url, body=None, headers={"Accept": "application/json"})

    def post_form(self, url: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Any:
        all_headers = {"Accept": "application/json", **(headers or {})}
        encoded = urlencode(fields)
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self._request("POST", url, body=encoded, headers=all_headers)

    def _request(self, method: str, url: str, body: str | None, headers: dict[str, str]) -> Any:
        # What messages name: no query (codes) or user information (a password) reaches a log line.
        call = f"{method} {redacted_url(url)}"
        try:
            # A slow, trickling or hanging IdP gets what is left of the request's time, retry included.
            status, raw = deadline.call(call, self._exchange, method, url, body, headers)
        except urllib3.exceptions.HTTPError as exc:
            raise HttpError(f"{call} failed: {type(exc).__name__}") from None
        except DeadlineExceeded:
            raise HttpError(f"{call} did not answer in time") from None
        if len(raw) > MAX_BODY_BYTES:
            raise HttpError(f"{call} answered more than {MAX_BODY_BYTES} bytes", status)
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        if status >= 400:
            raise HttpError(f"{call} answered {status}", status, document)
        if document is None:
            raise HttpError(f"{call} did not answer JSON", status)
        return document

    def _exchange(self, method: str, url: str, body: str | None, headers: dict[str, str]) -> tuple[int, bytes]:
        response = self._pool.request(method, url, body=body, headers=headers, preload_content=False, redirect=False)
        try:
            return response.status, response.read(MAX_BODY_BYTES + 1, decode_content=True)
        finally:
            response.release_conn()

