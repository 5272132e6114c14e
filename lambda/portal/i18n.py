"""The employee's language: which shipped language a page is rendered in, and that language's catalog.

Pages are written in English and translated with gettext catalogs, ``portal/locale/<ll_CC>/LC_MESSAGES/``:
``messages.po`` (the sources; ``make messages`` extracts new texts into them) compiled to ``messages.mo``
(``make translations``), which ship in the Lambda bundle. The standard library's gettext reads them: Babel
extracts and compiles, but the function does not need it (it would add 33 MB of locale data to the bundle and
3 ms of imports for a language match of a few lines; docs/performance.md).

The language comes from ``Accept-Language`` (RFC 9110 §12.5.4): ranges in order of quality, ties in the
order sent, ``q=0`` refusing a language. Each range is looked up as RFC 4647 §3.4 does it (the whole range,
then one subtag shorter at a time: ``de-CH-1996``, ``de-CH``, ``de``), where a bare language also finds the
one shipped variant of it (``pt-PT`` and ``pt`` find ``pt-BR``). The last resort is the first offered
language: English unless ``PORTAL_LANGUAGES`` puts another first.

gettext and the catalogs are loaded only when a page is rendered: a launch ends in a redirect.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gettext import NullTranslations

from portal.settings_catalog import LANGUAGES as SHIPPED_LANGUAGES

SOURCE_LANGUAGE = SHIPPED_LANGUAGES[0]  # BCP 47 tags, as in Accept-Language, Content-Language and <html lang>
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# Browsers send a handful of ranges; anything longer is cut so that a hostile header costs nothing.
MAX_RANGES = 32


@cache
def _grammar() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A language range and its weight (RFC 9110 §12.4.2, §12.5.4), compiled on the first page, not at import:
    every cold start imports this module (errors use N_), and a launch never negotiates."""
    return (re.compile(r"\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*"),
            re.compile(r"[qQ]=(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)"))


def catalog_name(language: str) -> str:
    """gettext's directory for a BCP 47 tag: ``pt-BR`` -> ``pt_BR``."""
    return language.replace("-", "_")


def parse_accept_language(header: str) -> list[tuple[str, float]]:
    """``(range, quality)`` in the order sent; a malformed element is skipped, not the whole header."""
    language_range_grammar, weight_grammar = _grammar()
    ranges = []
    for element in header.split(",", MAX_RANGES)[:MAX_RANGES]:
        language_range, *parameters = (part.strip() for part in element.split(";"))
        if not language_range_grammar.fullmatch(language_range):
            continue
        weights = [weight_grammar.fullmatch(parameter) for parameter in parameters]
        if len(weights) > 1 or not all(weights):
            continue  # q is the only parameter Accept-Language defines, and only once
        ranges.append((language_range, float(weights[0].group(1)) if weights and weights[0] else 1.0))
    return ranges


def _lookup(language_range: str, candidates: Sequence[str]) -> str | None:
    subtags = language_range.lower().split("-")
    while subtags:
        prefix = "-".join(subtags)
        for language in candidates:
            if language.lower() == prefix:
                return language
        subtags.pop()
        if not subtags:
            # Down to the bare language: the shipped language with a region is still closer than English.
            for language in candidates:
                if language.lower().split("-")[0] == prefix:
                    return language
    return None


def negotiate(header: str | None, offered: Sequence[str]) -> str:
    """The offered language that ``header`` prefers; ``offered[0]`` when it names none of them."""
    ranges = parse_accept_language(header or "")
    refused = [language_range.lower() for language_range, quality in ranges if quality == 0 and language_range != "*"]
    candidates = [language for language in offered
                  if not any(language.lower() == no or language.lower().startswith(no + "-") for no in refused)]
    for language_range, _quality in sorted((item for item in ranges if item[1] > 0), key=lambda item: -item[1]):
        if language_range == "*":
            return candidates[0] if candidates else offered[0]
        found = _lookup(language_range, candidates)
        if found:
            return found
    return offered[0]


@cache
def translations(language: str) -> NullTranslations:
    """The language's compiled catalog, read once per container; English is the source and needs none."""
    import gettext

    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    with (LOCALE_DIR / catalog_name(language) / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as compiled:
        return gettext.GNUTranslations(compiled)


class Text(str):
    """A text for a page, written in Python (an error's message): English as a ``str``, and its message id and
    values, so that the page shows it in the reader's language. The values (names, identities) go in as they
    are, never translated."""

    msgid: str
    values: dict[str, object]

    def __new__(cls, msgid: str, **values: object) -> Text:
        text = super().__new__(cls, msgid % values)
        text.msgid = msgid
        text.values = values
        return text

    def __reduce__(self):  # copies and pickles keep the message id
        return (_text, (self.msgid, self.values))


def _text(msgid: str, values: dict[str, object]) -> Text:
    return Text(msgid, **values)


def N_(msgid: str, **values: object) -> Text:  # gettext's name for "translated later"
    """Mark a text in Python for translation (``make messages`` extracts these); it is translated when shown."""
    return Text(msgid, **values)


def translate(text: object, catalog: NullTranslations) -> object:
    """A :class:`Text` (or a plain string) in the catalog's language; anything else as it is."""
    if isinstance(text, Text):
        return catalog.gettext(text.msgid) % text.values
    if isinstance(text, str):
        return catalog.gettext(text)
    return text
