"""The API Gateway adapter with a tiny fake handler: event shape, responses, errors, and what is never logged."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from local._http import LocalServer
from local.adapter import ApiGatewayAdapter, LambdaContext
from tests.support.http_client import Browser


class Recorder:
    """A handler that records (event, context) and answers with ``reply`` (or raises/sleeps)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], Any]] = []
        self.reply: Any = {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}
        self.raise_error: BaseException | None = None
        self.sleep = 0.0

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.calls.append((event, context))
        if self.sleep:
            time.sleep(self.sleep)
        if self.raise_error is not None:
            raise self.raise_error
        return self.reply

    @property
    def event(self) -> dict[str, Any]:
        return self.calls[-1][0]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def serve(adapter: ApiGatewayAdapter) -> LocalServer:
    return LocalServer(adapter, label="portal", quiet=False).start()


@pytest.fixture
def portal(recorder: Recorder) -> Iterator[str]:
    server = serve(ApiGatewayAdapter(recorder))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def staged(recorder: Recorder) -> Iterator[str]:
    server = serve(ApiGatewayAdapter(recorder, stage_prefix="/prod"))
    try:
        yield server.url
    finally:
        server.stop()


# ---- request -> event ------------------------------------------------------------------------------


def test_root_request_event(portal, recorder):
    # When
    before = int(time.time() * 1000)
    reply = Browser().get(f"{portal}/", headers=[("User-Agent", "test-agent/1.0")])

    # Then
    assert reply.status == 200 and reply.text == "ok"
    event, context = recorder.calls[-1]
    assert event["resource"] == "/"
    assert event["path"] == "/"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] is None
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    rc = event["requestContext"]
    host = portal.removeprefix("http://")
    assert uuid.UUID(rc["requestId"])
    assert (rc["stage"], rc["path"], rc["resourcePath"], rc["httpMethod"]) == ("local", "/", "/", "GET")
    assert rc["domainName"] == host
    assert rc["identity"]["sourceIp"] == "127.0.0.1"
    assert rc["identity"]["userAgent"] == "test-agent/1.0"
    assert before <= rc["requestTimeEpoch"] <= int(time.time() * 1000)
    assert rc["accountId"] == "123456789012" and rc["apiId"]
    assert event["headers"]["Host"] == host
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["http"]
    assert reply.header("x-amzn-RequestId") == rc["requestId"]
    # The context
    assert isinstance(context, LambdaContext)
    assert context.aws_request_id == rc["requestId"]
    assert context.function_name and context.memory_limit_in_mb == 256
    assert context.invoked_function_arn.startswith("arn:aws:lambda:us-east-1:123456789012:function:")
    assert 0 < context.get_remaining_time_in_millis() <= 30_000


def test_proxy_resource_and_path_parameters(portal, recorder):
    Browser().get(f"{portal}/deep/link/x%20y")
    event = recorder.event
    assert (event["resource"], event["path"]) == ("/{proxy+}", "/deep/link/x y")
    assert event["pathParameters"] == {"proxy": "deep/link/x y"}
    assert event["requestContext"]["resourcePath"] == "/{proxy+}"


def test_query_strings_with_repeated_keys(portal, recorder):
    Browser().get(f"{portal}/callback?code=abc&state=s1&a=1&a=2&empty=&sp=x%20y&plus=a+b&utf=%C3%A9")
    event = recorder.event
    assert event["queryStringParameters"] == {
        "code": "abc",
        "state": "s1",
        "a": "2",
        "empty": "",
        "sp": "x y",
        "plus": "a b",
        "utf": "é",
    }
    assert event["multiValueQueryStringParameters"]["a"] == ["1", "2"]
    assert event["multiValueQueryStringParameters"]["code"] == ["abc"]


def test_headers_keep_their_case_and_repeats(portal, recorder):
    Browser().get(
        f"{portal}/",
        headers=[("X-Custom-Thing", "one"), ("X-Custom-Thing", "two"), ("x-lower-case", "v"), ("Cookie", "a=1; b=2")],
    )
    event = recorder.event
    assert event["headers"]["X-Custom-Thing"] == "two"
    assert event["multiValueHeaders"]["X-Custom-Thing"] == ["one", "two"]
    assert event["headers"]["x-lower-case"] == "v"
    assert event["headers"]["Cookie"] == "a=1; b=2"


def test_forwarded_headers_are_set_by_the_gateway(portal, recorder):
    Browser().get(f"{portal}/", headers=[("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "203.0.113.9")])
    headers = recorder.event["headers"]
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    assert headers["X-Forwarded-Port"] == portal.rsplit(":", 1)[1]
    assert "x-forwarded-proto" not in {k for k in headers if k != "X-Forwarded-Proto"}


def test_text_body(portal, recorder):
    Browser().request("POST", f"{portal}/form", headers=[("Content-Type", "application/json")], body='{"é": 1}')
    assert recorder.event["body"] == '{"é": 1}'
    assert recorder.event["isBase64Encoded"] is False


def test_binary_body_is_base64(portal, recorder):
    payload = bytes(range(256))
    Browser().request("POST", f"{portal}/upload", headers=[("Content-Type", "application/octet-stream")], body=payload)
    assert recorder.event["isBase64Encoded"] is True
    assert base64.b64decode(recorder.event["body"]) == payload


def test_binary_media_types_force_base64(recorder):
    adapter = ApiGatewayAdapter(recorder, binary_media_types=["image/*"])
    Client(adapter).post("/img", data=b"GIF89a", headers={"Content-Type": "image/gif"})
    assert recorder.event["isBase64Encoded"] is True
    assert base64.b64decode(recorder.event["body"]) == b"GIF89a"


def test_stage_prefix(staged, recorder):
    # When
    Browser().get(f"{staged}/prod/callback?x=1")

    # Then
    event = recorder.event
    assert event["path"] == "/callback"
    assert event["requestContext"]["path"] == "/prod/callback"
    assert event["requestContext"]["stage"] == "prod"
    assert event["pathParameters"] == {"proxy": "callback"}


@pytest.mark.parametrize("path", ["/prod", "/prod/"])
def test_stage_root(staged, recorder, path):
    Browser().get(f"{staged}{path}")
    event = recorder.event
    assert (event["path"], event["resource"], event["requestContext"]["path"]) == ("/", "/", "/prod/")


@pytest.mark.parametrize("path", ["/", "/callback", "/production"])
def test_outside_the_stage_is_forbidden_without_invoking(staged, recorder, path):
    reply = Browser().get(f"{staged}{path}")
    assert reply.status == 403
    assert json.loads(reply.body) == {"message": "Forbidden"}
    assert recorder.calls == []


def test_works_under_any_wsgi_server(recorder):
    # Given: no raw headers from local._http, as under werkzeug's test client
    Client(ApiGatewayAdapter(recorder)).get("/x?a=1", headers={"X-Thing": "v", "Host": "portal.test"})
    event = recorder.event
    assert event["headers"]["X-Thing"] == "v"
    assert event["requestContext"]["domainName"] == "portal.test"
    assert event["queryStringParameters"] == {"a": "1"}


# ---- result -> response ----------------------------------------------------------------------------


def test_several_set_cookie_headers(portal, recorder):
    recorder.reply = {
        "statusCode": 302,
        "headers": {"Location": "/next", "Cache-Control": "no-store"},
        "multiValueHeaders": {"Set-Cookie": ["a=1; Path=/; HttpOnly", "b=2; Path=/; Secure"]},
        "body": "",
        "isBase64Encoded": False,
    }
    reply = Browser().get(f"{portal}/")
    assert reply.status == 302
    assert reply.all("Set-Cookie") == ["a=1; Path=/; HttpOnly", "b=2; Path=/; Secure"]
    assert reply.header("Location") == "/next"
    assert reply.header("Cache-Control") == "no-store"


def test_headers_and_multi_value_headers_merge(portal, recorder):
    recorder.reply = {
        "statusCode": 200,
        "headers": {"X-A": "1", "X-B": "single"},
        "multiValueHeaders": {"X-A": ["1"], "X-B": ["m1", "m2"]},
        "body": "x",
    }
    reply = Browser().get(f"{portal}/")
    assert reply.all("X-A") == ["1"]
    assert reply.all("X-B") == ["m1", "m2", "single"]


def test_base64_response_body(portal, recorder):
    recorder.reply = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(b"\x89PNG\x00\xff").decode(),
        "isBase64Encoded": True,
    }
    reply = Browser().get(f"{portal}/")
    assert reply.body == b"\x89PNG\x00\xff"
    assert reply.header("Content-Type") == "image/png"


def test_default_content_type_is_json(portal, recorder):
    recorder.reply = {"statusCode": 204}
    reply = Browser().get(f"{portal}/")
    assert reply.status == 204
    assert reply.header("Content-Type") == "application/json"


@pytest.mark.parametrize(
    "result",
    [
        None,
        "text",
        {"body": "no status"},
        {"statusCode": "200"},
        {"statusCode": 200, "headers": []},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "%%", "isBase64Encoded": True},
        {"statusCode": 200, "headers": {"X": "a\r\nInjected: 1"}},
    ],
)
def test_malformed_results_are_502(portal, recorder, result):
    recorder.reply = result
    reply = Browser().get(f"{portal}/")
    assert reply.status == 502
    assert json.loads(reply.body) == {"message": "Internal server error"}
    assert reply.header("Injected") is None


def test_handler_exception_is_502(portal, recorder):
    recorder.raise_error = RuntimeError("boom")
    reply = Browser().get(f"{portal}/")
    assert reply.status == 502
    assert json.loads(reply.body) == {"message": "Internal server error"}


def test_slow_handler_is_504(recorder):
    recorder.sleep = 0.5
    server = serve(ApiGatewayAdapter(recorder, timeout_seconds=0.1))
    try:
        reply = Browser().get(f"{server.url}/")
    finally:
        server.stop()
    assert reply.status == 504
    assert json.loads(reply.body) == {"message": "Endpoint request timed out"}


def test_methods_the_api_does_not_define_are_403(recorder):
    client = Client(ApiGatewayAdapter(recorder, methods=("GET",)))
    response = client.post("/callback", data="x")
    assert response.status_code == 403
    assert response.json == {"message": "Missing Authentication Token"}
    assert recorder.calls == []
    assert client.get("/callback").status_code == 200


def test_head_has_no_body(portal):
    reply = Browser().request("HEAD", f"{portal}/")
    assert reply.status == 200 and reply.body == b""


def test_handler_named_by_string_is_imported_at_first_request():
    adapter = ApiGatewayAdapter("tests.local.fake_handler:handler")
    response = Client(adapter).get("/hello?name=x")
    assert response.status_code == 200
    assert response.json == {"path": "/hello", "name": "x"}


def test_import_error_is_502_and_retried(caplog):
    adapter = ApiGatewayAdapter("tests.local.no_such_module:handler")
    with caplog.at_level(logging.ERROR, logger="local.adapter"):
        assert Client(adapter).get("/").status_code == 502
        assert Client(adapter).get("/").status_code == 502
    assert caplog.text.count("ModuleNotFoundError") >= 2


def test_invocations_do_not_overlap(recorder):
    import threading

    active, peak = [0], [0]
    lock = threading.Lock()

    def handler(event, context):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return {"statusCode": 200, "body": ""}

    server = serve(ApiGatewayAdapter(handler))
    try:
        threads = [threading.Thread(target=Browser().get, args=(f"{server.url}/",)) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    assert peak[0] == 1


# ---- never logged ------------------------------------------------------------------------------------


def test_secrets_in_requests_are_never_logged(portal, recorder, caplog):
    # Given: a failing handler and a request full of secrets
    recorder.raise_error = ValueError("boom")
    secrets = ["cookie-secret-value", "bearer-secret-value", "query-code-secret", "body-secret-value"]

    # When
    with caplog.at_level(logging.DEBUG):
        Browser().request(
            "POST",
            f"{portal}/callback?code=query-code-secret",
            headers=[
                ("Cookie", "s=cookie-secret-value"),
                ("Authorization", "Bearer bearer-secret-value"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body="password=body-secret-value",
        )

    # Then: the request line and the failure are logged, none of the secrets
    assert "POST /callback 502" in caplog.text
    assert "handler raised ValueError" in caplog.text
    for secret in secrets:
        assert secret not in caplog.text
