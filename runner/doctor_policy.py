"""Pure rules behind ``lambda-ui doctor``: who may write where, and what expires.

The function writes every artifact under ``<prefix>/<run-id>/…``. Its role allows
``s3:PutObject`` on some key patterns (template.yaml: ``${ArtifactsBucket.Arn}/runs/*``);
a prefix is usable only when one pattern covers *every* key under it, since run ids and
test paths are not known in advance. Patterns use IAM's wildcards: ``*`` any run of
characters (slashes included), ``?`` one character; nothing else is special.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: The prefix the template's function role may write (template.yaml, FunctionRole).
TEMPLATE_WRITE_PREFIX = "runs"
#: Below this Chrome hangs or is killed on Lambda (issue 15); the template's minimum.
MIN_MEMORY_MB = 1024
WRITE_ACTION = "s3:PutObject"
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
#: SAM policy templates that let the function write anywhere in a bucket.
_SAM_WRITE_TEMPLATES = ("S3WritePolicy", "S3CrudPolicy", "S3FullAccessPolicy")


def _glob(pattern: str, case_sensitive: bool = True) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def matches(pattern: str, text: str, case_sensitive: bool = True) -> bool:
    """IAM wildcard match of the whole ``text``."""
    return _glob(pattern, case_sensitive).fullmatch(text) is not None


def covers(pattern: str, prefix: str) -> bool:
    """Whether ``pattern`` matches every key under ``prefix/`` (an empty prefix: every key).

    Only a trailing ``*`` can take any suffix, so the pattern must end in one and what
    comes before it must match some leading part of ``prefix/``.
    """
    if not pattern.endswith("*"):
        return False
    head = _glob(pattern[:-1])
    folder = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    return any(head.fullmatch(folder[:i]) for i in range(len(folder) + 1))


def prefix_allowed(patterns: list[str], prefix: str) -> bool:
    return any(covers(pattern, prefix) for pattern in patterns)


@dataclass
class WriteRule:
    """The key patterns a template's function role may ``s3:PutObject``, and what was not read."""

    patterns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return ", ".join(self.patterns) or "no key at all"


def _render(value: Any) -> str | None:
    """A Resource value as text, intrinsic functions as ``${…}`` placeholders."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (name, arg), = value.items()
        if name == "Fn::Sub":
            return arg if isinstance(arg, str) else arg[0] if isinstance(arg, list) and arg and isinstance(arg[0], str) else None
        if name == "Ref":
            return "${" + str(arg) + "}"
        if name == "Fn::GetAtt":
            return "${" + (".".join(map(str, arg)) if isinstance(arg, list) else str(arg)) + "}"
        if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            parts = [_render(part) for part in arg[1]]
            return None if any(p is None for p in parts) else str(arg[0]).join(p for p in parts if p is not None)
    return None


def key_pattern(resource: str) -> str | None:
    """The object-key part of an S3 resource (``…:::bucket/runs/*`` → ``runs/*``); None for a bucket itself."""
    if resource == "*":
        return "*"
    rest = resource.split(":::", 1)[1] if ":::" in resource else resource
    _bucket, slash, key = rest.partition("/")
    return key if slash else None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _collect(statements: list[dict[str, Any]], rule: WriteRule, where: str) -> None:
    for statement in statements:
        actions = [a for a in _as_list(statement.get("Action", [])) if isinstance(a, str)]
        if not any(matches(action, WRITE_ACTION, case_sensitive=False) for action in actions):
            continue
        if statement.get("Effect") != "Allow":
            rule.notes.append(f"{where}: a Deny statement for {WRITE_ACTION} is not evaluated here")
            continue
        for resource in _as_list(statement.get("Resource", [])):
            text = _render(resource)
            pattern = key_pattern(text) if text is not None else None
            if pattern is None:
                if text is None:
                    rule.notes.append(f"{where}: a Resource this check cannot read: {resource!r}")
                continue
            rule.patterns.append(pattern)


def _ref_name(value: Any) -> str | None:
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att:
            return str(att[0])
        if isinstance(att, str):
            return att.split(".", 1)[0]
    return None


def _pick_function(resources: dict[str, Any], logical_id: str | None) -> str | None:
    functions = [name for name, res in resources.items() if isinstance(res, dict) and res.get("Type") in FUNCTION_TYPES]
    if logical_id:
        return logical_id if logical_id in functions else None
    if len(functions) == 1:
        return functions[0]
    return "UiTestFunction" if "UiTestFunction" in functions else None


def write_rule(template: dict[str, Any], function_id: str | None = None) -> WriteRule:
    """What the template's function may write: its role's inline policies, policies attached to
    that role in the same template, and SAM ``Policies`` on the function."""
    rule = WriteRule()
    resources = template.get("Resources") or {}
    logical = _pick_function(resources, function_id)
    if logical is None:
        rule.notes.append("no single function in the template")
        return rule
    props = (resources[logical].get("Properties") or {}) if isinstance(resources[logical], dict) else {}
    for policy in _as_list(props.get("Policies") or []):
        if isinstance(policy, dict) and "Statement" in policy:
            _collect(_statements(policy), rule, logical)
        elif isinstance(policy, dict) and any(name in policy for name in _SAM_WRITE_TEMPLATES):
            rule.patterns.append("*")
        elif policy:
            rule.notes.append(f"{logical}: policy {str(policy)[:60]!r} is not read here")
    role = _ref_name(props.get("Role"))
    if role is None or not isinstance(resources.get(role), dict):
        return rule
    role_props = resources[role].get("Properties") or {}
    for policy in _as_list(role_props.get("Policies") or []):
        if isinstance(policy, dict):
            _collect(_statements(policy.get("PolicyDocument")), rule, f"{role}.{policy.get('PolicyName', '?')}")
    if role_props.get("ManagedPolicyArns"):
        rule.notes.append(f"{role}: managed policies (ManagedPolicyArns) are not read here")
    for name, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            continue
        policy_props = resource.get("Properties") or {}
        roles = [_ref_name(r) for r in _as_list(policy_props.get("Roles") or [])] + [_ref_name(policy_props.get("RoleName"))]
        if role in roles:
            _collect(_statements(policy_props.get("PolicyDocument")), rule, name)
    return rule


@dataclass(frozen=True)
class Expiry:
    rule_id: str
    #: Days after creation, or the date every object expires.
    after: str


def lifecycle_expiry(rules: list[dict[str, Any]], prefix: str) -> Expiry | None:
    """The enabled expiration rule that applies to every object under ``prefix/``, if any.

    A rule with a tag or size filter applies to some objects only, so it does not count.
    """
    folder = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    for rule in rules:
        if rule.get("Status") != "Enabled":
            continue
        expiration = rule.get("Expiration") or {}
        if "Days" in expiration:
            after = f"{expiration['Days']} days"
        elif "Date" in expiration:
            after = f"on {expiration['Date']}"
        else:
            continue
        scope = rule.get("Filter")
        if scope is None:
            rule_prefix = str(rule.get("Prefix") or "")
        else:
            if not isinstance(scope, dict) or set(scope) - {"Prefix", "And"}:
                continue
            both = scope.get("And") or {}
            if set(both) - {"Prefix"}:
                continue
            rule_prefix = str(scope.get("Prefix") or both.get("Prefix") or "")
        if folder.startswith(rule_prefix):
            return Expiry(str(rule.get("ID") or "unnamed"), after)
    return None
