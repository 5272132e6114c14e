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
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

# lambda/ is on sys.path (app.py puts it there; the Makefile and the tests set PYTHONPATH): the settings, their
# patterns and the targets and authorization parameters validators are the function's own, so synth refuses exactly
# what the portal would.
from portal.config import parse_authorize_params
from portal.settings_catalog import (
    BY_CONTEXT,
    COGNITO_PREFIX_RESERVED,
    DECLARATIVE_KINDS,
    FALSE_WORDS,
    PLACEHOLDER_DOMAIN_ID,
    SETTINGS,
    TRUE_WORDS,
    VPC_ENDPOINT_ID_PATTERN,
    Setting,
    pick_choice,
)
from portal.targets import parse_targets

__all__ = ["COGNITO_PREFIX_RESERVED", "DEFAULTS", "PLACEHOLDER_DOMAIN_ID", "ConfigError", "PortalConfig"]


def arn_region(arn: str) -> str:
    """The region field of an ARN (``arn:partition:service:region:account:resource``)."""
    return arn.split(":")[3]


def _loose_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


_ROLE_ARN_IN_TEXT = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/\S+")


def _role_arns(value: Any, where: str = "") -> list[tuple[str, str]]:
    """(path, ARN) of every IAM role ARN inside a CreateUserProfile UserSettings document."""
    if isinstance(value, str):
        return [(where, match) for match in _ROLE_ARN_IN_TEXT.findall(value)]
    if isinstance(value, Mapping):
        return [found for key, item in value.items() for found in _role_arns(item, f"{where}.{key}".lstrip("."))]
    if isinstance(value, list | tuple):
        return [found for index, item in enumerate(value) for found in _role_arns(item, f"{where}[{index}]")]
    return []


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
    idp_signout: bool = False  # /logout also ends the IdP's session (SAML single logout)


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
    email_from: str | None = None  # send through SES from this verified address; None: Cognito's default sender
    email_ses_region: str | None = None  # the SES identity's region; None: the stack's


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
    # oidcAuthorizeParams as the function parses them; the stack puts the federated provider's name before them.
    oidc_authorize_params: tuple[tuple[str, str], ...] = ()
    # The function's variables that are context keys passed on unchanged (portal.settings_catalog declares them).
    function_environment: Mapping[str, str] = field(default_factory=dict)

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


# The context keys and their defaults, from the one declaration of every setting (portal.settings_catalog).
DEFAULTS: dict[str, Any] = {key: setting.default for key, setting in BY_CONTEXT.items()}

# The authorization request parameters that name Cognito's identity provider ("The redirect and authorization
# endpoint", Cognito developer guide): with federation, the stack sends identity_provider=<federationProviderName>.
FEDERATED_PROVIDER_PARAMS = ("identity_provider", "idp_identifier")

# Context keys of the portal look like this; CDK's own keys contain ':' or '@' or '-'.
_OWN_KEY = re.compile(r"^[a-z][A-Za-z0-9]*$")
# camelCase keys that belong to the CDK CLI or library rather than to the portal.
_CDK_KEYS = frozenset({"versionReporting", "pathMetadata", "assetMetadata", "staging", "notices"})


def _as_env(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Reader:
    def __init__(self, get: Callable[[str], Any], keys: list[str] | None) -> None:
        self._get = get
        self._keys = keys or []
        self.problems: list[str] = []
        # Each key's checked value, for the settings the stack passes on to the function unchanged.
        self.values: dict[str, Any] = {}

    # -- primitives: each reads one declared key and checks it against its declaration --------------------
    def raw(self, key: str) -> Any:
        value = self._get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return BY_CONTEXT[key].default
        return value.strip() if isinstance(value, str) else value

    def fail(self, key: str, value: Any, expected: str) -> None:
        self.problems.append(f"{key}: got {value!r}; expected {expected}")

    def _keep(self, key: str, value: Any) -> Any:
        self.values[key] = value
        return value

    def text(self, key: str, required: bool = False, hint: str = "") -> str | None:
        setting = BY_CONTEXT[key]
        expected = setting.expected() + hint
        value = self.raw(key)
        if value is None:
            if required:
                self.problems.append(f"{key}: is required; expected {expected}")
            return None
        if not isinstance(value, str):
            self.fail(key, value, expected)
            return None
        if setting.pattern is not None and not setting.pattern.fullmatch(value):
            self.fail(key, value, expected)
            return None
        return self._keep(key, value)

    def choice(self, key: str) -> str:
        setting = BY_CONTEXT[key]
        value = self.raw(key)
        chosen = pick_choice(setting, value) if isinstance(value, str) else None
        if chosen is None:
            self.fail(key, value, setting.expected())
            return str(setting.default)
        return self._keep(key, chosen)

    def flag(self, key: str) -> bool:
        value = self.raw(key)
        if isinstance(value, bool):
            return self._keep(key, value)
        if isinstance(value, str) and value.lower() in TRUE_WORDS + FALSE_WORDS:
            return self._keep(key, value.lower() in TRUE_WORDS)
        self.fail(key, value, BY_CONTEXT[key].expected())
        return bool(BY_CONTEXT[key].default)

    def number(self, key: str) -> int:
        setting = BY_CONTEXT[key]
        value = self.raw(key)
        fallback = int(setting.default or setting.low or 0)
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError):
            self.fail(key, value, setting.expected())
            return fallback
        if setting.choices:
            if number not in setting.choices:
                self.fail(key, value, setting.expected())
                return fallback
        elif not (setting.low or 0) <= number <= (setting.high or 0):
            self.fail(key, value, setting.expected())
            return fallback
        return self._keep(key, number)

    def optional_number(self, key: str) -> int | None:
        return None if self.raw(key) is None else self.number(key)

    def declared(self, setting: Setting) -> Any:
        """A key read from its declaration alone (kinds text, int, bool, choice)."""
        assert setting.context is not None
        readers: dict[str, Callable[[str], Any]] = {
            "text": self.text, "int": self.optional_number, "bool": self.flag, "choice": self.choice}
        return readers[setting.kind](setting.context)

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
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(key, value, "a list of strings (JSON) or a comma-separated string")
            return []
        return [item.strip() for item in value]

    def https_url(self, key: str, required: bool) -> str | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.problems.append(f"{key}: is required; expected an https:// URL")
            return None
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme != "https" or not parts.hostname or parts.fragment:
            self.fail(key, value, "an https:// URL")
            return None
        return self._keep(key, value)

    def function_environment(self) -> dict[str, str]:
        """The settings that are both a context key and a variable of the function, as the function reads them."""
        return {setting.env: _as_env(self.values[setting.context]) for setting in SETTINGS
                if setting.env and setting.context and self.values.get(setting.context) is not None}

    # -- the whole configuration -------------------------------------------------------------------------
    def read(self) -> PortalConfig:
        self.check_unknown_keys()
        stack_name = self.text("stackName")
        with_targets = self.raw("targets") is not None
        domain_id = None
        if with_targets:
            # cdk.json ships the placeholder domainId: it stands for "not chosen", so `-c targets=...` alone works.
            if self.raw("domainId") not in (None, PLACEHOLDER_DOMAIN_ID):
                self.problems.append(
                    "domainId, targets: give one or the other: domainId for one Studio domain, targets for several "
                    "(with targets, remove domainId from cdk.json or pass -c domainId=)")
            # Read, and set aside: the function gets PORTAL_TARGETS and never PORTAL_DOMAIN_ID (it refuses both).
            self.values["domainId"] = None
        else:
            domain_id = self.text("domainId", required=True, hint=", or a targets list for several domains")

        identity_source = self.choice("identitySource")
        federation_kind = self.choice("federation")
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
            self.only_with(("cognitoDomainPrefix", "cognitoFeaturePlan", "cognitoMfa", "cognitoClientGeneration",
                            "cognitoEmailFrom", "cognitoEmailSesRegion"),
                           "identitySource=cognito")

        authorize_params = self.read_authorize_params(cognito)
        identity_claim = self.text("identityClaim")
        groups_claim = self.text("groupsClaim")
        owner_tag = self.text("ownerTag")

        targets: tuple[StudioTarget, ...] = (StudioTarget(domain_id=domain_id or PLACEHOLDER_DOMAIN_ID),)
        targets_json = None
        if with_targets:
            read = self.read_targets(identity_claim or DEFAULTS["identityClaim"])
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

        alarm_email = self.text("alarmEmail")
        alarm_topic = self.text("alarmTopicArn")

        config = PortalConfig(
            stack_name=stack_name or str(DEFAULTS["stackName"]),
            targets=targets,
            targets_json=targets_json,
            oidc_authorize_params=authorize_params,
            identity_source=identity_source,
            cognito=cognito,
            external_oidc=external,
            identity_claim=identity_claim or DEFAULTS["identityClaim"],
            groups_claim=groups_claim or DEFAULTS["groupsClaim"],
            owner_tag=owner_tag or DEFAULTS["ownerTag"],
            enforce_owner_tag_in_iam=enforce_owner_tag,
            require_verified_email=self.flag("requireVerifiedEmail"),
            url_expires_seconds=self.number("urlExpiresSeconds"),
            studio_session_seconds=self.number("studioSessionSeconds"),
            portal_session_seconds=self.number("portalSessionSeconds"),
            custom_domain=custom_domain,
            network=network,
            waf=WafSettings(enabled=self.flag("waf"), rate_limit=self.number("wafRateLimit")),
            log_retention_days=self.number("logRetentionDays"),
            throttle_rate_limit=self.number("throttleRateLimit"),
            throttle_burst_limit=self.number("throttleBurstLimit"),
            reserved_concurrency=self.optional_number("reservedConcurrency"),
            log_level=self.choice("logLevel"),
            alarm_email=alarm_email,
            alarm_topic_arn=alarm_topic,
            api_gateway_cloudwatch_role=self.flag("apiGatewayCloudWatchRole"),
            stage_name=self.text("stageName") or DEFAULTS["stageName"],
            snap_start=self.flag("snapStart"),
            # Declared keys read nowhere above (added to the catalog only) are checked and passed on all the same.
            function_environment=self.read_the_rest(),
        )
        if self.problems:
            raise ConfigError(self.problems)
        return config

    def read_the_rest(self) -> dict[str, str]:
        for key, setting in BY_CONTEXT.items():
            if key not in self.values and setting.kind in DECLARATIVE_KINDS and setting.env:
                self.declared(setting)
        return self.function_environment()

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
        prefix = self.text("cognitoDomainPrefix")
        if prefix is not None and any(word in prefix for word in COGNITO_PREFIX_RESERVED):
            self.fail("cognitoDomainPrefix", prefix, "a prefix without the reserved words aws, amazon, cognito")
        federation: SamlFederation | OidcFederation | None = None
        if federation_kind == "saml":
            federation = SamlFederation(
                provider_name=self.text("federationProviderName") or DEFAULTS["federationProviderName"],
                metadata_url=self.https_url("samlMetadataUrl", required=True) or "",
                email_attribute=self.text("samlEmailAttribute") or "",
                email_verified_attribute=self.text("samlEmailVerifiedAttribute") or "",
                idp_signout=self.flag("samlIdpSignout"),
            )
        elif federation_kind == "oidc":
            federation = OidcFederation(
                provider_name=self.text("federationProviderName") or DEFAULTS["federationProviderName"],
                issuer=self.https_url("federationOidcIssuer", required=True) or "",
                client_id=self.text("federationOidcClientId", required=True) or "",
                client_secret_arn=self.text("federationOidcClientSecretArn", required=True) or "",
            )
        if federation_kind != "saml":
            self.only_with(("samlMetadataUrl", "samlEmailAttribute", "samlEmailVerifiedAttribute",
                            "samlIdpSignout"),
                           "federation=saml")
        if federation_kind != "oidc":
            self.only_with(("federationOidcIssuer", "federationOidcClientId", "federationOidcClientSecretArn"),
                           "federation=oidc")
        if federation_kind == "none":
            self.only_with(("federationProviderName",), "federation=saml or federation=oidc")
        email_from = self.text("cognitoEmailFrom")
        if email_from is None:
            self.only_with(("cognitoEmailSesRegion",), "cognitoEmailFrom")
        return CognitoSettings(
            domain_prefix=prefix,
            # Threat protection covers only users local to the pool: the default where they are the only ones.
            feature_plan=self.choice("cognitoFeaturePlan") if self.raw("cognitoFeaturePlan") is not None
            else ("plus" if federation_kind == "none" else "essentials"),
            email_from=email_from,
            email_ses_region=self.text("cognitoEmailSesRegion"),
            mfa=self.choice("cognitoMfa"),
            federation=federation,
            client_generation=self.number("cognitoClientGeneration"),
        )

    def read_external_oidc(self) -> ExternalOidc:
        return ExternalOidc(
            issuer=self.https_url("oidcIssuer", required=True) or "",  # exactly: a final "/" is part of some issuers
            client_id=self.text("oidcClientId", required=True) or "",
            client_secret_arn=self.text("oidcClientSecretArn", required=True) or "",
            client_secret_kms_key_arn=self.text("oidcClientSecretKmsKeyArn"),
        )

    def read_authorize_params(self, cognito: CognitoSettings | None) -> tuple[tuple[str, str], ...]:
        """``oidcAuthorizeParams``, checked by the function's own parser (the portal's own parameters refused)."""
        key = "oidcAuthorizeParams"
        setting = BY_CONTEXT[key]
        value = self.raw(key)
        if value is None:
            return ()
        if not isinstance(value, str):
            self.fail(key, value, setting.expected())
            return ()
        try:
            pairs = parse_authorize_params(value, key)
        except ValueError as error:  # portal.config.ConfigError, whose messages start with the name given
            self.problems.append(re.sub(rf"^{key}\b:?\s*", f"{key}: ", str(error)))
            return ()
        size = len(urlencode(pairs).encode())
        if setting.high is not None and size > setting.high:
            # Lambda allows 4 KB for all of the function's variables together, PORTAL_TARGETS included.
            self.problems.append(f"{key}: is {size} bytes as PORTAL_OIDC_AUTHORIZE_PARAMS, more than the "
                                 f"{setting.high} this stack allows it (Lambda allows 4 KB for all environment "
                                 "variables together)")
            return ()
        # Cognito reads either name as the provider to send people to: with federation the stack names it, and a pool
        # without federation has only its own users.
        named = [name for name, _ in pairs if name.lower() in FEDERATED_PROVIDER_PARAMS]
        if cognito is not None and named:
            why = ("the stack names the federated provider itself (federationProviderName)" if cognito.federation
                   else "the stack's user pool has no other provider without federation")
            self.problems.append(f"{key}: may not set {named[0]} with identitySource=cognito: {why}")
            return ()
        return pairs

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
        try:
            parsed = parse_targets(raw_json, identity_claim)
        except ValueError as error:  # portal.config.ConfigError, whose messages name PORTAL_TARGETS
            message = re.sub(r"^PORTAL_TARGETS\b:?\s*", "", str(error))
            self.problems.append(f"targets: {message}")
            return None
        compact = json.dumps(json.loads(raw_json), separators=(",", ":"), ensure_ascii=False)
        size = len(compact.encode())
        most = BY_CONTEXT["targets"].high
        if most is not None and size > most:
            self.problems.append(
                f"targets: is {size} bytes as PORTAL_TARGETS, more than the {most} bytes this stack "
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
        for target in parsed:
            if target.provision is not None and target.role_arn is None:
                for where, arn in _role_arns(target.provision.user_settings):
                    self.problems.append(
                        f"targets: target {target.id!r}: provision.user_settings.{where} names the role {arn}, which "
                        "the portal's role may not pass to SageMaker (it may pass only provision.execution_role_arn); "
                        "set it in the domain's DefaultUserSettings instead, or reach the domain through a role_arn "
                        "whose policy allows iam:PassRole on it")
        self._keep("targets", compact)
        return targets, compact

    def read_custom_domain(self) -> CustomDomain | None:
        name = self.text("customDomainName")
        certificate = self.text("certificateArn")
        zone_id = self.text("hostedZoneId")
        zone_name = self.text("hostedZoneName")
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
        endpoint_type = self.choice("endpointType")
        endpoints = self.items("vpcEndpointIds")
        for endpoint in endpoints:
            if not VPC_ENDPOINT_ID_PATTERN.fullmatch(endpoint):
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
