"""The pure parts of ``lambda-ui doctor``: the role's write rule, prefix coverage, lifecycle, lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_ui.local_lambda.cfn import load_template
from lambda_ui.runner.doctor_lines import Line, Status, can_print_marks, exit_status, format_line, summary
from lambda_ui.runner.doctor_policy import covers, key_pattern, lifecycle_expiry, matches, prefix_allowed, write_rule
from tests.conftest import REPO


@pytest.mark.parametrize(
    ("pattern", "prefix", "expected"),
    [
        ("runs/*", "runs", True),
        ("runs/*", "runs/team-a", True),
        ("runs/*", "runs/", True),
        ("runs/*", "runsx", False),  # a sibling that merely starts the same
        ("runs/*", "run", False),
        ("runs/*", "", False),  # no prefix: keys land at the bucket's top
        ("runs/*", "artifacts", False),
        ("*", "", True),
        ("*", "anything/at/all", True),
        ("r*", "runs", True),
        ("ru?s/*", "runs/x", True),
        ("runs/*/shots/*", "runs", False),  # only some keys under runs/
        ("runs/*.png", "runs", False),  # no trailing *: not every key
        ("runs/team", "runs/team", False),  # one exact key covers no folder
        ("runs/[ab]*", "runs/[ab]x", True),  # brackets are not special in IAM
        ("runs/[ab]*", "runs/a", False),
    ],
)
def test_a_pattern_covers_a_prefix_only_when_it_matches_every_key_under_it(pattern: str, prefix: str, expected: bool) -> None:
    assert covers(pattern, prefix) is expected


def test_iam_wildcards_and_action_case() -> None:
    assert matches("s3:Put*", "s3:PutObject", case_sensitive=False)
    assert matches("S3:PUTOBJECT", "s3:PutObject", case_sensitive=False)
    assert not matches("s3:Get*", "s3:PutObject", case_sensitive=False)
    assert matches("a?c", "abc") and not matches("a?c", "abbc")


@pytest.mark.parametrize(
    ("resource", "key"),
    [
        ("${ArtifactsBucket.Arn}/runs/*", "runs/*"),
        ("arn:aws:s3:::${ArtifactsBucket}/runs/*", "runs/*"),
        ("arn:${AWS::Partition}:s3:::my-bucket/x/*", "x/*"),
        ("arn:aws:s3:::my-bucket", None),  # the bucket itself, no object
        ("*", "*"),
    ],
)
def test_the_key_part_of_a_resource(resource: str, key: str | None) -> None:
    assert key_pattern(resource) == key


def test_the_templates_function_role_may_write_runs_only() -> None:
    rule = write_rule(load_template(Path(REPO, "template.yaml")))
    assert rule.patterns == ["runs/*"], rule
    assert prefix_allowed(rule.patterns, "runs") and not prefix_allowed(rule.patterns, "bundles")


def _template(function_props: dict[str, object], role_policies: list[object] | None = None, extra: dict[str, object] | None = None) -> dict[str, object]:
    resources: dict[str, object] = {"Fn": {"Type": "AWS::Serverless::Function", "Properties": function_props}}
    if role_policies is not None:
        resources["Role"] = {"Type": "AWS::IAM::Role", "Properties": {"Policies": role_policies}}
    resources.update(extra or {})
    return {"Resources": resources}


def test_statements_are_read_from_every_place_a_template_grants_writes() -> None:
    put = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:Put*"], "Resource": {"Fn::Sub": "arn:aws:s3:::${B}/inline/*"}}
    get_only = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/read/*"}
    joined = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/joined/*"]]}}
    attached = {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [joined]}}}
    template = _template(
        {"Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Policies": [{"Statement": [get_only]}]},
        [{"PolicyName": "p", "PolicyDocument": {"Statement": put}}],
        {"Other": attached},
    )
    rule = write_rule(template)
    assert rule.patterns == ["inline/*", "joined/*"], rule


def test_a_sam_write_template_allows_the_whole_bucket_and_a_deny_is_named() -> None:
    deny = {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/secret/*"}
    rule = write_rule(_template({"Policies": [{"S3WritePolicy": {"BucketName": "b"}}, {"Statement": [deny]}]}))
    assert rule.patterns == ["*"]
    assert any("Deny" in note for note in rule.notes)


def test_lifecycle_rule_for_the_prefix() -> None:
    rules = [
        {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}},
        {"ID": "tagged", "Status": "Enabled", "Filter": {"And": {"Prefix": "runs/", "Tags": [{"Key": "k", "Value": "v"}]}}, "Expiration": {"Days": 2}},
        {"ID": "uploads", "Status": "Enabled", "Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        {"ID": "bundles", "Status": "Enabled", "Filter": {"Prefix": "bundles/"}, "Expiration": {"Days": 30}},
        {"ID": "runs", "Status": "Enabled", "Filter": {"Prefix": "runs/"}, "Expiration": {"Days": 14}},
    ]
    found = lifecycle_expiry(rules, "runs/team")
    assert found is not None and (found.rule_id, found.after) == ("runs", "14 days")
    assert lifecycle_expiry(rules, "other") is None
    legacy = [{"ID": "old", "Status": "Enabled", "Prefix": "", "Expiration": {"Date": "2030-01-01"}}]
    assert lifecycle_expiry(legacy, "anything") is not None


def test_lines_are_one_line_each_with_a_mark() -> None:
    failed = Line.fail("memory", "512 MB\nis low", "deploy with 1024")
    assert format_line(failed) == "✗ memory: 512 MB is low → deploy with 1024"
    assert format_line(failed, ascii_only=True) == "FAIL memory: 512 MB is low -> deploy with 1024"
    assert format_line(Line.ok("timeout", "300 s")) == "✓ timeout: 300 s"
    assert format_line(Line.unchecked("lifecycle", "denied")) == "? lifecycle: could not check: denied"
    assert not can_print_marks("ascii") and can_print_marks("utf-8") and not can_print_marks("no-such-codec")


def test_only_a_failure_fails_the_exit_status() -> None:
    passing = [Line.ok("a", "x"), Line.unchecked("b", "denied")]
    assert exit_status(passing) == 0
    assert exit_status([*passing, Line.fail("c", "y", "z")]) == 1
    assert summary([*passing, Line(Status.FAIL, "c", "y")]) == "doctor: 1 passed, 1 failed, 1 not checked"
    assert summary([Line.ok("a", "x")]) == "doctor: 1 passed, 0 failed"


def test_pytest_lambda_warns_at_start_up_about_what_doctor_would_fail() -> None:
    from lambda_ui.runner.startup import DOCTOR_HINT, _setup_error, setup_warnings

    assert setup_warnings(2048, "runs") == [] and setup_warnings(1024, "runs/team") == []
    small, outside = setup_warnings(512, "artifacts")
    assert "512 MB, below the recommended minimum 1024 MB" in small
    assert "artifacts prefix 'artifacts' is outside runs/" in outside
    assert "no prefix is outside runs/" in setup_warnings(2048, "")[0]
    assert str(_setup_error("bucket 'x' does not exist.")).endswith("does not exist. " + DOCTOR_HINT)
