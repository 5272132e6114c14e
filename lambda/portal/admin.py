"""Administrator's command line: `python -m portal.admin <command>` (run with PYTHONPATH=lambda).

  preview   --claims FILE            which targets and profile names an identity gets (no AWS calls)
  tag-owners --csv FILE --target ID  tag existing profiles with their owner; a dry run unless --apply
  link      --target ID [--space S] [--app A] [--path P] --base-url URL   print a deep link
  revoke IDENTITY [--scan] [--user-pool-id ID] [--apply]   withdraw a person's access (dry run unless --apply)
  restore IDENTITY [--scan] [--user-pool-id ID] [--apply]  give it back
  who IDENTITY [--scan]              per target: profile, owner tag, revoked or not, running apps

Targets come from PORTAL_TARGETS (or PORTAL_DOMAIN_ID), as in the function, or from --targets FILE; --target ID
limits revoke, restore and who to one. IDENTITY is the identity claim's value (PORTAL_IDENTITY_CLAIM, e.g. the
e-mail address). Runs with your own AWS credentials (docs/deploy.md, "When someone leaves", lists the IAM).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portal.access import Access
from portal.admin_aws import AdminGateway
from portal.aws import AwsError, AwsGateway, AwsNotFound, Gateway
from portal.config import ConfigError, load_mapping, read_setting
from portal.errors import PortalError
from portal.identity import identity_from_claims, owner_value
from portal.links import LaunchRequest, deep_link, parse_launch_request
from portal.settings_catalog import BY_ENV
from portal.targets import Target, allowed_targets, parse_groups


def load_targets(targets_file: str | None, env: Mapping[str, str] = os.environ) -> tuple[tuple[Target, ...], str, str]:
    """The function's own reading of the mapping; --targets FILE stands in for PORTAL_TARGETS."""
    if targets_file:
        with open(targets_file, encoding="utf-8") as handle:
            env = {**env, "PORTAL_TARGETS": handle.read(), "PORTAL_DOMAIN_ID": ""}
    return load_mapping(env)


def preview(claims: dict[str, Any], targets: Sequence[Target], identity_claim: str, groups_claim: str) -> list[dict]:
    # An operator's preview of the mapping: whether the IdP verified the address is the sign-in's question.
    identity = identity_from_claims(claims, identity_claim, email_must_be_verified=False)
    groups = parse_groups(claims.get(groups_claim))
    allowed = allowed_targets(targets, groups)
    rows = []
    for target in targets:
        row: dict[str, Any] = {"target": target.id, "label": target.label, "domain_id": target.domain_id,
                               "allowed": target in allowed, "owner_tag_value": owner_value(identity),
                               "provisions": bool(target.provision)}
        try:
            row["profile"] = target.profile_name(claims)
        except PortalError as error:
            row["profile"] = None
            row["problem"] = error.detail
        rows.append(row)
    return rows


@dataclass
class TagPlan:
    profile: str
    owner: str
    action: str  # add, unchanged, conflict, missing
    current: str | None = None


def plan_tags(rows: Sequence[dict[str, str]], target: Target, owner_tag: str, identity_claim: str,
              gateway: Gateway) -> list[TagPlan]:
    client = gateway.sagemaker(target.region, target.role_arn)
    plans = []
    for row in rows:
        identity = (row.get("identity") or row.get(identity_claim) or "").strip()
        if not identity:
            raise ConfigError("every CSV row needs an 'identity' column (the identity claim's value)")
        profile = (row.get("profile") or "").strip() or target.profile_name({identity_claim: identity})
        owner = owner_value(identity)
        try:
            described = gateway.describe_user_profile(client, target.domain_id, profile)
        except AwsNotFound:
            plans.append(TagPlan(profile, owner, "missing"))
            continue
        current = gateway.list_tags(client, described.arn).get(owner_tag)
        action = "unchanged" if current == owner else ("add" if current is None else "conflict")
        plans.append(TagPlan(profile, owner, action, current))
    return plans


def apply_tags(plans: Sequence[TagPlan], target: Target, owner_tag: str, gateway: Gateway) -> int:
    client = gateway.sagemaker(target.region, target.role_arn)
    applied = 0
    for plan in plans:
        if plan.action == "add":
            described = gateway.describe_user_profile(client, target.domain_id, plan.profile)
            gateway.add_tags(client, described.arn, {owner_tag: plan.owner})
            applied += 1
    return applied


def _find_target(targets: Sequence[Target], target_id: str) -> Target:
    for target in targets:
        if target.id == target_id:
            return target
    raise ConfigError(f"no target {target_id!r}; known: {', '.join(target.id for target in targets)}")


def run_access(args: argparse.Namespace, targets: Sequence[Target], owner_tag: str, identity_claim: str,
               gateway: AwsGateway | None) -> int:
    """revoke, restore, who: print each report, and answer 1 when any step failed."""
    admin_gateway = gateway if isinstance(gateway, AdminGateway) else AdminGateway()
    access = Access(admin_gateway, owner_tag, identity_claim)
    if args.command == "who":
        reports = access.who(targets, args.identity, scan=args.scan)
    else:
        act = access.revoke if args.command == "revoke" else access.restore
        reports = act(targets, args.identity, scan=args.scan, apply=args.apply)
        if args.user_pool_id:
            reports.append(access.cognito(args.user_pool_id, args.identity, args.cognito_username,
                                          disable=args.command == "revoke", apply=args.apply))
    for report in reports:
        print(report.text())
    failed = any(report.failed for report in reports)
    if args.command != "who" and not args.apply:
        print("dry run: nothing changed; run again with --apply to do the above")
    elif failed:
        print(f"{args.command}: some steps FAILED (above); fix the cause and run the same command again",
              file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None, gateway: AwsGateway | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.admin", description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", help="JSON file of targets (default: PORTAL_TARGETS or PORTAL_DOMAIN_ID)")
    commands = parser.add_subparsers(dest="command", required=True)
    preview_cmd = commands.add_parser("preview", help="which targets and profile an identity gets")
    preview_cmd.add_argument("--claims", required=True, help="JSON file of ID token claims")
    tag_cmd = commands.add_parser("tag-owners", help="tag existing profiles with their owner (dry run by default)")
    tag_cmd.add_argument("--csv", required=True, help="CSV with an 'identity' column and optional 'profile'")
    tag_cmd.add_argument("--target", required=True)
    tag_cmd.add_argument("--apply", action="store_true", help="write the tags (default: only show the plan)")
    link_cmd = commands.add_parser("link", help="print a deep link")
    link_cmd.add_argument("--base-url", required=True, help="the portal's URL, e.g. https://studio.example.com")
    link_cmd.add_argument("--target", required=True)
    link_cmd.add_argument("--space")
    link_cmd.add_argument("--app")
    link_cmd.add_argument("--path")
    for name, text in (("revoke", "withdraw a person's access: tags, running apps, Cognito (dry run by default)"),
                       ("restore", "give a revoked person's access back (dry run by default)"),
                       ("who", "show a person's profiles, owner tags, revocation and running apps")):
        access_cmd = commands.add_parser(name, help=text)
        access_cmd.add_argument("identity", metavar="IDENTITY", help="the identity claim's value, e.g. an e-mail")
        access_cmd.add_argument("--target", help="only this target (default: every target)")
        access_cmd.add_argument("--scan", action="store_true",
                                help="search every profile's tags instead of the mapped profile name only")
        if name != "who":
            access_cmd.add_argument("--apply", action="store_true", help="make the changes (default: only show them)")
            access_cmd.add_argument("--user-pool-id", help="also sign out and disable (restore: enable) the "
                                                           "Cognito user carrying IDENTITY")
            access_cmd.add_argument("--cognito-username", help="the Cognito username, when the identity claim "
                                                               "cannot be searched for")
    args = parser.parse_args(argv)
    try:
        owner_tag = read_setting(os.environ, BY_ENV["PORTAL_OWNER_TAG"])
        targets, identity_claim, groups_claim = load_targets(args.targets)
        if args.command == "preview":
            with open(args.claims, encoding="utf-8") as handle:
                claims = json.load(handle)
            print(json.dumps(preview(claims, targets, identity_claim, groups_claim), indent=2))
        elif args.command in ("revoke", "restore", "who"):
            chosen = (_find_target(targets, args.target),) if args.target else targets
            return run_access(args, chosen, owner_tag, identity_claim, gateway)
        elif args.command == "link":
            target = _find_target(targets, args.target)
            given = {"target": target.id, "space": args.space, "app": args.app, "path": args.path}
            request = parse_launch_request({key: [value] for key, value in given.items() if value})
            print(deep_link(args.base_url.rstrip("/"), LaunchRequest(**request.__dict__)))
        else:
            target = _find_target(targets, args.target)
            with open(args.csv, encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
            gateway = gateway or AwsGateway()
            plans = plan_tags(rows, target, owner_tag, identity_claim, gateway)
            for plan in plans:
                note = f" (tagged {plan.current!r})" if plan.action == "conflict" else ""
                print(f"{plan.action:9} {plan.profile:40} {owner_tag}={plan.owner}{note}")
            if args.apply:
                applied = apply_tags(plans, target, owner_tag, gateway)
                print(f"applied {applied} tag(s); conflicts are never overwritten")
            else:
                print("dry run: nothing changed; run again with --apply to add the tags marked 'add'")
    except (ConfigError, PortalError, AwsError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
