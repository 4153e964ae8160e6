"""AWS faults on demand: the emulator answers one operation with the real service's error.

The answer is made where the emulator answers (moto's `before-send` handler, which every botocore
client goes through, PynamoDB's included), in the service's own wire format: botocore parses it,
retries it by its own rules (a throttling error or a 5xx is retried, with backoff, before the
portal sees it) and raises the same `ClientError` as in AWS. Nothing of the portal is patched.

    with inject_faults() as faults:
        faults.fail("dynamodb", "TransactWriteItems", THROTTLING)            # every call
        faults.fail("sesv2", "SendEmail", SES_THROTTLING, times=1)            # once, then real
        faults.fail("dynamodb", "UpdateItem", INTERNAL_SERVER_ERROR, when=lambda body: ...)
        ...
        faults.failed  # [(service, operation), ...] in the order they were answered
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse


@dataclass(frozen=True)
class AwsError:
    status: int
    code: str
    message: str


# DynamoDB (JSON protocol). Both throttling errors and the 500 are retried by botocore.
PROVISIONED_THROUGHPUT_EXCEEDED = AwsError(
    400,
    "ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API.",
)
THROTTLING = AwsError(
    400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."
)
INTERNAL_SERVER_ERROR = AwsError(500, "InternalServerError", "Internal server error")
# Two transactions on one item at the same instant: the one DynamoDB cancels gets this, with a
# `TransactionConflict` reason for each of its items (botocore does not retry it).
TRANSACTION_CONFLICT = AwsError(
    400, "TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons"
)
# SES (query protocol): the sending rate of the account is exceeded.
SES_THROTTLING = AwsError(400, "Throttling", "Maximum sending rate exceeded.")
# S3 (REST XML): too many requests on a prefix.
S3_SLOW_DOWN = AwsError(503, "SlowDown", "Please reduce your request rate.")
# Secrets Manager (JSON protocol): the service failed.
SECRETS_MANAGER_INTERNAL = AwsError(
    500, "InternalServiceError", "An error occurred on the server side."
)

JSON_PROTOCOL = {"dynamodb", "secrets-manager", "sqs", "sesv2"}


@dataclass
class _Rule:
    service: str
    operation: str
    error: AwsError
    times: int | None
    when: Callable[[dict[str, Any]], bool] | None


class Faults:
    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self.failed: list[tuple[str, str]] = []

    def fail(
        self,
        service: str,
        operation: str,
        error: AwsError,
        times: int | None = None,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Answer `operation` of `service` (botocore's event names: "dynamodb", "s3", "ses",
        "secrets-manager"; "PutItem", "SendRawEmail"...) with
        `error`: every time, or the next `times` times; only for requests whose JSON body
        satisfies `when`, if given."""
        with self._lock:
            self._rules.append(_Rule(service, operation, error, times, when))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def answer(self, event_name: str, request: Any) -> AWSResponse | None:
        _, service, operation = [*event_name.split("."), "", ""][:3]
        with self._lock:
            for rule in self._rules:
                if (rule.service, rule.operation) != (service, operation):
                    continue
                if rule.when is not None and not rule.when(_json_body(request)):
                    continue
                if rule.times is not None:
                    if rule.times <= 0:
                        continue
                    rule.times -= 1
                self.failed.append((service, operation))
                return _response(service, request, rule.error)
        return None


def _json_body(request: Any) -> dict[str, Any]:
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    try:
        parsed = json.loads(body) if body else {}
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _response(service: str, request: Any, error: AwsError) -> AWSResponse:
    request_id = str(uuid.uuid4())
    if service in JSON_PROTOCOL:
        payload: dict[str, Any] = {"__type": f"com.amazonaws.{service}#{error.code}"}
        payload["message" if service != "secrets-manager" else "Message"] = error.message
        if error.code == "TransactionCanceledException":
            items = _json_body(request).get("TransactItems", [])
            payload["CancellationReasons"] = [
                {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
                for _ in items
            ]
        body = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id}
    elif service == "s3":
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{error.code}</Code>"
            f"<Message>{error.message}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers = {"Content-Type": "application/xml", "x-amz-request-id": request_id}
    else:  # query protocol (ses)
        kind = "Receiver" if error.status >= 500 else "Sender"
        body = (
            f'<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error>'
            f"<Type>{kind}</Type><Code>{error.code}</Code><Message>{error.message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    return AWSResponse(request.url, error.status, headers, MockRawResponse(body))


@contextlib.contextmanager
def inject_faults() -> Iterator[Faults]:
    """Within the block, the emulator answers with the faults set on the object it gives."""
    from moto.core.botocore_stubber import BotocoreStubber

    faults = Faults()
    original = BotocoreStubber.__call__

    def faulty(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        if self.enabled:
            answer = faults.answer(event_name, request)
            if answer is not None:
                return answer
        return original(self, event_name, request, **kwargs)

    with mock.patch.object(BotocoreStubber, "__call__", faulty):
        yield faults
