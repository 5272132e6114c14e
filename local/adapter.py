"""Serve a Lambda handler over HTTP the way API Gateway (REST API, Lambda proxy integration) invokes it.

Each HTTP request becomes a v1 proxy event as API Gateway builds it (``resource`` "/" or
"/{proxy+}", ``path``, ``headers``/``multiValueHeaders`` as sent, query parameters decoded, body as text or
base64, ``requestContext`` with ``requestId``, ``stage``, ``path``, ``domainName``, ``identity.sourceIp``, ...),
plus ``X-Forwarded-Proto: http`` since nothing terminates TLS locally. The handler's result
(``statusCode``, ``headers``, ``multiValueHeaders``, ``body``, ``isBase64Encoded``) goes back as the HTTP
response, merged the way API Gateway merges the two header maps.

Like one Lambda container, invocations run one at a time; like API Gateway, the client gets
``502 {"message": "Internal server error"}`` when the handler raises or returns a malformed result and
``504 {"message": "Endpoint request timed out"}`` after ``timeout_seconds`` (29 s by default).

Bodies, headers and cookies are never logged.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import importlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request

from local._http import RAW_HEADERS_KEY
from local.seed import ACCOUNT_ID, REGION

log = logging.getLogger("local.adapter")

Handler = Callable[[dict[str, Any], Any], Any]

_SPECIAL_WSGI_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}
_ADDED_HEADERS = ("x-forwarded-proto", "x-forwarded-port", "x-forwarded-for")


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    aws_request_id: str
    function_name: str = "sagemaker-studio-portal-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:sagemaker-studio-portal-local"
    log_group_name: str = "/aws/lambda/sagemaker-studio-portal-local"
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None
    deadline: float = field(default=0.0, repr=False)  # time.monotonic() at which the function times out

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def resolve_handler(spec: str | Handler) -> Handler:
    """``"package.module:function"`` -> the function (imported now); a callable is returned as is."""
    if callable(spec):
        return spec
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "handler")


class ApiGatewayAdapter:
    """A WSGI app that invokes ``handler(event, context)`` with API Gateway REST (v1) proxy events.

    ``handler`` may be a callable or ``"module:function"``, imported on the first request (a cold start),
    so that the environment is in place first. ``stage_prefix`` (e.g. "/prod") mimics an execute-api URL:
    requests must come under it, ``path`` excludes it and ``requestContext.path`` includes it; requests
    outside it get API Gateway's 403 ``{"message":"Forbidden"}``. Request bodies whose Content-Type matches
    ``binary_media_types`` (globs), or that are not UTF-8, arrive base64-encoded with ``isBase64Encoded``.
    ``methods`` (e.g. ``("GET",)``): the methods the API defines; others get API Gateway's 403
    ``{"message":"Missing Authentication Token"}`` without invoking the handler. None: all methods.
    """

    def __init__(
        self,
        handler: str | Handler,
        *,
        stage_prefix: str = "",
        stage: str | None = None,
        account_id: str = ACCOUNT_ID,
        api_id: str = "localapi01",
        binary_media_types: Sequence[str] = (),
        timeout_seconds: float = 29.0,
        function_timeout_seconds: float = 30.0,
        function_name: str = "sagemaker-studio-portal-local",
        region: str = REGION,
        methods: Sequence[str] | None = None,
    ) -> None:
        stage_prefix = stage_prefix.rstrip("/")
        if stage_prefix and not stage_prefix.startswith("/"):
            stage_prefix = "/" + stage_prefix
        self.stage_prefix = stage_prefix
        self.stage = stage or (stage_prefix.strip("/") or "local")
        self.account_id = account_id
        self.api_id = api_id
        self.binary_media_types = tuple(binary_media_types)
        self.timeout_seconds = timeout_seconds
        self.function_timeout_seconds = function_timeout_seconds
        self.function_name = function_name
        self.function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.methods = None if methods is None else {m.upper() for m in methods}
        self._handler_spec = handler
        self._handler: Handler | None = None
        self._container = threading.Lock()  # one invocation at a time, like one Lambda container

    # ---- request -> event --------------------------------------------------------------------------

    def build_event(self, environ: dict[str, Any], body: bytes) -> dict[str, Any] | None:
        """The proxy event for a WSGI request, or None when the path is outside ``stage_prefix``."""
        full_path = _wsgi_str(environ.get("PATH_INFO", "")) or "/"
        path = full_path
        if self.stage_prefix:
            if full_path != self.stage_prefix and not full_path.startswith(self.stage_prefix + "/"):
                return None
            path = full_path[len(self.stage_prefix) :] or "/"
        resource = "/" if path == "/" else "/{proxy+}"
        method = environ.get("REQUEST_METHOD", "GET")
        source_ip = environ.get("REMOTE_ADDR", "127.0.0.1")

        pairs = self._headers(environ, source_ip)
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in pairs:
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        lower = {k.lower(): v for k, v in headers.items()}
        host = lower.get("host", f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '')}")

        query_pairs = parse_qsl(_wsgi_str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
        query: dict[str, str] | None = None
        multi_query: dict[str, list[str]] | None = None
        if query_pairs:
            query, multi_query = {}, {}
            for name, value in query_pairs:
                query[name] = value  # API Gateway keeps the last value of a repeated key
                multi_query.setdefault(name, []).append(value)

        event_body: str | None = None
        is_base64 = False
        if body:
            content_type = lower.get("content-type", "").split(";")[0].strip().lower()
            binary = any(fnmatch.fnmatch(content_type, pattern.lower()) for pattern in self.binary_media_types)
            if not binary:
                try:
                    event_body = body.decode("utf-8")
                except UnicodeDecodeError:
                    binary = True
            if binary:
                event_body, is_base64 = base64.b64encode(body).decode("ascii"), True

        now = datetime.now(UTC)
        request_id = str(uuid.uuid4())
        return {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": None if resource == "/" else {"proxy": path[1:]},
            "stageVariables": None,
            "requestContext": {
                "accountId": self.account_id,
                "apiId": self.api_id,
                "domainName": host,
                "domainPrefix": host.split(".")[0],
                "extendedRequestId": base64.b32encode(uuid.uuid4().bytes[:10]).decode("ascii").rstrip("="),
                "httpMethod": method,
                "identity": {
                    "accessKey": None,
                    "accountId": None,
                    "caller": None,
                    "cognitoAuthenticationProvider": None,
                    "cognitoAuthenticationType": None,
                    "cognitoIdentityId": None,
                    "cognitoIdentityPoolId": None,
                    "principalOrgId": None,
                    "sourceIp": source_ip,
                    "user": None,
                    "userAgent": lower.get("user-agent"),
                    "userArn": None,
                },
                "path": self.stage_prefix + path,  # "/prod" alone arrives as path "/" and "/prod/"
                "protocol": environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "requestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "resourceId": "local0",
                "resourcePath": resource,
                "stage": self.stage,
            },
            "body": event_body,
            "isBase64Encoded": is_base64,
        }

    @staticmethod
    def _headers(environ: dict[str, Any], source_ip: str) -> list[tuple[str, str]]:
        raw = environ.get(RAW_HEADERS_KEY)
        if raw is None:  # not served by local._http: rebuild names from the WSGI keys
            raw = []
            for key, value in environ.items():
                if key.startswith("HTTP_"):
                    name = "-".join(part.capitalize() for part in key[5:].split("_"))
                    raw.extend((name, part.strip()) for part in str(value).split(","))
                elif key in _SPECIAL_WSGI_HEADERS and value:
                    raw.append((_SPECIAL_WSGI_HEADERS[key], str(value)))
        forwarded_for = [v for k, v in raw if k.lower() == "x-forwarded-for"]
        pairs = [(k, v) for k, v in raw if k.lower() not in _ADDED_HEADERS]
        pairs.append(("X-Forwarded-For", ", ".join([*forwarded_for, source_ip])))
        pairs.append(("X-Forwarded-Port", str(environ.get("SERVER_PORT", ""))))
        pairs.append(("X-Forwarded-Proto", "http"))
        return pairs

    def load(self) -> Handler:
        """Import the handler now (the "init phase"); it otherwise happens on the first request."""
        with self._container:
            if self._handler is None:
                self._handler = resolve_handler(self._handler_spec)
            return self._handler

    # ---- invocation ----------------------------------------------------------------------------------

    def invoke(self, event: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        """Run the handler as API Gateway would and return (status, headers, body) for the client."""
        request_id = event["requestContext"]["requestId"]
        outcome: dict[str, Any] = {}

        def run() -> None:
            with self._container:
                try:
                    if self._handler is None:
                        self._handler = resolve_handler(self._handler_spec)
                    context = LambdaContext(
                        aws_request_id=request_id,
                        function_name=self.function_name,
                        invoked_function_arn=self.function_arn,
                        deadline=time.monotonic() + self.function_timeout_seconds,
                    )
                    outcome["result"] = self._handler(event, context)
                except BaseException as error:  # Lambda reports any failure, SystemExit included, as 502
                    outcome["error"] = error

        worker = threading.Thread(target=run, name=f"lambda-{request_id[:8]}", daemon=True)
        worker.start()
        worker.join(self.timeout_seconds)
        if worker.is_alive():
            log.error("handler did not answer within %.0f s: 504 (request %s)", self.timeout_seconds, request_id)
            return _gateway_error(504, "Endpoint request timed out", request_id)
        if "error" in outcome:
            error = outcome["error"]
            log.error("handler raised %s: 502 (request %s)", type(error).__name__, request_id, exc_info=error)
            return _gateway_error(502, "Internal server error", request_id)
        try:
            return _http_response(outcome.get("result"), request_id)
        except (TypeError, ValueError, binascii.Error) as error:
            log.error("malformed Lambda proxy response (%s): 502 (request %s)", error, request_id)
            return _gateway_error(502, "Internal server error", request_id)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data(cache=False)
        event = self.build_event(environ, body)
        if event is None:
            status, headers, payload = _gateway_error(403, "Forbidden", str(uuid.uuid4()), "ForbiddenException")
        elif self.methods is not None and event["httpMethod"] not in self.methods:
            # What API Gateway answers for a method the REST API does not define.
            status, headers, payload = _gateway_error(
                403, "Missing Authentication Token", str(uuid.uuid4()), "MissingAuthenticationTokenException"
            )
        else:
            status, headers, payload = self.invoke(event)
        if environ.get("REQUEST_METHOD") == "HEAD":
            payload = b""
        start_response(f"{status} {_reason(status)}", [*headers, ("Content-Length", str(len(payload)))])
        return [payload]


def _wsgi_str(value: str) -> str:
    """WSGI carries paths and queries as latin-1 decoded bytes; get the UTF-8 text back."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _http_response(result: Any, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    if not isinstance(result, dict):
        raise TypeError(f"the handler returned {type(result).__name__}, not a dict")
    status = result.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError("statusCode must be an integer HTTP status")
    single = {} if result.get("headers") is None else result["headers"]
    multi = {} if result.get("multiValueHeaders") is None else result["multiValueHeaders"]
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise TypeError("headers and multiValueHeaders must be objects")
    headers: list[tuple[str, str]] = []
    for name, values in multi.items():
        if not isinstance(values, list):
            raise TypeError("multiValueHeaders values must be lists")
        headers.extend((str(name), _header_value(v)) for v in values)
    # API Gateway merges both maps; a pair present in both appears once.
    seen = {(k.lower(), v) for k, v in headers}
    headers.extend(
        (str(k), _header_value(v)) for k, v in single.items() if (str(k).lower(), _header_value(v)) not in seen
    )
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.append(("x-amzn-RequestId", request_id))
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise TypeError("body must be a string")
    elif result.get("isBase64Encoded"):
        payload = base64.b64decode(body, validate=True)
    else:
        payload = body.encode("utf-8")
    return status, headers, payload


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if "\r" in text or "\n" in text:
        raise ValueError("header values must not contain line breaks")
    return text


def _gateway_error(
    status: int, message: str, request_id: str, error_type: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return status, headers, json.dumps({"message": message}).encode()


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
