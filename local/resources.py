"""Create the AWS resources of a stage in the emulator, from the same template as the real ones.

`infra/template.yaml` is deployed as a CloudFormation stack into moto (a server at an endpoint, or
in process under `moto.mock_aws()`). moto's CloudFormation ignores a bucket's
`NotificationConfiguration` and a table's `TimeToLiveSpecification`, so those two are then applied
through the S3 and DynamoDB APIs, read from the template rather than written twice; so is a
bucket's `VersioningConfiguration`, which moto skips too and which puts a versionId in the events.

moto's CloudFormation also skips, and the local stack does without: buckets' public access
block, ownership controls and lifecycle; tables' point-in-time recovery; the queue, topic and
bucket policies, the CloudWatch alarm, the SES configuration set, its event destination and
identity, and the Secrets Manager secret (the outputs still name them, since their names are
fixed). moto's SES publishes nothing to an event destination either: local/ses_events.py plays
SES's bounces and complaints for the mailbox simulator's addresses. The SNS topic and its SQS
subscription (declared on the topic) are created, and moto delivers to the queue.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"
DEFAULT_REGION = "eu-west-3"
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
DONE_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}

# Given a service name ("s3", "dynamodb", ...), returns a boto3 client pointed at the emulator.
ClientFactory = Callable[[str], Any]


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads short-form intrinsics (`!Sub`, `!GetAtt`, ...) into their long `Fn::` form."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def exchange_cors_rules(template: Mapping[str, Any], origin: str) -> list[dict[str, Any]]:
    """The exchange bucket's CORS rules of the template, as the S3 API takes them, for `origin`:
    locally the pages come from the app's own address, not the stage's domain; everything else
    (methods, headers, max age) is the template's."""
    names = {
        "Id": "ID",
        "AllowedMethods": "AllowedMethods",
        "AllowedHeaders": "AllowedHeaders",
        "ExposedHeaders": "ExposeHeaders",
        "MaxAge": "MaxAgeSeconds",
    }
    bucket = template["Resources"]["ExchangeBucket"]["Properties"]
    return [
        {
            **{names[key]: value for key, value in rule.items() if key in names},
            "AllowedOrigins": [origin],
        }
        for rule in bucket["CorsConfiguration"]["CorsRules"]
    ]


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as a dict, intrinsics in long form (what CloudFormation's JSON would hold)."""
    return copy.deepcopy(_parsed_template(path))


@functools.cache
def _parsed_template(path: Path) -> dict[str, Any]:
    # Parsed once per process: integration tests deploy the stack in every test.
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CloudFormationLoader)


def stack_name(stage: str) -> str:
    return f"portail-stagiaire-{stage}"


def create_resources(
    endpoint_url: str, stage: str = "local", region: str = DEFAULT_REGION
) -> dict[str, str]:
    """Deploy the stage into the moto server at `endpoint_url`; returns the stack outputs."""
    session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
    return deploy_into_emulator(
        lambda service: session.client(service, endpoint_url=endpoint_url), stage
    )


def create_resources_in_process(
    stage: str = "test", region: str = DEFAULT_REGION
) -> dict[str, str]:
    """The same, for tests running inside `moto.mock_aws()` (no server)."""
    session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
    return deploy_into_emulator(session.client, stage)


def deploy_into_emulator(client_for: ClientFactory, stage: str) -> dict[str, str]:
    """Create the stack unless it exists, then apply what moto skipped. Safe to run again."""
    _quiet_known_moto_gaps()
    cloudformation = client_for("cloudformation")
    name = stack_name(stage)
    template = load_template()
    stack = _existing_stack(cloudformation, name)
    if stack is None:
        cloudformation.create_stack(
            StackName=name,
            TemplateBody=TEMPLATE_PATH.read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        stack = _existing_stack(cloudformation, name)
    if stack is None or stack["StackStatus"] not in DONE_STATUSES:
        status = "missing" if stack is None else stack["StackStatus"]
        raise RuntimeError(f"Stack {name} is {status} in the emulator; restart the emulator.")
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    # moto lists the resource types it skipped without ids; they are simply not there locally.
    physical_ids = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if "LogicalResourceId" in r and "PhysicalResourceId" in r
    }
    resolver = _Resolver(client_for, physical_ids, _parameters(stack))
    _apply_time_to_live(client_for("dynamodb"), template, physical_ids)
    s3 = client_for("s3")
    _apply_bucket_notifications(s3, template, physical_ids, resolver)
    _apply_versioning(s3, template, physical_ids)
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _quiet_known_moto_gaps() -> None:
    """moto warns about every resource type its CloudFormation skips (policies, alarm, SES,
    Secrets Manager); they are known and listed in the module docstring, so keep the console clean.
    """
    warnings.filterwarnings(
        "ignore", message="Tried to parse .* not supported by moto", category=UserWarning
    )
    moto_logger = logging.getLogger("moto")
    if _MOTO_GAP_FILTER not in moto_logger.filters:
        moto_logger.addFilter(_MOTO_GAP_FILTER)


def _is_not_a_moto_gap(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("No Moto CloudFormation support")


_MOTO_GAP_FILTER = _is_not_a_moto_gap


def _existing_stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return stacks[0] if stacks else None


def _parameters(stack: Mapping[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}


def _resources_of_type(
    template: Mapping[str, Any], resource_type: str, physical_ids: Mapping[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    """(physical id, properties) of the resources of a type that the stack actually created."""
    return [
        (physical_ids[logical_id], resource.get("Properties", {}))
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type and logical_id in physical_ids
    ]


def _apply_time_to_live(
    dynamodb: Any, template: Mapping[str, Any], physical_ids: Mapping[str, str]
) -> None:
    for table_name, properties in _resources_of_type(
        template, "AWS::DynamoDB::Table", physical_ids
    ):
        spec = properties.get("TimeToLiveSpecification")
        if not spec or not spec.get("Enabled"):
            continue
        current = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        # DynamoDB refuses to enable TTL twice, which is what a second run would do.
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            continue
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": spec["AttributeName"], "Enabled": True},
        )


# CloudFormation's property name -> (S3 API list name, S3 API name of the target ARN).
_NOTIFICATION_KINDS = {
    "QueueConfigurations": ("QueueConfigurations", "Queue", "QueueArn"),
    "TopicConfigurations": ("TopicConfigurations", "Topic", "TopicArn"),
    "LambdaConfigurations": ("LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
}


def _apply_bucket_notifications(
    s3: Any,
    template: Mapping[str, Any],
    physical_ids: Mapping[str, str],
    resolver: _Resolver,
) -> None:
    for bucket, properties in _resources_of_type(template, "AWS::S3::Bucket", physical_ids):
        notification = properties.get("NotificationConfiguration")
        if not notification:
            continue
        wanted = to_s3_notification(notification, resolver)
        current = s3.get_bucket_notification_configuration(Bucket=bucket)
        # S3 sends an s3:TestEvent to the queue at every change: do not add one on each run.
        if _without_ids(current) == wanted:
            continue
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=wanted)


def _apply_versioning(
    s3: Any, template: Mapping[str, Any], physical_ids: Mapping[str, str]
) -> None:
    # Also skipped by moto, and it shapes what the handler sees: events then carry a versionId.
    for bucket, properties in _resources_of_type(template, "AWS::S3::Bucket", physical_ids):
        wanted = properties.get("VersioningConfiguration", {}).get("Status")
        if wanted and s3.get_bucket_versioning(Bucket=bucket).get("Status") != wanted:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": wanted})


def _without_ids(notification: Mapping[str, Any]) -> dict[str, Any]:
    return {
        api_key: [{k: v for k, v in item.items() if k != "Id"} for item in notification[api_key]]
        for api_key, _, _ in _NOTIFICATION_KINDS.values()
        if notification.get(api_key)
    }


def to_s3_notification(
    cfn_notification: Mapping[str, Any], resolve: Callable[[Any], Any]
) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration shape -> the S3 API's, intrinsics resolved."""
    result: dict[str, Any] = {}
    for cfn_key, (api_key, cfn_target, api_target) in _NOTIFICATION_KINDS.items():
        for item in cfn_notification.get(cfn_key, []):
            entry: dict[str, Any] = {
                api_target: resolve(item[cfn_target]),
                "Events": [item["Event"]],
            }
            rules = item.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            if rules:
                entry["Filter"] = {
                    "Key": {
                        "FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]
                    }
                }
            result.setdefault(api_key, []).append(entry)
    return result


class _Resolver:
    """Resolves the few intrinsics the skipped properties use, against the deployed stack."""

    def __init__(
        self,
        client_for: ClientFactory,
        physical_ids: Mapping[str, str],
        parameters: Mapping[str, str],
    ) -> None:
        self._client_for = client_for
        self._physical_ids = physical_ids
        self._parameters = parameters

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if list(value) == ["Ref"]:
            return self._ref(value["Ref"])
        if list(value) == ["Fn::GetAtt"]:
            return self._get_att(*value["Fn::GetAtt"])
        if list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), value["Fn::Sub"])
        if any(key.startswith("Fn::") for key in value):
            raise ValueError(f"Intrinsic not supported by the local stack: {value}")
        return {key: self(v) for key, v in value.items()}

    def _ref(self, name: str) -> str:
        if name in self._parameters:
            return self._parameters[name]
        if name in self._physical_ids:
            return self._physical_ids[name]
        raise ValueError(f"Unknown reference {name!r}")

    def _sub(self, expression: str) -> str:
        if "." in expression:
            return str(self._get_att(*expression.split(".", 1)))
        return self._ref(expression)

    def _get_att(self, logical_id: str, attribute: str) -> str:
        physical_id = self._physical_ids[logical_id]
        if attribute == "Arn" and physical_id.startswith(("http://", "https://")):
            # An SQS queue's physical id is its URL; its ARN comes from the queue itself.
            sqs = self._client_for("sqs")
            attributes = sqs.get_queue_attributes(QueueUrl=physical_id, AttributeNames=["QueueArn"])
            return attributes["Attributes"]["QueueArn"]
        raise ValueError(f"Attribute not supported by the local stack: {logical_id}.{attribute}")
