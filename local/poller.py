"""The local leg of SQS → Lambda: reads a queue and calls the handler AWS would call."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

LAMBDA_TIMEOUT_MILLIS = 300_000


@dataclass
class LocalLambdaContext:
    """What the handler reads of Lambda's context object (request id, time left)."""

    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "portail-stagiaire-local-funder_files"
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        elapsed = int((time.monotonic() - self.started) * 1000)
        return max(LAMBDA_TIMEOUT_MILLIS - elapsed, 0)


class QueuePoller:
    def __init__(
        self,
        queue_name: str,
        handler: Callable[[dict[str, Any], Any], Any],
        say: Callable[[str], None],
        retry_delay_seconds: int = 5,
        label: str = "fichiers financeurs",
    ) -> None:
        self._label = label
        self._sqs = boto3.client("sqs")
        self._queue_url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self._queue_arn = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self._handler = handler
        self._say = say
        self._idle = threading.Event()
        # Locally, retry within seconds rather than after the queue's visibility timeout.
        self._retry_delay_seconds = retry_delay_seconds

    def _lambda_event(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "attributes": message.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": message.get("MD5OfBody", ""),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self._queue_arn,
                    "awsRegion": self._sqs.meta.region_name,
                }
            ]
        }

    def poll_once(self) -> int:
        """Handles what is waiting; a failed message stays for SQS to redeliver (then the DLQ)."""
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0
        ).get("Messages", [])
        for message in messages:
            try:
                self._handler(self._lambda_event(message), LocalLambdaContext())
            except Exception as error:
                self._say(f"[{self._label}] échec, le message sera redélivré : {error!r}")
                self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_delay_seconds,
                )
                continue
            self._sqs.delete_message(
                QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
        return len(messages)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            handled = self.poll_once()
            if handled:
                self._idle.clear()
            else:
                self._idle.set()
                stop.wait(0.2)

    def wait_until_idle(self, timeout: float = 120.0) -> None:
        """Returns once the queue has been seen empty after everything dropped so far."""
        deadline = time.monotonic() + timeout
        time.sleep(0.3)
        self._idle.clear()
        while time.monotonic() < deadline:
            if self._idle.wait(0.5):
                visible = self._sqs.get_queue_attributes(
                    QueueUrl=self._queue_url,
                    AttributeNames=[
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                    ],
                )["Attributes"]
                if (
                    visible["ApproximateNumberOfMessages"] == "0"
                    and visible["ApproximateNumberOfMessagesNotVisible"] == "0"
                ):
                    return
                self._idle.clear()
        raise TimeoutError("la file des fichiers financeurs ne s'est pas vidée à temps")


def _describe(body: str) -> str:
    """The file names of an S3 event, or the kind of a notification: never personal data."""
    import json
    from urllib.parse import unquote_plus

    payload = json.loads(body)
    records = payload.get("Records", [])
    keys = ", ".join(unquote_plus(record["s3"]["object"]["key"]) for record in records)
    return keys or str(payload.get("kind", "-"))
