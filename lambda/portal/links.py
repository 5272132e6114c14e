"""Deep links: `/?target=<id>&space=<name>&app=<type>&path=<relative path>`, parsed strictly and built back.

Every parameter is optional. Names follow the SageMaker API patterns. `path` ends up in LandingUri, where
Studio resolves it again, so it is percent-decoded until stable and then must be short, relative (no leading
'/'), free of '.' and '..' segments, and made only of SAFE_PATH_CHARACTERS: no backslash, '%', ':', '?',
'#', control or non-ASCII character survives to be decoded or normalised differently by someone else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlencode

from portal.errors import BadRequest
from portal.i18n import N_, Text
from portal.settings_catalog import RESOURCE_NAME_PATTERN, TARGET_ID_PATTERN

APP_TYPES = ("JupyterLab", "CodeEditor", "Canvas", "RStudioServerPro", "JupyterServer")
STUDIO = "studio"
MAX_PATH_LENGTH = 900  # LandingUri allows 1023 characters, less the app prefix
SAFE_PATH_CHARACTERS = "- _ . ~ / + = , @ ( )"  # besides ASCII letters, digits and spaces
_SAFE_PATH = re.compile(r"[A-Za-z0-9\-_.~/+=,@() ]*")
# "%252e%252e" takes two rounds to become ".."; more than a few rounds is no link anyone wrote by hand.
MAX_DECODE_ROUNDS = 4
KNOWN_PARAMETERS = ("target", "space", "app", "path")


@dataclass(frozen=True)
class LaunchRequest:
    target: str | None = None
    space: str | None = None
    app: str | None = None
    path: str | None = None

    @property
    def is_specific(self) -> bool:
        return any((self.target, self.space, self.app, self.path))

    def landing_uri(self) -> str | None:
        if not self.app and not self.path:
            return None
        path = self.path or ""
        if self.app and self.app != STUDIO:
            return f"app:{self.app}:{path}"
        return f"studio::{path}"

    def query(self) -> str:
        pairs = [(name, getattr(self, name)) for name in KNOWN_PARAMETERS if getattr(self, name)]
        return urlencode(pairs, quote_via=quote, safe="/")


def _bad(message: Text) -> BadRequest:
    return BadRequest(message, message=message)


_NOTHING_ASKED = LaunchRequest()


def parse_launch_request(query: Mapping[str, list[str]] | None) -> LaunchRequest:
    if not query:
        return _NOTHING_ASKED  # the bookmark
    values: dict[str, str | None] = {}
    for name in KNOWN_PARAMETERS:
        given = query.get(name) or []
        if len(given) > 1:
            raise _bad(N_("The link gives '%(parameter)s' more than once.", parameter=name))
        values[name] = given[0] if given and given[0] != "" else None
    target, space, app, path = (values[name] for name in KNOWN_PARAMETERS)
    if target is not None and not TARGET_ID_PATTERN.fullmatch(target):
        raise _bad(N_("The link's target is not a valid target id."))
    if space is not None and not RESOURCE_NAME_PATTERN.fullmatch(space):
        raise _bad(N_("The link's space is not a valid Studio space name."))
    if app is not None and app not in (*APP_TYPES, STUDIO):
        raise _bad(N_("The link's app must be one of %(apps)s.", apps=", ".join((*APP_TYPES, STUDIO))))
    if path is not None:
        path = checked_path(path)
    return LaunchRequest(target=target, space=space, app=app, path=path or None)


def checked_path(raw: str) -> str:
    """The path as Studio will finally read it, or a 400: decoded until stable, then checked whole."""
    bad = _bad(N_("The link's path must be a short relative path inside Studio, without '.' or '..' parts, made "
                  "of letters, digits, spaces and %(characters)s.", characters=SAFE_PATH_CHARACTERS))
    path = raw
    for _ in range(MAX_DECODE_ROUNDS + 1):
        if len(path) > MAX_PATH_LENGTH:
            raise bad
        try:
            decoded = unquote(path, errors="strict")
        except UnicodeDecodeError:
            raise bad from None
        if decoded == path:
            break
        path = decoded
    else:
        raise bad
    if (not _SAFE_PATH.fullmatch(path) or path.startswith("/")
            or any(segment in (".", "..") for segment in path.split("/"))):
        raise bad
    return path


def deep_link(base_url: str, request: LaunchRequest) -> str:
    query = request.query()
    return f"{base_url}/?{query}" if query else f"{base_url}/"


def launch_request_for(return_path: str) -> LaunchRequest | None:
    """The launch a portal return path asks for (`/` with or without deep-link parameters), or None when it
    is some other page. A malformed deep link raises BadRequest, as it would at `/`."""
    path, _, query = return_path.partition("?")
    if path != "/":
        return None
    return parse_launch_request(parse_qs(query, keep_blank_values=True))
