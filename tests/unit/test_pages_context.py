"""Every PortalError page renders from its own error's context: no variable a page reads is left undefined."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Environment, StrictUndefined

from portal import errors
from portal.pages import Pages


class StrictPages(Pages):
    """The portal's pages, with Jinja2 refusing any variable the context does not define."""

    def _new_environment(self, language: str) -> Environment:
        environment = super()._new_environment(language)
        environment.undefined = StrictUndefined
        return environment


def every_error() -> list[type[errors.PortalError]]:
    found, todo = [], [errors.PortalError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return sorted(set(found), key=lambda cls: cls.__name__)


# What portal.web.page adds to every page, and what the routes add to some.
BASE = {"base_url": "https://portal.example/prod", "request_id": "req-1", "portal_title": "SageMaker Studio",
        "helpdesk": None, "retry_url": "https://portal.example/prod/", "address": None}
ROUTES_ADD: dict[str, dict[str, Any]] = {
    "preparing.html": {"status_url": "https://portal.example/prod/status?target=demo", "check_seconds": 3},
}


def test_every_error_is_found():
    names = {cls.__name__ for cls in every_error()}
    assert {"ProfileNotFound", "ProfileNotOwned", "SignInFailed", "ProfilePreparing", "TargetNotAllowed"} <= names


@pytest.mark.parametrize("error_class", every_error(), ids=lambda cls: cls.__name__)
def test_each_error_page_renders_with_its_own_context(error_class):
    error = error_class("detail")
    body = StrictPages().render(error.page, "en", **BASE, **ROUTES_ADD.get(error.page, {}), **error.page_context)
    assert "<html" in body and "detail" not in body
