"""The admin command against the simulated SageMaker."""

import json

import pytest

from portal.admin import main

TARGETS = [
    {"id": "demo", "label": "Demo", "domain_id": "d-demo0portal01"},
    {"id": "ml", "label": "ML", "domain_id": "d-demo0portal01", "groups": ["ml"], "profile": "{email}-ml"},
]


@pytest.fixture
def targets_file(tmp_path):
    path = tmp_path / "targets.json"
    path.write_text(json.dumps(TARGETS))
    return str(path)


def test_preview_shows_targets_profiles_and_access(tmp_path, targets_file, capsys):
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({"email": "John.Doe@Example.com", "cognito:groups": ["ml"]}))
    assert main(["--targets", targets_file, "preview", "--claims", str(claims)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["target"], row["allowed"], row["profile"]) for row in rows] == [
        ("demo", True, "john-doe"), ("ml", True, "john-doe-ml")]
    assert rows[0]["owner_tag_value"] == "john.doe@example.com"


def test_preview_of_an_identity_outside_the_groups(tmp_path, targets_file, capsys):
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({"email": "x@example.com"}))
    main(["--targets", targets_file, "preview", "--claims", str(claims)])
    assert [row["allowed"] for row in json.loads(capsys.readouterr().out)] == [True, False]


def test_link_is_validated_and_printed(targets_file, capsys):
    assert main(["--targets", targets_file, "link", "--base-url", "https://studio.example.com/", "--target", "ml",
                 "--space", "team-shared", "--app", "JupyterLab", "--path", "lab/tree/a.ipynb"]) == 0
    assert capsys.readouterr().out.strip() == (
        "https://studio.example.com/?target=ml&space=team-shared&app=JupyterLab&path=lab/tree/a.ipynb")
    assert main(["--targets", targets_file, "link", "--base-url", "https://s", "--target", "ml",
                 "--path", "../etc"]) == 2
    assert main(["--targets", targets_file, "link", "--base-url", "https://s", "--target", "nope"]) == 2


def test_tag_owners_dry_run_then_apply(stack, targets_file, tmp_path, capsys):
    sim = stack.sim
    sim.reset()
    sim.add_profile("d-demo0portal01", "dave")  # untagged
    csv_file = tmp_path / "owners.csv"
    csv_file.write_text("identity,profile\ndave@example.com,\nalice@example.com,\njohn.doe@example.com,\n"
                        "erin@example.com,\n")
    # Dry run: a plan, no change
    assert main(["--targets", targets_file, "tag-owners", "--csv", str(csv_file), "--target", "demo"]) == 0
    out = capsys.readouterr().out
    assert "add       dave" in out and "unchanged alice" in out and "conflict  john-doe" in out
    assert "missing   erin" in out and "dry run" in out
    assert sim.calls_to("AddTags") == []
    # Apply: only the 'add' row is written; the conflict is left alone
    assert main(["--targets", targets_file, "tag-owners", "--csv", str(csv_file), "--target", "demo", "--apply"]) == 0
    (added,) = sim.calls_to("AddTags")
    assert added["ResourceArn"].endswith("/dave") and added["Tags"] == [{"Key": "studiouserid",
                                                                         "Value": "dave@example.com"}]
    sim.reset()
