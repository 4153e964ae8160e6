"""The project's cfn-lint rules (infra/lint_rules): each one refuses the template that taught it
and accepts its fix; the templates of the project pass them, the one `chalice package` generates
included; the checks across infra/template.yaml and .chalice/config.json (infra/lint.py)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint
from cfnlint.core import get_rules
from cfnlint.rules import RulesCollection

from infra.lint import CHALICE_CONFIG, MAIN_TEMPLATE, RULES, cross_template_problems
from infra.package import fix_log_group_references
from local.resources import load_template

REGION = "eu-west-3"
PROJECT_RULES = ("E9001", "E9002", "E9003", "E9004", "E9005")


@functools.cache
def _rules() -> RulesCollection:
    return get_rules([str(RULES)], [], [])


def problems(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(rule id, message) of every match of the project's rules."""
    matches = lint(json.dumps(template), rules=_rules(), regions=[REGION])
    return sorted((m.rule.id, m.message) for m in matches if m.rule.id in PROJECT_RULES)


def rule_ids(template: dict[str, Any]) -> list[str]:
    return [rule_id for rule_id, _ in problems(template)]


def _template(resources: dict[str, Any], sam: bool = False) -> dict[str, Any]:
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if sam:
        template["Transform"] = "AWS::Serverless-2016-10-31"
    return template


ASSUME_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def role(action: str = "sqs:ReceiveMessage") -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": ASSUME_LAMBDA,
            "Policies": [
                {
                    "PolicyName": "own",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
                    },
                }
            ],
        },
    }


def function(role_id: str, timeout: int = 60, memory: int | None = 256) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Runtime": "python3.11",
        "Handler": "app.handler",
        "Code": {"ZipFile": "def handler(event, context): pass"},
        "Role": {"Fn::GetAtt": [role_id, "Arn"]},
        "Timeout": timeout,
    }
    if memory is not None:
        properties["MemorySize"] = memory
    return {"Type": "AWS::Lambda::Function", "Properties": properties}


def log_group(function_id: str, retention: int | None = 30) -> dict[str, Any]:
    properties: dict[str, Any] = {"LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{function_id}}}"}}
    if retention is not None:
        properties["RetentionInDays"] = retention
    return {"Type": "AWS::Logs::LogGroup", "Properties": properties}


def queue(visibility: int) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": visibility}}


def sqs_consumer(visibility: int, timeout: int = 60) -> dict[str, Any]:
    """A queue, its consumer with role and log group, and the event source between them."""
    return _template(
        {
            "Mails": queue(visibility),
            "MailsRole": role(),
            "MailsFunction": function("MailsRole", timeout=timeout),
            "MailsLogs": log_group("MailsFunction"),
            "MailsSource": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": {"Fn::GetAtt": ["Mails", "Arn"]},
                    "FunctionName": {"Ref": "MailsFunction"},
                    "BatchSize": 10,
                },
            },
        }
    )


def sam_consumer(visibility: int, timeout: int = 60, memory: int | None = 256) -> dict[str, Any]:
    """The shape `chalice package` writes: a SAM function with an SQS event."""
    properties: dict[str, Any] = {
        "Runtime": "python3.11",
        "Handler": "app.handler",
        "CodeUri": "./deployment.zip",
        "Timeout": timeout,
        "Role": {"Fn::GetAtt": ["MailsRole", "Arn"]},
        "Events": {
            "MailsSqsEventSource": {
                "Type": "SQS",
                "Properties": {"Queue": {"Fn::GetAtt": ["Mails", "Arn"]}, "BatchSize": 10},
            }
        },
    }
    if memory is not None:
        properties["MemorySize"] = memory
    return _template(
        {
            "Mails": queue(visibility),
            "MailsRole": role(),
            "Notifications": {"Type": "AWS::Serverless::Function", "Properties": properties},
            "NotificationsLogGroup": log_group("Notifications"),
        },
        sam=True,
    )


# ---------------------------------------------------------------- E9001: no SEARCH in an alarm


def _alarm(expression: dict[str, Any] | str) -> dict[str, Any]:
    return _template(
        {
            "LambdaErrorsAlarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Metrics": [
                        {"Id": "errors", "Expression": expression, "ReturnData": True},
                    ],
                    "EvaluationPeriods": 1,
                    "Threshold": 5,
                    "ComparisonOperator": "GreaterThanThreshold",
                },
            }
        }
    )


def test_the_old_alarms_of_the_template_are_refused() -> None:
    # The expression as it stood in infra/template.yaml: the stack rolled back on it.
    old = {
        "Fn::Sub": 'SUM(SEARCH(\'{AWS/Lambda,FunctionName} MetricName="Errors" '
        "FunctionName=\"portail-stagiaire-${Stage}\"', 'Sum', 300))"
    }
    assert rule_ids(_alarm(old)) == ["E9001"]
    assert rule_ids(_alarm("sum(search('{AWS/SQS,QueueName} x', 'Maximum', 60))")) == ["E9001"]


def test_metric_math_over_named_metrics_is_accepted() -> None:
    assert rule_ids(_alarm("SUM([api, funderFiles])")) == []
    # A metric merely named like the function is no call of it.
    assert rule_ids(_alarm("RESEARCH_TOTAL")) == []


def test_the_template_as_it_was_before_the_fix_is_refused() -> None:
    template = load_template(MAIN_TEMPLATE)
    for name in ("LambdaErrorsAlarm", "LambdaThrottlesAlarm"):
        metric = "Errors" if name == "LambdaErrorsAlarm" else "Throttles"
        template["Resources"][name]["Properties"]["Metrics"] = [
            {
                "Id": "total",
                "Expression": {
                    "Fn::Sub": f"SUM(SEARCH('{{AWS/Lambda,FunctionName}} MetricName=\"{metric}\"', "
                    "'Sum', 300))"
                },
                "ReturnData": True,
            }
        ]
    assert rule_ids(template) == ["E9001", "E9001"]


# ---------------------------------------------------------------- E9002: visibility ≥ 6 × timeout


def test_a_queue_at_three_times_its_consumers_timeout_is_refused() -> None:
    [(rule_id, message)] = problems(sqs_consumer(visibility=180, timeout=60))
    assert rule_id == "E9002"
    assert "180 s" in message and "au moins 360 s" in message


def test_a_queue_at_six_times_its_consumers_timeout_is_accepted() -> None:
    assert rule_ids(sqs_consumer(visibility=360, timeout=60)) == []


def test_the_rule_reads_the_sam_shape_that_chalice_generates() -> None:
    assert rule_ids(sam_consumer(visibility=180)) == ["E9002"]
    assert rule_ids(sam_consumer(visibility=360)) == []


def test_the_defaults_count_when_a_template_says_nothing() -> None:
    # A queue's default visibility is 30 s, a function's default timeout 3 s: 30 ≥ 18.
    template = sqs_consumer(visibility=30, timeout=3)
    del template["Resources"]["Mails"]["Properties"]["VisibilityTimeout"]
    del template["Resources"]["MailsFunction"]["Properties"]["Timeout"]
    assert rule_ids(template) == []
    template["Resources"]["MailsFunction"]["Properties"]["Timeout"] = 10
    assert rule_ids(template) == ["E9002"]


# ---------------------------------------------------------------- E9003: explicit memory size


def test_a_function_without_memory_size_is_refused() -> None:
    template = sqs_consumer(visibility=360)
    del template["Resources"]["MailsFunction"]["Properties"]["MemorySize"]
    [(rule_id, message)] = problems(template)
    assert (rule_id, message) == (
        "E9003",
        "La fonction MailsFunction n'a pas de MemorySize explicite.",
    )
    assert rule_ids(sam_consumer(visibility=360, memory=None)) == ["E9003"]


def test_memory_size_from_sam_globals_counts() -> None:
    template = sam_consumer(visibility=360, memory=None)
    template["Globals"] = {"Function": {"MemorySize": 512}}
    assert rule_ids(template) == []


# ---------------------------------------------------------------- E9004: log retention


def test_a_function_whose_logs_are_kept_forever_is_refused() -> None:
    without_group = sqs_consumer(visibility=360)
    del without_group["Resources"]["MailsLogs"]
    assert rule_ids(without_group) == ["E9004"]
    without_retention = sqs_consumer(visibility=360)
    without_retention["Resources"]["MailsLogs"] = log_group("MailsFunction", retention=None)
    assert rule_ids(without_retention) == ["E9004"]


def test_a_log_group_given_in_the_logging_config_counts() -> None:
    template = sqs_consumer(visibility=360)
    template["Resources"]["MailsLogs"]["Properties"]["LogGroupName"] = "/portail/mails"
    assert rule_ids(template) == ["E9004"]
    template["Resources"]["MailsFunction"]["Properties"]["LoggingConfig"] = {
        "LogGroup": {"Ref": "MailsLogs"}
    }
    assert rule_ids(template) == []


# ---------------------------------------------------------------- E9005: own least-privilege role


def test_two_functions_sharing_a_role_are_refused() -> None:
    template = sqs_consumer(visibility=360)
    template["Resources"]["Api"] = function("MailsRole")
    template["Resources"]["ApiLogs"] = log_group("Api")
    assert rule_ids(template) == ["E9005"]
    template["Resources"]["ApiRole"] = role("dynamodb:GetItem")
    template["Resources"]["Api"] = function("ApiRole")
    assert rule_ids(template) == []


def test_a_wildcard_action_or_a_role_from_elsewhere_is_refused() -> None:
    template = sqs_consumer(visibility=360)
    template["Resources"]["MailsRole"] = role("sqs:*")
    [(rule_id, message)] = problems(template)
    assert rule_id == "E9005" and "sqs:*" in message
    template["Resources"]["MailsRole"] = role()
    template["Resources"]["MailsFunction"]["Properties"]["Role"] = (
        "arn:aws:iam::123456789012:role/shared"
    )
    assert rule_ids(template) == ["E9005"]


def test_a_policy_attached_to_the_roles_of_two_functions_is_refused() -> None:
    template = sqs_consumer(visibility=360)
    template["Resources"]["ApiRole"] = role("dynamodb:GetItem")
    template["Resources"]["Api"] = function("ApiRole")
    template["Resources"]["ApiLogs"] = log_group("Api")
    template["Resources"]["Shared"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "shared",
            "Roles": [{"Ref": "ApiRole"}, {"Ref": "MailsRole"}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            },
        },
    }
    assert rule_ids(template) == ["E9005"]


# ---------------------------------------------------------------- the project's templates


@pytest.mark.parametrize("name", ["template.yaml", "funder-access.yaml"])
def test_the_project_templates_pass_the_project_rules(name: str) -> None:
    assert problems(load_template(MAIN_TEMPLATE.parent / name)) == []


@pytest.fixture(scope="module")
def generated_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from infra.package import package
    from local.test_stage import TEST_ENVIRONMENT

    output = tmp_path_factory.mktemp("package") / "prod"
    # `chalice package` imports the app with the prod stage's variables: the test stage's, set
    # for this session, would fail its settings (a captcha answer outside local and test).
    with pytest.MonkeyPatch.context() as environment:
        for name in TEST_ENVIRONMENT:
            environment.delenv(name, raising=False)
        package("prod", output)
    return json.loads((output / "sam.json").read_text())


def test_the_template_chalice_generates_passes_the_project_rules(generated_template) -> None:
    assert problems(generated_template) == []
    functions = {
        name: resource["Properties"]
        for name, resource in generated_template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    config = json.loads(CHALICE_CONFIG.read_text())
    assert (
        functions["FunderFiles"]["MemorySize"]
        == (config["lambda_functions"]["funder_files"]["lambda_memory_size"])
    )
    for name in ("FunderFiles", "Notifications", "SecurityMails"):
        [source] = functions[name]["Events"].values()
        assert source["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 2}, name


def test_chalice_log_group_of_the_api_is_pointed_at_the_function(tmp_path: Path) -> None:
    # Chalice 1.34 writes `${ApiHandler}` for a function whose logical id is `APIHandler`.
    written = _template(
        {
            "APIHandler": {"Type": "AWS::Serverless::Function", "Properties": {}},
            "ApiHandlerLogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": {"Fn::Sub": "/aws/lambda/${ApiHandler}"},
                    "RetentionInDays": 365,
                },
            },
        }
    )
    path = tmp_path / "sam.json"
    path.write_text(json.dumps(written))
    fix_log_group_references(path)
    fixed = json.loads(path.read_text())["Resources"]["ApiHandlerLogGroup"]["Properties"]
    assert fixed["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${APIHandler}"}


# ---------------------------------------------------------------- across the two


def _config() -> dict[str, Any]:
    return json.loads(CHALICE_CONFIG.read_text())


def test_the_chalice_functions_and_the_template_queues_agree() -> None:
    assert cross_template_problems(_config(), load_template(MAIN_TEMPLATE)) == []


def test_a_queue_at_three_times_its_chalice_consumers_timeout_is_refused() -> None:
    template = load_template(MAIN_TEMPLATE)
    template["Resources"]["FunderFilesQueue"]["Properties"]["VisibilityTimeout"] = 900
    [problem] = cross_template_problems(_config(), template)
    assert problem.startswith("funder_files : la file funder-files a un délai de visibilité de 900")


def test_a_chalice_function_without_memory_size_or_retention_is_refused() -> None:
    config = copy.deepcopy(_config())
    del config["lambda_functions"]["notifications"]["lambda_memory_size"]
    del config["lambda_functions"]["security_mails"]["log_retention_in_days"]
    assert cross_template_problems(config, load_template(MAIN_TEMPLATE)) == [
        "notifications : pas de lambda_memory_size dans .chalice/config.json.",
        "security_mails : pas de log_retention_in_days.",
    ]
    template = load_template(MAIN_TEMPLATE)
    del template["Resources"]["ApiLogGroup"]
    assert cross_template_problems(_config(), template) == [
        "api_handler : pas de groupe de journaux avec rétention."
    ]


def test_every_function_of_the_app_is_sized() -> None:
    import app as portal
    from infra.policy import FUNCTIONS

    handlers = {source.name for source in portal.app.event_sources}
    assert {"api_handler", *handlers} == set(FUNCTIONS)
