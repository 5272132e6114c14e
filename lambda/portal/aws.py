"""The only module that talks to AWS: SageMaker, STS and Secrets Manager.

AWS errors are translated here into what the rest of the portal reasons about, so nothing above
this module sees botocore. Clients are created lazily and reused for the life of the container.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from portal.errors import AwsRefused, AwsThrottled, AwsUnavailable

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
_MAX_ASSUMED_SESSIONS = 500
_SESSION_NAME_UNSAFE = re.compile(r"[^\w+=,.@-]")
_WARM_SAGEMAKER_OPERATIONS = ("DescribeUserProfile", "ListTags", "CreatePresignedDomainUrl", "DescribeDomain",
                              "ListSpaces")


def _unique(items: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


class AwsNotFound(Exception):
    """The named domain, profile or space does not exist."""


class AwsInvalid(Exception):
    """SageMaker rejected the request as invalid (for instance a domain not in IAM auth mode)."""


class AwsConflict(Exception):
    """The resource already exists or is being changed."""


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


def _translate(error: Exception, operation: str) -> Exception:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("ResourceNotFound", "ResourceNotFoundException"):
            return AwsNotFound(operation)
        if code in ("ResourceInUse", "ResourceInUseException", "ConflictException"):
            return AwsConflict(operation)
        if code in _THROTTLING_CODES:
            return AwsThrottled(f"{operation}: {code}")
        if code in _UNAVAILABLE_CODES or status >= 500:
            return AwsUnavailable(f"{operation}: {code or status}")
        if code in _REFUSED_CODES:
            return AwsRefused(f"{operation}: {code}")
        if code == "ValidationException":
            return AwsInvalid(f"{operation}: {code}")
        return AwsRefused(f"{operation}: {code or status}")
    # Connection failures, timeouts, missing credentials: botocore's own errors.
    return AwsUnavailable(f"{operation}: {type(error).__name__}")


class AwsGateway:
    """SageMaker calls for one region, optionally through an assumed role; secrets for the portal."""

    def __init__(self, session: boto3.session.Session | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._session = session or boto3.session.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str | None], Any] = {}
        # Assumed-role clients, least recently used first; bounded so ten thousand users fit in memory.
        self._assumed: OrderedDict[tuple[str, str, str | None, str], tuple[Any, float]] = OrderedDict()
        self._secrets: Any = None

    @property
    def region(self) -> str | None:
        """The region clients use when a target names none (AWS_REGION in Lambda)."""
        return self._session.region_name

    # -- clients ----------------------------------------------------------------------------------
    def _client(self, service: str, region: str | None = None) -> Any:
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
        if client is None:
            client = self._session.client(service, region_name=region, config=_CLIENT_CONFIG)
            with self._lock:
                self._clients.setdefault(key, client)
        return client

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
        if secrets:
            self._client("secretsmanager")

    def drop_connections(self) -> None:
        """Close every pooled connection. Before a snapshot, so that no connection (and no TLS session state) is
        shared by restored copies; after a restore, because the peer has long forgotten them."""
        with self._lock:
            clients = [*self._clients.values(), *(client for client, _ in self._assumed.values())]
        for client in clients:
            # botocore has no public way to empty a client's connection pool; the pool opens new ones on demand.
            client._endpoint.http_session.close()

    def sagemaker(self, region: str | None = None, role_arn: str | None = None,
                  session_tags: dict[str, str] | None = None, session_name: str = "studio-portal") -> Any:
        if not role_arn:
            return self._client("sagemaker", region)
        tag_key = tuple(sorted((session_tags or {}).items()))
        # Per session name too: credentials named after one person are never reused for another.
        cache_key = (role_arn, repr(tag_key), region, session_name)
        with self._lock:
            cached = self._assumed.get(cache_key)
            if cached:
                self._assumed.move_to_end(cache_key)
        if cached and cached[1] - _CREDENTIAL_MARGIN_SECONDS > self._clock():
            return cached[0]
        client, expires = self._assume(role_arn, session_tags or {}, session_name, region)
        with self._lock:
            self._assumed[cache_key] = (client, expires)
            while len(self._assumed) > _MAX_ASSUMED_SESSIONS:
                self._assumed.popitem(last=False)
        return client

    def _assume(self, role_arn: str, tags: dict[str, str], session_name: str, region: str | None) -> Any:
        request: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": _SESSION_NAME_UNSAFE.sub("-", session_name)[:64].ljust(2, "-"),
            "DurationSeconds": 3600,
        }
        if tags:
            request["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        try:
            credentials = self._client("sts", region).assume_role(**request)["Credentials"]
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "AssumeRole") from None
        client = self.client_with_credentials("sagemaker", region, credentials)
        return client, credentials["Expiration"].timestamp()

    def client_with_credentials(self, service: str, region: str | None, credentials: dict[str, Any]) -> Any:
        # From the container's own session, which has the service model loaded already.
        return self._session.client(service, region_name=region, config=_CLIENT_CONFIG,
                                    aws_access_key_id=credentials["AccessKeyId"],
                                    aws_secret_access_key=credentials["SecretAccessKey"],
                                    aws_session_token=credentials["SessionToken"])

    # -- SageMaker --------------------------------------------------------------------------------
    def describe_user_profile(self, client: Any, domain_id: str, profile: str) -> UserProfile:
        try:
            answer = client.describe_user_profile(DomainId=domain_id, UserProfileName=profile)
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "DescribeUserProfile") from None
        created = answer.get("CreationTime")
        return UserProfile(arn=answer["UserProfileArn"], status=answer.get("Status", ""),
                           created=created.timestamp() if hasattr(created, "timestamp") else 0.0)

    def list_spaces(self, client: Any, domain_id: str) -> list[Space]:
        spaces: list[Space] = []
        request: dict[str, Any] = {"DomainIdEquals": domain_id, "MaxResults": 100}
        try:
            while True:
                answer = client.list_spaces(**request)
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
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "ListSpaces") from None

    def create_user_profile(self, client: Any, *, domain_id: str, profile: str, tags: dict[str, str],
                            user_settings: dict[str, Any]) -> None:
        try:
            client.create_user_profile(DomainId=domain_id, UserProfileName=profile,
                                       Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
                                       UserSettings=user_settings)
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "CreateUserProfile") from None

    def add_tags(self, client: Any, resource_arn: str, tags: dict[str, str]) -> None:
        try:
            client.add_tags(ResourceArn=resource_arn,
                            Tags=[{"Key": key, "Value": value} for key, value in tags.items()])
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "AddTags") from None

    def list_tags(self, client: Any, resource_arn: str) -> dict[str, str]:
        tags: dict[str, str] = {}
        request: dict[str, Any] = {"ResourceArn": resource_arn, "MaxResults": 100}
        try:
            while True:
                answer = client.list_tags(**request)
                tags.update({tag["Key"]: tag["Value"] for tag in answer.get("Tags", [])})
                if not answer.get("NextToken"):
                    return tags
                request["NextToken"] = answer["NextToken"]
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "ListTags") from None

    def describe_domain(self, client: Any, domain_id: str) -> Domain:
        try:
            answer = client.describe_domain(DomainId=domain_id)
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "DescribeDomain") from None
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
        try:
            return client.create_presigned_domain_url(**request)["AuthorizedUrl"]
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, "CreatePresignedDomainUrl") from None

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
            value = provider.get(secret_id, max_age=300, force_fetch=fresh)
        except GetParameterError as error:
            # Powertools raises its own error inside the except block of the AWS one.
            cause = error.__context__
            raise _translate(cause if isinstance(cause, ClientError | BotoCoreError) else error,
                             "GetSecretValue") from None
        if isinstance(value, bytes):
            value = value.decode()
        return str(value)
