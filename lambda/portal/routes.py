"""The portal's routes: GET / (launch, chooser, deep links), GET /login (sign-in started by an SSO tile, OIDC
Core §4), GET /callback (OIDC redirect URI), GET /status (provisioning poll), GET /logout, GET /signed-out
(where the IdP returns after logout), GET /health, and the pages for errors. Each parses the request, calls one
piece of logic and maps the result."""

from __future__ import annotations

import hmac
import re
import time
import traceback
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.shared.cookies import Cookie

from portal import runtime, signin
from portal.aws import AwsError
from portal.config import Settings
from portal.errors import (
    BadRequest,
    ClientRejected,
    PortalError,
    ProfileNotFound,
    ProfileNotOwned,
    ProfilePreparing,
    ProfileRevoked,
    SignInCancelled,
    SignInFailed,
    for_aws,
)
from portal.i18n import N_
from portal.identity import identity_from_claims, owner_value
from portal.launch import Person
from portal.links import APP_TYPES, LaunchRequest, deep_link, launch_request_for, parse_launch_request
from portal.observability import logger, metrics
from portal.runtime import SESSION_COOKIE, TRANSACTION_TTL_SECONDS
from portal.targets import Target, allowed_targets, choose_target, parse_groups
from portal.web import (
    MAX_PARAM_LENGTH,
    MAX_RETURN_PATH_LENGTH,
    app,
    base_url,
    current_path_and_query,
    expired_cookie,
    new_cookie,
    page,
    query,
    redirect,
    request_cookies,
    safe_return_path,
)

PREPARING_CHECK_SECONDS = 3  # how often the preparing page's script asks /status
# Chooser entries whose link can work: Studio opens, a profile is created or awaited, or the check failed.
LINKABLE_STATES = ("open", "create", "preparing", "unknown")
_OAUTH_PARAM = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


# -- routes ---------------------------------------------------------------------------------------
@app.get("/health")
def health() -> Response:
    return Response(status_code=HTTPStatus.OK, content_type="application/json", body='{"status":"ok"}',
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _signed_in_person() -> Person | None:
    return _person(runtime.get().session_sealer.open(request_cookies().get(SESSION_COOKIE)))


def _person(session: dict[str, Any] | None) -> Person | None:
    portal = runtime.get()
    if session is None or session.get("iss") != portal.settings.oidc_issuer or not isinstance(session.get("sub"), str):
        return None
    raw_claims, raw_groups = session.get("claims"), session.get("groups")
    claims: dict[str, Any] = raw_claims if isinstance(raw_claims, dict) else {}
    groups: list[Any] = raw_groups if isinstance(raw_groups, list) else []
    return Person(identity=session["sub"], owner=owner_value(session["sub"]), claims=claims,
                  groups=tuple(str(group) for group in groups))


def _launch_request() -> LaunchRequest:
    return parse_launch_request(app.current_event.multi_value_query_string_parameters)


def _return_path(request: LaunchRequest) -> str:
    """Where a signed-out click comes back to after sign-in: the link as opened, or, when that is longer than a
    sign-in can carry, only what it asks for (a tracking tag such as utm_* or fbclid left behind)."""
    opened = current_path_and_query()
    if len(opened) <= MAX_RETURN_PATH_LENGTH:
        return opened
    asked = request.query()
    return f"{app.current_event.path}?{asked}" if asked else app.current_event.path


@app.get("/")
def launch() -> Response:
    request = _launch_request()
    person = _signed_in_person()
    if person is None:
        return start_sign_in(_return_path(request))
    return launch_for(person, request)


def launch_for(person: Person, request: LaunchRequest) -> Response:
    """The launch itself: the 302 into Studio, the chooser, or the page that explains why not (raised)."""
    portal = runtime.get()
    target: Target | None = None
    try:
        target = choose_target(portal.settings.targets, person, request)
        if target is None:
            return chooser(person)
        outcome = portal.launcher.launch(person, target, request.space, request.landing_uri())
    except ProfilePreparing as preparing:
        assert target is not None  # only the launcher prepares a profile, once the target is chosen
        _record_launch(person, target, preparing.reason, preparing.page_context.get("profile"), request.space)
        return preparing_page(preparing, request, target)
    except (PortalError, AwsError) as failure:
        error = _as_page(failure, person)
        _record_launch(person, target, error.reason, error.page_context.get("profile"), request.space)
        raise error from None
    _record_launch(person, target, "launched", outcome.profile, request.space)
    # The presigned URL is a bearer credential: it goes in Location and nowhere else.
    return redirect(outcome.url)


@app.get("/status")
def status() -> Response:
    """Polled by the "preparing" page until a newly created profile is in service."""
    request = _launch_request()
    person = _signed_in_person()
    if person is None:
        return start_sign_in(_return_path(request))
    portal = runtime.get()
    target = choose_target(portal.settings.targets, person, request)
    if target is None:
        return redirect(f"{base_url()}/")
    try:
        portal.launcher.check_profile(person, target, target.profile_name(person.claims))
    except ProfilePreparing as preparing:
        return preparing_page(preparing, request, target)
    except (PortalError, AwsError) as failure:
        raise _as_page(failure, person) from None
    return redirect(deep_link(base_url(), LaunchRequest(target.id, request.space, request.app, request.path)))


def preparing_page(preparing: ProfilePreparing, request: LaunchRequest, target: Target) -> Response:
    pinned = LaunchRequest(target.id, request.space, request.app, request.path)
    status_url = f"{base_url()}/status?{pinned.query()}"
    return page(preparing.page, status=HTTPStatus.ACCEPTED, status_url=status_url,
                check_seconds=PREPARING_CHECK_SECONDS, **preparing.page_context)


def chooser(person: Person) -> Response:
    portal = runtime.get()
    base = base_url()
    entries = []
    for target in allowed_targets(portal.settings.targets, person.groups):
        entry: dict[str, Any] = {"id": target.id, "label": target.label, "spaces": [], "spaces_unavailable": False,
                                 "link": None, "state": "unknown", "status": None}
        entries.append(entry)
        try:
            entry["profile"] = target.profile_name(person.claims)
        except PortalError:
            continue  # no usable profile name: nothing to open, and the entry says its state can't be checked
        # What opening it will do, checked without doing it; a link only where one can work.
        entry["state"], entry["status"] = portal.launcher.profile_state(person, target, entry["profile"])
        if entry["state"] in LINKABLE_STATES:
            entry["link"] = deep_link(base, LaunchRequest(target=target.id))
        if entry["state"] != "open":
            continue  # space names only once the profile's ownership check passed, and only where they open
        try:
            for space in portal.launcher.owned_spaces(person, target, entry["profile"]):
                app_type = space.app_type if space.app_type in APP_TYPES else None
                entry["spaces"].append({"name": space.name, "shared": space.shared, "app_type": space.app_type,
                                        "link": deep_link(base, LaunchRequest(target.id, space.name, app_type))})
        except (ProfileRevoked, ProfileNotFound, ProfileNotOwned):
            entry.update(state="unknown")  # changed since the state was checked a moment ago
        except (PortalError, AwsError):
            entry["spaces_unavailable"] = True
    return page("chooser.html", identity=person.identity, entries=entries)


def start_sign_in(return_to: str, login_hint: str | None = None) -> Response:
    """Off to the IdP, with this sign-in's own transaction cookie; other sign-ins in progress keep theirs."""
    if len(return_to) > MAX_RETURN_PATH_LENGTH:
        # It could not come back after sign-in (the sign-in cookie's bound): say so rather than land elsewhere.
        raise BadRequest("link too long to carry through sign-in", message=N_("The link is too long."))
    portal = runtime.get()
    if portal.client_from_secret:
        # Cognito's client is replaced on rotation: never send Cognito a client id it has just deleted.
        portal.reread_client_credentials()
    request = portal.oidc.authorization_request(f"{base_url()}/callback", login_hint)
    transaction = portal.transaction_sealer.seal(
        {"state": request.state, "nonce": request.nonce, "verifier": request.code_verifier,
         "return_to": safe_return_path(return_to), "started": time.time()},
        TRANSACTION_TTL_SECONDS,
    )
    dropped = signin.to_drop(request_cookies(), portal.transaction_sealer, len(transaction))
    metrics.add_metric(name="SignInStarted", unit=MetricUnit.Count, value=1)
    return redirect(request.url, cookies=[*(expired_cookie(name) for name in dropped),
                                          new_cookie(signin.cookie_name(request.state), transaction,
                                                     TRANSACTION_TTL_SECONDS)])


@app.get("/login")
def login() -> Response:
    """Sign-in started by a third party such as an SSO tile (OpenID Connect Core 1.0 §4): ``iss`` must be the
    configured issuer or a listed initiator; ``target_link_uri`` is followed only when it is this portal's."""
    portal = runtime.get()
    issuer = query("iss")
    # Or the IdP's own spelling of the configured issuer, when the two differ by a final "/" (portal/oidc.py).
    if issuer is None or (issuer not in (portal.settings.oidc_issuer, *portal.settings.login_initiators) and not (
            issuer.rstrip("/") == portal.settings.oidc_issuer.rstrip("/") and issuer == portal.oidc.metadata().issuer)):
        raise BadRequest("login initiated by an issuer that is not configured",
                         message=N_("This sign-in link comes from an identity provider the portal does not know."))
    login_hint = query("login_hint") or None
    if login_hint is not None and not login_hint.isprintable():
        raise BadRequest("login_hint with control characters", message=N_("The sign-in link is malformed."))
    return_to = portal_return_path(query("target_link_uri"))
    person = _signed_in_person()
    if person is None:
        return start_sign_in(return_to, login_hint)
    return continue_to(person, return_to, [])


def portal_return_path(target_link_uri: str | None) -> str:
    """The path of ``target_link_uri`` inside this portal, or `/` when it is anything but a URL of the portal:
    scheme, host and base path are compared exactly (OIDC Core §4: else it is an open redirect)."""
    # urlsplit silently drops tabs and newlines (WHATWG): a link with any is refused, not cleaned.
    if not target_link_uri or any(ord(ch) <= 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in target_link_uri):
        return "/"
    try:
        target = urlsplit(target_link_uri)
    except ValueError:  # an unclosed IPv6 bracket, a host NFKC turns into a separator: not a URL of the portal
        return "/"
    base = urlsplit(base_url())
    base_path = base.path.rstrip("/")
    if (target.scheme, target.netloc) != (base.scheme, base.netloc) or \
            not (target.path == base_path or target.path.startswith(base_path + "/")):
        return "/"
    path = target.path[len(base_path):] or "/"
    return safe_return_path(f"{path}?{target.query}" if target.query else path)


def continue_to(person: Person, return_to: str, cookies: list[Cookie]) -> Response:
    """Where a sign-in was headed: a launch is answered at once (no extra round trip to `/`), any other page of
    the portal by a redirect. ``cookies`` (the new session) go with whatever the answer is, error pages too."""
    return_to = safe_return_path(return_to)
    app.append_context(return_to=return_to)
    try:
        request = launch_request_for(return_to)
        response = redirect(f"{base_url()}{return_to}") if request is None else launch_for(person, request)
    except (PortalError, AwsError) as failure:
        response = error_page(_refused(_as_page(failure)))
    response.cookies.extend(cookies)
    return response


def _callback_transaction_name() -> str | None:
    state = (app.current_event.query_string_parameters or {}).get("state")
    return signin.cookie_name(state) if state and len(state) <= MAX_PARAM_LENGTH else None


@app.get("/callback")
def callback() -> Response:
    portal = runtime.get()
    state = query("state")
    name = _callback_transaction_name()
    transaction = portal.transaction_sealer.open(request_cookies().get(name)) if name else None
    if transaction is not None:
        # Recovery links on this request's error pages lead back to where the sign-in was headed.
        app.append_context(return_to=safe_return_path(str(transaction.get("return_to", "/"))))
    error = query("error")
    if error is not None:
        if error == "access_denied":
            raise SignInCancelled("the identity provider answered access_denied", cancelled=True)
        raise SignInFailed("the identity provider answered with an error")
    code = query("code")
    # RFC 6749 3.1: no parameter more than once; the first or the last would be a guess.
    repeated = [key for key in ("code", "state") if len((app.current_event.multi_value_query_string_parameters
                                                         or {}).get(key) or ()) > 1]
    if repeated or not code or not state or not _OAUTH_PARAM.fullmatch(code) or not _OAUTH_PARAM.fullmatch(state):
        raise SignInFailed("callback without a usable code and state",
                           message=N_("The sign-in response was incomplete."))
    if transaction is None and signin.transaction_names(request_cookies()):
        raise SignInFailed("no sign-in transaction for this state",
                           message=N_("This sign-in response does not belong to the sign-in you started."))
    if transaction is None:
        raise SignInFailed("no valid sign-in transaction cookie",
                           message=N_("This sign-in was started in another browser or has expired."))
    assert name is not None  # the transaction was found under it
    if not hmac.compare_digest(str(transaction.get("state", "")).encode(), state.encode()):
        raise SignInFailed("state does not match the transaction",
                           message=N_("This sign-in response does not belong to the sign-in you started."))
    verifier = str(transaction.get("verifier", ""))
    try:
        id_token = portal.oidc.exchange_code(code, f"{base_url()}/callback", verifier)
    except ClientRejected:
        # Rotated while this person was signing in: read the credentials again, bypassing the cache.
        client_id = portal.oidc.client_id
        if not portal.reread_client_credentials():
            raise
        if portal.oidc.client_id != client_id:
            # A new client, and the code belongs to the old one: start again with the new client. The IdP's
            # session is still there, so the person is normally sent straight back without a prompt.
            logger.info("sign-in restarted with the rotated OIDC client")
            restarted = start_sign_in(str(transaction.get("return_to", "/")))
            restarted.cookies.append(expired_cookie(name))
            return restarted
        id_token = portal.oidc.exchange_code(code, f"{base_url()}/callback", verifier)  # a new secret: once more
    claims = portal.oidc.verify_id_token(id_token, str(transaction.get("nonce", "")))
    identity = identity_from_claims(claims, portal.settings.identity_claim,
                                    email_must_be_verified=portal.settings.email_must_be_verified)
    payload = session_payload(portal.settings, identity, claims)
    session = portal.session_sealer.seal(payload, portal.settings.session_ttl_seconds)
    logger.info("signed in", extra={"identity": identity})
    metrics.add_metric(name="SignIns", unit=MetricUnit.Count, value=1)
    person = _person(payload)
    assert person is not None  # the payload was made for this issuer a line above
    # Only this sign-in's cookie ends: others started in this browser are still on their way.
    return continue_to(person, str(transaction.get("return_to", "/")), [
        new_cookie(SESSION_COOKIE, session, portal.settings.session_ttl_seconds),
        expired_cookie(name),
    ])


def session_payload(settings: Settings, identity: str, claims: dict[str, Any]) -> dict[str, Any]:
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
    cleared = [expired_cookie(SESSION_COOKIE),
               *(expired_cookie(name) for name in signin.transaction_names(request_cookies()))]
    idp_logout = portal.oidc.logout_url(f"{base_url()}/signed-out")
    if idp_logout:
        return redirect(idp_logout, cookies=cleared)
    return page("signed_out.html", cookies=cleared)


@app.get("/signed-out")
def signed_out() -> Response:
    return page("signed_out.html", cookies=[expired_cookie(SESSION_COOKIE)])


# -- errors ---------------------------------------------------------------------------------------
def _as_page(failure: PortalError | AwsError, person: Person | None = None) -> PortalError:
    """The page for a refusal: the logic's own, or the one for what AWS answered; it names who is signed in."""
    error = failure if isinstance(failure, PortalError) else for_aws(failure)
    if person is not None and error.page_context.get("identity") is None:
        error.page_context["identity"] = person.identity
    return error


@app.exception_handler(AwsError)
def aws_error(signal: AwsError) -> Response:
    """An AWS answer no route turned into a page itself (the runtime reading its secrets, say)."""
    return portal_error(for_aws(signal))


def _refused(error: PortalError) -> PortalError:
    """Every refusal is logged and counted by its reason, whichever route answers with its page."""
    logger.warning("request refused", extra={"reason": error.reason, "detail": error.detail})
    with single_metric(name="Refusals", unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as metric:
        metric.add_dimension(name="Reason", value=error.reason)
    return error


@app.exception_handler(PortalError)
def portal_error(error: PortalError) -> Response:
    response = error_page(_refused(error))
    # A failed or cancelled sign-in is over: its transaction cookie has nothing left to protect.
    name = _callback_transaction_name() if app.current_event.path == "/callback" else None
    if name:
        response.cookies.append(expired_cookie(name))
    return response


def error_page(error: PortalError) -> Response:
    return page(error.page, status=error.status, **error.page_context)


@app.exception_handler(Exception)
def unexpected_error(error: Exception) -> Response:
    # Only the type and the code locations: an exception's message could quote a credential.
    frames = [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}:{frame.name}"
              for frame in traceback.extract_tb(error.__traceback__)]
    logger.error("unexpected error", extra={"error_type": type(error).__name__, "frames": frames})
    metrics.add_metric(name="UnexpectedErrors", unit=MetricUnit.Count, value=1)
    return page("error_unavailable.html", status=HTTPStatus.INTERNAL_SERVER_ERROR,
                message=N_("Something went wrong on our side."))


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


