"""The reader's language: Accept-Language negotiation, PORTAL_LANGUAGES, and pages rendered from a catalog."""

from __future__ import annotations

import copy
import io
import pickle
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from hypothesis import given
from hypothesis import strategies as st

from portal import i18n
from portal.config import ConfigError, parse_languages
from portal.i18n import N_, SHIPPED_LANGUAGES, Text, negotiate, parse_accept_language
from portal.pages import Pages


@pytest.mark.parametrize(("header", "expected"), [
    # The browser's first choice, by its exact tag or the language of it
    ("de", "de"), ("de-DE", "de"), ("de-CH-1996", "de"), ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
    ("ES-mx", "es"), ("ja-JP", "ja"), ("pt-BR", "pt-BR"), ("pt_BR", "en"),  # an underscore is no BCP 47 tag
    # A bare language, or another region of it, finds the one shipped variant: Portuguese before English
    ("pt", "pt-BR"), ("pt-PT,en;q=0.5", "pt-BR"),
    # Quality values win over the order sent; ties keep the order sent
    ("en;q=0.5,ja", "ja"), ("fr;q=0.8,de;q=0.9", "de"), ("fr;q=0.8,de;q=0.8", "fr"), ("de;Q=0.2,es;q=0.3", "es"),
    # A region falling back to its language does not outrank a higher-quality choice
    ("zh-CN,de-AT;q=0.9,fr;q=0.8", "de"),
    # q=0 refuses a language, also through its regions
    ("de;q=0,fr;q=0.1", "fr"), ("pt;q=0,*", "en"), ("*,en;q=0", "de"),
    # Nothing shipped, nothing usable, nothing at all: English
    ("zh-CN,ko;q=0.9", "en"), ("", "en"), (None, "en"), ("*", "en"), ("de;q=2", "en"), ("de;q=0.5x", "en"),
    ("de;level=1", "en"), ("de;q=0.5;q=0.6", "en"), ("de-toolongsubtag", "en"), ("d3", "en"), (";;,,", "en"),
    # One malformed element does not spoil the rest
    ("<script>, ja;q=0.4", "ja"), ("de;q=abc, es;q=0.1", "es"), ("  fr ; q=0.7 , en;q=0.6", "fr"),
])
def test_the_page_language_follows_accept_language(header, expected):
    assert negotiate(header, SHIPPED_LANGUAGES) == expected


def test_the_first_offered_language_is_the_last_resort():
    assert negotiate("zh", ("de", "en")) == "de"
    assert negotiate("en-GB", ("de", "en")) == "en"
    assert negotiate("fr", ("de", "en")) == "de"  # not offered, so not chosen


def test_a_long_header_is_cut_at_a_bound():
    header = ",".join(["zh"] * 1000 + ["de"])
    assert len(parse_accept_language(header)) == i18n.MAX_RANGES
    assert negotiate(header, SHIPPED_LANGUAGES) == "en"


@given(st.text(max_size=300))
def test_any_header_gives_an_offered_language(header):
    assert negotiate(header, SHIPPED_LANGUAGES) in SHIPPED_LANGUAGES
    assert negotiate(header, ("ja", "fr")) in ("ja", "fr")


@pytest.mark.parametrize(("raw", "expected"), [
    (None, SHIPPED_LANGUAGES), ("", SHIPPED_LANGUAGES), ("  ", SHIPPED_LANGUAGES),
    ("de", ("de",)), ("ja, en", ("ja", "en")), ("PT-br,EN", ("pt-BR", "en")),
])
def test_portal_languages_lists_shipped_languages(raw, expected):
    assert parse_languages({} if raw is None else {"PORTAL_LANGUAGES": raw}) == expected


@pytest.mark.parametrize("raw", ["de,xx", "pt", "pt_BR", "de,de", "DE, de", "de,", ",de", "en;q=1", "zh", "de en"])
def test_portal_languages_refuses_anything_else_naming_the_variable(raw):
    with pytest.raises(ConfigError, match="PORTAL_LANGUAGES must be comma-separated, each once: en, de, fr, es"):
        parse_languages({"PORTAL_LANGUAGES": raw})


def test_every_shipped_language_but_the_source_has_a_compiled_catalog():
    assert SHIPPED_LANGUAGES == ("en", "de", "fr", "es", "pt-BR", "ja")
    compiled = sorted(path.parent.parent.name for path in i18n.LOCALE_DIR.glob("*/LC_MESSAGES/messages.mo"))
    assert compiled == sorted(i18n.catalog_name(language) for language in SHIPPED_LANGUAGES if language != "en")


def test_a_python_text_is_english_as_a_string_and_keeps_its_message_id_and_values():
    text = N_("The link gives '%(parameter)s' more than once.", parameter="space")
    assert text == "The link gives 'space' more than once." and isinstance(text, str)
    assert text.msgid == "The link gives '%(parameter)s' more than once." and text.values == {"parameter": "space"}
    for copied in (copy.copy(text), copy.deepcopy(text), pickle.loads(pickle.dumps(text))):  # noqa: S301
        assert isinstance(copied, Text) and copied == text and copied.msgid == text.msgid


# --- rendering from a catalog ------------------------------------------------------------------------------------
TEMPLATE = """<html lang="{{ language }}"><p>{% trans identity=identity %}Signed in as
  <strong>{{ identity }}</strong>.{% endtrans %}</p><p>{{ message|translated }}</p><p>{{ _("Sign out") }}</p></html>"""


@pytest.fixture
def german(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Pages:
    """A template and a German catalog of its three texts, as `make messages` and `make translations` make them."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(TEMPLATE)
    catalog = Catalog(locale="de")
    catalog.add("Signed in as <strong>%(identity)s</strong>.", "Angemeldet als <strong>%(identity)s</strong>.")
    catalog.add("Sign out", "Abmelden")
    catalog.add("Your profile %(profile)s is not ready.", "Ihr Profil %(profile)s ist noch nicht bereit.")
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    (tmp_path / "locale" / "de" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "locale" / "de" / "LC_MESSAGES" / "messages.mo").write_bytes(compiled.getvalue())
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    i18n.translations.cache_clear()
    yield Pages(tmp_path / "templates")
    i18n.translations.cache_clear()


def test_a_page_is_rendered_from_the_catalog_with_its_values_escaped_and_untranslated(german: Pages):
    message = N_("Your profile %(profile)s is not ready.", profile="<b>al&ice</b>")
    html = german.render("page.html", "de", identity="<script>x</script>", message=message)
    assert html.startswith('<html lang="de">')
    assert "Angemeldet als <strong>&lt;script&gt;x&lt;/script&gt;</strong>." in html
    assert "Ihr Profil &lt;b&gt;al&amp;ice&lt;/b&gt; ist noch nicht bereit." in html
    assert "<p>Abmelden</p>" in html
    english = german.render("page.html", "en", identity="alice", message=message)
    assert english.startswith('<html lang="en">') and "Signed in as <strong>alice</strong>." in english
    assert "Your profile &lt;b&gt;al&amp;ice&lt;/b&gt; is not ready." in english


def test_a_text_the_catalog_lacks_is_shown_in_english_and_escaped(german: Pages):
    html = german.render("page.html", "de", identity="a", message="<i>Not in the catalog</i>")
    assert "&lt;i&gt;Not in the catalog&lt;/i&gt;" in html and "<i>" not in html
