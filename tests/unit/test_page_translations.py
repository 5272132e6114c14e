"""Every page the portal renders, requested in each shipped language and in some it does not ship: the page is
in the language negotiated (lang, Content-Language), its heading is that language's translation, and every
name, identity, request id and link on it is exactly what the English page shows."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser

import pytest

from portal import i18n, runtime
from portal.handler import handler
from tests.support.events import FakeContext, header, rest_event
from tests.support.harness import ENV, Portal

# Accept-Language as browsers send it -> the language the page must be in
REQUESTS = {
    "en-US,en;q=0.9": "en", "de-DE,de;q=0.9,en;q=0.8": "de", "fr-FR,fr;q=0.9": "fr", "es-ES,es;q=0.9": "es",
    "pt-BR,pt;q=0.9,en;q=0.5": "pt-BR", "ja,en-US;q=0.8": "ja",
    # not shipped: a region of a shipped language, another language, several
    "de-CH": "de", "pt-PT,pt;q=0.9": "pt-BR", "it-IT,it;q=0.9": "en", "zh-CN,zh;q=0.9,ko;q=0.8": "en",
}


class PageParts(HTMLParser):
    """What a translation must not touch: links, values shown in <code> and <strong>, the request id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang = ""
        self.h1 = ""
        self.title = ""
        self.links: list[str] = []
        self.values: Counter[str] = Counter()
        self.request_id = ""
        self._open: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang") or ""
        if tag == "a":
            self.links.append(attributes.get("href") or "")
        self._open.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not self._open:
            return
        tag, attributes = self._open[-1]
        if tag == "h1":
            self.h1 += data
        elif tag == "title":
            self.title += data
        elif tag == "code" and attributes.get("id") == "request-id":
            self.request_id = data
        elif tag in ("code", "strong"):
            self.values[data] += 1


def portal_with(env: dict[str, str] | None = None) -> Portal:
    return Portal(env=env)


def signed_in(portal: Portal, **claims: str) -> Portal:
    portal.sign_in(**claims)
    return portal


def scenario_no_profile(portal: Portal, headers: dict[str, str]) -> dict:
    signed_in(portal, email="carol@example.com")
    portal.stubber.add_client_error("describe_user_profile", "ResourceNotFound", "nope", 400)
    portal.stubber.add_response("describe_domain", {"AuthMode": "IAM"})
    return portal.get("/", headers=headers)


def scenario_not_yours(portal: Portal, headers: dict[str, str]) -> dict:
    signed_in(portal, email="john.doe@example.com")
    portal.expect_launch(profile="john-doe", owner="john-doe@example.com")
    return portal.get("/", headers=headers)


def scenario_not_ready(portal: Portal, headers: dict[str, str]) -> dict:
    signed_in(portal)
    portal.expect_launch(status="Pending")
    return portal.get("/", headers=headers)


def scenario_unavailable(portal: Portal, headers: dict[str, str]) -> dict:
    signed_in(portal)
    portal.stubber.add_client_error("describe_user_profile", "ThrottlingException", "slow down", 400)
    return portal.get("/", headers=headers)


def scenario_identity(portal: Portal, headers: dict[str, str]) -> dict:
    signed_in(portal, email="...@example.com")
    return portal.get("/", headers=headers)


SCENARIOS: dict[str, tuple[int, Callable[[Portal, dict[str, str]], dict]]] = {
    "not-found": (404, lambda portal, headers: portal.get("/no-such-page", headers=headers)),
    "signed-out": (200, lambda portal, headers: portal.get("/signed-out", headers=headers)),
    "sign-in-cancelled": (403, lambda portal, headers: portal.get("/callback?error=access_denied", headers=headers)),
    "sign-in-expired": (401, lambda portal, headers: portal.get("/callback?code=abc&state=def", headers=headers)),
    "bad-link": (400, lambda portal, headers: portal.get("/?target=NOT_A_TARGET", headers=headers)),
    "bad-link-twice": (400, lambda portal, headers: portal.get("/?space=a&space=b", headers=headers)),
    "no-profile": (404, scenario_no_profile),
    "not-yours": (403, scenario_not_yours),
    "not-ready": (409, scenario_not_ready),
    "unavailable": (503, scenario_unavailable),
    "identity": (403, scenario_identity),
}


def render(scenario: str, accept_language: str | None) -> dict:
    status, run = SCENARIOS[scenario]
    portal = portal_with()
    try:
        response = run(portal, {"Accept-Language": accept_language} if accept_language else {})
    finally:
        runtime.reset()
    assert response["statusCode"] == status, response["body"][:500]
    return response


def assert_same_page_in(language: str, english: dict, translated: dict) -> None:
    ours, theirs = PageParts(english["body"]), PageParts(translated["body"])
    assert (theirs.lang, header(translated, "Content-Language"), header(translated, "Vary")) == \
        (language, language, "Accept-Language")
    assert ours.lang == "en"
    # The heading is the catalog's translation of the English one, and (but for English) not English
    heading = i18n.translations(language).gettext(ours.h1.strip())
    assert theirs.h1.strip() == heading
    if language != "en":
        assert heading != ours.h1.strip(), f"{ours.h1.strip()!r} is not translated into {language}"
    assert heading in theirs.title
    # Names, identities and links are exactly the English page's; each request has its own id, shown as is
    assert theirs.links == ours.links
    assert theirs.values == ours.values
    assert re.fullmatch(r"[0-9a-f-]{36}", theirs.request_id) and theirs.request_id in translated["body"]


@pytest.fixture(scope="module")
def english() -> dict[str, dict]:
    return {scenario: render(scenario, None) for scenario in SCENARIOS}


@pytest.mark.parametrize("accept_language", list(REQUESTS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_page_in_each_language_keeps_names_identities_and_links(english, scenario, accept_language):
    assert_same_page_in(REQUESTS[accept_language], english[scenario], render(scenario, accept_language))


@pytest.mark.parametrize("language", [language for language in i18n.SHIPPED_LANGUAGES if language != "en"])
def test_a_python_text_is_shown_translated_with_its_value_as_given(language):
    """The link names 'space' twice: the message is translated, the parameter's name is not."""
    response = render("bad-link-twice", language)
    catalog = i18n.translations(language)
    expected = catalog.gettext("The link gives '%(parameter)s' more than once.") % {"parameter": "space"}
    assert expected in response["body"].replace("&#39;", "'") and "more than once" not in response["body"]


def test_the_misconfiguration_page_is_translated_too(monkeypatch):
    runtime.reset()
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PORTAL_URL_EXPIRES_SECONDS", "1")
    english = handler(rest_event("/"), FakeContext())
    japanese = handler(rest_event("/", headers={"Accept-Language": "ja"}), FakeContext())
    runtime.reset()
    assert english["statusCode"] == japanese["statusCode"] == 503
    assert_same_page_in("ja", english, japanese)
