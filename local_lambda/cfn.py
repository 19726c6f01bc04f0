"""CloudFormation templates as data: short tags (``!Ref``, ``!Sub``, ``!GetAtt``...) loaded
as their long forms, and the intrinsic functions resolved with parameter values and local
pseudo parameters. What only a deploy can know becomes a readable placeholder, with a note.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any, cast

import yaml


class TemplateError(Exception):
    """The template cannot give a usable function configuration; the message says why."""


# -- loading ----------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags into their long forms."""


def _long_form(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:  # the third kind of node PyYAML makes
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _long_form)


def load_template(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path} is not valid YAML: {_yaml_problem(exc)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources section")
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's multi-line message as one line: where, and what."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return " ".join(str(exc).split())


# -- resolving intrinsic functions --------------------------------------------------------

NO_VALUE = object()


class Resolver:
    def __init__(self, template: dict[str, Any], parameters: dict[str, str], region: str, account: str, stack: str) -> None:
        self.template = template
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.region, self.account, self.stack = region, account, stack
        self.params: dict[str, Any] = {}
        self.notes: list[str] = []
        declared = template.get("Parameters") or {}
        unknown = sorted(set(parameters) - set(declared))
        if unknown:
            raise TemplateError("unknown template parameter(s): " + ", ".join(unknown))
        for name, spec in declared.items():
            spec = spec or {}
            value = parameters.get(name, spec.get("Default"))
            if value is None:
                continue
            if spec.get("Type") == "Number":
                value = number(value, f"parameter {name}")
            self.params[name] = value

    def pseudo(self, name: str) -> Any:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }.get(name)

    def ref(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        pseudo = self.pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in (self.template.get("Parameters") or {}):
            # Only a deploy supplies it (ImageUri); fine unless a setting needs its value.
            self.notes.append(f"parameter {name} has no Default (give it with --parameter {name}=VALUE)")
            return f"<parameter {name}>"
        if name in self.resources:
            return self._physical_name(name)
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def _physical_name(self, logical: str) -> str:
        props = (self.resources[logical] or {}).get("Properties") or {}
        for key in ("FunctionName", "BucketName", "LogGroupName", "RoleName", "TableName", "QueueName", "TopicName"):
            if key in props:
                return str(self.resolve(props[key]))
        # Only a deploy knows the generated name; keep a valid, recognizable stand-in.
        value = f"{self.stack}-{logical}".lower()
        self.notes.append(f"!Ref {logical} has no name before a deploy; it resolves to {value!r} locally")
        return value

    def get_att(self, logical: str, attribute: str) -> str:
        if logical not in self.resources:
            raise TemplateError(f"!GetAtt {logical}.{attribute}: no such resource")
        kind = (self.resources[logical] or {}).get("Type", "")
        name = self._physical_name(logical)
        if attribute == "Arn":
            arns = {
                "AWS::Serverless::Function": f"arn:aws:lambda:{self.region}:{self.account}:function:{name}",
                "AWS::Lambda::Function": f"arn:aws:lambda:{self.region}:{self.account}:function:{name}",
                "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
                "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/{name}",
                "AWS::Logs::LogGroup": f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}:*",
            }
            if kind in arns:
                return arns[kind]
        return f"{logical}.{attribute}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(str(arg))
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _function(self, name: str, arg: Any) -> Any:
        if name == "Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
        if name == "GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return self.get_att(str(self.resolve(parts[0])), str(self.resolve(parts[1])))
        if name == "Join":
            delimiter, items = arg
            return str(delimiter).join(str(v) for v in self.resolve(items))
        if name == "Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Split":
            delimiter, text = arg
            return str(self.resolve(text)).split(str(delimiter))
        if name == "If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Base64":
            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        if name == "FindInMap":
            mapping, top, second = (self.resolve(a) for a in arg)
            return self.resolve(self.template["Mappings"][mapping][top][second])
        if name == "GetAZs":
            return [f"{self.region}{zone}" for zone in "abc"]
        if name in ("Equals", "Not", "And", "Or"):
            return self._condition_function(name, arg)
        placeholder = f"<{name} {json.dumps(arg, default=str)}>"
        self.notes.append(f"Fn::{name} cannot be resolved without AWS; it is {placeholder!r} locally")
        return placeholder

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace_one(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                return str(variables[expr])
            if "." in expr and expr.split(".", 1)[0] in self.resources:
                return str(self.get_att(*expr.split(".", 1)))
            return str(self.ref(expr))

        return re.sub(r"\$\{([^}]+)\}", replace_one, text)

    def condition(self, name_or_expr: Any) -> bool:
        if isinstance(name_or_expr, str):
            conditions = self.template.get("Conditions") or {}
            if name_or_expr not in conditions:
                raise TemplateError(f"unknown condition {name_or_expr}")
            return bool(self.resolve(conditions[name_or_expr]))
        return bool(self.resolve(name_or_expr))

    def _condition_function(self, name: str, arg: Any) -> bool:
        if name == "Equals":
            left, right = (self.resolve(a) for a in arg)
            return str(left) == str(right)
        values = [self.condition(a["Condition"]) if isinstance(a, dict) and "Condition" in a else bool(self.resolve(a)) for a in arg]
        if name == "Not":
            return not values[0]
        return all(values) if name == "And" else any(values)


def number(value: Any, what: str) -> int | float:
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        raise TemplateError(f"{what} must be a number, got {value!r}") from None
    return int(parsed) if parsed.is_integer() else parsed


def whole_number(value: Any, what: str) -> int:
    parsed = number(value, what)
    if not isinstance(parsed, int):
        raise TemplateError(f"{what} must be a whole number, got {value!r}")
    return parsed
