import json

import pytest

from portal.config import ConfigError, load_settings
from portal.errors import BadRequest, IdentityUnusable, TargetNotAllowed, TargetNotFound
from portal.launch import Person
from portal.links import LaunchRequest
from portal.targets import Target, choose_target, parse_groups, parse_targets

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"


def targets_json(*targets):
    return json.dumps(list(targets))


def test_defaults_single_domain_configuration_to_one_target():
    settings = load_settings({"PORTAL_OIDC_ISSUER": "https://i.example", "PORTAL_OIDC_CLIENT_ID": "c",
                              "PORTAL_SESSION_KEY": "k" * 32, "PORTAL_DOMAIN_ID": "d-abc",
                              "PORTAL_IDENTITY_CLAIM": "upn"})
    (target,) = settings.targets
    assert (target.domain_id, target.profile, target.groups, target.provision) == ("d-abc", "{upn}", (), None)


def test_full_target_parses():
    (target,) = parse_targets(targets_json({
        "id": "ml-prod", "label": "ML production", "domain_id": "d-prod1", "region": "eu-west-1",
        "role_arn": "arn:aws:iam::210987654321:role/PortalLaunch", "profile": "{email}-ml",
        "groups": ["ml-engineers", "admins"], "tag_session": True,
        "provision": {"execution_role_arn": ROLE, "email_domains": ["corp.example"], "tags": {"team": "ml"}, "user_settings": {"DefaultLandingUri": "studio::"}},
    }), "email")
    assert target.region == "eu-west-1" and target.groups == ("ml-engineers", "admins") and target.tag_session
    assert target.provision.execution_role_arn == ROLE and target.provision.tags == (("team", "ml"),)
    assert target.profile_name({"email": "Alice.Smith@corp.example"}) == "alice-smith-ml"


@pytest.mark.parametrize("target, message", [
    ({"id": "Bad Id", "domain_id": "d-a"}, "target 0: id"),
    ({"id": "a", "domain_id": "x"}, "target 'a': domain_id"),
    ({"id": "a", "domain_id": "d-a", "region": "moon"}, "target 'a': region"),
    ({"id": "a", "domain_id": "d-a", "role_arn": "role"}, "target 'a': role_arn"),
    ({"id": "a", "domain_id": "d-a", "profile": "fixed-name"}, "target 'a': profile"),
    ({"id": "a", "domain_id": "d-a", "profile": "{email}_X"}, "target 'a': profile"),
    ({"id": "a", "domain_id": "d-a", "groups": "admins"}, "target 'a': groups"),
    ({"id": "a", "domain_id": "d-a", "provision": {"execution_role_arn": "x", "email_domains": ["x.example"]}},
     "execution_role_arn"),
    ({"id": "a", "domain_id": "d-a", "provision": {"execution_role_arn": ROLE}}, "provision.email_domains is required"),
    ({"id": "a", "domain_id": "d-a", "provision": {"execution_role_arn": ROLE, "email_domains": []}},
     "provision.email_domains must be a non-empty list"),
    ({"id": "a", "domain_id": "d-a", "provision": {"execution_role_arn": ROLE, "email_domains": "corp.example"}},
     "provision.email_domains must be a non-empty list"),
    ({"id": "a", "domain_id": "d-a", "provision": {"execution_role_arn": ROLE, "email_domains": ["Corp.Example"]}},
     "provision.email_domains must be a non-empty list of lower-case"),
    ({"id": "a", "domain_id": "d-a", "provision": {"execution_role_arn": ROLE, "email_domains": ["@corp.example"]}},
     "provision.email_domains"),
    ({"id": "a", "domain_id": "d-a", "provision": {"execution_role_arn": ROLE, "email_domains": ["x.example"], "tags": {"aws:x": "y"}}}, "tags"),
    ({"id": "a", "domain_id": "d-a", "tag_session": True}, "tag_session needs role_arn"),
    ({"id": "a", "domain_id": "d-a", "colour": "red"}, "unknown fields"),
])
def test_bad_targets_name_the_target_and_field(target, message):
    with pytest.raises(ConfigError, match=message):
        parse_targets(targets_json(target), "email")


def test_bad_target_documents():
    for document, message in (("{", "not valid JSON"), ("[]", "non-empty"), ('{"id": "a"}', "non-empty JSON list"),
                              (targets_json({"id": "a", "domain_id": "d-a"}, {"id": "a", "domain_id": "d-b"}), "used twice")):
        with pytest.raises(ConfigError, match=message):
            parse_targets(document, "email")


def test_targets_and_single_domain_are_exclusive():
    with pytest.raises(ConfigError, match=r"PORTAL_DOMAIN_ID.*PORTAL_TARGETS"):
        load_settings({"PORTAL_OIDC_ISSUER": "https://i.example", "PORTAL_OIDC_CLIENT_ID": "c",
                       "PORTAL_SESSION_KEY": "k" * 32, "PORTAL_DOMAIN_ID": "d-abc",
                       "PORTAL_TARGETS": targets_json({"id": "a", "domain_id": "d-a"})})


@pytest.mark.parametrize("claim, groups", [
    (["a", "b"], ["a", "b"]),
    ("a,b", ["a", "b"]),
    ("a b  c", ["a b  c"]),
    ("[a, b]", ["a", "b"]),
    ("Friends of ml-engineers, Marketing", ["Friends of ml-engineers", "Marketing"]),
    ("[Friends of ml-engineers]", ["Friends of ml-engineers"]),
    ("ml-engineers\tx", ["ml-engineers\tx"]),
    ("ml-engineers\u00a0, b", ["ml-engineers\u00a0", "b"]),
    ("\tml-engineers", ["\tml-engineers"]),
    (None, []),
    (42, []),
    ([1, "x", None, "", " y "], ["x", " y "]),
    ("\u2028ml-engineers", ["\u2028ml-engineers"]),
    ("Marketing,\u3000ml-engineers", ["Marketing", "\u3000ml-engineers"]),
    ("ml-engineers\x85", ["ml-engineers\x85"]),
    ("ml-engineers\t", ["ml-engineers\t"]),
])
def test_groups_claim_shapes(claim, groups):
    assert parse_groups(claim) == groups


def test_profile_template_needs_its_claims():
    target = Target(id="a", label="A", domain_id="d-a", profile="{department}-{email}")
    assert target.profile_name({"email": "bob@x", "department": "R&D"}) == "r-d-bob"
    with pytest.raises(IdentityUnusable, match="department"):
        target.profile_name({"email": "bob@x"})


def test_long_template_results_are_cut_to_a_valid_name():
    target = Target(id="a", label="A", domain_id="d-a", profile="{email}-team-analytics")
    name = target.profile_name({"email": "a" * 60 + "@x"})
    assert len(name) <= 63 and not name.endswith("-")


TARGETS = (
    Target(id="dev", label="Dev", domain_id="d-dev"),
    Target(id="prod", label="Prod", domain_id="d-prod", groups=("ml-prod",)),
)


def who(*groups):
    return Person(identity="alice@example.com", owner="alice@example.com", claims={"email": "alice@example.com"},
                  groups=groups)


def test_one_allowed_target_launches_directly_several_mean_choosing():
    assert choose_target(TARGETS, who(), LaunchRequest()).id == "dev"
    assert choose_target(TARGETS, who("ml-prod"), LaunchRequest()) is None
    assert choose_target(TARGETS, who("ml-prod"), LaunchRequest(target="prod")).id == "prod"


def test_links_never_grant_more_than_groups_allow():
    with pytest.raises(TargetNotAllowed):
        choose_target(TARGETS, who(), LaunchRequest(target="prod"))
    with pytest.raises(TargetNotFound):
        choose_target(TARGETS, who(), LaunchRequest(target="nope"))
    with pytest.raises(TargetNotAllowed):
        choose_target((TARGETS[1],), who("other"), LaunchRequest())
    with pytest.raises(BadRequest):
        choose_target(TARGETS, who("ml-prod"), LaunchRequest(space="team-shared"))


def test_start_up_fails_naming_email_domains_when_a_provisioning_target_lacks_it():
    targets = targets_json({"id": "a", "domain_id": "d-a", "provision": {"execution_role_arn": ROLE}})
    with pytest.raises(ConfigError, match=r"PORTAL_TARGETS: target 'a': provision.email_domains is required"):
        load_settings({"PORTAL_OIDC_ISSUER": "https://i.example", "PORTAL_OIDC_CLIENT_ID": "c",
                       "PORTAL_SESSION_KEY": "k" * 32, "PORTAL_TARGETS": targets})


@pytest.mark.parametrize("identity, admitted", [
    ("alice@corp.example", True),
    ("Alice@CORP.example", True),
    ("alice@partner.example", False),
    ("alice@sub.corp.example", False),  # subdomains are not implied
    ("alice@corp.example.evil", False),
    ("corp.example", False),
    ("@corp.example", False),
    ("alice@corp.exampl\u0435", False),  # Cyrillic ie
    ("sub-1234", False),  # not an address: never provisioned
    # Profile names come from what precedes the first '@' (john-doe), so a second '@' would let a foreign
    # address end in a listed domain and take a colleague's name.
    ("john.doe@partner.example@corp.example", False),
    ("john.doe@@corp.example", False),
])
def test_provisioning_admits_only_listed_email_domains(identity, admitted):
    (target,) = parse_targets(targets_json({"id": "a", "domain_id": "d-a", "provision": {
        "execution_role_arn": ROLE, "email_domains": ["corp.example", "other.example"]}}), "email")
    assert target.provision.admits(identity) is admitted
