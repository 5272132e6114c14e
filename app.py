#!/usr/bin/env python3
"""The CDK app: one stack, configured by CDK context (cdk.json, -c key=value), checked by cdk-nag.

Synthesis needs no AWS credentials and makes no AWS calls. The stack is environment-agnostic unless an
account/region is asked for with CDK_DEPLOY_ACCOUNT/CDK_DEPLOY_REGION: the template then resolves its region and
account at deploy time (AWS::Region, AWS::AccountId), so one template deploys to any region. The CLI's own
CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION are deliberately ignored: the CLI sets CDK_DEFAULT_REGION to us-east-1
when nothing is configured, which would bake that region into the template.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The `targets` context is checked by the function's own validator (lambda/portal/targets.py); the Makefile and
# the tests put lambda/ on PYTHONPATH, `npx cdk synth` alone does not.
_LAMBDA_DIR = str(Path(__file__).resolve().parent / "lambda")
if _LAMBDA_DIR not in sys.path:
    sys.path.insert(0, _LAMBDA_DIR)

from aws_cdk import App, Environment  # noqa: E402

from infra.config import ConfigError, PortalConfig  # noqa: E402
from infra.nag import apply_checks  # noqa: E402
from infra.stack import PortalStack  # noqa: E402


def environment() -> Environment | None:
    account = os.environ.get("CDK_DEPLOY_ACCOUNT") or None
    region = os.environ.get("CDK_DEPLOY_REGION") or None
    return Environment(account=account, region=region) if account or region else None


def main() -> None:
    app = App()
    try:
        config = PortalConfig.from_context(app.node.try_get_context, list(app.node.get_all_context()))
        PortalStack(app, config.stack_name, config=config, env=environment())
    except ConfigError as error:
        sys.exit(f"error: {error}")
    apply_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
