"""``python -m local.admin [--sim URL] <command> …``: the portal's admin command (``portal.admin``) against the
simulated SageMaker that ``make dev`` runs, with the same targets as the running portal.

    PYTHONPATH=lambda .venv/bin/python -m local.admin who alice@example.com
    PYTHONPATH=lambda .venv/bin/python -m local.admin revoke alice@example.com --apply

``--sim`` defaults to ``http://127.0.0.1:<PORTAL_LOCAL_SIM_PORT or 8001>``; the ``make dev`` banner prints the
exact line. Nothing reaches AWS: the environment is the portal's own local one (dummy credentials, every AWS
endpoint on the simulator), and PORTAL_DOMAIN_ID or PORTAL_TARGETS of yours win as they do for ``make dev``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from local.dev import DEFAULT_SIM_PORT, env_overrides
from local.stack import patched_environ, portal_environment


def command(sim_url: str, *args: str) -> str:
    """The shell line that runs ``args`` against the simulator at ``sim_url`` (for the banner and docs)."""
    return " ".join(["PYTHONPATH=lambda .venv/bin/python -m local.admin --sim", sim_url, *args])


def split_sim(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[str, list[str]]:
    rest = list(argv)
    if rest[:1] == ["--sim"] and len(rest) >= 2:
        return rest[1].rstrip("/"), rest[2:]
    port = environ.get("PORTAL_LOCAL_SIM_PORT") or str(DEFAULT_SIM_PORT)
    return f"http://127.0.0.1:{port}", rest


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    sim_url, rest = split_sim(sys.argv[1:] if argv is None else argv, environ)
    env = portal_environment(idp_url=None, sim_url=sim_url, overrides=env_overrides(environ))
    from portal import admin

    with patched_environ(env):
        return admin.main(rest)


if __name__ == "__main__":
    sys.exit(main())
