"""Every deploy command docs/deploy.md shows synthesizes, passes cdk-nag, and is clean for cfn-lint: the option
combinations a reader copies are the ones the tests build."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.infra.conftest import ROOT, build

pytestmark = pytest.mark.infra

DOC = ROOT / "docs" / "deploy.md"


def documented_contexts(text: str) -> list[dict[str, str]]:
    """The ``-c key=value`` sets of each ``make deploy CDK_ARGS="…"`` and ``npx cdk deploy …`` in the sh blocks;
    the doc's elisions (``…``) become a short placeholder that fits every pattern they stand in."""
    found: list[dict[str, str]] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True) if line.strip() else []
            if words[:2] == ["make", "deploy"]:
                arguments = shlex.split(next(w for w in words if w.startswith("CDK_ARGS=")).removeprefix("CDK_ARGS="))
            elif words[:3] == ["npx", "cdk", "deploy"]:
                arguments = words[3:]
            else:
                continue
            pairs = [arguments[index + 1] for index, word in enumerate(arguments) if word == "-c"]
            context = dict(pair.split("=", 1) for pair in pairs)
            found.append({key: value.replace("…", "x1") for key, value in context.items()})
    return found


EXAMPLES = documented_contexts(DOC.read_text())


def test_the_doc_shows_the_commands_this_file_checks() -> None:
    assert len(EXAMPLES) >= 5
    keys = {key for example in EXAMPLES for key in example}
    assert {"domainId", "targets", "federation", "samlMetadataUrl", "customDomainName", "certificateArn",
            "allowedCidrs", "alarmEmail", "identitySource", "oidcClientSecretArn"} <= keys
    assert documented_contexts('```sh\nmake deploy CDK_ARGS="-c domainId=d-… -c waf=false"\n```') == [
        {"domainId": "d-x1", "waf": "false"}]


@pytest.mark.parametrize("number", range(len(EXAMPLES)))
def test_each_documented_command_synthesizes_clean(tmp_path: Path, number: int) -> None:
    context = EXAMPLES[number]  # on top of cdk.json, as the CLI passes them: strings
    result = build(f"doc-example-{number}", context, tmp_path)  # cdk-nag runs: an error would fail synth
    matches = lint_file(result.template_path, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(match) for match in matches if not match.rule.id.startswith("I")] == [], context
