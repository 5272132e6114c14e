"""Demo data for the simulated SageMaker control plane and the local IdP.

Each demo user shows one path through the portal; ``local.dev`` prints this table as its banner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.sagemaker_sim import SageMakerSim

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
DEMO_DOMAIN_ID = "d-demo0portal01"  # AuthMode IAM: the portal's default PORTAL_DOMAIN_ID locally
SSO_DOMAIN_ID = "d-sso0domain01"  # AuthMode SSO: CreatePresignedDomainUrl refuses it
OWNER_TAG = "studiouserid"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/service-role/AmazonSageMaker-ExecutionRole-demo"

# Domain names follow the service model's pattern (letters, digits, hyphens): "demo-studio".
DOMAINS: list[dict[str, Any]] = [
    {"domain_id": DEMO_DOMAIN_ID, "name": "demo-studio", "auth_mode": "IAM"},
    {"domain_id": SSO_DOMAIN_ID, "name": "demo-studio-sso", "auth_mode": "SSO"},
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
]


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    shows: str
    groups: tuple[str, ...] = ()
    extra_claims: dict[str, Any] = field(default_factory=dict)

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"email": self.email, "email_verified": True, "name": self.name}
        if self.groups:
            claims["groups"] = list(self.groups)
        claims.update(self.extra_claims)
        return claims


DEMO_USERS: list[DemoUser] = [
    DemoUser(
        "alice@example.com", "Alice Example", "owns profile 'alice': straight into Studio", groups=("data-science",)
    ),
    DemoUser(
        "bob@example.com",
        "Bob Example",
        "owns 'bob' and two spaces (one shared)",
        groups=("data-science", "ml-platform"),
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
    DemoUser("carol@example.com", "Carol Example", "has no profile"),
]


def oidc_users(users: list[DemoUser] | None = None) -> list[Any]:
    """The demo users as ``oidc_provider_mock.User`` objects (sub = the e-mail, shown on its sign-in form)."""
    from oidc_provider_mock import User

    return [User(sub=u.email, claims=u.claims()) for u in (DEMO_USERS if users is None else users)]


def apply(sim: SageMakerSim) -> None:
    """Load the demo domains, profiles (with owner tags) and spaces into ``sim``."""
    for domain in DOMAINS:
        sim.add_domain(**domain, execution_role=EXECUTION_ROLE)
    for profile in PROFILES:
        sim.add_profile(**profile)
    for space in SPACES:
        sim.add_space(**space)
