"""No page text escapes translation: every template, rendered with the contexts the accessibility test gives it
and with a catalog that turns each marked text into nothing, shows no words but the values it was given."""

from __future__ import annotations

import gettext
import re

import pytest

from portal import i18n
from portal.pages import Pages
from tests.e2e.test_accessibility import PAGES


class Blank(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return ""

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ""


def leftover_words(html: str, context: dict) -> list[str]:
    body = html.split("<main>", 1)[1].split("</main>", 1)[0]
    body = re.sub(r"<[^>]+>", " ", body)
    values = {str(v) for v in context.values() if isinstance(v, str)}
    values |= {str(v) for entry in context.get("entries", []) for v in (entry.get("label"), entry.get("profile"),
                                                                         entry.get("status"), entry.get("id"))}
    values |= {space["name"] for entry in context.get("entries", []) for space in entry.get("spaces", [])}
    values |= {str(space.get("app_type")) for entry in context.get("entries", []) for space in entry.get("spaces", [])}
    values |= set(context.get("email_domains", ()))
    for value in sorted(values - {"", "None"}, key=len, reverse=True):
        body = body.replace(value, " ")
    return re.findall(r"[A-Za-z]{2,}", body)


@pytest.mark.parametrize(("name", "variant"), [(name, index) for name, variants in PAGES.items()
                                               for index in range(len(variants))])
def test_every_word_on_a_page_is_a_value_or_translated(monkeypatch, name, variant):
    monkeypatch.setattr(i18n, "translations", lambda language: Blank())
    context = {"base_url": "", "request_id": "rid", "portal_title": "SageMaker Studio", "helpdesk": None,
               "retry_url": "", "address": None, **PAGES[name][variant]}
    html = Pages().render(name, "de", **context)
    assert leftover_words(html, context) == []
