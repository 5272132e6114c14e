"""Demo data for the simulated SageMaker control plane and the local IdP, and the demo targets.

Each demo user shows one path through the portal; ``local.dev`` prints this table as its banner. By default
``local.dev`` runs the portal with ``DEMO_TARGETS`` (two IAM domains, one of them for the ``ml-team`` group
and provisioning missing profiles); ``PORTAL_DOMAIN_ID=<any demo domain>`` gives the single-domain set-up,
where :func:`shows_in_domain` says what each user gets, read off the data below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.sim_state import SimState

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
DEMO_DOMAIN_ID = "d-demo0portal01"  # AuthMode IAM: the portal's default PORTAL_DOMAIN_ID locally
SSO_DOMAIN_ID = "d-sso0domain01"  # AuthMode SSO: CreatePresignedDomainUrl refuses it
TEAM_DOMAIN_ID = "d-team0portal02"  # AuthMode IAM: the "team" demo target, for the ml-team group
OWNER_TAG = "studiouserid"
GROUPS_CLAIM = "cognito:groups"  # the portal's default PORTAL_GROUPS_CLAIM
TEAM_GROUP = "ml-team"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/service-role/AmazonSageMaker-ExecutionRole-demo"
# How long a profile made by CreateUserProfile stays Pending in `make dev`: the preparing page shows a few
# times (it refreshes every 3 s), then Studio opens.
DEMO_PENDING_SECONDS = 8.0

# Domain names follow the service model's pattern (letters, digits, hyphens): "demo-studio".
DOMAINS: list[dict[str, Any]] = [
    {"domain_id": DEMO_DOMAIN_ID, "name": "demo-studio", "auth_mode": "IAM"},
    {"domain_id": SSO_DOMAIN_ID, "name": "demo-studio-sso", "auth_mode": "SSO"},
    {"domain_id": TEAM_DOMAIN_ID, "name": "team-studio", "auth_mode": "IAM"},
]

PROFILES: list[dict[str, Any]] = [
    {"domain_id": DEMO_DOMAIN_ID, "name": "alice", "tags": {OWNER_TAG: "alice@example.com"}},
    {"domain_id": DEMO_DOMAIN_ID, "name": "bob", "tags": {OWNER_TAG: "bob@example.com"}},
    # john.doe@example.com slugs to "john-doe", but this profile belongs to someone else.
    {"domain_id": DEMO_DOMAIN_ID, "name": "john-doe", "tags": {OWNER_TAG: "john-doe@example.com"}},
    # Stays Pending (no ready time): the "not ready yet" page.
    {
        "domain_id": DEMO_DOMAIN_ID,
        "name": "pending-pat",
        "tags": {OWNER_TAG: "pending.pat@example.com"},
        "status": "Pending",
    },
    # carol@example.com has no profile anywhere.
    # The SSO domain has profiles too, so PORTAL_DOMAIN_ID=d-sso0domain01 reaches the presign and fails there.
    {"domain_id": SSO_DOMAIN_ID, "name": "alice", "tags": {OWNER_TAG: "alice@example.com"}},
    {"domain_id": SSO_DOMAIN_ID, "name": "bob", "tags": {OWNER_TAG: "bob@example.com"}},
    # The team domain: only alice has a profile; carol's is made on her first visit (the target provisions).
    {"domain_id": TEAM_DOMAIN_ID, "name": "alice", "tags": {OWNER_TAG: "alice@example.com"}},
]

SPACES: list[dict[str, Any]] = [
    {
        "domain_id": DEMO_DOMAIN_ID,
        "name": "alice-private",
        "owner": "alice",
        "sharing": "Private",
        "app_type": "JupyterLab",
    },
    {"domain_id": DEMO_DOMAIN_ID, "name": "team-shared", "owner": "bob", "sharing": "Shared", "app_type": "JupyterLab"},
    {"domain_id": DEMO_DOMAIN_ID, "name": "bob-code", "owner": "bob", "sharing": "Private", "app_type": "CodeEditor"},
    {
        "domain_id": TEAM_DOMAIN_ID,
        "name": "alice-team-lab",
        "owner": "alice",
        "sharing": "Private",
        "app_type": "JupyterLab",
    },
    {"domain_id": TEAM_DOMAIN_ID, "name": "team-room", "owner": "alice", "sharing": "Shared", "app_type": "CodeEditor"},
]

# Running apps: alice's show what `python -m portal.admin revoke alice@example.com` stops (her private spaces'
# and her profile's own); apps in shared spaces are the team's; one app was deleted before.
APPS: list[dict[str, Any]] = [
    {"domain_id": DEMO_DOMAIN_ID, "app_type": "JupyterLab", "space": "alice-private"},
    {"domain_id": DEMO_DOMAIN_ID, "app_type": "Canvas", "profile": "alice"},
    {"domain_id": DEMO_DOMAIN_ID, "app_type": "JupyterLab", "space": "team-shared"},
    {"domain_id": DEMO_DOMAIN_ID, "app_type": "CodeEditor", "space": "bob-code"},
    {"domain_id": TEAM_DOMAIN_ID, "app_type": "JupyterLab", "space": "alice-team-lab"},
    # alice owns this space, but it is shared: its app is the team's, and revoke leaves it running.
    {"domain_id": TEAM_DOMAIN_ID, "app_type": "CodeEditor", "space": "team-room"},
    {"domain_id": TEAM_DOMAIN_ID, "app_type": "JupyterLab", "name": "old", "space": "alice-team-lab",
     "status": "Deleted"},
]

# PORTAL_TARGETS of `make dev` (see README "Several domains, spaces and apps").
DEMO_TARGETS: list[dict[str, Any]] = [
    {"id": "demo", "label": "Demo Studio", "domain_id": DEMO_DOMAIN_ID},
    {
        "id": "team",
        "label": "ML team Studio",
        "domain_id": TEAM_DOMAIN_ID,
        "groups": [TEAM_GROUP],
        "provision": {"execution_role_arn": EXECUTION_ROLE, "email_domains": ["example.com"],
                      "tags": {"cost-center": "ml-demo"}},
    },
]

# Deep links the banner and docs/local.md show: (query after "/?", what it does).
DEMO_LINKS: list[tuple[str, str]] = [
    (
        "target=demo&space=team-shared&app=JupyterLab&path=lab/tree/README.ipynb",
        "the shared space team-shared in JupyterLab, at lab/tree/README.ipynb",
    ),
    (
        "target=demo&space=bob-code&app=CodeEditor",
        "bob's private space: bob gets Code Editor, alice a 403 and no URL",
    ),
]


def demo_targets_json() -> str:
    """``DEMO_TARGETS`` as the portal reads ``PORTAL_TARGETS``."""
    return json.dumps(DEMO_TARGETS, separators=(",", ":"))


@dataclass(frozen=True)
class DemoUser:
    """``shows``: what the user sees with the demo targets (with one domain, :func:`shows_in_domain` says).
    ``groups`` travel in the ``cognito:groups`` claim."""

    email: str
    name: str
    shows: str
    groups: tuple[str, ...] = ()
    extra_claims: dict[str, Any] = field(default_factory=dict)

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"email": self.email, "email_verified": True, "name": self.name}
        if self.groups:
            claims[GROUPS_CLAIM] = list(self.groups)
        claims.update(self.extra_claims)
        return claims


DEMO_USERS: list[DemoUser] = [
    DemoUser(
        "alice@example.com",
        "Alice Example",
        "ml-team: the chooser with two Studios and her spaces in each",
        groups=(TEAM_GROUP, "data-science"),
    ),
    DemoUser(
        "bob@example.com",
        "Bob Example",
        "not in ml-team, one Studio: straight into Studio as 'bob'",
        groups=("data-science",),
    ),
    DemoUser(
        "carol@example.com",
        "Carol Example",
        'ml-team, no profile: the chooser; "ML team Studio" creates her profile (preparing page)',
        groups=(TEAM_GROUP,),
    ),
    DemoUser(
        "john.doe@example.com",
        "John Doe",
        "'john-doe' exists but is tagged for someone else: 403",
        groups=("data-science",),
    ),
    DemoUser(
        "pending.pat@example.com",
        "Pat Pending",
        "profile 'pending-pat' is still Pending: not ready yet",
        groups=("data-science",),
    ),
]


def oidc_users(users: list[DemoUser] | None = None) -> list[Any]:
    """The demo users as ``oidc_provider_mock.User`` objects (sub = the e-mail, shown on its sign-in form)."""
    from oidc_provider_mock import User

    return [User(sub=u.email, claims=u.claims()) for u in (DEMO_USERS if users is None else users)]


def apply(sim: SimState) -> None:
    """Load the demo domains, profiles (with owner tags), spaces and apps into ``sim``."""
    for domain in DOMAINS:
        sim.add_domain(**domain, execution_role=EXECUTION_ROLE)
    for profile in PROFILES:
        sim.add_profile(**profile)
    for space in SPACES:
        sim.add_space(**space)
    for app in APPS:
        sim.add_app(**app)


def shows_in_domain(user: DemoUser, domain_id: str) -> str:
    """What ``user`` gets with ``PORTAL_DOMAIN_ID=<domain_id>`` (one domain, no provisioning), decided from the
    seed data in the order the portal decides: the profile, its owner tag, its status, then the presign, which
    a domain outside IAM mode refuses (a missing profile there also ends in the domain's page)."""
    from portal.identity import owner_value, profile_slug

    domain_error = "the domain is not in IAM mode: 'Studio isn't set up correctly' (503)"
    domain = next((domain for domain in DOMAINS if domain["domain_id"] == domain_id), None)
    if domain is None:
        return "no such domain in the simulator: 'Studio isn't set up correctly' (503)"
    name = profile_slug(user.email)
    profile = next((p for p in PROFILES if p["domain_id"] == domain_id and p["name"] == name), None)
    if profile is None:
        return f"no profile '{name}' here: 'no Studio profile yet' (404)" if domain["auth_mode"] == "IAM" \
            else domain_error
    if profile["tags"].get(OWNER_TAG) != owner_value(user.email):
        return f"'{name}' exists but is tagged for someone else: 403"
    if profile.get("status", "InService") != "InService":
        return f"profile '{name}' is {profile['status']}: not ready yet (409)"
    if domain["auth_mode"] != "IAM":
        return domain_error
    spaces = [space["name"] for space in SPACES if space["domain_id"] == domain_id
              and (space["sharing"] == "Shared" or space["owner"] == name)]
    return f"owns '{name}': straight into Studio" + (f"; spaces {', '.join(spaces)}" if spaces else "")
