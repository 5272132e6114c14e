"""The simulated SageMaker's state: domains, user profiles, spaces, apps, tags, faults and issued Studio URLs,
the operations over them, and the test hooks (``reset``, ``inject``, ``add_domain``, ``add_profile``, ...).

Thread-safe; the HTTP front end is local/sagemaker_sim.py, the request checks local/sim_validation.py.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from local import seed as demo_seed
from local.sim_validation import SimError, check_member, service_model, validate_input

STUDIO_AUTH_PATH = "/studio/auth"
STUDIO_APP_PATH = "/studio/app"  # every later request of an open Studio session
LANDING_APP_TYPES = ("JupyterServer", "JupyterLab", "RStudioServerPro", "CodeEditor", "Canvas")
_LANDING_URI = re.compile(r"studio::\S*|app:(?:" + "|".join(LANDING_APP_TYPES) + r"):\S*")

_DEFAULT_LIST_PAGE = {"ListTags": 50, "ListUserProfiles": 10, "ListSpaces": 10, "ListApps": 10}
# Apps that run in a space (Studio's JupyterLab, Code Editor) or on a profile (Studio Classic, Canvas).
_GONE_APP_STATES = ("Deleted", "Deleting")


# --------------------------------------------------------------------------------------------------------
# Records


class StudioTokenError(Exception):
    """A presigned URL that cannot be redeemed, or a Studio session request refused; ``reason`` is ``unknown``,
    ``used``, ``expired`` or (a session's request, under ``deny_presign_tag``) ``denied``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"presigned URL rejected: {reason}")
        self.reason = reason


class Call(NamedTuple):
    operation: str
    params: dict[str, Any]


class Minted(NamedTuple):
    """What a presigned URL was issued for (never the token itself)."""

    profile: str
    domain: str
    space: str | None
    landing: str | None


@dataclass(frozen=True)
class StudioSession:
    """What redeeming a presigned URL opens."""

    domain: str
    profile: str
    space: str | None
    landing: str | None
    session_expiration_seconds: int


@dataclass
class _Domain:
    domain_id: str
    name: str
    auth_mode: str
    status: str
    execution_role: str
    created: float
    modified: float


@dataclass
class _Profile:
    domain_id: str
    name: str
    status: str
    created: float
    modified: float
    ready_at: float | None = None  # a Pending profile becomes InService then (None: stays as it is)
    user_settings: dict[str, Any] = field(default_factory=dict)
    failure_reason: str | None = None


@dataclass
class _Space:
    domain_id: str
    name: str
    owner: str | None
    sharing: str
    app_type: str
    status: str
    created: float
    modified: float
    display_name: str | None = None


@dataclass
class _App:
    domain_id: str
    app_type: str
    name: str
    profile: str | None  # exactly one of profile and space
    space: str | None
    status: str
    created: float


@dataclass
class _Token:
    session: StudioSession
    expires_at: float
    used: bool = False


@dataclass
class _Fault:
    operation: str  # or "*"
    error_code: str | None
    http_status: int | None
    remaining: int
    delay_seconds: float
    message: str | None


# --------------------------------------------------------------------------------------------------------
# The simulator


def _tag_list(tags: Mapping[str, str] | Iterable[Mapping[str, str]] | None) -> list[dict[str, str]]:
    if tags is None:
        return []
    if isinstance(tags, Mapping):
        return [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    return [{"Key": t["Key"], "Value": t["Value"]} for t in tags]


def _ts(value: float) -> float:
    return round(value, 3)


class SimState:
    """In-memory SageMaker domains, user profiles, spaces and tags, served as a thread-safe WSGI app.

    ``clock`` returns epoch seconds (default ``time.time``); ``advance_clock`` moves the simulator's time
    forward for expiry and Pending->InService without sleeping. ``pending_seconds`` is how long a profile
    made by ``CreateUserProfile`` stays ``Pending``. ``page_size`` caps every List* page (to exercise
    pagination). ``studio_base_url`` is where presigned URLs point (default: the host the request came to).
    ``require_signature`` rejects requests without a SigV4 ``Authorization`` header scoped to this region
    and ``sagemaker``, as AWS does (the signature itself is not verified). ``deny_presign_tag``: the IAM
    Deny of the deployed roles, emulated (see the module's docstring).
    """

    def __init__(
        self,
        *,
        region: str = demo_seed.REGION,
        account_id: str = demo_seed.ACCOUNT_ID,
        seed: bool | Callable[[SimState], None] = True,
        studio_base_url: str | None = None,
        pending_seconds: float = 5.0,
        page_size: int | None = None,
        clock: Callable[[], float] = time.time,
        require_signature: bool = True,
        deny_presign_tag: str | None = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.studio_base_url = studio_base_url
        self.pending_seconds = pending_seconds
        self.page_size = page_size
        self.require_signature = require_signature
        self.deny_presign_tag = deny_presign_tag
        self._seed = demo_seed.apply if seed is True else (seed or None)
        self._clock = clock
        self._lock = threading.RLock()
        self._wake = threading.Event()  # set by reset()/close() to cut injected delays short
        self.calls: list[Call] = []
        self._reset_state()

    # ---- state -----------------------------------------------------------------------------------------

    def _reset_state(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._domains: dict[str, _Domain] = {}
            self._profiles: dict[tuple[str, str], _Profile] = {}
            self._spaces: dict[tuple[str, str], _Space] = {}
            # (domain, profile, space, app type, app name): one of profile and space is None
            self._apps: dict[tuple[str, str | None, str | None, str, str], _App] = {}
            self._tags: dict[str, list[dict[str, str]]] = {}
            self._faults: list[_Fault] = []
            self._tokens: dict[str, _Token] = {}
            self._open_sessions: dict[str, tuple[StudioSession, float]] = {}  # session id -> (session, ends at)
            self._minted: list[Minted] = []
            self._last_created = 0.0
            self.calls.clear()
            if self._seed is not None:
                self._seed(self)

    def reset(self) -> None:
        """Back to the seed: data, calls, faults, issued URLs and the clock offset; pending delays end now."""
        self.close()
        self._reset_state()

    def close(self) -> None:
        """Release the requests held by injected delays now (later delays still apply)."""
        wake, self._wake = self._wake, threading.Event()
        wake.set()

    def now(self) -> float:
        return self._clock() + self._offset

    def advance_clock(self, seconds: float) -> None:
        """Move the simulator's clock forward (token expiry, Pending->InService)."""
        with self._lock:
            self._offset += seconds

    def clear_calls(self) -> None:
        self.calls.clear()

    def calls_to(self, operation: str) -> list[dict[str, Any]]:
        """The params of every received call of ``operation``, oldest first."""
        return [c.params for c in list(self.calls) if c.operation == operation]

    # ---- ARNs ------------------------------------------------------------------------------------------

    def _arn(self, resource: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{resource}"

    def domain_arn(self, domain_id: str) -> str:
        return self._arn(f"domain/{domain_id}")

    def profile_arn(self, domain_id: str, name: str) -> str:
        return self._arn(f"user-profile/{domain_id}/{name}")

    def space_arn(self, domain_id: str, name: str) -> str:
        return self._arn(f"space/{domain_id}/{name}")

    # ---- hooks: data -----------------------------------------------------------------------------------

    def _creation_time(self) -> float:
        # Distinct, increasing creation times so list order is deterministic.
        self._last_created = max(self.now(), self._last_created + 0.001)
        return self._last_created

    def add_domain(
        self,
        domain_id: str,
        *,
        name: str | None = None,
        auth_mode: str = "IAM",
        status: str = "InService",
        execution_role: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        check_member("DomainId", domain_id)
        check_member("DomainName", name or "domain")
        check_member("AuthMode", auth_mode)
        check_member("DomainStatus", status)
        with self._lock:
            created = self._creation_time()
            self._domains[domain_id] = _Domain(
                domain_id,
                name or domain_id.removeprefix("d-"),
                auth_mode,
                status,
                execution_role or demo_seed.EXECUTION_ROLE.replace(demo_seed.ACCOUNT_ID, self.account_id),
                created,
                created,
            )
            self._tags[self.domain_arn(domain_id)] = _tag_list(tags)

    def add_profile(
        self,
        domain_id: str,
        name: str,
        *,
        tags: Mapping[str, str] | None = None,
        status: str = "InService",
        ready_in: float | None = None,
        execution_role: str | None = None,
        failure_reason: str | None = None,
    ) -> None:
        """Add or replace a user profile. ``ready_in``: a Pending profile turns InService that many seconds on."""
        check_member("UserProfileName", name)
        check_member("UserProfileStatus", status)
        with self._lock:
            if domain_id not in self._domains:
                raise KeyError(f"no domain {domain_id}")
            created = self._creation_time()
            settings = {"ExecutionRole": execution_role} if execution_role else {}
            self._profiles[(domain_id, name)] = _Profile(
                domain_id,
                name,
                status,
                created,
                created,
                ready_at=None if ready_in is None else self.now() + ready_in,
                user_settings=settings,
                failure_reason=failure_reason,
            )
            self._tags[self.profile_arn(domain_id, name)] = _tag_list(tags)

    def remove_profile(self, domain_id: str, name: str) -> None:
        with self._lock:
            self._profiles.pop((domain_id, name), None)
            self._tags.pop(self.profile_arn(domain_id, name), None)

    def add_space(
        self,
        domain_id: str,
        name: str,
        *,
        owner: str | None = None,
        sharing: str = "Private",
        app_type: str = "JupyterLab",
        status: str = "InService",
        display_name: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Add or replace a space; ``sharing`` is Private or Shared, ``owner`` a profile name."""
        check_member("SpaceName", name)
        check_member("SharingType", sharing)
        check_member("AppType", app_type)
        check_member("SpaceStatus", status)
        if owner is not None:
            check_member("UserProfileName", owner)
        with self._lock:
            if domain_id not in self._domains:
                raise KeyError(f"no domain {domain_id}")
            created = self._creation_time()
            self._spaces[(domain_id, name)] = _Space(
                domain_id, name, owner, sharing, app_type, status, created, created, display_name
            )
            self._tags[self.space_arn(domain_id, name)] = _tag_list(tags)

    def add_app(
        self,
        domain_id: str,
        app_type: str,
        name: str = "default",
        *,
        profile: str | None = None,
        space: str | None = None,
        status: str = "InService",
    ) -> None:
        """Add or replace an app running in ``space`` or on ``profile`` (give exactly one, existing)."""
        check_member("AppType", app_type)
        check_member("AppName", name)
        check_member("AppStatus", status)
        if (profile is None) == (space is None):
            raise ValueError("an app runs in exactly one of a profile and a space")
        with self._lock:
            if domain_id not in self._domains:
                raise KeyError(f"no domain {domain_id}")
            if profile is not None and (domain_id, profile) not in self._profiles:
                raise KeyError(f"no profile {profile} in {domain_id}")
            if space is not None and (domain_id, space) not in self._spaces:
                raise KeyError(f"no space {space} in {domain_id}")
            self._apps[(domain_id, profile, space, app_type, name)] = _App(
                domain_id, app_type, name, profile, space, status, self._creation_time()
            )

    def set_profile_status(self, domain_id: str, name: str, status: str) -> None:
        with self._lock:
            profile = self._profiles[(domain_id, name)]
            profile.status, profile.ready_at, profile.modified = status, None, self.now()

    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot of domains, profiles (with tags) and spaces. No tokens."""
        with self._lock:
            return {
                "domains": [self._domain_view(d) for d in self._domains.values()],
                "profiles": [
                    {**self._profile_view(p), "Tags": self._tags.get(self.profile_arn(p.domain_id, p.name), [])}
                    for p in self._profiles.values()
                ],
                "spaces": [self._space_summary(s) for s in self._spaces.values()],
                "apps": [self._app_details(a) for a in self._apps.values()],
            }

    # ---- hooks: faults ---------------------------------------------------------------------------------

    def inject(
        self,
        operation: str,
        error_code: str | None = None,
        *,
        http_status: int | None = None,
        times: int = 1,
        delay_seconds: float = 0.0,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``operation`` ("*": any) wait ``delay_seconds``, then fail with
        ``error_code`` (HTTP ``http_status``; default 500 for InternalFailure, 503 ServiceUnavailable, else
        400) or, without ``error_code``, proceed normally. Faults apply before validation, in the order
        injected. Remember boto3 retries throttling and 5xx errors on its own.
        """
        if error_code is None and not delay_seconds:
            raise ValueError("inject needs an error_code, a delay_seconds, or both")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(_Fault(operation, error_code, http_status, times, float(delay_seconds), message))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, operation: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.operation in (operation, "*"):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _fault_message(self, fault: _Fault, operation: str) -> str:
        if fault.message:
            return fault.message
        code = fault.error_code or ""
        if code.startswith("Throttling"):
            return "Rate exceeded"
        if code == "AccessDeniedException":
            return (
                f"User: arn:aws:sts::{self.account_id}:assumed-role/local-portal/local is not authorized to "
                f"perform: sagemaker:{operation} because no identity-based policy allows the "
                f"sagemaker:{operation} action"
            )
        if code.startswith("Internal") or code == "ServiceUnavailable":
            return "An internal error occurred. Try again."
        return f"Injected {code}"

    # ---- hooks: presigned URLs -------------------------------------------------------------------------

    def minted(self) -> list[Minted]:
        """(profile, domain, space, landing) of every presigned URL issued since the last reset."""
        with self._lock:
            return list(self._minted)

    def redeem(self, url: str) -> StudioSession:
        """Use a presigned URL as the browser would (single use); raise ``StudioTokenError`` if invalid."""
        query = parse_qs(urlsplit(url).query)
        token = (query.get("token") or [""])[0]
        return self._redeem_token(token)

    def open_session(self, session: StudioSession) -> str:
        """A redeemed URL becomes an open Studio session, until its SessionExpirationDurationInSeconds."""
        session_id = secrets.token_urlsafe(24)
        with self._lock:
            self._open_sessions[session_id] = (session, self.now() + session.session_expiration_seconds)
        return session_id

    def studio_request(self, session_id: str) -> StudioSession:
        """One later request of an open Studio session. AWS evaluates the presigning principal's IAM policy on
        every HTTP request and WebSocket frame of the session: with ``deny_presign_tag`` on the profile the
        request is refused (``denied``), as the deployed roles' Deny refuses it."""
        with self._lock:
            opened = self._open_sessions.get(session_id) if session_id else None
            if opened is None:
                raise StudioTokenError("unknown")
            session, ends_at = opened
            if self.now() >= ends_at:
                raise StudioTokenError("expired")
            arn = self.profile_arn(session.domain, session.profile)
            if self.deny_presign_tag and any(t["Key"] == self.deny_presign_tag for t in self._tags.get(arn, [])):
                raise StudioTokenError("denied")
            return session

    def _redeem_token(self, token: str) -> StudioSession:
        with self._lock:
            record = self._tokens.get(token) if token else None
            if record is None:
                raise StudioTokenError("unknown")
            if record.used:
                raise StudioTokenError("used")
            if self.now() >= record.expires_at:
                raise StudioTokenError("expired")
            record.used = True
            return record.session

    # ---- operations --------------------------------------------------------------------------------------

    def call(self, operation: str, params: dict[str, Any], *, host_url: str | None = None) -> dict[str, Any]:
        """Run one API call in-process: faults, validation, then the operation. Raises ``SimError``."""
        self.calls.append(Call(operation, json.loads(json.dumps(params))))
        handler = getattr(self, f"_op_{operation}", None)
        fault = self._take_fault(operation)
        if fault is not None:
            if fault.delay_seconds:
                self._wake.wait(fault.delay_seconds)
            if fault.error_code:
                raise SimError(fault.error_code, self._fault_message(fault, operation), fault.http_status)
        if handler is None:
            raise SimError("UnknownOperationException", f"The simulator does not implement SageMaker.{operation}")
        validate_input(service_model().operation_model(operation), params)
        with self._lock:
            return handler(params, host_url=host_url)

    def _domain(self, domain_id: str) -> _Domain:
        domain = self._domains.get(domain_id)
        if domain is None:
            raise SimError("ResourceNotFound", f"Domain {self.domain_arn(domain_id)} does not exist.")
        return domain

    def _profile(self, domain_id: str, name: str) -> _Profile:
        self._domain(domain_id)
        profile = self._profiles.get((domain_id, name))
        if profile is None:
            raise SimError("ResourceNotFound", f"User profile {self.profile_arn(domain_id, name)} does not exist.")
        if profile.status == "Pending" and profile.ready_at is not None and self.now() >= profile.ready_at:
            profile.status, profile.modified, profile.ready_at = "InService", profile.ready_at, None
        return profile

    def _domain_view(self, d: _Domain) -> dict[str, Any]:
        return {
            "DomainArn": self.domain_arn(d.domain_id),
            "DomainId": d.domain_id,
            "DomainName": d.name,
            "HomeEfsFileSystemId": "fs-0123456789abcdef0",
            "Status": d.status,
            "CreationTime": _ts(d.created),
            "LastModifiedTime": _ts(d.modified),
            "AuthMode": d.auth_mode,
            "DefaultUserSettings": {"ExecutionRole": d.execution_role},
            "AppNetworkAccessType": "PublicInternetOnly",
            "SubnetIds": ["subnet-0123456789abcdef0"],
            "Url": f"https://{d.domain_id}.studio.{self.region}.sagemaker.aws",
            "VpcId": "vpc-0123456789abcdef0",
        }

    def _profile_view(self, p: _Profile) -> dict[str, Any]:
        view: dict[str, Any] = {
            "DomainId": p.domain_id,
            "UserProfileArn": self.profile_arn(p.domain_id, p.name),
            "UserProfileName": p.name,
            "HomeEfsFileSystemUid": str(200000 + sum(map(ord, p.name)) % 100000),
            "Status": p.status,
            "LastModifiedTime": _ts(p.modified),
            "CreationTime": _ts(p.created),
            "UserSettings": dict(p.user_settings),
        }
        if p.failure_reason:
            view["FailureReason"] = p.failure_reason
        return view

    def _space_summary(self, s: _Space) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "DomainId": s.domain_id,
            "SpaceName": s.name,
            "Status": s.status,
            "CreationTime": _ts(s.created),
            "LastModifiedTime": _ts(s.modified),
            "SpaceSettingsSummary": {"AppType": s.app_type},
            "SpaceSharingSettingsSummary": {"SharingType": s.sharing},
        }
        if s.owner:
            summary["OwnershipSettingsSummary"] = {"OwnerUserProfileName": s.owner}
        if s.display_name:
            summary["SpaceDisplayName"] = s.display_name
        return summary

    def _page(self, operation: str, items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
        start = 0
        token = params.get("NextToken")
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                start = int(decoded["offset"])
                if decoded["op"] != operation or start < 0:
                    raise ValueError(token)
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise SimError("ValidationException", "Invalid pagination token") from None
        size = params.get("MaxResults") or _DEFAULT_LIST_PAGE[operation]
        if self.page_size:
            size = min(size, self.page_size)
        end = start + size
        next_token = None
        if end < len(items):
            next_token = base64.urlsafe_b64encode(json.dumps({"op": operation, "offset": end}).encode()).decode()
        return items[start:end], next_token

    @staticmethod
    def _sorted(items: list[Any], params: dict[str, Any]) -> list[Any]:
        key = "modified" if params.get("SortBy") == "LastModifiedTime" else "created"
        return sorted(items, key=lambda i: (getattr(i, key), i.name), reverse=params.get("SortOrder") == "Descending")

    def _op_DescribeDomain(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        return self._domain_view(self._domain(params["DomainId"]))

    def _op_DescribeUserProfile(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        return self._profile_view(self._profile(params["DomainId"], params["UserProfileName"]))

    def _tagged_resource(self, arn: str) -> list[dict[str, str]]:
        exists = (
            any(arn == self.domain_arn(d) for d in self._domains)
            or any(arn == self.profile_arn(*k) for k in self._profiles)
            or any(arn == self.space_arn(*k) for k in self._spaces)
        )
        if not exists:
            raise SimError("ValidationException", f"Requested resource not found: {arn}")
        return self._tags.setdefault(arn, [])

    def _op_ListTags(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        tags = self._tagged_resource(params["ResourceArn"])
        page, next_token = self._page("ListTags", list(tags), params)
        return {"Tags": page, **({"NextToken": next_token} if next_token else {})}

    def _op_AddTags(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        tags = self._tagged_resource(params["ResourceArn"])
        merged = {t["Key"]: t["Value"] for t in tags}
        merged.update({t["Key"]: t["Value"] for t in params["Tags"]})  # an existing key is overwritten
        if len(merged) > 50:
            raise SimError("ValidationException", "A resource can have at most 50 tags.")
        tags[:] = _tag_list(merged)
        return {"Tags": _tag_list({t["Key"]: t["Value"] for t in params["Tags"]})}

    def _op_DeleteTags(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        tags = self._tagged_resource(params["ResourceArn"])
        tags[:] = [t for t in tags if t["Key"] not in set(params["TagKeys"])]
        return {}

    def _app_details(self, app: _App) -> dict[str, Any]:
        details: dict[str, Any] = {
            "DomainId": app.domain_id,
            "AppType": app.app_type,
            "AppName": app.name,
            "Status": app.status,
            "CreationTime": _ts(app.created),
        }
        if app.profile:
            details["UserProfileName"] = app.profile
        if app.space:
            details["SpaceName"] = app.space
        return details

    def app_arn(self, app: _App) -> str:
        owner = app.profile or app.space
        return self._arn(f"app/{app.domain_id}/{owner}/{app.app_type.lower()}/{app.name}")

    def _op_ListApps(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        domain, profile, space = (params.get(k) for k in ("DomainIdEquals", "UserProfileNameEquals", "SpaceNameEquals"))
        if profile is not None and space is not None:
            raise SimError("ValidationException", "UserProfileNameEquals and SpaceNameEquals cannot both be set.")
        apps = [
            a
            for a in self._apps.values()
            if (domain is None or a.domain_id == domain)
            and (profile is None or a.profile == profile)
            and (space is None or a.space == space)
        ]
        ordered = sorted(apps, key=lambda a: a.created, reverse=params.get("SortOrder") == "Descending")
        page, next_token = self._page("ListApps", ordered, params)
        return {"Apps": [self._app_details(a) for a in page], **({"NextToken": next_token} if next_token else {})}

    def _app(self, params: dict[str, Any]) -> _App:
        domain_id, profile, space = params["DomainId"], params.get("UserProfileName"), params.get("SpaceName")
        self._domain(domain_id)
        if (profile is None) == (space is None):
            raise SimError("ValidationException", "Specify exactly one of UserProfileName and SpaceName.")
        app = self._apps.get((domain_id, profile, space, params["AppType"], params["AppName"]))
        if app is None or app.status == "Deleted":
            owner = f"user profile {profile}" if profile else f"space {space}"
            raise SimError("ResourceNotFound", f"App {params['AppName']} of type {params['AppType']} for {owner} "
                           f"in domain {domain_id} does not exist.")
        return app

    def _op_DescribeApp(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        app = self._app(params)
        return {"AppArn": self.app_arn(app), **self._app_details(app)}

    def _op_DeleteApp(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        app = self._app(params)
        if app.status == "Deleting":
            raise SimError("ResourceInUse", f"App {app.name} is already being deleted.")
        # AWS passes through Deleting for a while; the simulator finishes at once. Deleted apps stay listed.
        app.status = "Deleted"
        return {}

    def _op_ListUserProfiles(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        domain, contains = params.get("DomainIdEquals"), params.get("UserProfileNameContains")
        profiles = [
            self._profile(p.domain_id, p.name)
            for p in self._profiles.values()
            if (domain is None or p.domain_id == domain) and (contains is None or contains in p.name)
        ]
        page, next_token = self._page("ListUserProfiles", self._sorted(profiles, params), params)
        summaries = [
            {
                k: v
                for k, v in self._profile_view(p).items()
                if k in ("DomainId", "UserProfileName", "Status", "CreationTime", "LastModifiedTime")
            }
            for p in page
        ]
        return {"UserProfiles": summaries, **({"NextToken": next_token} if next_token else {})}

    def _op_ListSpaces(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        domain, contains = params.get("DomainIdEquals"), params.get("SpaceNameContains")
        spaces = [
            s
            for s in self._spaces.values()
            if (domain is None or s.domain_id == domain) and (contains is None or contains in s.name)
        ]
        page, next_token = self._page("ListSpaces", self._sorted(spaces, params), params)
        return {"Spaces": [self._space_summary(s) for s in page], **({"NextToken": next_token} if next_token else {})}

    def _op_DescribeSpace(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        domain_id, name = params["DomainId"], params["SpaceName"]
        self._domain(domain_id)
        space = self._spaces.get((domain_id, name))
        if space is None:
            raise SimError("ResourceNotFound", f"Space {self.space_arn(domain_id, name)} does not exist.")
        view: dict[str, Any] = {
            "DomainId": domain_id,
            "SpaceArn": self.space_arn(domain_id, name),
            "SpaceName": name,
            "Status": space.status,
            "CreationTime": _ts(space.created),
            "LastModifiedTime": _ts(space.modified),
            "SpaceSettings": {"AppType": space.app_type},
            "SpaceSharingSettings": {"SharingType": space.sharing},
            "Url": f"https://{domain_id}.studio.{self.region}.sagemaker.aws/{space.app_type.lower()}/default",
        }
        if space.owner:
            view["OwnershipSettings"] = {"OwnerUserProfileName": space.owner}
        if space.display_name:
            view["SpaceDisplayName"] = space.display_name
        return view

    def _op_CreateUserProfile(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        domain_id, name = params["DomainId"], params["UserProfileName"]
        self._domain(domain_id)
        arn = self.profile_arn(domain_id, name)
        if (domain_id, name) in self._profiles:
            raise SimError("ResourceInUse", f"Resource Arn: {arn} already exists.")
        keys = [t["Key"] for t in params.get("Tags", [])]
        if len(keys) != len(set(keys)):
            raise SimError("ValidationException", "Duplicate tag keys are not allowed.")
        created = self._creation_time()
        self._profiles[(domain_id, name)] = _Profile(
            domain_id,
            name,
            "Pending",
            created,
            created,
            ready_at=self.now() + self.pending_seconds,
            user_settings=dict(params.get("UserSettings", {})),
        )
        self._tags[arn] = _tag_list(params.get("Tags", []))
        return {"UserProfileArn": arn}

    def _op_CreatePresignedDomainUrl(self, params: dict[str, Any], *, host_url: str | None = None) -> dict[str, Any]:
        domain_id, name = params["DomainId"], params["UserProfileName"]
        domain = self._domain(domain_id)
        if domain.auth_mode != "IAM":
            raise SimError(
                "ValidationException",
                f"CreatePresignedDomainUrl is supported only for domains in IAM authentication mode; "
                f"domain {domain_id} uses {domain.auth_mode}.",
            )
        self._profile(domain_id, name)
        arn = self.profile_arn(domain_id, name)
        if self.deny_presign_tag and any(t["Key"] == self.deny_presign_tag for t in self._tags.get(arn, [])):
            raise SimError(
                "AccessDeniedException",
                f"User: arn:aws:sts::{self.account_id}:assumed-role/local-portal/local is not authorized to perform: "
                f"sagemaker:CreatePresignedDomainUrl on resource: {arn} with an explicit deny in an "
                "identity-based policy",
            )
        space_name = params.get("SpaceName")
        if space_name is not None:
            space = self._spaces.get((domain_id, space_name))
            if space is None:
                raise SimError("ResourceNotFound", f"Space {self.space_arn(domain_id, space_name)} does not exist.")
            if space.sharing == "Private" and space.owner != name:
                raise SimError(
                    "ValidationException", f"Private space {space_name} is not owned by user profile {name}."
                )
        landing = params.get("LandingUri")
        if landing is not None and not _LANDING_URI.fullmatch(landing):
            raise SimError(
                "ValidationException",
                "LandingUri must be 'studio::<relative path>' or 'app:<AppType>:<relative path>' with "
                f"AppType one of {', '.join(LANDING_APP_TYPES)}.",
            )
        session = StudioSession(
            domain_id, name, space_name, landing, int(params.get("SessionExpirationDurationInSeconds", 43200))
        )
        token = secrets.token_urlsafe(32)
        self._tokens[token] = _Token(session, self.now() + int(params.get("ExpiresInSeconds", 300)))
        self._minted.append(Minted(name, domain_id, space_name, landing))
        base = (self.studio_base_url or host_url or "http://127.0.0.1").rstrip("/")
        return {"AuthorizedUrl": f"{base}{STUDIO_AUTH_PATH}?token={token}"}
