"""The `languages` context key: checked at synth as the function checks PORTAL_LANGUAGES, and passed on to it."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, PortalConfig
from portal.config import parse_languages
from tests.infra.conftest import CDK_JSON_CONTEXT

pytestmark = pytest.mark.infra


def test_languages_reach_the_function_as_given_and_unset_leaves_every_shipped_language() -> None:
    config = PortalConfig.from_mapping({**CDK_JSON_CONTEXT, "languages": "ja, EN"})
    assert config.function_environment["PORTAL_LANGUAGES"] == "ja, EN"
    assert parse_languages(config.function_environment) == ("ja", "en")
    assert "PORTAL_LANGUAGES" not in PortalConfig.from_mapping(dict(CDK_JSON_CONTEXT)).function_environment


@pytest.mark.parametrize("value", ["de,xx", "de,de", "pt", "de;en", "de,"])
def test_synth_refuses_what_the_function_would_refuse(value: str) -> None:
    with pytest.raises(ConfigError, match="languages: got"):
        PortalConfig.from_mapping({**CDK_JSON_CONTEXT, "languages": value})
    with pytest.raises(ValueError, match="PORTAL_LANGUAGES"):
        parse_languages({"PORTAL_LANGUAGES": value})
