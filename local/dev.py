"""``python -m local.dev`` (``make dev``): the portal on http://127.0.0.1:8000 with a local IdP and a
simulated SageMaker, until Ctrl-C.

By default the portal gets the demo targets (``local.seed.DEMO_TARGETS`` as ``PORTAL_TARGETS``): two
domains, a chooser, spaces, deep links and first-visit provisioning. ``PORTAL_DOMAIN_ID=d-demo0portal01``
gives the single-domain set-up instead; a ``PORTAL_TARGETS`` of your own replaces the demo targets.

Ports: ``--port``/``PORTAL_LOCAL_PORT`` (8000), ``--idp-port``/``PORTAL_LOCAL_IDP_PORT`` (9400),
``--sim-port``/``PORTAL_LOCAL_SIM_PORT`` (8001); ``--stage-prefix``/``PORTAL_LOCAL_STAGE_PREFIX`` serves
under e.g. /prod like an execute-api URL.

Real account: ``PORTAL_LOCAL_SAGEMAKER=off`` starts no simulator and uses your own AWS credentials, region
and ``PORTAL_DOMAIN_ID`` (or ``PORTAL_TARGETS``). ``PORTAL_OIDC_ISSUER`` (with ``PORTAL_OIDC_CLIENT_ID`` and
``PORTAL_OIDC_CLIENT_SECRET``) replaces the local IdP. Any ``PORTAL_*`` variable set in the environment wins
over the demo defaults.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from local.seed import (
    DEMO_DOMAIN_ID,
    DEMO_LINKS,
    DEMO_PENDING_SECONDS,
    DEMO_TARGETS,
    DEMO_USERS,
    SSO_DOMAIN_ID,
    demo_targets_json,
    shows_in_domain,
)

if TYPE_CHECKING:
    from local.sagemaker_sim import SageMakerSim
    from local.stack import RunningStack

DEFAULT_PORT, DEFAULT_IDP_PORT, DEFAULT_SIM_PORT = 8000, 9400, 8001
_OFF = {"off", "0", "false", "no", "aws", "real"}


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port")
    return port


def parse_args(argv: Sequence[str] | None, environ: Mapping[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.dev",
        description="Run the portal locally with a local OIDC provider and a simulated SageMaker.",
    )
    parser.add_argument("--port", type=_port, default=_port(environ.get("PORTAL_LOCAL_PORT", str(DEFAULT_PORT))))
    parser.add_argument(
        "--idp-port", type=_port, default=_port(environ.get("PORTAL_LOCAL_IDP_PORT", str(DEFAULT_IDP_PORT)))
    )
    parser.add_argument(
        "--sim-port", type=_port, default=_port(environ.get("PORTAL_LOCAL_SIM_PORT", str(DEFAULT_SIM_PORT)))
    )
    parser.add_argument(
        "--stage-prefix",
        default=environ.get("PORTAL_LOCAL_STAGE_PREFIX", ""),
        help='serve under a stage path such as "/prod", like an execute-api URL',
    )
    parser.add_argument("--quiet", action="store_true", help="don't log one line per request")
    return parser.parse_args(argv)


def user_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """PORTAL_* variables from the environment (not the runner's own PORTAL_LOCAL_*): they win."""
    return {k: v for k, v in environ.items() if k.startswith("PORTAL_") and not k.startswith("PORTAL_LOCAL_")}


def local_sagemaker_enabled(environ: Mapping[str, str]) -> bool:
    return environ.get("PORTAL_LOCAL_SAGEMAKER", "on").strip().lower() not in _OFF


def uses_demo_targets(environ: Mapping[str, str]) -> bool:
    """The demo targets apply with the simulator, unless PORTAL_DOMAIN_ID or PORTAL_TARGETS is set."""
    return (
        local_sagemaker_enabled(environ)
        and not environ.get("PORTAL_DOMAIN_ID", "").strip()
        and not environ.get("PORTAL_TARGETS", "").strip()
    )


def env_overrides(environ: Mapping[str, str]) -> dict[str, str | None]:
    """What the runner passes as ``running_stack(env_overrides=...)``: the user's PORTAL_* variables and, by
    default, the demo targets in place of the stack's single PORTAL_DOMAIN_ID (None removes it)."""
    overrides: dict[str, str | None] = dict(user_overrides(environ))
    if uses_demo_targets(environ):
        # Only empty PORTAL_DOMAIN_ID/PORTAL_TARGETS of the user's can be replaced here.
        overrides.update(PORTAL_TARGETS=demo_targets_json(), PORTAL_DOMAIN_ID=None)
    elif environ.get("PORTAL_TARGETS", "").strip() and not environ.get("PORTAL_DOMAIN_ID", "").strip():
        overrides["PORTAL_DOMAIN_ID"] = None  # the stack's default domain would clash with the user's targets
    return overrides


def simulator() -> SageMakerSim:
    """The runner's simulator: the demo seed, with profiles made by CreateUserProfile Pending only briefly, and
    the deployed roles' IAM Deny on revoked profiles (so a revoke refuses at once, as it does in AWS)."""
    from local.sagemaker_sim import SageMakerSim
    from portal.revocation import REVOKED_TAG

    return SageMakerSim(pending_seconds=DEMO_PENDING_SECONDS, deny_presign_tag=REVOKED_TAG)


def _target_lines(targets: list[dict]) -> list[str]:
    lines = []
    for target in targets:
        who = "groups " + ", ".join(target["groups"]) if target.get("groups") else "everyone"
        if target.get("provision"):
            who += "; creates missing profiles"
        label = f'"{target.get("label", target["id"])}"'
        lines.append(f"{target['id']:<6} {label:<18} {target['domain_id']:<17} {who}")
    return lines


def banner(
    stack: RunningStack,
    *,
    local_sagemaker: bool,
    local_idp: bool,
    domain_id: str | None = None,
    demo_targets: bool = False,
) -> str:
    """``demo_targets``: the portal runs with ``DEMO_TARGETS``; otherwise with ``domain_id`` or, when that is
    None, with a PORTAL_TARGETS of the user's."""
    portal_url = stack.portal_url
    lines = [
        "",
        "SageMaker Studio portal, running locally",
        "",
        f"  Open       {portal_url}/",
    ]
    if local_idp:
        lines.append(f"  Sign-in    {stack.idp_url}  (oidc-provider-mock: pick a user, no password)")
    else:
        lines.append(f"  Sign-in    {stack.idp_url}  (your IdP: register {portal_url}/callback)")
    where = "your PORTAL_TARGETS" if domain_id is None else f"domain {domain_id}"
    if demo_targets:
        target_lines = _target_lines(DEMO_TARGETS)
        lines.append(f"  SageMaker  {stack.sim_url}  (simulated, us-east-1)")
        lines.append(f"  Targets    {target_lines[0]}")
        lines += [f"             {line}" for line in target_lines[1:]]
    elif local_sagemaker:
        lines.append(f"  SageMaker  {stack.sim_url}  (simulated, us-east-1; {where})")
    else:
        lines.append(f"  SageMaker  your AWS account; {where}")
    if local_idp and local_sagemaker:
        lines += ["", "  Demo users (click one on the sign-in page):"]
        for user in DEMO_USERS:
            if demo_targets:
                shows = user.shows
            elif domain_id is not None:
                shows = shows_in_domain(user, domain_id)
            else:
                shows = "cognito:groups " + (", ".join(user.groups) or "(none)")
            lines.append(f"    {user.email:<26} {shows}")
        if demo_targets:
            lines += ["", "  Deep links (signed out too: the link survives the sign-in):"]
            for query, what in DEMO_LINKS:
                lines += [f"    {portal_url}/?{query}", f"        {what}"]
            lines += [
                "",
                f"  Single domain instead: PORTAL_DOMAIN_ID={DEMO_DOMAIN_ID} make dev",
                f"  New profiles stay Pending {DEMO_PENDING_SECONDS:g} s: the preparing page refreshes, then Studio.",
                "",
            ]
        else:
            lines.append("")
        from local.admin import command

        lines += [
            "  End someone's access (in another terminal), then open the portal as alice again:",
            f"    {command(str(stack.sim_url), 'revoke', 'alice@example.com', '--apply')}",
            "    (`who alice@example.com` shows her profiles and running apps; `restore alice@example.com --apply`",
            "    gives access back; without --apply each only says what it would do)",
            "",
            f"  PORTAL_DOMAIN_ID={SSO_DOMAIN_ID} shows the error for a domain not in IAM mode.",
            f"  Simulator hooks: {stack.sim_url}/_sim/state, /_sim/calls, /_sim/minted.",
        ]
    lines += ["", "  Ctrl-C to stop.", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    args = parse_args(argv, environ)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    local_sagemaker = local_sagemaker_enabled(environ)
    local_idp = not environ.get("PORTAL_OIDC_ISSUER")
    overrides = env_overrides(environ)
    demo_targets = uses_demo_targets(environ)
    if not local_sagemaker and not (environ.get("PORTAL_DOMAIN_ID") or environ.get("PORTAL_TARGETS")):
        print(
            "PORTAL_LOCAL_SAGEMAKER=off uses your AWS account: set PORTAL_DOMAIN_ID to its Studio domain id, "
            "or PORTAL_TARGETS (and AWS credentials and region as for the AWS CLI).",
            file=sys.stderr,
        )
        return 2
    if not local_idp and not (environ.get("PORTAL_OIDC_CLIENT_SECRET") or environ.get("PORTAL_OIDC_CLIENT_SECRET_ARN")):
        print(
            "PORTAL_OIDC_ISSUER is set: set PORTAL_OIDC_CLIENT_ID and PORTAL_OIDC_CLIENT_SECRET for that IdP too.",
            file=sys.stderr,
        )
        return 2

    from local.stack import running_stack

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: it may arrive ignored from a parent shell
        signal.signal(signum, lambda *_: stop.set())
    try:
        with running_stack(
            portal_port=args.port,
            idp_port=args.idp_port,
            sim_port=args.sim_port,
            env_overrides=overrides,
            stage_prefix=args.stage_prefix,
            local_sagemaker=local_sagemaker,
            local_idp=local_idp,
            sim=simulator() if local_sagemaker else None,
            quiet=args.quiet,
        ) as stack:
            text = banner(
                stack,
                local_sagemaker=local_sagemaker,
                local_idp=local_idp,
                domain_id=None if stack.env.get("PORTAL_TARGETS") else stack.env.get("PORTAL_DOMAIN_ID"),
                demo_targets=demo_targets,
            )
            print(text, flush=True)
            try:
                stack.adapter.load()
            except Exception:
                logging.getLogger("local.dev").exception(
                    "the portal handler failed to import: every request will get a 502 until it is fixed"
                )
            while not stop.wait(0.5):
                pass
    except OSError as error:
        print(
            f"{error}. Another `make dev` may be running; choose other ports with --port/--idp-port/--sim-port.",
            file=sys.stderr,
        )
        return 1
    print("Stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
