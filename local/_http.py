"""Loopback HTTP servers for the local tooling: werkzeug's threaded server, started in a thread.

Two things differ from ``werkzeug.serving.make_server`` used bare:

- request lines are logged without their query string (it carries OAuth codes, state and presigned
  tokens), or not at all when ``quiet``;
- the header names and values exactly as the client sent them (case, order, repeats) are kept in
  ``environ["local.raw_headers"]``, which the API Gateway adapter needs and WSGI otherwise loses.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

RAW_HEADERS_KEY = "local.raw_headers"
LOOPBACK = "127.0.0.1"

_log = logging.getLogger("local.http")


class _RequestHandler(WSGIRequestHandler):
    """Keeps raw headers; logs ``METHOD /path status`` only (never queries, bodies or headers)."""

    quiet = False
    label = "http"

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        # Same rule as werkzeug: header names with "_" are dropped (they would alias "-" names).
        environ[RAW_HEADERS_KEY] = [(k, v.replace("\r\n", "")) for k, v in self.headers.items() if "_" not in k]
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.quiet:
            return
        try:
            path = urlsplit(self.path).path
            method = self.command
        except AttributeError:  # the request line could not be parsed
            path, method = "?", "?"
        _log.info("%-6s %s %s %s", self.label, method, path.translate(self._control_char_table), code)

    def log_error(self, format: str, *args: Any) -> None:
        # werkzeug/http.server report malformed requests here; their text may quote the request line.
        if not self.quiet:
            _log.warning("%-6s request error (%s)", self.label, format.split(" ", 1)[0] if format else "")

    def log_message(self, format: str, *args: Any) -> None:
        return


class LocalServer:
    """A werkzeug threaded WSGI server bound on loopback; ``port`` is known as soon as it is built."""

    def __init__(
        self, app: Callable[..., Any], *, port: int = 0, host: str = LOOPBACK, label: str = "http", quiet: bool = True
    ) -> None:
        sock = _bind(host, port)
        handler = type(f"{label.title()}RequestHandler", (_RequestHandler,), {"quiet": quiet, "label": label})
        try:
            self._server: BaseWSGIServer = make_server(
                host, sock.getsockname()[1], app, threaded=True, request_handler=handler, fd=sock.fileno()
            )
        finally:
            sock.close()  # the server holds its own duplicate of the descriptor
        self.host = host
        self.port: int = self._server.server_address[1]
        self.label = label
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"local-{self.label}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()


def _bind(host: str, port: int) -> socket.socket:
    """Bind and listen ourselves so a busy port raises ``OSError`` (werkzeug would ``sys.exit``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


@contextlib.contextmanager
def serving(
    app: Callable[..., Any], *, port: int = 0, label: str = "http", quiet: bool = True
) -> Iterator[LocalServer]:
    server = LocalServer(app, port=port, label=label, quiet=quiet).start()
    try:
        yield server
    finally:
        server.stop()
