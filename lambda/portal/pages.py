"""HTML pages from the Jinja2 templates, with the security headers every page carries.

The stylesheet is inlined in each page and allowed by its hash, so the Content-Security-Policy can
forbid every external and inline resource but that one.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import cache
from pathlib import Path


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
def security_headers() -> dict[str, str]:
    """Headers for every response; the CSP allows the one inline stylesheet by its hash and nothing else."""
    digest = base64.b64encode(hashlib.sha256(_stylesheet().encode()).digest()).decode()
    csp = ("default-src 'none'; "
           f"style-src 'sha256-{digest}'; "
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
        # Imported here: a launch that ends in a redirect renders no page, so Jinja2 stays off the cold path.
        from jinja2 import Environment, FileSystemLoader

        directory = templates_dir or find_templates_dir()
        self._env = Environment(loader=FileSystemLoader(str(directory)), autoescape=True, auto_reload=False)

    def render(self, template: str, **context) -> str:
        from markupsafe import Markup

        # The stylesheet is our own file, not input: it must reach the page unescaped to match its hash.
        return self._env.get_template(template).render(css=Markup(_stylesheet()), **context)  # noqa: S704
