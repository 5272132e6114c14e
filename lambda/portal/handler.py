"""API Gateway (REST) entry point: parse the request, call one piece of logic, map the result.

Routes: GET / (launch, chooser, deep links), GET /callback (OIDC redirect URI), GET /status (provisioning
poll), GET /logout, GET /signed-out (where the IdP returns after logout), GET /health.
"""

from __future__ import annotations

import hmac
import re
import traceback
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from portal import runtime
from portal.config import is_loopback_host
from portal.errors import BadRequest, PortalError, ProfilePreparing, SignInCancelled, SignInFailed
from portal.identity import identity_from_claims, owner_value
from portal.launch import Person
from portal.links import APP_TYPES, LaunchRequest, deep_link, parse_launch_request
from portal.observability import logger, metrics, trace_handler
from portal.pages import Pages, security_headers
from portal.runtime import SESSION_COOKIE, TRANSACTION_COOKIE, TRANSACTION_TTL_SECONDS
from portal.targets import Target, allowed_targets, choose_target, parse_groups

app = APIGatewayRestResolver()

HTML = "text/html; charset=utf-8"
MAX_PARAM_LENGTH = 2048
MAX_RETURN_PATH_LENGTH = 1024
PREPARING_REFRESH_SECONDS = 3
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
    pairs = [(key, value) for key, values in query.items() for value in values or []]
    encoded = urlencode(pairs, quote_via=quote, safe="/")
    return f"{event.path}?{encoded}" if encoded else event.path


# -- responses ------------------------------------------------------------------------------------
def _cookie(name: str, value: str, max_age: int) -> Cookie:
    return Cookie(name=name, value=value, path="/", secure=True, http_only=True, same_site=SameSite.LAX_MODE,
                  max_age=max_age)


def _expired(name: str) -> Cookie:
    return _cookie(name, "", -1)


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response:
    headers = dict(security_headers())
    headers["Location"] = location
    return Response(status_code=HTTPStatus.FOUND, headers=headers, cookies=cookies or [])


def page(template: str, status: int = HTTPStatus.OK, cookies: list[Cookie] | None = None, **context: Any) -> Response:
    body = pages().render(template, base_url=_safe_base_url(), request_id=_request_id(), **context)
    return Response(status_code=status, content_type=HTML, body=body, headers=dict(security_headers()),
                    cookies=cookies or [])


# -- routes ---------------------------------------------------------------------------------------
@app.get("/health")
def health() -> Response:
    return Response(status_code=HTTPStatus.OK, content_type="application/json", body='{"status":"ok"}',
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _signed_in_person() -> Person | None:
    portal = runtime.get()
    session = portal.session_sealer.open(_cookies().get(SESSION_COOKIE))
    if session is None or session.get("iss") != portal.settings.oidc_issuer or not isinstance(session.get("sub"), str):
        return None
    claims = session.get("claims") if isinstance(session.get("claims"), dict) else {}
    groups = session.get("groups") if isinstance(session.get("groups"), list) else []
    return Person(identity=session["sub"], owner=owner_value(session["sub"]), claims=claims,
                  groups=tuple(str(group) for group in groups))


def _launch_request() -> LaunchRequest:
    return parse_launch_request(app.current_event.multi_value_query_string_parameters)


@app.get("/")
def launch() -> Response:
    request = _launch_request()
    person = _signed_in_person()
    if person is None:
        return start_sign_in(_current_path_and_query())
    portal = runtime.get()
    target: Target | None = None
    try:
        target = choose_target(portal.settings.targets, person, request)
        if target is None:
            return chooser(person)
        outcome = portal.launcher.launch(person, target, request.space, request.landing_uri())
    except ProfilePreparing as preparing:
        _record_launch(person, target, preparing.reason, preparing.page_context.get("profile"), request.space)
        return preparing_page(preparing, request, target)
    except PortalError as error:
        _record_launch(person, target, error.reason, error.page_context.get("profile"), request.space)
        error.page_context.setdefault("identity", person.identity)
        raise
    _record_launch(person, target, "launched", outcome.profile, request.space)
    # The presigned URL is a bearer credential: it goes in Location and nowhere else.
    return redirect(outcome.url)


@app.get("/status")
def status() -> Response:
    """Polled by the "preparing" page until a newly created profile is in service."""
    request = _launch_request()
    person = _signed_in_person()
    if person is None:
        return start_sign_in(_current_path_and_query())
    portal = runtime.get()
    target = choose_target(portal.settings.targets, person, request)
    if target is None:
        return redirect(f"{base_url()}/")
    try:
        portal.launcher.check_profile(person, target, target.profile_name(person.claims))
    except ProfilePreparing as preparing:
        return preparing_page(preparing, request, target)
    except PortalError as error:
        error.page_context.setdefault("identity", person.identity)
        raise
    return redirect(deep_link(base_url(), LaunchRequest(target.id, request.space, request.app, request.path)))


def preparing_page(preparing: ProfilePreparing, request: LaunchRequest, target: Target) -> Response:
    pinned = LaunchRequest(target.id, request.space, request.app, request.path)
    status_url = f"{base_url()}/status?{pinned.query()}"
    return page(preparing.page, status=HTTPStatus.ACCEPTED, status_url=status_url,
                refresh_seconds=PREPARING_REFRESH_SECONDS, **preparing.page_context)


def chooser(person: Person) -> Response:
    portal = runtime.get()
    base = base_url()
    entries = []
    for target in allowed_targets(portal.settings.targets, person.groups):
        entry: dict[str, Any] = {"id": target.id, "label": target.label, "spaces": [], "note": None,
                                 "link": deep_link(base, LaunchRequest(target=target.id))}
        try:
            entry["profile"] = target.profile_name(person.claims)
            for space in portal.launcher.spaces_for(target, entry["profile"], person):
                app_type = space.app_type if space.app_type in APP_TYPES else None
                entry["spaces"].append({"name": space.name, "shared": space.shared, "app_type": space.app_type,
                                        "link": deep_link(base, LaunchRequest(target.id, space.name, app_type))})
        except PortalError:
            entry["note"] = "Spaces can't be listed right now; the link above still opens Studio."
        entries.append(entry)
    return page("chooser.html", identity=person.identity, entries=entries)


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
    identity = identity_from_claims(claims, portal.settings.identity_claim,
                                    email_must_be_verified=portal.settings.email_must_be_verified)
    session = portal.session_sealer.seal(session_payload(portal.settings, identity, claims),
                                         portal.settings.session_ttl_seconds)
    logger.info("signed in", extra={"identity": identity})
    metrics.add_metric(name="SignIns", unit=MetricUnit.Count, value=1)
    return_to = safe_return_path(str(transaction.get("return_to", "/")))
    return redirect(f"{base_url()}{return_to}", cookies=[
        _cookie(SESSION_COOKIE, session, portal.settings.session_ttl_seconds),
        _expired(TRANSACTION_COOKIE),
    ])


def session_payload(settings, identity: str, claims: dict[str, Any]) -> dict[str, Any]:
    """Only what launches need: the identity, the claims profile templates use, the groups targets name."""
    used_claims = {name for target in settings.targets for name in target.claims_used()}
    named_groups = {group for target in settings.targets for group in target.groups}
    groups = [group for group in parse_groups(claims.get(settings.groups_claim)) if group in named_groups]
    return {"sub": identity, "iss": settings.oidc_issuer, "groups": sorted(set(groups)),
            "claims": {name: claims[name] for name in sorted(used_claims)
                       if isinstance(claims.get(name), str) and len(claims[name]) <= 256}}


@app.get("/logout")
def logout() -> Response:
    portal = runtime.get()
    cleared = [_expired(SESSION_COOKIE), _expired(TRANSACTION_COOKIE)]
    idp_logout = portal.oidc.logout_url(f"{base_url()}/signed-out")
    if idp_logout:
        return redirect(idp_logout, cookies=cleared)
    return page("signed_out.html", cookies=cleared)


@app.get("/signed-out")
def signed_out() -> Response:
    return page("signed_out.html", cookies=[_expired(SESSION_COOKIE)])


# -- errors ---------------------------------------------------------------------------------------
@app.exception_handler(PortalError)
def portal_error(error: PortalError) -> Response:
    logger.warning("request refused", extra={"reason": error.reason, "detail": error.detail})
    with single_metric(name="Refusals", unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as metric:
        metric.add_dimension(name="Reason", value=error.reason)
    # A failed or cancelled sign-in is over: its transaction cookie has nothing left to protect.
    cookies = [_expired(TRANSACTION_COOKIE)] if app.current_event.path == "/callback" else []
    return page(error.page, status=error.status, cookies=cookies, **error.page_context)


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


def _record_launch(person: Person, target: Target | None, outcome: str, profile: Any, space: str | None) -> None:
    """The audit line: who, which profile in which domain, and what happened (never the URL)."""
    logger.info("launch", extra={"identity": person.identity, "profile": profile, "outcome": outcome,
                                 "target": target.id if target else None,
                                 "domain_id": target.domain_id if target else None, "space": space})
    name = {"launched": "Launches", ProfilePreparing.reason: "ProfilesPreparing"}.get(outcome, "LaunchFailures")
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


# -- entry point ----------------------------------------------------------------------------------
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@trace_handler
@metrics.log_metrics
def handler(event: dict, context: Any) -> dict:
    if not is_rest_api_event(event):
        return {"statusCode": HTTPStatus.BAD_REQUEST, "headers": {"Content-Type": "text/plain"},
                "body": "Bad request"}
    return app.resolve(event, context)


def _is_str_map(value: Any, multi: bool) -> bool:
    if value is None:
        return True
    if not isinstance(value, dict):
        return False
    if multi:
        return all(isinstance(key, str) and isinstance(items, list) and all(isinstance(item, str) for item in items)
                   for key, items in value.items())
    return all(isinstance(key, str) and isinstance(item, str) for key, item in value.items())


def is_rest_api_event(event: Any) -> bool:
    """The shape API Gateway's REST proxy integration sends; anything else is refused before routing."""
    if not isinstance(event, dict) or not isinstance(event.get("path"), str) or \
            not isinstance(event.get("httpMethod"), str):
        return False
    context = event.get("requestContext")
    return (_is_str_map(event.get("headers"), multi=False)
            and _is_str_map(event.get("multiValueHeaders"), multi=True)
            and _is_str_map(event.get("queryStringParameters"), multi=False)
            and _is_str_map(event.get("multiValueQueryStringParameters"), multi=True)
            and _is_str_map(event.get("pathParameters"), multi=False)
            and isinstance(event.get("body"), str | None)
            and isinstance(event.get("isBase64Encoded"), bool | None)
            and (context is None or (isinstance(context, dict) and all(
                isinstance(context.get(key), str | None) for key in ("path", "domainName", "requestId", "stage")))))
