"""HTML pages from the Jinja2 templates, in the reader's language, with the security headers every page carries.

The stylesheet and the one script are inlined in each page and allowed by their hashes, so the
Content-Security-Policy can forbid every external and inline resource but those two (never 'unsafe-inline').
Texts are marked for translation with Jinja2's i18n extension (``{% trans %}``, ``_()``; portal/i18n.py has
the catalogs).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment


def find_templates_dir() -> Path:
    configured = os.environ.get("PORTAL_TEMPLATES_DIR")
    candidates = [Path(configured)] if configured else []
    package_dir = Path(__file__).resolve().parent
    # In the Lambda bundle templates/ sits next to portal/; in the repository it is two levels up.
    candidates += [package_dir.parent / "templates", package_dir.parent.parent / "templates"]
    for candidate in candidates:
        if (candidate / "base.html").is_file():
            return candidate
    raise FileNotFoundError("templates directory not found (set PORTAL_TEMPLATES_DIR)")


@cache
def _stylesheet() -> str:
    return (find_templates_dir() / "portal.css").read_text()


@cache
def _script() -> str:
    return (find_templates_dir() / "portal.js").read_text()


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@cache
def security_headers() -> dict[str, str]:
    """Headers for every response; the CSP allows the inline stylesheet and script by their hashes and nothing
    else; the script may fetch from the portal itself (the preparing page's check of /status)."""
    csp = ("default-src 'none'; "
           f"style-src 'sha256-{_sha256(_stylesheet())}'; "
           f"script-src 'sha256-{_sha256(_script())}'; connect-src 'self'; "
           "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
        "Referrer-Policy": "no-referrer",
        # Every response is about one signed-in person (or carries a credential): never store it anywhere.
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }


class Pages:
    def __init__(self, templates_dir: Path | None = None):
        self._directory = templates_dir or find_templates_dir()
        self._environments: dict[str, Environment] = {}  # one per language, for the container's life

    def _environment(self, language: str) -> Environment:
        if language not in self._environments:
            self._environments[language] = self._new_environment(language)
        return self._environments[language]

    def _new_environment(self, language: str) -> Environment:
        # Imported here: a launch that ends in a redirect renders no page, so Jinja2 stays off the cold path.
        from jinja2 import Environment, FileSystemLoader

        from portal import i18n

        catalog = i18n.translations(language)
        environment = Environment(loader=FileSystemLoader(str(self._directory)), autoescape=True,
                                  auto_reload=False, extensions=["jinja2.ext.i18n"])
        # Whitespace and line breaks inside {% trans %} are folded, as `make messages` extracts them.
        environment.policies["ext.i18n.trimmed"] = True
        # newstyle: the values a translation names are escaped as they go in, as everywhere on the page.
        environment.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]  # by ext.i18n
        environment.filters["translated"] = lambda text: i18n.translate(text, catalog)
        return environment

    def render(self, template: str, language: str = "en", **context: Any) -> str:
        from markupsafe import Markup

        # The stylesheet and script are our own files, not input: they must reach the page unescaped to match
        # their hashes.
        return self._environment(language).get_template(template).render(
            css=Markup(_stylesheet()), script=Markup(_script()), language=language, **context)  # noqa: S704

    def compile_all(self, languages: tuple[str, ...]) -> None:
        """Compile every page in each language now (at init): Jinja2 keeps compiled templates, so no request
        compiles one, and each language's catalog is loaded."""
        for language in languages:
            environment = self._environment(language)
            for name in environment.list_templates(filter_func=lambda name: name.endswith(".html")):
                environment.get_template(name)


@cache
def shared() -> Pages:
    """The container's pages: built on first use, or at init by portal.runtime."""
    return Pages()


_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{2,30}$")


def helpdesk_link(value: str | None) -> dict[str, str | None] | None:
    """PORTAL_HELPDESK as the pages show it: ``href`` for a web address, a ``mailto:`` address or a phone number
    (``tel:``), None for anything else, which is shown as text and never becomes a link."""
    if not value:
        return None
    if value.startswith(("https://", "http://")):
        return {"href": value, "text": value}
    if value.startswith("mailto:") and len(value) > len("mailto:"):
        return {"href": value, "text": value.removeprefix("mailto:").split("?", 1)[0]}
    if _PHONE.fullmatch(value):
        return {"href": "tel:" + re.sub(r"[^0-9+]", "", value), "text": value}
    return {"href": None, "text": value}
