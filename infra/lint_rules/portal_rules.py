"""The project's cfn-lint rules: what this template learned the hard way, that neither cfn-lint's
own rules nor moto check. `make lint` runs them (`cfn-lint --append-rules infra/lint_rules`) on
infra/*.yaml and on the template `chalice package` generates; tests/integration/test_lint_rules.py
shows each one refusing a bad template.

cfn-lint loads this file on its own (not as a module of the `infra` package), so it imports only
cfn-lint. cfn-lint 1.x does not run the SAM transform (it merges the Globals and validates SAM
resources as they are), so each rule reads both shapes: `AWS::Lambda::Function` with its
`AWS::Lambda::EventSourceMapping`, and `AWS::Serverless::Function` with its `Events` of type SQS.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
VISIBILITY_TO_TIMEOUT = 6
DEFAULT_LAMBDA_TIMEOUT = 3  # seconds, when a function says nothing
DEFAULT_VISIBILITY_TIMEOUT = 30  # seconds, when a queue says nothing
SEARCH_CALL = re.compile(r"\bSEARCH\s*\(", re.IGNORECASE)


FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")


def _resources(cfn: Template, *resource_types: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in cfn.template.get("Resources", {}).items()
        if isinstance(resource, dict) and resource.get("Type") in resource_types
    }


def _functions(cfn: Template) -> dict[str, dict[str, Any]]:
    return _resources(cfn, *FUNCTION_TYPES)


def _sqs_event_sources(cfn: Template) -> list[tuple[list[Any], Any, str | None]]:
    """(path, queue ARN value, function's logical id) of every SQS event source, either shape."""
    sources: list[tuple[list[Any], Any, str | None]] = []
    for name, mapping in _resources(cfn, "AWS::Lambda::EventSourceMapping").items():
        properties = _properties(mapping)
        sources.append(
            (
                ["Resources", name, "Properties", "EventSourceArn"],
                properties.get("EventSourceArn"),
                _referenced(properties.get("FunctionName")),
            )
        )
    for name, function in _resources(cfn, "AWS::Serverless::Function").items():
        events = _properties(function).get("Events", {})
        for event_name, event in (events if isinstance(events, dict) else {}).items():
            if isinstance(event, dict) and event.get("Type") == "SQS":
                path = ["Resources", name, "Properties", "Events", event_name, "Properties"]
                queue = _properties(event).get("Queue")
                sources.append(([*path, "Queue"], queue, name))
    return sources


def _properties(resource: dict[str, Any]) -> dict[str, Any]:
    properties = resource.get("Properties", {})
    return properties if isinstance(properties, dict) else {}


def _sub_text(value: Any) -> str | None:
    """The text of a string or of a `Fn::Sub` (either form)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and list(value) == ["Fn::Sub"]:
        sub = value["Fn::Sub"]
        if isinstance(sub, list) and sub and isinstance(sub[0], str):
            return sub[0]
        if isinstance(sub, str):
            return sub
    return None


def _referenced(value: Any) -> str | None:
    """The logical id a value points to: `Ref X`, `Fn::GetAtt [X, ...]`, `"X.Arn"`, or a
    `Fn::Sub` made only of `${X}` / `${X.Attr}`."""
    if isinstance(value, dict) and len(value) == 1:
        [(key, inner)] = value.items()
        if key == "Ref" and isinstance(inner, str):
            return inner
        if key == "Fn::GetAtt":
            if isinstance(inner, list) and inner and isinstance(inner[0], str):
                return inner[0]
            if isinstance(inner, str):
                return inner.split(".", 1)[0]
        if key == "Fn::Sub":
            text = _sub_text(value)
            found = re.fullmatch(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}", text or "")
            return found.group(1) if found else None
    return None


def _integer(value: Any, default: int) -> int | None:
    """An explicit number, the default when absent, None when it is a parameter or condition."""
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class AlarmWithoutSearch(CloudFormationLintRule):
    id = "E9001"
    shortdesc = "No SEARCH expression in an alarm"
    description = (
        "CloudWatch refuses an alarm whose metric math contains SEARCH: the stack creation fails "
        "and rolls back. Sum explicit metrics instead (one MetricStat per function or queue)."
    )
    # "When an expression contains a SEARCH function, it cannot be used within an Alarm"
    # (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_cloudwatch.MathExpression.html).
    source_url = (
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
        "Create-alarm-on-metric-math-expression.html"
    )
    tags: ClassVar[list[str]] = ["portail-stagiaire", "cloudwatch", "alarm"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for name, alarm in _resources(cfn, "AWS::CloudWatch::Alarm").items():
            metrics = _properties(alarm).get("Metrics", [])
            for index, metric in enumerate(metrics if isinstance(metrics, list) else []):
                if not isinstance(metric, dict):
                    continue
                expression = _sub_text(metric.get("Expression"))
                if expression and SEARCH_CALL.search(expression):
                    matches.append(
                        RuleMatch(
                            ["Resources", name, "Properties", "Metrics", index, "Expression"],
                            f"L'alarme {name} utilise SEARCH, que CloudWatch refuse dans une "
                            "alarme : additionner des métriques nommées.",
                        )
                    )
        return matches


class SqsVisibilityTimeout(CloudFormationLintRule):
    id = "E9002"
    shortdesc = "SQS visibility timeout at least six times the function's timeout"
    description = (
        "For an SQS event source, Lambda asks for a queue visibility timeout of at least six "
        "times the function's timeout, so that a throttled or retried batch is not handed out "
        "again while a run still works on it."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"
    tags: ClassVar[list[str]] = ["portail-stagiaire", "lambda", "sqs"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        queues = _resources(cfn, "AWS::SQS::Queue")
        functions = _functions(cfn)
        for path, queue_arn, function_id in _sqs_event_sources(cfn):
            queue_id = _referenced(queue_arn)
            # A queue or function of another template: checked where both are known
            # (tests/integration/test_lint_rules.py for the Chalice functions).
            if queue_id not in queues or function_id not in functions:
                continue
            visibility = _integer(
                _properties(queues[queue_id]).get("VisibilityTimeout"), DEFAULT_VISIBILITY_TIMEOUT
            )
            timeout = _integer(
                _properties(functions[function_id]).get("Timeout"), DEFAULT_LAMBDA_TIMEOUT
            )
            if visibility is None or timeout is None:
                continue
            if visibility < VISIBILITY_TO_TIMEOUT * timeout:
                matches.append(
                    RuleMatch(
                        path,
                        f"La file {queue_id} a un délai de visibilité de {visibility} s, moins "
                        f"de {VISIBILITY_TO_TIMEOUT} fois le délai de {function_id} "
                        f"({timeout} s) : au moins {VISIBILITY_TO_TIMEOUT * timeout} s.",
                    )
                )
        return matches


class FunctionMemorySize(CloudFormationLintRule):
    id = "E9003"
    shortdesc = "Every function has an explicit memory size"
    description = (
        "Lambda gives CPU in proportion to memory: the 128 MB default is a small fraction of a "
        "vCPU. Each function's size is chosen from a measurement (README, « Performances »)."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"
    tags: ClassVar[list[str]] = ["portail-stagiaire", "lambda"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        return [
            RuleMatch(
                ["Resources", name, "Properties"],
                f"La fonction {name} n'a pas de MemorySize explicite.",
            )
            for name, function in _functions(cfn).items()
            if "MemorySize" not in _properties(function)
        ]


class FunctionLogRetention(CloudFormationLintRule):
    id = "E9004"
    shortdesc = "Every function's log group has a retention"
    description = (
        "Without a log group of its own with RetentionInDays (named /aws/lambda/<function>, or "
        "given in LoggingConfig), Lambda creates one that keeps the logs forever."
    )
    source_url = (
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
        "aws-resource-logs-loggroup.html"
    )
    tags: ClassVar[list[str]] = ["portail-stagiaire", "lambda", "logs"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        retained = {
            name: _properties(group).get("LogGroupName")
            for name, group in _resources(cfn, "AWS::Logs::LogGroup").items()
            if _properties(group).get("RetentionInDays") is not None
        }
        retained_names = {_sub_text(value) for value in retained.values()} - {None}
        matches: list[RuleMatch] = []
        for name, function in _functions(cfn).items():
            properties = _properties(function)
            logging = properties.get("LoggingConfig", {})
            chosen = logging.get("LogGroup") if isinstance(logging, dict) else None
            function_name = _sub_text(properties.get("FunctionName"))
            if chosen is not None:
                ok = _referenced(chosen) in retained or _sub_text(chosen) in retained_names
            else:
                default_names = {f"/aws/lambda/${{{name}}}"}
                if function_name is not None:
                    default_names.add(f"/aws/lambda/{function_name}")
                ok = bool(default_names & retained_names) or any(
                    _joined_name(value) == name for value in retained.values()
                )
            if not ok:
                matches.append(
                    RuleMatch(
                        ["Resources", name],
                        f"La fonction {name} n'a pas de groupe de journaux avec RetentionInDays : "
                        "ses journaux seraient gardés sans limite.",
                    )
                )
        return matches


def _joined_name(value: Any) -> str | None:
    """The function of `Fn::Join ["", ["/aws/lambda/", {Ref: F}]]`."""
    if isinstance(value, dict) and list(value) == ["Fn::Join"]:
        joined = value["Fn::Join"]
        if (
            isinstance(joined, list)
            and len(joined) == 2
            and joined[0] == ""
            and isinstance(joined[1], list)
            and len(joined[1]) == 2
            and joined[1][0] == "/aws/lambda/"
        ):
            return _referenced(joined[1][1])
    return None


class FunctionOwnRole(CloudFormationLintRule):
    id = "E9005"
    shortdesc = "Every function has its own least-privilege role"
    description = (
        "Each function runs under an IAM role of this template that no other function uses, "
        "granting no wildcard action: the API must not be able to do what a queue's consumer "
        "does, and the reverse."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"
    tags: ClassVar[list[str]] = ["portail-stagiaire", "lambda", "iam"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        roles = _resources(cfn, "AWS::IAM::Role")
        users: dict[str, list[str]] = {}
        matches: list[RuleMatch] = []
        for name, function in _functions(cfn).items():
            properties = _properties(function)
            if function["Type"] == "AWS::Serverless::Function" and "Role" not in properties:
                # SAM creates a role for this function alone, from its Policies.
                for path, action in _wildcard_actions(name, properties.get("Policies")):
                    matches.append(
                        RuleMatch(path, f"La fonction {name} accorde l'action générique {action}.")
                    )
                continue
            role_id = _referenced(properties.get("Role"))
            if role_id not in roles:
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "Role"],
                        f"La fonction {name} n'a pas un rôle IAM défini dans le modèle.",
                    )
                )
                continue
            users.setdefault(role_id, []).append(name)
        for role_id, functions in sorted(users.items()):
            if len(functions) > 1:
                matches.append(
                    RuleMatch(
                        ["Resources", role_id],
                        f"Le rôle {role_id} sert à plusieurs fonctions ({', '.join(functions)}) : "
                        "chacune a le sien.",
                    )
                )
            policies = _properties(roles[role_id]).get("Policies")
            for path, action in _wildcard_actions(role_id, policies):
                matches.append(
                    RuleMatch(path, f"Le rôle {role_id} accorde l'action générique {action}.")
                )
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for name, policy in _resources(cfn, kind).items():
                attached = _properties(policy).get("Roles", [])
                shared = sorted(
                    {
                        function
                        for role in (attached if isinstance(attached, list) else [])
                        for function in users.get(_referenced(role) or "", [])
                    }
                )
                if len(shared) > 1:
                    matches.append(
                        RuleMatch(
                            ["Resources", name, "Properties", "Roles"],
                            f"La politique {name} sert à plusieurs fonctions "
                            f"({', '.join(shared)}) : chacune a la sienne.",
                        )
                    )
        return matches


def _wildcard_actions(resource_id: str, policies: Any) -> list[tuple[list[Any], str]]:
    """Allowed actions `*` or `service:*` in inline policies (a role's `Policies`, each with a
    `PolicyDocument`, or a SAM function's `Policies`, which may also hold documents)."""
    found: list[tuple[list[Any], str]] = []
    for p_index, policy in enumerate(policies if isinstance(policies, list) else []):
        if not isinstance(policy, dict):
            continue  # a managed policy's name or ARN
        document = policy.get("PolicyDocument", policy)
        statements = document.get("Statement", []) if isinstance(document, dict) else []
        if isinstance(statements, dict):
            statements = [statements]
        for s_index, statement in enumerate(statements if isinstance(statements, list) else []):
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action", [])
            for action in actions if isinstance(actions, list) else [actions]:
                if isinstance(action, str) and (action == "*" or action.endswith(":*")):
                    path = ["Resources", resource_id, "Properties", "Policies", p_index]
                    found.append(([*path, "PolicyDocument", "Statement", s_index], action))
    return found
