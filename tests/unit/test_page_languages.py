"""Every rendered page says which language it is in (lang, Content-Language) and that it depends on the
browser's (Vary); PORTAL_LANGUAGES limits the choice, also on pages rendered without a built runtime."""

from __future__ import annotations

import re

import pytest

from portal import runtime
from portal.handler import handler
from tests.support.events import FakeContext, header, rest_event
from tests.support.harness import ENV, PRESIGNED, Portal


@pytest.fixture
def portal():
    yield Portal()
    runtime.reset()


def html_lang(response) -> str:
    match = re.match(r'<!doctype html>\s*<html lang="([^"]+)"[ >]', response["body"])
    assert match, response["body"][:200]
    return match.group(1)


def assert_page_in(response, language: str) -> None:
    assert header(response, "Content-Type").startswith("text/html")
    assert html_lang(response) == language
    assert header(response, "Content-Language") == language
    assert header(response, "Vary") == "Accept-Language"


@pytest.mark.parametrize(("accept_language", "language"), [
    ("de-DE,de;q=0.9,en;q=0.8", "de"), ("fr-CH", "fr"), ("es-419", "es"), ("pt-PT", "pt-BR"), ("ja", "ja"),
    ("en-US", "en"), ("zh-TW", "en"), (None, "en"),
])
def test_pages_rendered_in_a_request_carry_the_negotiated_language(portal, accept_language, language):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    assert_page_in(portal.get("/no-such-page", headers=headers), language)  # before anything is built
    assert_page_in(portal.get("/callback?error=access_denied", headers=headers), language)  # an error page
    assert_page_in(portal.get("/signed-out", headers=headers), language)


def test_the_header_is_read_whatever_its_case(portal):
    assert_page_in(portal.get("/no-such-page", headers={"accept-language": "ja"}), "ja")


def test_a_launch_renders_no_page_and_carries_no_language_headers(portal):
    portal.sign_in()
    portal.expect_launch()
    launch = portal.get("/", headers={"Accept-Language": "de"})
    assert launch["statusCode"] == 302 and header(launch, "Location") == PRESIGNED
    assert header(launch, "Content-Language") is None and header(launch, "Vary") is None


def test_portal_languages_limits_the_choice_and_its_first_is_the_last_resort():
    portal = Portal(env={"PORTAL_LANGUAGES": "de,fr"})  # a built runtime, as in a warm container
    try:
        assert_page_in(portal.get("/callback", headers={"Accept-Language": "ja,fr;q=0.5"}), "fr")
        assert_page_in(portal.get("/callback", headers={"Accept-Language": "ja"}), "de")
        assert_page_in(portal.get("/callback", headers={"Accept-Language": "en"}), "de")
    finally:
        runtime.reset()


def test_pages_without_a_runtime_read_portal_languages_from_the_environment(monkeypatch):
    runtime.reset()
    monkeypatch.setenv("PORTAL_LANGUAGES", "ja")
    assert_page_in(handler(rest_event("/no-such-page", headers={"Accept-Language": "de"}), FakeContext()), "ja")


def test_an_invalid_portal_languages_is_reported_on_a_page_offered_in_every_language(monkeypatch):
    runtime.reset()
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PORTAL_LANGUAGES", "de,klingon")
    response = handler(rest_event("/", headers={"Accept-Language": "fr"}), FakeContext())
    try:
        assert response["statusCode"] == 503
        assert_page_in(response, "fr")
    finally:
        runtime.reset()
