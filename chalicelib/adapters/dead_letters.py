"""The dead-letter queues, for operators: what waits there, and sending it back to its queue so
that Lambda handles it again (a funder file runs again as a new delivery; a payment mail is still
sent at most once, its payment being claimed before the mail)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

SQS_BATCH = 10
# Long enough to send a batch back and delete it; a listed message shows again after this.
HOLD_SECONDS = 60


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    first_received_at: datetime  # when the handler first got it, before its failed tries
    summary: str  # what the message is about, without personal data nor secret


def describe(body: str) -> str:
    """The S3 key of a funder file, or the kind of notification and its payment reference."""
    try:
        payload = json.loads(body)
    except ValueError:
        return "message illisible"
    if not isinstance(payload, dict):
        return "message illisible"
    records = payload.get("Records")
    if isinstance(records, list) and records:
        keys = [
            unquote_plus(str(r.get("s3", {}).get("object", {}).get("key", ""))) for r in records
        ]
        return "fichier " + ", ".join(keys)
    if payload.get("kind") == "new-payment":
        return f"avis de paiement {payload.get('funder')} {payload.get('reference')}"
    if payload.get("kind") == "recovery":  # the ticket is a secret: never shown
        return f"code « Mot de passe oublié » ({payload.get('funder')})"
    if payload.get("Type") == "Notification":  # SNS's envelope: SES's feedback on a mail
        return _describe_mail_event(payload.get("Message"))
    return "message inconnu"


def _describe_mail_event(message: object) -> str:
    """Its type (Bounce, Complaint) and SES's message id: the addresses stay out."""
    try:
        event = json.loads(message) if isinstance(message, str) else None
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return "retour SES illisible"
    kind = event.get("eventType") or event.get("notificationType") or "?"
    mail = event.get("mail") if isinstance(event.get("mail"), dict) else {}
    return f"retour SES {kind} (courriel {mail.get('messageId', '?')})"


class DeadLetterQueue:
    """The dead-letter queue of `source_queue`, found through the queue's redrive policy."""

    def __init__(self, sqs_client: Any, source_queue: str) -> None:
        self._sqs = sqs_client
        self._source_url = sqs_client.get_queue_url(QueueName=source_queue)["QueueUrl"]
        attributes = sqs_client.get_queue_attributes(
            QueueUrl=self._source_url, AttributeNames=["RedrivePolicy"]
        )["Attributes"]
        target_arn = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
        self.name = target_arn.rsplit(":", 1)[1]
        self._url = sqs_client.get_queue_url(QueueName=self.name)["QueueUrl"]

    def waiting(self) -> list[DeadLetter]:
        """Every message waiting, oldest first; they stay in the queue, visible again at once."""
        received = list(self._receive_all())
        for start in range(0, len(received), SQS_BATCH):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._url,
                Entries=[
                    {
                        "Id": str(index),
                        "ReceiptHandle": message["ReceiptHandle"],
                        "VisibilityTimeout": 0,
                    }
                    for index, message in enumerate(received[start : start + SQS_BATCH])
                ],
            )
        letters = {
            message["MessageId"]: DeadLetter(
                message_id=message["MessageId"],
                first_received_at=datetime.fromtimestamp(
                    int(message["Attributes"]["ApproximateFirstReceiveTimestamp"]) / 1000, UTC
                ),
                summary=describe(message["Body"]),
            )
            for message in received
        }
        return sorted(letters.values(), key=lambda letter: letter.first_received_at)

    def send_back(self) -> int:
        """Moves every waiting message to the source queue; returns how many were moved. Each is
        deleted from the dead-letter queue only once the source queue has it."""
        moved = 0
        while batch := self._receive_batch():
            sent = self._sqs.send_message_batch(
                QueueUrl=self._source_url,
                Entries=[
                    {"Id": str(index), "MessageBody": message["Body"]}
                    for index, message in enumerate(batch)
                ],
            )
            done = [batch[int(entry["Id"])] for entry in sent.get("Successful", [])]
            if done:
                self._sqs.delete_message_batch(
                    QueueUrl=self._url,
                    Entries=[
                        {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                        for index, message in enumerate(done)
                    ],
                )
            moved += len(done)
            if len(done) < len(batch):
                break  # the rest shows again after HOLD_SECONDS: better stop than loop on it
        return moved

    def _receive_all(self) -> Iterator[dict[str, Any]]:
        while batch := self._receive_batch():
            yield from batch

    def _receive_batch(self) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=SQS_BATCH,
            VisibilityTimeout=HOLD_SECONDS,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
        )
        return list(answer.get("Messages", []))
