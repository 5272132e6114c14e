"""Every setting of the portal, declared once: environment variable, CDK context key, type, default, bounds, doc.

The function's loader (``portal.config``), the CDK app's reader (``infra/config.py``), the function's
environment, the admin command and the tables in README.md and docs/deploy.md all come from ``SETTINGS``
(``python scripts/settings_tables.py`` rewrites the tables; a unit test fails when they drift).

Adding a setting is one ``Setting(...)`` entry below:

* ``env`` only: the function reads it; a ``PORTAL_<NAME>`` variable lands on ``Settings.<name>`` (a typed field you
  add to ``portal.config.Settings``; the loader refuses to start without it, so a test tells you).
* ``context`` only: a deployment choice the CDK app reads (``infra/config.py``).
* both: a context key the stack passes to the function unchanged; nothing else to wire.

The kinds ``int``, ``bool``, ``choice`` and ``text`` (optionally with a ``pattern``) are read and checked by both
loaders from the declaration alone; the others are read by hand where the comment says. This module imports
nothing of the project, so the function, the CDK app and the docs generator can all use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# --- patterns, from the AWS API references ------------------------------------------------------------------
DOMAIN_ID_PATTERN = re.compile(r"^(?=.{1,63}$)d-(-*[a-z0-9]){1,61}$")  # SageMaker DomainId: at most 63 characters
# UserProfileName and SpaceName share this pattern in the SageMaker API.
RESOURCE_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
CLAIM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_:.\-/]{1,128}$")
# Tag keys: IAM and SageMaker accept Unicode letters, digits and spaces too ([\p{L}\p{Z}\p{N}_.:/=+\-@]), but the
# owner tag key also appears in IAM condition keys and STS session tags, so the portal takes the set every service
# that supports tags accepts: ASCII letters, digits and _.:/=+-@, at most 128, not starting with aws: (reserved).
TAG_KEY_PATTERN = re.compile(r"^(?![aA][wW][sS]:)[A-Za-z0-9_.:/=+\-@]{1,128}$")
ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
TARGET_ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
STACK_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
STAGE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,128}$")
# Cognito domain prefixes: lowercase letters, digits and hyphens, and AWS reserves some words.
COGNITO_PREFIX_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
COGNITO_PREFIX_RESERVED = ("aws", "amazon", "cognito")
PROVIDER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{1,30}[A-Za-z0-9]$")
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
# The languages the pages are shipped in (BCP 47 tags; catalogs in portal/locale), English, the source, first.
LANGUAGES = ("en", "de", "fr", "es", "pt-BR", "ja")
_LANGUAGE = "|".join(LANGUAGES)
# Comma-separated shipped languages in any case, none twice (the lookahead), as PORTAL_LANGUAGES and `languages`.
LANGUAGE_LIST_PATTERN = re.compile(rf"(?i)^(?!.*\b({_LANGUAGE})\b.*\b\1\b)(?:{_LANGUAGE})(?:\s*,\s*(?:{_LANGUAGE}))*\Z")
# cdk.json ships this domain id so that `make synth` works on a fresh clone; deploying it is refused loudly.
PLACEHOLDER_DOMAIN_ID = "d-xxxxxxxxxxxx"

_CLAIM = "an ID token claim name"
_TAG_KEY = "a tag key not starting with aws: (reserved by AWS): ASCII letters, digits and _.:/=+-@, at most 128"


@dataclass(frozen=True)
class Setting:
    doc: str  # one line, Markdown: what it is for (the tables show it)
    env: str | None = None  # the function's environment variable
    context: str | None = None  # the CDK context key
    kind: str = "text"  # text | int | bool | choice | list | json | url | urls | query | secret | keys | path
    default: Any = None  # None: unset (optional), unless `shown_default` says it is required
    low: int | None = None  # int: smallest value; keys: shortest key; json: (no bound)
    high: int | None = None  # int: largest value; json, query: most bytes as an environment variable
    unit: str = ""  # int: what the number counts ("seconds")
    pattern: re.Pattern[str] | None = None  # text: the whole value must match
    allowed: str = ""  # text: what `pattern` allows, in words (error messages and the tables)
    choices: tuple[Any, ...] = ()  # choice (case-insensitive, answered in the declared spelling); int: the only values
    shown_default: str = ""  # the tables' default column when `default` does not say it ("required", "derived …")

    @property
    def attr(self) -> str:
        """``PORTAL_URL_EXPIRES_SECONDS`` -> ``url_expires_seconds``: the field of ``portal.config.Settings``."""
        assert self.env is not None
        return self.env.removeprefix("PORTAL_").lower()

    def expected(self) -> str:
        """What a valid value is, in words, for error messages."""
        if self.kind == "int" and self.choices:
            return f"one of the {self.unit}: " + ", ".join(map(str, self.choices))
        if self.kind == "int":
            unit = f" of {self.unit}" if self.unit else ""
            return f"a whole number{unit} from {self.low} to {self.high}"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        return self.allowed or "a string"


SETTINGS: tuple[Setting, ...] = (
    # --- what the portal opens, and for whom ---------------------------------------------------------------
    Setting("the Studio domain for the single-domain set-up, in the stack's account and region",
            env="PORTAL_DOMAIN_ID", context="domainId", pattern=DOMAIN_ID_PATTERN,
            allowed="a SageMaker Studio domain id matching d-(-*[a-z0-9]){1,61}, at most 63 characters, "
                    "e.g. d-abc123def456 (aws sagemaker list-domains)",
            shown_default="required unless `targets`"),
    # Read by hand: portal.targets.parse_targets, at run time and at synth.
    Setting("several Studio domains instead of one: a JSON list (a JSON array in `cdk.json`, a JSON string with "
            "`-c`); README.md, *Several domains, spaces and apps*, explains each field", env="PORTAL_TARGETS",
            context="targets", kind="json", high=3000),
    Setting("the ID token claim that identifies a person", env="PORTAL_IDENTITY_CLAIM", context="identityClaim",
            default="email", pattern=CLAIM_NAME_PATTERN,
            allowed=f"{_CLAIM} such as email, preferred_username or upn"),
    Setting("the claim holding the user's groups: a JSON list (taken as is), or one string split on commas only "
            "(Cognito's `\"[a, b]\"` included), never on spaces",
            env="PORTAL_GROUPS_CLAIM", context="groupsClaim", default="cognito:groups", pattern=CLAIM_NAME_PATTERN,
            allowed=f"{_CLAIM} such as cognito:groups or groups"),
    Setting("the profile tag that must equal the identity", env="PORTAL_OWNER_TAG", context="ownerTag",
            default="studiouserid", pattern=TAG_KEY_PATTERN, allowed=_TAG_KEY),
    Setting("also make IAM enforce the owner tag: presign through a launch role (docs/deploy.md)",
            context="enforceOwnerTagInIam", kind="bool", default=False),
    Setting("presign through this role, assumed with the session tag `<owner tag>=<identity>` (set by the stack "
            "with `enforceOwnerTagInIam`)", env="PORTAL_LAUNCH_ROLE_ARN", pattern=ROLE_ARN_PATTERN,
            allowed="an IAM role ARN"),
    Setting("with an `email` identity (or `{email}` in a profile template) only addresses the IdP marks "
            "`email_verified: true` sign in; `false` only for an IdP that never sends the claim (Entra ID over OIDC), "
            "with an immutable identity claim such as `sub` or `oid`",
            env="PORTAL_REQUIRE_VERIFIED_EMAIL", context="requireVerifiedEmail", kind="bool", default=True),
    # --- lifetimes (the ranges are CreatePresignedDomainUrl's own) -------------------------------------------
    Setting("`ExpiresInSeconds` of the presigned URL", env="PORTAL_URL_EXPIRES_SECONDS", context="urlExpiresSeconds",
            kind="int", default=30, low=5, high=300, unit="seconds"),
    Setting("`SessionExpirationDurationInSeconds`: how long the Studio session lasts",
            env="PORTAL_STUDIO_SESSION_SECONDS", context="studioSessionSeconds", kind="int", default=43200,
            low=1800, high=43200, unit="seconds"),
    Setting("lifetime of the portal's own session cookie: after it the browser passes through the IdP again "
            "(silently while the IdP session lives) and groups and claims are read afresh, so it bounds how long "
            "an account disabled or a group removed at the IdP takes to matter (docs/deploy.md, *When someone "
            "leaves*)", env="PORTAL_SESSION_TTL_SECONDS",
            context="portalSessionSeconds", kind="int", default=3600, low=300, high=7 * 24 * 3600,
            unit="seconds"),
    Setting("how long a warm container trusts a profile's ownership check; bounds how long a `revoke` takes to "
            "reach the portal's pages (IAM refuses the presign at once)", env="PORTAL_OWNERSHIP_CACHE_SECONDS",
            context="ownershipCacheSeconds", kind="int", default=60, low=0, high=300, unit="seconds"),
    # --- the function's sign-in and secrets (set by the stack from the identity source) ---------------------
    # Read by hand: https, or http on a loopback host (portal.config.check_endpoint_url).
    Setting("OIDC issuer URL, exactly as the IdP's `issuer` (a final `/` included); discovery at "
            "`<issuer without a final />/.well-known/openid-configuration`", env="PORTAL_OIDC_ISSUER",
            kind="url", shown_default="required"),
    Setting("the app client's id", env="PORTAL_OIDC_CLIENT_ID", shown_default="required unless the secret carries it"),
    Setting("the client secret itself (local runs); omit for a public client", env="PORTAL_OIDC_CLIENT_SECRET",
            kind="secret"),
    Setting("Secrets Manager ARN **or name** of the client secret: a plain string, or JSON "
            '`{"client_id": "...", "client_secret": "..."}`', env="PORTAL_OIDC_CLIENT_SECRET_ARN"),
    # Read by hand: portal.config.parse_authorize_params, at run time and at synth (infra/config.py, which adds the
    # federated provider's name).
    Setting("extra authorization request parameters, as a query string (`domain_hint=corp.example`, "
            "`prompt=login`); the portal's own (`state`, `nonce`, `code_challenge*` …) are refused; with `federation` "
            "the stack adds `identity_provider=<federationProviderName>` itself",
            env="PORTAL_OIDC_AUTHORIZE_PARAMS", context="oidcAuthorizeParams", kind="query", high=500,
            allowed="a query string such as domain_hint=corp.example, at most 500 bytes"),
    # Read by hand at run time: each an issuer URL, as PORTAL_OIDC_ISSUER (http on loopback for local runs); the
    # pattern is synth's check, https only.
    Setting("comma-separated issuers besides `PORTAL_OIDC_ISSUER` that may start a sign-in at `/login` (an upstream "
            "IdP behind Cognito), each exactly as the IdP sends it in `iss`; see README.md, *SSO tiles*",
            env="PORTAL_LOGIN_INITIATORS", context="loginInitiators",
            pattern=re.compile(r"^https://[^,\s]+(\s*,\s*https://[^,\s]+)*$"),
            allowed="comma-separated https issuer URLs"),
    # Read by hand: portal.config.parse_session_keys.
    Setting("comma-separated secrets, newest first; keys are derived with HKDF per cookie",
            env="PORTAL_SESSION_KEY", kind="keys", low=32, shown_default="this or `PORTAL_SESSION_KEY_ARN`"),
    Setting("Secrets Manager ARN holding that list (re-read every 5 minutes, so rotation reaches warm containers)",
            env="PORTAL_SESSION_KEY_ARN"),
    # Read by hand: an absolute URL without query or fragment, https unless loopback.
    Setting("the portal's public URL; otherwise `https://<API host><stage or base path>` of each request",
            env="PORTAL_BASE_URL", kind="url", shown_default="derived from the request"),
    Setting("the portal's name in every page title and heading", env="PORTAL_TITLE", context="portalTitle",
            default="SageMaker Studio",
            pattern=re.compile(r"^[^\x00-\x1f\x7f]{1,80}$"), allowed="at most 80 printable characters"),
    Setting("shown on every page: a URL or `mailto:` address (as a link), a phone number (`tel:` link) or any other "
            "text", env="PORTAL_HELPDESK", context="helpdesk",
            pattern=re.compile(r"^[^\x00-\x1f\x7f]{1,200}$"), allowed="at most 200 printable characters"),
    # Read by hand: portal.config.parse_languages (each listed once), after the pattern check here.
    Setting("the languages pages are offered in, chosen from the browser's `Accept-Language`; the first is the "
            "last resort for a browser that asks for none of them (README.md, *Pages in the employee's language*)",
            env="PORTAL_LANGUAGES", context="languages", pattern=LANGUAGE_LIST_PATTERN,
            allowed="comma-separated, each once: " + ", ".join(LANGUAGES),
            shown_default="all: `" + ",".join(LANGUAGES) + "`"),
    # Read by hand: portal.pages, at import.
    Setting("where the page templates are, when neither next to the package (the bundle) nor in the repository",
            env="PORTAL_TEMPLATES_DIR", kind="path", shown_default="found"),
    # --- Powertools (read by Powertools itself) -------------------------------------------------------------
    Setting("the function's log level", env="LOG_LEVEL", context="logLevel", kind="choice", default="INFO",
            choices=LOG_LEVELS),
    Setting("Powertools service name (logs, metrics)", env="POWERTOOLS_SERVICE_NAME",
            default="sagemaker-studio-portal"),
    Setting("CloudWatch metrics namespace", env="POWERTOOLS_METRICS_NAMESPACE", default="StudioPortal"),
    # --- the stack --------------------------------------------------------------------------------------------
    Setting("Lambda SnapStart: each deploy publishes a version, the API invokes it through the alias `live`, cold "
            "starts restore its snapshot; `false` turns SnapStart off (the alias stays). Costs: "
            "[performance](performance.md#snapstart)", context="snapStart",
            kind="bool", default=True),
    Setting("the CloudFormation stack name; also names the client secret (`<stackName>/oidc-client`)",
            context="stackName", default="SageMakerStudioPortal", pattern=STACK_NAME_PATTERN,
            allowed="letters, digits and hyphens, starting with a letter (at most 128)"),
    Setting("`cognito` (a user pool made by the stack) or `oidc` (bring your own issuer, no Cognito)",
            context="identitySource", kind="choice", default="cognito", choices=("cognito", "oidc")),
    Setting("with Cognito: `none` (local users), `saml` or `oidc` (the corporate IdP is then the only way in)",
            context="federation", kind="choice", default="none", choices=("none", "saml", "oidc")),
    Setting("the IdP's name in Cognito (shown on the sign-in page)", context="federationProviderName",
            default="CorporateIdP", pattern=PROVIDER_NAME_PATTERN,
            allowed="3-32 letters, digits, dots or hyphens (the name users see on the sign-in page)"),
    Setting("`federation=saml`: the IdP's SAML metadata URL", context="samlMetadataUrl", kind="url"),
    Setting("`federation=saml`: the SAML attribute carrying the email", context="samlEmailAttribute",
            default="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            allowed="a SAML attribute name"),
    Setting("`federation=saml`: the SAML attribute whose value `true` marks the email verified (the portal refuses "
            "unverified emails)", context="samlEmailVerifiedAttribute", default="email_verified",
            allowed="a SAML attribute name"),
    Setting("`federation=saml`: `/logout` also signs the person out of the SAML IdP (SAML single logout, "
            "`IDPSignout`); the IdP must support it and trust the user pool's signing certificate (docs/deploy.md)",
            context="samlIdpSignout", kind="bool", default=False),
    Setting("`federation=oidc`: the IdP's issuer", context="federationOidcIssuer", kind="url"),
    Setting("`federation=oidc`: the client id registered at the IdP for Cognito", context="federationOidcClientId",
            allowed="the client id registered at your IdP"),
    Setting("`federation=oidc`: the Secrets Manager secret holding that client's secret (plain text; the template "
            "holds only the ARN)", context="federationOidcClientSecretArn", pattern=SECRET_ARN_PATTERN,
            allowed="the ARN of a Secrets Manager secret holding the IdP client secret as plain text"),
    Setting("the managed login domain prefix (globally unique per region)", context="cognitoDomainPrefix",
            pattern=COGNITO_PREFIX_PATTERN, shown_default="`<stack name>-<account id>`",
            allowed="lowercase letters, digits and hyphens (at most 63), not starting or ending with a hyphen"),
    Setting("MFA (TOTP) for users local to the pool; federated users get the IdP's MFA", context="cognitoMfa",
            kind="choice", default="required", choices=("required", "optional", "off")),
    Setting("Cognito feature plan: `plus` adds threat protection (compromised credentials, adaptive "
            "authentication) for users local to the pool, at a higher price per active user (docs/deploy.md)",
            context="cognitoFeaturePlan", kind="choice", choices=("essentials", "plus"),
            shown_default="`plus` with `federation=none`, else `essentials`"),
    Setting("send Cognito's invitation and account e-mails through Amazon SES from this address (an SES verified "
            "identity) instead of Cognito's default sender, which allows only a limited number a day",
            context="cognitoEmailFrom", pattern=EMAIL_PATTERN,
            allowed="an e-mail address verified in Amazon SES (or in a domain verified there)"),
    Setting("with `cognitoEmailFrom`: the region of the SES identity (one Cognito supports for SES)",
            context="cognitoEmailSesRegion", pattern=REGION_PATTERN, shown_default="the stack's region",
            allowed="an AWS region name such as eu-west-1"),
    Setting("bump to replace the app client and with it its secret (rotation, docs/deploy.md)",
            context="cognitoClientGeneration", kind="int", default=1, low=1, high=1000),
    Setting("`identitySource=oidc`: your issuer, exactly as its discovery document's `issuer` (a final `/` "
            "included, as in Auth0's)", context="oidcIssuer", kind="url"),
    Setting("`identitySource=oidc`: the portal's client id at your issuer", context="oidcClientId",
            allowed="the client id registered at your IdP"),
    Setting("`identitySource=oidc`: the secret holding the client secret (plain text, or JSON with `client_id` and "
            "`client_secret`)", context="oidcClientSecretArn", pattern=SECRET_ARN_PATTERN,
            allowed="the full ARN of a Secrets Manager secret holding the client secret (plain text or JSON "
                    '{"client_id": ..., "client_secret": ...})'),
    Setting("the customer managed KMS key encrypting that secret, if any (`kms:Decrypt` through Secrets Manager "
            "only)", context="oidcClientSecretKmsKeyArn", pattern=KMS_KEY_ARN_PATTERN,
            allowed="the ARN of the KMS key that encrypts that secret"),
    Setting("serve the portal at `https://<customDomainName>/`; the `execute-api` endpoint is then disabled",
            context="customDomainName", pattern=DNS_NAME_PATTERN,
            allowed="a lowercase DNS name such as studio.example.com"),
    Setting("with `customDomainName`: an ACM certificate of the stack's region covering it", context="certificateArn",
            pattern=CERTIFICATE_ARN_PATTERN,
            allowed="an ACM certificate ARN in the stack's region covering customDomainName"),
    Setting("with a custom domain: create its alias record in this Route 53 zone (with `hostedZoneName`)",
            context="hostedZoneId", pattern=HOSTED_ZONE_ID_PATTERN, allowed="a Route 53 hosted zone id (Z...)"),
    Setting("the DNS name of that hosted zone", context="hostedZoneName", pattern=DNS_NAME_PATTERN,
            allowed="the hosted zone's DNS name"),
    Setting("`regional`, or `private` (reachable only through `vpcEndpointIds`)", context="endpointType",
            kind="choice", default="regional", choices=("regional", "private")),
    Setting("`endpointType=private`: the `execute-api` interface endpoints allowed in", context="vpcEndpointIds",
            kind="list", default=()),
    Setting("only these networks may reach the portal (`aws:SourceIp`; `aws:VpcSourceIp` for a private API)",
            context="allowedCidrs", kind="list", default=()),
    Setting("put an AWS WAF web ACL in front of the stage", context="waf", kind="bool", default=True),
    Setting("requests per client IP per 5 minutes before WAF answers 429 (people behind one NAT share an IP)",
            context="wafRateLimit", kind="int", default=1000, low=10, high=2_000_000_000,
            unit="requests per IP per 5 minutes"),
    Setting("stage throttling: steady requests per second", context="throttleRateLimit", kind="int", default=25,
            low=1, high=10000, unit="requests per second"),
    Setting("stage throttling: burst", context="throttleBurstLimit", kind="int", default=50, low=1, high=5000,
            unit="requests"),
    Setting("the API stage (part of the URL without a custom domain)", context="stageName", default="prod",
            pattern=STAGE_NAME_PATTERN, allowed="letters, digits and underscores (at most 128)"),
    Setting("reserve (and cap) the function's concurrency", context="reservedConcurrency", kind="int", low=1,
            high=1000, unit="concurrent executions"),
    Setting("retention of the function's and the API's log groups (a CloudWatch Logs period)",
            context="logRetentionDays", kind="int", default=365, choices=LOG_RETENTION_DAYS,
            unit="CloudWatch Logs retention periods"),
    Setting("create an SNS topic (TLS-only publishing) with this email subscription for the alarms",
            context="alarmEmail", pattern=EMAIL_PATTERN, allowed="an email address for alarm notifications"),
    Setting("or notify an existing SNS topic", context="alarmTopicArn", pattern=SNS_TOPIC_ARN_PATTERN,
            allowed="an SNS topic ARN"),
    Setting("set the account's API Gateway logging role (kept when the stack is deleted); `false` if your account "
            "already has one", context="apiGatewayCloudWatchRole", kind="bool", default=True),
)

class ConfigError(ValueError):
    """The function's configuration is unusable; the message names the variable."""


BY_ENV: dict[str, Setting] = {setting.env: setting for setting in SETTINGS if setting.env}
BY_CONTEXT: dict[str, Setting] = {setting.context: setting for setting in SETTINGS if setting.context}
# Kinds both loaders read and check from the declaration alone.
DECLARATIVE_KINDS = frozenset({"text", "int", "bool", "choice"})
# A variable of the function says true or false (the stack writes it so); a context key given with -c may also
# say yes/no or 1/0.
ENV_BOOLEANS = ("true", "false")
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "1"), ("false", "no", "0")


def pick_choice(setting: Setting, value: str) -> str | None:
    """The declared spelling of a choice given in any case, or None."""
    return next((choice for choice in setting.choices if choice.lower() == value.lower()), None)


# --- the documentation tables ----------------------------------------------------------------------------------
def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[]`" if not value else "`" + ",".join(map(str, value)) + "`"
    return f"`{value}`"


def _default(setting: Setting) -> str:
    if setting.shown_default:
        return setting.shown_default
    return "—" if setting.default is None else _shown(setting.default)


def _allowed(setting: Setting) -> str:
    if setting.kind == "int" and setting.choices:
        return ", ".join(map(str, setting.choices))
    if setting.kind == "int":
        return f"{setting.low}-{setting.high}" + (f" {setting.unit}" if setting.unit else "")
    if setting.kind in ("choice", "bool"):
        return ", ".join(_shown(choice) for choice in (setting.choices or (True, False)))
    if setting.kind == "list":
        return "a JSON list, or comma-separated"
    if setting.kind == "url":
        return "an `https://` URL" + (" (`http` on loopback hosts)" if setting.env else "")
    if setting.kind == "keys":
        return f"each at least {setting.low} characters"
    if setting.kind == "json":
        return f"at most {setting.high} bytes as `{setting.env}`" if setting.env else ""
    return setting.allowed


def markdown_table(scope: str) -> str:
    """``env``: the function's environment (README.md); ``context``: the CDK context keys (docs/deploy.md)."""
    if scope == "env":
        rows = ["| variable | from context key | default | allowed | meaning |", "|---|---|---|---|---|"]
        rows += [f"| `{s.env}` | {f'`{s.context}`' if s.context else '—'} | {_default(s)} | {_allowed(s)} | {s.doc} |"
                 for s in SETTINGS if s.env]
    elif scope == "context":
        rows = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
        rows += [f"| `{s.context}` | {_default(s)} | {_allowed(s)} | {s.doc} |" for s in SETTINGS if s.context]
    else:
        raise ValueError(f"unknown table {scope!r}: env or context")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    import sys

    print(markdown_table(sys.argv[-1] if len(sys.argv) > 1 else "env"), end="")
