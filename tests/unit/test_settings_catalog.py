"""The one declaration of every setting: the function, the CDK app and the docs all follow it."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from infra.config import ConfigError as ContextError
from infra.config import PortalConfig
from portal.config import ConfigError, Settings, load_settings, read_setting
from portal.settings_catalog import BY_CONTEXT, BY_ENV, DECLARATIVE_KINDS, SETTINGS, markdown_table
from scripts.settings_tables import TABLES, with_table

ROOT = Path(__file__).resolve().parents[2]
BASE = {"PORTAL_OIDC_ISSUER": "https://idp.example.com", "PORTAL_OIDC_CLIENT_ID": "client",
        "PORTAL_SESSION_KEY": "k" * 32, "PORTAL_DOMAIN_ID": "d-abc123"}


@pytest.mark.parametrize(("name", "scope"), TABLES.items())
def test_the_committed_tables_are_the_generated_ones(name: str, scope: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert with_table(text, scope) == text, f"{name} is stale: run python scripts/settings_tables.py"
    assert markdown_table(scope).count("\n") > 10


def test_a_drifted_table_is_noticed() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    drifted = text.replace("| `PORTAL_URL_EXPIRES_SECONDS` | `urlExpiresSeconds` | `30` |",
                           "| `PORTAL_URL_EXPIRES_SECONDS` | `urlExpiresSeconds` | `60` |")
    assert drifted != text and with_table(drifted, "env") != drifted


def test_each_variable_and_key_is_declared_once() -> None:
    envs = [setting.env for setting in SETTINGS if setting.env]
    keys = [setting.context for setting in SETTINGS if setting.context]
    assert len(envs) == len(set(envs)) and len(keys) == len(set(keys))
    assert all(setting.doc and "\n" not in setting.doc for setting in SETTINGS)


def test_every_declared_variable_of_the_function_has_its_typed_field() -> None:
    # Those the loader reads from the declaration alone; the others are read by hand (their comment says where).
    fields = {field.name for field in dataclasses.fields(Settings)}
    portal = [setting for setting in SETTINGS if setting.env and setting.env.startswith("PORTAL_")
              and setting.kind in DECLARATIVE_KINDS and setting.env not in ("PORTAL_DOMAIN_ID",)]
    assert len(portal) > 5
    assert not [setting.env for setting in portal if setting.attr not in fields]


def test_the_function_reads_no_variable_the_catalog_does_not_declare() -> None:
    mentioned = set()
    for path in (ROOT / "lambda" / "portal").glob("*.py"):
        mentioned |= set(re.findall(r"\b(PORTAL_[A-Z0-9_]+)\b", path.read_text(encoding="utf-8")))
    assert mentioned
    assert not mentioned - set(BY_ENV)


def test_cdk_json_repeats_no_default() -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    # Only the placeholder domain (so that `make synth` works on a fresh clone) is a portal key there.
    assert [key for key in context if key in BY_CONTEXT] == ["domainId"]


def test_defaults_are_valid_by_their_own_declaration() -> None:
    settings = load_settings(BASE)
    for setting in SETTINGS:
        if setting.env and setting.env.startswith("PORTAL_") and setting.default is not None:
            assert getattr(settings, setting.attr) == setting.default, setting.env
    config = PortalConfig.from_mapping({"domainId": "d-abc123"})
    assert (config.url_expires_seconds, config.portal_session_seconds, config.owner_tag) == (
        BY_CONTEXT["urlExpiresSeconds"].default, BY_CONTEXT["portalSessionSeconds"].default,
        BY_CONTEXT["ownerTag"].default)


# Values for the settings that are both a variable of the function and a context key: synth refuses exactly
# what the function would refuse.
CANDIDATES = {
    "text": ["studiouserid", "owner/team:x", "ownér", "Owner Tag", "aws:owner", "AWS:owner", "a" * 128, "a" * 129,
             "email", "cognito:groups", "bad claim", "d-abc123", "d-ABC", "d-" + "a" * 62, "d-" + "-a" * 31, "d-" + "-a" * 30],
    "int": ["4", "5", "30", "300", "301", "1799", "1800", "43200", "43201", "299", "604800", "604801", "ten", "1.5"],
    "choice": ["INFO", "info", "debug", "verbose", ""],
    # The stack writes true/false; only a -c value may also say yes/no or 1/0.
    "bool": ["true", "false", "TRUE", "False", "maybe", ""],
}


@pytest.mark.parametrize("setting", [setting for setting in SETTINGS if setting.env and setting.context
                                     and setting.kind in DECLARATIVE_KINDS], ids=lambda setting: setting.env)
def test_run_time_and_synth_accept_the_same_values(setting) -> None:
    for value in CANDIDATES[setting.kind]:
        try:
            read_setting({setting.env: value}, setting)
            runtime_accepts = True
        except ConfigError:
            runtime_accepts = False
        context = {"domainId": "d-abc123", setting.context: value}
        try:
            PortalConfig.from_mapping(context)
            synth_accepts = True
        except ContextError as error:
            synth_accepts = not any(problem.startswith(f"{setting.context}:") for problem in error.problems)
        assert runtime_accepts == synth_accepts, (setting.env, value)


def test_unicode_and_reserved_owner_tags_are_refused_at_run_time_too() -> None:
    for tag in ("ownér", "aws:owner", "Aws:owner", "owner tag"):
        with pytest.raises(ConfigError, match="PORTAL_OWNER_TAG"):
            load_settings(BASE | {"PORTAL_OWNER_TAG": tag})
