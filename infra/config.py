"""Deployment settings: read from CDK context (cdk.json defaults, ``-c key=value`` overrides) and validated
once, before any construct is built.

Every problem is reported together, each naming the context key, the value it got and what is allowed, so
that ``cdk synth -c domainId=oops`` fails with a message an operator can act on instead of a stack trace or,
worse, a template that only fails half-way through ``cdk deploy``.

Values given with ``-c`` arrive as strings; values in cdk.json keep their JSON types. Both are accepted:
``"true"``/``true``, ``"30"``/``30``, ``"10.0.0.0/8,192.168.0.0/16"``/``["10.0.0.0/8", ...]``, and
``targets`` as a JSON string or a JSON list. ``targets`` is checked by the function's own validator
(``portal.targets.parse_targets``, from lambda/), so synth refuses exactly what the deployed portal would.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# --- patterns taken from the AWS API references -----------------------------------------------------------
DOMAIN_ID_PATTERN = re.compile(r"^d-(-*[a-z0-9]){1,61}$")  # SageMaker DomainId, at most 63 characters
STACK_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
STAGE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,128}$")
# Cognito domain prefixes: lowercase letters, digits and hyphens, and AWS reserves some words.
COGNITO_PREFIX_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
COGNITO_PREFIX_RESERVED = ("aws", "amazon", "cognito")
PROVIDER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{1,30}[A-Za-z0-9]$")
CLAIM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_:.\-/]{1,128}$")
# IAM tag keys (also usable in condition keys such as sagemaker:ResourceTag/<key>).
TAG_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:/=+\-@]{1,128}$")
SECRET_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")
KMS_KEY_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
CERTIFICATE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
SNS_TOPIC_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
HOSTED_ZONE_ID_PATTERN = re.compile(r"^Z[A-Z0-9]{1,31}$")
VPC_ENDPOINT_ID_PATTERN = re.compile(r"^vpce-[0-9a-f]{8,17}$")
DNS_NAME_PATTERN = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Lambda allows 4 KB for all of a function's environment variables together; the others take about 1 KB.
TARGETS_ENV_MAX_BYTES = 3000

# The value cdk.json ships with, so that `make synth` works on a fresh clone; deploying it is refused loudly.
PLACEHOLDER_DOMAIN_ID = "d-xxxxxxxxxxxx"


def arn_region(arn: str) -> str:
    """The region field of an ARN (``arn:partition:service:region:account:resource``)."""
    return arn.split(":")[3]


def _loose_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


class ConfigError(ValueError):
    """The CDK context is unusable. ``problems`` holds one line per key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"Invalid CDK context (set in cdk.json or with -c key=value):\n{lines}")


# --- the typed model ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetProvisioning:
    """First-visit provisioning of a target: what ``CreateUserProfile`` may pass and tag."""

    execution_role_arn: str
    tag_keys: tuple[str, ...]  # the target's extra tag keys (the owner tag comes on top)


@dataclass(frozen=True)
class StudioTarget:
    """One SageMaker Studio domain the portal launches into: what IAM needs to know about it.

    ``domainId`` gives one of these; the ``targets`` context list (validated by the runtime's own
    ``portal.targets.parse_targets``) gives several. A target with ``role_arn`` is reached by assuming that
    role, so its SageMaker permissions live on the role, not on the function.
    """

    domain_id: str
    id: str = "studio"
    region: str | None = None  # None: the stack's region
    role_arn: str | None = None
    tag_session: bool = False
    provision: TargetProvisioning | None = None

    @property
    def via_role(self) -> bool:
        return self.role_arn is not None


@dataclass(frozen=True)
class SamlFederation:
    provider_name: str
    metadata_url: str
    email_attribute: str
    email_verified_attribute: str


@dataclass(frozen=True)
class OidcFederation:
    provider_name: str
    issuer: str
    client_id: str
    client_secret_arn: str


@dataclass(frozen=True)
class CognitoSettings:
    """A user pool created by the stack, optionally federated to the corporate IdP."""

    domain_prefix: str | None  # None: derived from the stack name and the account id at deploy time
    feature_plan: str  # "essentials" | "plus"
    mfa: str  # "required" | "optional" | "off"  (applies to users local to the pool, not federated ones)
    federation: SamlFederation | OidcFederation | None
    client_generation: int = 1  # bump to replace the app client, and with it its secret


@dataclass(frozen=True)
class ExternalOidc:
    """Bring your own OpenID Connect provider: no Cognito at all."""

    issuer: str
    client_id: str
    client_secret_arn: str  # Secrets Manager secret holding the client secret (plain string)
    client_secret_kms_key_arn: str | None  # customer managed key encrypting that secret, if any


@dataclass(frozen=True)
class CustomDomain:
    name: str
    certificate_arn: str
    hosted_zone_id: str | None
    hosted_zone_name: str | None


@dataclass(frozen=True)
class NetworkSettings:
    endpoint_type: str  # "regional" | "private"
    vpc_endpoint_ids: tuple[str, ...]
    allowed_cidrs: tuple[str, ...]

    @property
    def restricted(self) -> bool:
        return self.endpoint_type == "private" or bool(self.allowed_cidrs)


@dataclass(frozen=True)
class WafSettings:
    enabled: bool
    rate_limit: int  # requests per client IP per 5-minute window


@dataclass(frozen=True)
class PortalConfig:
    stack_name: str
    targets: tuple[StudioTarget, ...]
    identity_source: str  # "cognito" | "oidc"
    cognito: CognitoSettings | None
    external_oidc: ExternalOidc | None
    identity_claim: str
    groups_claim: str
    owner_tag: str
    enforce_owner_tag_in_iam: bool
    require_verified_email: bool
    url_expires_seconds: int
    studio_session_seconds: int
    portal_session_seconds: int
    custom_domain: CustomDomain | None
    network: NetworkSettings
    waf: WafSettings
    log_retention_days: int
    throttle_rate_limit: int
    throttle_burst_limit: int
    reserved_concurrency: int | None
    log_level: str
    alarm_email: str | None
    alarm_topic_arn: str | None
    api_gateway_cloudwatch_role: bool
    stage_name: str
    # Lambda SnapStart on the published version the API invokes (through the alias).
    snap_start: bool = True
    # PORTAL_TARGETS (compact JSON) when the targets came from the `targets` context key; None with domainId.
    targets_json: str | None = None

    @property
    def domain_id(self) -> str:
        return self.targets[0].domain_id

    @property
    def local_targets(self) -> tuple[StudioTarget, ...]:
        """The targets the function's own role reaches (no ``role_arn``): they get SageMaker permissions."""
        return tuple(target for target in self.targets if not target.via_role)

    @property
    def uses_placeholder_domain(self) -> bool:
        return any(target.domain_id == PLACEHOLDER_DOMAIN_ID for target in self.targets)

    @property
    def regional_arns(self) -> tuple[tuple[str, str], ...]:
        """(context key, ARN) of each given resource that must be in the stack's region: the certificate
        (API Gateway regional domains), the secrets and the KMS key (the function reads them in its region)."""
        found = []
        if self.custom_domain is not None and self.custom_domain.certificate_arn:
            found.append(("certificateArn", self.custom_domain.certificate_arn))
        federation = self.cognito.federation if self.cognito is not None else None
        if isinstance(federation, OidcFederation):
            found.append(("federationOidcClientSecretArn", federation.client_secret_arn))
        if self.external_oidc is not None:
            found.append(("oidcClientSecretArn", self.external_oidc.client_secret_arn))
            if self.external_oidc.client_secret_kms_key_arn:
                found.append(("oidcClientSecretKmsKeyArn", self.external_oidc.client_secret_kms_key_arn))
        return tuple(found)

    def region_problems(self, region: str | None) -> list[str]:
        """With the stack's region known (CDK_DEPLOY_REGION), each given ARN must be in it; without it, they must
        at least agree with each other (the template then asserts that region at deploy time)."""
        arns = self.regional_arns
        if region is not None:
            return [f"{key}: got {arn!r}, which is in {arn_region(arn)}; expected a resource in the stack's "
                    f"region {region} (CDK_DEPLOY_REGION)" for key, arn in arns if arn_region(arn) != region]
        regions = sorted({arn_region(arn) for _, arn in arns})
        if len(regions) <= 1:
            return []
        named = ", ".join(f"{key} in {arn_region(arn)}" for key, arn in arns)
        return [f"{', '.join(key for key, _ in arns)}: are in different regions ({named}); expected all in the "
                "region the stack is deployed to"]

    @staticmethod
    def from_context(get: Callable[[str], Any], keys: list[str] | None = None) -> PortalConfig:
        """Build from a context getter (``app.node.try_get_context``); ``keys`` (all context keys) lets
        misspelt keys be reported instead of silently ignored."""
        return _Reader(get, keys).read()

    @staticmethod
    def from_mapping(values: Mapping[str, Any]) -> PortalConfig:
        return _Reader(values.get, list(values)).read()


# --- the context keys: name -> default (None: no default) ----------------------------------------------------
DEFAULTS: dict[str, Any] = {
    "stackName": "SageMakerStudioPortal",
    "domainId": None,
    "targets": None,
    "identitySource": "cognito",
    "cognitoDomainPrefix": None,
    "cognitoFeaturePlan": "essentials",
    "cognitoMfa": "required",
    "cognitoClientGeneration": 1,
    "federation": "none",
    "federationProviderName": "CorporateIdP",
    "samlMetadataUrl": None,
    "samlEmailAttribute": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "samlEmailVerifiedAttribute": "email_verified",
    "federationOidcIssuer": None,
    "federationOidcClientId": None,
    "federationOidcClientSecretArn": None,
    "oidcIssuer": None,
    "oidcClientId": None,
    "oidcClientSecretArn": None,
    "oidcClientSecretKmsKeyArn": None,
    "identityClaim": "email",
    "groupsClaim": "cognito:groups",
    "requireVerifiedEmail": True,
    "ownerTag": "studiouserid",
    "enforceOwnerTagInIam": False,
    "urlExpiresSeconds": 30,
    "studioSessionSeconds": 43200,
    "portalSessionSeconds": 28800,
    "customDomainName": None,
    "certificateArn": None,
    "hostedZoneId": None,
    "hostedZoneName": None,
    "endpointType": "regional",
    "vpcEndpointIds": [],
    "allowedCidrs": [],
    "waf": True,
    "wafRateLimit": 1000,
    "logRetentionDays": 365,
    "throttleRateLimit": 25,
    "throttleBurstLimit": 50,
    "reservedConcurrency": None,
    "logLevel": "INFO",
    "alarmEmail": None,
    "alarmTopicArn": None,
    "apiGatewayCloudWatchRole": True,
    "stageName": "prod",
    "snapStart": True,
}

# Context keys of the portal look like this; CDK's own keys contain ':' or '@' or '-'.
_OWN_KEY = re.compile(r"^[a-z][A-Za-z0-9]*$")
# camelCase keys that belong to the CDK CLI or library rather than to the portal.
_CDK_KEYS = frozenset({"versionReporting", "pathMetadata", "assetMetadata", "staging", "notices"})


class _Reader:
    def __init__(self, get: Callable[[str], Any], keys: list[str] | None) -> None:
        self._get = get
        self._keys = keys or []
        self.problems: list[str] = []

    # -- primitives -------------------------------------------------------------------------------------
    def raw(self, key: str) -> Any:
        value = self._get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return DEFAULTS[key]
        return value.strip() if isinstance(value, str) else value

    def fail(self, key: str, value: Any, expected: str) -> None:
        self.problems.append(f"{key}: got {value!r}; expected {expected}")

    def text(self, key: str, pattern: re.Pattern[str] | None = None, expected: str = "",
             required: bool = False) -> str | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.problems.append(f"{key}: is required; expected {expected}")
            return None
        if not isinstance(value, str):
            self.fail(key, value, expected or "a string")
            return None
        if pattern is not None and not pattern.match(value):
            self.fail(key, value, expected)
            return None
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.raw(key)
        normalized = value.lower() if isinstance(value, str) else value
        if normalized not in allowed:
            self.fail(key, value, "one of " + ", ".join(allowed))
            return str(DEFAULTS[key])
        return str(normalized)

    def flag(self, key: str) -> bool:
        value = self.raw(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        self.fail(key, value, "true or false")
        return bool(DEFAULTS[key])

    def number(self, key: str, low: int, high: int, unit: str = "") -> int:
        value = self.raw(key)
        expected = f"a whole number{unit} from {low} to {high}"
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError):
            self.fail(key, value, expected)
            return int(DEFAULTS[key] or low)
        if not low <= number <= high:
            self.fail(key, value, expected)
            return int(DEFAULTS[key] or low)
        return number

    def items(self, key: str) -> list[str]:
        value = self.raw(key)
        if isinstance(value, str):
            if value.startswith("["):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    self.fail(key, value, "a JSON list or a comma-separated list")
                    return []
            else:
                value = [part for part in (piece.strip() for piece in value.split(",")) if part]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(key, value, "a list of strings (JSON) or a comma-separated string")
            return []
        return [item.strip() for item in value]

    def https_url(self, key: str, required: bool) -> str | None:
        value = self.text(key, expected="an https:// URL", required=required)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or parts.fragment:
            self.fail(key, value, "an https:// URL")
            return None
        return value

    # -- the whole configuration -------------------------------------------------------------------------
    def read(self) -> PortalConfig:
        self.check_unknown_keys()
        stack_name = self.text("stackName", STACK_NAME_PATTERN,
                               "letters, digits and hyphens, starting with a letter (at most 128)")
        with_targets = self.raw("targets") is not None
        domain_id = None
        if with_targets:
            # cdk.json ships the placeholder domainId: it stands for "not chosen", so `-c targets=...` alone works.
            if self.raw("domainId") not in (None, PLACEHOLDER_DOMAIN_ID):
                self.problems.append(
                    "domainId, targets: give one or the other: domainId for one Studio domain, targets for several "
                    "(with targets, remove domainId from cdk.json or pass -c domainId=)")
        else:
            domain_id = self.text("domainId", DOMAIN_ID_PATTERN,
                                  "a SageMaker Studio domain id matching d-(-*[a-z0-9]){1,61}, e.g. d-abc123def456 "
                                  "(aws sagemaker list-domains), or a targets list for several domains",
                                  required=True)
            if domain_id is not None and len(domain_id) > 63:
                self.fail("domainId", domain_id, "at most 63 characters")

        identity_source = self.choice("identitySource", ("cognito", "oidc"))
        federation_kind = self.choice("federation", ("none", "saml", "oidc"))
        cognito = external = None
        if identity_source == "cognito":
            cognito = self.read_cognito(federation_kind)
            self.only_with(("oidcIssuer", "oidcClientId", "oidcClientSecretArn", "oidcClientSecretKmsKeyArn"),
                           "identitySource=oidc (bring your own issuer); to federate Cognito use the "
                           "federation* keys")
        else:
            external = self.read_external_oidc()
            if federation_kind != "none":
                self.problems.append("federation: applies only with identitySource=cognito; with "
                                     "identitySource=oidc the portal talks to your issuer directly")
            self.only_with(("cognitoDomainPrefix", "cognitoFeaturePlan", "cognitoMfa", "cognitoClientGeneration"),
                           "identitySource=cognito")

        identity_claim = self.text("identityClaim", CLAIM_NAME_PATTERN,
                                   "an ID token claim name such as email, preferred_username or upn")
        groups_claim = self.text("groupsClaim", CLAIM_NAME_PATTERN,
                                 "an ID token claim name such as cognito:groups or groups")
        owner_tag = self.text("ownerTag", TAG_KEY_PATTERN,
                              "a tag key: letters, digits and _.:/=+-@ (at most 128)")
        if owner_tag is not None and owner_tag.lower().startswith("aws:"):
            self.fail("ownerTag", owner_tag, "a tag key not starting with aws: (reserved by AWS)")
            owner_tag = None

        targets: tuple[StudioTarget, ...] = (StudioTarget(domain_id=domain_id or PLACEHOLDER_DOMAIN_ID),)
        targets_json = None
        if with_targets:
            read = self.read_targets(identity_claim or "email")
            if read is not None:
                targets, targets_json = read
        enforce_owner_tag = self.flag("enforceOwnerTagInIam")
        if with_targets and targets_json and enforce_owner_tag and not any(not t.via_role for t in targets):
            self.problems.append(
                "enforceOwnerTagInIam: applies to targets reached with the function's own role (without role_arn), "
                "and every target has role_arn; enforce ownership in those roles' policies instead (docs/deploy.md)")

        custom_domain = self.read_custom_domain()
        network = self.read_network()
        if network.endpoint_type == "private" and custom_domain is not None:
            self.problems.append("customDomainName: is not supported with endpointType=private by this stack; "
                                 "use the execute-api URL through your VPC endpoint, or a regional endpoint")

        alarm_email = self.text("alarmEmail", EMAIL_PATTERN, "an email address for alarm notifications")
        alarm_topic = self.text("alarmTopicArn", SNS_TOPIC_ARN_PATTERN, "an SNS topic ARN")
        reserved = None if self.raw("reservedConcurrency") is None else self.number(
            "reservedConcurrency", 1, 1000, " of concurrent executions")

        config = PortalConfig(
            stack_name=stack_name or str(DEFAULTS["stackName"]),
            targets=targets,
            targets_json=targets_json,
            identity_source=identity_source,
            cognito=cognito,
            external_oidc=external,
            identity_claim=identity_claim or "email",
            groups_claim=groups_claim or "cognito:groups",
            owner_tag=owner_tag or "studiouserid",
            enforce_owner_tag_in_iam=enforce_owner_tag,
            require_verified_email=self.flag("requireVerifiedEmail"),
            # The ranges are CreatePresignedDomainUrl's own (ExpiresInSeconds, SessionExpirationDurationInSeconds).
            url_expires_seconds=self.number("urlExpiresSeconds", 5, 300, " of seconds"),
            studio_session_seconds=self.number("studioSessionSeconds", 1800, 43200, " of seconds"),
            portal_session_seconds=self.number("portalSessionSeconds", 300, 7 * 24 * 3600, " of seconds"),
            custom_domain=custom_domain,
            network=network,
            waf=WafSettings(enabled=self.flag("waf"),
                            rate_limit=self.number("wafRateLimit", 10, 2_000_000_000,
                                                   " of requests per IP per 5 minutes")),
            log_retention_days=self.read_retention(),
            throttle_rate_limit=self.number("throttleRateLimit", 1, 10000, " of requests per second"),
            throttle_burst_limit=self.number("throttleBurstLimit", 1, 5000, " of requests"),
            reserved_concurrency=reserved,
            log_level=self.choice_upper("logLevel", LOG_LEVELS),
            alarm_email=alarm_email,
            alarm_topic_arn=alarm_topic,
            api_gateway_cloudwatch_role=self.flag("apiGatewayCloudWatchRole"),
            stage_name=self.text("stageName", STAGE_NAME_PATTERN,
                                 "letters, digits and underscores (at most 128)") or "prod",
            snap_start=self.flag("snapStart"),
        )
        if self.problems:
            raise ConfigError(self.problems)
        return config

    def choice_upper(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or value.upper() not in allowed:
            self.fail(key, value, "one of " + ", ".join(allowed))
            return str(DEFAULTS[key])
        return value.upper()

    def only_with(self, keys: tuple[str, ...], condition: str) -> None:
        for key in keys:
            value = self._get(key)
            if value is not None and not (isinstance(value, str) and not value.strip()):
                self.problems.append(f"{key}: applies only with {condition}")

    def check_unknown_keys(self) -> None:
        for key in self._keys:
            if _OWN_KEY.match(key) and key not in DEFAULTS and key not in _CDK_KEYS:
                close = difflib.get_close_matches(key, DEFAULTS, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.problems.append(f"{key}: is not a setting of this portal{hint}; the settings are "
                                     "listed in docs/deploy.md")

    def read_cognito(self, federation_kind: str) -> CognitoSettings:
        prefix = self.text("cognitoDomainPrefix", COGNITO_PREFIX_PATTERN,
                           "lowercase letters, digits and hyphens (at most 63), not starting or ending "
                           "with a hyphen")
        if prefix is not None and any(word in prefix for word in COGNITO_PREFIX_RESERVED):
            self.fail("cognitoDomainPrefix", prefix, "a prefix without the reserved words aws, amazon, cognito")
        federation: SamlFederation | OidcFederation | None = None
        name_expected = "3-32 letters, digits, dots or hyphens (the name users see on the sign-in page)"
        if federation_kind == "saml":
            federation = SamlFederation(
                provider_name=self.text("federationProviderName", PROVIDER_NAME_PATTERN, name_expected)
                or "CorporateIdP",
                metadata_url=self.https_url("samlMetadataUrl", required=True) or "",
                email_attribute=self.text("samlEmailAttribute", expected="a SAML attribute name") or "",
                email_verified_attribute=self.text("samlEmailVerifiedAttribute",
                                                   expected="a SAML attribute name") or "",
            )
        elif federation_kind == "oidc":
            federation = OidcFederation(
                provider_name=self.text("federationProviderName", PROVIDER_NAME_PATTERN, name_expected)
                or "CorporateIdP",
                issuer=self.https_url("federationOidcIssuer", required=True) or "",
                client_id=self.text("federationOidcClientId", expected="the client id registered at your IdP",
                                    required=True) or "",
                client_secret_arn=self.text(
                    "federationOidcClientSecretArn", SECRET_ARN_PATTERN,
                    "the ARN of a Secrets Manager secret holding the IdP client secret as plain text",
                    required=True) or "",
            )
        if federation_kind != "saml":
            self.only_with(("samlMetadataUrl", "samlEmailAttribute", "samlEmailVerifiedAttribute"),
                           "federation=saml")
        if federation_kind != "oidc":
            self.only_with(("federationOidcIssuer", "federationOidcClientId", "federationOidcClientSecretArn"),
                           "federation=oidc")
        if federation_kind == "none":
            self.only_with(("federationProviderName",), "federation=saml or federation=oidc")
        return CognitoSettings(
            domain_prefix=prefix,
            feature_plan=self.choice("cognitoFeaturePlan", ("essentials", "plus")),
            mfa=self.choice("cognitoMfa", ("required", "optional", "off")),
            federation=federation,
            client_generation=self.number("cognitoClientGeneration", 1, 1000, ""),
        )

    def read_external_oidc(self) -> ExternalOidc:
        return ExternalOidc(
            issuer=(self.https_url("oidcIssuer", required=True) or "").rstrip("/"),
            client_id=self.text("oidcClientId", expected="the client id registered at your IdP",
                                required=True) or "",
            client_secret_arn=self.text(
                "oidcClientSecretArn", SECRET_ARN_PATTERN,
                "the full ARN of a Secrets Manager secret holding the client secret (plain text or JSON "
                '{"client_id": ..., "client_secret": ...})', required=True) or "",
            client_secret_kms_key_arn=self.text("oidcClientSecretKmsKeyArn", KMS_KEY_ARN_PATTERN,
                                                "the ARN of the KMS key that encrypts that secret"),
        )

    def read_targets(self, identity_claim: str) -> tuple[tuple[StudioTarget, ...], str] | None:
        """The ``targets`` list, checked by the function's own validator so that synth refuses exactly what the
        deployed portal would refuse; returns the typed targets and PORTAL_TARGETS as compact JSON."""
        value = self.raw("targets")
        if isinstance(value, str):
            raw_json = value
        elif isinstance(value, list):
            raw_json = json.dumps(value)
        else:
            self.fail("targets", value, "a JSON list of targets (docs/deploy.md)")
            return None
        # lambda/ is on sys.path (app.py puts it there; the Makefile and the tests set PYTHONPATH).
        from portal.targets import parse_targets

        try:
            parsed = parse_targets(raw_json, identity_claim)
        except ValueError as error:  # portal.config.ConfigError, whose messages name PORTAL_TARGETS
            message = re.sub(r"^PORTAL_TARGETS\b:?\s*", "", str(error))
            self.problems.append(f"targets: {message}")
            return None
        compact = json.dumps(json.loads(raw_json), separators=(",", ":"), ensure_ascii=False)
        size = len(compact.encode())
        if size > TARGETS_ENV_MAX_BYTES:
            self.problems.append(
                f"targets: is {size} bytes as PORTAL_TARGETS, more than the {TARGETS_ENV_MAX_BYTES} bytes this stack "
                "allows it (Lambda allows 4 KB for all environment variables together); shorten labels, or split "
                "the targets across two portals")
            return None
        targets = tuple(
            StudioTarget(
                domain_id=target.domain_id, id=target.id, region=target.region, role_arn=target.role_arn,
                tag_session=target.tag_session,
                provision=None if target.provision is None else TargetProvisioning(
                    execution_role_arn=target.provision.execution_role_arn,
                    tag_keys=tuple(key for key, _ in target.provision.tags)),
            )
            for target in parsed
        )
        return targets, compact

    def read_custom_domain(self) -> CustomDomain | None:
        name = self.text("customDomainName", DNS_NAME_PATTERN, "a lowercase DNS name such as studio.example.com")
        certificate = self.text("certificateArn", CERTIFICATE_ARN_PATTERN,
                                "an ACM certificate ARN in the stack's region covering customDomainName")
        zone_id = self.text("hostedZoneId", HOSTED_ZONE_ID_PATTERN, "a Route 53 hosted zone id (Z...)")
        zone_name = self.text("hostedZoneName", DNS_NAME_PATTERN, "the hosted zone's DNS name")
        if name is None:
            for key, value in (("certificateArn", certificate), ("hostedZoneId", zone_id),
                               ("hostedZoneName", zone_name)):
                if value is not None:
                    self.problems.append(f"{key}: applies only together with customDomainName")
            return None
        if certificate is None and self.raw("certificateArn") is None:
            self.problems.append("certificateArn: is required with customDomainName; expected an ACM "
                                 "certificate ARN in the stack's region")
        if (zone_id is None) != (zone_name is None):
            self.problems.append("hostedZoneId, hostedZoneName: give both (to create the alias record) "
                                 "or neither (to create the DNS record yourself)")
        if zone_name is not None and not (name == zone_name or name.endswith("." + zone_name)):
            self.fail("hostedZoneName", zone_name, f"a zone that contains {name}")
        return CustomDomain(name=name, certificate_arn=certificate or "", hosted_zone_id=zone_id,
                            hosted_zone_name=zone_name)

    def read_network(self) -> NetworkSettings:
        endpoint_type = self.choice("endpointType", ("regional", "private"))
        endpoints = self.items("vpcEndpointIds")
        for endpoint in endpoints:
            if not VPC_ENDPOINT_ID_PATTERN.match(endpoint):
                self.fail("vpcEndpointIds", endpoint, "VPC endpoint ids such as vpce-0123456789abcdef0")
        if endpoint_type == "private" and not endpoints:
            self.problems.append("vpcEndpointIds: is required with endpointType=private; expected the ids of "
                                 "the execute-api interface endpoints allowed to reach the portal")
        if endpoint_type != "private" and endpoints:
            self.problems.append("vpcEndpointIds: applies only with endpointType=private")
        cidrs = []
        for cidr in self.items("allowedCidrs"):
            try:
                cidrs.append(str(ipaddress.ip_network(cidr, strict=True)))
            except ValueError:
                network = _loose_network(cidr)
                if network is not None:
                    # 10.1.2.3/8 parses, but which network was meant is the operator's call, not ours.
                    address = cidr.split("/")[0].strip()
                    self.fail("allowedCidrs", cidr, f"a network address, but {cidr} has host bits set: the "
                              f"/{network.prefixlen} network containing it is {network}; a single address is "
                              f"{address}/{network.max_prefixlen}")
                else:
                    self.fail("allowedCidrs", cidr, "IPv4 or IPv6 networks in CIDR notation, e.g. 203.0.113.0/24")
        return NetworkSettings(endpoint_type=endpoint_type, vpc_endpoint_ids=tuple(endpoints),
                               allowed_cidrs=tuple(cidrs))

    def read_retention(self) -> int:
        value = self.raw("logRetentionDays")
        try:
            days = int(value)
        except (TypeError, ValueError):
            days = -1
        if isinstance(value, bool) or days not in LOG_RETENTION_DAYS:
            self.fail("logRetentionDays", value,
                      "one of the CloudWatch Logs retention periods: " + ", ".join(map(str, LOG_RETENTION_DAYS)))
            return int(DEFAULTS["logRetentionDays"])
        return days
