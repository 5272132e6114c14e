"""A simulated SageMaker control plane and Studio landing page, for loopback use only.

The simulator speaks SageMaker's wire protocol (AWS JSON 1.1: ``POST /`` with
``X-Amz-Target: SageMaker.<Operation>``), so the unchanged boto3 client reaches it through
``AWS_ENDPOINT_URL_SAGEMAKER``. Every request is checked against botocore's service model: types,
required and unknown members with ``botocore.validate.ParamValidator``, then the ``pattern``, ``min``,
``max`` and ``enum`` constraints that the client-side validator leaves to the service, with AWS's
wording ("1 validation error detected: Value 'x' at 'userProfileName' failed to satisfy constraint: ...").

``CreatePresignedDomainUrl`` returns ``<studio_base_url>/studio/auth?token=...``; the token is single use
and expires after ``ExpiresInSeconds``, like the real URL. Tokens are never logged nor listed.

Test hooks exist both as methods (``calls``, ``reset``, ``inject``, ``add_domain``, ``add_profile``,
``add_space``, ``add_app``, ``minted``, ``redeem``, ``advance_clock``) and as HTTP endpoints under ``/_sim/``.

``deny_presign_tag`` stands in for the deployed IAM policy's Deny: ``CreatePresignedDomainUrl`` for a profile
carrying that tag answers ``AccessDeniedException`` ("explicit deny"), as AWS does for the portal's roles.
"""

from __future__ import annotations

import html
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

from werkzeug.wrappers import Request, Response

from local.sim_state import STUDIO_APP_PATH, STUDIO_AUTH_PATH, Call, SimState, StudioSession, StudioTokenError
from local.sim_validation import SimError, service_model

__all__ = ["SageMakerSim", "SimError", "StudioTokenError"]

log = logging.getLogger("local.sagemaker_sim")

JSON_11 = "application/x-amz-json-1.1"
STUDIO_SESSION_COOKIE = "sim-studio-session"
TARGET_PREFIX = "SageMaker."


class SageMakerSim(SimState):
    """The simulator served as a WSGI app: the SageMaker API (``POST /``), the Studio landing page, and the
    ``/_sim/`` hooks over HTTP. State, operations and hooks: :class:`local.sim_state.SimState`."""

    # ---- WSGI ------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = 1024 * 1024
        path = request.path
        if path == "/" and request.method == "POST":
            response = self._api(request)
        elif path == STUDIO_AUTH_PATH and request.method == "GET":
            response = self._studio(request)
        elif path == STUDIO_APP_PATH and request.method == "GET":
            response = self._studio_app(request)
        elif path.startswith("/_sim/"):
            response = self._hook(request, path.removeprefix("/_sim/"))
        elif path == "/" and request.method == "GET":
            response = Response(_INDEX_HTML, content_type="text/html; charset=utf-8")
        else:
            response = Response("Not Found", status=404, content_type="text/plain")
        return response(environ, start_response)

    def _check_signature(self, request: Request) -> None:
        if not self.require_signature:
            return
        auth = request.headers.get("Authorization", "")
        if not auth:
            raise SimError("MissingAuthenticationTokenException", "Missing Authentication Token")
        match = re.match(r"AWS4-HMAC-SHA256 Credential=[^/,]+/\d{8}/([^/,]+)/([^/,]+)/aws4_request", auth)
        if match is None:
            raise SimError("IncompleteSignatureException", "Authorization header requires a SigV4 Credential.")
        region, service = match.groups()
        if service != "sagemaker":
            raise SimError("InvalidSignatureException", "Credential should be scoped to correct service: 'sagemaker'.")
        if region != self.region:
            raise SimError(
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region. The simulator serves {self.region}.",
            )

    def _api(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            self._check_signature(request)
            target = request.headers.get("X-Amz-Target", "")
            if not target.startswith(TARGET_PREFIX) or len(target) == len(TARGET_PREFIX):
                raise SimError("UnknownOperationException", "Unknown or missing X-Amz-Target.")
            operation = target.removeprefix(TARGET_PREFIX)
            try:
                params = json.loads(request.get_data(cache=False) or b"{}")
            except ValueError:
                raise SimError("SerializationException", "Request body is not valid JSON.") from None
            if not isinstance(params, dict):
                raise SimError("SerializationException", "Request body must be a JSON object.")
            if operation not in service_model().operation_names:
                self.calls.append(Call(operation, params))
                raise SimError("UnknownOperationException", f"Unknown operation SageMaker.{operation}.")
            result = self.call(operation, params, host_url=request.host_url)
        except SimError as error:
            modelled = error.code in ("ResourceNotFound", "ResourceInUse", "ResourceLimitExceeded")
            body = {"__type": error.code, ("Message" if modelled else "message"): error.message}
            return Response(
                json.dumps(body),
                status=error.status,
                content_type=JSON_11,
                headers={"x-amzn-ErrorType": error.code, "x-amzn-RequestId": request_id},
            )
        return Response(json.dumps(result), content_type=JSON_11, headers={"x-amzn-RequestId": request_id})

    # ---- the simulated Studio page -----------------------------------------------------------------------

    def _studio(self, request: Request) -> Response:
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
        try:
            session = self._redeem_token(request.args.get("token", ""))
        except StudioTokenError as error:
            log.info("studio: presigned URL rejected (%s)", error.reason)
            return Response(_EXPIRED_HTML, status=403, content_type="text/html; charset=utf-8", headers=headers)
        log.info("studio: signed in profile %s of %s", session.profile, session.domain)
        response = self._studio_page(session, headers)
        response.set_cookie(STUDIO_SESSION_COOKIE, self.open_session(session), path="/studio", httponly=True,
                            samesite="Lax", max_age=session.session_expiration_seconds)
        return response

    def _studio_app(self, request: Request) -> Response:
        """A later request of the open session (reload the page): refused once the profile is revoked."""
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
        try:
            session = self.studio_request(request.cookies.get(STUDIO_SESSION_COOKIE, ""))
        except StudioTokenError as error:
            log.info("studio: session request refused (%s)", error.reason)
            page = _DENIED_HTML if error.reason == "denied" else _EXPIRED_HTML
            return Response(page, status=403, content_type="text/html; charset=utf-8", headers=headers)
        return self._studio_page(session, headers)

    @staticmethod
    def _studio_page(session: StudioSession, headers: dict[str, str]) -> Response:
        page = _STUDIO_HTML.format(
            domain=html.escape(session.domain),
            profile=html.escape(session.profile),
            space=html.escape(session.space or ""),
            landing=html.escape(session.landing or ""),
            session_seconds=session.session_expiration_seconds,
            app_path=STUDIO_APP_PATH,
        )
        return Response(page, content_type="text/html; charset=utf-8", headers=headers)

    # ---- /_sim/ hooks over HTTP ------------------------------------------------------------------------

    def _hook(self, request: Request, name: str) -> Response:
        def reply(value: Any, status: int = 200) -> Response:
            return Response(json.dumps(value, default=str), status=status, content_type="application/json")

        if request.method == "GET":
            if name == "calls":
                return reply({"calls": [{"operation": c.operation, "params": c.params} for c in list(self.calls)]})
            if name == "minted":
                return reply({"minted": [m._asdict() for m in self.minted()]})
            if name == "state":
                return reply(self.state())
            return reply({"error": "not found"}, 404)
        if request.method == "DELETE" and name == "calls":
            self.clear_calls()
            return reply({})
        if request.method != "POST":
            return reply({"error": "method not allowed"}, 405)
        # A JSON content type means a cross-site page cannot post here without a CORS preflight.
        if request.mimetype != "application/json":
            return reply({"error": "Content-Type must be application/json"}, 415)
        try:
            args = json.loads(request.get_data() or b"{}")
        except ValueError:
            return reply({"error": "body must be JSON"}, 400)
        if not isinstance(args, dict):
            return reply({"error": "body must be a JSON object"}, 400)
        methods: dict[str, Callable[..., Any]] = {
            "reset": self.reset,
            "clear_calls": self.clear_calls,
            "inject": self.inject,
            "clear_faults": self.clear_faults,
            "add_domain": self.add_domain,
            "add_profile": self.add_profile,
            "remove_profile": self.remove_profile,
            "add_space": self.add_space,
            "add_app": self.add_app,
            "set_profile_status": self.set_profile_status,
            "advance_clock": self.advance_clock,
            "config": self._configure,
        }
        if name == "redeem":
            try:
                return reply(asdict(self.redeem(str(args.get("url", "")))))
            except StudioTokenError as error:
                return reply({"error": error.reason}, 403)
        method = methods.get(name)
        if method is None:
            return reply({"error": "not found"}, 404)
        try:
            method(**args)
        except (TypeError, ValueError, KeyError) as error:
            return reply({"error": f"{type(error).__name__}: {error}"}, 400)
        return reply({})

    def _configure(
        self, *, pending_seconds: float | None = None, page_size: int | None = None, studio_base_url: str | None = None
    ) -> None:
        if pending_seconds is not None:
            self.pending_seconds = float(pending_seconds)
        if page_size is not None:
            self.page_size = int(page_size) or None
        if studio_base_url is not None:
            self.studio_base_url = studio_base_url or None


_INDEX_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SageMaker simulator</title></head>
<body><h1>SageMaker simulator</h1>
<p>AWS JSON 1.1 on <code>POST /</code> (point boto3 here with <code>AWS_ENDPOINT_URL_SAGEMAKER</code>).
Test hooks: <a href="/_sim/state">/_sim/state</a>, <a href="/_sim/calls">/_sim/calls</a>,
<a href="/_sim/minted">/_sim/minted</a>.</p></body></html>
"""

_STUDIO_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SageMaker Studio (simulated)</title>
<style>body{{font-family:system-ui,sans-serif;margin:3rem;color:#16191f}}dt{{font-weight:600}}
dd{{margin:0 0 .8rem 0;font-family:monospace}}</style></head>
<body>
<h1>SageMaker Studio (simulated)</h1>
<p>The presigned URL was accepted. In AWS this would now open Studio.</p>
<dl>
<dt>User profile</dt><dd id="studio-profile">{profile}</dd>
<dt>Domain</dt><dd id="studio-domain">{domain}</dd>
<dt>Space</dt><dd id="studio-space">{space}</dd>
<dt>Landing URI</dt><dd id="studio-landing">{landing}</dd>
<dt>Session lifetime (seconds)</dt><dd id="studio-session-seconds">{session_seconds}</dd>
</dl>
<p><a id="studio-next-request" href="{app_path}">Next request of this session</a> (IAM is evaluated on each
one: after a revoke it is refused)</p>
</body></html>
"""

_EXPIRED_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Amazon Web Services (simulated)</title>
<style>body{font-family:system-ui,sans-serif;margin:3rem;color:#16191f}</style></head>
<body>
<h1>Sign in</h1>
<div id="studio-expired">
<p>Your sign-in link is invalid or has expired. Sign in to the AWS Management Console to continue.</p>
<p>(Simulated: this is where an expired or already used presigned Studio URL leads.)</p>
</div>
</body></html>
"""

_DENIED_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SageMaker Studio (simulated): access denied</title>
<style>body{font-family:system-ui,sans-serif;margin:3rem;color:#16191f}</style></head>
<body>
<h1>Access denied</h1>
<div id="studio-denied">
<p>AccessDeniedException: not authorized to perform sagemaker:CreatePresignedDomainUrl with an explicit deny in
an identity-based policy.</p>
<p>(Simulated: IAM evaluates the presigning role's policy on every request of an open Studio session, so a
revoked profile's session stops here.)</p>
</div>
</body></html>
"""
