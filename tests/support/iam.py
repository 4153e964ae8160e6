"""What the app asks of AWS, as IAM sees it: every API call recorded, turned into the permissions
it needs, and checked against a policy document (Allow statements, `*`/`?` wildcards)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from unittest import mock

from botocore.client import BaseClient

REGION = "eu-west-3"
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Call:
    service: str  # botocore's service name: "dynamodb", "s3", "sqs", "ses", "secretsmanager"
    operation: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Permission:
    action: str  # "dynamodb:PutItem"
    resource: str  # an ARN


@contextlib.contextmanager
def record_aws_calls() -> Iterator[list[Call]]:
    """Every call boto3 and PynamoDB make (both go through botocore's clients), and every URL the
    app signs for someone else to use with its credentials."""
    calls: list[Call] = []
    make_api_call = BaseClient._make_api_call
    emit_api_params = BaseClient._emit_api_params

    def recording(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append(Call(self.meta.service_model.service_name, operation, params))
        return make_api_call(self, operation, params)

    def presigning(
        self: BaseClient, api_params: dict[str, Any], operation_model: Any, context: dict[str, Any]
    ) -> Any:
        # A presigned URL carries the app's own credentials: IAM checks them when it is used.
        if context.get("is_presign_request"):
            service = self.meta.service_model.service_name
            calls.append(Call(service, operation_model.name, api_params))
        return emit_api_params(self, api_params, operation_model, context)

    with (
        mock.patch.object(BaseClient, "_make_api_call", recording),
        mock.patch.object(BaseClient, "_emit_api_params", presigning),
    ):
        yield calls


class CallsByFunction:
    """Calls recorded by `record_aws_calls`, each put down to the Lambda function that makes it:
    `default` (the API) unless made while `acting_as` another one."""

    def __init__(self, calls: list[Call], default: str) -> None:
        self._calls = calls
        self._default = default
        self._spans: list[tuple[str, int, int]] = []

    @contextlib.contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        start = len(self._calls)
        try:
            yield
        finally:
            self._spans.append((function, start, len(self._calls)))

    def by_function(self) -> dict[str, list[Call]]:
        owner = [self._default] * len(self._calls)
        for function, start, end in self._spans:
            owner[start:end] = [function] * (end - start)
        grouped: dict[str, list[Call]] = {}
        for function, call in zip(owner, self._calls, strict=True):
            grouped.setdefault(function, []).append(call)
        return grouped


def permissions_needed(call: Call) -> list[Permission]:
    """The IAM actions and resources one API call is authorised against."""
    needed = _NEEDED.get(call.service)
    if needed is None:
        raise AssertionError(f"service inattendu : {call.service}.{call.operation}")
    return needed(call.operation, call.params)


def _table(name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


# The items of a transaction are authorised one by one: there is no TransactWriteItems action.
_TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _dynamodb(operation: str, params: dict[str, Any]) -> list[Permission]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            Permission(f"dynamodb:{_TRANSACTION_ITEM_ACTIONS[kind]}", _table(body["TableName"]))
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [
            Permission(f"dynamodb:{operation}", _table(name)) for name in params["RequestItems"]
        ]
    return [
        Permission(f"dynamodb:{operation}", _table(params["TableName"], params.get("IndexName")))
    ]


def _s3(operation: str, params: dict[str, Any]) -> list[Permission]:
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    # Listing is authorised on the bucket itself, as s3:ListBucket (AWS S3 API reference,
    # ListObjectsV2 "Permissions"); DeleteObjects is authorised key by key as s3:DeleteObject
    # (DeleteObjects "Permissions").
    if operation == "ListObjectsV2":
        return [Permission("s3:ListBucket", bucket)]
    if operation == "DeleteObjects":
        return [
            Permission("s3:DeleteObject", f"{bucket}/{item['Key']}")
            for item in params["Delete"]["Objects"]
        ]
    # HeadObject has no action of its own: it is authorised as the GetObject it describes.
    action = "GetObject" if operation == "HeadObject" else operation
    if action == "GetObject" and "VersionId" in params:
        action = "GetObjectVersion"
    return [Permission(f"s3:{action}", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")]


def _sqs(operation: str, params: dict[str, Any]) -> list[Permission]:
    name = params.get("QueueName") or params["QueueUrl"].rstrip("/").rsplit("/", 1)[1]
    # A batch is authorised as the single-message action: there is no SendMessageBatch action.
    action = operation.removesuffix("Batch")
    return [Permission(f"sqs:{action}", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")]


def _ses(operation: str, params: dict[str, Any]) -> list[Permission]:
    sender = params.get("Source") or params.get("FromEmailAddress") or ""
    if not sender and "RawMessage" in params:
        found = re.search(
            rb"^From:.*?<?([^<>\s]+@[^<>\s]+)>?\s*$", params["RawMessage"]["Data"], re.M
        )
        sender = found.group(1).decode() if found else ""
    domain = sender.rpartition("@")[2]
    needed = [Permission(f"ses:{operation}", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{domain}")]
    if configuration_set := params.get("ConfigurationSetName"):
        arn = f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/{configuration_set}"
        needed.append(Permission(f"ses:{operation}", arn))
    return needed


def _secretsmanager(operation: str, params: dict[str, Any]) -> list[Permission]:
    # Secrets Manager's ARNs end with six random characters after the name.
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{params['SecretId']}-AbC123"
    return [Permission(f"secretsmanager:{operation}", arn)]


_NEEDED = {
    "dynamodb": _dynamodb,
    "s3": _s3,
    "sqs": _sqs,
    "ses": _ses,
    "secretsmanager": _secretsmanager,
}


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def statements_allowing(policy: dict[str, Any], permission: Permission) -> list[str]:
    """The Sids of the Allow statements that grant this permission (conditions aside)."""
    return [
        statement["Sid"]
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        and _grants(statement["Action"], _as_list(statement["Resource"]), permission)
    ]


def unused_grants(policy: dict[str, Any], permissions: set[Permission]) -> set[tuple[str, str]]:
    """(Sid, action or resource pattern) of every part of an Allow statement that no permission
    needed: an action never asked for on the statement's resources, a resource never touched by
    the statement's actions."""
    unused: set[tuple[str, str]] = set()
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        actions, resources = _as_list(statement["Action"]), _as_list(statement["Resource"])
        for action in actions:
            if not any(_grants(action, resources, permission) for permission in permissions):
                unused.add((statement["Sid"], action))
        for resource in resources:
            if not any(_grants(actions, [resource], permission) for permission in permissions):
                unused.add((statement["Sid"], resource))
    return unused


def _grants(actions: str | list[str], resources: list[str], permission: Permission) -> bool:
    return any(fnmatchcase(permission.action, a) for a in _as_list(actions)) and any(
        fnmatchcase(permission.resource, r) for r in resources
    )
