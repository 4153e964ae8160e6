"""The notifications queue (SQS): ingestion puts new-payment notices, 10 per request."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.services.notifications import NewPayment

SQS_BATCH = 10


def to_message(notification: NewPayment) -> str:
    return json.dumps(
        {
            "kind": "new-payment",
            "funder": notification.funder_code,
            "reference": notification.reference,
        }
    )


def from_message(body: str) -> NewPayment | None:
    payload = json.loads(body)
    if payload.get("kind") != "new-payment":
        return None
    return NewPayment(funder_code=str(payload["funder"]), reference=str(payload["reference"]))


class SqsNotificationQueue:
    def __init__(self, sqs_client: Any, queue_name: str) -> None:
        self._sqs = sqs_client
        self._queue_name = queue_name
        self._queue_url: str | None = None

    def _url(self) -> str:
        if self._queue_url is None:
            self._queue_url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._queue_url

    def enqueue(self, notifications: list[NewPayment]) -> None:
        for start in range(0, len(notifications), SQS_BATCH):
            batch = notifications[start : start + SQS_BATCH]
            answer = self._sqs.send_message_batch(
                QueueUrl=self._url(),
                Entries=[
                    {"Id": str(index), "MessageBody": to_message(notification)}
                    for index, notification in enumerate(batch)
                ],
            )
            if answer.get("Failed"):
                # Raising sends the funder file back to its queue: the retry re-queues what
                # is not yet notified, and the notified flag keeps a mail from going twice.
                raise RuntimeError(f"{len(answer['Failed'])} notifications non mises en file")
