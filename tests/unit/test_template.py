"""Checks on the SAM template that cfn-lint cannot make through the SAM transform.

cfn-lint validates ranges such as Timeout <= 900 only on plain ``AWS::Lambda::Function``
resources; behind ``AWS::Serverless::Function`` and ``!Ref`` parameters they go unchecked
(notes/lambda-wire-facts.md, section 5). The IAM scoping is also the product's contract
with the handler and the CI caller, so it is pinned here statement by statement.

Each check is a function that returns a list of problems. The tests assert the real
template has none, and that a deliberately broken copy has some, so a check that can
never fail is caught too.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from lambda_ui.local_lambda import cfn

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
DOCKERFILE = REPO / "lambda_pkg" / "Dockerfile"

FUNCTION = "UiTestFunction"
ROLE = "FunctionRole"
LOG_GROUP = "FunctionLogGroup"
BUCKET = "ArtifactsBucket"
BUCKET_POLICY = "ArtifactsBucketPolicy"
CALLER_POLICY = "CallerPolicy"

BUNDLES = "${ArtifactsBucket.Arn}/bundles/*"
RUNS = "${ArtifactsBucket.Arn}/runs/*"
BUCKET_ARN = "${ArtifactsBucket.Arn}"
FUNCTION_ARN = "${UiTestFunction.Arn}"
LOG_GROUP_ARN = "${FunctionLogGroup.Arn}"

#: What the function may do, per resource (design: read bundles, write run artifacts).
ROLE_GRANTS = {
    LOG_GROUP_ARN: {"logs:CreateLogStream", "logs:PutLogEvents"},
    BUNDLES: {"s3:GetObject"},
    RUNS: {"s3:PutObject", "s3:AbortMultipartUpload"},
}

#: The least memory the template may allow: Chrome hangs below it.
MIN_MEMORY_MB = 1024

#: The CI caller's actions, exactly.
CALLER_ACTIONS = {
    "lambda:InvokeFunction",
    "lambda:GetFunctionConcurrency",
    "s3:PutObject",
    "s3:GetObject",
    "s3:ListBucket",
}


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    # The local Lambda reads the template with the same loader: one parser of short tags.
    return cfn.load_template(path)


@pytest.fixture
def template() -> dict[str, Any]:
    return load_template()


# --- helpers -------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _arn_text(resource: Any) -> str:
    """A statement resource as comparable text: ``!GetAtt X.Arn`` and ``!Sub "${X.Arn}/..."``
    both become ``${X.Arn}...``; a literal string stays as it is."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and "Fn::Sub" in resource and isinstance(resource["Fn::Sub"], str):
        return resource["Fn::Sub"]
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return "${" + ".".join(resource["Fn::GetAtt"]) + "}"
    return repr(resource)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return _as_list(document.get("Statement", []))


def _role_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    props = template["Resources"][ROLE]["Properties"]
    found: list[dict[str, Any]] = []
    for policy in props.get("Policies", []):
        found.extend(_statements(policy["PolicyDocument"]))
    return found


def _range(template: dict[str, Any], name: str) -> tuple[float, float, float]:
    param = template["Parameters"][name]
    return float(param["MinValue"]), float(param["MaxValue"]), float(param["Default"])


# --- checks (each returns a list of problems) ----------------------------------------


def parameter_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    limits = {  # Lambda's own limits
        "Timeout": (1, 900),
        "MemorySize": (128, 10240),
        "EphemeralStorage": (512, 10240),
        "ReservedConcurrency": (1, 1000),
    }
    for name, (low, high) in limits.items():
        try:
            minimum, maximum, default = _range(template, name)
        except KeyError as exc:
            problems.append(f"parameter {name} lacks {exc}")
            continue
        if template["Parameters"][name].get("Type") != "Number":
            problems.append(f"parameter {name} is not a Number")
        if minimum < low or maximum > high:
            problems.append(f"parameter {name} allows {minimum:g}..{maximum:g}, Lambda allows {low}..{high}")
        if not minimum <= default <= maximum:
            problems.append(f"parameter {name} default {default:g} is outside {minimum:g}..{maximum:g}")
    for name in ("ArtifactRetentionDays", "BundleRetentionDays"):
        minimum, _maximum, default = _range(template, name)
        if minimum < 1 or default < minimum:
            problems.append(f"parameter {name} must be at least 1 day")
    # The image builds for both (lambda_pkg/Dockerfile maps each to its Chrome for Testing
    # platform); x86_64 stays the default.
    architecture = template["Parameters"]["Architecture"]
    if sorted(architecture.get("AllowedValues", [])) != ["arm64", "x86_64"] or architecture.get("Default") != "x86_64":
        problems.append("Architecture must allow x86_64 and arm64, default x86_64")
    # Chrome hangs or is killed with less memory (issue 15).
    if float(template["Parameters"]["MemorySize"].get("MinValue", 0)) < MIN_MEMORY_MB:
        problems.append(f"MemorySize allows less than {MIN_MEMORY_MB} MB")
    return problems


def function_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    props = template["Resources"][FUNCTION]["Properties"]
    expected = {
        "PackageType": "Image",
        "ImageUri": {"Ref": "ImageUri"},
        "MemorySize": {"Ref": "MemorySize"},
        "Timeout": {"Ref": "Timeout"},
        "EphemeralStorage": {"Size": {"Ref": "EphemeralStorage"}},
        "ReservedConcurrentExecutions": {"Ref": "ReservedConcurrency"},
        "Architectures": [{"Ref": "Architecture"}],
        "Role": {"Fn::GetAtt": [ROLE, "Arn"]},
    }
    for key, value in expected.items():
        if props.get(key) != value:
            problems.append(f"function {key} is {props.get(key)!r}, expected {value!r}")
    if props.get("LoggingConfig", {}).get("LogGroup") != {"Ref": LOG_GROUP}:
        problems.append("function does not log to the template's own log group")
    env = props.get("Environment", {}).get("Variables", {})
    for name in ("CHROME_BINARY", "CHROMEDRIVER", "LAMBDA_UI_ARTIFACTS_BUCKET"):
        if name not in env:
            problems.append(f"function environment lacks {name}")
    if env.get("LAMBDA_UI_ARTIFACTS_BUCKET") != {"Ref": BUCKET}:
        problems.append("LAMBDA_UI_ARTIFACTS_BUCKET does not name the template's bucket")
    if "RetentionInDays" not in template["Resources"][LOG_GROUP]["Properties"]:
        problems.append("log group has no retention")
    return problems


def role_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    props = template["Resources"][ROLE]["Properties"]
    if props.get("ManagedPolicyArns"):
        problems.append(f"execution role attaches managed policies {props['ManagedPolicyArns']!r}")
    granted: dict[str, set[str]] = {}
    for stmt in _role_statements(template):
        if stmt.get("Effect") != "Allow":
            continue
        if "NotAction" in stmt or "NotResource" in stmt:
            problems.append(f"statement {stmt.get('Sid')} uses NotAction/NotResource")
            continue
        actions = [str(a) for a in _as_list(stmt.get("Action", []))]
        resources = [_arn_text(r) for r in _as_list(stmt.get("Resource", []))]
        for action in actions:
            if "*" in action:
                problems.append(f"statement {stmt.get('Sid')} grants wildcard action {action}")
        for resource in resources:
            if resource == "*":
                problems.append(f"statement {stmt.get('Sid')} grants resource {resource}")
            for action in actions:
                granted.setdefault(resource, set()).add(action)
    for resource, actions in granted.items():
        allowed = ROLE_GRANTS.get(resource)
        if allowed is None:
            problems.append(f"execution role grants {sorted(actions)} on unexpected resource {resource}")
        elif not actions <= allowed:
            problems.append(f"execution role grants {sorted(actions - allowed)} on {resource}, allowed {sorted(allowed)}")
    for resource, needed in ROLE_GRANTS.items():
        missing = needed - granted.get(resource, set())
        if missing:
            problems.append(f"execution role lacks {sorted(missing)} on {resource}")
    return problems


def bucket_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    props = template["Resources"][BUCKET]["Properties"]
    block = props.get("PublicAccessBlockConfiguration", {})
    for flag in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        if block.get(flag) is not True:
            problems.append(f"public access block {flag} is not true")
    rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    algorithms = {r.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules}
    if not algorithms & {"AES256", "aws:kms", "aws:kms:dsse"}:
        problems.append("bucket has no default encryption")
    ownership = props.get("OwnershipControls", {}).get("Rules", [])
    if [r.get("ObjectOwnership") for r in ownership] != ["BucketOwnerEnforced"]:
        problems.append("object ownership is not BucketOwnerEnforced")

    lifecycle = [r for r in props.get("LifecycleConfiguration", {}).get("Rules", []) if r.get("Status") == "Enabled"]

    def expiry(prefix: str) -> Any:
        for rule in lifecycle:
            if rule.get("Prefix") == prefix and "ExpirationInDays" in rule:
                return rule["ExpirationInDays"]
        return None

    if expiry("runs/") != {"Ref": "ArtifactRetentionDays"}:
        problems.append("no enabled rule expires runs/ after ArtifactRetentionDays")
    if expiry("bundles/") != {"Ref": "BundleRetentionDays"}:
        problems.append("no enabled rule expires bundles/ after BundleRetentionDays")
    aborts = [
        r for r in lifecycle
        if r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 1 and not r.get("Prefix")
    ]
    if not aborts:
        problems.append("no enabled bucket-wide rule aborts incomplete multipart uploads after 1 day")

    policy = template["Resources"][BUCKET_POLICY]["Properties"]
    if policy.get("Bucket") != {"Ref": BUCKET}:
        problems.append("bucket policy is not on the artifacts bucket")
    tls_denied = False
    for stmt in _statements(policy["PolicyDocument"]):
        condition = stmt.get("Condition", {}).get("Bool", {})
        resources = {_arn_text(r) for r in _as_list(stmt.get("Resource", []))}
        if (
            stmt.get("Effect") == "Deny"
            and stmt.get("Principal") == "*"
            and str(condition.get("aws:SecureTransport")).lower() == "false"
            and resources >= {BUCKET_ARN, BUCKET_ARN + "/*"}
        ):
            tls_denied = True
    if not tls_denied:
        problems.append("bucket policy does not deny requests without TLS")
    return problems


def caller_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    document = template["Resources"][CALLER_POLICY]["Properties"]["PolicyDocument"]
    actions_seen: set[str] = set()
    by_resource: dict[str, set[str]] = {}
    for stmt in _statements(document):
        if stmt.get("Effect") != "Allow" or "NotAction" in stmt or "NotResource" in stmt:
            problems.append(f"caller statement {stmt.get('Sid')} is not a plain Allow")
            continue
        actions = {str(a) for a in _as_list(stmt.get("Action", []))}
        resources = [_arn_text(r) for r in _as_list(stmt.get("Resource", []))]
        actions_seen |= actions
        for action in actions:
            if "*" in action:
                problems.append(f"caller statement {stmt.get('Sid')} grants wildcard action {action}")
        if "*" in resources:
            problems.append(f"caller statement {stmt.get('Sid')} grants {sorted(actions)} on every resource")
        if "s3:ListBucket" in actions:
            prefixes = _as_list(stmt.get("Condition", {}).get("StringLike", {}).get("s3:prefix"))
            if resources != [BUCKET_ARN] or prefixes != ["runs/*"]:
                problems.append("s3:ListBucket must be on the bucket and limited to the runs/ prefix")
        for resource in resources:
            by_resource.setdefault(resource, set()).update(actions)
    if actions_seen != CALLER_ACTIONS:
        problems.append(
            f"caller actions differ: extra {sorted(actions_seen - CALLER_ACTIONS)}, "
            f"missing {sorted(CALLER_ACTIONS - actions_seen)}"
        )
    expected = {
        FUNCTION_ARN: {
            "lambda:InvokeFunction", "lambda:GetFunctionConcurrency",
        },
        BUNDLES: {"s3:PutObject", "s3:GetObject"},
        RUNS: {"s3:GetObject", "s3:PutObject"},
    }
    for resource, actions in expected.items():
        if by_resource.get(resource) != actions:
            problems.append(f"caller grants {sorted(by_resource.get(resource, set()))} on {resource}, expected {sorted(actions)}")
    for resource, actions in by_resource.items():
        known = set(expected) | {FUNCTION_ARN + ":*", BUCKET_ARN, "*"}
        if resource not in known:
            problems.append(f"caller grants {sorted(actions)} on unexpected resource {resource}")
        if resource == FUNCTION_ARN + ":*" and not actions <= expected[FUNCTION_ARN]:
            problems.append(f"caller grants {sorted(actions)} on qualified function ARNs")
    return problems


def dockerfile_problems(template: dict[str, Any]) -> list[str]:
    """The template's Chrome paths and build metadata must agree with the Dockerfile."""
    problems = []
    text = DOCKERFILE.read_text(encoding="utf-8")
    env = template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    for name in ("CHROME_BINARY", "CHROMEDRIVER"):
        match = re.search(rf"\b{name}=(\S+)", text)
        if match is None:
            problems.append(f"Dockerfile sets no ENV {name}")
        elif match.group(1) != env.get(name):
            problems.append(f"{name}: Dockerfile has {match.group(1)}, template has {env.get(name)}")
    meta = template["Resources"][FUNCTION].get("Metadata", {})
    if not (REPO / meta.get("DockerContext", "?") / meta.get("Dockerfile", "?")).is_file():
        problems.append("function Metadata Dockerfile/DockerContext do not name lambda_pkg/Dockerfile")
    for arg in meta.get("DockerBuildArgs", {}):
        if not re.search(rf"^ARG {arg}\b", text, re.MULTILINE):
            problems.append(f"DockerBuildArgs passes {arg}, which the Dockerfile does not declare")
    if 'CMD ["lambda_ui.function.handler.handler"]' not in text:
        problems.append("Dockerfile CMD is not lambda_ui.function.handler.handler")
    return problems


def skip_problems(template: dict[str, Any]) -> list[str]:
    """Every checkov skip must say why (scripts/lint.sh enforces the same)."""
    problems = []
    for name, resource in template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            if not re.fullmatch(r"CKV2?_AWS_\d+", str(skip.get("id", ""))):
                problems.append(f"{name}: malformed checkov skip id {skip.get('id')!r}")
            if len(str(skip.get("comment", "")).split()) < 5:
                problems.append(f"{name}: checkov skip {skip.get('id')} has no real justification")
    return problems


# --- tests ---------------------------------------------------------------------------

CHECKS = [
    parameter_problems,
    function_problems,
    role_problems,
    bucket_problems,
    caller_problems,
    dockerfile_problems,
    skip_problems,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_template_passes(template: dict[str, Any], check: Any) -> None:
    assert check(template) == []


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["FunctionName"]["Value"] == {"Ref": FUNCTION}
    assert outputs["FunctionArn"]["Value"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert outputs["ArtifactsBucket"]["Value"] == {"Ref": BUCKET}
    assert outputs["CallerPolicyArn"]["Value"] == {"Ref": CALLER_POLICY}


def test_loader_reads_short_tags(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  a: !Ref X\n  b: !GetAtt Y.Arn\n  c: !Sub '${Y.Arn}/k'\n")
    doc = cfn.load_template(path)["Resources"]
    assert doc == {"a": {"Ref": "X"}, "b": {"Fn::GetAtt": ["Y", "Arn"]}, "c": {"Fn::Sub": "${Y.Arn}/k"}}


# Each mutation breaks one rule; the named check must notice it.


def _role_stmt(t: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in _role_statements(t) if s.get("Sid") == sid)


def _caller_stmt(t: dict[str, Any], sid: str) -> dict[str, Any]:
    doc = t["Resources"][CALLER_POLICY]["Properties"]["PolicyDocument"]
    return next(s for s in _statements(doc) if s.get("Sid") == sid)


def _add_role_statement(t: dict[str, Any], stmt: dict[str, Any]) -> None:
    t["Resources"][ROLE]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(stmt)


MUTATIONS = {
    "timeout above 900": (
        parameter_problems, lambda t: t["Parameters"]["Timeout"].update(MaxValue=1200)),
    "memory above 10240": (
        parameter_problems, lambda t: t["Parameters"]["MemorySize"].update(MaxValue=20480)),
    "ephemeral storage below 512": (
        parameter_problems, lambda t: t["Parameters"]["EphemeralStorage"].update(MinValue=256)),
    "arm64 not allowed": (
        parameter_problems, lambda t: t["Parameters"]["Architecture"].update(AllowedValues=["x86_64"])),
    "an unknown architecture allowed": (
        parameter_problems, lambda t: t["Parameters"]["Architecture"].update(AllowedValues=["x86_64", "arm64", "ppc64le"])),
    "arm64 by default": (
        parameter_problems, lambda t: t["Parameters"]["Architecture"].update(Default="arm64")),
    "memory down to 128": (
        parameter_problems, lambda t: t["Parameters"]["MemorySize"].update(MinValue=128)),
    "hard-coded timeout": (
        function_problems, lambda t: t["Resources"][FUNCTION]["Properties"].update(Timeout=900)),
    "role gets s3:*": (
        role_problems, lambda t: _role_stmt(t, "ReadTestBundles").update(Action="s3:*")),
    "role reads runs/": (
        role_problems, lambda t: _role_stmt(t, "ReadTestBundles").update(Resource={"Fn::Sub": RUNS})),
    "role writes bundles/": (
        role_problems, lambda t: _role_stmt(t, "WriteRunArtifacts").update(Resource={"Fn::Sub": BUNDLES})),
    "role logs to every group": (
        role_problems, lambda t: _role_stmt(t, "WriteOwnLogGroup").update(Resource="*")),
    "role gets basic execution policy": (
        role_problems, lambda t: t["Resources"][ROLE]["Properties"].update(
            ManagedPolicyArns=["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"])),
    "role gets an extra statement": (
        role_problems, lambda t: _add_role_statement(
            t, {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": {"Fn::Sub": RUNS}})),
    "public access block off": (
        bucket_problems, lambda t: t["Resources"][BUCKET]["Properties"]["PublicAccessBlockConfiguration"].update(
            RestrictPublicBuckets=False)),
    "no encryption": (
        bucket_problems, lambda t: t["Resources"][BUCKET]["Properties"].pop("BucketEncryption")),
    "no multipart abort": (
        bucket_problems, lambda t: t["Resources"][BUCKET]["Properties"]["LifecycleConfiguration"]["Rules"].pop()),
    "TLS not enforced": (
        bucket_problems, lambda t: t["Resources"][BUCKET_POLICY]["Properties"]["PolicyDocument"].update(Statement=[])),
    "caller gets s3:*": (
        caller_problems, lambda t: _caller_stmt(t, "UploadAndCheckTestBundles").update(Action="s3:*")),
    "caller gets DeleteObject": (
        caller_problems, lambda t: _caller_stmt(t, "ReadRunArtifactsWriteMergedReport").update(
            Action=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])),
    "caller invokes any function": (
        caller_problems, lambda t: _caller_stmt(t, "InvokeFunctionReadConcurrency").update(Resource="*")),
    "caller reads the function's configuration": (
        caller_problems, lambda t: _caller_stmt(t, "InvokeFunctionReadConcurrency").update(
            Action=["lambda:InvokeFunction", "lambda:GetFunctionConcurrency", "lambda:GetFunctionConfiguration"])),
    "caller reads account settings on *": (
        caller_problems, lambda t: t["Resources"][CALLER_POLICY]["Properties"]["PolicyDocument"]["Statement"].append(
            {"Effect": "Allow", "Action": "lambda:GetAccountSettings", "Resource": "*"})),
    "caller lists whole bucket": (
        caller_problems, lambda t: _caller_stmt(t, "ListRunArtifacts").pop("Condition")),
    "Chrome path drifts": (
        dockerfile_problems, lambda t: t["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"].update(
            CHROME_BINARY="/opt/google/chrome/chrome")),
    "skip without reason": (
        skip_problems, lambda t: t["Resources"][BUCKET]["Metadata"]["checkov"]["skip"][0].update(comment="")),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_checks_catch_mutation(template: dict[str, Any], name: str) -> None:
    check, mutate = MUTATIONS[name]
    broken = copy.deepcopy(template)
    mutate(broken)
    assert check(broken) != [], f"{check.__name__} missed: {name}"
