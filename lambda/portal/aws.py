"""The only module that talks to AWS: SageMaker, STS and Secrets Manager.

Every AWS error goes through one translation point, :func:`translated` (used by ``AwsGateway._call``), into
AWS-level signals (``AwsNotFound``, ``AwsDenied``, ``AwsThrottling`` ...), so nothing above this module sees
botocore; which page a person sees is decided above it (``portal.errors.for_aws`` and the logic modules).
Clients are created lazily and reused for the life of the container.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from portal import deadline
from portal.deadline import DeadlineExceeded

# Three attempts with standard (jittered exponential) backoff, 2 s to connect and 5 s to read: the
# worst case stays well inside API Gateway's 29 s integration timeout.
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    user_agent_extra="sagemaker-studio-portal",
)
_THROTTLING_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
_UNAVAILABLE_CODES = {
    *_THROTTLING_CODES, "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalServerError",
    "InternalServerException", "RequestTimeout", "RequestTimeoutException",
}
_REFUSED_CODES = {
    "AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnrecognizedClientException",
    "InvalidClientTokenId", "ExpiredTokenException", "ExpiredToken", "InvalidSignatureException",
}
# Renew assumed-role credentials this long before they expire.
_CREDENTIAL_MARGIN_SECONDS = 300
# Assumed-role sessions kept, least recently used first: credentials only (about 1 kB each), never a client.
_MAX_ASSUMED_SESSIONS = 10_000
# RoleSessionName: 2-64 characters of [\w+=,.@-] in ASCII (STS), so every other character becomes '-', and a
# short hash of the whole identity keeps two long or non-ASCII identities from sharing a name.
_SESSION_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_+=,.@-]")
_SESSION_NAME_MAX = 64
# A cold container's first client of a service loads its model: 0.14 s on an idle core, 0.5 s on a busy one.
_CLIENT_CREATION_SECONDS = 0.5
_SESSION_NAME_HASH = 10
_WARM_SAGEMAKER_OPERATIONS = ("DescribeUserProfile", "ListTags", "CreatePresignedDomainUrl", "DescribeDomain",
                              "ListSpaces")


def _unique(items: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def role_session_name(identity: str) -> str:
    """The identity as STS allows a RoleSessionName to be: readable ASCII, plus a hash of the full identity."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:_SESSION_NAME_HASH]
    readable = _SESSION_NAME_UNSAFE.sub("-", identity)[: _SESSION_NAME_MAX - _SESSION_NAME_HASH - 1]
    return f"{readable}-{digest}"


def _stopping_when_late(client: Any) -> Any:
    """A call given up on at the deadline makes no further attempt (botocore retries on its worker thread)."""
    client.meta.events.register("before-send", _no_attempt_after_the_deadline)
    return client


def _no_attempt_after_the_deadline(**_: Any) -> None:
    deadline.check("AWS call")


# The credentials the current call is made with, when it is made for an assumed-role session.
_CALL_CREDENTIALS: ContextVar[ReadOnlyCredentials | None] = ContextVar("portal_call_credentials", default=None)


class _CallCredentials(Credentials):
    """Whatever credentials AwsGateway bound to the current call: one client per region then serves every
    person's assumed-role session (a client costs about 0.7 MB and 20 ms to build; credentials, 1 kB)."""

    def __init__(self) -> None:
        super().__init__(access_key="", secret_key="")

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        frozen = _CALL_CREDENTIALS.get()
        if frozen is None:
            raise NoCredentialsError()
        return frozen


class _CallCredentialResolver:
    def load_credentials(self) -> Credentials:
        return _CallCredentials()


@dataclass(frozen=True)
class AssumedSession:
    """One person's assumed-role session: the region's shared client and this session's own credentials."""

    client: Any
    credentials: ReadOnlyCredentials = field(repr=False)
    expires: float  # epoch seconds


class AwsError(Exception):
    """What AWS answered, as the portal reasons about it: the operation and AWS's error code, never a page."""

    kind = "refused"  # portal.errors.for_aws picks the page by it

    def __init__(self, operation: str, code: str = "") -> None:
        super().__init__(f"{operation}: {code}" if code else operation)
        self.operation = operation
        self.code = code


class AwsNotFound(AwsError):
    """The named domain, profile or space does not exist."""

    kind = "not_found"


class AwsInvalid(AwsError):
    """SageMaker rejected the request as invalid (for instance a domain not in IAM auth mode)."""

    kind = "invalid"


class AwsConflict(AwsError):
    """The resource already exists or is being changed."""

    kind = "conflict"


class AwsDenied(AwsError):
    """AWS refused the caller: permissions, an explicit Deny, bad or expired credentials, or an error it did not
    explain."""

    kind = "refused"


class AwsThrottling(AwsError):
    """AWS throttled the call even after the SDK's retries."""

    kind = "throttled"


class AwsDown(AwsError):
    """AWS failed or did not answer: a 5xx, a timeout, no connection, no credentials."""

    kind = "unavailable"


@dataclass(frozen=True)
class UserProfile:
    arn: str
    status: str
    created: float = 0.0  # epoch seconds


@dataclass(frozen=True)
class Space:
    name: str
    owner: str | None  # owning profile for private spaces
    shared: bool
    app_type: str | None
    status: str


@dataclass(frozen=True)
class Domain:
    auth_mode: str
    status: str
    arn: str = ""


def _signal(error: Exception, operation: str) -> AwsError:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("ResourceNotFound", "ResourceNotFoundException"):
            return AwsNotFound(operation, code)
        if code in ("ResourceInUse", "ResourceInUseException", "ConflictException"):
            return AwsConflict(operation, code)
        if code in _THROTTLING_CODES:
            return AwsThrottling(operation, code)
        if code in _UNAVAILABLE_CODES or status >= 500:
            return AwsDown(operation, code or str(status))
        if code in _REFUSED_CODES:
            return AwsDenied(operation, code)
        if code == "ValidationException":
            return AwsInvalid(operation, code)
        return AwsDenied(operation, code or str(status))
    # Connection failures, timeouts, missing credentials: botocore's own errors.
    return AwsDown(operation, type(error).__name__)


@contextmanager
def translated(operation: str) -> Iterator[None]:
    """The one translation point: botocore's errors inside become the AWS-level signal of ``operation``."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise _signal(error, operation) from None


class Gateway(Protocol):
    """What the logic modules ask of AWS. :class:`AwsGateway` answers with boto3; tests' fakes implement it too.

    ``client`` arguments are whatever :meth:`sagemaker` returned (a botocore client or an assumed session)."""

    @property
    def region(self) -> str | None: ...

    def sagemaker(self, region: str | None = None, role_arn: str | None = None,
                  session_tags: dict[str, str] | None = None, session_name: str = "studio-portal") -> Any: ...

    def describe_user_profile(self, client: Any, domain_id: str, profile: str) -> UserProfile: ...

    def list_spaces(self, client: Any, domain_id: str) -> list[Space]: ...

    def create_user_profile(self, client: Any, *, domain_id: str, profile: str, tags: dict[str, str],
                            user_settings: dict[str, Any]) -> None: ...

    def add_tags(self, client: Any, resource_arn: str, tags: dict[str, str]) -> None: ...

    def list_tags(self, client: Any, resource_arn: str) -> dict[str, str]: ...

    def describe_domain(self, client: Any, domain_id: str) -> Domain: ...

    def create_presigned_url(self, client: Any, *, domain_id: str, profile: str, expires_seconds: int,
                             session_seconds: int, space: str | None = None,
                             landing_uri: str | None = None) -> str: ...

    def get_secret(self, secret_id: str, fresh: bool = False) -> str: ...

    def warm(self, regions: Iterable[str | None], sts_regions: Iterable[str | None] = (),
             secrets: bool = False) -> None: ...

    def drop_connections(self) -> None: ...


class AwsGateway:
    """SageMaker calls for one region, optionally through an assumed role; secrets for the portal.

    ``clients``: ready-made botocore clients by (service, region) to use instead of building them (tests hand
    in clients wrapped by botocore's Stubber), and ``assumed_clients`` the same for the clients that sign with
    assumed-role sessions; every other client is built from ``session`` on first use.
    """

    def __init__(self, session: boto3.session.Session | None = None,
                 clock: Callable[[], float] = time.time,
                 clients: Mapping[tuple[str, str | None], Any] | None = None,
                 assumed_clients: Mapping[tuple[str, str | None], Any] | None = None) -> None:
        # Made on first use: a request that needs no AWS call (or has no time left for one) never pays for it.
        self._given_session = session
        self._clock = clock
        self._lock = threading.Lock()
        self._creating = threading.Lock()
        self._clients: dict[tuple[str, str | None], Any] = dict(clients or {})
        # Assumed-role sessions (credentials), least recently used first; expired ones are dropped.
        self._assumed: OrderedDict[tuple[str, str, str | None, str], AssumedSession] = OrderedDict()
        self._assumed_clients: dict[tuple[str, str | None], Any] = dict(assumed_clients or {})
        self._secrets: Any = None

    @property
    def _session(self) -> boto3.session.Session:
        if self._given_session is None:
            with self._lock:
                if self._given_session is None:
                    self._given_session = boto3.session.Session()
        return self._given_session

    @property
    def region(self) -> str | None:
        """The region clients use when a target names none (AWS_REGION in Lambda)."""
        return self._session.region_name

    # -- clients ----------------------------------------------------------------------------------
    def _client(self, service: str, region: str | None = None) -> Any:
        with self._lock:
            client = self._clients.get((service, region))
        if client is None:
            client = self._created(self._clients, (service, region), lambda: self._session.client(
                service, region_name=region, config=_CLIENT_CONFIG))
        return client

    def _created(self, clients: dict[tuple[str, str | None], Any], key: tuple[str, str | None],
                 make: Callable[[], Any]) -> Any:
        """A client made on a worker within the request's deadline: a cold container's first one loads the
        service's model, which takes a few hundred milliseconds of a small function's CPU."""
        def create() -> Any:
            with self._creating:  # one at a time: a boto3 session is not thread safe
                with self._lock:
                    existing = clients.get(key)
                if existing is not None:
                    return existing
                client = _stopping_when_late(make())
                with self._lock:
                    return clients.setdefault(key, client)
        left = deadline.remaining()
        try:
            if left is not None and left < _CLIENT_CREATION_SECONDS:
                # Not even started: given up on half-way, it would go on loading the model on another thread,
                # holding the interpreter while the page that says "try again" is rendered.
                raise DeadlineExceeded(f"creating the {key[0]} client")
            return deadline.call(f"creating the {key[0]} client", create)
        except DeadlineExceeded:
            raise AwsDown(f"creating the {key[0]} client", "not made in time") from None

    def warm(self, regions: Iterable[str | None], sts_regions: Iterable[str | None] = (),
             secrets: bool = False) -> None:
        """At init: the clients requests will use, with their service models and the operations they call
        loaded, so that a restored copy's first request builds none of it."""
        for region in _unique(regions):
            model = self._client("sagemaker", region).meta.service_model
            for operation in _WARM_SAGEMAKER_OPERATIONS:
                model.operation_model(operation)
        for region in _unique(sts_regions):
            self._client("sts", region).meta.service_model.operation_model("AssumeRole")
            model = self._assumed_client("sagemaker", region).meta.service_model
            for operation in _WARM_SAGEMAKER_OPERATIONS:
                model.operation_model(operation)
        if secrets:
            self._client("secretsmanager")

    def drop_connections(self) -> None:
        """Close every pooled connection. Before a snapshot, so that no connection (and no TLS session state) is
        shared by restored copies; after a restore, because the peer has long forgotten them."""
        with self._lock:
            clients = [*self._clients.values(), *self._assumed_clients.values()]
        for client in clients:
            # botocore has no public way to empty a client's connection pool; the pool opens new ones on demand.
            client._endpoint.http_session.close()

    def sagemaker(self, region: str | None = None, role_arn: str | None = None,
                  session_tags: dict[str, str] | None = None, session_name: str = "studio-portal") -> Any:
        """The function's own client, or an AssumedSession of ``role_arn`` named after ``session_name``."""
        if not role_arn:
            return self._client("sagemaker", region)
        tag_key = tuple(sorted((session_tags or {}).items()))
        # Per session name too: credentials named after one person are never reused for another.
        cache_key = (role_arn, repr(tag_key), region, session_name)
        with self._lock:
            cached = self._assumed.get(cache_key)
            if cached:
                self._assumed.move_to_end(cache_key)
        if cached and cached.expires - _CREDENTIAL_MARGIN_SECONDS > self._clock():
            return cached
        assumed = self._assume(role_arn, session_tags or {}, session_name, region)
        with self._lock:
            self._assumed[cache_key] = assumed
            now = self._clock()
            for key in [key for key, held in self._assumed.items() if held.expires - _CREDENTIAL_MARGIN_SECONDS <= now]:
                del self._assumed[key]
            while len(self._assumed) > _MAX_ASSUMED_SESSIONS:
                self._assumed.popitem(last=False)
        return assumed

    def _assume(self, role_arn: str, tags: dict[str, str], session_name: str, region: str | None) -> AssumedSession:
        request: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": role_session_name(session_name),
            "DurationSeconds": 3600,
        }
        if tags:
            request["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        credentials = self._call(self._client("sts", region), "AssumeRole", **request)["Credentials"]
        return AssumedSession(
            client=self._assumed_client("sagemaker", region),
            credentials=ReadOnlyCredentials(credentials["AccessKeyId"], credentials["SecretAccessKey"],
                                            credentials["SessionToken"]),
            expires=credentials["Expiration"].timestamp())

    def _assumed_client(self, service: str, region: str | None) -> Any:
        """The region's one client for assumed-role sessions: it signs each call with the credentials bound to it."""
        with self._lock:
            client = self._assumed_clients.get((service, region))
        if client is None:
            def make() -> Any:
                session = botocore.session.Session()
                session.register_component("credential_provider", _CallCredentialResolver())
                return boto3.session.Session(botocore_session=session, region_name=region or self.region).client(
                    service, config=_CLIENT_CONFIG)
            client = self._created(self._assumed_clients, (service, region), make)
        return client

    def _call(self, client: Any, operation: str, **request: Any) -> Any:
        """Every AWS call: an assumed session's credentials bound to it, bounded by the request's deadline,
        botocore's errors translated."""
        credentials = None
        if isinstance(client, AssumedSession):
            client, credentials = client.client, client.credentials
        bound = _CALL_CREDENTIALS.set(credentials)
        try:
            with translated(operation):
                # Retries and timeouts included, the call gets what is left of the request's time, no more.
                return deadline.call(operation, getattr(client, xform_name(operation)), **request)
        except DeadlineExceeded:
            raise AwsDown(operation, "no answer in time") from None
        finally:
            _CALL_CREDENTIALS.reset(bound)

    # -- SageMaker --------------------------------------------------------------------------------
    def describe_user_profile(self, client: Any, domain_id: str, profile: str) -> UserProfile:
        answer = self._call(client, "DescribeUserProfile", DomainId=domain_id, UserProfileName=profile)
        created = answer.get("CreationTime")
        return UserProfile(arn=answer["UserProfileArn"], status=answer.get("Status", ""),
                           created=created.timestamp() if hasattr(created, "timestamp") else 0.0)

    def list_spaces(self, client: Any, domain_id: str) -> list[Space]:
        spaces: list[Space] = []
        request: dict[str, Any] = {"DomainIdEquals": domain_id, "MaxResults": 100}
        while True:
            answer = self._call(client, "ListSpaces", **request)
            for summary in answer.get("Spaces", []):
                ownership = summary.get("OwnershipSettingsSummary") or {}
                sharing = summary.get("SpaceSharingSettingsSummary") or {}
                settings = summary.get("SpaceSettingsSummary") or {}
                spaces.append(Space(name=summary["SpaceName"], owner=ownership.get("OwnerUserProfileName"),
                                    shared=sharing.get("SharingType") == "Shared",
                                    app_type=settings.get("AppType"), status=summary.get("Status", "")))
            if not answer.get("NextToken") or len(spaces) >= 1000:
                return spaces
            request["NextToken"] = answer["NextToken"]

    def create_user_profile(self, client: Any, *, domain_id: str, profile: str, tags: dict[str, str],
                            user_settings: dict[str, Any]) -> None:
        self._call(client, "CreateUserProfile", DomainId=domain_id, UserProfileName=profile,
                   Tags=[{"Key": key, "Value": value} for key, value in tags.items()], UserSettings=user_settings)

    def add_tags(self, client: Any, resource_arn: str, tags: dict[str, str]) -> None:
        self._call(client, "AddTags", ResourceArn=resource_arn,
                   Tags=[{"Key": key, "Value": value} for key, value in tags.items()])

    def list_tags(self, client: Any, resource_arn: str) -> dict[str, str]:
        tags: dict[str, str] = {}
        request: dict[str, Any] = {"ResourceArn": resource_arn, "MaxResults": 100}
        while True:
            answer = self._call(client, "ListTags", **request)
            tags.update({tag["Key"]: tag["Value"] for tag in answer.get("Tags", [])})
            if not answer.get("NextToken"):
                return tags
            request["NextToken"] = answer["NextToken"]

    def describe_domain(self, client: Any, domain_id: str) -> Domain:
        answer = self._call(client, "DescribeDomain", DomainId=domain_id)
        return Domain(auth_mode=answer.get("AuthMode", ""), status=answer.get("Status", ""),
                      arn=answer.get("DomainArn", ""))

    def create_presigned_url(self, client: Any, *, domain_id: str, profile: str, expires_seconds: int,
                             session_seconds: int, space: str | None = None, landing_uri: str | None = None) -> str:
        request: dict[str, Any] = {
            "DomainId": domain_id,
            "UserProfileName": profile,
            "ExpiresInSeconds": expires_seconds,
            "SessionExpirationDurationInSeconds": session_seconds,
        }
        if space:
            request["SpaceName"] = space
        if landing_uri:
            request["LandingUri"] = landing_uri
        return self._call(client, "CreatePresignedDomainUrl", **request)["AuthorizedUrl"]

    # -- Secrets Manager --------------------------------------------------------------------------
    def get_secret(self, secret_id: str, fresh: bool = False) -> str:
        """A secret's string value, cached by Powertools Parameters for five minutes; ``fresh`` reads it from
        Secrets Manager whatever the cache holds (and refreshes the cache)."""
        from aws_lambda_powertools.utilities.parameters import SecretsProvider
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        if self._secrets is None:
            client = self._client("secretsmanager")  # takes the lock itself: not inside it
            with self._lock:
                if self._secrets is None:
                    self._secrets = SecretsProvider(boto3_client=client)
        provider = self._secrets
        try:
            value = deadline.call("GetSecretValue", provider.get, secret_id, max_age=300, force_fetch=fresh)
        except DeadlineExceeded:
            raise AwsDown("GetSecretValue", "no answer in time") from None
        except GetParameterError as error:
            # Powertools raises its own error inside the except block of the AWS one.
            cause = error.__context__
            raise _signal(cause if isinstance(cause, ClientError | BotoCoreError) else error,
                          "GetSecretValue") from None
        if isinstance(value, bytes):
            value = value.decode()
        return str(value)
