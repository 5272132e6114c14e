"""API Gateway (REST) entry point: parse the request, call one piece of logic, map the result.

Routes: GET / (launch), GET /callback (OIDC redirect URI), GET /logout, GET /health.
"""

from __future__ import annotations

import hmac
import re
import traceback
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from portal import runtime
from portal.config import is_loopback_host
from portal.errors import BadRequest, PortalError, SignInCancelled, SignInFailed
from portal.identity import identity_from_claims, profile_slug
from portal.observability import logger, metrics, tracer
from portal.pages import Pages
from portal.runtime import SESSION_COOKIE, TRANSACTION_COOKIE, TRANSACTION_TTL_SECONDS

app = APIGatewayRestResolver()

HTML = "text/html; charset=utf-8"
MAX_PARAM_LENGTH = 2048
MAX_RETURN_PATH_LENGTH = 1024
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_OAUTH_PARAM = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


@cache
def pages() -> Pages:
    return Pages()


# -- request helpers ------------------------------------------------------------------------------
def _cookies() -> dict[str, str]:
    headers = app.current_event.multi_value_headers or {}
    values = [value for name, listed in headers.items() if name.lower() == "cookie" for value in listed or []]
    if not values:
        single = app.current_event.headers.get("cookie")
        values = [single] if single else []
    jar: dict[str, str] = {}
    for header in values:
        for pair in header.split(";"):
            name, sep, value = pair.strip().partition("=")
            if sep and name and name not in jar:
                jar[name] = value.strip()
    return jar


def _query(name: str) -> str | None:
    value = (app.current_event.query_string_parameters or {}).get(name)
    if value is not None and len(value) > MAX_PARAM_LENGTH:
        raise BadRequest(f"query parameter {name} is too long", message="The link is too long.")
    return value


def _request_id() -> str:
    return str((app.current_event.raw_event.get("requestContext") or {}).get("requestId") or "")


def base_url() -> str:
    """The portal's public URL: configured, or derived from the request (stage or base path included)."""
    settings = runtime.get().settings
    if settings.base_url:
        return settings.base_url
    event = app.current_event.raw_event
    context = event.get("requestContext") or {}
    host = str(context.get("domainName") or app.current_event.headers.get("host") or "")
    if not _HOST.match(host):
        raise BadRequest("missing or malformed host")
    full_path, path = str(context.get("path") or ""), str(event.get("path") or "")
    prefix = full_path[: -len(path)] if path and full_path.endswith(path) else ""
    prefix = prefix.rstrip("/")
    proto = (app.current_event.headers.get("x-forwarded-proto") or "https").lower()
    hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    scheme = "http" if proto == "http" and is_loopback_host(hostname) else "https"
    return f"{scheme}://{host}{prefix}"


def _safe_base_url() -> str:
    try:
        return base_url()
    except PortalError:
        return ""


def safe_return_path(candidate: str | None) -> str:
    """Only ever a path of the portal itself: never a scheme, another host, or a control character."""
    if (not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\"))
            or len(candidate) > MAX_RETURN_PATH_LENGTH
            or any(ord(ch) < 0x21 or ord(ch) == 0x7F or ch == "\\" for ch in candidate)):
        return "/"
    return candidate


def _current_path_and_query() -> str:
    event = app.current_event
    query = event.multi_value_query_string_parameters or {}
    from urllib.parse import urlencode

    encoded = urlencode([(key, value) for key, values in query.items() for value in values or []])
    return f"{event.path}?{encoded}" if encoded else event.path


# -- responses ------------------------------------------------------------------------------------
def _cookie(name: str, value: str, max_age: int) -> Cookie:
    return Cookie(name=name, value=value, path="/", secure=True, http_only=True, same_site=SameSite.LAX_MODE,
                  max_age=max_age)


def _expired(name: str) -> Cookie:
    return _cookie(name, "", -1)


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response:
    headers = pages().security_headers()
    headers["Location"] = location
    return Response(status_code=HTTPStatus.FOUND, headers=headers, cookies=cookies or [])


def page(template: str, status: int = HTTPStatus.OK, cookies: list[Cookie] | None = None, **context: Any) -> Response:
    body = pages().render(template, base_url=_safe_base_url(), request_id=_request_id(), **context)
    return Response(status_code=status, content_type=HTML, body=body, headers=pages().security_headers(),
                    cookies=cookies or [])


# -- routes ---------------------------------------------------------------------------------------
@app.get("/health")
def health() -> Response:
    return Response(status_code=HTTPStatus.OK, content_type="application/json", body='{"status":"ok"}',
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@app.get("/")
def launch() -> Response:
    portal = runtime.get()
    session = portal.session_sealer.open(_cookies().get(SESSION_COOKIE))
    if session is None or session.get("iss") != portal.settings.oidc_issuer:
        return start_sign_in(_current_path_and_query())
    identity = str(session.get("sub", ""))
    target = portal.default_target
    try:
        outcome = portal.launcher.launch(identity, target)
    except PortalError as error:
        _record_launch(identity, target.domain_id, error.reason, error.page_context.get("profile"))
        error.page_context.setdefault("identity", identity)
        raise
    _record_launch(identity, target.domain_id, "launched", outcome.profile)
    # The presigned URL is a bearer credential: it goes in Location and nowhere else.
    return redirect(outcome.url)


def start_sign_in(return_to: str) -> Response:
    portal = runtime.get()
    request = portal.oidc.authorization_request(f"{base_url()}/callback")
    transaction = portal.transaction_sealer.seal(
        {"state": request.state, "nonce": request.nonce, "verifier": request.code_verifier,
         "return_to": safe_return_path(return_to)},
        TRANSACTION_TTL_SECONDS,
    )
    metrics.add_metric(name="SignInStarted", unit=MetricUnit.Count, value=1)
    return redirect(request.url, cookies=[_cookie(TRANSACTION_COOKIE, transaction, TRANSACTION_TTL_SECONDS)])


@app.get("/callback")
def callback() -> Response:
    portal = runtime.get()
    error = _query("error")
    if error is not None:
        if error == "access_denied":
            raise SignInCancelled("the identity provider answered access_denied", cancelled=True)
        raise SignInFailed("the identity provider answered with an error")
    code, state = _query("code"), _query("state")
    if not code or not state or not _OAUTH_PARAM.match(code) or not _OAUTH_PARAM.match(state):
        raise SignInFailed("callback without a usable code and state",
                           message="The sign-in response was incomplete.")
    transaction = portal.transaction_sealer.open(_cookies().get(TRANSACTION_COOKIE))
    if transaction is None:
        raise SignInFailed("no valid sign-in transaction cookie",
                           message="This sign-in was started in another browser or has expired.")
    if not hmac.compare_digest(str(transaction.get("state", "")).encode(), state.encode()):
        raise SignInFailed("state does not match the transaction",
                           message="This sign-in response does not belong to the sign-in you started.")
    id_token = portal.oidc.exchange_code(code, f"{base_url()}/callback", str(transaction.get("verifier", "")))
    claims = portal.oidc.verify_id_token(id_token, str(transaction.get("nonce", "")))
    identity = identity_from_claims(claims, portal.settings.identity_claim)
    session = portal.session_sealer.seal({"sub": identity, "iss": portal.settings.oidc_issuer},
                                         portal.settings.session_ttl_seconds)
    logger.info("signed in", extra={"identity": identity})
    metrics.add_metric(name="SignIns", unit=MetricUnit.Count, value=1)
    return_to = safe_return_path(str(transaction.get("return_to", "/")))
    return redirect(f"{base_url()}{return_to}", cookies=[
        _cookie(SESSION_COOKIE, session, portal.settings.session_ttl_seconds),
        _expired(TRANSACTION_COOKIE),
    ])


@app.get("/logout")
def logout() -> Response:
    portal = runtime.get()
    cleared = [_expired(SESSION_COOKIE), _expired(TRANSACTION_COOKIE)]
    idp_logout = portal.oidc.logout_url(f"{base_url()}/")
    if idp_logout:
        return redirect(idp_logout, cookies=cleared)
    return page("signed_out.html", cookies=cleared)


# -- errors ---------------------------------------------------------------------------------------
@app.exception_handler(PortalError)
def portal_error(error: PortalError) -> Response:
    logger.warning("request refused", extra={"reason": error.reason, "detail": error.detail})
    with single_metric(name="Refusals", unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as metric:
        metric.add_dimension(name="Reason", value=error.reason)
    context = dict(error.page_context)
    if "identity" in context and "profile" not in context:
        context["profile"] = _profile_or_blank(str(context["identity"]))
    return page(error.page, status=error.status, **context)


@app.exception_handler(Exception)
def unexpected_error(error: Exception) -> Response:
    # Only the type and the code locations: an exception's message could quote a credential.
    frames = [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}:{frame.name}"
              for frame in traceback.extract_tb(error.__traceback__)]
    logger.error("unexpected error", extra={"error_type": type(error).__name__, "frames": frames})
    metrics.add_metric(name="UnexpectedErrors", unit=MetricUnit.Count, value=1)
    return page("error_unavailable.html", status=HTTPStatus.INTERNAL_SERVER_ERROR,
                message="Something went wrong on our side.")


@app.not_found
def not_found(_: Exception) -> Response:
    return page("not_found.html", status=HTTPStatus.NOT_FOUND)


def _profile_or_blank(identity: str) -> str:
    try:
        return profile_slug(identity)
    except PortalError:
        return ""


def _record_launch(identity: str, domain_id: str, outcome: str, profile: Any) -> None:
    logger.info("launch", extra={"identity": identity, "profile": profile, "domain_id": domain_id,
                                 "outcome": outcome})
    metrics.add_metric(name="Launches" if outcome == "launched" else "LaunchFailures",
                       unit=MetricUnit.Count, value=1)


# -- entry point ----------------------------------------------------------------------------------
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: Any) -> dict:
    if not isinstance(event, dict) or not isinstance(event.get("path"), str) or \
            not isinstance(event.get("httpMethod"), str):
        return {"statusCode": HTTPStatus.BAD_REQUEST, "headers": {"Content-Type": "text/plain"},
                "body": "Bad request"}
    return app.resolve(event, context)
