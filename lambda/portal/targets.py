"""Targets: the Studio domains one portal opens, who may use each, and which profile a person gets there.

A target's `profile` is a template over the ID token's claims: each `{claim}` is replaced by that claim's
value mapped the same way as the default (email local part, lower-cased, other characters to '-'), so
`{email}` is the default mapping and `{email}-ml` or `{department}-{email}` are possible.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.identity import PLACEHOLDER, ascii_lower, profile_name_from_template
from portal.settings_catalog import (
    CLAIM_NAME_PATTERN,
    DOMAIN_ID_PATTERN,
    REGION_PATTERN,
    ROLE_ARN_PATTERN,
    TAG_KEY_PATTERN,
    TARGET_ID_PATTERN,
    ConfigError,
)

_TEMPLATE_LITERAL = re.compile(r"^[a-z0-9-]*$")
_KNOWN_FIELDS = {"id", "label", "domain_id", "region", "role_arn", "profile", "groups", "provision", "tag_session"}
_PROVISION_FIELDS = {"execution_role_arn", "email_domains", "tags", "user_settings"}
# A DNS name in lower case: what follows the last '@' of an address the portal may create a profile for.
EMAIL_DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class Provisioning:
    execution_role_arn: str
    # Only identities that are addresses in one of these domains get a profile made; anyone else could
    # otherwise take the profile name a colleague maps to before the colleague's first visit.
    email_domains: tuple[str, ...]
    tags: tuple[tuple[str, str], ...] = ()
    user_settings: Mapping[str, Any] = field(default_factory=dict)

    def admits(self, identity: str) -> bool:
        """The identity is an address with one '@' whose domain is listed exactly (ASCII case aside; no
        subdomains). The profile name is made from what precedes the first '@', so a second one would let
        "john.doe@partner.example@corp.example" take john-doe's name."""
        local_part, at, domain = identity.partition("@")
        return bool(at and local_part) and "@" not in domain and ascii_lower(domain) in self.email_domains


@dataclass(frozen=True)
class Target:
    """One Studio domain the portal can open, and how to reach it."""

    id: str
    label: str
    domain_id: str
    region: str | None = None
    role_arn: str | None = None
    profile: str = "{email}"
    groups: tuple[str, ...] = ()
    provision: Provisioning | None = None
    tag_session: bool = False

    def claims_used(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.profile))

    def profile_name(self, claims: Mapping[str, Any]) -> str:
        return profile_name_from_template(self.profile, claims)

    def admits(self, groups: Iterable[str]) -> bool:
        return not self.groups or bool(set(self.groups) & set(groups))


def parse_groups(value: Any) -> list[str]:
    """A groups claim as a list: a JSON list of names taken as is, or one string split on commas only
    (Cognito passes federated multi-valued attributes as "[a, b]"). Never on spaces: group names hold them,
    and "Friends of ml-engineers" is not ml-engineers."""
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and item]
    if isinstance(value, str):
        # Only the ASCII spaces of the list's own ", " are dropped: a name padded with a tab, NBSP or U+3000 is
        # another group, not a cleaned-up ml-engineers.
        text = value.strip(" ")
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        return [part.strip(" ") for part in text.split(",") if part.strip(" ")]
    return []


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"PORTAL_TARGETS: {where}: {message}")


def _parse_provision(raw: Any, where: str) -> Provisioning | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _fail(where, "provision must be an object")
    unknown = set(raw) - _PROVISION_FIELDS
    if unknown:
        raise _fail(where, f"provision has unknown fields {sorted(unknown)}")
    role = raw.get("execution_role_arn")
    if not isinstance(role, str) or not ROLE_ARN_PATTERN.fullmatch(role):
        raise _fail(where, "provision.execution_role_arn must be an IAM role ARN")
    domains = raw.get("email_domains")
    if domains is None:
        raise _fail(where, "provision.email_domains is required: the e-mail domains whose people may have a "
                           "profile created, e.g. [\"corp.example\"]")
    if (not isinstance(domains, list) or not domains
            or not all(isinstance(domain, str) and EMAIL_DOMAIN_PATTERN.fullmatch(domain) for domain in domains)):
        raise _fail(where, "provision.email_domains must be a non-empty list of lower-case domain names "
                           "such as [\"corp.example\"]")
    tags = raw.get("tags") or {}
    if not isinstance(tags, dict) or not all(
            isinstance(key, str) and TAG_KEY_PATTERN.fullmatch(key)
            and isinstance(value, str) and len(value) <= 256 for key, value in tags.items()):
        raise _fail(where, "provision.tags must map tag keys to string values")
    settings = raw.get("user_settings") or {}
    if not isinstance(settings, dict):
        raise _fail(where, "provision.user_settings must be an object (CreateUserProfile UserSettings)")
    if "ExecutionRole" in settings:
        raise _fail(where, "set the execution role with provision.execution_role_arn, not user_settings")
    return Provisioning(role, tuple(domains), tuple(sorted(tags.items())), settings)


def parse_target(raw: Any, index: int, identity_claim: str) -> Target:
    where = f"target {index}"
    if not isinstance(raw, dict):
        raise _fail(where, "each target must be an object")
    target_id = raw.get("id")
    if not isinstance(target_id, str) or not TARGET_ID_PATTERN.fullmatch(target_id):
        raise _fail(where, "id must be 1-32 lower-case letters, digits or '-' (it appears in links)")
    where = f"target {target_id!r}"
    unknown = set(raw) - _KNOWN_FIELDS
    if unknown:
        raise _fail(where, f"unknown fields {sorted(unknown)}")
    label = raw.get("label", target_id)
    if not isinstance(label, str) or not label.strip() or len(label) > 100:
        raise _fail(where, "label must be a non-empty string of at most 100 characters")
    domain_id = raw.get("domain_id")
    if not isinstance(domain_id, str) or not DOMAIN_ID_PATTERN.fullmatch(domain_id):
        raise _fail(where, "domain_id must look like d-xxxxxxxxxxxx")
    region = raw.get("region")
    if region is not None and (not isinstance(region, str) or not REGION_PATTERN.fullmatch(region)):
        raise _fail(where, "region must be an AWS region name such as eu-west-1")
    role_arn = raw.get("role_arn")
    if role_arn is not None and (not isinstance(role_arn, str) or not ROLE_ARN_PATTERN.fullmatch(role_arn)):
        raise _fail(where, "role_arn must be an IAM role ARN")
    profile = raw.get("profile", f"{{{identity_claim}}}")
    if not isinstance(profile, str) or not _valid_template(profile):
        raise _fail(where, "profile must be a template such as '{email}' or '{email}-ml' "
                           "(placeholders are claim names; other text lower-case letters, digits, '-')")
    groups = raw.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(group, str) and group.strip() for group in groups):
        raise _fail(where, "groups must be a list of group names")
    tag_session = raw.get("tag_session", False)
    if not isinstance(tag_session, bool):
        raise _fail(where, "tag_session must be true or false")
    if tag_session and not role_arn:
        raise _fail(where, "tag_session needs role_arn (session tags are set when assuming the role)")
    return Target(id=target_id, label=label.strip(), domain_id=domain_id, region=region, role_arn=role_arn,
                  profile=profile, groups=tuple(group.strip() for group in groups),
                  provision=_parse_provision(raw.get("provision"), where), tag_session=tag_session)


def _valid_template(template: str) -> bool:
    placeholders = PLACEHOLDER.findall(template)
    literal = PLACEHOLDER.sub("", template)
    return (bool(placeholders) and 0 < len(template) <= 200 and "{" not in literal and "}" not in literal
            and all(CLAIM_NAME_PATTERN.fullmatch(name) for name in placeholders)
            and bool(_TEMPLATE_LITERAL.fullmatch(literal)))


def parse_targets(raw_json: str, identity_claim: str) -> tuple[Target, ...]:
    try:
        document = json.loads(raw_json)
    except json.JSONDecodeError as error:
        raise ConfigError(f"PORTAL_TARGETS is not valid JSON ({error.msg} at position {error.pos})") from None
    if not isinstance(document, list) or not document:
        raise ConfigError("PORTAL_TARGETS must be a non-empty JSON list of targets")
    if len(document) > 50:
        raise ConfigError("PORTAL_TARGETS holds more than 50 targets")
    targets = tuple(parse_target(item, index, identity_claim) for index, item in enumerate(document))
    seen: set[str] = set()
    for target in targets:
        if target.id in seen:
            raise ConfigError(f"PORTAL_TARGETS: target {target.id!r}: id is used twice")
        seen.add(target.id)
    return targets


def allowed_targets(targets: Iterable[Target], groups: Iterable[str]) -> list[Target]:
    groups = list(groups)
    return [target for target in targets if target.admits(groups)]


def choose_target(targets: tuple[Target, ...], person: Any, request: Any) -> Target | None:
    """The target a request launches, None when the person should choose, or an error page."""
    from portal.errors import BadRequest, TargetNotAllowed, TargetNotFound
    from portal.i18n import N_

    allowed = allowed_targets(targets, person.groups)
    if request.target:
        target = next((target for target in targets if target.id == request.target), None)
        if target is None:
            raise TargetNotFound(request.target)
        if target not in allowed:
            raise TargetNotAllowed(target.id, target_label=target.label, identity=person.identity)
        return target
    if not allowed:
        raise TargetNotAllowed("no target", identity=person.identity)
    if len(allowed) == 1:
        return allowed[0]
    if request.is_specific:
        raise BadRequest("deep link without target", message=N_("The link must name which Studio to open (target)."))
    return None
