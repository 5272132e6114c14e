"""Request and response helpers for the routes: the resolver, cookies, query parameters, the portal's own URL,
redirects and pages, and the event shape API Gateway's REST proxy integration sends."""

from __future__ import annotations

import os
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from portal import deadline, i18n, runtime
from portal.config import BY_ENV, ConfigError, is_loopback_host, parse_languages, read_setting
from portal.errors import BadRequest, PortalError
from portal.i18n import N_
from portal.links import deep_link, parse_launch_request
from portal.pages import helpdesk_link, security_headers
from portal.pages import shared as pages

# debug=False whatever POWERTOOLS_DEV says: the resolver's debug mode prints every event, with its
# authorization code and cookies, to stdout (observability.warn_about_debug_switches says so at start-up).
app = APIGatewayRestResolver(debug=False)

HTML = "text/html; charset=utf-8"
MAX_PARAM_LENGTH = 2048
MAX_RETURN_PATH_LENGTH = 1024
# Path segments a browser resolves as "." or ".." (the WHATWG URL standard's single- and double-dot segments).
_DOT_SEGMENTS = frozenset({".", "%2e", "..", ".%2e", "%2e.", "%2e%2e"})
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


# -- request helpers ------------------------------------------------------------------------------
def request_cookies() -> dict[str, str]:
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


def query(name: str) -> str | None:
    value = (app.current_event.query_string_parameters or {}).get(name)
    if value is not None and len(value) > MAX_PARAM_LENGTH:
        raise BadRequest(f"query parameter {name} is too long", message=N_("The link is too long."))
    return value


def request_id() -> str:
    return str((app.current_event.raw_event.get("requestContext") or {}).get("requestId") or "")


def base_url() -> str:
    """The portal's public URL: configured, or derived from the request (stage or base path included)."""
    settings = runtime.get().settings
    if settings.base_url:
        return settings.base_url
    event = app.current_event.raw_event
    context = event.get("requestContext") or {}
    host = str(context.get("domainName") or app.current_event.headers.get("host") or "")
    if not _HOST.fullmatch(host):
        raise BadRequest("missing or malformed host")
    full_path, path = str(context.get("path") or ""), str(event.get("path") or "")
    prefix = full_path[: -len(path)] if path and full_path.endswith(path) else ""
    prefix = prefix.rstrip("/")
    proto = (app.current_event.headers.get("x-forwarded-proto") or "https").lower()
    hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    scheme = "http" if proto == "http" and is_loopback_host(hostname) else "https"
    return f"{scheme}://{host}{prefix}"


def safe_base_url() -> str:
    try:
        return base_url()
    except PortalError:
        return ""


def safe_return_path(candidate: str | None) -> str:
    """Only ever a path of the portal itself, in ASCII (a browser sends a link percent-encoded; the limit is then one
    of bytes, which bounds the sign-in cookie): never a scheme, another host, a control character, or a dot segment
    (the browser would resolve ``/../other-stage/`` above the portal's base path)."""
    if (not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\"))
            or len(candidate) > MAX_RETURN_PATH_LENGTH or not candidate.isascii()
            or any(ord(ch) < 0x21 or ord(ch) == 0x7F or ch == "\\" for ch in candidate)):
        return "/"
    path = candidate.split("?", 1)[0].split("#", 1)[0]
    if any(segment.lower() in _DOT_SEGMENTS for segment in path.split("/")):
        return "/"
    return candidate


def current_path_and_query() -> str:
    event = app.current_event
    query = event.multi_value_query_string_parameters or {}
    pairs = [(key, value) for key, values in query.items() for value in values or []]
    encoded = urlencode(pairs, quote_via=quote, safe="/")
    return f"{event.path}?{encoded}" if encoded else event.path


# -- responses ------------------------------------------------------------------------------------
def new_cookie(name: str, value: str, max_age: int) -> Cookie:
    return Cookie(name=name, value=value, path="/", secure=True, http_only=True, same_site=SameSite.LAX_MODE,
                  max_age=max_age)


def expired_cookie(name: str) -> Cookie:
    return new_cookie(name, "", -1)


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response:
    headers = dict(security_headers())
    headers["Location"] = location
    return Response(status_code=HTTPStatus.FOUND, headers=headers, cookies=cookies or [])


def page_language() -> str:
    """The reader's language (Accept-Language) among those offered. A page rendered before the runtime is built,
    or because it cannot be, reads PORTAL_LANGUAGES itself, and offers every shipped language if it is invalid
    (the misconfiguration page names it)."""
    built = runtime.current()
    if built is not None:
        offered = built.settings.languages
    else:
        try:
            offered = parse_languages(os.environ)
        except ConfigError:
            offered = i18n.SHIPPED_LANGUAGES
    headers = app.current_event.multi_value_headers or {}
    sent = [value for name, listed in headers.items() if name.lower() == "accept-language" for value in listed or []]
    return i18n.negotiate(",".join(sent) or app.current_event.headers.get("accept-language"), offered)


def page_settings() -> tuple[str, str | None]:
    """PORTAL_TITLE and PORTAL_HELPDESK: from the built runtime, or, when the configuration is broken (the very
    page that needs the helpdesk), read on their own, each falling back to its default when it is unreadable."""
    built = runtime.current()
    if built is not None:
        return built.settings.title, built.settings.helpdesk
    values = []
    for name in ("PORTAL_TITLE", "PORTAL_HELPDESK"):
        try:
            values.append(read_setting(os.environ, BY_ENV[name]))
        except ConfigError:
            values.append(BY_ENV[name].default)
    return values[0], values[1]


def retry_url(base: str) -> str:
    """Where "Try again", "Sign in again" and "Go back" lead: the link the person opened (validated as at `/`),
    or where the sign-in being completed was headed (routes put it in the request's context); else `/`."""
    return_to = app.context.get("return_to")
    if return_to:
        return f"{base}{safe_return_path(return_to)}"
    if app.current_event.path in ("/", "/status"):
        try:
            request = parse_launch_request(app.current_event.multi_value_query_string_parameters)
        except PortalError:
            return f"{base}/"
        return deep_link(base, request)
    return f"{base}/"


def page(template: str, status: int = HTTPStatus.OK, cookies: list[Cookie] | None = None, **context: Any) -> Response:
    language = page_language()
    base = safe_base_url()
    title, helpdesk = page_settings()
    # A page answered by /callback or /login shows the address the person opened, not the spent callback URL.
    address = retry_url(base) if base and app.current_event.path in ("/callback", "/login") else None
    body = pages().render(template, language, base_url=base, request_id=request_id(), portal_title=title,
                          helpdesk=helpdesk_link(helpdesk), retry_url=retry_url(base), address=address, **context)
    deadline.pages_ready()
    # Vary: the same URL is a different page in another language (nothing caches these pages: no-store).
    headers = {**security_headers(), "Content-Language": language, "Vary": "Accept-Language"}
    return Response(status_code=status, content_type=HTML, body=body, headers=headers, cookies=cookies or [])


def _is_text(value: Any) -> bool:
    """A str UTF-8 can carry: JSON may hold a lone surrogate (``\\ud800``), which no encoder further on would take."""
    if not isinstance(value, str):
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _is_str_map(value: Any, multi: bool) -> bool:
    if value is None:
        return True
    if not isinstance(value, dict):
        return False
    if multi:
        return all(_is_text(key) and isinstance(items, list) and all(_is_text(item) for item in items)
                   for key, items in value.items())
    return all(_is_text(key) and _is_text(item) for key, item in value.items())


def is_rest_api_event(event: Any) -> bool:
    """The shape API Gateway's REST proxy integration sends; anything else is refused before routing."""
    if not isinstance(event, dict) or not _is_text(event.get("path")) or not isinstance(event.get("httpMethod"), str):
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
                context.get(key) is None or _is_text(context.get(key))
                for key in ("path", "domainName", "requestId", "stage")))))
